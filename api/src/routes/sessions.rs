//! Sessions: scheduling and cancelling (`/api/courses/{id}/sessions`), the register view
//! `GET /api/sessions/{id}`, and `POST /api/sessions/{id}/close`.

use crate::app::courses;
use crate::app::courses::execute;
use crate::app::courses::load_course;
use crate::app::freshness::{Freshness, wait_for};
use crate::app::register::{self, load_session};
use crate::auth::CurrentUser;
use crate::checks::{
    check_optional_text, check_query_time, check_text, check_time, course_id, session_id,
};
use crate::error::ApiError;
use crate::extract::AppQuery;
use crate::extract::{AppJson, AppPath, RequestId};
use crate::state::AppState;
use crate::views::{Accepted, SessionSummary};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::course::CourseCommand;
use domain::register::{RegisterCommand, RegisterEvent};
use domain::{Method, SessionId, Status};
use projections::projector::Projection;
use projections::register_views::RegisterRow;
use projections::register_views::store::RegisterViewsProjection;
use projections::students::names;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::IntoParams;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A session to schedule.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// Title, e.g. "Lecture 3".
    pub title: String,
    /// Start time (RFC 3339).
    #[serde(deserialize_with = "crate::dates::time")]
    pub starts_at: DateTime<Utc>,
    /// Length in minutes (1-1440).
    pub duration_minutes: u32,
}

/// The answer to scheduling: the new session and the course's version.
#[derive(Serialize, ToSchema)]
pub struct Scheduled {
    /// The new session's id.
    pub id: String,
    /// The session.
    pub session: SessionSummary,
    /// The course's version after scheduling.
    pub version: u64,
    /// Global position of the last event: pass it as `min_position` to read your write.
    pub position: i64,
}

/// Schedules a session (admins and the course's teachers); answers the new session's id.
#[utoipa::path(
    post, path = "/api/courses/{id}/sessions", operation_id = "schedule_session", tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    request_body(content = NewSession, description = "The session's title, start and length.",
        example = json!({"title": "Lecture 1", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": 90})),
    responses(
        (status = 201, description = "The session is scheduled and its register opened with the students enrolled that day.", body = Scheduled,
            example = json!({
                "id": "01a20e97abab71d585620a59b45afc7d",
                "session": {"id": "01a20e97abab71d585620a59b45afc7d", "course_id": "CS101", "title": "Lecture 1", "starts_at": "2026-09-07T09:00:00Z", "date": "2026-09-07", "duration_minutes": 90, "cancelled": false},
                "version": 5,
                "position": 1870
            })),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<NewSession>,
) -> Result<(StatusCode, Json<Scheduled>), ApiError> {
    let id = course_id("id", &id)?;
    let (course, _) = load_course(&state, &id).await?;
    user.require_course_staff(&course)?;
    let title = check_text("title", &body.title, 200)?;
    let starts_at = check_time("starts_at", body.starts_at)?;
    let session_id =
        SessionId::parse(uuid::Uuid::now_v7().simple().to_string()).map_err(ApiError::internal)?;
    let command = CourseCommand::ScheduleSession {
        session_id: session_id.clone(),
        title,
        starts_at,
        duration_minutes: body.duration_minutes,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = courses::execute(&state, &user, request_id, &id, command).await?;
    let session = done
        .aggregate
        .sessions
        .get(&session_id)
        .ok_or_else(|| ApiError::internal("session missing"))?;
    let summary = SessionSummary::new(&session_id, &done.aggregate, session);
    Ok((
        StatusCode::CREATED,
        Json(Scheduled {
            id: session_id.to_string(),
            session: summary,
            version: done.version,
            position: done.position,
        }),
    ))
}

/// The sessions of a course, by start time.
#[utoipa::path(
    get, path = "/api/courses/{id}/sessions", operation_id = "list_course_sessions", tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    responses(
        (status = 200, description = "The course's sessions in time order.", body = Vec<SessionSummary>),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<Vec<SessionSummary>>, ApiError> {
    let id = course_id("id", &id)?;
    let (course, _) = load_course(&state, &id).await?;
    user.require_course_reader(&course)?;
    let mut sessions: Vec<_> = course
        .sessions
        .iter()
        .map(|(sid, s)| SessionSummary::new(sid, &course, s))
        .collect();
    sessions.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then_with(|| a.id.cmp(&b.id)));
    Ok(Json(sessions))
}

/// Why a session is cancelled.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Optional reason. Stored in the event history, which is never erased: do not write personal data (health details, names of others) here.
    pub reason: Option<String>,
}

/// Cancels a session (admins and the course's teachers).
#[utoipa::path(
    post, path = "/api/courses/{id}/sessions/{session_id}/cancel", operation_id = "cancel_session", tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), ("session_id" = String, Path, description = "session id")),
    request_body(content = CancelBody, description = "Why, optionally.",
        example = json!({"reason": "public holiday"})),
    responses(
        (status = 200, description = "The session is cancelled: it counts for nothing.", body = Accepted),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath((id, sid)): AppPath<(String, String)>,
    AppJson(body): AppJson<CancelBody>,
) -> Result<Json<Accepted>, ApiError> {
    let id = course_id("id", &id)?;
    let sid = session_id("session_id", &sid)?;
    let (course, _) = load_course(&state, &id).await?;
    user.require_course_staff(&course)?;
    let reason = check_optional_text("reason", body.reason.as_deref(), 500)?;
    let command = CourseCommand::CancelSession {
        session_id: sid,
        reason,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id, &id, command).await?;
    Ok(Json(Accepted::from(&done)))
}

/// One roster row of a register.
#[derive(Serialize, ToSchema)]
pub struct RosterRow {
    /// Student number.
    pub student_id: String,
    /// Name (null once erased or unknown).
    pub name: Option<String>,
    /// Current status, null while unmarked.
    #[schema(value_type = Option<String>, example = "present")]
    pub status: Option<Status>,
    /// How the current status was taken: manual, bulk, sheet, close.
    #[schema(value_type = Option<String>)]
    pub method: Option<Method>,
    /// Who set the current status: the username, resolved at read time.
    pub recorded_by: Option<String>,
    /// The user id of who set the current status, as stored in the event.
    pub recorded_by_id: Option<String>,
    /// When the current status was set.
    pub recorded_at: Option<DateTime<Utc>>,
    /// Whether the mark was ever corrected.
    pub corrected: bool,
    /// Reason of the latest correction.
    pub correction_reason: Option<String>,
    /// The latest remark.
    pub remark: Option<String>,
}

/// A session with its register.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// The session.
    pub session: SessionSummary,
    /// Whether the register was opened (first mark taken).
    pub opened: bool,
    /// Whether the register was closed.
    pub closed: bool,
    /// The register's version (0 until opened).
    pub version: u64,
    /// One row per student on the roster, in student-number order.
    pub roster: Vec<RosterRow>,
    /// Which position this answer reflects.
    pub freshness: Freshness,
}

