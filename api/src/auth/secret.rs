//! Where the JWT signing secret comes from: `JWT_SECRET`, or a random secret generated once
//! and kept in a key file readable by its owner only (mode 0600). There is no built-in
//! default. A secret an earlier version kept in the database's `settings` moves to the file
//! and leaves the database, where anyone able to read that table could forge tokens.

use rand::Rng;
use rand::distr::Alphanumeric;
use sqlx::PgPool;
use std::io::Write;
use std::path::Path;

const SETTING: &str = "jwt_secret";

/// Why no secret could be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The database failed.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// The key file could not be read or written.
    #[error("JWT key file {path}: {source}")]
    File {
        /// The key file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
}

/// The configured secret, or the one in the key file (created on first use).
pub async fn resolve(
    pool: &PgPool,
    configured: Option<String>,
    key_file: &Path,
) -> Result<Vec<u8>, SecretError> {
    if let Some(secret) = configured {
        return Ok(secret.into_bytes());
    }
    let file_error = |source| SecretError::File {
        path: key_file.display().to_string(),
        source,
    };
    let legacy: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(SETTING)
        .fetch_optional(pool)
        .await?;
    if !key_file.exists() {
        let secret = legacy.clone().unwrap_or_else(fresh);
        // A concurrent start may have written it first: then its secret is the one.
        match create_private(key_file, &secret) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(file_error(e)),
        }
    }
    let secret = std::fs::read_to_string(key_file).map_err(file_error)?;
    if legacy.is_some() {
        sqlx::query("DELETE FROM settings WHERE key = $1")
            .bind(SETTING)
            .execute(pool)
            .await?;
    }
    Ok(secret.trim().as_bytes().to_vec())
}

fn fresh() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect()
}

/// Writes a new file readable and writable by its owner only.
fn create_private(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()
}
