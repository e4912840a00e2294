//! The `serve` command around the application: the embedded Postgres and NATS when needed,
//! a check of the connection budget, and the drain on a stop signal.

use crate::config::ServeConfig;
use crate::readiness::Readiness;
use crate::startup::{Application, shutdown_signal};
use sqlx::PgPool;
use std::time::Duration;

/// Connections a `serve` process holds besides its pool: the group-commit writer's workers
/// and the listener for account changes.
pub const CONNECTIONS_BESIDES_THE_POOL: u32 = 4;

/// `attendance serve`: starts the embedded Postgres and NATS when needed (see
/// [`crate::embedded`]), builds and runs the application until Ctrl-C or SIGTERM, then stops
/// the embedded servers, last.
pub async fn run(
    mut config: ServeConfig,
    embedded: &crate::embedded::EmbeddedArgs,
    drain: Duration,
) -> anyhow::Result<()> {
    let servers = crate::embedded::start_if_needed(embedded, &mut config.connections).await?;
    let served = match Application::build(&config).await {
        Ok(app) => {
            let pool_size = config.connections.database_max_connections;
            check_connection_budget(app.pool(), pool_size).await;
            let readiness = app.readiness();
            app.run_until(drained(readiness, drain)).await
        }
        Err(error) => Err(error),
    };
    if let Some(servers) = servers {
        tokio::task::spawn_blocking(move || servers.stop()).await?;
    }
    served
}

/// Completes `drain` after a stop signal, with `/api/ready` answering 503 meanwhile, so a
/// load balancer that watches it sends no new requests here before the listener closes; at
/// once when no balancer ever asked.
async fn drained(readiness: Readiness, drain: Duration) {
    shutdown_signal().await;
    readiness.drain();
    if readiness.probed() && !drain.is_zero() {
        tracing::info!(
            secs = drain.as_secs_f64(),
            "draining: /api/ready answers 503, requests are still served"
        );
        tokio::time::sleep(drain).await;
    }
}

/// Logs what this process may take of Postgres' `max_connections`, and warns when that does
/// not fit in what is left (several `serve` processes share one Postgres: see the README).
async fn check_connection_budget(pool: &PgPool, pool_size: u32) {
    let row: Result<(i32, i32, i64), _> = sqlx::query_as(
        "SELECT current_setting('max_connections')::int,
                current_setting('superuser_reserved_connections')::int,
                (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')",
    )
    .fetch_one(pool)
    .await;
    let Ok((max, reserved, in_use)) = row else {
        return;
    };
    let ours = i64::from(pool_size + CONNECTIONS_BESIDES_THE_POOL);
    let open_here = i64::from(pool.size());
    let available = i64::from(max - reserved);
    if in_use - open_here + ours > available {
        tracing::warn!(
            ours,
            in_use,
            max_connections = max,
            reserved,
            "this process may open more connections than Postgres has left: lower DATABASE_MAX_CONNECTIONS or raise max_connections"
        );
    } else {
        tracing::info!(ours, in_use, max_connections = max, "connection budget");
    }
}
