//! A course's calendar: its time zone (`PUT /api/courses/{id}/time-zone`) and sessions that
//! change (`POST /api/courses/{id}/sessions/{session_id}/reschedule|restore|rename`), each
//! an event naming who and why.

use crate::app::courses::{execute, load_course};
use crate::app::register;
use crate::app::roster::after_course_change;
use crate::app::store::Committed;
use crate::auth::CurrentUser;
use crate::checks::{
    check_optional_text, check_text, check_time, check_zone, course_id, session_id,
};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, RequestId};
use crate::state::AppState;
use crate::views::Accepted;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::SessionId;
use domain::course::{Course, CourseCommand};
use domain::register::RegisterCommand;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A course's time zone.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeZoneBody {
    /// IANA name, e.g. `America/Chicago`.
    pub time_zone: String,
}

/// Sets the zone a course's days are counted in (admin only). Every "day" of the course
/// (rosters, enrolment dates, the seed `date` look-up, reports) is the local date of a
/// session's start in this zone from now on; the change is an event in the course's history.
#[utoipa::path(
    put, path = "/api/courses/{id}/time-zone", operation_id = "set_course_time_zone", tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    request_body(content = TimeZoneBody, description = "The IANA zone.",
        example = json!({"time_zone": "America/Chicago"})),
    responses(
        (status = 200, description = "The course counts its days in the zone.", body = Accepted),
        (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn set_time_zone(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<TimeZoneBody>,
) -> Result<Json<Accepted>, ApiError> {
    user.require_admin()?;
    let id = course_id("id", &id)?;
    let time_zone = check_zone("time_zone", &body.time_zone)?;
    load_course(&state, &id).await?;
    let command = CourseCommand::SetTimeZone {
        time_zone,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id, &id, command).await?;
    Ok(Json(Accepted::from(&done)))
}

/// A session's new start and/or length, and why.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    /// The new start (RFC 3339); unchanged when absent.
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub starts_at: Option<DateTime<Utc>>,
    /// The new length in minutes (1-1440); unchanged when absent.
    pub duration_minutes: Option<u32>,
    /// Why (required; stored in the history, which is never erased).
    pub reason: String,
}

/// Moves a session (admins and the course's teachers).
#[utoipa::path(
    post, path = "/api/courses/{id}/sessions/{session_id}/reschedule", operation_id = "reschedule_session", tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), ("session_id" = String, Path, description = "session id")),
    request_body(content = RescheduleBody, description = "New start and/or length, and why.",
        example = json!({"starts_at": "2026-09-08T14:00:00Z", "reason": "room flooded"})),
    responses(
        (status = 200, description = "The session moved (changed:false when it already was so).", body = Accepted),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn reschedule(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath((id, sid)): AppPath<(String, String)>,
    AppJson(body): AppJson<RescheduleBody>,
) -> Result<Json<Accepted>, ApiError> {
    let mut reason = String::new();
    let (done, sid) = session_change(&state, &user, &request_id, (id, sid), |session_id| {
        reason = check_text("reason", &body.reason, 500)?;
        Ok(CourseCommand::RescheduleSession {
            session_id,
            starts_at: body
                .starts_at
                .map(|t| check_time("starts_at", t))
                .transpose()?,
            duration_minutes: body.duration_minutes,
            reason: reason.clone(),
            by: user.actor(),
            at: Utc::now(),
        })
    })
    .await?;
    // Moved to another day, the register's roster follows who is enrolled that day.
    let why = format!("session rescheduled: {reason}");
    let position = after_course_change(&state, &user, request_id, &done, &[sid], &why).await?;
    Ok(Json(Accepted {
        position,
        ..Accepted::from(&done)
    }))
}

/// Why a cancelled session comes back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreBody {
    /// Why (required).
    pub reason: String,
}

