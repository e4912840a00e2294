//! Commit order across transaction-id boundaries: the relay publishes every event once, in
//! `(tx_id, global_position)` order, when ids cross 100,000 and 1,000,000 (their text sorts
//! the other way); its and audit paging's queries walk the index with no sort; and
//! `relay --verify --repair` finds and republishes what the old text-sorted relay lost.

use crate::helpers::{TestApp, expect_json, wait_until};
use crate::nats_support::{connect, read_stream, stream_len};
use crate::read_side::assert_matches_the_event_store;
use crate::relay::{assert_once_and_in_order, drain, manual_relay};
use attendance::stream_check;
use event_store::outbox::{self, Checkpoint, StoredEvent};
use projections::audit::{self, Cursor, Filter};
use projections::course_stats::store::CourseStatsProjection;
use projections::projector;
use projections::register_views::store::RegisterViewsProjection;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

/// Moves the cluster's transaction counter past `xid`, so that events given smaller explicit
/// ids count as committed by finished transactions. Subtransactions that write take an id
/// each: a million cost about 3 s, once per cluster (later runs find the counter past it).
async fn burn_xids_past(app: &TestApp, xid: u64) {
    let now: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let now: u64 = now.parse().unwrap();
    if now > xid {
        return;
    }
    let mut conn = app.pool.acquire().await.unwrap();
    sqlx::query("CREATE TEMP TABLE burn (n int)")
        .execute(&mut *conn)
        .await
        .unwrap();
    let burn = format!(
        "DO $$ BEGIN FOR i IN 1..{} LOOP
           BEGIN INSERT INTO burn VALUES (i); EXCEPTION WHEN others THEN NULL; END;
         END LOOP; END $$",
        xid - now + 10
    );
    sqlx::query(&burn).execute(&mut *conn).await.unwrap();
    sqlx::query("DROP TABLE burn")
        .execute(&mut *conn)
        .await
        .unwrap();
}

