//! The early warning's process manager: a durable JetStream consumer of its own
//! (`process-warnings`) over every event, that evaluates the students an event concerns
//! ([`api::app::warnings::evaluate`]) and so stores their standings' crossings through the
//! write side. One process leads at a time (a session advisory lock on a connection of its
//! own, released when the process or its connection dies); the others wait, idle. Events are
//! evaluated strictly in the stream's order, each acked after its evaluation is stored: a
//! leader that takes over, or that fails, goes on right after the last acked event (see
//! [`from_ack_floor`]), and the standing ignores a cause it has seen.

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
    // Taking over: what an earlier leader was given and did not acknowledge comes first.
    let mut resume = true;
    while !*shutdown.borrow() {
        let made = if resume {
            from_ack_floor(js, config).await
        } else {
            consumer(js, config).await
        };
        let consumer = match made {
            Ok(consumer) => consumer,
            Err(error) => {
                tracing::debug!(%error, "warnings: waiting for the stream");
                pause(shutdown, Duration::from_millis(500)).await;
                continue;
            }
        };
        resume = false;
        let mut progress = Progress::default();
        let mut idle = 0u32;
        let mut consumer = consumer;
        while !*shutdown.borrow() {
            match step(state, &folds, &consumer, &mut progress).await {
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
                    tracing::warn!(%error, "warnings: step failed; going on after the last acknowledged event");
                    pause(shutdown, Duration::from_millis(500)).await;
                    resume = true;
                    break;
                }
            }
        }
    }
}

/// Messages a leader may hold unacknowledged.
const MAX_ACK_PENDING: i64 = 1_000;

async fn consumer(
    js: &jetstream::Context,
    config: &ConsumerConfig,
) -> Result<jetstream::consumer::PullConsumer, String> {
    projections::consumer::durable(js, config, CONSUMER, ACK_WAIT, MAX_ACK_PENDING).await
}

/// The consumer, made again to start right after the last message acknowledged in order
/// when some are out (delivered and not acknowledged): a leader that died with a batch, an
/// evaluation that failed, a delivery or an acknowledgement lost on the way. JetStream
/// would give those back only after the ack wait, after later ones; evaluated then, an
/// event's figures (as of that event) would decide against a standing that later events
/// have moved on, and store a crossing that is not true. Evaluating again, in order, what
/// was evaluated already stores nothing.
async fn from_ack_floor(
    js: &jetstream::Context,
    config: &ConsumerConfig,
) -> Result<jetstream::consumer::PullConsumer, String> {
    use jetstream::consumer::DeliverPolicy;
    let mut consumer = consumer(js, config).await?;
    let info = consumer.info().await.map_err(|e| e.to_string())?;
    if info.num_ack_pending == 0 {
        return Ok(consumer);
    }
    let start_sequence = info.ack_floor.stream_sequence + 1;
    let stream = js
        .get_stream(&config.stream)
        .await
        .map_err(|e| e.to_string())?;
    stream
        .delete_consumer(CONSUMER)
        .await
        .map_err(|e| e.to_string())?;
    tracing::warn!(
        start_sequence,
        unacknowledged = info.num_ack_pending,
        "warnings: evaluating again from the last acknowledged event"
    );
    let mut again =
        projections::consumer::durable_config(config, CONSUMER, ACK_WAIT, MAX_ACK_PENDING);
    again.deliver_policy = DeliverPolicy::ByStartSequence { start_sequence };
    stream
        .create_consumer(again)
        .await
        .map_err(|e| e.to_string())
}

/// Where a leader stands in its consumer's deliveries.
#[derive(Debug, Default)]
struct Progress {
    /// The stream sequence of the last message evaluated under this consumer.
    evaluated: u64,
    /// The delivery sequence of the last message taken (deliveries count up by one).
    delivered: Option<u64>,
}

/// Fetches a batch and evaluates it in delivery order, acknowledging each message after its
/// evaluation is stored. A failure, or a delivery out of sequence, ends the step with an
/// error and leaves the rest unacknowledged: the leader then starts the consumer again after
/// the last acknowledged message ([`from_ack_floor`]), so no evaluation overtakes an
/// earlier one. A message evaluated already under this consumer (its acknowledgement was
/// lost) is acknowledged again and not evaluated.
async fn step(
    state: &AppState,
    folds: &Folds,
    consumer: &jetstream::consumer::PullConsumer,
    progress: &mut Progress,
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
    // Read pure and first: the last position held, to which a course's first evaluation
    // in the batch reads ahead.
    let parsed: Vec<Result<ProjectedEvent, String>> = messages
        .iter()
        .map(|message| {
            serde_json::from_slice::<CloudEvent>(&message.payload)
                .map_err(|e| e.to_string())
                .and_then(|cloud| ProjectedEvent::from_cloud(&cloud).map_err(|e| e.to_string()))
        })
        .collect();
    let read_to = parsed
        .iter()
        .filter_map(|event| event.as_ref().ok().map(|e| e.position))
        .max()
        .unwrap_or(0);
    for (message, parsed) in messages.into_iter().zip(parsed) {
        let (stream_sequence, delivery) = {
            let info = message.info().map_err(|e| e.to_string())?;
            (info.stream_sequence, info.consumer_sequence)
        };
        if let Some(last) = progress.delivered
            && delivery != last + 1
        {
            return Err(format!(
                "delivery {delivery} came after {last}: one was lost on the way"
            ));
        }
        progress.delivered = Some(delivery);
        if stream_sequence <= progress.evaluated {
            message.ack().await.map_err(|e| e.to_string())?;
            continue;
        }
        let event = match parsed {
            Ok(event) => event,
            Err(error) => {
                tracing::error!(subject = %message.subject, %error, "warnings: unreadable event dropped");
                message
                    .ack_with(AckKind::Term)
                    .await
                    .map_err(|e| e.to_string())?;
                progress.evaluated = stream_sequence;
                continue;
            }
        };
        let done = evaluate(state, folds, &event, read_to)
            .await
            .map_err(|e| format!("evaluating the event at {}: {e}", event.position))?;
        if !done.events.is_empty() {
            tracing::info!(
                position = event.position,
                course = %event.course_id,
                crossings = done.events.len(),
                "warnings: standings changed"
            );
        }
        message.ack().await.map_err(|e| e.to_string())?;
        progress.evaluated = stream_sequence;
    }
    Ok(count)
}

async fn pause(shutdown: &mut watch::Receiver<bool>, duration: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = shutdown.changed() => {}
    }
}
