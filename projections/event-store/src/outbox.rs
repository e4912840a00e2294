//! The event table read as an outbox, in commit order.
//!
//! Order is `(tx_id, global_position)`: the writing transaction's id, then the position
//! within it. Only events of transactions older than every running transaction
//! (`tx_id < pg_snapshot_xmin(pg_current_snapshot())`) are read, so an event committed late
//! by a transaction that started early is never skipped. Ids are compared and sorted as
//! `xid8` in SQL and only cast to text to cross into Rust, under the output name `tx_text`:
//! were that text column named `tx_id`, an `ORDER BY tx_id` would sort by it (Postgres
//! resolves an `ORDER BY` name to an output column first), `"1000000"` would come before
//! `"999999"`, and a relay cutting a batch in that order skips every event behind the cut.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

/// The last event a relay has had acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Writing transaction of that event.
    pub tx_id: u64,
    /// Its global position.
    pub position: i64,
}

/// One committed event with everything a subscriber needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// `course` or `register`.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// Sequence within the aggregate (from 1).
    pub sequence: i64,
    /// Frozen event name, e.g. `AttendanceRecorded`.
    pub event_type: String,
    /// Schema version of the payload.
    pub event_version: String,
    /// The serialized event (`{"<event_type>": {fields}}`).
    pub payload: Value,
    /// Why and where: request_id, source, course_id (and, in events stored before
    /// 2026-12-03, user_id, role and server_time, which repeat the event's `by` and `at`).
    pub metadata: Value,
    /// Position in the global order.
    pub position: i64,
    /// The writing transaction.
    pub tx_id: u64,
    /// When it was stored.
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    /// Where this event stands in commit order.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            tx_id: self.tx_id,
            position: self.position,
        }
    }

    /// A metadata entry. The actor's `user_id` and `role` are read from the event's own `by`
    /// when the metadata does not repeat them (events stored since 2026-12-03).
    pub fn meta(&self, key: &str) -> Option<&str> {
        let stored = self.metadata.get(key).and_then(Value::as_str);
        match key {
            "user_id" | "role" => stored.or_else(|| {
                let by = self.payload.get(&self.event_type)?.get("by")?;
                by.get(key)?.as_str()
            }),
            _ => stored,
        }
    }
}

/// A row of [`EVENT_COLUMNS`].
pub type Row = (
    String,
    String,
    i64,
    String,
    String,
    Value,
    Value,
    i64,
    String,
    DateTime<Utc>,
);

impl TryFrom<Row> for StoredEvent {
    type Error = sqlx::Error;
    fn try_from(row: Row) -> Result<StoredEvent, sqlx::Error> {
        from_row(row)
    }
}

fn from_row(row: Row) -> Result<StoredEvent, sqlx::Error> {
    let (
        aggregate_type,
        aggregate_id,
        sequence,
        event_type,
        event_version,
        payload,
        metadata,
        position,
        tx,
        recorded_at,
    ) = row;
    let tx_id = tx.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    // Old versions are read as the current one: nothing downstream sees an old shape.
    let (event_version, payload) = domain::upcast::upcast(&event_type, &event_version, payload)
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(StoredEvent {
        aggregate_type,
        aggregate_id,
        sequence,
        event_type,
        event_version,
        payload,
        metadata,
        position,
        tx_id,
        recorded_at,
    })
}

/// Columns of [`StoredEvent`], in row order. The transaction id crosses as text under a name
/// of its own (`tx_text`), so `ORDER BY tx_id` after these columns always means the `xid8`
/// column, numerically.
pub const EVENT_COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, \
     global_position, tx_id::text AS tx_text, recorded_at";

/// Creates the checkpoint row of a relay if it does not exist.
pub async fn ensure_checkpoint(pool: &PgPool, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO relay_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(())
}

/// Locks the relay's checkpoint for this transaction; `None` while another relay holds it.
pub async fn lock_checkpoint(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<Checkpoint>, sqlx::Error> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT tx_id::text, position FROM relay_checkpoints WHERE name = $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.map(|(tx, position)| {
        let tx_id = tx.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok(Checkpoint { tx_id, position })
    })
    .transpose()
}

/// Reads the relay's checkpoint without locking it.
pub async fn read_checkpoint(pool: &PgPool, name: &str) -> Result<Checkpoint, sqlx::Error> {
    Ok(read_checkpoint_and_count(pool, name).await?.0)
}

