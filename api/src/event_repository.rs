//! [`EventRepository`]: cqrs-es's repository interface over postgres-es's reads and the
//! event writer's one-statement insert ([`crate::writer`]).
//!
//! postgres-es 0.5 writes each event with its own statement inside a transaction: a roll
//! call of 200 students was 202 round trips to Postgres. One statement is atomic on its own,
//! so a command's events go in one round trip, in order (their global positions follow the
//! order of the events), and a concurrent writer of the same aggregate still meets the
//! primary key and gets the same optimistic-lock conflict.

use crate::writer::{self, is_write_conflict};
use cqrs_es::Aggregate;
use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::PgPool;

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
        writer::insert(&self.pool, events)
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
