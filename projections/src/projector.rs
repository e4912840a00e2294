//! Named, checkpointed, idempotent projectors.
//!
//! A [`Projection`] is a pure fold over documents keyed by an event-derived key, plus how
//! to load and save those documents. [`apply_batch`] applies a batch in one transaction:
//! per aggregate, an event at or below the checkpoint is skipped (redelivery), the next one
//! is applied, a later one is a gap and left for redelivery; documents and checkpoints are
//! saved together. [`rebuild`] drops a projection and refolds it from the event store in
//! commit order, under the same lock, so live batches resume after it without gaps or
//! double counts.

use crate::event::ProjectedEvent;
use event_store::outbox::{EVENT_COLUMNS, StoredEvent};
use futures::TryStreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// What changed in a document since it was loaded or saved, so that saving writes only that
/// (a document is not copied to compare with afterwards). Not part of the document: never
/// stored, and equal to any other.
///
/// A document that is not tracked (new, or folded by a rebuild) is written whole.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    tracked: bool,
    head: bool,
    all: bool,
    parts: BTreeSet<String>,
}

impl Changes {
    /// Nothing changed yet: a document as loaded or saved.
    pub fn clean() -> Changes {
        Changes {
            tracked: true,
            ..Changes::default()
        }
    }

    /// The document's head changed.
    pub fn head(&mut self) {
        self.head = true;
    }

    /// The head changed in a way that may change every part derived from it.
    pub fn everything(&mut self) {
        self.head = true;
        self.all = true;
    }

    /// One part of the document changed (a student's marks, a roster line).
    pub fn part(&mut self, key: &str) {
        if self.tracked && !self.parts.contains(key) {
            self.parts.insert(key.to_string());
        }
    }

    /// Whether the head is to be written.
    pub fn head_changed(&self) -> bool {
        !self.tracked || self.head
    }

    /// Whether a part, or what derives from it, is to be written.
    pub fn part_changed(&self, key: &str) -> bool {
        !self.tracked || self.all || self.parts.contains(key)
    }

    /// The parts to write, when not all of them are.
    pub fn changed_parts(&self) -> Option<&BTreeSet<String>> {
        (self.tracked && !self.all).then_some(&self.parts)
    }

    /// The parts events changed themselves (whatever happened to the head), when not all
    /// of them are to be written.
    pub fn touched_parts(&self) -> Option<&BTreeSet<String>> {
        self.tracked.then_some(&self.parts)
    }
}

impl PartialEq for Changes {
    fn eq(&self, _: &Changes) -> bool {
        true
    }
}

/// A read model: a pure fold over keyed documents, and its storage.
pub trait Projection: Send + Sync + 'static {
    /// The projector's stable name (also its consumer's and checkpoints' name).
    const NAME: &'static str;
    /// The table of its documents (with a `revision` column) and its key column.
    const TABLE: &'static str;
    /// The key column of [`Projection::TABLE`].
    const KEY: &'static str;
    /// One document.
    type Model: Default + Clone + Send + Sync + Serialize + DeserializeOwned;

    /// The document an event changes, if any.
    fn key(event: &ProjectedEvent) -> Option<String>;

    /// The fold.
    fn apply(model: &mut Self::Model, event: &ProjectedEvent);

    /// Its change tracking.
    fn changes(model: &mut Self::Model) -> &mut Changes;

    /// Loads the stored documents with these keys (with clean change tracking).
    fn load(
        conn: &mut PgConnection,
        keys: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Self::Model>, sqlx::Error>> + Send;

    /// Saves documents (and whatever rows derive from them): of a tracked document, only
    /// what its [`Changes`] name.
    fn save(
        conn: &mut PgConnection,
        models: &BTreeMap<String, Self::Model>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// Deletes every document.
    fn reset(conn: &mut PgConnection) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

    /// The keys of every stored document.
    fn keys(
        conn: &mut PgConnection,
    ) -> impl Future<Output = Result<Vec<String>, sqlx::Error>> + Send {
        doc_keys(conn, Self::TABLE, Self::KEY)
    }

    /// About how many bytes a document takes in memory, to bound [`DocCache`].
    fn weight(model: &Self::Model) -> usize;
}

/// The keys of every document of a read-model table.
pub async fn doc_keys(
    conn: &mut PgConnection,
    table: &str,
    key_column: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT {key_column} FROM {table} ORDER BY {key_column}"
    ))
    .fetch_all(conn)
    .await
}

