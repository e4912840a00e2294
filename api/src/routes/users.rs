//! Accounts, admin only: `POST/GET /api/users`, `DELETE /api/users/{id}` (disable),
//! `POST /api/users/{id}/enable`, `POST /api/users/{id}/password-reset`,
//! `GET /api/users/{id}/changes`. No open registration.

use crate::auth::changes::{self, AccountChange, ChangedBy};
use crate::auth::users::{self, CreateUserError, NewAccount, UserView};
use crate::auth::{CurrentUser, account};
use crate::checks::{check_text, student_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, AppQuery, parse_id};
use crate::state::AppState;
use crate::views::Paging;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{Role, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A new account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name (1-64 characters).
    pub username: String,
    /// Password: 12-256 characters, not the username, not a common password.
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
    let account = NewAccount {
        username: &username,
        password: body.password,
        role: body.role,
        student_id: student.as_ref(),
        must_change_password: false,
        email: None,
    };
    let created = users::create(state.pool(), account, &ChangedBy::user(&user.id))
        .await
        .map_err(|e| match e {
            CreateUserError::UsernameTaken => {
                ApiError::conflict("username_taken", "the username is already taken")
            }
            CreateUserError::WeakPassword(why) => ApiError::invalid("password", why),
            CreateUserError::InvalidUsername(why) => ApiError::invalid("username", why.to_string()),
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

/// Which accounts a list shows. Without any parameter the answer is every account as a bare
/// array (the shape of earlier versions); with any, one page.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// `admin`, `teacher` or `student`.
    pub role: Option<String>,
    /// `active`, `disabled` or `must_change_password`.
    pub state: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// Rows skipped (default 0).
    pub offset: Option<i64>,
}

/// One page of accounts.
#[derive(Serialize, ToSchema)]
pub struct UserPage {
    /// The accounts of the page, by username.
    pub items: Vec<UserView>,
    /// How many accounts the filter shows in all.
    pub total: i64,
    /// The page's length as asked.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// Every account, or one page of them.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum UserList {
    /// Without parameters: every account, by username.
    All(Vec<UserView>),
    /// With any parameter: one page and the total.
    Page(UserPage),
}

/// Lists accounts (admin only), by role and state and paged with any parameter.
#[utoipa::path(
    get, path = "/api/users", operation_id = "list_users", tag = "users",
    security(("bearer" = [])),
    params(UserQuery),
    responses(
        (status = 200, description = "Every account as a bare array without parameters; with any, `{items, total, limit, offset}`.", body = UserList),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<UserQuery>,
) -> Result<Json<UserList>, ApiError> {
    user.require_admin()?;
    if q.role.is_none() && q.state.is_none() && q.limit.is_none() && q.offset.is_none() {
        return Ok(Json(UserList::All(users::list(state.pool()).await?)));
    }
    let paging = Paging::check(q.limit, q.offset)?;
    let role = match q.role.as_deref() {
        None => None,
        Some(text) => Some(
            Role::parse(text)
                .ok_or_else(|| ApiError::bad_param("role", "must be admin, teacher or student"))?,
        ),
    };
    if let Some(s) = q.state.as_deref()
        && !matches!(s, "active" | "disabled" | "must_change_password")
    {
        return Err(ApiError::bad_param(
            "state",
            "must be active, disabled or must_change_password",
        ));
    }
    let (items, total) = users::page(
        state.pool(),
        role,
        q.state.as_deref(),
        paging.limit,
        paging.offset,
    )
    .await?;
    Ok(Json(UserList::Page(UserPage {
        items,
        total,
        limit: paging.limit,
        offset: paging.offset,
    })))
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
    let id = parse_id("id", &id, UserId::parse)?;
    account::set_disabled(&state, &user, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables a disabled account again (admin only). Its tokens from before the disable stay
/// refused: its owner signs in again.
#[utoipa::path(
    post, path = "/api/users/{id}/enable", operation_id = "enable_user", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses(
        (status = 204, description = "The account is enabled (also when it already was)."),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn enable(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id("id", &id, UserId::parse)?;
    account::set_disabled(&state, &user, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A one-time password, shown once.
#[derive(Serialize, ToSchema)]
pub struct PasswordReset {
    /// The account.
    pub user_id: String,
    /// The one-time password: hand it to the account's owner. It is not stored anywhere in
    /// clear and cannot be shown again.
    pub one_time_password: String,
    /// Always true: the next sign-in may only set a new password.
    pub must_change_password: bool,
}

/// Resets an account's password to a one-time password (admin only): its tokens stop working
/// at once, and after signing in with it the owner may only set a new password.
#[utoipa::path(
    post, path = "/api/users/{id}/password-reset", operation_id = "reset_user_password", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses(
        (status = 200, description = "The one-time password, shown this once.", body = PasswordReset,
            example = json!({"user_id": "01a20e979fd77580b6d0399da72a8edd", "one_time_password": "q3VfT0nR8ZcW1yLmA6pE", "must_change_password": true})),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<PasswordReset>, ApiError> {
    let id = parse_id("id", &id, UserId::parse)?;
    let secret = account::reset_password(&state, &user, &id).await?;
    Ok(Json(PasswordReset {
        user_id: id.to_string(),
        one_time_password: secret,
        must_change_password: true,
    }))
}

/// An account's changes, oldest first (admin only): who created it, changed or reset its
/// password, disabled or enabled it, and when.
#[utoipa::path(
    get, path = "/api/users/{id}/changes", operation_id = "list_user_changes", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses(
        (status = 200, description = "The account's audit trail.", body = Vec<AccountChange>),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn list_changes(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<Vec<AccountChange>>, ApiError> {
    user.require_admin()?;
    let id = parse_id("id", &id, UserId::parse)?;
    if users::by_id(state.pool(), id.as_str()).await?.is_none() {
        return Err(ApiError::NotFound(format!("user {id} does not exist")));
    }
    Ok(Json(changes::list(state.pool(), &id).await?))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(disable))
        .routes(routes!(enable))
        .routes(routes!(reset_password))
        .routes(routes!(list_changes))
}
