//! Group commit: the events of commands that arrive together go to Postgres in one
//! statement, on connections of the writer's own.
//!
//! A command hands its events to the writer and waits for the answer. A few workers, each
//! with one connection, take whatever commands are waiting (up to [`MAX_ROWS`] events) and
//! insert them with one multi-row `INSERT`: under load, one round trip and one commit carry
//! many commands; alone, a command goes at once. Nothing waits on a timer.
//!
//! Each command stays all or nothing:
//! - An event already stored at one of a command's sequences (another process wrote the
//!   aggregate) fails the statement with a unique violation. The batch is then written again
//!   one command at a time, and only the command that met the key is told [`Written::Conflict`].
//! - A command may carry a [`Guard`]: its events are inserted only if no event of another
//!   aggregate was stored after the version the command was decided on (a register command
//!   decided on a course as of version 12 is refused if the course has a 13th event). The
//!   check is in the same statement, so all of a command's events pass or none do
//!   ([`Written::Stale`]).
//!
//! Failures answer fast: a worker that cannot connect answers every waiting command with
//! the error (the API's 503). A statement that fails on a connection that was already open
//! is tried once more on a new one (Postgres may have restarted). That is safe: if the first
//! try did commit, the second meets the primary key and the command is decided again on
//! fresh state, which holds its own events.

use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgRow, PgSeverity};
use sqlx::{ConnectOptions, PgConnection, PgPool, Row};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Workers, each with its own connection.
const WORKERS: usize = 3;
/// A batch takes no more commands once it holds this many events.
pub const MAX_ROWS: usize = 2000;
/// Commands waiting for a worker at most; a command beyond waits to be queued.
const QUEUE: usize = 4096;

/// Inserts the events of several commands in order, each command only if its guard holds
/// (checked once per command), and answers where each event went.
const INSERT_EVENTS: &str = "
WITH command AS (
  SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
           WITH ORDINALITY
           AS c(aggregate_type, aggregate_id, metadata, guard_type, guard_id, guard_version, j)
), allowed AS (
  SELECT * FROM command c
   WHERE c.guard_type IS NULL
      OR NOT EXISTS (SELECT 1 FROM events g
                      WHERE g.aggregate_type = c.guard_type AND g.aggregate_id = c.guard_id
                        AND g.sequence > c.guard_version)
)
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT a.aggregate_type, a.aggregate_id, e.sequence, e.event_type, e.event_version,
       e.payload::json, a.metadata::json
  FROM UNNEST($7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY
       AS e(j, sequence, event_type, event_version, payload, n)
  JOIN allowed a ON a.j = e.j
 ORDER BY e.n
RETURNING aggregate_type, aggregate_id, sequence, global_position";

/// One command's events, serialized: all of one aggregate, with consecutive sequences.
#[derive(Debug, Clone)]
pub struct NewEvents {
    /// The aggregate's type.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// The sequence of the first event; the others follow it.
    pub first_sequence: usize,
    /// The events, in order.
    pub events: Vec<NewEvent>,
    /// The command's metadata (JSON), stored with each event.
    pub metadata: String,
}

/// One event, serialized.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Its type name.
    pub event_type: String,
    /// Its schema version.
    pub event_version: String,
    /// Its payload (JSON).
    pub payload: String,
}

impl NewEvents {
    /// The sequence of the last event.
    fn last_sequence(&self) -> usize {
        self.first_sequence + self.events.len().saturating_sub(1)
    }
}

/// A condition on another aggregate: no event of it after `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// Its type.
    pub aggregate_type: &'static str,
    /// Its id.
    pub aggregate_id: String,
    /// The version the command was decided on.
    pub version: u64,
}

/// What became of one command's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored; the global position of the last one.
    Stored(i64),
    /// An event was already stored at one of the sequences: decided on an outdated state.
    Conflict,
    /// The guard's aggregate has events after the guarded version: nothing stored.
    Stale,
}

/// One command's events and where to answer.
struct Job {
    events: NewEvents,
    guard: Option<Guard>,
    reply: oneshot::Sender<Result<Written, sqlx::Error>>,
}

/// The group-commit writer of one database. Its workers start with the first write and
/// stop when the writer is dropped.
pub struct EventWriter {
    options: PgConnectOptions,
    connect_timeout: Duration,
    queue: OnceLock<mpsc::Sender<Job>>,
    counters: Arc<Counters>,
}

/// What the writer did since it started.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WriterStats {
    /// Commands answered by a statement that succeeded (stored, or refused by their guard).
    pub commands: u64,
    /// Statements that carried them (fewer than commands when commits were shared).
    pub statements: u64,
    /// Commands handed to the writer and not answered yet.
    pub pending: u64,
}

#[derive(Default)]
struct Counters {
    commands: AtomicU64,
    statements: AtomicU64,
    pending: AtomicU64,
}

/// Counts a command as pending while it lives (also when its caller gives up waiting).
struct Pending<'a>(&'a AtomicU64);