/// The relay's checkpoint and how many events stand at or before it.
async fn read_checkpoint_and_count(
    pool: &PgPool,
    name: &str,
) -> Result<(Checkpoint, i64), sqlx::Error> {
    let row: Option<(String, i64, i64)> = sqlx::query_as(
        "SELECT tx_id::text, position, published FROM relay_checkpoints WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(pool)
    .await?;
    let Some((tx, position, published)) = row else {
        return Ok((Checkpoint::default(), 0));
    };
    let tx_id = tx.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok((Checkpoint { tx_id, position }, published))
}

fn events_after_sql() -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events
          WHERE (tx_id, global_position) > ($1::text::xid8, $2)
            AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY tx_id, global_position
          LIMIT $3"
    )
}

/// Up to `limit` committed events after `after`, in commit order.
pub async fn events_after(
    conn: &mut PgConnection,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&events_after_sql())
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(from_row).collect()
}

/// Moves the relay's checkpoint from `from` (where it stood) to `to`, and adds the events
/// between the two to its count: the count is what the stream must hold (see
/// [`Lag::published`]). The events are counted in the table, not taken from the caller, so a
/// relay that skipped some would show as a stream holding fewer messages than counted.
pub async fn save_checkpoint(
    conn: &mut PgConnection,
    name: &str,
    from: Checkpoint,
    to: Checkpoint,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE relay_checkpoints
            SET tx_id = $4::text::xid8, position = $5, updated_at = now(),
                published = published + (
                    SELECT count(*) FROM events
                     WHERE (tx_id, global_position) > ($2::text::xid8, $3)
                       AND (tx_id, global_position) <= ($4::text::xid8, $5))
          WHERE name = $1",
    )
    .bind(name)
    .bind(from.tx_id.to_string())
    .bind(from.position)
    .bind(to.tx_id.to_string())
    .bind(to.position)
    .execute(conn)
    .await?;
    Ok(())
}

/// Events committed but not yet published by a relay.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Lag {
    /// How many.
    pub pending: i64,
    /// Age of the oldest, in seconds.
    pub oldest_age_secs: Option<f64>,
    /// Events at or before the relay's checkpoint, counted with each checkpoint move: the
    /// stream holds at least this many messages unless events were lost on the way.
    pub published: i64,
}

/// How far a relay is behind.
pub async fn lag(pool: &PgPool, name: &str) -> Result<Lag, sqlx::Error> {
    let (at, published) = read_checkpoint_and_count(pool, name).await?;
    // Planned with the checkpoint's values each time (not a cached generic plan): a generic
    // plan cannot tell that few events follow the checkpoint and counts them with a
    // sequential scan of the whole table (335 ms at 743,000 events).
    let (pending, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT count(*), min(recorded_at) FROM events WHERE (tx_id, global_position) > ($1::text::xid8, $2)",
    )
    .bind(at.tx_id.to_string())
    .bind(at.position)
    .persistent(false)
    .fetch_one(pool)
    .await?;
    let oldest_age_secs =
        oldest.map(|t| (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
    Ok(Lag {
        pending,
        oldest_age_secs,
        published,
    })
}

/// The query of [`events_after`], for `EXPLAIN`: its plan must walk the
/// `(tx_id, global_position)` index with no sort, so a batch costs the same at any backlog.
pub async fn explain_events_after(
    conn: &mut PgConnection,
    after: Checkpoint,
    limit: i64,
) -> Result<Value, sqlx::Error> {
    sqlx::query_scalar(&format!("EXPLAIN (FORMAT JSON) {}", events_after_sql()))
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .bind(limit)
        .fetch_one(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(metadata: Value) -> StoredEvent {
        StoredEvent {
            aggregate_type: "register".into(),
            aggregate_id: "s1".into(),
            sequence: 2,
            event_type: "AttendanceRecorded".into(),
            event_version: "1".into(),
            payload: json!({"AttendanceRecorded": {"student_id": "S1", "status": "present",
                "by": {"user_id": "u-by", "role": "teacher"}, "at": "2026-09-07T09:05:00Z"}}),
            metadata,
            position: 7,
            tx_id: 900,
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn the_actor_is_read_from_the_event_when_the_metadata_does_not_repeat_it() {
        let event = stored(json!({"source": "api", "request_id": "r1", "course_id": "CS101"}));
        assert_eq!(event.meta("user_id"), Some("u-by"));
        assert_eq!(event.meta("role"), Some("teacher"));
        assert_eq!(event.meta("source"), Some("api"));
        assert_eq!(event.meta("server_time"), None);
    }

    #[test]
    fn older_events_keep_the_actor_their_metadata_names() {
        let event = stored(json!({"user_id": "u-meta", "role": "admin", "source": "cli"}));
        assert_eq!(event.meta("user_id"), Some("u-meta"));
        assert_eq!(event.meta("role"), Some("admin"));
    }
}
