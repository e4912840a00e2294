//! Self check-in: a teacher opens (`POST /api/sessions/{id}/check-in`), closes
//! (`DELETE /api/sessions/{id}/check-in`) and shows the rotating code
//! (`GET /api/sessions/{id}/check-in/code`); a signed-in student checks in
//! (`POST /api/check-in`). The rules are the register's and the use cases are
//! [`crate::app::check_in`]'s.

use crate::app::check_in::{self, OpenRequest};
use crate::app::register::load_session;
use crate::app::store::Source;
use crate::auth::CurrentUser;
use crate::auth::rate::client_address;
use crate::checks::{check_time, session_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, RequestId};
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use domain::register::CheckInWindow;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What opening check-in asks for; every field is optional.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OpenCheckIn {
    /// From when (RFC 3339); default: now.
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub opens_at: Option<DateTime<Utc>>,
    /// Until when (RFC 3339); default: the session's end (or 15 minutes from the opening
    /// when the session ends before that).
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub closes_at: Option<DateTime<Utc>>,
    /// A check-in this many minutes after the opening or later is `late` (0-1440); default:
    /// never late.
    pub late_after_minutes: Option<u32>,
    /// Only from these networks (CIDR, e.g. `10.12.0.0/16`); default: from anywhere.
    #[serde(default)]
    pub networks: Vec<String>,
}

/// A check-in window.
#[derive(Serialize, ToSchema)]
pub struct WindowView {
    /// From when.
    pub opens_at: DateTime<Utc>,
    /// Until when (exclusive).
    pub closes_at: DateTime<Utc>,
    /// Late from this many minutes after the opening (none: never late).
    pub late_after_minutes: Option<u32>,
    /// Allowed networks (empty: any).
    pub networks: Vec<String>,
    /// Whether a person closed it.
    pub closed: bool,
}

impl From<CheckInWindow> for WindowView {
    fn from(w: CheckInWindow) -> Self {
        WindowView {
            opens_at: w.opens_at,
            closes_at: w.closes_at,
            late_after_minutes: w.late_after_minutes,
            networks: w.networks,
            closed: w.closed,
        }
    }
}

/// Opens check-in for a session (admins and the course's teachers).
#[utoipa::path(
    post, path = "/api/sessions/{id}/check-in", operation_id = "open_check_in", tag = "check-in",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    request_body(content = OpenCheckIn, description = "The window: times, the late rule, the networks.",
        example = json!({"closes_at": "2026-09-07T09:20:00Z", "late_after_minutes": 10, "networks": ["10.12.0.0/16"]})),
    responses(
        (status = 201, description = "Check-in is open; show the code from `GET /api/sessions/{id}/check-in/code`.", body = WindowView),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "Already open, or the register is closed.", body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn open(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<OpenCheckIn>,
) -> Result<(axum::http::StatusCode, Json<WindowView>), ApiError> {
    if let Some(at) = body.opens_at {
        check_time("opens_at", at)?;
    }
    if let Some(at) = body.closes_at {
        check_time("closes_at", at)?;
    }
    if body.late_after_minutes.is_some_and(|m| m > 1440) {
        return Err(ApiError::invalid("late_after_minutes", "must be 0 to 1440"));
    }
    if body.networks.len() > 64 {
        return Err(ApiError::invalid("networks", "at most 64 networks"));
    }
    let ctx = load_session(&state, session_id("id", &id)?).await?;
    let meta = meta(&user, request_id, &ctx.course_id);
    let ask = OpenRequest {
        opens_at: body.opens_at,
        closes_at: body.closes_at,
        late_after_minutes: body.late_after_minutes,
        networks: body.networks,
    };
    let (stores, pool) = (state.stores(), state.pool());
    let window = check_in::open(stores, pool, &user, &meta, &ctx, ask, Utc::now()).await?;
    Ok((axum::http::StatusCode::CREATED, Json(window.into())))
}

/// The answer to closing check-in.
#[derive(Serialize, ToSchema)]
pub struct ClosedCheckIn {
    /// Whether a window was open and is now closed.
    pub changed: bool,
}

/// Closes check-in for a session now (admins and the course's teachers).
#[utoipa::path(
    delete, path = "/api/sessions/{id}/check-in", operation_id = "close_check_in", tag = "check-in",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 200, description = "Check-in is closed (`changed` false: none was open).", body = ClosedCheckIn),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
) -> Result<Json<ClosedCheckIn>, ApiError> {
    let ctx = load_session(&state, session_id("id", &id)?).await?;
    let meta = meta(&user, request_id, &ctx.course_id);
    let changed = check_in::close(state.stores(), &user, &meta, &ctx, Utc::now()).await?;
    Ok(Json(ClosedCheckIn { changed }))
}