/// What happened to one event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Applied now.
    Applied,
    /// Already applied before (redelivery or replay).
    Skipped,
    /// An earlier event of its aggregate is missing: try again later.
    Gap,
}

async fn lock(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('projector:' || $1))")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

type AggregateKey = (String, String);

async fn load_checkpoints(
    conn: &mut PgConnection,
    name: &str,
    events: &[ProjectedEvent],
) -> Result<HashMap<AggregateKey, i64>, sqlx::Error> {
    let (types, ids): (Vec<_>, Vec<_>) = events
        .iter()
        .map(|e| (e.aggregate_type.clone(), e.aggregate_id.clone()))
        .unzip();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT c.aggregate_type, c.aggregate_id, c.last_sequence FROM projector_checkpoints c
           JOIN unnest($2::text[], $3::text[]) AS k(t, i) ON c.aggregate_type = k.t AND c.aggregate_id = k.i
          WHERE c.projector = $1",
    )
    .bind(name)
    .bind(&types)
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(t, i, s)| ((t, i), s)).collect())
}

async fn save_checkpoints(
    conn: &mut PgConnection,
    name: &str,
    checkpoints: &HashMap<AggregateKey, i64>,
) -> Result<(), sqlx::Error> {
    let mut types = Vec::with_capacity(checkpoints.len());
    let mut ids = Vec::with_capacity(checkpoints.len());
    let mut sequences = Vec::with_capacity(checkpoints.len());
    for ((t, i), s) in checkpoints {
        types.push(t.clone());
        ids.push(i.clone());
        sequences.push(*s);
    }
    sqlx::query(
        "INSERT INTO projector_checkpoints (projector, aggregate_type, aggregate_id, last_sequence)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[])
         ON CONFLICT (projector, aggregate_type, aggregate_id) DO UPDATE SET last_sequence = excluded.last_sequence",
    )
    .bind(name)
    .bind(&types)
    .bind(&ids)
    .bind(&sequences)
    .execute(conn)
    .await?;
    Ok(())
}

async fn advance_state(
    conn: &mut PgConnection,
    name: &str,
    position: i64,
    applied: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projector_state (projector, position, applied) VALUES ($1, $2, $3)
         ON CONFLICT (projector) DO UPDATE SET position = GREATEST(projector_state.position, excluded.position),
           applied = projector_state.applied + excluded.applied, updated_at = now()",
    )
    .bind(name)
    .bind(position)
    .bind(applied)
    .execute(conn)
    .await?;
    Ok(())
}

/// The documents a projector process wrote last, each with the revision it was stored at.
///
/// A batch reuses a cached document instead of reading and parsing it again, but only after
/// checking (in the batch's transaction, under the projector's lock) that the stored revision
/// is still the one this process wrote: revisions come from one sequence and are never
/// reused, so a rebuild or a batch applied by another projector process is always noticed.
/// Bounded by the documents' approximate size; the least recently used go first.
pub struct DocCache<M> {
    entries: HashMap<String, Cached<M>>,
    bytes: usize,
    limit: usize,
    clock: u64,
}

struct Cached<M> {
    doc: M,
    revision: i64,
    bytes: usize,
    used: u64,
}

/// What a projector keeps in memory by default: 16 MiB of documents.
pub const CACHE_BYTES: usize = 16 << 20;

impl<M> DocCache<M> {
    /// An empty cache holding about `limit` bytes of documents.
    pub fn new(limit: usize) -> Self {
        DocCache {
            entries: HashMap::new(),
            bytes: 0,
            limit,
            clock: 0,
        }
    }

    /// Documents held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no document.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn forget(&mut self, key: &str) {
        self.take(key);
    }

    /// Removes a document, handing it over with its revision.
    fn take(&mut self, key: &str) -> Option<(M, i64)> {
        let old = self.entries.remove(key)?;
        self.bytes -= old.bytes;
        Some((old.doc, old.revision))
    }

    fn keep(&mut self, key: String, doc: M, revision: i64, bytes: usize) {
        self.forget(&key);
        self.clock += 1;
        self.bytes += bytes;
        let used = self.clock;
        self.entries.insert(
            key,
            Cached {
                doc,
                revision,
                bytes,
                used,
            },
        );
        while self.bytes > self.limit && self.entries.len() > 1 {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.forget(&oldest);
        }
    }
}

