//! `attendance user passwd`: sets an account's password from the command line (checked
//! against the password policy), revokes its tokens and records the change.

use crate::config::Connections;
use anyhow::bail;
use api::auth::changes::{self, Account, Change, ChangedBy, PasswordChange};
use api::auth::users::AccountCache;

/// Sets the password of `username`.
pub async fn run(connections: &Connections, username: &str, secret: String) -> anyhow::Result<()> {
    let pool = crate::startup::database(connections).await?;
    let change = PasswordChange {
        password: secret,
        one_time: false,
        change: Change::PasswordSet,
    };
    // The servers drop their cached copy on the `users` trigger's notification.
    let cache = AccountCache::new();
    let set = changes::set_password(
        &pool,
        &cache,
        Account::Username(username),
        change,
        &ChangedBy::cli(),
    )
    .await?;
    if set.is_none() {
        bail!("no account `{username}`");
    }
    eprintln!("password of `{username}` changed; its earlier tokens no longer work");
    Ok(())
}
