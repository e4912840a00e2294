//! `GET /admin/health`: what `/api/health` reports, told in words for an administrator:
//! whether the database and the messaging server answer, how far the relay and each
//! projector are behind, and what each circuit breaker is doing. Administrators only.

use crate::error::PageError;
use crate::format::number;
use crate::i18n::Catalogue;
use crate::pages::admin::admin;
use crate::session::SignedIn;
use crate::templates::{Nav, html};
use api::AppState;
use api::app::breaker::{BreakerSnapshot, BreakerState};
use api::app::health::{Dependency, ProjectorHealth, RelayLag, check};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

/// The health page's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/health", get(show))
}

/// One line of the page: what, and how it is, in words; `ok` false draws attention.
pub struct Line {
    /// What is checked.
    pub what: String,
    /// Its state in words.
    pub state: String,
    /// Whether it is as it should be.
    pub ok: bool,
}

#[derive(Template)]
#[template(path = "admin_health.html")]
struct HealthPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    ok: bool,
    /// Services, projectors, breakers: a caption and its lines each.
    sections: Vec<(&'static str, Vec<Line>)>,
}

async fn show(State(state): State<AppState>, page: SignedIn) -> Result<Response, PageError> {
    admin(&page)?;
    let t = page.t;
    let health = check(&state).await;
    let mut services = vec![
        dependency(t, t.health_database, &health.database),
        dependency(t, t.health_nats, &health.nats),
    ];
    services.extend(health.relay.as_ref().map(|lag| relay(t, lag)));
    html(&HealthPage {
        t,
        nav: Nav::of(&page),
        ok: health.status == "ok",
        sections: vec![
            (t.health_services, services),
            (
                t.health_projectors,
                health.projectors.iter().map(|p| projector(t, p)).collect(),
            ),
            (
                t.health_breakers,
                health.breakers.iter().map(|b| breaker(t, b)).collect(),
            ),
        ],
    })
}

fn dependency(t: &'static Catalogue, what: &str, dep: &Dependency) -> Line {
    Line {
        what: what.to_string(),
        state: match dep.latency_ms {
            Some(ms) if dep.ok => t.health_answers.replace("{ms}", &number(t, ms)),
            _ => t.health_not_answering.to_string(),
        },
        ok: dep.ok,
    }
}

fn relay(t: &'static Catalogue, lag: &RelayLag) -> Line {
    let state = if lag.missing_from_stream > 0 {
        t.health_relay_missing
            .replace("{n}", &number(t, lag.missing_from_stream))
    } else if lag.pending == 0 {
        t.health_relay_caught_up.to_string()
    } else {
        let age = lag.oldest_pending_age_secs.unwrap_or(0.0).round() as i64;
        t.health_relay_pending
            .replace("{n}", &number(t, lag.pending))
            .replace("{s}", &number(t, age))
    };
    Line {
        what: t.health_relay.to_string(),
        state,
        ok: lag.missing_from_stream == 0 && lag.oldest_pending_age_secs.unwrap_or(0.0) < 10.0,
    }
}

fn projector(t: &'static Catalogue, p: &ProjectorHealth) -> Line {
    let (state, ok) = match p.pending {
        _ if p.acked_without_applying => (t.health_projector_taken.to_string(), false),
        None => (t.health_projector_unknown.to_string(), false),
        Some(0) => (t.health_projector_caught_up.to_string(), true),
        Some(n) => (
            t.health_projector_behind.replace("{n}", &number(t, n)),
            n < 1000,
        ),
    };
    Line {
        what: p.name.to_string(),
        state,
        ok,
    }
}

fn breaker(t: &'static Catalogue, b: &BreakerSnapshot) -> Line {
    let state = match b.state {
        BreakerState::Closed => t.health_breaker_closed.to_string(),
        BreakerState::HalfOpen => t.health_breaker_half_open.to_string(),
        BreakerState::Open => t
            .health_breaker_open
            .replace("{n}", &number(t, b.consecutive_failures))
            .replace(
                "{s}",
                &number(t, b.retry_after_secs.unwrap_or(0.0).ceil() as i64),
            ),
    };
    Line {
        what: b.name.clone(),
        state,
        ok: b.state == BreakerState::Closed,
    }
}