/// Puts a cancelled session back on the calendar (admins and the course's teachers).
#[utoipa::path(
    post, path = "/api/courses/{id}/sessions/{session_id}/restore", operation_id = "restore_session", tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), ("session_id" = String, Path, description = "session id")),
    request_body(content = RestoreBody, description = "Why.", example = json!({"reason": "the teacher is back"})),
    responses(
        (status = 200, description = "The session counts again (changed:false when it was not cancelled).", body = Accepted),
        (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn restore(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath((id, sid)): AppPath<(String, String)>,
    AppJson(body): AppJson<RestoreBody>,
) -> Result<Json<Accepted>, ApiError> {
    let (done, _) = session_change(&state, &user, &request_id, (id, sid), |session_id| {
        Ok(CourseCommand::RestoreSession {
            session_id,
            reason: check_text("reason", &body.reason, 500)?,
            by: user.actor(),
            at: Utc::now(),
        })
    })
    .await?;
    Ok(Json(Accepted::from(&done)))
}

/// A session's new title.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    /// The new title.
    pub title: String,
    /// Why, optionally.
    pub reason: Option<String>,
}

/// Gives a session a new title (admins and the course's teachers).
#[utoipa::path(
    post, path = "/api/courses/{id}/sessions/{session_id}/rename", operation_id = "rename_session", tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), ("session_id" = String, Path, description = "session id")),
    request_body(content = RenameBody, description = "The new title.", example = json!({"title": "Guest lecture"})),
    responses(
        (status = 200, description = "The session has its new title.", body = Accepted),
        (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn rename(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath((id, sid)): AppPath<(String, String)>,
    AppJson(body): AppJson<RenameBody>,
) -> Result<Json<Accepted>, ApiError> {
    let (done, _) = session_change(&state, &user, &request_id, (id, sid), |session_id| {
        Ok(CourseCommand::RenameSession {
            session_id,
            title: check_text("title", &body.title, 200)?,
            reason: check_optional_text("reason", body.reason.as_deref(), 500)?,
            by: user.actor(),
            at: Utc::now(),
        })
    })
    .await?;
    Ok(Json(Accepted::from(&done)))
}

/// Why a closed register opens again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenBody {
    /// Why (required).
    pub reason: String,
}

/// Opens a closed register again for marks (admin only); corrections stay possible as
/// before.
#[utoipa::path(
    post, path = "/api/sessions/{id}/reopen", operation_id = "reopen_register", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    request_body(content = ReopenBody, description = "Why.", example = json!({"reason": "closed before the late arrivals were marked"})),
    responses(
        (status = 200, description = "The register takes marks again (changed:false when it was not closed).", body = Accepted),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn reopen(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<ReopenBody>,
) -> Result<Json<Accepted>, ApiError> {
    user.require_admin()?;
    let reason = check_text("reason", &body.reason, 500)?;
    let ctx = register::load_session(&state, session_id("id", &id)?).await?;
    let command = RegisterCommand::ReopenRegister {
        reason,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = register::execute(&state, &user, request_id, &ctx, command).await?;
    Ok(Json(Accepted::from(&done)))
}

/// A change to one session of a course, by the course's staff: the ids are checked and the
/// caller's right to change the course is checked before `command` reads the body, so that
/// someone who may not change the course learns nothing from a bad body.
async fn session_change(
    state: &AppState,
    user: &CurrentUser,
    request_id: &str,
    (id, sid): (String, String),
    command: impl FnOnce(SessionId) -> Result<CourseCommand, ApiError>,
) -> Result<(Committed<Course>, SessionId), ApiError> {
    let id = course_id("id", &id)?;
    let sid = session_id("session_id", &sid)?;
    let (course, _) = load_course(state, &id).await?;
    user.require_course_staff(&course)?;
    let command = command(sid.clone())?;
    let done = execute(state, user, request_id.to_string(), &id, command).await?;
    Ok((done, sid))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_time_zone))
        .routes(routes!(reschedule))
        .routes(routes!(restore))
        .routes(routes!(rename))
        .routes(routes!(reopen))
}
