//! Who is asking, for the public routes that tell administrators more than anyone else
//! (`/api/health` shows its details only to them).

use crate::state::AppState;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use domain::Role;

/// Whether the request carries a valid token of an active administrator account (one
/// whose password has not changed since the token was issued).
pub async fn is_admin(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
    else {
        return false;
    };
    let Some(claims) = state.jwt().verify(token) else {
        return false;
    };
    match state.accounts().active(state.pool(), &claims.sub).await {
        Ok(Some(user)) => {
            user.role == Role::Admin
                && !user.must_change_password
                && claims.generation == user.token_generation
                && user.tokens_valid_after.is_none_or(|t| claims.iat >= t)
        }
        _ => false,
    }
}
