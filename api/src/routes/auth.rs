//! `POST /api/auth/login` and `GET /api/auth/me`.

use crate::auth::users::UserView;
use crate::auth::{CurrentUser, sign_in};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
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
                "user": {"id": "01a20e979fd77580b6d0399da72a8edd", "username": "ada", "role": "teacher", "student_id": null, "disabled": false}
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
    Ok(Json(LoginResponse {
        token,
        token_type: "Bearer",
        expires_in: state.jwt().ttl().as_secs(),
        user,
    }))
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
}
