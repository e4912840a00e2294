//! The write side: loading an aggregate from the event store, deciding, and committing the
//! new events with their metadata. A concurrent write on the same aggregate is retried on
//! fresh state a bounded number of times, then answered 409.
//!
//! Each store keeps its aggregates as of their last known version. A read ([`load`]) reads
//! only the events stored since. A command ([`execute`]) first decides on the kept state
//! without reading at all, because its insert checks that state anyway: the new events'
//! sequences continue the kept version, and the primary key refuses them if any other event
//! was stored since.

use crate::error::ApiError;
use crate::event_repository::{self, EventRepository, is_write_conflict};
use chrono::Utc;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, PersistenceError, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use domain::course::Course;
use domain::register::Register;
use domain::{Actor, CourseId};
use serde_json::Value;
use sqlx::PgPool;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// How many times a command is tried on fresh state when other writers keep winning the race.
pub const MAX_ATTEMPTS: u32 = 8;

/// Commands on one aggregate queue up within a process (striped by aggregate), so that
/// optimistic-concurrency conflicts, and their bounded retries, only happen between
/// processes.
static STRIPES: LazyLock<Vec<tokio::sync::Mutex<()>>> =
    LazyLock::new(|| (0..1024).map(|_| tokio::sync::Mutex::new(())).collect());

fn stripe(aggregate_type: &str, id: &str) -> &'static tokio::sync::Mutex<()> {
    let mut hasher = std::hash::DefaultHasher::new();
    (aggregate_type, id).hash(&mut hasher);
    &STRIPES[(hasher.finish() % STRIPES.len() as u64) as usize]
}

/// The event store of one aggregate type.
pub struct Store<A: Aggregate> {
    pool: PgPool,
    /// cqrs-es's repository interface: postgres-es reads, the one-statement insert.
    repository: EventRepository,
    /// Aggregates as of their last known version: a load reads only the events after it.
    cache: Mutex<HashMap<String, Known<A>>>,
}

/// An aggregate as of a version.
#[derive(Clone, Default)]
struct Known<A> {
    /// Shared with the cache: reading a cached aggregate copies nothing.
    aggregate: Arc<A>,
    /// The sequence of its last event (0 when it has none).
    version: usize,
    /// The global position of that event (0 when it has none).
    position: i64,
}

/// Aggregates kept in memory per store; the cache is emptied when it reaches this.
const CACHE_LIMIT: usize = 512;

impl<A: Aggregate + Clone> Store<A> {
    /// An event store over a pool.
    pub fn new(pool: &PgPool) -> Self {
        Store {
            pool: pool.clone(),
            repository: EventRepository::new(pool),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, id: &str) -> Option<Known<A>> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Keeps an aggregate's state, unless a later one is kept already: a load that started
    /// before a command committed must not take the cache back to the older version.
    fn remember(&self, id: &str, known: &Known<A>) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache
            .get(id)
            .is_some_and(|kept| kept.version >= known.version)
        {
            return;
        }
        if cache.len() >= CACHE_LIMIT && !cache.contains_key(id) {
            cache.clear();
        }
        cache.insert(id.to_string(), known.clone());
    }

    /// The aggregate at its latest version: the cached state plus the events stored since
    /// (every process writes through the database and events never change, so the cache
    /// is always a valid prefix).
    async fn fresh(&self, id: &str) -> Result<Known<A>, ApiError> {
        let mut known = self.cached(id).unwrap_or_default();
        let newer = self
            .repository
            .get_last_events::<A>(id, known.version)
            .await
            .map_err(read_error)?;
        if newer.is_empty() {
            return Ok(known);
        }
        for event in newer {
            let payload = upcast(&event.event_type, &event.event_version, event.payload);
            let payload: A::Event = serde_json::from_value(payload).map_err(ApiError::internal)?;
            Arc::make_mut(&mut known.aggregate).apply(payload);
            known.version = event.sequence;
        }
        // Only when something new was read: where the last event is, for "read your write".
        known.position = position_of(&self.pool, A::TYPE, id, known.version).await?;
        self.remember(id, &known);
        Ok(known)
    }
}

/// A read failure: 503 when the database is unreachable (as every sqlx error maps), 500
/// otherwise.
fn read_error(error: PersistenceError) -> ApiError {
    match error {
        PersistenceError::ConnectionError(e) | PersistenceError::UnknownError(e) => {
            match e.downcast::<sqlx::Error>() {
                Ok(sql) => ApiError::from(*sql),
                Err(other) => ApiError::internal(other),
            }
        }
        other => ApiError::internal(other),
    }
}

