//! `POST /api/auth/login`, `GET /api/auth/me`, and the caller's own account:
//! `POST /api/auth/password` (change it), `POST /api/auth/refresh`, `POST /api/auth/logout`.

use crate::auth::users::UserView;
use crate::auth::{CurrentUser, Session, account, sign_in};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A signed access token and who it is for.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// The JWT to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// The account.
    pub user: UserView,
    /// When true, the account signed in with a one-time password: every call but
    /// `POST /api/auth/password` (and sign-out) answers 403 `password_change_required`
    /// until it sets its own.
    pub must_change_password: bool,
}

impl LoginResponse {
    fn new(state: &AppState, token: String, user: UserView) -> Self {
        LoginResponse {
            token,
            token_type: "Bearer",
            expires_in: state.jwt().ttl().as_secs(),
            must_change_password: user.must_change_password,
            user,
        }
    }
}

/// Exchanges a username and password for a 24-hour token.
#[utoipa::path(
    post, path = "/api/auth/login", operation_id = "login", tag = "auth",
    request_body(content = LoginRequest, description = "The account's username and password.",
        example = json!({"username": "ada", "password": "a-long-password"})),
    responses(
        (status = 200, description = "A bearer token for the `Authorization` header, and the account.", body = LoginResponse,
            example = json!({
                "token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMWEyIn0.c2lnbmF0dXJl",
                "token_type": "Bearer",
                "expires_in": 86400,
                "user": {"id": "01a20e979fd77580b6d0399da72a8edd", "username": "ada", "role": "teacher", "disabled": false, "must_change_password": false},
                "must_change_password": false
            })),
        (status = 401, description = "Wrong username or password (the same answer for both; code `unauthorized`).", body = crate::error::Problem),
        (status = 429, description = "Too many failed logins for this username, or too many logins from this address; wait for `Retry-After` (code `too_many_attempts`).", body = crate::error::Problem),
        (status = 503, description = "Too many logins at once; wait for `Retry-After`.", body = crate::error::Problem)
    )
)]
async fn login(
    State(state): State<AppState>,
    AppJson(body): AppJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let (token, user) = sign_in::sign_in(&state, &body.username, body.password).await?;
    Ok(Json(LoginResponse::new(&state, token, user)))
}

/// A password change: the current password and the new one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    /// The password signed in with (the one-time password after a reset).
    pub current_password: String,
    /// The new password: at least 12 characters, not the username, not a common password.
    pub new_password: String,
}

/// Changes the caller's own password; every earlier token of the account stops working.
#[utoipa::path(
    post, path = "/api/auth/password", operation_id = "change_password", tag = "auth",
    security(("bearer" = [])),
    request_body(content = PasswordChangeRequest, description = "The current and the new password.",
        example = json!({"current_password": "a-long-password", "new_password": "a-longer-new-password"})),
    responses(
        (status = 200, description = "Changed: a fresh token (the earlier ones are revoked).", body = LoginResponse),
        (status = 401, body = crate::error::Problem),
        (status = 422, description = "The current password is wrong (code `wrong_password`), or the new one breaks the policy (code `invalid_field`, field `new_password`).", body = crate::error::Problem),
        (status = 429, body = crate::error::Problem)
    )
)]
async fn change_password(
    State(state): State<AppState>,
    session: Session,
    AppJson(body): AppJson<PasswordChangeRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let (token, user) =
        account::change_own_password(&state, &session, body.current_password, body.new_password)
            .await?;
    Ok(Json(LoginResponse::new(&state, token, user)))
}

/// Exchanges a valid token for a fresh one (a new lifetime); the old one is revoked.
#[utoipa::path(
    post, path = "/api/auth/refresh", operation_id = "refresh_token", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A fresh token; the one sent is revoked.", body = LoginResponse),
        (status = 401, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn refresh(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<LoginResponse>, ApiError> {
    let (token, user) = account::refresh(&state, &session).await?;
    Ok(Json(LoginResponse::new(&state, token, user)))
}

/// Signs out: the token is revoked until it expires.
#[utoipa::path(
    post, path = "/api/auth/logout", operation_id = "logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The token no longer works."),
        (status = 401, body = crate::error::Problem)
    )
)]
async fn logout(State(state): State<AppState>, session: Session) -> Result<StatusCode, ApiError> {
    account::sign_out(&state, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the token belongs to.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// User id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: String,
    /// Linked student number, for students.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub student_id: Option<String>,
}

/// The caller's account.
#[utoipa::path(
    get, path = "/api/auth/me", operation_id = "get_current_user", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in account.", body = Me),
        (status = 401, body = crate::error::Problem)
    )
)]
async fn me(user: CurrentUser) -> Json<Me> {
    Json(Me {
        id: user.id.to_string(),
        username: user.username,
        role: user.role.to_string(),
        student_id: user.student_id.map(|s| s.to_string()),
    })
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(refresh))
        .routes(routes!(logout))
}
