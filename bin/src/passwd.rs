//! `attendance user passwd`: sets an account's password from the command line and revokes
//! its tokens (the HTTP account flows belong to the onboarding work).

use crate::config::Connections;
use anyhow::bail;
use api::auth::{password, users};

/// Sets the password of `username` (checked for strength first).
pub async fn run(connections: &Connections, username: &str, secret: String) -> anyhow::Result<()> {
    password::check_strength(&secret).map_err(|e| anyhow::anyhow!("password {e}"))?;
    let pool = crate::startup::database(connections).await?;
    if !users::set_password(&pool, username, secret).await? {
        bail!("no account `{username}`");
    }
    eprintln!("password of `{username}` changed; its earlier tokens no longer work");
    Ok(())
}