/// The stored revisions of the documents with these keys.
async fn revisions<P: Projection>(
    conn: &mut PgConnection,
    keys: &[String],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let sql = format!(
        "SELECT {key}, revision FROM {table} WHERE {key} = ANY($1)",
        key = P::KEY,
        table = P::TABLE
    );
    keyed_revisions(conn, &sql, keys).await
}

/// Gives the saved documents new revisions, and returns them.
async fn new_revisions<P: Projection>(
    conn: &mut PgConnection,
    keys: &[String],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let sql = format!(
        "UPDATE {table} SET revision = nextval('rm_doc_revision') WHERE {key} = ANY($1) RETURNING {key}, revision",
        key = P::KEY,
        table = P::TABLE
    );
    keyed_revisions(conn, &sql, keys).await
}

/// Runs a statement over `$1` keys answering `key, revision` rows.
async fn keyed_revisions(
    conn: &mut PgConnection,
    sql: &str,
    keys: &[String],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(sql).bind(keys).fetch_all(conn).await?;
    Ok(rows.into_iter().collect())
}

/// Loads documents stored in two parts: each head from the projection's table (its `doc` and
/// `position` columns), then the parts `parts_sql` answers as `key, part key, part` rows for
/// the `$1` keys, put in place by `place`. The documents come with clean change tracking.
pub async fn load_split<P, Part>(
    conn: &mut PgConnection,
    keys: &[String],
    parts_sql: &str,
    set_position: fn(&mut P::Model, i64),
    place: fn(&mut P::Model, String, Part),
) -> Result<HashMap<String, P::Model>, sqlx::Error>
where
    P: Projection,
    P::Model: Unpin,
    Part: DeserializeOwned + Send + Unpin + 'static,
{
    let sql = format!(
        "SELECT {key}, doc, position FROM {table} WHERE {key} = ANY($1)",
        key = P::KEY,
        table = P::TABLE
    );
    let heads: Vec<(String, Json<P::Model>, i64)> = sqlx::query_as(&sql)
        .bind(keys)
        .fetch_all(&mut *conn)
        .await?;
    let mut docs: HashMap<String, P::Model> = heads
        .into_iter()
        .map(|(key, Json(mut doc), position)| {
            set_position(&mut doc, position);
            *P::changes(&mut doc) = Changes::clean();
            (key, doc)
        })
        .collect();
    let parts: Vec<(String, String, Json<Part>)> = sqlx::query_as(parts_sql)
        .bind(keys)
        .fetch_all(&mut *conn)
        .await?;
    for (key, part_key, Json(part)) in parts {
        if let Some(doc) = docs.get_mut(&key) {
            place(doc, part_key, part);
        }
    }
    Ok(docs)
}

/// The stored documents with these keys, and the stored revisions, taken out of the cache where
/// it is current and read from the database otherwise; keys without a stored document are
/// absent. The caller puts them back ([`DocCache::keep`]) once its transaction is known to
/// have committed.
async fn current_docs<P: Projection>(
    conn: &mut PgConnection,
    keys: &[String],
    cache: &mut DocCache<P::Model>,
) -> Result<(HashMap<String, P::Model>, HashMap<String, i64>), sqlx::Error> {
    let stored = revisions::<P>(conn, keys).await?;
    let mut docs = HashMap::with_capacity(keys.len());
    let mut missing = Vec::new();
    for key in keys {
        match (stored.get(key), cache.take(key)) {
            (Some(revision), Some((doc, kept))) if kept == *revision => {
                docs.insert(key.clone(), doc);
            }
            (Some(_), _) => missing.push(key.clone()),
            (None, _) => {}
        }
    }
    if !missing.is_empty() {
        docs.extend(P::load(conn, &missing).await?);
    }
    Ok((docs, stored))
}

