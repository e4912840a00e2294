//! The write side: loading an aggregate from the event store, deciding, and committing the
//! new events with their metadata. A concurrent write on the same aggregate is retried on
//! fresh state a bounded number of times, then answered 409.
//!
//! Each store keeps its aggregates as of their last known version. A read ([`load`]) reads
//! only the events stored since. A command ([`execute`]) first decides on the kept state
//! without reading at all, because its insert checks that state anyway: the new events'
//! sequences continue the kept version, and the primary key refuses them if any other event
//! was stored since. A command that also depends on another aggregate (a register command on
//! its course) can have the insert check that one too ([`execute_guarded`]).
//!
//! Deciding copies nothing: the aggregates decide on shared state ([`Decide`]), and a
//! command's events are applied to the kept state in place once they are stored.
//! Inserts go through the group-commit writer ([`crate::app::writer`]).

use crate::app::error::AppError;
use crate::app::writer::{EventWriter, Guard, NewEvent, NewEvents, Written};
use cqrs_es::persist::{PersistedEventRepository, PersistenceError};
use cqrs_es::{Aggregate, DomainEvent};
use domain::course::Course;
use domain::register::Register;
use domain::standing::Standing;
use domain::{Actor, CourseId, Decide};
use postgres_es::PostgresEventRepository;
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
    /// cqrs-es's repository interface: postgres-es reads (writes go through the writer).
    repository: PostgresEventRepository,
    /// Inserts, committed together with other commands'.
    writer: Arc<EventWriter>,
    /// Aggregates as of their last known version: a load reads only the events after it.
    cache: Mutex<HashMap<String, Known<A>>>,
    /// Aggregates kept; the cache is emptied when it reaches this.
    limit: usize,
    /// Whether an aggregate read with no events is kept too ([`Store::keeping_empty`]).
    keep_empty: bool,
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

/// Courses and registers kept in memory per store (a register holds its roster, a course
/// its enrolments and sessions); the cache is emptied when it reaches this.
const CACHE_LIMIT: usize = 512;

/// Standings kept in memory: one per course and student, each a few flags and figures
/// (about 200 bytes with its key, so at most about 6 MiB). The early warning decides one
/// for nearly every mark, across every course: a district's term has 16,000, and a cache
/// that emptied itself every 512 made each of those decisions a read.
pub const STANDINGS_LIMIT: usize = 32_768;

impl<A: Aggregate + Clone> Store<A> {
    /// An event store over a pool, writing through `writer`, keeping up to `limit`
    /// aggregates in memory.
    pub fn new(pool: &PgPool, writer: Arc<EventWriter>, limit: usize) -> Self {
        Store {
            pool: pool.clone(),
            repository: PostgresEventRepository::new(pool.clone()),
            writer,
            cache: Mutex::new(HashMap::new()),
            limit,
            keep_empty: false,
        }
    }

    /// Keeps an aggregate read with no events as well, so that the next command on it
    /// decides without reading (a write by another process meets the primary key, as for
    /// any cached state). For aggregates whose ids only the system makes (the standings,
    /// most of which never record a crossing); not for ids a request names, which would
    /// fill the cache with ids that do not exist.
    pub fn keeping_empty(mut self) -> Self {
        self.keep_empty = true;
        self
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
        if cache.len() >= self.limit && !cache.contains_key(id) {
            cache.clear();
        }
        cache.insert(id.to_string(), known.clone());
    }

