//! The physical limit on this machine, measured in the same run: raw Postgres inserts of an
//! event-shaped row, one per transaction and 200 per transaction, at the same concurrency.

use super::{BenchArgs, Figures, step};
use serde_json::json;
use sqlx::PgPool;
use std::time::{Duration, Instant};

async fn scratch(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("DROP TABLE IF EXISTS bench_raw")
        .execute(pool)
        .await?;
    sqlx::query("CREATE TABLE bench_raw (LIKE events INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)")
        .execute(pool)
        .await?;
    Ok(())
}

fn payload() -> serde_json::Value {
    json!({"AttendanceRecorded": {"student_id": "S1", "status": "present", "method": "manual", "remark": null,
        "by": {"user_id": "u", "role": "teacher"}, "at": "2026-09-07T09:05:00Z"}})
}

/// Runs `insert(pool, client, round)` in a loop on every client for `seconds`; each call
/// reports how many rows it wrote. Returns rows per second.
async fn timed<F, Fut>(
    pool: &PgPool,
    args: &BenchArgs,
    label: &str,
    insert: F,
) -> anyhow::Result<f64>
where
    F: Fn(PgPool, usize, i64) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = Result<u64, sqlx::Error>> + Send,
{
    scratch(pool).await?;
    let bar = step(label, Some(args.seconds));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.clients)
        .map(|client| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let (mut rows, mut round) = (0u64, 0i64);
                while Instant::now() < deadline {
                    rows += insert(pool.clone(), client, round).await?;
                    round += 1;
                }
                anyhow::Ok(rows)
            })
        })
        .collect();
    let ticker = tick(&bar);
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    ticker.abort();
    bar.finish_and_clear();
    sqlx::query("DROP TABLE IF EXISTS bench_raw")
        .execute(pool)
        .await?;
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Workload 1's ceiling: single-row insert transactions.
pub async fn single_inserts(
    pool: &PgPool,
    args: &BenchArgs,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    figures.raw_inserts_per_sec = timed(pool, args, "1 ceiling: raw single-row inserts", |pool, client, round| async move {
        sqlx::query(
            "INSERT INTO bench_raw (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('register', $1, $2, 'AttendanceRecorded', '1', $3, '{\"course_id\": \"BENCH\"}')",
        )
        .bind(format!("raw-{client}"))
        .bind(round + 1)
        .bind(payload())
        .execute(&pool)
        .await?;
        Ok(1)
    })
    .await?;
    Ok(())
}

/// Workload 2's ceiling: 200-row insert transactions (one statement each).
pub async fn batched_inserts(
    pool: &PgPool,
    args: &BenchArgs,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let label = "2 ceiling: raw 200-row batched inserts";
    figures.raw_batched_rows_per_sec = timed(pool, args, label, |pool, client, round| async move {
        let ids: Vec<String> = (0..200).map(|_| format!("raw-{client}-{round}")).collect();
        let sequences: Vec<i64> = (1..=200).collect();
        let payloads: Vec<_> = (0..200).map(|_| payload()).collect();
        sqlx::query(
            "INSERT INTO bench_raw (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             SELECT 'register', i, s, 'AttendanceRecorded', '1', p, '{\"course_id\": \"BENCH\"}'
               FROM unnest($1::text[], $2::bigint[], $3::json[]) AS t(i, s, p)",
        )
        .bind(&ids)
        .bind(&sequences)
        .bind(&payloads)
        .execute(&pool)
        .await?;
        Ok(200)
    })
    .await?;
    Ok(())
}

/// Advances a timed bar once a second.
pub fn tick(bar: &indicatif::ProgressBar) -> tokio::task::JoinHandle<()> {
    let bar = bar.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            bar.inc(1);
        }
    })
}