impl<'a> Pending<'a> {
    fn new(counter: &'a AtomicU64) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Pending(counter)
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl EventWriter {
    /// A writer on the database of `pool`, connecting as the pool does.
    pub fn new(pool: &PgPool) -> EventWriter {
        EventWriter {
            // One statement, run thousands of times a second with arrays of any length:
            // planned once, not on every run.
            options: (*pool.connect_options())
                .clone()
                .application_name("attendance-event-writer")
                .options([("plan_cache_mode", "force_generic_plan")]),
            connect_timeout: pool.options().get_acquire_timeout(),
            queue: OnceLock::new(),
            counters: Arc::default(),
        }
    }

    /// What the writer did since it started.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            commands: self.counters.commands.load(Ordering::Relaxed),
            statements: self.counters.statements.load(Ordering::Relaxed),
            pending: self.counters.pending.load(Ordering::Relaxed),
        }
    }

    fn queue(&self) -> &mpsc::Sender<Job> {
        self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            let receiver = Arc::new(Mutex::new(receiver));
            for _ in 0..WORKERS {
                let worker = Worker {
                    options: self.options.clone(),
                    connect_timeout: self.connect_timeout,
                    connection: None,
                    counters: self.counters.clone(),
                };
                tokio::spawn(worker.run(receiver.clone()));
            }
            sender
        })
    }

    /// Writes one command's events (at least one).
    pub async fn write(
        &self,
        events: NewEvents,
        guard: Option<Guard>,
    ) -> Result<Written, sqlx::Error> {
        let _pending = Pending::new(&self.counters.pending);
        let (reply, answer) = oneshot::channel();
        let job = Job {
            events,
            guard,
            reply,
        };
        if self.queue().send(job).await.is_err() {
            return Err(sqlx::Error::PoolClosed);
        }
        answer.await.unwrap_or(Err(sqlx::Error::WorkerCrashed))
    }
}

/// Whether an insert failed because an event was already stored at one of its sequences
/// (the optimistic-lock conflict: decide again on fresh state).
pub fn is_write_conflict(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

/// The statement's columns for a set of commands: one row per command, one per event.
#[derive(Default)]
struct Batch<'a> {
    types: Vec<&'a str>,
    ids: Vec<&'a str>,
    metadata: Vec<&'a str>,
    guard_types: Vec<Option<&'static str>>,
    guard_ids: Vec<Option<&'a str>>,
    guard_versions: Vec<Option<i64>>,
    commands: Vec<i64>,
    sequences: Vec<i64>,
    event_types: Vec<&'a str>,
    versions: Vec<&'a str>,
    payloads: Vec<&'a str>,
}

impl<'a> Batch<'a> {
    fn of(commands: impl IntoIterator<Item = (&'a NewEvents, Option<&'a Guard>)>) -> Batch<'a> {
        let mut batch = Batch::default();
        for (n, (command, guard)) in commands.into_iter().enumerate() {
            batch.types.push(&command.aggregate_type);
            batch.ids.push(&command.aggregate_id);
            batch.metadata.push(&command.metadata);
            batch.guard_types.push(guard.map(|g| g.aggregate_type));
            batch.guard_ids.push(guard.map(|g| g.aggregate_id.as_str()));
            batch.guard_versions.push(guard.map(|g| g.version as i64));
            for (event, sequence) in command.events.iter().zip(command.first_sequence..) {
                batch.commands.push(n as i64 + 1);
                batch.sequences.push(sequence as i64);
                batch.event_types.push(&event.event_type);
                batch.versions.push(&event.event_version);
                batch.payloads.push(&event.payload);
            }
        }
        batch
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(INSERT_EVENTS)
            .bind(&self.types)
            .bind(&self.ids)
            .bind(&self.metadata)
            .bind(&self.guard_types)
            .bind(&self.guard_ids)
            .bind(&self.guard_versions)
            .bind(&self.commands)
            .bind(&self.sequences)
            .bind(&self.event_types)
            .bind(&self.versions)
            .bind(&self.payloads)
    }
}

/// One worker and its connection.
struct Worker {
    options: PgConnectOptions,
    connect_timeout: Duration,
    connection: Option<PgConnection>,
    counters: Arc<Counters>,
}

impl Worker {
    async fn run(mut self, queue: Arc<Mutex<mpsc::Receiver<Job>>>) {
        while let Some(jobs) = next_batch(&queue).await {
            self.write(jobs).await;
        }
        if let Some(connection) = self.connection.take() {
            let _ = sqlx::Connection::close(connection).await;
        }
    }

