//! A circuit breaker (closed, open, half-open) for calls to a dependency that may be down:
//! the relay's publishes to NATS and the sheet import's writes to the register.
//!
//! Closed: calls pass; `failure_threshold` consecutive failures open it. Open: calls fail
//! fast until `open_for` has passed, then it is half-open. Half-open: one trial call at a
//! time passes; `success_threshold` successes close it, a failure opens it again.
//! Time comes from `tokio::time::Instant`, so tests drive it with a paused clock.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use utoipa::ToSchema;

/// Thresholds and timings (seed defaults: 3 failures, 15 s, 2 successes).
#[derive(Debug, Clone, Copy)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open before letting a trial through.
    pub open_for: Duration,
    /// Successful trials that close it again.
    pub success_threshold: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(15),
            success_threshold: 2,
        }
    }
}

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls pass.
    Closed,
    /// Calls fail fast.
    Open,
    /// Trial calls pass one at a time.
    HalfOpen,
}

/// What the breaker looks like now, for `/api/health` and metrics.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BreakerSnapshot {
    /// The breaker's name.
    pub name: String,
    /// Current state.
    pub state: BreakerState,
    /// Failures in a row so far.
    pub consecutive_failures: u32,
    /// Seconds until a trial is let through, while open.
    pub retry_after_secs: Option<f64>,
    /// Calls that succeeded.
    pub successes: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Calls refused without trying.
    pub rejected: u64,
    /// Times the breaker opened.
    pub opened: u64,
}

/// A refused call: the breaker is open (or a trial is already running).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("circuit open; retry in {retry_after:?}")]
pub struct Rejected {
    /// When a call may be tried again.
    pub retry_after: Duration,
}

/// Why a guarded call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError<E> {
    /// Not tried: the breaker is open.
    #[error(transparent)]
    Rejected(Rejected),
    /// Tried, and the dependency failed.
    #[error("{0}")]
    Failed(E),
}

/// Leave to make one call, from [`CircuitBreaker::try_acquire`]. Its outcome is recorded
/// exactly once: by the method that consumes it, or as a failure when it is dropped.
#[must_use = "a permit dropped without an outcome counts as a failure"]
#[derive(Debug)]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    open: bool,
}

impl Permit<'_> {
    /// The call succeeded.
    pub fn succeeded(mut self) {
        self.open = false;
        self.breaker.record_success();
    }

    /// The call failed.
    pub fn failed(mut self) {
        self.open = false;
        self.breaker.record_failure();
    }

    /// Nothing was tried after all (no work to do): no outcome, and a half-open breaker
    /// lets the next trial through.
    pub fn unused(mut self) {
        self.open = false;
        self.breaker.release();
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.open {
            self.breaker.record_failure();
        }
    }
}

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    consecutive_failures: u32,
    half_open_successes: u32,
    opened_at: Instant,
    trial_running: bool,
    successes: u64,
    failures: u64,
    rejected: u64,
    opened: u64,
}

/// The circuit breaker; share it behind an `Arc`.
#[derive(Debug)]
pub struct CircuitBreaker {
    name: String,
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(name: impl Into<String>, config: BreakerConfig) -> Self {
        let inner = Inner {
            state: BreakerState::Closed,
            consecutive_failures: 0,
            half_open_successes: 0,
            opened_at: Instant::now(),
            trial_running: false,
            successes: 0,
            failures: 0,
            rejected: 0,
            opened: 0,
        };
        CircuitBreaker {
            name: name.into(),
            config,
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the counters inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Asks to make a call. The permit records the outcome: [`Permit::succeeded`],
    /// [`Permit::failed`], or [`Permit::unused`] when nothing was tried after all. A permit
    /// dropped without an outcome (an early `?`, a panic, a cancelled future) counts as a
    /// failure, so a half-open trial can never stay marked as running.
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        let mut inner = self.lock();
        let now = Instant::now();
        if inner.state == BreakerState::Open {
            let reopen = inner.opened_at + self.config.open_for;
            if now < reopen {
                inner.rejected += 1;
                return Err(Rejected {
                    retry_after: reopen - now,
                });
            }
            inner.state = BreakerState::HalfOpen;
            inner.half_open_successes = 0;
            inner.trial_running = false;
            tracing::info!(breaker = %self.name, "circuit half-open: letting a trial through");
        }
        if inner.state == BreakerState::HalfOpen {
            if inner.trial_running {
                inner.rejected += 1;
                return Err(Rejected {
                    retry_after: Duration::from_secs(1),
                });
            }
            inner.trial_running = true;
        }
        Ok(Permit {
            breaker: self,
            open: true,
        })
    }

    fn record_success(&self) {
        let mut inner = self.lock();
        inner.successes += 1;
        inner.consecutive_failures = 0;
        if inner.state == BreakerState::HalfOpen {
            inner.trial_running = false;
            inner.half_open_successes += 1;
            if inner.half_open_successes >= self.config.success_threshold {
                inner.state = BreakerState::Closed;
                tracing::info!(breaker = %self.name, "circuit closed");
            }
        }
    }

    fn record_failure(&self) {
        let mut inner = self.lock();
        inner.failures += 1;
        inner.consecutive_failures += 1;
        let trip = match inner.state {
            BreakerState::HalfOpen => true,
            BreakerState::Closed => inner.consecutive_failures >= self.config.failure_threshold,
            BreakerState::Open => false,
        };
        if trip {
            inner.state = BreakerState::Open;
            inner.opened_at = Instant::now();
            inner.trial_running = false;
            inner.opened += 1;
            tracing::warn!(breaker = %self.name, failures = inner.consecutive_failures, "circuit open");
        }
    }

    fn release(&self) {
        self.lock().trial_running = false;
    }

    /// Runs `call` if the breaker allows it, and records its outcome.
    pub async fn call<T, E, F>(&self, call: F) -> Result<T, CallError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        let permit = self.try_acquire().map_err(CallError::Rejected)?;
        match call.await {
            Ok(value) => {
                permit.succeeded();
                Ok(value)
            }
            Err(error) => {
                permit.failed();
                Err(CallError::Failed(error))
            }
        }
    }