/// The global position of an aggregate's event at a version (0 for version 0).
async fn position_of(
    pool: &PgPool,
    aggregate_type: &str,
    id: &str,
    version: usize,
) -> Result<i64, ApiError> {
    if version == 0 {
        return Ok(0);
    }
    let position: Option<i64> = sqlx::query_scalar(
        "SELECT global_position FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
    )
    .bind(aggregate_type)
    .bind(id)
    .bind(version as i64)
    .fetch_optional(pool)
    .await?;
    Ok(position.unwrap_or(0))
}

/// Reads an old event version as the current one ([`domain::upcast`]).
fn upcast(event_type: &str, event_version: &str, payload: Value) -> Value {
    if !domain::upcast::can_upcast(event_type, event_version) {
        return payload;
    }
    match domain::upcast::upcast(event_type, event_version, payload.clone()) {
        Ok((_, upcast)) => upcast,
        // Left as stored: deserializing it then fails and the load reports the error.
        Err(error) => {
            tracing::error!(%error, "event not upcast");
            payload
        }
    }
}

/// The event stores of both aggregates.
pub struct Stores {
    /// Courses.
    pub courses: Store<Course>,
    /// Registers.
    pub registers: Store<Register>,
}

impl Stores {
    /// The stores of both aggregates over one pool.
    pub fn new(pool: &PgPool) -> Self {
        Stores {
            courses: Store::new(pool),
            registers: Store::new(pool),
        }
    }
}

/// Where a command came from, recorded in every event's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The REST API.
    Api,
    /// A scanned sheet import.
    Sheet,
    /// The command line.
    Cli,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Sheet => "sheet",
            Source::Cli => "cli",
        }
    }
}

/// Who, why and where: becomes the metadata of every event a command writes.
#[derive(Debug, Clone)]
pub struct CommandMeta {
    /// The acting user.
    pub actor: Actor,
    /// The request id (propagated from `x-request-id`).
    pub request_id: String,
    /// Where the command came from.
    pub source: Source,
    /// The course the events belong to (routes subjects and projections).
    pub course_id: CourseId,
}

impl CommandMeta {
    fn to_map(&self) -> HashMap<String, String> {
        HashMap::from([
            ("user_id".to_string(), self.actor.user_id.to_string()),
            ("role".to_string(), self.actor.role.as_str().to_string()),
            ("request_id".to_string(), self.request_id.clone()),
            ("source".to_string(), self.source.as_str().to_string()),
            ("server_time".to_string(), Utc::now().to_rfc3339()),
            ("course_id".to_string(), self.course_id.to_string()),
        ])
    }
}

/// The outcome of a command.
#[derive(Debug)]
pub struct Committed<A: Aggregate> {
    /// The aggregate after the command.
    pub aggregate: Arc<A>,
    /// Its version: the sequence of its last event (0 when it has none).
    pub version: u64,
    /// The events the command wrote (none when it changed nothing).
    pub events: Vec<A::Event>,
    /// Global position of the aggregate's last event (0 without events): pass it as
    /// `min_position` to a query to read your own write.
    pub position: i64,
}

impl<A: Aggregate> Committed<A> {
    /// Whether the command wrote any event.
    pub fn changed(&self) -> bool {
        !self.events.is_empty()
    }
}

/// Loads an aggregate (a default one when it has no events) with its version, reading the
/// events stored since the cached version; shared with the cache, not copied.
pub async fn load<A: Aggregate + Clone>(
    store: &Store<A>,
    id: &str,
) -> Result<(Arc<A>, u64), ApiError> {
    let known = store.fresh(id).await?;
    Ok((known.aggregate, known.version as u64))
}

