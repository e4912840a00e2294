//! The early warning: `GET /api/courses/{id}/warnings` (a course's crossings for its
//! staff), `GET /api/students/{id}/standing` (a student's own state), and
//! `GET|PUT /api/students/{id}/notifications` (the opt-out and the guardian's address).

use crate::app::warnings::read::{self, NotificationSettings, StudentStanding, Warning};
use crate::auth::CurrentUser;
use crate::checks::{course_id, student_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Which warnings to list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WarningsQuery {
    /// Only warnings after this global position (the `position` of the last one seen).
    pub since: Option<i64>,
}

/// A course's warnings, oldest first.
#[derive(Serialize, ToSchema)]
pub struct WarningList {
    /// At most 500; ask again with `since` set to the last one's `position` for more.
    pub warnings: Vec<Warning>,
}

/// The warnings of a course: students who fell below the threshold, recovered, or reached
/// the absence streak (administrators and the course's teachers).
#[utoipa::path(
    get, path = "/api/courses/{id}/warnings", operation_id = "list_course_warnings", tag = "warnings",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), WarningsQuery),
    responses(
        (status = 200, description = "The course's warnings after `since`.", body = WarningList),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn course_warnings(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<WarningsQuery>,
) -> Result<Json<WarningList>, ApiError> {
    let course = course_id("id", &id)?;
    if q.since.is_some_and(|s| s < 0) {
        return Err(ApiError::bad_param(
            "since",
            "must be a position, 0 or more",
        ));
    }
    let warnings = read::course_warnings(&state, &user, &course, q.since.unwrap_or(0)).await?;
    Ok(Json(WarningList { warnings }))
}

/// A student's standing in each of their courses, with their notification settings (the
/// student, their teachers, administrators).
#[utoipa::path(
    get, path = "/api/students/{id}/standing", operation_id = "get_student_standing", tag = "warnings",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "student number")),
    responses(
        (status = 200, description = "The student's standing per course.", body = StudentStanding),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn standing(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<StudentStanding>, ApiError> {
    let student = student_id("id", &id)?;
    Ok(Json(read::student_standing(&state, &user, &student).await?))
}

/// A student's notification settings (the student, their teachers, administrators).
#[utoipa::path(
    get, path = "/api/students/{id}/notifications", operation_id = "get_student_notifications", tag = "warnings",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "student number")),
    responses(
        (status = 200, description = "The settings.", body = NotificationSettings),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn notifications(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<NotificationSettings>, ApiError> {
    let student = student_id("id", &id)?;
    Ok(Json(read::settings(&state, &user, &student).await?))
}

/// Changes a student's notification settings: opting out of the warning e-mails (messages
/// not yet sent are then never sent) and the guardian's or advisor's address. Only the
/// student themselves or an administrator; every change is recorded with who made it.
#[utoipa::path(
    put, path = "/api/students/{id}/notifications", operation_id = "set_student_notifications", tag = "warnings",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "student number")),
    request_body(content = NotificationsBody, description = "`opted_out`, and `guardian_email` (null or absent: none).",
        example = json!({"opted_out": false, "guardian_email": "parent@example.org"})),
    responses(
        (status = 200, description = "The settings now.", body = NotificationSettings),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn set_notifications(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<NotificationsBody>,
) -> Result<Json<NotificationSettings>, ApiError> {
    let student = student_id("id", &id)?;
    let settings = NotificationSettings {
        opted_out: body.opted_out,
        guardian_email: body.guardian_email,
    };
    Ok(Json(
        read::change_settings(&state, &user, &student, settings).await?,
    ))
}

/// New notification settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsBody {
    /// No warning e-mails to the student nor their guardian.
    pub opted_out: bool,
    /// A guardian's or advisor's address that warnings are copied to.
    #[serde(default)]
    pub guardian_email: Option<String>,
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(course_warnings))
        .routes(routes!(standing))
        .routes(routes!(notifications, set_notifications))
}
