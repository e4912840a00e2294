//! Accounts, admin only: `POST/GET /api/users`, `DELETE /api/users/{id}`. No open registration.

use crate::auth::users::{self, CreateUserError, UserView};
use crate::auth::{CurrentUser, password};
use crate::checks::{check_text, student_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, parse_id};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{Role, UserId};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A new account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name (1-64 characters).
    pub username: String,
    /// Password (10-256 characters).
    pub password: String,
    /// `admin`, `teacher` or `student`.
    #[schema(value_type = String, example = "teacher")]
    pub role: Role,
    /// Required for students: their student number (the student must exist).
    pub student_id: Option<String>,
}

/// Creates an account (admin only).
#[utoipa::path(
    post, path = "/api/users", operation_id = "create_user", tag = "users",
    security(("bearer" = [])),
    request_body(content = NewUser, description = "The account: a student's account names its student number.",
        example = json!({"username": "ada", "password": "a-long-password", "role": "teacher"})),
    responses(
        (status = 201, description = "The account is created.", body = UserView,
            example = json!({
                "id": "01a20e979fd77580b6d0399da72a8edd",
                "username": "ada",
                "role": "teacher",
                "student_id": null,
                "disabled": false
            })),
        (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    user.require_admin()?;
    let username = check_text("username", &body.username, 64)?;
    crate::auth::username::key(&username).map_err(|e| ApiError::invalid("username", e))?;
    password::check_strength(&body.password).map_err(|e| ApiError::invalid("password", e))?;
    let student = match (body.role, body.student_id.as_deref()) {
        (Role::Student, Some(id)) => Some(linked_student(&state, id).await?),
        (Role::Student, None) => {
            return Err(ApiError::invalid("student_id", "is required for students"));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "student_id",
                "is only for student accounts",
            ));
        }
        (_, None) => None,
    };
    let created = users::create(
        state.pool(),
        &username,
        body.password,
        body.role,
        student.as_ref(),
    )
    .await
    .map_err(|e| match e {
        CreateUserError::UsernameTaken => {
            ApiError::conflict("username_taken", "the username is already taken")
        }
        other => ApiError::internal(other),
    })?;
    tracing::info!(user_id = %created.id, role = %created.role, by = %user.id, "user created");
    Ok((StatusCode::CREATED, Json(created)))
}

async fn linked_student(state: &AppState, id: &str) -> Result<domain::StudentId, ApiError> {
    let id = student_id("student_id", id)?;
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM students WHERE id = $1 AND erased_at IS NULL)",
    )
    .bind(id.as_str())
    .fetch_one(state.pool())
    .await?;
    if !exists {
        return Err(ApiError::invalid(
            "student_id",
            format!("student {id} does not exist"),
        ));
    }
    Ok(id)
}

/// Lists every account (admin only).
#[utoipa::path(
    get, path = "/api/users", operation_id = "list_users", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every account.", body = Vec<UserView>),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<UserView>>, ApiError> {
    user.require_admin()?;
    Ok(Json(users::list(state.pool()).await?))
}

/// Disables an account (admin only); its tokens stop working at once.
#[utoipa::path(
    delete, path = "/api/users/{id}", operation_id = "disable_user", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses(
        (status = 204, description = "The account is disabled; its tokens stop working at once."),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn disable(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    user.require_admin()?;
    let id = parse_id("id", &id, UserId::parse)?;
    if id == user.id {
        return Err(ApiError::conflict(
            "cannot_disable_self",
            "you cannot disable your own account",
        ));
    }
    if !users::disable(state.pool(), state.accounts(), &id).await? {
        return Err(ApiError::NotFound(format!("user {id} does not exist")));
    }
    tracing::info!(user_id = %id, by = %user.id, "user disabled");
    Ok(StatusCode::NO_CONTENT)
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(disable))
}