/// Waits until every transaction the cluster still runs began after `xid`: the relay's
/// batches stop below the oldest running transaction, and a test elsewhere in the suite may
/// hold one open that began before [`burn_xids_past`] moved the counter (the relay horizon
/// test holds one on purpose). Fails naming the transactions still in the way.
async fn wait_for_horizon_past(app: &TestApp, xid: u64) {
    let started = std::time::Instant::now();
    loop {
        let horizon: String =
            sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if horizon.parse::<u64>().unwrap() > xid {
            return;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let running: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT datname::text, backend_xid::text, left(query, 80) FROM pg_stat_activity
                  WHERE backend_xid IS NOT NULL",
            )
            .fetch_all(&app.pool)
            .await
            .unwrap();
            panic!("transactions from before {xid} still run after 120 s: {running:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stores an event as if transaction `tx` had written it.
pub(crate) async fn insert_as(app: &TestApp, tx: u64, row: (&str, &str, i64, &str, Value, Value)) {
    let (aggregate_type, aggregate_id, sequence, event_type, payload, metadata) = row;
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, tx_id)
         VALUES ($1, $2, $3, $4, '1', $5, $6, $7::text::xid8)",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence)
    .bind(event_type)
    .bind(payload)
    .bind(metadata)
    .bind(tx.to_string())
    .execute(&app.pool)
    .await
    .unwrap();
}

/// A course event for course `id` with sequence `sequence`.
pub(crate) fn course_event(id: &str, sequence: i64) -> (String, i64, Value, Value) {
    let by = json!({"user_id": "cli", "role": "admin"});
    let payload = json!({"TeacherAssigned": {"teacher": format!("t{sequence}"), "by": by, "at": "2026-09-01T00:00:00Z"}});
    (id.to_string(), sequence, payload, json!({"course_id": id}))
}

#[tokio::test]
async fn events_on_both_sides_of_100000_and_1000000_are_published_once_in_commit_order() {
    let app = TestApp::spawn_with(|c| {
        c.no_relay = true;
        c.no_projectors = true;
        c.relay.relay_batch_size = 2;
    })
    .await;
    burn_xids_past(&app, 1_000_100).await;
    // (transaction, course, sequence) in the order they are stored.
    let writes = [
        (99_998, "A", 1),
        (99_999, "A", 2),
        (99_999, "B", 1),
        (100_000, "A", 3),
        (100_001, "B", 2),
        (999_999, "C", 1),
        (999_999, "A", 4),
        (1_000_000, "A", 5),
        (1_000_000, "C", 2),
        (1_000_001, "B", 3),
        (1_000_010, "C", 3),
    ];
    for (tx, course, sequence) in writes {
        let (id, sequence, payload, metadata) = course_event(course, sequence);
        let row = (
            "course",
            id.as_str(),
            sequence,
            "TeacherAssigned",
            payload,
            metadata,
        );
        insert_as(&app, tx, row).await;
    }

    let relay = manual_relay(&app).await;
    assert_eq!(drain(&relay, writes.len()).await, writes.len());
    let client = connect(&app.config.connections.nats_url).await;
    let published = read_stream(&client, &app.config.relay.stream).await;
    assert_once_and_in_order(&published, writes.len());
    let ids: Vec<_> = published.iter().map(|p| p.msg_id.clone()).collect();
    let commit_order: Vec<_> = writes
        .iter()
        .map(|(_, course, sequence)| format!("course:{course}:{sequence}"))
        .collect();
    assert_eq!(ids, commit_order, "published in numeric transaction order");
    let lag = outbox::lag(&app.pool, &app.config.relay.stream)
        .await
        .unwrap();
    assert_eq!((lag.pending, lag.published), (0, writes.len() as i64));
}

/// Node types anywhere in an `EXPLAIN (FORMAT JSON)` plan, with the index each scan uses.
fn plan_nodes(plan: &Value, out: &mut Vec<String>) {
    if let Some(node) = plan.get("Node Type").and_then(Value::as_str) {
        let index = plan.get("Index Name").and_then(Value::as_str);
        out.push(match index {
            Some(index) => format!("{node} on {index}"),
            None => node.to_string(),
        });
    }
    let children = plan.get("Plans").and_then(Value::as_array);
    for child in children.into_iter().flatten() {
        plan_nodes(child, out);
    }
}

fn nodes(explained: &Value) -> Vec<String> {
    let mut out = Vec::new();
    plan_nodes(&explained[0]["Plan"], &mut out);
    out
}

/// An index scan in commit order and no sort, so a page costs the same at any backlog.
fn assert_walks_the_index(what: &str, explained: &Value) {
    let nodes = nodes(explained);
    assert!(
        nodes.iter().all(|n| !n.contains("Sort")),
        "{what}: no sort, got {nodes:?}"
    );
    assert!(
        nodes.iter().any(|n| n.starts_with("Index Scan on events_")),
        "{what}: an index scan of the event table, got {nodes:?}"
    );
}

#[tokio::test]
async fn the_relay_and_audit_paging_walk_the_commit_order_index_without_sorting() {
    let app = TestApp::spawn_with(|c| {
        c.no_relay = true;
        c.no_projectors = true;
    })
    .await;
    // A backlog of 60,000 events in 6,000 transactions over 200 courses.
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, tx_id)
         SELECT 'course', 'P' || (g % 200), g / 200 + 1, 'TeacherAssigned', '1',
                json_build_object('TeacherAssigned', json_build_object('teacher', 'u' || g)),
                json_build_object('course_id', 'P' || (g % 200)), (100 + g / 10)::text::xid8
           FROM generate_series(0, 59999) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE events")
        .execute(&app.pool)
        .await
        .unwrap();

    let mut conn = app.pool.acquire().await.unwrap();
    for after in [
        Checkpoint::default(),
        Checkpoint {
            tx_id: 3_000,
            position: 29_000,
        },
    ] {
        let plan = outbox::explain_events_after(&mut conn, after, 500)
            .await
            .unwrap();
        assert_walks_the_index(&format!("relay batch after {after:?}"), &plan);
    }
    let middle = Some(Cursor(Checkpoint {
        tx_id: 3_000,
        position: 29_000,
    }));
    let filters = [
        ("everything", Filter::default()),
        (
            "everything, second page",
            Filter {
                after: middle,
                ..Filter::default()
            },
        ),
        (
            "one course",
            Filter {
                course_id: Some("P7".into()),
                ..Filter::default()
            },
        ),
        (
            "one event type",
            Filter {
                event_type: Some("TeacherAssigned".into()),
                ..Filter::default()
            },
        ),
    ];
    for (what, filter) in filters {
        let filter = Filter {
            limit: 100,
            ..filter
        };
        let plan = audit::explain_page(&app.pool, &filter).await.unwrap();
        assert_walks_the_index(&format!("audit page, {what}"), &plan);
    }
}

/// The relay as it was: the text of the transaction id named `tx_id`, so `ORDER BY tx_id`
/// sorted the text, and the batch was cut in that order.
const TEXT_SORTED_BATCH: &str =
    "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata,
        global_position, tx_id::text, recorded_at FROM events
  WHERE (tx_id, global_position) > ($1::text::xid8, $2)
    AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY tx_id, global_position
  LIMIT $3";

/// Runs the old relay to its end (batches of 2) and returns how many events it published.
async fn relay_with_text_sort(app: &TestApp) -> usize {
    let relay = manual_relay(app).await;
    let stream = &app.config.relay.stream;
    let mut published = 0;
    loop {
        let mut tx = app.pool.begin().await.unwrap();
        let from = outbox::lock_checkpoint(&mut tx, stream)
            .await
            .unwrap()
            .unwrap();
        let rows: Vec<outbox::Row> = sqlx::query_as(TEXT_SORTED_BATCH)
            .bind(from.tx_id.to_string())
            .bind(from.position)
            .bind(2i64)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        if rows.is_empty() {
            return published;
        }
        let batch: Vec<StoredEvent> = rows.into_iter().map(|r| r.try_into().unwrap()).collect();
        published += relay.publish_only(&batch).await.unwrap();
        let to = batch.last().unwrap().checkpoint();
        outbox::save_checkpoint(&mut tx, stream, from, to)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

/// A realistic history written through the API of another app: a course, three students,
/// two sessions, a roll call, a correction, a close.
async fn history() -> Vec<(String, String, i64, String, Value, Value)> {
    let source = TestApp::spawn_with(|c| {
        c.no_relay = true;
        c.no_projectors = true;
    })
    .await;
    let first = source.course_with_session().await;
    let second = source
        .schedule("CS101", "Lecture 2", "2026-09-09T09:00:00Z")
        .await;
    for session in [&first, &second] {
        let marks = json!({"marks": [
            {"student_id": "S1", "status": "present"},
            {"student_id": "S2", "status": "late"}]});
        let path = format!("/api/sessions/{session}/attendance");
        expect_json(
            source.post(&path, &source.admin, marks).await,
            StatusCode::OK,
        )
        .await;
    }
    let correction = json!({"status": "excused", "reason": "doctor's note"});
    let path = format!("/api/sessions/{first}/attendance/S2/correction");
    expect_json(
        source.post(&path, &source.admin, correction).await,
        StatusCode::OK,
    )
    .await;
    let path = format!("/api/sessions/{second}/close");
    let closed = source.post(&path, &source.admin, json!({})).await;
    expect_json(closed, StatusCode::OK).await;
    sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, payload::jsonb, metadata::jsonb
           FROM events ORDER BY tx_id, global_position",
    )
    .fetch_all(&source.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn relay_verify_finds_what_the_text_sorted_relay_lost_and_repair_republishes_it() {
    let app = TestApp::spawn_with(|c| {
        c.no_relay = true;
        c.no_projectors = true;
    })
    .await;
    burn_xids_past(&app, 1_000_100).await;
    // The same history, its transactions renumbered to straddle 1,000,000.
    let events = history().await;
    assert!(events.len() < 40, "the first half fits below 1,000,000");
    let half = events.len() / 2;
    let mut lost = HashSet::new();
    for (i, (aggregate_type, aggregate_id, sequence, event_type, payload, metadata)) in
        events.iter().enumerate()
    {
        // Two events a transaction; the first half below 1,000,000, the rest from it.
        let tx = if i < half { 999_990 } else { 1_000_000 } + i as u64 / 2;
        if tx < 1_000_000 {
            lost.insert(format!("{aggregate_type}:{aggregate_id}:{sequence}"));
        }
        let row = (
            aggregate_type.as_str(),
            aggregate_id.as_str(),
            *sequence,
            event_type.as_str(),
            payload.clone(),
            metadata.clone(),
        );
        insert_as(&app, tx, row).await;
    }
    assert!(!lost.is_empty() && lost.len() < events.len());
    let last_tx = 1_000_000 + (events.len() as u64 - 1) / 2;
    wait_for_horizon_past(&app, last_tx).await;

    let published = relay_with_text_sort(&app).await;
    let client = connect(&app.config.connections.nats_url).await;
    let stream = app.config.relay.stream.clone();
    if published != events.len() - lost.len() {
        // What the old relay saw: the stored transaction ids, its checkpoint, and the
        // cluster's oldest running transaction (its batches stop below it).
        let stored: Vec<(String, i64)> =
            sqlx::query_as("SELECT tx_id::text, global_position FROM events ORDER BY 2")
                .fetch_all(&app.pool)
                .await
                .unwrap();
        let checkpoint: (String, i64) =
            sqlx::query_as("SELECT tx_id::text, position FROM relay_checkpoints WHERE name = $1")
                .bind(&stream)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        let xmin: String =
            sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        panic!(
            "the old relay published {published} events, not the {} from 1,000,000 on; \
             stored {stored:?}, checkpoint {checkpoint:?}, oldest running transaction {xmin}",
            events.len() - lost.len()
        );
    }
    let health = app.health().await;
    assert_eq!(health["relay"]["pending"], 0, "{health}");
    assert_eq!(
        health["relay"]["missing_from_stream"],
        lost.len(),
        "{health}"
    );
    assert_eq!(health["status"], "degraded", "{health}");

    let check = stream_check::verify(&app.pool, &client, &stream)
        .await
        .unwrap();
    let missing: HashSet<String> = check
        .missing
        .iter()
        .map(event_store::envelope::message_id)
        .collect();
    assert_eq!(missing, lost);
    assert_eq!((check.expected, check.unknown), (events.len() as u64, 0));

    let relay = manual_relay(&app).await;
    assert_eq!(
        stream_check::repair(&relay, &check).await.unwrap(),
        lost.len()
    );
    assert_eq!(stream_len(&client, &stream).await, events.len() as u64);
    assert!(
        stream_check::verify(&app.pool, &client, &stream)
            .await
            .unwrap()
            .complete()
    );
    // A second repair finds nothing to do.
    assert_eq!(
        stream_check::repair(
            &relay,
            &stream_check::verify(&app.pool, &client, &stream)
                .await
                .unwrap()
        )
        .await
        .unwrap(),
        0
    );
    wait_until(Duration::from_secs(10), || async {
        let health: Value = app
            .request(reqwest::Method::GET, "/api/health", Some(&app.admin))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        health["relay"]["missing_from_stream"] == 0 && health["status"] == "ok"
    })
    .await;

    projector::rebuild::<CourseStatsProjection>(&app.pool, |_, _| {})
        .await
        .unwrap();
    projector::rebuild::<RegisterViewsProjection>(&app.pool, |_, _| {})
        .await
        .unwrap();
    assert_matches_the_event_store(&app).await;
}