/// Applies a batch (in delivery order) in one transaction; one decision per event.
/// `cache` holds documents between batches of this process (see [`DocCache`]).
pub async fn apply_batch<P: Projection>(
    pool: &PgPool,
    events: &[ProjectedEvent],
    cache: &mut DocCache<P::Model>,
) -> Result<Vec<Decision>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, P::NAME).await?;
    let mut checkpoints = load_checkpoints(&mut tx, P::NAME, events).await?;
    let mut keys: Vec<String> = events.iter().filter_map(P::key).collect();
    keys.sort();
    keys.dedup();
    // Taken out of the cache: until the commit is known to have happened, no cached copy
    // may be trusted.
    let (mut loaded, stored) = current_docs::<P>(&mut tx, &keys, cache).await?;
    // Documents an event changes move here; the others stay in `loaded`.
    let mut touched = BTreeMap::new();
    let mut changed = HashMap::new();
    let mut decisions = Vec::with_capacity(events.len());
    let mut position = 0;
    for event in events {
        let aggregate = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let last = checkpoints.get(&aggregate).copied().unwrap_or(0);
        let decision = if event.sequence <= last {
            Decision::Skipped
        } else if event.sequence > last + 1 {
            Decision::Gap
        } else {
            if let Some(key) = P::key(event) {
                let model = touched
                    .entry(key.clone())
                    .or_insert_with(|| loaded.remove(&key).unwrap_or_default());
                P::apply(model, event);
            }
            checkpoints.insert(aggregate.clone(), event.sequence);
            changed.insert(aggregate, event.sequence);
            position = position.max(event.position);
            Decision::Applied
        };
        decisions.push(decision);
    }
    let applied = decisions
        .iter()
        .filter(|d| **d == Decision::Applied)
        .count() as i64;
    let mut revisions = HashMap::new();
    if applied > 0 {
        P::save(&mut tx, &touched).await?;
        let saved: Vec<String> = touched.keys().cloned().collect();
        revisions = new_revisions::<P>(&mut tx, &saved).await?;
        save_checkpoints(&mut tx, P::NAME, &changed).await?;
        advance_state(&mut tx, P::NAME, position, applied).await?;
    }
    tx.commit().await?;
    // Changed documents go back with their new revisions, the others as they were.
    for (key, mut doc) in touched {
        if let Some(revision) = revisions.get(&key) {
            *P::changes(&mut doc) = Changes::clean();
            let bytes = P::weight(&doc);
            cache.keep(key, doc, *revision, bytes);
        }
    }
    for (key, doc) in loaded {
        if let Some(revision) = stored.get(&key) {
            let bytes = P::weight(&doc);
            cache.keep(key, doc, *revision, bytes);
        }
    }
    Ok(decisions)
}

/// The outcome of a rebuild.
#[derive(Debug, Clone, Copy)]
pub struct Rebuilt {
    /// Events read from the store.
    pub events: u64,
    /// Documents written.
    pub documents: usize,
    /// Time taken.
    pub elapsed: Duration,
}

impl Rebuilt {
    /// Events per second.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Folds events into documents in memory: the same fold as the live projector.
pub fn fold<P: Projection>(docs: &mut BTreeMap<String, P::Model>, event: &ProjectedEvent) {
    if let Some(key) = P::key(event) {
        P::apply(docs.entry(key).or_default(), event);
    }
}

/// Drops the projection and refolds it from every event in the store, in commit order.
/// `progress` is called with (events so far, total).
pub async fn rebuild<P: Projection>(
    pool: &PgPool,
    mut progress: impl FnMut(u64, u64),
) -> Result<Rebuilt, sqlx::Error> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    lock(&mut tx, P::NAME).await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    P::reset(&mut tx).await?;
    sqlx::query("DELETE FROM projector_checkpoints WHERE projector = $1")
        .bind(P::NAME)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM projector_state WHERE projector = $1")
        .bind(P::NAME)
        .execute(&mut *tx)
        .await?;
    let mut docs = BTreeMap::new();
    let mut checkpoints = HashMap::new();
    let (mut count, mut position) = (0u64, 0i64);
    {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY tx_id, global_position");
        let mut rows = sqlx::query_as::<_, event_store::outbox::Row>(&sql).fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            let stored = StoredEvent::try_from(row)?;
            let event = ProjectedEvent::from_stored(&stored)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            fold::<P>(&mut docs, &event);
            checkpoints.insert((event.aggregate_type, event.aggregate_id), event.sequence);
            position = position.max(event.position);
            count += 1;
            if count % 10_000 == 0 {
                progress(count, total as u64);
            }
        }
    }
    progress(count, total as u64);
    P::save(&mut tx, &docs).await?;
    save_checkpoints(&mut tx, P::NAME, &checkpoints).await?;
    advance_state(&mut tx, P::NAME, position, count as i64).await?;
    tx.commit().await?;
    Ok(Rebuilt {
        events: count,
        documents: docs.len(),
        elapsed: started.elapsed(),
    })
}

