//! Changes to accounts after their creation (a password set or reset, a disable, a
//! re-enable), each in one transaction with its audit entry in `account_changes` saying who
//! made it. Every change that should end the account's sessions moves its token generation
//! on, so its earlier tokens are refused at once (this process's cached copy is dropped here;
//! other processes drop theirs on the `users` trigger's notification).

use super::users::{AccountCache, CreateUserError, checked_hash};
use chrono::{DateTime, Utc};
use domain::UserId;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

/// What happened to an account, as stored (frozen names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The account was created.
    Created,
    /// Its owner changed the password.
    PasswordChanged,
    /// The password was set for it (an administrator on the command line).
    PasswordSet,
    /// An administrator reset it to a one-time password.
    PasswordReset,
    /// It was disabled.
    Disabled,
    /// It was enabled again.
    Enabled,
}

impl Change {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::PasswordChanged => "password_changed",
            Change::PasswordSet => "password_set",
            Change::PasswordReset => "password_reset",
            Change::Disabled => "disabled",
            Change::Enabled => "enabled",
        }
    }
}

/// Who made a change, and through what.
#[derive(Debug, Clone)]
pub struct ChangedBy {
    /// The account that made it; `None` for the command line and the server itself.
    pub user: Option<UserId>,
    /// `api`, `import`, `cli` or `server`.
    pub source: &'static str,
}

impl ChangedBy {
    /// A user through the JSON API or the pages.
    pub fn user(user: &UserId) -> Self {
        ChangedBy {
            user: Some(user.clone()),
            source: "api",
        }
    }

    /// A user through an import.
    pub fn import(user: &UserId) -> Self {
        ChangedBy {
            user: Some(user.clone()),
            source: "import",
        }
    }

    /// Someone at the command line.
    pub fn cli() -> Self {
        ChangedBy {
            user: None,
            source: "cli",
        }
    }

    /// The server itself (the first administrator).
    pub fn system() -> Self {
        ChangedBy {
            user: None,
            source: "server",
        }
    }
}

/// One entry of an account's audit trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountChange {
    /// `created`, `password_changed`, `password_set`, `password_reset`, `disabled` or `enabled`.
    pub change: String,
    /// The user id of who made it; null for the command line or the server.
    pub by: Option<String>,
    /// `api`, `import`, `cli` or `server`.
    pub source: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Records a change in the caller's transaction.
pub async fn record(
    tx: &mut PgConnection,
    user: &UserId,
    change: Change,
    by: &ChangedBy,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO account_changes (user_id, change, by_user, source) VALUES ($1, $2, $3, $4)",
    )
    .bind(user.as_str())
    .bind(change.as_str())
    .bind(by.user.as_ref().map(UserId::as_str))
    .bind(by.source)
    .execute(tx)
    .await?;
    Ok(())
}

/// An account's changes, oldest first.
pub async fn list(pool: &PgPool, user: &UserId) -> Result<Vec<AccountChange>, sqlx::Error> {
    let rows: Vec<(String, Option<String>, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT change, by_user, source, at FROM account_changes WHERE user_id = $1 ORDER BY id",
    )
    .bind(user.as_str())
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(change, by, source, at)| AccountChange {
            change,
            by,
            source,
            at,
        })
        .collect())
}

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
