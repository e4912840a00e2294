//! Attendance records from the `register_views` read model: `GET /api/attendance` (search
//! with paging), `GET /api/attendance/student/{id}` (the seed system's shape) and
//! `GET /api/attendance/course/{id}` (counts per status).

use crate::app::access::require_student_reader;
use crate::app::access::visible_courses;
use crate::app::courses::load_course;
use crate::app::freshness::{Freshness, wait_for};
use crate::app::rates;
use crate::auth::CurrentUser;
use crate::checks::{check_query_date, course_id, session_id, student_id};
use crate::error::ApiError;
use crate::extract::{AppPath, AppQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Role, Status, Tally};
use projections::course_stats::store::CourseStatsProjection;
use projections::projector::Projection;
use projections::register_views::store::RegisterViewsProjection;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const PROJECTOR: &str = RegisterViewsProjection::NAME;
const MAX_LIMIT: i64 = 500;

/// One roster line of one session.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Record {
    /// Session id.
    pub session_id: String,
    /// Course code.
    pub course_id: String,
    /// Session title.
    pub title: String,
    /// Session start.
    pub starts_at: Option<DateTime<Utc>>,
    /// Student number.
    pub student_id: String,
    /// Status; null while unmarked.
    pub status: Option<String>,
    /// manual, bulk, sheet or close.
    pub method: Option<String>,
    /// Who set the status: the username, resolved at read time (null once unknown).
    pub recorded_by: Option<String>,
    /// The user id of who set the status, as stored in the event.
    pub recorded_by_id: Option<String>,
    /// When.
    pub recorded_at: Option<DateTime<Utc>>,
    /// Whether corrected.
    pub corrected: bool,
}

/// The columns of a [`Record`]; the username is looked up now, so a renamed account reads
/// under its current name, as in the audit and the reports.
const RECORD_COLUMNS: &str = "SELECT session_id, course_id, title, starts_at, student_id, status, method,
        (SELECT u.username FROM users u WHERE u.id = rm_attendance_records.recorded_by) AS recorded_by,
        recorded_by AS recorded_by_id, recorded_at, corrected
   FROM rm_attendance_records";

/// Search filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Only this student.
    pub student_id: Option<String>,
    /// Only this course.
    pub course_id: Option<String>,
    /// Only this session.
    pub session_id: Option<String>,
    /// Only this status.
    #[param(value_type = Option<String>)]
    pub status: Option<Status>,
    /// Sessions starting on or after this day (UTC).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    pub from: Option<NaiveDate>,
    /// Sessions starting on or before this day (UTC).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    pub to: Option<NaiveDate>,
    /// Page size (1-500, default 100).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Wait until the event at this global position is reflected.
    pub min_position: Option<i64>,
    /// How long to wait, in milliseconds.
    pub wait_ms: Option<u64>,
}

/// A page of records.
#[derive(Serialize, ToSchema)]
pub struct RecordPage {
    /// The records, by session start then student.
    pub records: Vec<Record>,
    /// How many match in all.
    pub total: i64,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
    /// Which position this answer reflects.
    pub freshness: Freshness,
}

