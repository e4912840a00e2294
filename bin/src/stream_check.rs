//! `attendance relay --verify [--repair]`: holds the JetStream stream against the event store
//! and lists every event at or before the relay's checkpoint that the stream does not hold
//! (by `Nats-Msg-Id`); `--repair` publishes those through the relay's own publisher.
//!
//! Events go missing only through a relay fault, such as the text-sorted batches that lost
//! the events behind a transaction-id boundary (1,000,000, 10,000,000, ...). A republished
//! event lands in the stream after later ones, so a consumer that folds per aggregate in
//! order (the projectors) must be rebuilt afterwards; the command says so. Running it again
//! is harmless: JetStream drops a message id it already holds (within its duplicate window),
//! and outside the window the event is no longer missing, so nothing is published.

use crate::config::{Connections, RelaySettings};
use crate::relay::Relay;
use crate::startup;
use anyhow::Context;
use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull::OrderedConfig};
use event_store::outbox::{self, EVENT_COLUMNS, Row, StoredEvent};
use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::Duration;

/// What the stream holds against what the event store says it should.
#[derive(Debug, Default)]
pub struct StreamCheck {
    /// Events at or before the relay's checkpoint (what the stream must hold).
    pub expected: u64,
    /// Messages in the stream.
    pub in_stream: u64,
    /// Stream messages whose id names no stored event (none unless someone else publishes).
    pub unknown: u64,
    /// Events after the checkpoint: not missing, just not relayed yet.
    pub pending: i64,
    /// The events the stream lacks, in commit order.
    pub missing: Vec<StoredEvent>,
}

impl StreamCheck {
    /// Every event the relay passed is in the stream.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Sequences per aggregate (`<type>:<id>`) that the stream holds, sorted.
type Held = HashMap<String, Vec<i64>>;

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let template = format!("{what:<22} [{{bar:40}}] {{pos}}/{{len}} {{per_sec}} eta {{eta}}");
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Reads the message id of every message in the stream (headers only, one ordered consumer).
async fn held_ids(client: &async_nats::Client, stream: &str) -> anyhow::Result<(Held, u64)> {
    let js = jetstream::new(client.clone());
    let mut stream = js
        .get_stream(stream)
        .await
        .with_context(|| format!("reading the stream {stream}"))?;
    let messages = stream.info().await?.state.messages;
    let mut held = Held::new();
    if messages == 0 {
        return Ok((held, 0));
    }
    let consumer = stream
        .create_consumer(OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            headers_only: true,
            ..Default::default()
        })
        .await
        .context("creating an ordered consumer")?;
    let mut incoming = consumer.messages().await?;
    let progress = bar(messages, "reading the stream");
    let mut read = 0u64;
    while read < messages {
        let next = tokio::time::timeout(Duration::from_secs(10), incoming.next()).await;
        let message = match next {
            Ok(Some(message)) => message.context("reading a stream message")?,
            Ok(None) => break,
            Err(_) => anyhow::bail!("the stream stopped delivering after {read} of {messages}"),
        };
        read += 1;
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.to_string())
            .unwrap_or_default();
        if let Some((aggregate, sequence)) = id.rsplit_once(':')
            && let Ok(sequence) = sequence.parse()
        {
            held.entry(aggregate.to_string())
                .or_default()
                .push(sequence);
        }
        if read.is_multiple_of(10_000) {
            progress.set_position(read);
        }
    }
    progress.finish_and_clear();
    for sequences in held.values_mut() {
        sequences.sort_unstable();
    }
    Ok((held, read))
}