    /// The current state (an open breaker whose wait is over reports half-open).
    pub fn state(&self) -> BreakerState {
        self.snapshot().state
    }

    /// State and counters.
    pub fn snapshot(&self) -> BreakerSnapshot {
        let inner = self.lock();
        let now = Instant::now();
        let reopen = inner.opened_at + self.config.open_for;
        let (state, retry_after_secs) = match inner.state {
            BreakerState::Open if now >= reopen => (BreakerState::HalfOpen, None),
            BreakerState::Open => (BreakerState::Open, Some((reopen - now).as_secs_f64())),
            other => (other, None),
        };
        BreakerSnapshot {
            name: self.name.clone(),
            state,
            consecutive_failures: inner.consecutive_failures,
            retry_after_secs,
            successes: inner.successes,
            failures: inner.failures,
            rejected: inner.rejected,
            opened: inner.opened,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new("test", BreakerConfig::default())
    }

    async fn fail(b: &CircuitBreaker) -> Result<(), CallError<&'static str>> {
        b.call(async { Err::<(), _>("down") }).await
    }

    async fn succeed(b: &CircuitBreaker) -> Result<(), CallError<&'static str>> {
        b.call(async { Ok::<(), &str>(()) }).await
    }

    #[tokio::test(start_paused = true)]
    async fn three_consecutive_failures_open_it() {
        let b = breaker();
        fail(&b).await.unwrap_err();
        fail(&b).await.unwrap_err();
        assert_eq!(b.state(), BreakerState::Closed);
        fail(&b).await.unwrap_err();
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_resets_the_failure_count() {
        let b = breaker();
        fail(&b).await.unwrap_err();
        fail(&b).await.unwrap_err();
        succeed(&b).await.unwrap();
        fail(&b).await.unwrap_err();
        fail(&b).await.unwrap_err();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn while_open_calls_fail_fast_without_running() {
        let b = breaker();
        for _ in 0..3 {
            fail(&b).await.unwrap_err();
        }
        let mut ran = false;
        let result = b
            .call(async {
                ran = true;
                Ok::<(), &str>(())
            })
            .await;
        assert!(
            matches!(result, Err(CallError::Rejected(r)) if r.retry_after == Duration::from_secs(15))
        );
        assert!(!ran);
        assert_eq!(b.snapshot().rejected, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn after_fifteen_seconds_one_trial_is_let_through() {
        let b = breaker();
        for _ in 0..3 {
            fail(&b).await.unwrap_err();
        }
        tokio::time::advance(Duration::from_millis(14_999)).await;
        assert_eq!(
            b.try_acquire().unwrap_err().retry_after,
            Duration::from_millis(1)
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let trial = b.try_acquire().unwrap();
        assert!(b.try_acquire().is_err(), "only one trial at a time");
        drop(trial);
    }

    #[tokio::test(start_paused = true)]
    async fn two_successes_in_half_open_close_it() {
        let b = breaker();
        for _ in 0..3 {
            fail(&b).await.unwrap_err();
        }
        tokio::time::advance(Duration::from_secs(15)).await;
        succeed(&b).await.unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        succeed(&b).await.unwrap();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_in_half_open_reopens_it_for_another_fifteen_seconds() {
        let b = breaker();
        for _ in 0..3 {
            fail(&b).await.unwrap_err();
        }
        tokio::time::advance(Duration::from_secs(15)).await;
        succeed(&b).await.unwrap();
        fail(&b).await.unwrap_err();
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(14)).await;
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.snapshot().opened, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn thresholds_are_configurable() {
        let config = BreakerConfig {
            failure_threshold: 1,
            open_for: Duration::from_secs(2),
            success_threshold: 1,
        };
        let b = CircuitBreaker::new("custom", config);
        fail(&b).await.unwrap_err();
        assert_eq!(b.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(2)).await;
        succeed(&b).await.unwrap();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_trial_abandoned_without_an_outcome_counts_as_a_failure_and_the_next_is_let_through()
    {
        let b = breaker();
        for _ in 0..3 {
            fail(&b).await.unwrap_err();
        }
        tokio::time::advance(Duration::from_secs(15)).await;
        {
            // An early `?` between acquiring and recording: the permit is dropped.
            let _trial = b.try_acquire().unwrap();
        }
        assert_eq!(b.state(), BreakerState::Open, "the abandoned trial failed");
        tokio::time::advance(Duration::from_secs(15)).await;
        b.try_acquire().unwrap().succeeded();
        b.try_acquire().unwrap().succeeded();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unused_permit_records_nothing_and_frees_the_trial() {
        let b = breaker();
        for _ in 0..3 {
            fail(&b).await.unwrap_err();
        }
        tokio::time::advance(Duration::from_secs(15)).await;
        b.try_acquire().unwrap().unused();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.try_acquire().unwrap().succeeded();
        assert_eq!(b.snapshot().failures, 3);
        assert_eq!(b.snapshot().successes, 1);
    }
}