/// The courses a teacher may see (None: no restriction).
async fn course_scope(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Option<Vec<String>>, ApiError> {
    match user.role {
        Role::Admin | Role::Student => Ok(None),
        Role::Teacher => Ok(Some(
            visible_courses(state, user)
                .await?
                .iter()
                .filter_map(|(c, _)| c.id.as_ref().map(|i| i.to_string()))
                .collect(),
        )),
    }
}

fn filters<'a>(
    sql: &mut QueryBuilder<'a, Postgres>,
    q: &'a SearchQuery,
    scope: &'a Option<Vec<String>>,
) {
    sql.push(" WHERE true");
    if let Some(v) = &q.student_id {
        sql.push(" AND student_id = ").push_bind(v);
    }
    if let Some(v) = &q.course_id {
        sql.push(" AND course_id = ").push_bind(v);
    }
    if let Some(v) = &q.session_id {
        sql.push(" AND session_id = ").push_bind(v);
    }
    if let Some(v) = q.status {
        sql.push(" AND status = ").push_bind(v.as_str());
    }
    if let Some(v) = q.from {
        sql.push(" AND starts_at >= ")
            .push_bind(v.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    if let Some(v) = q.to {
        sql.push(" AND starts_at < ").push_bind(
            v.succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc()),
        );
    }
    if let Some(courses) = scope {
        sql.push(" AND course_id = ANY(")
            .push_bind(courses)
            .push(")");
    }
}

fn check_search(q: &SearchQuery) -> Result<(i64, i64), ApiError> {
    for (name, value) in [
        ("student_id", &q.student_id),
        ("course_id", &q.course_id),
        ("session_id", &q.session_id),
    ] {
        if let Some(v) = value {
            match name {
                "course_id" => drop(course_id(name, v)?),
                "session_id" => drop(session_id(name, v)?),
                _ => drop(student_id(name, v)?),
            }
        }
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_param(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::bad_param("offset", "must not be negative"));
    }
    Ok((limit, offset))
}

/// Searches records with paging: admins see all, teachers their courses, students their own.
#[utoipa::path(
    get, path = "/api/attendance", operation_id = "search_attendance", tag = "statistics",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "One page of marks matching the filters.", body = RecordPage),
        (status = 400, body = crate::error::Problem)
    )
)]
async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(mut q): AppQuery<SearchQuery>,
) -> Result<Json<RecordPage>, ApiError> {
    let (limit, offset) = check_search(&q)?;
    check_query_date("from", q.from)?;
    check_query_date("to", q.to)?;
    if user.role == Role::Student {
        let own = user.student_id.as_ref().map(|s| s.to_string());
        if q.student_id.is_some() && q.student_id != own {
            return Err(ApiError::Forbidden(
                "students may only read their own records",
            ));
        }
        q.student_id = own;
    }
    let scope = course_scope(&state, &user).await?;
    let freshness = wait_for(&state, PROJECTOR, q.min_position, q.wait_ms).await?;
    let mut count = QueryBuilder::new("SELECT count(*) FROM rm_attendance_records");
    filters(&mut count, &q, &scope);
    let total: i64 = count.build_query_scalar().fetch_one(state.pool()).await?;
    let mut rows = QueryBuilder::new(RECORD_COLUMNS);
    filters(&mut rows, &q, &scope);
    rows.push(" ORDER BY starts_at, session_id, student_id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let records = rows.build_query_as().fetch_all(state.pool()).await?;
    Ok(Json(RecordPage {
        records,
        total,
        limit,
        offset,
        freshness,
    }))
}

/// A course filter for one student's records.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StudentRecordsQuery {
    /// Only this course (its policy gives the rate).
    pub course_id: Option<String>,
    /// Wait until the event at this global position is reflected.
    pub min_position: Option<i64>,
    /// How long to wait, in milliseconds.
    pub wait_ms: Option<u64>,
}

/// Counts for one student.
#[derive(Serialize, ToSchema)]
pub struct RecordSummary {
    /// Marked sessions.
    pub total_sessions: u32,
    /// Present.
    pub present: u32,
    /// Late.
    pub late: u32,
    /// Excused.
    pub excused: u32,
    /// Absent.
    pub absent: u32,
    /// Rate per the course policy (null without a course filter or counted marks).
    pub attendance_rate: Option<f64>,
}

/// A student's records, in the seed system's shape.
#[derive(Serialize, ToSchema)]
pub struct StudentRecords {
    /// Student number.
    pub student_id: String,
    /// The course filter, if any.
    pub course_id: Option<String>,
    /// Counts and rate.
    pub summary: RecordSummary,
    /// The seed's summary key: counted marked sessions (as `summary.total_sessions`).
    pub total: u32,
    /// The seed's summary key: present marks.
    pub present: u32,
    /// The seed's summary key: absent marks.
    pub absent: u32,
    /// The seed's summary key: late marks.
    pub late: u32,
    /// The seed's summary key: excused marks.
    pub excused: u32,
    /// The seed's summary key: the rate in percent, each mark weighed by its course's
    /// policy (with `course_id`, the course's rate, as `summary.attendance_rate`); null
    /// without a counted mark.
    pub attendance_percentage: Option<f64>,
    /// The records, by session start.
    pub records: Vec<Record>,
    /// Which position this answer reflects.
    pub freshness: Freshness,
}

