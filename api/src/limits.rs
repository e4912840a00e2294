//! Bounds on expensive work, so that a burst of requests can neither exhaust memory nor
//! stall the runtime.
//!
//! A [`Gate`] lets a few jobs run at once and a few more wait; whoever comes past that is
//! answered 503 with `Retry-After` at once, before any of the work is done. Password hashing
//! (argon2id, 19 MiB a hash) has a gate of its own; report rendering, sheet imports and
//! folds of the history (`as_of`) share the heavy gate and run on the blocking pool, off the
//! async workers that answer everything else. Every request has a time limit.

use crate::error::ApiError;
use axum::http::Method;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What a client is told to wait before trying again when a gate is full.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(2);

/// The limits' settings.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    /// Password hashes computed at once.
    pub hash_concurrency: usize,
    /// Logins waiting for a hash slot before the next is refused with 503.
    pub hash_queue: usize,
    /// Heavy jobs (reports, sheet imports, `as_of` folds) run at once.
    pub heavy_concurrency: usize,
    /// Heavy jobs waiting before the next is refused with 503.
    pub heavy_queue: usize,
    /// Longest a queued job waits for its turn before it is refused with 503.
    pub queue_wait: Duration,
    /// Longest any request may take before it is answered 503.
    pub request_timeout: Duration,
    /// Login attempts per minute from one client address (also the burst allowed).
    pub login_per_minute: u32,
    /// The header a trusted reverse proxy puts the client's address in (e.g.
    /// `x-forwarded-for`); unset, the peer address of the connection counts.
    pub trusted_proxy_header: Option<String>,
    /// Wrong check-in codes one student may give in a minute before waiting.
    pub check_in_failures_per_minute: u32,
}

/// The number of cores, at least 1.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            hash_concurrency: cores(),
            hash_queue: 16,
            heavy_concurrency: (cores() / 2).max(1),
            heavy_queue: 8,
            queue_wait: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            login_per_minute: 20,
            trusted_proxy_header: None,
            check_in_failures_per_minute: 5,
        }
    }
}

/// A bounded number of running jobs with a short bounded queue.
#[derive(Debug)]
pub struct Gate {
    what: &'static str,
    permits: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
    capacity: usize,
    wait: Duration,
}

/// A turn at a gate: the job may run while it is held.
#[derive(Debug)]
pub struct Pass {
    _permit: OwnedSemaphorePermit,
    _ticket: Ticket,
}

/// A place counted at the gate (running or waiting), given back when dropped.
#[derive(Debug)]
struct Ticket(Arc<AtomicUsize>);

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Gate {
    /// `running` jobs at once (at least 1), `queue` more waiting at most `wait` each.
    pub fn new(what: &'static str, running: usize, queue: usize, wait: Duration) -> Self {
        let running = running.max(1);
        Gate {
            what,
            permits: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: running + queue,
            wait,
        }
    }

    /// Waits for a turn, or answers 503 at once when the queue is full (or after the wait).
    pub async fn enter(&self) -> Result<Pass, ApiError> {
        let ahead = self.admitted.fetch_add(1, Ordering::AcqRel);
        let ticket = Ticket(self.admitted.clone());
        if ahead >= self.capacity {
            return Err(self.busy());
        }
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| self.busy())?
            .map_err(ApiError::internal)?;
        Ok(Pass {
            _permit: permit,
            _ticket: ticket,
        })
    }

    fn busy(&self) -> ApiError {
        tracing::warn!(what = self.what, "refused: too many at once");
        ApiError::Unavailable {
            detail: format!("too many {} at once; try again shortly", self.what),
            retry_after: RETRY_AFTER,
        }
    }
}

/// Whether a request does heavy work: rendering a report or a sheet, importing scanned
/// sheets, importing a spreadsheet, or folding the history as it stood at `as_of`.
pub fn is_heavy(method: &Method, path: &str, query: Option<&str>) -> bool {
    let as_of = query.is_some_and(|q| q.split('&').any(|p| p.starts_with("as_of=")));
    path.starts_with("/api/reports/") && path != "/api/reports/formats"
        || (*method == Method::POST && path == "/api/sheets")
        || (*method == Method::POST && path.starts_with("/api/imports/"))
        || path.ends_with("/sheet.pdf")
        || as_of
}

/// The gates and the login rate of one server.
#[derive(Debug)]
pub struct Limits {
    /// The settings.
    pub config: LimitConfig,
    /// Password hashing.
    pub hashing: Gate,
    /// Reports, sheet imports and folds.
    pub heavy: Gate,
    /// Logins per client address.
    pub logins: crate::auth::rate::RateLimiter,
    /// Wrong check-in codes per student.
    pub check_ins: crate::app::check_in::attempts::Attempts,
}

impl Limits {
    /// Gates sized by the settings.
    pub fn new(config: LimitConfig) -> Self {
        Limits {
            hashing: Gate::new(
                "logins",
                config.hash_concurrency,
                config.hash_queue,
                config.queue_wait,
            ),
            heavy: Gate::new(
                "reports, imports and history folds",
                config.heavy_concurrency,
                config.heavy_queue,
                config.queue_wait,
            ),
            logins: crate::auth::rate::RateLimiter::per_minute(config.login_per_minute),
            check_ins: crate::app::check_in::attempts::Attempts::per_minute(
                config.check_in_failures_per_minute,
            ),
            config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_gate_refuses_at_once_and_admits_the_queue_when_a_turn_ends() {
        let gate = Arc::new(Gate::new("tests", 1, 1, Duration::from_secs(60)));
        let running = gate.enter().await.unwrap();
        let queued = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.map(|_| ()) }
        });
        while gate.admitted.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            gate.enter().await,
            Err(ApiError::Unavailable { .. })
        ));
        drop(running);
        assert!(queued.await.unwrap().is_ok());
        assert_eq!(gate.admitted.load(Ordering::Acquire), 0);
    }

    #[test]
    fn reports_imports_sheets_and_as_of_reads_are_heavy() {
        let get = Method::GET;
        assert!(is_heavy(&get, "/api/reports/course/CS101", None));
        assert!(!is_heavy(&get, "/api/reports/formats", None));
        assert!(is_heavy(&Method::POST, "/api/sheets", None));
        assert!(!is_heavy(&get, "/api/sheets", None));
        assert!(is_heavy(&get, "/api/sessions/x/sheet.pdf", None));
        let as_of = Some("as_of=2026-09-07T10:00:00Z");
        assert!(is_heavy(&get, "/api/courses/CS101/statistics", as_of));
        assert!(!is_heavy(
            &get,
            "/api/courses/CS101/statistics",
            Some("x=1")
        ));
    }
}
