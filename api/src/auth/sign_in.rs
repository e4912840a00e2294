//! Signing in: a username and password exchanged for a token, for the JSON login and the
//! web pages' sign-in form alike (hashing gate, per-username lockout, same answer for an
//! unknown user and a wrong password).

use crate::auth::users::{self, UserView};
use crate::auth::{password, throttle};
use crate::error::ApiError;
use crate::state::AppState;

/// Checks the credentials and issues a token: `Unauthorized` for a wrong username or
/// password, `TooManyAttempts` while the username is locked.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    secret: String,
) -> Result<(String, UserView), ApiError> {
    let username = username.trim().to_string();
    let _turn = state.limits().hashing.enter().await?;
    if let Err(retry_after) = throttle::reserve(state.pool(), &username).await? {
        return Err(ApiError::TooManyAttempts { retry_after });
    }
    let stored = users::by_username(state.pool(), &username)
        .await?
        .filter(|u| !u.view.disabled);
    let hash = stored.as_ref().map(|user| user.password_hash.clone());
    if !password::verify(secret, hash).await {
        return Err(ApiError::Unauthorized("wrong username or password"));
    }
    throttle::record_success(state.pool(), &username).await?;
    let user = stored
        .map(|user| user.view)
        .ok_or_else(|| ApiError::internal("verified user vanished"))?;
    let token = state
        .jwt()
        .issue(
            user.id.as_str(),
            &user.username,
            user.role,
            user.token_generation,
        )
        .map_err(ApiError::internal)?;
    tracing::info!(user_id = %user.id, role = %user.role, must_change_password = user.must_change_password, "login");
    Ok((token, user))
}
