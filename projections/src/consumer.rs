//! Runs a projection from its own JetStream durable consumer: fetch a batch, apply it in one
//! transaction with the checkpoints, then ack (skipped and applied events) or nak with a
//! delay (gaps, failures). Redelivery is harmless; a crash loses nothing.

use crate::event::ProjectedEvent;
use crate::projector::{CACHE_BYTES, Decision, DocCache, Projection, apply_batch};
use async_nats::jetstream::{self, AckKind, consumer::pull};
use event_store::envelope::{CloudEvent, Subjects};
use futures::StreamExt;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;

/// Messages per batch.
const BATCH: usize = 500;
/// Pause after a fetch that found nothing, so an idle projector does not spin.
const IDLE: Duration = Duration::from_millis(20);
/// Pause after a partial batch: under load the next one gathers more events, so there are
/// fewer, larger transactions (and document rewrites) for a few milliseconds of lag.
const GATHER: Duration = Duration::from_millis(15);
/// How long a delivered, unacked message waits before redelivery.
const ACK_WAIT: Duration = Duration::from_secs(10);

/// Where a projector reads from.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The stream.
    pub stream: String,
    /// The subject prefix.
    pub subject_prefix: String,
}

/// The durable consumer name of a projection.
pub fn consumer_name<P: Projection>() -> String {
    format!("projector-{}", P::NAME)
}

async fn consumer<P: Projection>(
    js: &jetstream::Context,
    config: &ConsumerConfig,
) -> Result<jetstream::consumer::PullConsumer, String> {
    durable(js, config, &consumer_name::<P>(), ACK_WAIT, 10_000).await
}

/// A durable pull consumer of every event of the stream, with explicit acks: the projectors'
/// and any other process that takes each event once (the early warning's process manager).
pub async fn durable(
    js: &jetstream::Context,
    config: &ConsumerConfig,
    name: &str,
    ack_wait: Duration,
    max_ack_pending: i64,
) -> Result<jetstream::consumer::PullConsumer, String> {
    let stream = js
        .get_stream(&config.stream)
        .await
        .map_err(|e| e.to_string())?;
    stream
        .get_or_create_consumer(
            name,
            durable_config(config, name, ack_wait, max_ack_pending),
        )
        .await
        .map_err(|e| e.to_string())
}

/// The configuration [`durable`] creates its consumer with (every event of the stream's
/// prefix, from the first, explicit acks).
pub fn durable_config(
    config: &ConsumerConfig,
    name: &str,
    ack_wait: Duration,
    max_ack_pending: i64,
) -> pull::Config {
    pull::Config {
        durable_name: Some(name.to_string()),
        filter_subject: Subjects::new(config.subject_prefix.clone()).all(),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait,
        max_ack_pending,
        ..Default::default()
    }
}

/// Runs one projection until `shutdown` turns true.
pub async fn run<P: Projection>(
    pool: PgPool,
    client: async_nats::Client,
    config: ConsumerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let js = jetstream::new(client);
    tracing::info!(projector = P::NAME, stream = %config.stream, "projector started");
    let mut cache = DocCache::new(CACHE_BYTES);
    while !*shutdown.borrow() {
        let consumer = match consumer::<P>(&js, &config).await {
            Ok(consumer) => consumer,
            Err(error) => {
                tracing::debug!(projector = P::NAME, %error, "waiting for the stream");
                pause(&mut shutdown, Duration::from_millis(500)).await;
                continue;
            }
        };
        while !*shutdown.borrow() {
            match step::<P>(&pool, &consumer, &mut cache).await {
                Ok(Fetched { messages: 0, .. }) => pause(&mut shutdown, IDLE).await,
                Ok(Fetched { messages, .. }) if messages < BATCH => {
                    pause(&mut shutdown, GATHER).await
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(projector = P::NAME, %error, "projector step failed");
                    pause(&mut shutdown, Duration::from_millis(500)).await;
                    break;
                }
            }
        }
    }
    tracing::info!(projector = P::NAME, "projector stopped");
}

async fn pause(shutdown: &mut watch::Receiver<bool>, duration: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = shutdown.changed() => {}
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    /// Messages delivered.
    pub messages: usize,
    /// Events applied (the others were redeliveries or had to wait).
    pub applied: usize,
}

/// Fetches and applies one batch.
pub async fn step<P: Projection>(
    pool: &PgPool,
    consumer: &jetstream::consumer::PullConsumer,
    cache: &mut DocCache<P::Model>,
) -> Result<Fetched, String> {
    let mut batch = consumer
        .fetch()
        .max_messages(BATCH)
        .expires(Duration::from_millis(200))
        .messages()
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = Vec::new();
    let mut events = Vec::new();
    while let Some(message) = batch.next().await {
        let message = message.map_err(|e| e.to_string())?;
        let parsed = serde_json::from_slice::<CloudEvent>(&message.payload)
            .map_err(|e| e.to_string())
            .and_then(|cloud| ProjectedEvent::from_cloud(&cloud).map_err(|e| e.to_string()));
        match parsed {
            Ok(event) => {
                events.push(event);
                messages.push(message);
            }
            Err(error) => {
                // Not an event this version understands: never retried, never silently.
                tracing::error!(projector = P::NAME, subject = %message.subject, %error, "unreadable event dropped");
                let _ = message.ack_with(AckKind::Term).await;
            }
        }
    }
    let delivered = messages.len();
    if events.is_empty() {
        return Ok(Fetched {
            messages: delivered,
            applied: 0,
        });
    }
    let decisions = match apply_batch::<P>(pool, &events, cache).await {
        Ok(decisions) => decisions,
        Err(error) => {
            for message in &messages {
                let _ = message
                    .ack_with(AckKind::Nak(Some(Duration::from_millis(500))))
                    .await;
            }
            return Err(error.to_string());
        }
    };
    let mut applied = 0;
    for (message, decision) in messages.iter().zip(decisions) {
        let ack = match decision {
            Decision::Applied => {
                applied += 1;
                AckKind::Ack
            }
            Decision::Skipped => AckKind::Ack,
            Decision::Gap => AckKind::Nak(Some(Duration::from_millis(100))),
        };
        message.ack_with(ack).await.map_err(|e| e.to_string())?;
    }
    Ok(Fetched {
        messages: delivered,
        applied,
    })
}

/// How many messages a stream holds (`None` when NATS does not answer within 2 s).
pub async fn stream_messages(client: &async_nats::Client, stream: &str) -> Option<u64> {
    let js = jetstream::new(client.clone());
    let ask = async {
        js.get_stream(stream)
            .await
            .ok()
            .map(|s| s.cached_info().state.messages)
    };
    tokio::time::timeout(std::time::Duration::from_secs(2), ask)
        .await
        .ok()
        .flatten()
}

/// Messages not yet delivered or not yet acknowledged by a projector's consumer.
pub async fn pending(client: &async_nats::Client, stream: &str, projector: &str) -> Option<u64> {
    let js = jetstream::new(client.clone());
    let stream = js.get_stream(stream).await.ok()?;
    let name = format!("projector-{projector}");
    let mut consumer: jetstream::consumer::PullConsumer = stream.get_consumer(&name).await.ok()?;
    let info = consumer.info().await.ok()?;
    Some(info.num_pending + info.num_ack_pending as u64)
}