/// Read-your-write options of the register view.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ViewQuery {
    /// Wait until the event at this global position (from a command's answer) is reflected.
    pub min_position: Option<i64>,
    /// How long to wait for it, in milliseconds (default 3000).
    pub wait_ms: Option<u64>,
    /// Answer as the register stood at this time (RFC 3339), folded from the event history.
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub as_of: Option<DateTime<Utc>>,
}

fn roster_row(
    student: String,
    name: Option<String>,
    row: Option<RegisterRow>,
    usernames: &HashMap<String, String>,
) -> RosterRow {
    let row = row.unwrap_or_default();
    RosterRow {
        student_id: student,
        name,
        status: row.status,
        method: row.method,
        recorded_by: row
            .recorded_by
            .as_ref()
            .and_then(|id| usernames.get(id).cloned()),
        recorded_by_id: row.recorded_by,
        recorded_at: row.recorded_at,
        corrected: row.corrected,
        correction_reason: row.correction_reason,
        remark: row.remark,
    }
}

/// A session and its register, from the `register_views` read model. Students see only
/// their own row.
#[utoipa::path(
    get, path = "/api/sessions/{id}", operation_id = "get_session", tag = "sessions",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"), ViewQuery),
    responses(
        (status = 200, description = "The session and its register: each student on the roster with their mark.", body = SessionView,
            example = json!({
                "session": {"id": "01a20e97abab71d585620a59b45afc7d", "course_id": "CS101", "title": "Lecture 1", "starts_at": "2026-09-07T09:00:00Z", "date": "2026-09-07", "duration_minutes": 90, "cancelled": false},
                "opened": true,
                "closed": false,
                "version": 3,
                "roster": [{"student_id": "S1001", "name": "Zoë Ñúñez", "status": "late", "method": "manual", "recorded_by": "01a20e979fd77580b6d0399da72a8edd", "recorded_at": "2026-09-07T09:21:04Z", "corrected": true, "correction_reason": "arrived 20 minutes late", "remark": null}],
                "freshness": {"projector": "register_views", "position": 1877, "caught_up": true}
            })),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn view(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<ViewQuery>,
) -> Result<Json<SessionView>, ApiError> {
    check_query_time("as_of", q.as_of)?;
    let ctx = load_session(&state, session_id("id", &id)?).await?;
    // Whoever may not read it learns no more than for a session that does not exist.
    user.require_course_reader(&ctx.course)
        .map_err(|_| ApiError::NotFound(format!("session {} does not exist", ctx.session_id)))?;
    let (doc, freshness) = match q.as_of {
        Some(as_of) => {
            let doc = projections::audit::register_view_as_of(
                state.pool(),
                ctx.session_id.as_str(),
                as_of,
            )
            .await?;
            let position = doc.position;
            (
                doc,
                Freshness {
                    projector: "event_store",
                    position,
                    caught_up: true,
                },
            )
        }
        None => {
            let freshness = wait_for(
                &state,
                RegisterViewsProjection::NAME,
                q.min_position,
                q.wait_ms,
            )
            .await?;
            let doc = projections::projector::find::<RegisterViewsProjection>(
                state.pool(),
                ctx.session_id.as_str(),
            )
            .await?
            .unwrap_or_default();
            (doc, freshness)
        }
    };
    let lines: Vec<(String, Option<RegisterRow>)> = if doc.opened {
        doc.rows
            .into_iter()
            .filter(|(_, r)| !r.removed)
            .map(|(s, r)| (s, Some(r)))
            .collect()
    } else {
        let day = ctx.course.day_of(ctx.session.starts_at);
        ctx.course
            .roster_on(day)
            .into_iter()
            .map(|s| (s.to_string(), None))
            .collect()
    };
    let staff = user.is_course_staff(&ctx.course);
    let own = user.student_id.as_ref().map(|s| s.to_string());
    let lines: Vec<_> = lines
        .into_iter()
        .filter(|(s, _)| staff || own.as_deref() == Some(s))
        .collect();
    let ids: Vec<String> = lines.iter().map(|(s, _)| s.clone()).collect();
    let mut names = names(state.pool(), ids).await?;
    let usernames = usernames(&state, &lines).await?;
    let roster = lines
        .into_iter()
        .map(|(s, r)| {
            let name = names.remove(&s).flatten();
            roster_row(s, name, r, &usernames)
        })
        .collect();
    let session = SessionSummary::new(&ctx.session_id, &ctx.course, &ctx.session);
    Ok(Json(SessionView {
        session,
        opened: doc.opened,
        closed: doc.closed,
        version: doc.version as u64,
        roster,
        freshness,
    }))
}

/// The usernames of the accounts that set the lines' statuses, by user id.
async fn usernames(
    state: &AppState,
    lines: &[(String, Option<RegisterRow>)],
) -> Result<HashMap<String, String>, ApiError> {
    let mut ids: Vec<String> = lines
        .iter()
        .filter_map(|(_, r)| r.as_ref()?.recorded_by.clone())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(crate::auth::users::usernames(state.pool(), &ids).await?)
}

/// The answer to closing a register.
#[derive(Serialize, ToSchema)]
pub struct Closed {
    /// Students defaulted to absent.
    pub defaulted_absent: Vec<String>,
    /// The register's version.
    pub version: u64,
    /// Global position of the last event: pass it as `min_position` to read your write.
    pub position: i64,
    /// Whether anything changed (false when already closed).
    pub changed: bool,
}

/// Closes the register: unmarked students become absent; afterwards only corrections.
#[utoipa::path(
    post, path = "/api/sessions/{id}/close", operation_id = "close_register", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 200, description = "The register is closed; the students still unmarked are marked absent.", body = Closed),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
) -> Result<Json<Closed>, ApiError> {
    let ctx = load_session(&state, session_id("id", &id)?).await?;
    let command = RegisterCommand::CloseRegister {
        by: user.actor(),
        at: Utc::now(),
    };
    let done = register::execute(&state, &user, request_id, &ctx, command).await?;
    let defaulted_absent = done
        .events
        .iter()
        .filter_map(|event| match event {
            RegisterEvent::RegisterClosed {
                defaulted_absent, ..
            } => Some(defaulted_absent),
            _ => None,
        })
        .flatten()
        .map(|s| s.to_string())
        .collect();
    Ok(Json(Closed {
        defaulted_absent,
        version: done.version,
        position: done.position,
        changed: done.changed(),
    }))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(schedule, list))
        .routes(routes!(cancel))
        .routes(routes!(view))
        .routes(routes!(close))
}
