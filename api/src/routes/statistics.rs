//! Course statistics from the `course_stats` read model: `GET /api/courses/{id}/statistics`,
//! `GET /api/courses/{id}/at-risk`, `GET /api/students/{id}/summary`.

use crate::app::access::require_student_reader;
use crate::app::access::visible_courses;
use crate::app::courses::load_course;
use crate::app::freshness::{Freshness, wait_for};
use crate::app::students::find;
use crate::auth::CurrentUser;
use crate::checks::{check_query_time, course_id, student_id};
use crate::error::ApiError;
use crate::extract::{AppPath, AppQuery};
use crate::state::AppState;
use crate::views::{FreshnessQuery, PolicyBody};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Role, Tally};
use projections::audit;
use projections::course_stats::CourseStats;
use projections::course_stats::store::{self as stats_store, CourseStatsProjection};
use projections::projector::Projection;
use projections::students::names;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const PROJECTOR: &str = CourseStatsProjection::NAME;

/// Counts per status and the rate.
#[derive(Serialize, ToSchema)]
pub struct Counts {
    /// Present.
    pub present: u32,
    /// Late.
    pub late: u32,
    /// Excused.
    pub excused: u32,
    /// Absent.
    pub absent: u32,
    /// Rate in percent per the course policy; null without counted marks.
    pub rate: Option<f64>,
}

impl Counts {
    fn new(tally: Tally, rate: Option<f64>) -> Self {
        Counts {
            present: tally.present,
            late: tally.late,
            excused: tally.excused,
            absent: tally.absent,
            rate,
        }
    }
}

/// One student's row of the statistics.
#[derive(Serialize, ToSchema)]
pub struct StudentStatistics {
    /// Student number.
    pub student_id: String,
    /// Name (null once erased).
    pub name: Option<String>,
    /// Counts and rate over the sessions the student was enrolled in.
    #[serde(flatten)]
    pub counts: Counts,
    /// Rate below the policy's threshold.
    pub at_risk: bool,
    /// Last day present or late.
    pub last_attended: Option<NaiveDate>,
    /// Absences in a row up to the latest marked session.
    pub absence_streak: u32,
    /// Enrolled today.
    pub enrolled: bool,
}

/// One session's row of the statistics.
#[derive(Serialize, ToSchema)]
pub struct SessionStatistics {
    /// Session id.
    pub session_id: String,
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Cancelled (counts for nothing).
    pub cancelled: bool,
    /// Attendance taken.
    pub taken: bool,
    /// Counts, and the session's rate: the course policy's formula over this session's
    /// counted marks (null before any).
    #[serde(flatten)]
    pub counts: Counts,
}

/// Totals of a course. (Named `CourseTotals` in the OpenAPI document: the sheet import has
/// a `Totals` of its own, and two schemas of one name collide.)
#[derive(Serialize, ToSchema)]
#[schema(as = CourseTotals)]
pub struct Totals {
    /// Sessions scheduled and not cancelled.
    pub sessions: usize,
    /// Of those, with attendance taken.
    pub taken: usize,
    /// Students ever enrolled.
    pub students: usize,
    /// Students at risk.
    pub at_risk: usize,
    /// All counted marks and the overall rate.
    #[serde(flatten)]
    pub counts: Counts,
}

/// A course's statistics.
#[derive(Serialize, ToSchema)]
pub struct CourseStatistics {
    /// Course code.
    pub course_id: String,
    /// Name.
    pub name: String,
    /// The policy the rates use.
    pub policy: PolicyBody,
    /// Totals.
    pub totals: Totals,
    /// Per student, by student number.
    pub students: Vec<StudentStatistics>,
    /// Per session, by start.
    pub sessions: Vec<SessionStatistics>,
    /// Which position this answer reflects.
    pub freshness: Freshness,
}

