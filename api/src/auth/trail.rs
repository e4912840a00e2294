//! The accounts' audit trail: every creation and change of an account, with who made it and
//! through what, in `account_changes`. Written in the same transaction as the change itself
//! (by `users` at creation, by `changes` afterwards).

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
