//! The institution's closed days: `GET|POST /api/calendar/closures` and
//! `DELETE /api/calendar/closures/{date}`. Declaring one (administrators) cancels the
//! sessions on it, or with `dry_run` only lists them.

use crate::app::closures;
use crate::auth::CurrentUser;
use crate::checks::{check_date, check_query_date, check_text};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, AppQuery, RequestId};
use crate::state::AppState;
use crate::views::SessionSummary;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Which closed days to list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClosuresQuery {
    /// First day (default: a year ago).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    #[param(value_type = Option<String>, example = "2026-09-01")]
    pub from: Option<NaiveDate>,
    /// Last day (default: a year from now).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    #[param(value_type = Option<String>, example = "2027-08-31")]
    pub to: Option<NaiveDate>,
}

/// A closed day.
#[derive(Serialize, ToSchema)]
pub struct ClosureView {
    /// The day.
    #[schema(value_type = String, example = "2026-11-26")]
    pub date: NaiveDate,
    /// Why the institution is closed.
    pub reason: String,
    /// The administrator who declared it (user id).
    pub created_by: String,
    /// When it was declared.
    pub created_at: DateTime<Utc>,
}

/// Closed days, oldest first.
#[derive(Serialize, ToSchema)]
pub struct ClosureList {
    /// The days.
    pub closures: Vec<ClosureView>,
}

/// Lists the institution's closed days between two dates (every signed-in user).
#[utoipa::path(
    get, path = "/api/calendar/closures", operation_id = "list_closures", tag = "calendar",
    security(("bearer" = [])),
    params(ClosuresQuery),
    responses(
        (status = 200, description = "The closed days in the range.", body = ClosureList),
        (status = 400, body = crate::error::Problem)
    )
)]
async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
    AppQuery(q): AppQuery<ClosuresQuery>,
) -> Result<Json<ClosureList>, ApiError> {
    check_query_date("from", q.from)?;
    check_query_date("to", q.to)?;
    let today = Utc::now().date_naive();
    let from = q.from.unwrap_or(today - Duration::days(366));
    let to = q.to.unwrap_or(today + Duration::days(366));
    let closures = closures::list(state.pool(), from, to)
        .await?
        .into_iter()
        .map(|c| ClosureView {
            date: c.day,
            reason: c.reason,
            created_by: c.created_by,
            created_at: c.created_at,
        })
        .collect();
    Ok(Json(ClosureList { closures }))
}

/// Days to declare closed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureBody {
    /// The (first) closed day.
    #[serde(deserialize_with = "crate::dates::date")]
    #[schema(value_type = String, example = "2026-11-26")]
    pub date: NaiveDate,
    /// The last closed day of a longer closure (included; at most 120 days in all).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    #[schema(value_type = Option<String>, example = "2026-11-27")]
    pub until: Option<NaiveDate>,
    /// Why (required; becomes the reason of every cancellation).
    pub reason: String,
    /// Only list the sessions it would cancel; nothing is written.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a declaration did or would do.
#[derive(Serialize, ToSchema)]
pub struct ClosureDeclared {
    /// Whether nothing was written (a preview).
    pub dry_run: bool,
    /// The days that were not closed before.
    #[schema(value_type = Vec<String>)]
    pub new_days: Vec<NaiveDate>,
    /// The sessions on those days that were cancelled (or would be).
    pub sessions: Vec<SessionSummary>,
    /// Global position covering the cancellations: pass it as `min_position`.
    pub position: i64,
}

/// Declares one or more days closed (administrators): new term timetables skip them, and the
/// sessions already scheduled on them are cancelled with the reason `closure: ...`. With
/// `dry_run` nothing is written and the answer lists the sessions that would be cancelled.
/// Declaring a day again changes nothing (a session still on it is cancelled).
#[utoipa::path(
    post, path = "/api/calendar/closures", operation_id = "declare_closure", tag = "calendar",
    security(("bearer" = [])),
    request_body(content = ClosureBody, description = "The days and why.",
        example = json!({"date": "2026-11-26", "until": "2026-11-27", "reason": "Thanksgiving", "dry_run": true})),
    responses(
        (status = 201, description = "Declared; the sessions on those days are cancelled.", body = ClosureDeclared),
        (status = 200, description = "A dry run, or the days were declared already.", body = ClosureDeclared),
        (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn declare(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppJson(body): AppJson<ClosureBody>,
) -> Result<(StatusCode, Json<ClosureDeclared>), ApiError> {
    user.require_admin()?;
    let from = check_date("date", body.date)?;
    let to = check_date("until", body.until.unwrap_or(from))?;
    let reason = check_text("reason", &body.reason, 200)?;
    let done =
        closures::declare(&state, &user, request_id, (from, to), &reason, body.dry_run).await?;
    let status = if done.dry_run || done.new_days.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let sessions = done
        .sessions
        .iter()
        .map(|s| {
            let course = &s.course;
            SessionSummary::new(&s.session_id, course, &course.sessions[&s.session_id])
        })
        .map(|mut summary| {
            // The answer says what the session is after the declaration.
            summary.cancelled = !done.dry_run;
            summary
        })
        .collect();
    Ok((
        status,
        Json(ClosureDeclared {
            dry_run: done.dry_run,
            new_days: done.new_days,
            sessions,
            position: done.position,
        }),
    ))
}

/// Whether something changed.
#[derive(Serialize, ToSchema)]
pub struct Changed {
    /// False when there was nothing to change.
    pub changed: bool,
}

/// Removes a closed day (administrators). New timetables may use the day again; the sessions
/// cancelled for it stay cancelled (restore each with `POST .../restore` if wanted).
#[utoipa::path(
    delete, path = "/api/calendar/closures/{date}", operation_id = "remove_closure", tag = "calendar",
    security(("bearer" = [])),
    params(("date" = String, Path, description = "the closed day, YYYY-MM-DD")),
    responses(
        (status = 200, description = "The day is no longer closed.", body = Changed),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(date): AppPath<String>,
) -> Result<Json<Changed>, ApiError> {
    user.require_admin()?;
    let day = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_param("date", "must be a date YYYY-MM-DD"))?;
    let changed = closures::remove(&state, &user, day).await?;
    Ok(Json(Changed { changed }))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, declare))
        .routes(routes!(remove))
}
