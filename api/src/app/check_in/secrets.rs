//! The secret of each check-in window: 32 random bytes kept in `check_in_secrets` (never in
//! an event, an answer or a log), and in memory once read (a window's secret never changes).

use crate::app::error::AppError;
use domain::SessionId;
use rand::RngCore;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// Secrets read so far, by window (the same in every process: the table is the truth).
static KNOWN: LazyLock<Mutex<HashMap<String, [u8; 32]>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Makes and keeps a new window's secret.
pub async fn create(pool: &PgPool, window_id: &str, session: &SessionId) -> Result<(), AppError> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    sqlx::query("INSERT INTO check_in_secrets (window_id, session_id, secret) VALUES ($1, $2, $3)")
        .bind(window_id)
        .bind(session.as_str())
        .bind(secret.as_slice())
        .execute(pool)
        .await?;
    Ok(())
}

/// Forgets a window's secret (its window was never opened).
pub async fn discard(pool: &PgPool, window_id: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM check_in_secrets WHERE window_id = $1")
        .bind(window_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// A window's secret.
pub async fn of(pool: &PgPool, window_id: &str) -> Result<[u8; 32], AppError> {
    if let Some(secret) = lock().get(window_id) {
        return Ok(*secret);
    }
    let stored: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT secret FROM check_in_secrets WHERE window_id = $1")
            .bind(window_id)
            .fetch_optional(pool)
            .await?;
    let secret: [u8; 32] = stored
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| AppError::internal(format!("no secret for check-in window {window_id}")))?;
    lock().insert(window_id.to_string(), secret);
    Ok(secret)
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<String, [u8; 32]>> {
    KNOWN.lock().unwrap_or_else(|p| p.into_inner())
}