/// Runs the commands `decide` chooses for the current state, and commits their events in
/// one statement. `decide` is called again on fresh state after a conflicting write.
///
/// The first try decides on the cached state without reading the store: when that state is
/// current (always, unless another process wrote since), the command costs its insert alone;
/// when it is not, the insert meets the primary key and the command is decided again on
/// fresh state. What the insert cannot check is decided again on fresh state too: a command
/// that writes nothing (its answer would report a state nobody checked), and a refused one
/// (the refusal may come from the stale part).
pub async fn execute<A, F>(
    store: &Store<A>,
    id: &str,
    meta: &CommandMeta,
    mut decide: F,
) -> Result<Committed<A>, ApiError>
where
    A: Aggregate<Services = ()> + Clone,
    ApiError: From<A::Error>,
    F: FnMut(&A) -> Result<Vec<A::Command>, ApiError>,
{
    let _queued = stripe(A::TYPE, id).lock().await;
    if let Some(cached) = store.cached(id) {
        match attempt(store, id, meta, &mut decide, cached).await {
            Ok(Tried::Committed(done)) if done.changed() => return Ok(done),
            Ok(Tried::Committed(_) | Tried::Conflict) | Err(Failure::Refused(_)) => {
                tracing::debug!(aggregate = A::TYPE, id, "deciding again on fresh state");
            }
            Err(Failure::Store(error)) => return Err(error),
        }
    }
    for attempt_no in 0..MAX_ATTEMPTS {
        let known = store.fresh(id).await?;
        match attempt(store, id, meta, &mut decide, known).await {
            Ok(Tried::Committed(done)) => return Ok(done),
            Ok(Tried::Conflict) => {
                tracing::debug!(
                    aggregate = A::TYPE,
                    id,
                    attempt = attempt_no,
                    "write conflict, retrying"
                );
                tokio::time::sleep(backoff(attempt_no)).await;
            }
            Err(Failure::Refused(error) | Failure::Store(error)) => return Err(error),
        }
    }
    Err(ApiError::conflict(
        "concurrent_write",
        "the resource was changed by other requests at the same time; try again",
    ))
}

/// What one try of a command came to, short of failing.
enum Tried<A: Aggregate> {
    /// Stored (or nothing to store).
    Committed(Committed<A>),
    /// Another event was stored after the state decided on.
    Conflict,
}

/// Why a try failed.
enum Failure {
    /// Before writing: the command was refused, or its events could not be serialized.
    Refused(ApiError),
    /// Writing: the database failed (the events may or may not be stored).
    Store(ApiError),
}

/// Decides on `known` and inserts the resulting events after `known.version`.
async fn attempt<A, F>(
    store: &Store<A>,
    id: &str,
    meta: &CommandMeta,
    decide: &mut F,
    known: Known<A>,
) -> Result<Tried<A>, Failure>
where
    A: Aggregate<Services = ()> + Clone,
    ApiError: From<A::Error>,
    F: FnMut(&A) -> Result<Vec<A::Command>, ApiError>,
{
    let Known {
        aggregate,
        version: base,
        position,
    } = known;
    // A copy to decide on (the cache keeps the state it had).
    let mut aggregate = Arc::unwrap_or_clone(aggregate);
    let sink = EventSink::default();
    for command in decide(&aggregate).map_err(Failure::Refused)? {
        aggregate
            .handle(command, &(), &sink)
            .await
            .map_err(|e| Failure::Refused(e.into()))?;
    }
    let events = sink.collect().await;
    if events.is_empty() {
        return Ok(Tried::Committed(Committed {
            aggregate: Arc::new(aggregate),
            version: base as u64,
            events,
            position,
        }));
    }
    let serialized = serialize::<A>(id, base, &events, meta).map_err(Failure::Refused)?;
    let position = match event_repository::insert(&store.pool, A::TYPE, &serialized).await {
        Ok(position) => position,
        Err(error) if is_write_conflict(&error) => return Ok(Tried::Conflict),
        Err(error) => return Err(Failure::Store(error.into())),
    };
    // Committed: nothing from here on may answer an error.
    let known = Known {
        aggregate: Arc::new(aggregate),
        version: base + events.len(),
        position,
    };
    store.remember(id, &known);
    Ok(Tried::Committed(Committed {
        aggregate: known.aggregate,
        version: known.version as u64,
        events,
        position,
    }))
}

/// A command's events as stored, as cqrs-es's event store serializes them: sequences after
/// `base`, each with the command's metadata.
fn serialize<A: Aggregate>(
    id: &str,
    base: usize,
    events: &[A::Event],
    meta: &CommandMeta,
) -> Result<Vec<SerializedEvent>, ApiError> {
    let metadata = serde_json::to_value(meta.to_map()).map_err(ApiError::internal)?;
    events
        .iter()
        .zip(base + 1..)
        .map(|(event, sequence)| {
            Ok(SerializedEvent {
                aggregate_id: id.to_string(),
                sequence,
                aggregate_type: A::TYPE.to_string(),
                event_type: event.event_type(),
                event_version: event.event_version(),
                payload: serde_json::to_value(event).map_err(ApiError::internal)?,
                metadata: metadata.clone(),
            })
        })
        .collect()
}

fn backoff(attempt: u32) -> Duration {
    // Small, growing and jittered, so racing writers spread out.
    let jitter = u64::from(rand::random::<u8>() % 8);
    Duration::from_millis(2u64.pow(attempt.min(6)) + jitter)
}
