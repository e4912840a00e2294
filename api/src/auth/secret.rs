//! Where the JWT signing secret comes from: `JWT_SECRET`, or a random secret generated once
//! and kept in the database. There is no built-in default.

use rand::Rng;
use rand::distr::Alphanumeric;
use sqlx::PgPool;

const SETTING: &str = "jwt_secret";

/// The configured secret, or the stored one (generated on first use).
pub async fn resolve(pool: &PgPool, configured: Option<String>) -> Result<Vec<u8>, sqlx::Error> {
    if let Some(secret) = configured {
        return Ok(secret.into_bytes());
    }
    let fresh: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect();
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(SETTING)
        .bind(&fresh)
        .execute(pool)
        .await?;
    let stored: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(SETTING)
        .fetch_one(pool)
        .await?;
    Ok(stored.into_bytes())
}