/// The code to show now.
#[derive(Serialize, ToSchema)]
pub struct CodeView {
    /// The six digits a student types.
    pub code: String,
    /// Seconds until it changes (codes change every 15 s; the previous one is also accepted).
    pub seconds_left: i64,
    /// The URL the QR code carries (session and code).
    pub url: String,
    /// The QR code of `url`, as an SVG image.
    pub qr_svg: String,
    /// Students checked in by themselves so far.
    pub checked_in: usize,
    /// Students on the roster.
    pub roster: usize,
    /// The window.
    pub window: WindowView,
}

/// The current check-in code of a session, with its QR code (admins and the course's
/// teachers).
#[utoipa::path(
    get, path = "/api/sessions/{id}/check-in/code", operation_id = "check_in_code", tag = "check-in",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses(
        (status = 200, description = "The code shown now.", body = CodeView),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "Check-in is not open.", body = crate::error::Problem)
    )
)]
async fn code(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<CodeView>, ApiError> {
    let ctx = load_session(&state, session_id("id", &id)?).await?;
    let url = &state.config().public_url;
    let (stores, pool) = (state.stores(), state.pool());
    let now = Utc::now();
    let shown = check_in::current_code(stores, pool, &user, &ctx, url, now).await?;
    Ok(Json(CodeView {
        code: shown.code,
        seconds_left: shown.seconds_left,
        url: shown.url,
        qr_svg: shown.qr_svg,
        checked_in: shown.checked_in,
        roster: shown.roster,
        window: shown.window.into(),
    }))
}

/// A student's check-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// The session (from the QR code's URL, or chosen on the page).
    pub session_id: String,
    /// The code shown in the room.
    pub code: String,
}

/// The answer to a check-in.
#[derive(Serialize, ToSchema)]
pub struct CheckedIn {
    /// The session.
    pub session_id: String,
    /// `present` or `late`.
    #[schema(value_type = String, example = "present")]
    pub status: domain::Status,
    /// Always `self`.
    #[schema(value_type = String, example = "self")]
    pub method: domain::Method,
    /// When the student checked in.
    pub at: DateTime<Utc>,
    /// Whether this request recorded it (false: an earlier check-in stands, nothing changed).
    pub recorded: bool,
    /// Global position of the register's last event: pass it as `min_position` to read it.
    pub position: i64,
}

/// Checks the signed-in student in to a session with the code shown in the room.
#[utoipa::path(
    post, path = "/api/check-in", operation_id = "check_in", tag = "check-in",
    security(("bearer" = [])),
    request_body(content = CheckIn, example = json!({"session_id": "01a20e97abab71d585620a59b45afc7d", "code": "492817"})),
    responses(
        (status = 200, description = "Checked in (or already checked in: `recorded` false).", body = CheckedIn),
        (status = 403, description = "Not a student.", body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "Check-in not open, closed, not yet open, another network, not on the roster, or marked by staff.", body = crate::error::Problem),
        (status = 422, description = "Wrong or expired code.", body = crate::error::Problem),
        (status = 429, description = "Too many wrong codes; wait for `Retry-After`.", body = crate::error::Problem)
    )
)]
async fn check_in(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    AppJson(body): AppJson<CheckIn>,
) -> Result<Json<CheckedIn>, ApiError> {
    let session = session_id("session_id", &body.session_id)?;
    if body.code.len() > 32 {
        return Err(ApiError::invalid("code", "a check-in code has 6 digits"));
    }
    let trusted = state.limits().config.trusted_proxy_header.as_deref();
    let address = client_address(&headers, peer.map(|Extension(ConnectInfo(a))| a), trusted);
    let done = check_in::check_in(&state, &user, request_id, session, &body.code, address).await?;
    Ok(Json(CheckedIn {
        session_id: done.session_id.to_string(),
        status: done.status,
        method: domain::Method::SelfCheckIn,
        at: done.at,
        recorded: done.recorded,
        position: done.position,
    }))
}

fn meta(
    user: &CurrentUser,
    request_id: String,
    course: &domain::CourseId,
) -> crate::app::store::CommandMeta {
    crate::app::store::CommandMeta {
        actor: user.actor(),
        request_id,
        source: Source::Api,
        course_id: course.clone(),
    }
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open, close))
        .routes(routes!(code))
        .routes(routes!(check_in))
}
