//! `GET /api/health`: whether the database and NATS are reachable. No token needed.

use crate::app::breaker::{BreakerSnapshot, BreakerState};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::response::Response;
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

/// Reports database and NATS reachability, relay lag, breakers and projector lag: 200 when
/// the database answers, else 503.
#[utoipa::path(
    get, path = "/api/health", operation_id = "get_health", tag = "health",
    responses(
        (status = 200, description = "The database answers: `ok`, or `degraded` when something else is down. The details only for administrators (bearer token); anyone else gets the status alone.", body = HealthAnswer),
        (status = 503, description = "The database is down (details for administrators).", body = HealthAnswer)
    )
)]
async fn health(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (database, nats) = tokio::join!(check_database(&state), check_nats(&state));
    let relay = if database.ok {
        relay_lag(&state).await
    } else {
        None
    };
    let projectors = if database.ok {
        projector_health(&state).await
    } else {
        Vec::new()
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
    let code = if database.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !crate::auth::caller::is_admin(&state, &headers).await {
        return (code, Json(HealthAnswer::Status(HealthStatus { status }))).into_response();
    }
    let health = Health {
        status,
        database,
        nats,
        relay,
        breakers,
        projectors,
    };
    (code, Json(HealthAnswer::Details(Box::new(health)))).into_response()
}

/// What `/api/health` tells anyone but an administrator.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthStatus {
    /// `ok` or `degraded`.
    pub status: &'static str,
}

/// The health answer: the details for administrators, the status alone for anyone else.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum HealthAnswer {
    /// For administrators.
    Details(Box<Health>),
    /// For anyone else.
    Status(HealthStatus),
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

/// Prometheus text-format metrics (admin only): relay lag, breaker states, event count, and
/// the event writer's commands and statements.
#[utoipa::path(
    get, path = "/api/metrics", operation_id = "get_metrics", tag = "health",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Metrics in the Prometheus text format.", content_type = "text/plain"),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn metrics(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<impl IntoResponse, ApiError> {
    user.require_admin()?;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(state.pool())
        .await?;
    let mut out = Exposition::default();
    out.gauge(
        "attendance_events_stored",
        "Events in the event store.",
        &[("", "", events as f64)],
    );
    if let Some(lag) = relay_lag(&state).await {
        let help = "Events committed but not yet published to NATS.";
        out.gauge(
            "attendance_relay_pending_events",
            help,
            &[("", "", lag.pending as f64)],
        );
        let age = lag.oldest_pending_age_secs.unwrap_or(0.0);
        out.gauge(
            "attendance_relay_oldest_pending_seconds",
            "Age of the oldest unpublished event.",
            &[("", "", age)],
        );
    }
    let projectors = projector_health(&state).await;
    let positions: Vec<_> = projectors
        .iter()
        .map(|p| ("projector", p.name, p.position as f64))
        .collect();
    out.gauge(
        "attendance_projector_position",
        "Highest global position the projector has applied.",
        &positions,
    );
    let pending: Vec<_> = projectors
        .iter()
        .filter_map(|p| p.pending.map(|n| ("projector", p.name, n as f64)))
        .collect();
    out.gauge(
        "attendance_projector_pending_events",
        "Events in the projector's consumer not yet applied.",
        &pending,
    );
    let writer = state.stores().writer.stats();
    out.counter(
        "attendance_event_writer_commands_total",
        "Commands the event writer answered with a successful statement.",
        &[("", "", writer.commands as f64)],
    );
    out.counter(
        "attendance_event_writer_statements_total",
        "Statements the event writer ran (fewer than commands when commits are shared).",
        &[("", "", writer.statements as f64)],
    );
    let breakers: Vec<_> = state.breakers().iter().map(|b| b.snapshot()).collect();
    let states: Vec<_> = breakers
        .iter()
        .map(|b| {
            let value = match b.state {
                BreakerState::Closed => 0.0,
                BreakerState::HalfOpen => 1.0,
                BreakerState::Open => 2.0,
            };
            ("breaker", b.name.as_str(), value)
        })
        .collect();
    out.gauge(
        "attendance_breaker_state",
        "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
        &states,
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out.0))
}

/// Prometheus text exposition: one HELP and TYPE per metric, then its samples.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    /// A gauge with samples `(label name, label value, value)`; an empty label name means none.
    fn gauge(&mut self, name: &str, help: &str, samples: &[(&str, &str, f64)]) {
        self.metric("gauge", name, help, samples);
    }

    /// A counter, as [`Exposition::gauge`].
    fn counter(&mut self, name: &str, help: &str, samples: &[(&str, &str, f64)]) {
        self.metric("counter", name, help, samples);
    }

    fn metric(&mut self, kind: &str, name: &str, help: &str, samples: &[(&str, &str, f64)]) {
        if samples.is_empty() {
            return;
        }
        self.0
            .push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (label, value_of_label, value) in samples {
            if label.is_empty() {
                self.0.push_str(&format!("{name} {value}\n"));
            } else {
                self.0
                    .push_str(&format!("{name}{{{label}=\"{value_of_label}\"}} {value}\n"));
            }
        }
    }
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(metrics))
}
