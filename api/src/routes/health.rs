//! `GET /api/health`: whether the database and NATS are reachable. No token needed.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// One dependency's state.
#[derive(Serialize, ToSchema)]
pub struct Dependency {
    /// Whether it answered.
    pub ok: bool,
    /// How long it took to answer, in milliseconds.
    pub latency_ms: Option<u64>,
    /// Why it is not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The service's health.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` when every dependency answers, else `degraded`.
    pub status: &'static str,
    /// Postgres.
    pub database: Dependency,
    /// NATS.
    pub nats: Dependency,
}

async fn check_database(state: &AppState) -> Dependency {
    let started = Instant::now();
    let probe = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(state.pool());
    match tokio::time::timeout(Duration::from_secs(2), probe).await {
        Ok(Ok(_)) => Dependency {
            ok: true,
            latency_ms: Some(started.elapsed().as_millis() as u64),
            error: None,
        },
        Ok(Err(_)) => Dependency {
            ok: false,
            latency_ms: None,
            error: Some("query failed".into()),
        },
        Err(_) => Dependency {
            ok: false,
            latency_ms: None,
            error: Some("timed out".into()),
        },
    }
}

async fn check_nats(state: &AppState) -> Dependency {
    let Some(client) = state.nats() else {
        return Dependency {
            ok: false,
            latency_ms: None,
            error: Some("not configured".into()),
        };
    };
    let started = Instant::now();
    match tokio::time::timeout(Duration::from_secs(2), client.flush()).await {
        Ok(Ok(())) => Dependency {
            ok: true,
            latency_ms: Some(started.elapsed().as_millis() as u64),
            error: None,
        },
        Ok(Err(_)) => Dependency {
            ok: false,
            latency_ms: None,
            error: Some("not connected".into()),
        },
        Err(_) => Dependency {
            ok: false,
            latency_ms: None,
            error: Some("timed out".into()),
        },
    }
}

/// Reports database and NATS reachability: 200 when the database answers, else 503.
#[utoipa::path(get, path = "/api/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let (database, nats) = tokio::join!(check_database(&state), check_nats(&state));
    let status = if database.ok && nats.ok {
        "ok"
    } else {
        "degraded"
    };
    let code = if database.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Health {
            status,
            database,
            nats,
        }),
    )
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}
