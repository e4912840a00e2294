//! The event table read as an outbox, in commit order.
//!
//! Events commit in global-position order: every statement inserting events takes one
//! transaction-scoped advisory lock first (migration 0020), draws its positions under it and
//! keeps it until its commit is visible. So whenever an event is visible, every event with a
//! lower position is visible too (or was rolled back and never will be), and the relay reads
//! `global_position > checkpoint` in position order with no horizon: a long transaction
//! elsewhere on the cluster (another database, a report, an idle client) holds nothing back,
//! where the previous rule, "transactions older than every running one"
//! (`pg_snapshot_xmin`), waited for any transaction of the whole cluster.
//!
//! A relay checkpoint older than that migration counts in `(tx_id, global_position)` order up
//! to `commit_order_until` (every event there is committed); the relay finishes those events
//! in that order ([`events_in_commit_order`]) and then switches to position order
//! ([`switch_to_position_order`]). The transaction id is compared and sorted as `xid8` in SQL
//! and only cast to text to cross into Rust, under the output name `tx_text`: were that text
//! column named `tx_id`, an `ORDER BY tx_id` would sort by it (Postgres resolves an `ORDER BY`
//! name to an output column first), `"1000000"` would come before `"999999"`, and a relay
//! cutting a batch in that order would skip every event behind the cut.

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

/// Where a relay stands: its checkpoint, and until which position it still counts in
/// `(tx_id, global_position)` order (`None`: in position order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayMark {
    /// The last event published.
    pub at: Checkpoint,
    /// Set for a checkpoint made before events committed in position order.
    pub commit_order_until: Option<i64>,
}

type MarkRow = (String, i64, i64, Option<i64>);

fn mark_from(row: MarkRow) -> Result<(RelayMark, i64), sqlx::Error> {
    let (tx, position, published, commit_order_until) = row;
    let tx_id = tx.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let at = Checkpoint { tx_id, position };
    Ok((
        RelayMark {
            at,
            commit_order_until,
        },
        published,
    ))
}

const MARK_COLUMNS: &str = "tx_id::text, position, published, commit_order_until";

/// Locks the relay's checkpoint for this transaction; `None` while another relay holds it.
pub async fn lock_relay(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<RelayMark>, sqlx::Error> {
    let row: Option<MarkRow> = sqlx::query_as(&format!(
        "SELECT {MARK_COLUMNS} FROM relay_checkpoints WHERE name = $1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(name)
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok(mark_from(row)?.0)).transpose()
}

/// Locks the relay's checkpoint for this transaction; `None` while another relay holds it.
pub async fn lock_checkpoint(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<Checkpoint>, sqlx::Error> {
    Ok(lock_relay(conn, name).await?.map(|mark| mark.at))
}

/// Reads the relay's checkpoint without locking it.
pub async fn read_checkpoint(pool: &PgPool, name: &str) -> Result<Checkpoint, sqlx::Error> {
    Ok(read_relay(pool, name).await?.0.at)
}

/// The relay's mark and how many events stand at or before it (zero before its first step).
pub async fn read_relay(pool: &PgPool, name: &str) -> Result<(RelayMark, i64), sqlx::Error> {
    let row: Option<MarkRow> = sqlx::query_as(&format!(
        "SELECT {MARK_COLUMNS} FROM relay_checkpoints WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    row.map(mark_from)
        .transpose()
        .map(Option::unwrap_or_default)
}

fn events_after_sql() -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events
          WHERE global_position > $1
          ORDER BY global_position
          LIMIT $2"
    )
}

/// Up to `limit` committed events after `after`, in commit order (= position order).
pub async fn events_after(
    conn: &mut PgConnection,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&events_after_sql())
        .bind(after.position)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(from_row).collect()
}

/// Up to `limit` events after `after` in `(tx_id, global_position)` order, among those at or
/// below `until` (all committed before events were committed in position order).
pub async fn events_in_commit_order(
    conn: &mut PgConnection,
    after: Checkpoint,
    until: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events
          WHERE (tx_id, global_position) > ($1::text::xid8, $2) AND global_position <= $3
          ORDER BY tx_id, global_position
          LIMIT $4"
    ))
    .bind(after.tx_id.to_string())
    .bind(after.position)
    .bind(until)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(from_row).collect()
}

/// Once a relay has published every event up to `until` in the old order, it counts by
/// position from `until` on; returns its checkpoint from then.
pub async fn switch_to_position_order(
    conn: &mut PgConnection,
    name: &str,
    until: i64,
) -> Result<Checkpoint, sqlx::Error> {
    let tx: String = sqlx::query_scalar(
        "UPDATE relay_checkpoints SET position = $2, commit_order_until = NULL, updated_at = now()
          WHERE name = $1 RETURNING tx_id::text",
    )
    .bind(name)
    .bind(until)
    .fetch_one(conn)
    .await?;
    let tx_id = tx.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Checkpoint {
        tx_id,
        position: until,
    })
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
                published = published + CASE
                  WHEN commit_order_until IS NULL THEN (
                    SELECT count(*) FROM events
                     WHERE global_position > $3 AND global_position <= $5)
                  ELSE (
                    SELECT count(*) FROM events
                     WHERE (tx_id, global_position) > ($2::text::xid8, $3)
                       AND (tx_id, global_position) <= ($4::text::xid8, $5)
                       AND global_position <= commit_order_until)
                END
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
    let (mark, published) = read_relay(pool, name).await?;
    let at = mark.at;
    // Planned with the checkpoint's values each time (not a cached generic plan): a generic
    // plan cannot tell that few events follow the checkpoint and counts them with a
    // sequential scan of the whole table (335 ms at 743,000 events).
    let (pending, oldest): (i64, Option<DateTime<Utc>>) = match mark.commit_order_until {
        None => {
            sqlx::query_as(
                "SELECT count(*), min(recorded_at) FROM events WHERE global_position > $1",
            )
            .bind(at.position)
            .persistent(false)
            .fetch_one(pool)
            .await?
        }
        Some(until) => {
            sqlx::query_as(
                "SELECT count(*), min(recorded_at) FROM events
                  WHERE ((tx_id, global_position) > ($1::text::xid8, $2) AND global_position <= $3)
                     OR global_position > $3",
            )
            .bind(at.tx_id.to_string())
            .bind(at.position)
            .bind(until)
            .persistent(false)
            .fetch_one(pool)
            .await?
        }
    };
    let oldest_age_secs =
        oldest.map(|t| (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
    Ok(Lag {
        pending,
        oldest_age_secs,
        published,
    })
}

/// The query of [`events_after`], for `EXPLAIN`: its plan must walk the position index
/// with no sort, so a batch costs the same at any backlog.
pub async fn explain_events_after(
    conn: &mut PgConnection,
    after: Checkpoint,
    limit: i64,
) -> Result<Value, sqlx::Error> {
    sqlx::query_scalar(&format!("EXPLAIN (FORMAT JSON) {}", events_after_sql()))
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