/// The stored document with this key, if any.
pub async fn find<P: Projection>(
    pool: &PgPool,
    key: &str,
) -> Result<Option<P::Model>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    Ok(P::load(&mut conn, &[key.to_string()]).await?.remove(key))
}

/// Freshness of a projector: the highest global position it has applied.
pub async fn position(pool: &PgPool, name: &str) -> Result<i64, sqlx::Error> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM projector_state WHERE projector = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(position.unwrap_or(0))
}

/// Whether no event at or beyond a global position is stored yet. A command answers its
/// position only after its commit, so no client was given such a position: waiting for it
/// could only end in a timeout.
pub async fn is_beyond_newest(pool: &PgPool, event_position: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM events WHERE global_position >= $1)")
        .bind(event_position)
        .fetch_one(pool)
        .await
}

/// Whether a projector has applied the event at a global position.
///
/// A position with no event is either a gap (a rolled-back insert) or one not reached yet:
/// it counts as applied only once the projector has applied a later event, so a position
/// beyond the newest stored event is never reported as caught up.
pub async fn has_applied(
    pool: &PgPool,
    name: &str,
    event_position: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE((SELECT c.last_sequence >= e.sequence FROM events e
                 JOIN projector_checkpoints c ON c.projector = $1
                  AND c.aggregate_type = e.aggregate_type AND c.aggregate_id = e.aggregate_id
                WHERE e.global_position = $2),
               NOT EXISTS (SELECT 1 FROM events WHERE global_position = $2)
                 AND COALESCE((SELECT position FROM projector_state WHERE projector = $1), 0) >= $2)",
    )
    .bind(name)
    .bind(event_position)
    .fetch_one(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::{Changes, DocCache};

    #[test]
    fn a_document_not_tracked_is_written_whole_and_a_tracked_one_only_where_it_changed() {
        let new = Changes::default();
        assert!(new.head_changed() && new.part_changed("S1"));
        assert!(new.changed_parts().is_none() && new.touched_parts().is_none());

        let mut loaded = Changes::clean();
        assert!(!loaded.head_changed() && !loaded.part_changed("S1"));
        loaded.part("S1");
        assert!(loaded.part_changed("S1") && !loaded.part_changed("S2"));
        assert!(!loaded.head_changed());
        loaded.head();
        assert!(loaded.head_changed() && !loaded.part_changed("S2"));
        assert_eq!(loaded.changed_parts().map(|p| p.len()), Some(1));
        loaded.everything();
        assert!(loaded.part_changed("S2") && loaded.changed_parts().is_none());
        assert_eq!(loaded.touched_parts().map(|p| p.len()), Some(1));
        assert_eq!(
            loaded,
            Changes::default(),
            "not part of a document's equality"
        );
    }

    #[test]
    fn the_cache_stays_within_its_size_and_drops_the_least_recently_used() {
        let mut cache = DocCache::new(1000);
        cache.keep("a".into(), 1, 1, 400);
        cache.keep("b".into(), 2, 2, 400);
        assert_eq!(cache.len(), 2);
        cache.keep("a".into(), 3, 3, 400);
        cache.keep("c".into(), 4, 4, 400);
        assert_eq!(cache.len(), 2, "over 1000 bytes the oldest goes");
        assert!(cache.entries.contains_key("a") && cache.entries.contains_key("c"));
        assert_eq!(cache.bytes, 800);
        cache.forget("a");
        assert_eq!((cache.len(), cache.bytes), (1, 400));
        cache.keep("huge".into(), 5, 5, 5000);
        assert_eq!(
            cache.len(),
            1,
            "one document larger than the limit is still kept alone"
        );
        assert_eq!(cache.entries["huge"].revision, 5);
    }
}
