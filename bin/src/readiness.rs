//! `GET /api/ready`: whether a load balancer should send this process requests. It answers
//! 200 while the database answers, and 503 from the moment `serve` is told to stop (SIGTERM,
//! Ctrl-C): `serve` then keeps serving for the drain time, so the balancer sees the 503 and
//! sends new requests elsewhere, and then stops accepting connections and lets the requests
//! in flight finish. Not part of the public API document: it is for the balancer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Whether this process is draining, and whether anyone ever asked.
#[derive(Clone, Default)]
pub struct Readiness(Arc<Flags>);

#[derive(Default)]
struct Flags {
    draining: AtomicBool,
    probed: AtomicBool,
}

impl Readiness {
    /// From now on `/api/ready` answers 503.
    pub fn drain(&self) {
        self.0.draining.store(true, Ordering::SeqCst);
    }

    /// Whether a balancer has asked `/api/ready` (without one, draining waits for nothing).
    pub fn probed(&self) -> bool {
        self.0.probed.load(Ordering::SeqCst)
    }

    /// The route, to merge into the application's router.
    pub fn router(&self, pool: PgPool) -> axum::Router {
        axum::Router::new()
            .route("/api/ready", axum::routing::get(ready))
            .with_state((self.clone(), pool))
    }
}

async fn ready(State((readiness, pool)): State<(Readiness, PgPool)>) -> Response {
    readiness.0.probed.store(true, Ordering::SeqCst);
    if readiness.0.draining.load(Ordering::SeqCst) {
        return answer(StatusCode::SERVICE_UNAVAILABLE, "draining");
    }
    let ping = sqlx::query("SELECT 1").execute(&pool);
    match tokio::time::timeout(Duration::from_secs(1), ping).await {
        Ok(Ok(_)) => answer(StatusCode::OK, "ready"),
        _ => answer(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
    }
}

fn answer(status: StatusCode, what: &str) -> Response {
    (status, Json(json!({ "status": what }))).into_response()
}