/// Builds the statistics answer from a statistics document.
pub async fn statistics_of(
    state: &AppState,
    doc: &CourseStats,
    freshness: Freshness,
) -> Result<CourseStatistics, ApiError> {
    let figures = doc.students(doc.day_of(Utc::now()));
    let names = names(
        state.pool(),
        figures.iter().map(|f| f.student_id.clone()).collect(),
    )
    .await?;
    let mut overall = Tally::default();
    let students: Vec<_> = figures
        .into_iter()
        .map(|f| {
            for status in domain::Status::ALL {
                (0..f.tally.count(status)).for_each(|_| overall.add(status));
            }
            StudentStatistics {
                name: names.get(&f.student_id).cloned().flatten(),
                student_id: f.student_id,
                counts: Counts::new(f.tally, f.rate),
                at_risk: f.at_risk,
                last_attended: f.last_attended,
                absence_streak: f.absence_streak,
                enrolled: f.enrolled,
            }
        })
        .collect();
    let sessions: Vec<_> = doc
        .session_figures()
        .into_iter()
        .map(|s| SessionStatistics {
            session_id: s.session_id,
            title: s.title,
            starts_at: s.starts_at,
            cancelled: s.cancelled,
            taken: s.taken,
            counts: Counts::new(s.tally, s.tally.rate(&doc.policy)),
        })
        .collect();
    let counted: Vec<_> = sessions.iter().filter(|s| !s.cancelled).collect();
    let totals = Totals {
        sessions: counted.len(),
        taken: counted.iter().filter(|s| s.taken).count(),
        students: students.len(),
        at_risk: students.iter().filter(|s| s.at_risk).count(),
        counts: Counts::new(overall, overall.rate(&doc.policy)),
    };
    Ok(CourseStatistics {
        course_id: doc.course_id.clone(),
        name: doc.name.clone(),
        policy: doc.policy.into(),
        totals,
        students,
        sessions,
        freshness,
    })
}

/// Options of the course statistics.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// Wait until the event at this global position (from a command's answer) is reflected.
    pub min_position: Option<i64>,
    /// How long to wait for it, in milliseconds (default 3000, at most 30000).
    pub wait_ms: Option<u64>,
    /// Answer as the statistics stood at this time (RFC 3339), folded from the event history.
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub as_of: Option<DateTime<Utc>>,
}

async fn course_doc(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    q: &StatisticsQuery,
) -> Result<(CourseStats, Freshness), ApiError> {
    let id = course_id("id", id)?;
    check_query_time("as_of", q.as_of)?;
    let (course, _) = load_course(state, &id).await?;
    user.require_course_staff(&course)?;
    if let Some(as_of) = q.as_of {
        let doc = audit::course_stats_as_of(state.pool(), id.as_str(), as_of).await?;
        return Ok((
            doc.clone(),
            Freshness {
                projector: "event_store",
                position: doc.position,
                caught_up: true,
            },
        ));
    }
    let freshness = wait_for(state, PROJECTOR, q.min_position, q.wait_ms).await?;
    let doc = projections::projector::find::<CourseStatsProjection>(state.pool(), id.as_str())
        .await?
        .unwrap_or_else(|| CourseStats {
            course_id: id.to_string(),
            name: course.details.name.clone(),
            policy: course.policy,
            ..CourseStats::default()
        });
    Ok((doc, freshness))
}

/// A course's statistics: totals, per student and per session (admins and its teachers).
#[utoipa::path(
    get, path = "/api/courses/{id}/statistics", operation_id = "get_course_statistics", tag = "statistics",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), StatisticsQuery),
    responses(
        (status = 200, description = "Counts and rates per student and per session, and the course's totals.", body = CourseStatistics,
            example = json!({
                "course_id": "CS101",
                "name": "Introduction to Programming",
                "policy": {"weights": {"present": 1.0, "late": 1.0, "excused": 1.0, "absent": 0.0}, "count_excused": false, "at_risk_below": 75.0},
                "totals": {"sessions": 1, "taken": 1, "students": 1, "at_risk": 0, "present": 0, "late": 1, "excused": 0, "absent": 0, "rate": 100.0},
                "students": [{"student_id": "S1001", "name": "Zoë Ñúñez", "present": 0, "late": 1, "excused": 0, "absent": 0, "rate": 100.0, "at_risk": false, "last_attended": "2026-09-07", "absence_streak": 0, "enrolled": true}],
                "sessions": [{"session_id": "01a20e97abab71d585620a59b45afc7d", "title": "Lecture 1", "starts_at": "2026-09-07T09:00:00Z", "cancelled": false, "taken": true, "present": 0, "late": 1, "excused": 0, "absent": 0, "rate": null}],
                "freshness": {"projector": "course_stats", "position": 1877, "caught_up": true}
            })),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn statistics(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<StatisticsQuery>,
) -> Result<Json<CourseStatistics>, ApiError> {
    let (doc, freshness) = course_doc(&state, &user, &id, &q).await?;
    Ok(Json(statistics_of(&state, &doc, freshness).await?))
}

/// Options of the at-risk list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AtRiskQuery {
    /// Threshold in percent (default: the course policy's).
    pub threshold: Option<f64>,
    /// See [`StatisticsQuery`].
    pub min_position: Option<i64>,
    /// See [`StatisticsQuery`].
    pub wait_ms: Option<u64>,
    /// See [`StatisticsQuery`].
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub as_of: Option<DateTime<Utc>>,
}

