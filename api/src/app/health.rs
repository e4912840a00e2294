//! The service's health as `/api/health` and the administrators' health page tell it:
//! whether the database and NATS answer, how far the relay and each projector are behind,
//! and the circuit breakers' states.

use crate::app::breaker::{BreakerSnapshot, BreakerState};
use crate::state::AppState;
use serde::Serialize;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

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

/// How far the relay is behind the event store.
#[derive(Serialize, ToSchema)]
pub struct RelayLag {
    /// The relay's stream.
    pub stream: String,
    /// Events committed but not yet published.
    pub pending: i64,
    /// Age of the oldest unpublished event, in seconds.
    pub oldest_pending_age_secs: Option<f64>,
    /// Events the relay has had acknowledged by JetStream (all time).
    pub published: i64,
    /// Messages the stream holds (null when NATS does not answer).
    pub stream_messages: Option<u64>,
    /// Published events the stream does not hold (`published - stream_messages` when
    /// positive): events lost on the way. `attendance relay --verify --repair` lists and
    /// republishes them. Any makes the status `degraded`.
    pub missing_from_stream: i64,
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
    /// Relay lag (null when unknown, e.g. while the database is down).
    pub relay: Option<RelayLag>,
    /// Circuit breakers.
    pub breakers: Vec<BreakerSnapshot>,
    /// Projectors.
    pub projectors: Vec<ProjectorHealth>,
    /// The early warning's e-mail outbox (null while the database does not answer).
    pub notifications: Option<crate::app::warnings::outbox::OutboxState>,
}

/// The relay's lag, if a relay is configured and the database answers.
pub async fn relay_lag(state: &AppState) -> Option<RelayLag> {
    let stream = state.monitor().relay_checkpoint.clone()?;
    let lag = event_store::outbox::lag(state.pool(), &stream).await.ok()?;
    let stream_messages = match state.nats() {
        Some(client) => projections::consumer::stream_messages(client, &stream).await,
        None => None,
    };
    // The stream may briefly hold more (acked, checkpoint not yet committed), never fewer.
    let missing_from_stream = stream_messages
        .map(|held| (lag.published - held as i64).max(0))
        .unwrap_or(0);
    Some(RelayLag {
        stream,
        pending: lag.pending,
        oldest_pending_age_secs: lag.oldest_age_secs,
        published: lag.published,
        stream_messages,
        missing_from_stream,
    })
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

/// A projector's freshness and lag.
#[derive(Serialize, ToSchema)]
pub struct ProjectorHealth {
    /// Projector name.
    pub name: &'static str,
    /// Highest global position it has applied.
    pub position: i64,
    /// Events in its consumer not yet applied (null while NATS is unreachable).
    pub pending: Option<u64>,
    /// Its consumer reports every event delivered and acknowledged, yet the projector has
    /// not applied the last one published: someone else took its events. Makes the status
    /// `degraded`.
    pub acked_without_applying: bool,
}

/// Every watched projector's freshness and lag.
pub async fn projector_health(state: &AppState) -> Vec<ProjectorHealth> {
    let stream = state.monitor().relay_checkpoint.clone().unwrap_or_default();
    let mut out = Vec::new();
    let published = crate::projector_watch::published(state.pool(), &stream).await;
    for name in &state.monitor().projectors {
        let position = projections::projector::position(state.pool(), name)
            .await
            .unwrap_or(0);
        let pending = match state.nats() {
            Some(client) => projections::consumer::pending(client, &stream, name).await,
            None => None,
        };
        let acked_without_applying =
            crate::projector_watch::acked_but_not_applied(state.pool(), published, pending, name)
                .await;
        out.push(ProjectorHealth {
            name,
            position,
            pending,
            acked_without_applying,
        });
    }
    out
}

/// Checks everything `/api/health` reports: `ok` when the database and NATS answer, every
/// breaker is closed, the stream holds every published event and no projector's events
/// went elsewhere; else `degraded`.
pub async fn check(state: &AppState) -> Health {
    let (database, nats) = tokio::join!(check_database(state), check_nats(state));
    let relay = if database.ok {
        relay_lag(state).await
    } else {
        None
    };
    let projectors = if database.ok {
        projector_health(state).await
    } else {
        Vec::new()
    };
    let notifications = if database.ok {
        crate::app::warnings::outbox::state(state.pool()).await.ok()
    } else {
        None
    };
    let breakers: Vec<_> = state.breakers().iter().map(|b| b.snapshot()).collect();
    let all_closed = breakers.iter().all(|b| b.state == BreakerState::Closed);
    let stream_complete = relay.as_ref().is_none_or(|r| r.missing_from_stream == 0);
    let projected = projectors.iter().all(|p| !p.acked_without_applying);
    let status = if database.ok && nats.ok && all_closed && stream_complete && projected {
        "ok"
    } else {
        "degraded"
    };
    Health {
        status,
        database,
        nats,
        relay,
        breakers,
        projectors,
        notifications,
    }
}
