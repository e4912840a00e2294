//! Revoked tokens: signing out of the web pages revokes the token the browser held. Only a
//! digest is stored (a leaked table names no usable token), until the token expires.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Revokes a token until `expires_at` (seconds since the epoch, from its claims).
pub async fn revoke(pool: &PgPool, token: &str, expires_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO revoked_tokens (token_sha256, expires_at) VALUES ($1, to_timestamp($2))
         ON CONFLICT (token_sha256) DO NOTHING",
    )
    .bind(digest(token))
    .bind(expires_at as f64)
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether the token was revoked.
pub async fn is_revoked(pool: &PgPool, token: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE token_sha256 = $1)")
        .bind(digest(token))
        .fetch_one(pool)
        .await
}

/// Forgets revocations of tokens that have expired anyway; `serve` runs it every hour.
pub async fn forget_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < now() - interval '1 minute'")
            .execute(pool)
            .await?;
    Ok(done.rows_affected())
}
