//! The write side: loading an aggregate from the postgres-es event store, deciding, and
//! committing the new events with their metadata. A concurrent write on the same aggregate
//! is retried on fresh state a bounded number of times, then answered 409.

use crate::error::ApiError;
use crate::event_repository::EventRepository;
use chrono::Utc;
use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{
    EventStoreAggregateContext, EventUpcaster, PersistedEventRepository, PersistedEventStore,
    SerializedEvent,
};
use cqrs_es::{Aggregate, AggregateError, EventStore};
use domain::course::Course;
use domain::register::Register;
use domain::{Actor, CourseId};
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// How many times a command is tried when other writers keep winning the race.
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
    events: PersistedEventStore<EventRepository, A>,
    repo: PostgresEventRepository,
    pool: PgPool,
    /// Aggregates as of their last known version: a load reads only the events after it.
    cache: Mutex<HashMap<String, (A, usize)>>,
}

/// Aggregates kept in memory per store; the cache is emptied when it reaches this.
const CACHE_LIMIT: usize = 512;

impl<A: Aggregate + Clone> Store<A> {
    /// A plain event store (no snapshots, no inline views) over a pool.
    pub fn new(pool: &PgPool) -> Self {
        let events = PersistedEventStore::new_event_store(EventRepository::new(pool))
            .with_upcasters(vec![Box::new(Upcaster)]);
        let repo = PostgresEventRepository::new(pool.clone());
        Store {
            events,
            repo,
            pool: pool.clone(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, id: &str) -> Option<(A, usize)> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    fn remember(&self, id: &str, aggregate: &A, version: usize) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_LIMIT && !cache.contains_key(id) {
            cache.clear();
        }
        cache.insert(id.to_string(), (aggregate.clone(), version));
    }

    /// The aggregate at its latest version: the cached state plus the events stored since
    /// (every process writes through the database, so the cache is always a valid prefix).
    async fn context(&self, id: &str) -> Result<EventStoreAggregateContext<A>, ApiError> {
        let (mut aggregate, mut sequence) = self.cached(id).unwrap_or_default();
        let newer = self
            .repo
            .get_last_events::<A>(id, sequence)
            .await
            .map_err(|e| store_error(AggregateError::<A::Error>::from(e)))?;
        let fresh = !newer.is_empty();
        for event in newer {
            let event = if Upcaster.can_upcast(&event.event_type, &event.event_version) {
                Upcaster.upcast(event)
            } else {
                event
            };
            sequence = event.sequence;
            let payload: A::Event =
                serde_json::from_value(event.payload).map_err(ApiError::internal)?;
            aggregate.apply(payload);
        }
        if fresh {
            self.remember(id, &aggregate, sequence);
        }
        Ok(EventStoreAggregateContext {
            aggregate_id: id.to_string(),
            aggregate,
            current_sequence: sequence,
            current_snapshot: None,
        })
    }
}

/// Loads old event versions as the current one ([`domain::upcast`]).
struct Upcaster;

impl EventUpcaster for Upcaster {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        domain::upcast::can_upcast(event_type, event_version)
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        match domain::upcast::upcast(
            &event.event_type,
            &event.event_version,
            event.payload.clone(),
        ) {
            Ok((version, payload)) => {
                event.event_version = version;
                event.payload = payload;
            }
            // Left as stored: deserializing it then fails and the load reports the error.
            Err(error) => tracing::error!(%error, "event not upcast"),
        }
        event
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
    pub aggregate: A,
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

/// Loads an aggregate (a default one when it has no events) with its version.
pub async fn load<A: Aggregate + Clone>(store: &Store<A>, id: &str) -> Result<(A, u64), ApiError> {
    let context = store.context(id).await?;
    Ok((context.aggregate, context.current_sequence as u64))
}

/// Runs the commands `decide` chooses for the current state, and commits their events in
/// one transaction. `decide` is called again on fresh state after a conflicting write.
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
    for attempt in 0..MAX_ATTEMPTS {
        let mut context = store.context(id).await?;
        let base = context.current_sequence;
        let sink = EventSink::default();
        for command in decide(&context.aggregate)? {
            context.aggregate.handle(command, &(), &sink).await?;
        }
        let events = sink.collect().await;
        let aggregate = context.aggregate.clone();
        if !events.is_empty() {
            match store
                .events
                .commit(events.clone(), context, meta.to_map())
                .await
            {
                Ok(_) => {}
                Err(AggregateError::AggregateConflict) => {
                    tracing::debug!(aggregate = A::TYPE, id, attempt, "write conflict, retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        let version = (base + events.len()) as u64;
        if !events.is_empty() {
            store.remember(id, &aggregate, version as usize);
        }
        // The command is committed: a failure from here on must not answer an error.
        let position = committed_position(&store.pool, A::TYPE, id, version).await;
        return Ok(Committed {
            aggregate,
            version,
            events,
            position,
        });
    }
    Err(ApiError::conflict(
        "concurrent_write",
        "the resource was changed by other requests at the same time; try again",
    ))
}

/// The position of a committed event, or 0 ("unknown": read without waiting) when the
/// database cannot tell right now; a committed command is never answered with an error.
async fn committed_position(pool: &PgPool, aggregate_type: &str, id: &str, version: u64) -> i64 {
    for attempt in 0..3u64 {
        match position_of(pool, aggregate_type, id, version).await {
            Ok(position) => return position,
            Err(error) => {
                tracing::warn!(aggregate = aggregate_type, id, version, attempt, %error,
                    "committed, but its position could not be read");
                tokio::time::sleep(Duration::from_millis(25 * (attempt + 1))).await;
            }
        }
    }
    0
}

/// The global position of an aggregate's event at a version (0 for version 0).
pub async fn position_of(
    pool: &PgPool,
    aggregate_type: &str,
    id: &str,
    version: u64,
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

fn backoff(attempt: u32) -> Duration {
    // Small, growing and jittered, so racing writers spread out.
    let jitter = u64::from(rand::random::<u8>() % 8);
    Duration::from_millis(2u64.pow(attempt.min(6)) + jitter)
}

/// Maps a store failure to 503 when the database is unreachable, 500 otherwise.
pub fn store_error<E: std::error::Error>(error: AggregateError<E>) -> ApiError {
    let boxed = match error {
        AggregateError::UserError(e) => return ApiError::internal(e),
        AggregateError::AggregateConflict => {
            return ApiError::conflict("concurrent_write", "concurrent write; try again");
        }
        AggregateError::DatabaseConnectionError(e)
        | AggregateError::DeserializationError(e)
        | AggregateError::UnexpectedError(e) => e,
    };
    match boxed.downcast::<sqlx::Error>() {
        Ok(sql) => ApiError::from(*sql),
        Err(other) => ApiError::internal(other),
    }
}
