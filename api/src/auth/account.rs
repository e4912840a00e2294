//! The account flows people use, for the JSON API and the web pages alike: changing one's
//! own password, an administrator's reset to a one-time password, disabling and enabling an
//! account, refreshing a token and signing out. Each change is recorded with who made it
//! ([`super::changes`]).

use super::changes::{self, Account, Change, ChangedBy, PasswordChange};
use super::users::{self, CreateUserError, UserView};
use super::{CurrentUser, Session, password, revoked, throttle};
use crate::error::ApiError;
use crate::state::AppState;
use domain::UserId;
use rand::Rng;
use rand::distr::Alphanumeric;

/// Length of a one-time password (about 119 bits).
pub const ONE_TIME_LEN: usize = 20;

/// A random password to hand over once; it meets the policy.
pub fn one_time_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(ONE_TIME_LEN)
        .map(char::from)
        .collect()
}

fn refused(error: CreateUserError, field: &str) -> ApiError {
    match error {
        CreateUserError::WeakPassword(why) => ApiError::invalid(field, why),
        CreateUserError::Sql(e) => e.into(),
        other => ApiError::internal(other),
    }
}

/// A signed-in account changes its own password (also the one-time password it signed in
/// with): the current one is checked like a sign-in (counted towards the lockout, so this
/// is no way around it), the new one against the policy. Every earlier token of the account
/// stops working; the answer is a fresh token and the account.
pub async fn change_own_password(
    state: &AppState,
    session: &Session,
    current: String,
    new: String,
) -> Result<(String, UserView), ApiError> {
    let username = session.user.username.clone();
    if new == current {
        return Err(ApiError::invalid(
            "new_password",
            "must differ from the current password",
        ));
    }
    let _turn = state.limits().hashing.enter().await?;
    if let Err(retry_after) = throttle::reserve(state.pool(), &username).await? {
        return Err(ApiError::TooManyAttempts { retry_after });
    }
    let stored = users::by_username(state.pool(), &username).await?;
    let hash = stored.map(|user| user.password_hash);
    if !password::verify(current, hash).await {
        return Err(ApiError::Invalid {
            code: "wrong_password",
            detail: "current_password: is wrong".into(),
            errors: vec![crate::app::error::FieldProblem {
                field: "current_password".into(),
                detail: "is wrong".into(),
                code: None,
            }],
        });
    }
    throttle::record_success(state.pool(), &username).await?;
    let change = PasswordChange {
        password: new,
        one_time: false,
        change: Change::PasswordChanged,
    };
    let by = ChangedBy::user(&session.user.id);
    changes::set_password(
        state.pool(),
        state.accounts(),
        Account::Id(&session.user.id),
        change,
        &by,
    )
    .await
    .map_err(|e| refused(e, "new_password"))?
    .ok_or(ApiError::Unauthorized("the account no longer exists"))?;
    tracing::info!(user_id = %session.user.id, "password changed");
    reissue(state, &session.user.id).await
}

/// An administrator resets an account to a one-time password, returned here once: the
/// account's tokens stop working at once, and its next sign-in may only set a new password.
pub async fn reset_password(
    state: &AppState,
    admin: &CurrentUser,
    id: &UserId,
) -> Result<String, ApiError> {
    admin.require_admin()?;
    let secret = one_time_password();
    let change = PasswordChange {
        password: secret.clone(),
        one_time: true,
        change: Change::PasswordReset,
    };
    changes::set_password(
        state.pool(),
        state.accounts(),
        Account::Id(id),
        change,
        &ChangedBy::user(&admin.id),
    )
    .await
    .map_err(|e| refused(e, "password"))?
    .ok_or_else(|| ApiError::NotFound(format!("user {id} does not exist")))?;
    tracing::info!(user_id = %id, by = %admin.id, "password reset");
    Ok(secret)
}

/// An administrator disables or enables an account. Disabling refuses its tokens at once
/// (and enabling does not bring them back); an administrator cannot disable themself.
pub async fn set_disabled(
    state: &AppState,
    admin: &CurrentUser,
    id: &UserId,
    disabled: bool,
) -> Result<(), ApiError> {
    admin.require_admin()?;
    if disabled && *id == admin.id {
        return Err(ApiError::conflict(
            "cannot_disable_self",
            "you cannot disable your own account",
        ));
    }
    let by = ChangedBy::user(&admin.id);
    if !changes::set_disabled(state.pool(), state.accounts(), id, disabled, &by).await? {
        return Err(ApiError::NotFound(format!("user {id} does not exist")));
    }
    tracing::info!(user_id = %id, by = %admin.id, disabled, "account state set");
    Ok(())
}

/// A fresh token for a valid one, which is revoked: the lifetime starts again while one
/// token at a time stays in use. Not for an account that must change its password.
pub async fn refresh(state: &AppState, session: &Session) -> Result<(String, UserView), ApiError> {
    if session.must_change_password {
        return Err(ApiError::PasswordChangeRequired);
    }
    let fresh = reissue(state, &session.user.id).await?;
    revoked::revoke(state.pool(), &session.token, session.claims.exp).await?;
    Ok(fresh)
}

/// Revokes the token until it expires.
pub async fn sign_out(state: &AppState, session: &Session) -> Result<(), ApiError> {
    revoked::revoke(state.pool(), &session.token, session.claims.exp).await?;
    tracing::info!(user_id = %session.user.id, "signed out");
    Ok(())
}

/// A token of the account as it stands now.
async fn reissue(state: &AppState, id: &UserId) -> Result<(String, UserView), ApiError> {
    let user = users::by_id(state.pool(), id.as_str())
        .await?
        .filter(|u| !u.disabled)
        .ok_or(ApiError::Unauthorized(
            "the account no longer exists or is disabled",
        ))?;
    let token = state
        .jwt()
        .issue(
            user.id.as_str(),
            &user.username,
            user.role,
            user.token_generation,
        )
        .map_err(ApiError::internal)?;
    Ok((token, user))
}