/// A student's records and summary (the student, admins, and teachers for their courses).
#[utoipa::path(
    get, path = "/api/attendance/student/{id}", operation_id = "get_student_records", tag = "statistics",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "student number"), StudentRecordsQuery),
    responses(
        (status = 200, description = "The student's marks, session by session.", body = StudentRecords),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn student_records(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<StudentRecordsQuery>,
) -> Result<Json<StudentRecords>, ApiError> {
    let id = student_id("id", &id)?;
    require_student_reader(&state, &user, &id).await?;
    let policy = match &q.course_id {
        Some(course) => Some(
            load_course(&state, &course_id("course_id", course)?)
                .await?
                .0
                .policy,
        ),
        None => None,
    };
    let scope = course_scope(&state, &user).await?;
    let freshness = both_fresh(&state, q.min_position, q.wait_ms).await?;
    let search = SearchQuery {
        student_id: Some(id.to_string()),
        course_id: q.course_id.clone(),
        ..SearchQuery::default()
    };
    let mut rows = QueryBuilder::new(RECORD_COLUMNS);
    filters(&mut rows, &search, &scope);
    rows.push(" ORDER BY starts_at, session_id");
    let records: Vec<Record> = rows.build_query_as().fetch_all(state.pool()).await?;
    // Only the records the statistics count: not cancelled, enrolled on the session's day.
    let docs =
        rates::course_docs(state.pool(), records.iter().map(|r| r.course_id.as_str())).await?;
    let records: Vec<Record> = records
        .into_iter()
        .filter(|r| rates::counts(&docs, &r.course_id, &r.student_id, &r.session_id))
        .collect();
    let marks: Vec<(&str, Status)> = records
        .iter()
        .filter_map(|r| Some((r.course_id.as_str(), parse_status(r.status.as_deref()?)?)))
        .collect();
    let mut tally = Tally::default();
    for (_, status) in &marks {
        tally.add(*status);
    }
    let attendance_percentage = rates::rate_across(&docs, marks.into_iter());
    let summary = RecordSummary {
        total_sessions: tally.total(),
        present: tally.present,
        late: tally.late,
        excused: tally.excused,
        absent: tally.absent,
        attendance_rate: policy.and_then(|p| tally.rate(&p)),
    };
    Ok(Json(StudentRecords {
        student_id: id.to_string(),
        course_id: q.course_id,
        total: summary.total_sessions,
        present: summary.present,
        absent: summary.absent,
        late: summary.late,
        excused: summary.excused,
        attendance_percentage,
        summary,
        records,
        freshness,
    }))
}

/// A stored status name as a [`Status`].
fn parse_status(name: &str) -> Option<Status> {
    Status::ALL.into_iter().find(|s| s.as_str() == name)
}

/// Counts per status in a course.
#[derive(Serialize, ToSchema)]
pub struct CourseCounts {
    /// Course code.
    pub course_id: String,
    /// Present marks.
    pub present: i64,
    /// Late marks.
    pub late: i64,
    /// Excused marks.
    pub excused: i64,
    /// Absent marks.
    pub absent: i64,
    /// Roster lines not marked yet.
    pub unmarked: i64,
    /// All roster lines.
    pub total: i64,
    /// Which position this answer reflects.
    pub freshness: Freshness,
}

/// Counts per status over a course's registers (admins and the course's teachers).
#[utoipa::path(
    get, path = "/api/attendance/course/{id}", operation_id = "get_course_attendance_counts", tag = "statistics",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), crate::views::FreshnessQuery),
    responses(
        (status = 200, description = "Counts per status for each session of the course.", body = CourseCounts),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn course_counts(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<crate::views::FreshnessQuery>,
) -> Result<Json<CourseCounts>, ApiError> {
    let id = course_id("id", &id)?;
    let (course, _) = load_course(&state, &id).await?;
    user.require_course_staff(&course)?;
    let freshness = both_fresh(&state, q.min_position, q.wait_ms).await?;
    let lines: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT session_id, student_id, status FROM rm_attendance_records WHERE course_id = $1",
    )
    .bind(id.as_str())
    .fetch_all(state.pool())
    .await?;
    let docs = rates::course_docs(state.pool(), std::iter::once(id.as_str())).await?;
    let mut counts = CourseCounts {
        course_id: id.to_string(),
        present: 0,
        late: 0,
        excused: 0,
        absent: 0,
        unmarked: 0,
        total: 0,
        freshness,
    };
    // The lines the statistics count, as everywhere else.
    for (session, student, status) in lines {
        if !rates::counts(&docs, id.as_str(), &student, &session) {
            continue;
        }
        counts.total += 1;
        match status.as_deref() {
            Some("present") => counts.present += 1,
            Some("late") => counts.late += 1,
            Some("excused") => counts.excused += 1,
            Some("absent") => counts.absent += 1,
            _ => counts.unmarked += 1,
        }
    }
    Ok(Json(counts))
}

/// Waits for both read models these answers combine (the records and the statistics that
/// say which records count); caught up only when both are.
async fn both_fresh(
    state: &AppState,
    min_position: Option<i64>,
    wait_ms: Option<u64>,
) -> Result<Freshness, ApiError> {
    let stats = wait_for(state, CourseStatsProjection::NAME, min_position, wait_ms).await?;
    let mut records = wait_for(state, PROJECTOR, min_position, wait_ms).await?;
    records.caught_up &= stats.caught_up;
    Ok(records)
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(student_records))
        .routes(routes!(course_counts))
}