/// The students below a threshold.
#[derive(Serialize, ToSchema)]
pub struct AtRisk {
    /// Course code.
    pub course_id: String,
    /// The threshold used.
    pub threshold: f64,
    /// Students with a rate below it, lowest first.
    pub students: Vec<StudentStatistics>,
    /// Which position this answer reflects.
    pub freshness: Freshness,
}

/// Students whose rate is below the threshold (admins and the course's teachers).
#[utoipa::path(
    get, path = "/api/courses/{id}/at-risk", operation_id = "list_at_risk_students", tag = "statistics",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), AtRiskQuery),
    responses(
        (status = 200, description = "The students whose rate is below the threshold.", body = AtRisk),
        (status = 400, body = crate::error::Problem)
    )
)]
async fn at_risk(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<AtRiskQuery>,
) -> Result<Json<AtRisk>, ApiError> {
    if q.threshold.is_some_and(|t| !(0.0..=100.0).contains(&t)) {
        return Err(ApiError::bad_param(
            "threshold",
            "must be between 0 and 100",
        ));
    }
    let fq = StatisticsQuery {
        min_position: q.min_position,
        wait_ms: q.wait_ms,
        as_of: q.as_of,
    };
    let (doc, freshness) = course_doc(&state, &user, &id, &fq).await?;
    let threshold = q.threshold.unwrap_or(doc.policy.at_risk_below);
    let all = statistics_of(&state, &doc, freshness).await?;
    let mut by_id: HashMap<String, StudentStatistics> = all
        .students
        .into_iter()
        .map(|s| (s.student_id.clone(), s))
        .collect();
    let students = doc
        .at_risk(doc.day_of(Utc::now()), Some(threshold))
        .into_iter()
        .filter_map(|f| by_id.remove(&f.student_id))
        .collect();
    Ok(Json(AtRisk {
        course_id: all.course_id,
        threshold,
        students,
        freshness: all.freshness,
    }))
}

/// A student's figures in one course.
#[derive(Serialize, ToSchema)]
pub struct CourseSummary {
    /// Course code.
    pub course_id: String,
    /// Counts and rate.
    #[serde(flatten)]
    pub counts: Counts,
    /// At risk in this course.
    pub at_risk: bool,
    /// Last day present or late.
    pub last_attended: Option<NaiveDate>,
    /// Absences in a row.
    pub absence_streak: i32,
}

/// A student's summary across courses.
#[derive(Serialize, ToSchema)]
pub struct StudentSummary {
    /// Student number.
    pub student_id: String,
    /// Name (null once erased).
    pub name: Option<String>,
    /// Per course.
    pub courses: Vec<CourseSummary>,
    /// Which position this answer reflects.
    pub freshness: Freshness,
}

/// A student's counts, rate, last attended day and absence streak per course (admins, the
/// student, and teachers for their own courses).
#[utoipa::path(
    get, path = "/api/students/{id}/summary", operation_id = "get_student_summary", tag = "statistics",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "student number"), FreshnessQuery),
    responses(
        (status = 200, description = "The student's counts and rate in each course.", body = StudentSummary),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn summary(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<FreshnessQuery>,
) -> Result<Json<StudentSummary>, ApiError> {
    let id = student_id("id", &id)?;
    require_student_reader(&state, &user, &id).await?;
    let student = find(state.pool(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("student {id} does not exist")))?;
    let freshness = wait_for(&state, PROJECTOR, q.min_position, q.wait_ms).await?;
    let mut rows = stats_store::student_rows(state.pool(), id.as_str()).await?;
    if user.role == Role::Teacher {
        let taught: Vec<String> = visible_courses(&state, &user)
            .await?
            .iter()
            .filter_map(|(c, _)| c.id.as_ref().map(|i| i.to_string()))
            .collect();
        rows.retain(|row| taught.contains(&row.course_id));
    }
    let courses = rows
        .into_iter()
        .map(|r| CourseSummary {
            course_id: r.course_id,
            counts: Counts {
                present: r.present as u32,
                late: r.late as u32,
                excused: r.excused as u32,
                absent: r.absent as u32,
                rate: r.rate,
            },
            at_risk: r.at_risk,
            last_attended: r.last_attended,
            absence_streak: r.absence_streak,
        })
        .collect();
    Ok(Json(StudentSummary {
        student_id: id.to_string(),
        name: student.name,
        courses,
        freshness,
    }))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(statistics))
        .routes(routes!(at_risk))
        .routes(routes!(summary))
}
