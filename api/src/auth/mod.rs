//! Authentication: JWT bearer tokens, argon2id passwords, login throttling, accounts, and
//! the extractor that makes a request's token a [`CurrentUser`]. What that user may do is
//! decided in [`crate::app::access`].

pub mod account;
pub mod caller;
pub mod changes;
pub mod jwt;
pub mod password;
pub mod rate;
pub mod revoked;
pub mod secret;
pub mod sign_in;
pub mod throttle;
pub mod trail;
pub mod username;
pub mod users;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jwt::Claims;

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

/// A request's valid token and its account, even one that must change its password first:
/// for the few calls such an account may make (change the password, sign out).
pub struct Session {
    /// The account.
    pub user: CurrentUser,
    /// The bearer token.
    pub token: String,
    /// Its claims.
    pub claims: Claims,
    /// Whether the account signed in with a one-time password it has not replaced yet.
    pub must_change_password: bool,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthorized("missing bearer token"))?;
        session_of_token(state, token).await
    }
}

/// The account a token stands for, as it stands now: refused when the token is invalid,
/// expired or revoked (signed out), or the account is gone, disabled, or changed its
/// password since, and (`PasswordChangeRequired`) while it must replace a one-time password.
/// The bearer header and the web pages' cookie both come here.
pub async fn user_of_token(state: &AppState, token: &str) -> Result<CurrentUser, ApiError> {
    let session = session_of_token(state, token).await?;
    if session.must_change_password {
        return Err(ApiError::PasswordChangeRequired);
    }
    Ok(session.user)
}

/// Like [`user_of_token`], but lets through an account that must change its password.
pub async fn session_of_token(state: &AppState, token: &str) -> Result<Session, ApiError> {
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
    let changed_since = user.tokens_valid_after.is_some_and(|t| claims.iat < t);
    if changed_since || claims.generation != user.token_generation {
        return Err(ApiError::Unauthorized(
            "the token was issued before the password changed or the account was reset or disabled",
        ));
    }
    if revoked::is_revoked(state.pool(), token).await? {
        return Err(ApiError::Unauthorized("the token was revoked (signed out)"));
    }
    Ok(Session {
        must_change_password: user.must_change_password,
        user: CurrentUser {
            id: user.id,
            username: user.username,
            role: user.role,
            student_id: user.student_id,
        },
        token: token.to_string(),
        claims,
    })
}
