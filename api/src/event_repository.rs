//! Writing events: one multi-row `INSERT` per command ([`insert`]), which the aggregate
//! stores ([`crate::store`]) call directly, and [`EventRepository`], cqrs-es's repository
//! interface over the same insert and postgres-es's reads.
//!
//! postgres-es 0.5 writes each event with its own statement inside a transaction: a roll
//! call of 200 students was 202 round trips to Postgres. One statement is atomic on its own,
//! so a command's events now go in one round trip, in order (their global positions follow
//! the order of the events), and a concurrent writer of the same aggregate still meets the
//! primary key and gets the same optimistic-lock conflict. The statement also answers the
//! positions it assigned, so that a command learns where its events are without asking.

use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::PgPool;

/// Inserts a command's events in one statement, keeping their order, and answers their
/// global positions.
const INSERT_EVENTS: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT $1, $2, e.sequence, e.event_type, e.event_version, e.payload::json, e.metadata::json
  FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY
       AS e(sequence, event_type, event_version, payload, metadata, n)
 ORDER BY e.n
RETURNING global_position";

/// Inserts the events of one command (all of one aggregate, in sequence order) in one
/// statement, all or none; the global position of the last one (0 when there are none).
///
/// An event already stored at one of the sequences fails the whole statement with a unique
/// violation ([`is_write_conflict`]): the command was decided on an outdated state.
pub async fn insert(
    pool: &PgPool,
    aggregate_type: &str,
    events: &[SerializedEvent],
) -> Result<i64, sqlx::Error> {
    let Some(first) = events.first() else {
        return Ok(0);
    };
    let json =
        |value: &Value| serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)));
    let mut sequences = Vec::with_capacity(events.len());
    let mut types = Vec::with_capacity(events.len());
    let mut versions = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    let mut metadata = Vec::with_capacity(events.len());
    for event in events {
        sequences.push(event.sequence as i64);
        types.push(event.event_type.as_str());
        versions.push(event.event_version.as_str());
        payloads.push(json(&event.payload)?);
        metadata.push(json(&event.metadata)?);
    }
    let positions: Vec<i64> = sqlx::query_scalar(INSERT_EVENTS)
        .bind(aggregate_type)
        .bind(&first.aggregate_id)
        .bind(&sequences)
        .bind(&types)
        .bind(&versions)
        .bind(&payloads)
        .bind(&metadata)
        .fetch_all(pool)
        .await?;
    Ok(positions.into_iter().max().unwrap_or(0))
}

/// Whether an insert failed because an event was already stored at one of its sequences
/// (the optimistic-lock conflict: decide again on fresh state).
pub fn is_write_conflict(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

/// postgres-es for reads (and snapshots, which this system does not use), one statement
/// for a command's events.
pub struct EventRepository {
    reads: PostgresEventRepository,
    pool: PgPool,
}

impl EventRepository {
    /// Over a pool.
    pub fn new(pool: &PgPool) -> Self {
        EventRepository {
            reads: PostgresEventRepository::new(pool.clone()),
            pool: pool.clone(),
        }
    }
}

fn persistence_error(error: sqlx::Error) -> PersistenceError {
    if is_write_conflict(&error) {
        return PersistenceError::OptimisticLockError;
    }
    match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => PersistenceError::ConnectionError(Box::new(error)),
        _ => PersistenceError::UnknownError(Box::new(error)),
    }
}

impl PersistedEventRepository for EventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.reads.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return self.reads.persist::<A>(events, snapshot_update).await;
        }
        insert(&self.pool, A::TYPE, events)
            .await
            .map_err(persistence_error)?;
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_all_events::<A>().await
    }
}