    /// Writes a batch. When Postgres refuses it (a key met, a deadlock with another
    /// process), each command is written alone, so that only the one at fault hears of it.
    async fn write(&mut self, jobs: Vec<Job>) {
        // A command whose caller has gone was never acknowledged: leaving it out is safe.
        let jobs: Vec<Job> = jobs.into_iter().filter(|j| !j.reply.is_closed()).collect();
        if jobs.is_empty() {
            return;
        }
        match self.insert(&jobs).await {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(error) if broken(&error) => {
                for job in jobs {
                    let _ = job.reply.send(Err(unavailable(&error)));
                }
            }
            Err(error) if jobs.len() == 1 => {
                let outcome = if is_write_conflict(&error) {
                    Ok(Written::Conflict)
                } else {
                    Err(error)
                };
                let _ = jobs.into_iter().next().map(|job| job.reply.send(outcome));
            }
            Err(error) => {
                tracing::debug!(%error, commands = jobs.len(), "batch refused; writing each command alone");
                for job in jobs {
                    let outcome = match self.insert(std::slice::from_ref(&job)).await {
                        Ok(mut outcomes) => Ok(outcomes.remove(0)),
                        Err(error) if is_write_conflict(&error) => Ok(Written::Conflict),
                        Err(error) => Err(error),
                    };
                    let _ = job.reply.send(outcome);
                }
            }
        }
    }

    /// Runs the statement for `jobs`, once more on a new connection when the open one failed.
    async fn insert(&mut self, jobs: &[Job]) -> Result<Vec<Written>, sqlx::Error> {
        let batch = Batch::of(jobs.iter().map(|j| (&j.events, j.guard.as_ref())));
        let reused = self.connection.is_some();
        match self.try_insert(jobs, &batch).await {
            Err(error) if reused && broken(&error) => {
                tracing::info!(%error, "event writer: connection lost, trying a new one");
                self.try_insert(jobs, &batch).await
            }
            other => other,
        }
    }

    async fn try_insert(
        &mut self,
        jobs: &[Job],
        batch: &Batch<'_>,
    ) -> Result<Vec<Written>, sqlx::Error> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            empty => {
                let connect = self.options.connect();
                let connection = tokio::time::timeout(self.connect_timeout, connect)
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)??;
                empty.insert(connection)
            }
        };
        let result = batch.query().fetch_all(&mut *connection).await;
        self.counters.statements.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(rows) => {
                let outcomes = outcomes(jobs, &rows)?;
                let commands = &self.counters.commands;
                commands.fetch_add(jobs.len() as u64, Ordering::Relaxed);
                Ok(outcomes)
            }
            Err(error) => {
                if broken(&error) {
                    self.connection = None;
                }
                Err(error)
            }
        }
    }
}

/// The error a broken connection gives each command of its batch: the database is
/// unavailable (the API's 503).
fn unavailable(error: &sqlx::Error) -> sqlx::Error {
    match error {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::Io(e) => sqlx::Error::Io(std::io::Error::new(e.kind(), e.to_string())),
        other => sqlx::Error::Io(std::io::Error::other(other.to_string())),
    }
}

/// An error that may have left the connection unusable: anything but an error Postgres
/// answered about the statement. A connection Postgres itself ends (shutdown, restart, a
/// terminated backend: a FATAL error, classes 08 and 57) is unusable too.
fn broken(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            let fatal = db
                .try_downcast_ref::<PgDatabaseError>()
                .is_some_and(|pg| matches!(pg.severity(), PgSeverity::Fatal | PgSeverity::Panic));
            let class = db
                .code()
                .map(|code| code.chars().take(2).collect::<String>());
            fatal || matches!(class.as_deref(), Some("08" | "57"))
        }
        _ => true,
    }
}

/// The commands waiting, until they reach [`MAX_ROWS`] events (at least one command); none
/// once the writer is gone.
async fn next_batch(queue: &Mutex<mpsc::Receiver<Job>>) -> Option<Vec<Job>> {
    let mut queue = queue.lock().await;
    let first = queue.recv().await?;
    let mut rows = first.events.events.len();
    let mut jobs = vec![first];
    while rows < MAX_ROWS {
        let Ok(job) = queue.try_recv() else { break };
        rows += job.events.events.len();
        jobs.push(job);
    }
    Some(jobs)
}

/// What the returned rows say of each command: stored (where its last event went), or
/// nothing stored because its guard failed.
fn outcomes(jobs: &[Job], rows: &[PgRow]) -> Result<Vec<Written>, sqlx::Error> {
    let mut stored = HashMap::with_capacity(rows.len());
    for row in rows {
        let key: (String, String, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        stored.insert(key, row.try_get::<i64, _>(3)?);
    }
    jobs.iter()
        .map(|job| {
            let command = &job.events;
            let key = (
                command.aggregate_type.clone(),
                command.aggregate_id.clone(),
                command.last_sequence() as i64,
            );
            match stored.get(&key) {
                Some(position) => Ok(Written::Stored(*position)),
                None if job.guard.is_some() => Ok(Written::Stale),
                None => Err(sqlx::Error::Protocol(format!(
                    "events of {}/{} were neither stored nor refused",
                    command.aggregate_type, command.aggregate_id
                ))),
            }
        })
        .collect()
}
