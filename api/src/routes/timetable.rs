//! A term's timetable: `POST /api/courses/{id}/schedule` puts every session of a term on
//! the calendar in one course command (all or none).

use crate::app::courses::{api_meta, load_course};
use crate::app::timetable::schedule_term;
use crate::auth::CurrentUser;
use crate::checks::{check_date, check_text, course_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, RequestId};
use crate::state::AppState;
use crate::views::SessionSummary;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{NaiveDate, NaiveTime, Utc, Weekday};
use domain::course::Timetable;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A term's timetable, in the course's local time.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimetableBody {
    /// Weekdays with a class: `mon` ... `sun` (or full names).
    pub weekdays: Vec<String>,
    /// Local start time, `HH:MM`.
    pub at: String,
    /// Length in minutes (1-1440).
    pub duration_minutes: u32,
    /// First date of the term.
    #[serde(deserialize_with = "crate::dates::date")]
    pub first_date: NaiveDate,
    /// Last date of the term (included).
    #[serde(deserialize_with = "crate::dates::date")]
    pub last_date: NaiveDate,
    /// Session titles; `{n}` is the session's number (default `Lecture {n}`).
    #[serde(default)]
    pub title_pattern: Option<String>,
    /// Dates without a class (holidays).
    #[serde(default)]
    pub skip_dates: Vec<NaiveDate>,
}

/// The answer to scheduling a term.
#[derive(Serialize, ToSchema)]
pub struct TermSchedule {
    /// The new sessions in date order, times in the course's zone.
    pub sessions: Vec<SessionSummary>,
    /// Class days left out because the institution declared them closed
    /// (`/api/calendar/closures`), besides the `skip_dates` given.
    #[schema(value_type = Vec<String>, example = json!(["2026-11-26"]))]
    pub skipped_closures: Vec<chrono::NaiveDate>,
    /// The course's version after scheduling.
    pub version: u64,
    /// Global position of the last event: pass it as `min_position` to read your write.
    pub position: i64,
}

/// Reads a weekday (`mon`, `Monday`, ...), naming the field when it is not one.
fn weekday(text: &str) -> Result<Weekday, ApiError> {
    text.trim().parse().map_err(|_| {
        ApiError::invalid(
            "weekdays",
            format!("{text:?} is not a weekday (mon ... sun)"),
        )
    })
}

/// The timetable a body describes, every field checked.
fn timetable(body: TimetableBody) -> Result<Timetable, ApiError> {
    let weekdays = body
        .weekdays
        .iter()
        .map(|w| weekday(w))
        .collect::<Result<Vec<_>, _>>()?;
    let at = NaiveTime::parse_from_str(body.at.trim(), "%H:%M").map_err(|_| {
        ApiError::invalid(
            "at",
            format!("expected a time like 09:00, got {:?}", body.at),
        )
    })?;
    let pattern = body.title_pattern.as_deref().unwrap_or("Lecture {n}");
    Ok(Timetable {
        weekdays,
        at,
        duration_minutes: body.duration_minutes,
        first: check_date("first_date", body.first_date)?,
        last: check_date("last_date", body.last_date)?,
        title_pattern: check_text("title_pattern", pattern, 190)?,
        skip: body.skip_dates.into_iter().collect(),
    })
}

/// Schedules a whole term (admins and the course's teachers): one session per class day
/// between the first and last date, at the same local time across DST changes, skipping
/// the dates given. All sessions are created or none.
#[utoipa::path(
    post, path = "/api/courses/{id}/schedule", operation_id = "schedule_term", tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    request_body(content = TimetableBody, description = "The term's timetable in the course's local time.",
        example = json!({
            "weekdays": ["mon", "wed"], "at": "09:00", "duration_minutes": 90,
            "first_date": "2026-09-07", "last_date": "2026-12-16",
            "title_pattern": "Lecture {n}", "skip_dates": ["2026-10-12"]
        })),
    responses(
        (status = 201, description = "Every session of the term is scheduled.", body = TermSchedule),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<TimetableBody>,
) -> Result<(StatusCode, Json<TermSchedule>), ApiError> {
    let id = course_id("id", &id)?;
    let (course, _) = load_course(&state, &id).await?;
    user.require_course_staff(&course)?;
    let timetable = timetable(body)?;
    let meta = api_meta(&user, request_id, &id);
    let done = schedule_term(state.stores(), state.pool(), &meta, timetable, Utc::now()).await?;
    let course = &done.committed.aggregate;
    let sessions = done
        .session_ids
        .iter()
        .filter_map(|sid| Some(SessionSummary::new(sid, course, course.sessions.get(sid)?)))
        .collect();
    let answer = TermSchedule {
        sessions,
        skipped_closures: done.closed_days,
        version: done.committed.version,
        position: done.committed.position,
    };
    Ok((StatusCode::CREATED, Json(answer)))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(schedule))
}
