//! Reading the event history for audits: filtered, in commit order, with a cursor that is
//! stable under concurrent writes; a mark's history; and point-in-time folds ("the register
//! as it stood at T") that reuse the read models' folds.

use crate::course_stats::{self, CourseStats};
use crate::event::ProjectedEvent;
use crate::register_views::{self, RegisterView};
use chrono::{DateTime, Utc};
use event_store::outbox::{Checkpoint, EVENT_COLUMNS, Row, StoredEvent};
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder};
use std::fmt;
use std::str::FromStr;

/// A position in commit order: where the next page starts after.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor(pub Checkpoint);

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0.tx_id, self.0.position)
    }
}

impl FromStr for Cursor {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        let bad = || format!("{value:?} is not a cursor (use next_after from the previous page)");
        let (tx, position) = value.split_once('-').ok_or_else(bad)?;
        Ok(Cursor(Checkpoint {
            tx_id: tx.parse().map_err(|_| bad())?,
            position: position.parse().map_err(|_| bad())?,
        }))
    }
}

/// What to select from the history.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this course's events.
    pub course_id: Option<String>,
    /// Only this session's events (its register, its scheduling and cancellation).
    pub session_id: Option<String>,
    /// Only events about this student (marks, corrections, enrolments, defaults).
    pub student_id: Option<String>,
    /// Only this event type.
    pub event_type: Option<String>,
    /// Stored at or after.
    pub from: Option<DateTime<Utc>>,
    /// Stored at or before.
    pub to: Option<DateTime<Utc>>,
    /// After this cursor.
    pub after: Option<Cursor>,
    /// Only these courses (a teacher's scope); `None` for all.
    pub courses: Option<Vec<String>>,
    /// Page size.
    pub limit: i64,
}

fn push_filters<'a>(sql: &mut QueryBuilder<'a, Postgres>, f: &'a Filter) {
    if let Some(v) = &f.course_id {
        sql.push(" AND metadata ->> 'course_id' = ").push_bind(v);
    }
    if let Some(v) = &f.session_id {
        sql.push(" AND ((aggregate_type = 'register' AND aggregate_id = ")
            .push_bind(v);
        sql.push(") OR (aggregate_type = 'course' AND payload -> event_type ->> 'session_id' = ")
            .push_bind(v)
            .push("))");
    }
    if let Some(v) = &f.student_id {
        // Events whose subject is the student (not rosters, which list classmates too).
        sql.push(" AND (payload -> event_type ->> 'student_id' = ")
            .push_bind(v);
        sql.push(" OR (payload -> event_type -> 'defaulted_absent')::jsonb ? ")
            .push_bind(v)
            .push(")");
    }
    if let Some(v) = &f.event_type {
        sql.push(" AND event_type = ").push_bind(v);
    }
    if let Some(v) = f.from {
        sql.push(" AND recorded_at >= ").push_bind(v);
    }
    if let Some(v) = f.to {
        sql.push(" AND recorded_at <= ").push_bind(v);
    }
    if let Some(v) = &f.courses {
        sql.push(" AND metadata ->> 'course_id' = ANY(")
            .push_bind(v)
            .push(")");
    }
}

/// The page query after `prefix` (`SELECT …` or `EXPLAIN … SELECT …`).
fn page_query<'a>(prefix: &str, filter: &'a Filter) -> QueryBuilder<'a, Postgres> {
    let after = filter.after.unwrap_or_default().0;
    let mut sql = QueryBuilder::new(format!(
        "{prefix} {EVENT_COLUMNS} FROM events WHERE (tx_id, global_position) > ("
    ));
    sql.push_bind(after.tx_id.to_string())
        .push("::xid8, ")
        .push_bind(after.position)
        .push(")");
    sql.push(" AND tx_id < pg_snapshot_xmin(pg_current_snapshot())");
    push_filters(&mut sql, filter);
    sql.push(" ORDER BY tx_id, global_position LIMIT ")
        .push_bind(filter.limit);
    sql
}

/// One page of matching events in commit order, and the cursor after its last event.
/// Only events of transactions older than every running one are returned, so a later page
/// never misses an event committed late.
pub async fn page(
    pool: &PgPool,
    filter: &Filter,
) -> Result<(Vec<StoredEvent>, Option<Cursor>), sqlx::Error> {
    let rows: Vec<Row> = page_query("SELECT", filter)
        .build_query_as()
        .fetch_all(pool)
        .await?;
    let events = rows
        .into_iter()
        .map(StoredEvent::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next = events.last().map(|e| Cursor(e.checkpoint()));
    Ok((events, next))
}

/// The plan of [`page`]'s query (`EXPLAIN (FORMAT JSON)`): it must walk an index in commit
/// order with no sort, so that paging through the whole history costs linear time.
pub async fn explain_page(pool: &PgPool, filter: &Filter) -> Result<Value, sqlx::Error> {
    page_query("EXPLAIN (FORMAT JSON) SELECT", filter)
        .build_query_scalar()
        .fetch_one(pool)
        .await
}

/// How many events match (ignoring the cursor and the limit).
pub async fn count(pool: &PgPool, filter: &Filter) -> Result<i64, sqlx::Error> {
    let mut sql = QueryBuilder::new("SELECT count(*) FROM events WHERE true");
    push_filters(&mut sql, filter);
    sql.build_query_scalar().fetch_one(pool).await
}

async fn fold_events(
    pool: &PgPool,
    sql: &str,
    key: &str,
    until: DateTime<Utc>,
) -> Result<Vec<ProjectedEvent>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(sql)
        .bind(key)
        .bind(until)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|row| {
            let stored = StoredEvent::try_from(row)?;
            ProjectedEvent::from_stored(&stored).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        })
        .collect()
}

/// A course's statistics as they stood at `until` (events stored up to then).
pub async fn course_stats_as_of(
    pool: &PgPool,
    course_id: &str,
    until: DateTime<Utc>,
) -> Result<CourseStats, sqlx::Error> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE metadata ->> 'course_id' = $1 AND recorded_at <= $2
          ORDER BY tx_id, global_position"
    );
    let mut stats = CourseStats::default();
    for event in fold_events(pool, &sql, course_id, until).await? {
        course_stats::apply(&mut stats, &event);
    }
    Ok(stats)
}

/// A session's register as it stood at `until`.
pub async fn register_view_as_of(
    pool: &PgPool,
    session_id: &str,
    until: DateTime<Utc>,
) -> Result<RegisterView, sqlx::Error> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events
          WHERE ((aggregate_type = 'register' AND aggregate_id = $1)
             OR (aggregate_type = 'course' AND event_type IN ('SessionScheduled', 'SessionCancelled')
                 AND payload -> event_type ->> 'session_id' = $1))
            AND recorded_at <= $2
          ORDER BY tx_id, global_position"
    );
    let mut view = RegisterView::default();
    for event in fold_events(pool, &sql, session_id, until).await? {
        register_views::apply(&mut view, &event);
    }
    Ok(view)
}

/// Every event of one register, in order (for a mark's history).
pub async fn register_events(
    pool: &PgPool,
    session_id: &str,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE aggregate_type = 'register' AND aggregate_id = $1 ORDER BY sequence"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(session_id)
        .fetch_all(pool)
        .await?;
    rows.into_iter().map(StoredEvent::try_from).collect()
}
