//! The outbox relay: moves committed events from the Postgres event table to one JetStream
//! stream, in commit order, exactly once as seen by subscribers.
//!
//! Each step locks the relay's checkpoint row (one leader per stream; others wait), reads
//! the next committed events after it in position order, which is commit order (see
//! [`event_store::outbox`]: no transaction elsewhere on the cluster can hold it back),
//! publishes them with `Nats-Msg-Id` =
//! `<aggregate_type>:<aggregate_id>:<sequence>`, awaits every ack (in windows), and only
//! then moves the checkpoint, in the same transaction as the lock. A crash between publish
//! and checkpoint republishes the batch, and JetStream drops the duplicates by id.
//! Publishing goes through a circuit breaker: while NATS is down the relay backs off.

use anyhow::Context as _;
use api::app::breaker::{BreakerConfig, CircuitBreaker};
use async_nats::jetstream::{self, message::PublishMessage, stream};
use event_store::envelope::{CloudEvent, Subjects, message_id};
use event_store::outbox::{self, Checkpoint, RelayMark, StoredEvent};
use futures::future::join_all;
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// Acks awaited at once (async-nats allows about 5,000 in flight).
const ACK_WINDOW: usize = 2000;
/// How long to wait for one ack.
const ACK_TIMEOUT: Duration = Duration::from_secs(3);
/// How long JetStream remembers message ids for de-duplication.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Pause between polls when there is nothing to publish.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// Where and how the relay publishes.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Subject prefix (`attendance` by default).
    pub subject_prefix: String,
    /// Stream name; also names the relay's checkpoint.
    pub stream: String,
    /// Replicas of the stream.
    pub replicas: usize,
    /// Events per step.
    pub batch: i64,
    /// The publish breaker's thresholds.
    pub breaker: BreakerConfig,
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Published this many events (duplicates: already in the stream).
    Published {
        /// Events acknowledged.
        count: usize,
        /// Of those, ones JetStream had already.
        duplicates: usize,
    },
    /// Nothing to publish.
    Idle,
    /// Another relay holds the checkpoint.
    Follower,
    /// NATS is unavailable (breaker open or publish failed); try again after this long.
    Unavailable(Duration),
}

/// Counters since start.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct RelayStats {
    /// Events acknowledged by JetStream.
    pub published: u64,
    /// Of those, ones JetStream reported as duplicates.
    pub duplicates: u64,
}

/// The relay.
pub struct Relay {
    pool: PgPool,
    js: jetstream::Context,
    subjects: Subjects,
    config: RelayConfig,
    breaker: Arc<CircuitBreaker>,
    stream_ready: AtomicBool,
    published: AtomicU64,
    duplicates: AtomicU64,
}

struct Outcome {
    acked: usize,
    duplicates: usize,
    error: Option<anyhow::Error>,
}

impl Relay {
    /// A relay over a pool and a NATS connection.
    pub fn new(pool: PgPool, client: async_nats::Client, config: RelayConfig) -> Relay {
        let mut js = jetstream::new(client);
        js.set_timeout(ACK_TIMEOUT);
        let breaker = Arc::new(CircuitBreaker::new("nats-publish", config.breaker));
        Relay {
            pool,
            js,
            subjects: Subjects::new(config.subject_prefix.clone()),
            config,
            breaker,
            stream_ready: AtomicBool::new(false),
            published: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
        }
    }

    /// The publish breaker (shown in `/api/health`).
    pub fn breaker(&self) -> Arc<CircuitBreaker> {
        self.breaker.clone()
    }

    /// Counters since start.
    pub fn stats(&self) -> RelayStats {
        RelayStats {
            published: self.published.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
        }
    }

