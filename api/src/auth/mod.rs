//! Authentication: JWT bearer tokens, argon2id passwords, login throttling, accounts, and
//! the extractor that makes a request's token a [`CurrentUser`]. What that user may do is
//! decided in [`crate::app::access`].

pub mod caller;
pub mod jwt;
pub mod password;
pub mod rate;
pub mod revoked;
pub mod secret;
pub mod sign_in;
pub mod throttle;
pub mod username;
pub mod users;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

pub use crate::app::access::CurrentUser;

/// The bearer token of a request, if it has one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthorized("missing bearer token"))?;
        user_of_token(state, token).await
    }
}

/// The account a token stands for, as it stands now: refused when the token is invalid,
/// expired or revoked (signed out), or the account is gone, disabled, or changed its
/// password since. The bearer header and the web pages' cookie both come here.
pub async fn user_of_token(state: &AppState, token: &str) -> Result<CurrentUser, ApiError> {
    let claims = state
        .jwt()
        .verify(token)
        .ok_or(ApiError::Unauthorized("invalid or expired token"))?;
    let user = state
        .accounts()
        .active(state.pool(), &claims.sub)
        .await?
        .ok_or(ApiError::Unauthorized(
            "the account no longer exists or is disabled",
        ))?;
    if user.tokens_valid_after.is_some_and(|t| claims.iat < t) {
        return Err(ApiError::Unauthorized(
            "the token was issued before the password changed",
        ));
    }
    if revoked::is_revoked(state.pool(), token).await? {
        return Err(ApiError::Unauthorized("the token was revoked (signed out)"));
    }
    Ok(CurrentUser {
        id: user.id,
        username: user.username,
        role: user.role,
        student_id: user.student_id,
    })
}
