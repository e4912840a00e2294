//! How fresh a read model answer is, and waiting for one's own write to be reflected.
//!
//! Commands answer the global `position` of their last event. A query with
//! `min_position=P` waits (up to `wait_ms`, default 3 s) until the projector behind it has
//! applied the event at P; every answer says which position its projector reflects. A
//! position beyond the newest stored event is answered at once, never as caught up.

use crate::app::error::AppError;
use crate::state::AppState;
use serde::Serialize;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

const DEFAULT_WAIT: Duration = Duration::from_secs(3);
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The freshness of an answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Freshness {
    /// The read model's projector.
    pub projector: &'static str,
    /// The highest global position it has applied.
    pub position: i64,
    /// Whether the requested `min_position` is reflected (true without one).
    pub caught_up: bool,
}

/// Waits until `projector` reflects `min_position` (if given), then reports freshness.
pub async fn wait_for(
    state: &AppState,
    projector: &'static str,
    min_position: Option<i64>,
    wait_ms: Option<u64>,
) -> Result<Freshness, AppError> {
    let wait = wait_ms
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_WAIT)
        .min(MAX_WAIT);
    let started = Instant::now();
    let mut caught_up = true;
    if let Some(target) = min_position.filter(|p| *p > 0) {
        // A position no command has answered yet is not caught up, and waiting would only
        // hold the request (up to 30 s) for nothing.
        if projections::projector::is_beyond_newest(state.pool(), target).await? {
            let position = projections::projector::position(state.pool(), projector).await?;
            return Ok(Freshness {
                projector,
                position,
                caught_up: false,
            });
        }
        loop {
            caught_up =
                projections::projector::has_applied(state.pool(), projector, target).await?;
            if caught_up || started.elapsed() >= wait {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let position = projections::projector::position(state.pool(), projector).await?;
    Ok(Freshness {
        projector,
        position,
        caught_up,
    })
}