    /// Creates the stream if it does not exist (file storage, the prefix's `v1` subjects, the
    /// configured replicas), and updates an existing one in place whose replica count differs.
    pub async fn ensure_stream(&self) -> anyhow::Result<()> {
        let config = stream::Config {
            name: self.config.stream.clone(),
            subjects: vec![self.subjects.all()],
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: self.config.replicas,
            ..Default::default()
        };
        let mut stream = self
            .js
            .get_or_create_stream(config)
            .await
            .context("creating the JetStream stream")?;
        let existing = stream.info().await?.config.clone();
        if existing.num_replicas != self.config.replicas {
            let from = existing.num_replicas;
            let updated = stream::Config {
                num_replicas: self.config.replicas,
                ..existing
            };
            self.js
                .update_stream(updated)
                .await
                .context("changing the stream's replicas")?;
            tracing::info!(stream = %self.config.stream, from, to = self.config.replicas, "relay: stream replicas changed");
        }
        outbox::ensure_checkpoint(&self.pool, &self.config.stream).await?;
        self.stream_ready.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Publishes the next batch, if this relay leads and NATS is reachable.
    pub async fn step(&self) -> anyhow::Result<Step> {
        if !self.stream_ready.load(Ordering::Relaxed) {
            let permit = match self.breaker.try_acquire() {
                Ok(permit) => permit,
                Err(rejected) => return Ok(Step::Unavailable(rejected.retry_after)),
            };
            if let Err(error) = self.ensure_stream().await {
                permit.failed();
                tracing::warn!(error = %format!("{error:#}"), "relay: stream not ready");
                return Ok(Step::Unavailable(Duration::from_secs(1)));
            }
            permit.succeeded();
        }
        let mut tx = self.pool.begin().await?;
        let Some(mark) = outbox::lock_relay(&mut tx, &self.config.stream).await? else {
            return Ok(Step::Follower);
        };
        // The leader asks the breaker before reading a batch, so an outage of NATS does not
        // cost Postgres a batch read per retry. The permit records a failure if anything
        // below returns early before the publish's outcome is known (a database error, a
        // cancelled step): a half-open trial never stays marked as running.
        let permit = match self.breaker.try_acquire() {
            Ok(permit) => permit,
            Err(rejected) => return Ok(Step::Unavailable(rejected.retry_after)),
        };
        let (checkpoint, events) = self.next_batch(&mut tx, mark).await?;
        if events.is_empty() {
            permit.unused();
            tx.commit().await?;
            return Ok(Step::Idle);
        }
        let outcome = self.publish(&events).await;
        // The breaker guards the publish alone, so its outcome is recorded before the
        // checkpoint is written.
        match &outcome.error {
            None => permit.succeeded(),
            Some(_) => permit.failed(),
        }
        if outcome.acked > 0 {
            outbox::save_checkpoint(
                &mut tx,
                &self.config.stream,
                checkpoint,
                events[outcome.acked - 1].checkpoint(),
            )
            .await?;
            tx.commit().await?;
            self.published
                .fetch_add(outcome.acked as u64, Ordering::Relaxed);
            self.duplicates
                .fetch_add(outcome.duplicates as u64, Ordering::Relaxed);
        }
        match outcome.error {
            None => Ok(Step::Published {
                count: outcome.acked,
                duplicates: outcome.duplicates,
            }),
            Some(error) => {
                tracing::warn!(error = %format!("{error:#}"), acked = outcome.acked, "relay: publish failed");
                Ok(Step::Unavailable(Duration::from_millis(500)))
            }
        }
    }

    /// The events after the relay's mark; a mark from before position order first finishes
    /// the older events in their `(tx_id, global_position)` order, then switches.
    async fn next_batch(
        &self,
        conn: &mut sqlx::PgConnection,
        mark: RelayMark,
    ) -> anyhow::Result<(Checkpoint, Vec<StoredEvent>)> {
        let batch = self.config.batch;
        let Some(until) = mark.commit_order_until else {
            return Ok((mark.at, outbox::events_after(conn, mark.at, batch).await?));
        };
        let older = outbox::events_in_commit_order(conn, mark.at, until, batch).await?;
        if !older.is_empty() {
            return Ok((mark.at, older));
        }
        let from = outbox::switch_to_position_order(conn, &self.config.stream, until).await?;
        tracing::info!(stream = %self.config.stream, position = until, "relay: events before position order published; reading in position order from here");
        Ok((from, outbox::events_after(conn, from, batch).await?))
    }

    /// Publishes events in order, awaiting acks in windows; reports how many from the
    /// start were acknowledged before the first failure.
    pub async fn publish_only(&self, events: &[StoredEvent]) -> anyhow::Result<usize> {
        let outcome = self.publish(events).await;
        match outcome.error {
            None => Ok(outcome.acked),
            Some(error) => Err(error),
        }
    }

    async fn publish(&self, events: &[StoredEvent]) -> Outcome {
        let mut outcome = Outcome {
            acked: 0,
            duplicates: 0,
            error: None,
        };
        let source = format!("/attendance/{}", self.subjects.prefix());
        for window in events.chunks(ACK_WINDOW) {
            let mut pending = Vec::with_capacity(window.len());
            for event in window {
                let body = match serde_json::to_vec(&CloudEvent::from_stored(event, &source)) {
                    Ok(body) => body,
                    Err(e) => {
                        outcome.error = Some(e.into());
                        break;
                    }
                };
                let message = PublishMessage::build()
                    .payload(body.into())
                    .message_id(message_id(event))
                    .header("Content-Type", "application/cloudevents+json");
                match self.js.send_publish(self.subjects.of(event), message).await {
                    Ok(ack) => pending.push(ack.into_future()),
                    Err(e) => {
                        outcome.error = Some(e.into());
                        break;
                    }
                }
            }
            for ack in join_all(pending).await {
                match ack {
                    Ok(ack) if outcome.error.is_none() => {
                        outcome.acked += 1;
                        outcome.duplicates += usize::from(ack.duplicate);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        outcome.error.get_or_insert(e.into());
                    }
                }
            }
            if outcome.error.is_some() {
                break;
            }
        }
        outcome
    }

    /// Runs steps until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(stream = %self.config.stream, subjects = %self.subjects.all(), "relay started");
        while !*shutdown.borrow() {
            let pause = match self.step().await {
                Ok(Step::Published { .. }) => Duration::ZERO,
                Ok(Step::Idle) => IDLE_POLL,
                Ok(Step::Follower) => Duration::from_secs(1),
                Ok(Step::Unavailable(after)) => after.min(Duration::from_secs(15)),
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "relay: database error");
                    Duration::from_secs(1)
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(published = self.stats().published, "relay stopped");
    }
}
