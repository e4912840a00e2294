//! The early warning's process manager: a durable JetStream consumer of its own
//! (`process-warnings`) over every event, that evaluates the students an event concerns
//! ([`api::app::warnings::evaluate`]) and so stores their standings' crossings through the
//! write side. One process leads at a time (a session advisory lock on a connection of its
//! own, released when the process or its connection dies); the others wait, idle. A message
//! is acked only after its evaluation is stored, so a crash redelivers it, and the standing
//! ignores a cause it has seen.

use api::AppState;
use api::app::warnings::evaluate::{Folds, evaluate};
use async_nats::jetstream::{self, AckKind};
use event_store::envelope::CloudEvent;
use futures::StreamExt;
use projections::consumer::ConsumerConfig;
use projections::event::ProjectedEvent;
use sqlx::Connection;
use std::time::Duration;
use tokio::sync::watch;

/// The durable consumer's name.
pub const CONSUMER: &str = "process-warnings";

/// Messages per fetch.
const BATCH: usize = 200;

/// How long a delivered, unacked message waits before redelivery.
const ACK_WAIT: Duration = Duration::from_secs(30);

/// Whether the process manager has taken and acknowledged every message of `stream`.
/// `Ok(true)` too when there is no such stream or no consumer on it (no `serve` has led
/// there). An error when the consumer could not be read (a timeout, a cluster failing
/// over): that says nothing either way, and a caller waiting for quiet must look again.
pub async fn idle(js: &jetstream::Context, stream: &str) -> Result<bool, String> {
    use async_nats::jetstream::ErrorCode;
    use async_nats::jetstream::stream::ConsumerErrorKind;
    let consumer = js
        .get_consumer_from_stream::<jetstream::consumer::pull::Config, _, _>(CONSUMER, stream)
        .await;
    let mut consumer = match consumer {
        Ok(consumer) => consumer,
        Err(error) => {
            return match error.kind() {
                ConsumerErrorKind::JetStream(e)
                    if [ErrorCode::CONSUMER_NOT_FOUND, ErrorCode::STREAM_NOT_FOUND]
                        .contains(&e.error_code()) =>
                {
                    Ok(true)
                }
                _ => Err(format!("reading the consumer {CONSUMER}: {error}")),
            };
        }
    };
    let info = consumer
        .info()
        .await
        .map_err(|e| format!("reading the consumer {CONSUMER}: {e}"))?;
    Ok(info.num_pending == 0 && info.num_ack_pending == 0)
}

/// Runs the process manager until `shutdown` turns true.
pub async fn run(
    state: AppState,
    client: async_nats::Client,
    config: ConsumerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let js = jetstream::new(client);
    while !*shutdown.borrow() {
        // Leadership: a session advisory lock on a connection held for as long as we lead.
        let mut lock = match state.pool().acquire().await {
            Ok(conn) => conn.detach(),
            Err(error) => {
                tracing::debug!(%error, "warnings: no database connection");
                pause(&mut shutdown, Duration::from_millis(500)).await;
                continue;
            }
        };
        let leading: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext('process-warnings'))")
                .fetch_one(&mut lock)
                .await
                .unwrap_or(false);
        if !leading {
            let _ = lock.close().await;
            pause(&mut shutdown, Duration::from_millis(500)).await;
            continue;
        }
        tracing::info!("warnings process manager leading");
        lead(&state, &js, &config, &mut shutdown).await;
        let _ = lock.close().await;
    }
    tracing::info!("warnings process manager stopped");
}

async fn lead(
    state: &AppState,
    js: &jetstream::Context,
    config: &ConsumerConfig,
    shutdown: &mut watch::Receiver<bool>,
) {
    let folds = Folds::new();
    while !*shutdown.borrow() {
        let consumer = match consumer(js, config).await {
            Ok(consumer) => consumer,
            Err(error) => {
                tracing::debug!(%error, "warnings: waiting for the stream");
                pause(shutdown, Duration::from_millis(500)).await;
                continue;
            }
        };
        let mut idle = 0u32;
        let mut consumer = consumer;
        while !*shutdown.borrow() {
            match step(state, &folds, &consumer).await {
                Ok(0) => {
                    // A fetch from a consumer that was deleted just finds nothing: every
                    // ten idle fetches (about 2 s), check it is still there (else make it
                    // again, from the start).
                    idle += 1;
                    if idle.is_multiple_of(10) && consumer.info().await.is_err() {
                        break;
                    }
                    pause(shutdown, Duration::from_millis(20)).await
                }
                Ok(_) => idle = 0,
                Err(error) => {
                    tracing::warn!(%error, "warnings: step failed");
                    pause(shutdown, Duration::from_millis(500)).await;
                    break;
                }
            }
        }
    }
}

async fn consumer(
    js: &jetstream::Context,
    config: &ConsumerConfig,
) -> Result<jetstream::consumer::PullConsumer, String> {
    projections::consumer::durable(js, config, CONSUMER, ACK_WAIT, 1_000).await
}

/// Fetches a batch and evaluates it in delivery order; on a failure the rest of the batch is
/// given back (nak) in order, so no evaluation overtakes an earlier one that failed.
async fn step(
    state: &AppState,
    folds: &Folds,
    consumer: &jetstream::consumer::PullConsumer,
) -> Result<usize, String> {
    let mut batch = consumer
        .fetch()
        .max_messages(BATCH)
        .expires(Duration::from_millis(200))
        .messages()
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = Vec::new();
    while let Some(message) = batch.next().await {
        messages.push(message.map_err(|e| e.to_string())?);
    }
    let count = messages.len();
    let mut failed: Option<String> = None;
    for message in messages {
        if failed.is_some() {
            let _ = message
                .ack_with(AckKind::Nak(Some(Duration::from_millis(500))))
                .await;
            continue;
        }
        let parsed = serde_json::from_slice::<CloudEvent>(&message.payload)
            .map_err(|e| e.to_string())
            .and_then(|cloud| ProjectedEvent::from_cloud(&cloud).map_err(|e| e.to_string()));
        let event = match parsed {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(subject = %message.subject, %error, "warnings: unreadable event dropped");
                let _ = message.ack_with(AckKind::Term).await;
                continue;
            }
        };
        match evaluate(state, folds, &event).await {
            Ok(done) => {
                if !done.events.is_empty() {
                    tracing::info!(
                        position = event.position,
                        course = %event.course_id,
                        crossings = done.events.len(),
                        "warnings: standings changed"
                    );
                }
                message.ack().await.map_err(|e| e.to_string())?;
            }
            Err(error) => {
                let _ = message
                    .ack_with(AckKind::Nak(Some(Duration::from_millis(500))))
                    .await;
                failed = Some(error.to_string());
            }
        }
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(count),
    }
}

async fn pause(shutdown: &mut watch::Receiver<bool>, duration: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = shutdown.changed() => {}
    }
}
