//! Archiving courses: `POST /api/courses/{id}/archive` and `POST /api/courses/{id}/restore`
//! (admins). An archived course is hidden from course lists unless asked for, takes no new
//! sessions (`409 course_archived`), and keeps its history: its records, statistics, reports
//! and audit read as before.

use crate::app::courses::{execute, load_course};
use crate::auth::CurrentUser;
use crate::checks::{check_optional_text, course_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, RequestId};
use crate::state::AppState;
use crate::views::Accepted;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use domain::course::CourseCommand;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Why a course is archived.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ArchiveBody {
    /// Why, if given (up to 500 characters).
    pub reason: Option<String>,
}

/// Archives a course (admin only); archiving an archived course changes nothing.
#[utoipa::path(
    post, path = "/api/courses/{id}/archive", operation_id = "archive_course", tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    request_body(content = ArchiveBody, description = "Why (optional).",
        example = json!({"reason": "not offered from 2027"})),
    responses(
        (status = 200, description = "The course is archived (`changed: false` if it already was).", body = Accepted,
            example = json!({"version": 7, "position": 1880, "changed": true})),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn archive(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<ArchiveBody>,
) -> Result<Json<Accepted>, ApiError> {
    user.require_admin()?;
    let id = course_id("id", &id)?;
    let reason = check_optional_text("reason", body.reason.as_deref(), 500)?;
    load_course(&state, &id).await?;
    let command = CourseCommand::ArchiveCourse {
        reason,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id, &id, command).await?;
    Ok(Json(Accepted::from(&done)))
}

/// Brings an archived course back into use (admin only).
#[utoipa::path(
    post, path = "/api/courses/{id}/restore", operation_id = "restore_course", tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    responses(
        (status = 200, description = "The course is in use again (`changed: false` if it was not archived).", body = Accepted,
            example = json!({"version": 8, "position": 1881, "changed": true})),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn restore(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
) -> Result<Json<Accepted>, ApiError> {
    user.require_admin()?;
    let id = course_id("id", &id)?;
    load_course(&state, &id).await?;
    let command = CourseCommand::RestoreCourse {
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id, &id, command).await?;
    Ok(Json(Accepted::from(&done)))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(archive))
        .routes(routes!(restore))
}
