//! Slowing down password guessing: after a few consecutive failures for one username
//! (known or not), logins for it are refused for a growing while. Each attempt is counted
//! before its password is checked, so a burst of guesses gets no more than the free ones.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::time::Duration;

/// Failures allowed before the first lock.
pub const FREE_FAILURES: i32 = 5;
const FIRST_LOCK_SECS: i64 = 30;
const MAX_LOCK_SECS: i64 = 15 * 60;

/// Reserves one attempt for the username before its password is checked, in one statement
/// so that concurrent guesses cannot all slip past the count: the attempt counts as a failure
/// until [`record_success`] forgets it. Past the free failures the username is locked,
/// doubling each time; while it is locked, the attempt is refused with how long to wait.
pub async fn reserve(pool: &PgPool, username: &str) -> Result<Result<(), Duration>, sqlx::Error> {
    let reserved: Option<i32> = sqlx::query_scalar(
        "INSERT INTO login_failures (username, failures) VALUES ($1, 1)
         ON CONFLICT (username) DO UPDATE SET failures = login_failures.failures + 1, last_failure = now(),
           locked_until = CASE WHEN login_failures.failures + 1 >= $2
             THEN now() + make_interval(secs => LEAST($3 * power(2, login_failures.failures + 1 - $2), $4))
             ELSE login_failures.locked_until END
         WHERE login_failures.locked_until IS NULL OR login_failures.locked_until <= now()
         RETURNING failures",
    )
    .bind(username)
    .bind(FREE_FAILURES)
    .bind(FIRST_LOCK_SECS as f64)
    .bind(MAX_LOCK_SECS as f64)
    .fetch_optional(pool)
    .await?;
    if reserved.is_some() {
        return Ok(Ok(()));
    }
    let until: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT locked_until FROM login_failures WHERE username = $1")
            .bind(username)
            .fetch_optional(pool)
            .await?
            .flatten();
    let left = until.map(|u| (u - Utc::now()).to_std().unwrap_or_default());
    Ok(Err(left.unwrap_or_default().max(Duration::from_secs(1))))
}

/// Forgets the failures after a successful login.
pub async fn record_success(pool: &PgPool, username: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(username)
        .execute(pool)
        .await?;
    Ok(())
}

/// How long failures are remembered after the last one (and locks after they end).
pub const FORGET_AFTER_HOURS: i32 = 24;

/// Forgets usernames whose last failure is older than a day and whose lock is over, so that
/// guessing random usernames cannot grow the table without bound.
pub async fn forget_stale(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM login_failures
          WHERE last_failure < now() - make_interval(hours => $1)
            AND (locked_until IS NULL OR locked_until < now())",
    )
    .bind(FORGET_AFTER_HOURS)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
