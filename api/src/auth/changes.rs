//! Changes to accounts after their creation (a password set or reset, a disable, a
//! re-enable), each in one transaction with its audit entry in `account_changes` saying who
//! made it. Every change that should end the account's sessions moves its token generation
//! on, so its earlier tokens are refused at once (this process's cached copy is dropped here;
//! other processes drop theirs on the `users` trigger's notification).

use super::trail::record;
pub use super::trail::{AccountChange, Change, ChangedBy, list};
use super::users::{AccountCache, CreateUserError, checked_hash};
use domain::UserId;
use sqlx::PgPool;

/// A new password for an account.
pub struct PasswordChange {
    /// The new password (checked against the policy).
    pub password: String,
    /// Whether it is a one-time password the owner must replace at next sign-in.
    pub one_time: bool,
    /// What to record: `PasswordChanged`, `PasswordSet` or `PasswordReset`.
    pub change: Change,
}

/// Sets an account's password (by id, or by username when `id` is `None`): checked against
/// the policy with the account's username, hashed, stored, every earlier token revoked, and
/// recorded. A reset also lifts a sign-in lockout, so the one-time password can be used.
/// `Ok(None)` when there is no such account; otherwise its id.
pub async fn set_password(
    pool: &PgPool,
    accounts: &AccountCache,
    account: Account<'_>,
    new: PasswordChange,
    by: &ChangedBy,
) -> Result<Option<UserId>, CreateUserError> {
    let found: Option<(String, String)> = match account {
        Account::Id(id) => {
            sqlx::query_as("SELECT id, username FROM users WHERE id = $1").bind(id.as_str())
        }
        Account::Username(name) => {
            sqlx::query_as("SELECT id, username FROM users WHERE username = $1").bind(name)
        }
    }
    .fetch_optional(pool)
    .await?;
    let Some((id, username)) = found else {
        return Ok(None);
    };
    let id = UserId::parse(id).map_err(|e| CreateUserError::Hash(e.to_string()))?;
    let hash = checked_hash(&username, new.password).await?;
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE users SET password_hash = $2, must_change_password = $3, tokens_valid_after = now(),
                token_generation = token_generation + 1
          WHERE id = $1",
    )
    .bind(id.as_str())
    .bind(&hash)
    .bind(new.one_time)
    .execute(&mut *tx)
    .await;
    // Also after an error: the update may have committed before the answer was lost.
    accounts.forget(id.as_str());
    if done?.rows_affected() == 0 {
        return Ok(None);
    }
    if new.change == Change::PasswordReset {
        sqlx::query("DELETE FROM login_failures WHERE username = $1")
            .bind(&username)
            .execute(&mut *tx)
            .await?;
    }
    record(&mut tx, &id, new.change, by).await?;
    tx.commit().await?;
    accounts.forget(id.as_str());
    Ok(Some(id))
}

/// Which account a password is set for.
#[derive(Debug, Clone, Copy)]
pub enum Account<'a> {
    /// By user id.
    Id(&'a UserId),
    /// By login name (the command line).
    Username(&'a str),
}

/// Disables (`disabled = true`) or enables an account; false when there is no such account.
/// Disabling revokes its tokens at once, and for good: enabling it again does not bring them
/// back. Setting the state it already has changes and records nothing.
pub async fn set_disabled(
    pool: &PgPool,
    accounts: &AccountCache,
    id: &UserId,
    disabled: bool,
    by: &ChangedBy,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let state: Option<bool> =
        sqlx::query_scalar("SELECT disabled FROM users WHERE id = $1 FOR UPDATE")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    let Some(state) = state else {
        return Ok(false);
    };
    if state == disabled {
        return Ok(true);
    }
    let done = sqlx::query(
        "UPDATE users SET disabled = $2,
                token_generation = token_generation + CASE WHEN $2 THEN 1 ELSE 0 END
          WHERE id = $1",
    )
    .bind(id.as_str())
    .bind(disabled)
    .execute(&mut *tx)
    .await;
    accounts.forget(id.as_str());
    done?;
    let change = if disabled {
        Change::Disabled
    } else {
        Change::Enabled
    };
    record(&mut tx, id, change, by).await?;
    let committed = tx.commit().await;
    accounts.forget(id.as_str());
    committed?;
    Ok(true)
}
