//! `GET /api/health`: whether the database and NATS are reachable. No token needed.

use crate::app::breaker::BreakerState;
pub use crate::app::health::{
    Dependency, Health, ProjectorHealth, RelayLag, check, projector_health, relay_lag,
};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    let health = check(&state).await;
    let code = if health.database.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !crate::auth::caller::is_admin(&state, &headers).await {
        let status = health.status;
        return (code, Json(HealthAnswer::Status(HealthStatus { status }))).into_response();
    }
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
    if let Ok(outbox) = crate::app::warnings::outbox::state(state.pool()).await {
        out.gauge(
            "attendance_notifications_pending",
            "Warning e-mails not yet sent.",
            &[("", "", outbox.pending as f64)],
        );
        out.gauge(
            "attendance_notifications_oldest_pending_seconds",
            "Age of the oldest warning e-mail not yet sent.",
            &[("", "", outbox.oldest_pending_age_secs.unwrap_or(0.0))],
        );
        out.counter(
            "attendance_notifications_sent_total",
            "Warning e-mails sent.",
            &[("", "", outbox.sent as f64)],
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