    /// A command's stored events applied to the state it was decided on (`from`, at `base`):
    /// in place in the cache, which then usually holds the only reference, so nothing is
    /// copied.
    fn advance(
        &self,
        id: &str,
        base: usize,
        from: Arc<A>,
        events: &[A::Event],
        position: i64,
    ) -> Arc<A> {
        let version = base + events.len();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(kept) = cache.get_mut(id) {
            // A load read these events already.
            if kept.version >= version {
                return kept.aggregate.clone();
            }
            if kept.version == base {
                drop(from);
                let state = Arc::make_mut(&mut kept.aggregate);
                for event in events {
                    state.apply(event.clone());
                }
                kept.version = version;
                kept.position = position;
                return kept.aggregate.clone();
            }
        }
        drop(cache);
        let mut state = Arc::unwrap_or_clone(from);
        for event in events {
            state.apply(event.clone());
        }
        let known = Known {
            aggregate: Arc::new(state),
            version,
            position,
        };
        self.remember(id, &known);
        known.aggregate
    }

    /// The aggregate at its latest version: the cached state plus the events stored since
    /// (every process writes through the database and events never change, so the cache
    /// is always a valid prefix).
    async fn fresh(&self, id: &str) -> Result<Known<A>, AppError> {
        let mut known = self.cached(id).unwrap_or_default();
        let newer = self
            .repository
            .get_last_events::<A>(id, known.version)
            .await
            .map_err(read_error)?;
        if newer.is_empty() {
            if known.version == 0 && self.keep_empty {
                self.remember(id, &known);
            }
            return Ok(known);
        }
        for event in newer {
            let payload = upcast(&event.event_type, &event.event_version, event.payload);
            let payload: A::Event = serde_json::from_value(payload).map_err(AppError::internal)?;
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
fn read_error(error: PersistenceError) -> AppError {
    match error {
        PersistenceError::ConnectionError(e) | PersistenceError::UnknownError(e) => {
            match e.downcast::<sqlx::Error>() {
                Ok(sql) => AppError::from(*sql),
                Err(other) => AppError::internal(other),
            }
        }
        other => AppError::internal(other),
    }
}

/// The global position of an aggregate's event at a version (0 for version 0).
async fn position_of(
    pool: &PgPool,
    aggregate_type: &str,
    id: &str,
    version: usize,
) -> Result<i64, AppError> {
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

/// The event stores of the aggregates.
pub struct Stores {
    /// Courses.
    pub courses: Store<Course>,
    /// Registers.
    pub registers: Store<Register>,
    /// Students' standings (the early warning).
    pub standings: Store<Standing>,
    /// The group-commit writer both write through.
    pub writer: Arc<EventWriter>,
}

impl Stores {
    /// The stores of both aggregates over one pool, with one group-commit writer.
    pub fn new(pool: &PgPool) -> Self {
        let writer = Arc::new(EventWriter::new(pool));
        Stores {
            courses: Store::new(pool, writer.clone(), CACHE_LIMIT),
            registers: Store::new(pool, writer.clone(), CACHE_LIMIT),
            standings: Store::new(pool, writer.clone(), STANDINGS_LIMIT).keeping_empty(),
            writer,
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
    /// The scheduler (the automatic close of registers).
    Scheduler,
    /// The early warning's process manager (students' standings).
    Warnings,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Sheet => "sheet",
            Source::Cli => "cli",
            Source::Scheduler => "scheduler",
            Source::Warnings => "warnings",
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
    /// The metadata stored with each event: only what the event itself does not say. Who and
    /// when are in every event (`by`, `at`) and the table keeps `recorded_at`, so the user id,
    /// role and server time are not repeated here (about 110 bytes an event; events stored
    /// before 2026-12-03 still carry them, and [`event_store::outbox::StoredEvent::meta`]
    /// reads both shapes).
    fn to_map(&self) -> HashMap<String, String> {
        HashMap::from([
            ("request_id".to_string(), self.request_id.clone()),
            ("source".to_string(), self.source.as_str().to_string()),
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
) -> Result<(Arc<A>, u64), AppError> {
    let known = store.fresh(id).await?;
    Ok((known.aggregate, known.version as u64))
}

/// The aggregate as this process last knew it, without reading the store (read as [`load`]
/// does when it is not kept): for a command that guards its insert on this aggregate's
/// version ([`execute_guarded`]), which finds out then whether it was current.
pub async fn current<A: Aggregate + Clone>(
    store: &Store<A>,
    id: &str,
) -> Result<(Arc<A>, u64), AppError> {
    match store.cached(id) {
        Some(known) => Ok((known.aggregate, known.version as u64)),
        None => load(store, id).await,
    }
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
    decide: F,
) -> Result<Committed<A>, AppError>
where
    A: Decide + Clone,
    AppError: From<A::Error>,
    F: FnMut(&A) -> Result<Vec<A::Command>, AppError>,
{
    // Not known current: a no-op is decided again on fresh state.
    execute_in_order(store, id, meta, false, decide).await
}

/// [`execute`] for a writer whose commands come in one order that every writer of this
/// aggregate follows, each decided from inputs that do not depend on who decides: the early
/// warning's process manager and its replay, evaluating the stream's events in commit order
/// with figures folded as of each. When `cached_is_current` (the caller read this aggregate
/// afresh since it began deciding in that order), a decision that changes nothing, made on
/// the cached state, is final: another writer's events missing from the cache were decided
/// from the same inputs in the same order, so this writer decided them too and its insert
/// met them at the primary key and read them. That saves [`execute`]'s read per no-op
/// (a term's marks are almost all no-ops for the early warning).
pub async fn execute_in_order<A, F>(
    store: &Store<A>,
    id: &str,
    meta: &CommandMeta,
    cached_is_current: bool,
    decide: F,
) -> Result<Committed<A>, AppError>
where
    A: Decide + Clone,
    AppError: From<A::Error>,
    F: FnMut(&A) -> Result<Vec<A::Command>, AppError>,
{
    let noop = if cached_is_current {
        NoOp::Final
    } else {
        NoOp::ReadAgain
    };
    execute_with(store, id, meta, None, noop, decide)
        .await?
        .ok_or_else(|| AppError::internal("a command without a guard was refused as stale"))
}

/// What a command that changes nothing on the cached state does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NoOp {
    /// Decides again on state read afresh.
    ReadAgain,
    /// Stands ([`execute_in_order`]).
    Final,
}

/// [`execute`], with the insert also checking `guard`: that the other aggregate the command
/// was decided with has no events after the guarded version. `None` when it has: nothing was
/// written, and the caller decides again with that aggregate read afresh.
pub async fn execute_guarded<A, F>(
    store: &Store<A>,
    id: &str,
    meta: &CommandMeta,
    guard: Option<Guard>,
    decide: F,
) -> Result<Option<Committed<A>>, AppError>
where
    A: Decide + Clone,
    AppError: From<A::Error>,
    F: FnMut(&A) -> Result<Vec<A::Command>, AppError>,
{
    execute_with(store, id, meta, guard, NoOp::ReadAgain, decide).await
}

async fn execute_with<A, F>(
    store: &Store<A>,
    id: &str,
    meta: &CommandMeta,
    guard: Option<Guard>,
    noop: NoOp,
    mut decide: F,
) -> Result<Option<Committed<A>>, AppError>
where
    A: Decide + Clone,
    AppError: From<A::Error>,
    F: FnMut(&A) -> Result<Vec<A::Command>, AppError>,
{
    let _queued = stripe(A::TYPE, id).lock().await;
    let guard = guard.as_ref();
    if let Some(cached) = store.cached(id) {
        match attempt(store, id, meta, &mut decide, cached, guard).await {
            Ok(Tried::Committed(done)) if done.changed() || noop == NoOp::Final => {
                return Ok(Some(done));
            }
            Ok(Tried::Stale) => return Ok(None),
            Ok(Tried::Committed(_) | Tried::Conflict) | Err(Failure::Refused(_)) => {
                tracing::debug!(aggregate = A::TYPE, id, "deciding again on fresh state");
            }
            Err(Failure::Store(error)) => return Err(error),
        }
    }
    for attempt_no in 0..MAX_ATTEMPTS {
        let known = store.fresh(id).await?;
        match attempt(store, id, meta, &mut decide, known, guard).await {
            Ok(Tried::Committed(done)) => return Ok(Some(done)),
            Ok(Tried::Stale) => return Ok(None),
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
    Err(AppError::conflict(
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
    /// The guard's aggregate changed after the version decided on; nothing stored.
    Stale,
}

/// Why a try failed.
enum Failure {
    /// Before writing: the command was refused, or its events could not be serialized.
    Refused(AppError),
    /// Writing: the database failed (the events may or may not be stored).
    Store(AppError),
}

/// Decides on `known` and inserts the resulting events after `known.version`.
async fn attempt<A, F>(
    store: &Store<A>,
    id: &str,
    meta: &CommandMeta,
    decide: &mut F,
    known: Known<A>,
    guard: Option<&Guard>,
) -> Result<Tried<A>, Failure>
where
    A: Decide + Clone,
    AppError: From<A::Error>,
    F: FnMut(&A) -> Result<Vec<A::Command>, AppError>,
{
    let Known {
        aggregate,
        version: base,
        position,
    } = known;
    let commands = decide(&aggregate).map_err(Failure::Refused)?;
    let events = decide_all(&*aggregate, commands).map_err(|e| Failure::Refused(e.into()))?;
    if events.is_empty() {
        return Ok(Tried::Committed(Committed {
            aggregate,
            version: base as u64,
            events,
            position,
        }));
    }
    let serialized = serialize::<A>(id, base, &events, meta).map_err(Failure::Refused)?;
    let position = match store.writer.write(serialized, guard.cloned()).await {
        Ok(Written::Stored(position)) => position,
        Ok(Written::Conflict) => return Ok(Tried::Conflict),
        Ok(Written::Stale) => return Ok(Tried::Stale),
        Err(error) => return Err(Failure::Store(error.into())),
    };
    // Committed: nothing from here on may answer an error.
    let aggregate = store.advance(id, base, aggregate, &events, position);
    Ok(Tried::Committed(Committed {
        aggregate,
        version: (base + events.len()) as u64,
        events,
        position,
    }))
}

/// The events of `commands` run one after the other on `state`, without changing it: a
/// later command is decided on a copy with the earlier commands' events applied, made only
/// when there is such a command. A dry run (an import's preview) decides with it too.
pub fn decide_all<A: Decide + Clone>(
    state: &A,
    commands: Vec<A::Command>,
) -> Result<Vec<A::Event>, A::Error> {
    let count = commands.len();
    let mut events = Vec::new();
    let mut working: Option<A> = None;
    for (n, command) in commands.into_iter().enumerate() {
        let new = working.as_ref().unwrap_or(state).decide(command)?;
        if n + 1 < count && !new.is_empty() {
            let working = working.get_or_insert_with(|| state.clone());
            for event in &new {
                working.apply(event.clone());
            }
        }
        events.extend(new);
    }
    Ok(events)
}

/// A command's events as stored, as cqrs-es's event store serializes them: sequences after
/// `base`, each with the command's metadata.
fn serialize<A: Aggregate>(
    id: &str,
    base: usize,
    events: &[A::Event],
    meta: &CommandMeta,
) -> Result<NewEvents, AppError> {
    let events = events
        .iter()
        .map(|event| {
            Ok(NewEvent {
                event_type: event.event_type(),
                event_version: event.event_version(),
                payload: serde_json::to_string(event).map_err(AppError::internal)?,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(NewEvents {
        aggregate_type: A::TYPE.to_string(),
        aggregate_id: id.to_string(),
        first_sequence: base + 1,
        events,
        metadata: serde_json::to_string(&meta.to_map()).map_err(AppError::internal)?,
    })
}

fn backoff(attempt: u32) -> Duration {
    // Small, growing and jittered, so racing writers spread out.
    let jitter = u64::from(rand::random::<u8>() % 8);
    Duration::from_millis(2u64.pow(attempt.min(6)) + jitter)
}