/// Compares the stream with the event store up to the relay's checkpoint.
pub async fn verify(
    pool: &PgPool,
    client: &async_nats::Client,
    stream: &str,
) -> anyhow::Result<StreamCheck> {
    let lag = outbox::lag(pool, stream).await?;
    let (mark, _) = outbox::read_relay(pool, stream).await?;
    let (held, in_stream) = held_ids(client, stream).await?;
    let progress = bar(lag.published.max(0) as u64, "comparing events");
    // What the relay's mark covers: by position, or (a mark from before position order) in
    // `(tx_id, global_position)` order among the events up to its switch.
    let mut rows = sqlx::query_as::<_, (String, String, i64, i64)>(
        "SELECT aggregate_type, aggregate_id, sequence, global_position FROM events
          WHERE CASE WHEN $3::bigint IS NULL THEN global_position <= $2
                     ELSE (tx_id, global_position) <= ($1::text::xid8, $2)
                          AND global_position <= $3 END
          ORDER BY global_position",
    )
    .bind(mark.at.tx_id.to_string())
    .bind(mark.at.position)
    .bind(mark.commit_order_until)
    .fetch(pool);
    let (mut expected, mut found, mut missing) = (0u64, 0u64, Vec::new());
    while let Some((aggregate_type, aggregate_id, sequence, position)) = rows.try_next().await? {
        expected += 1;
        let key = format!("{aggregate_type}:{aggregate_id}");
        let is_held = held
            .get(&key)
            .is_some_and(|s| s.binary_search(&sequence).is_ok());
        if is_held {
            found += 1;
        } else {
            missing.push(position);
        }
        if expected.is_multiple_of(10_000) {
            progress.set_position(expected);
        }
    }
    drop(rows);
    progress.finish_and_clear();
    let missing = stored_events(pool, &missing).await?;
    Ok(StreamCheck {
        expected,
        in_stream,
        unknown: in_stream.saturating_sub(found),
        pending: lag.pending,
        missing,
    })
}

/// The events at these global positions, in position order (commit order since migration
/// 0020; per aggregate, sequence order always).
async fn stored_events(pool: &PgPool, positions: &[i64]) -> anyhow::Result<Vec<StoredEvent>> {
    let mut events = Vec::with_capacity(positions.len());
    for chunk in positions.chunks(5_000) {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE global_position = ANY($1)
              ORDER BY global_position"
        ))
        .bind(chunk)
        .fetch_all(pool)
        .await?;
        for row in rows {
            events.push(StoredEvent::try_from(row)?);
        }
    }
    Ok(events)
}

/// Publishes the missing events in commit order; returns how many JetStream acknowledged.
pub async fn repair(relay: &Relay, check: &StreamCheck) -> anyhow::Result<usize> {
    relay.ensure_stream().await?;
    let progress = bar(check.missing.len() as u64, "republishing");
    let mut published = 0;
    for chunk in check.missing.chunks(500) {
        published += relay.publish_only(chunk).await?;
        progress.set_position(published as u64);
    }
    progress.finish_and_clear();
    Ok(published)
}

/// Prints the check for a person: totals, then each missing event (the first 50).
pub fn print(check: &StreamCheck) {
    println!(
        "stream holds {} messages; {} events are at or before the relay's checkpoint; \
         {} pending after it; {} missing from the stream; {} messages name no stored event",
        check.in_stream,
        check.expected,
        check.pending,
        check.missing.len(),
        check.unknown
    );
    for event in check.missing.iter().take(50) {
        println!(
            "missing: {}:{}:{} {} (position {}, transaction {}, stored {})",
            event.aggregate_type,
            event.aggregate_id,
            event.sequence,
            event.event_type,
            event.position,
            event.tx_id,
            event.recorded_at.to_rfc3339()
        );
    }
    if check.missing.len() > 50 {
        println!("… and {} more", check.missing.len() - 50);
    }
}

/// `attendance relay --verify [--repair]`: fails when events are missing and were not repaired.
pub async fn run(
    connections: &Connections,
    relay: &RelaySettings,
    repair_missing: bool,
) -> anyhow::Result<()> {
    let config = relay.relay_config()?;
    let pool = startup::database(connections).await?;
    let client = startup::nats(connections).await?;
    let check = verify(&pool, &client, &config.stream).await?;
    print(&check);
    if check.complete() {
        return Ok(());
    }
    if !repair_missing {
        anyhow::bail!(
            "{} events are missing from the stream: run `attendance relay --verify --repair`",
            check.missing.len()
        );
    }
    let relay = Relay::new(pool, client, config);
    let published = repair(&relay, &check).await?;
    println!(
        "republished {published} events; rebuild the read models now: `attendance rebuild` \
         (the projectors met them out of order)"
    );
    Ok(())
}
