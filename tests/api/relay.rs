//! The relay: every committed event reaches JetStream once, in per-aggregate order, whatever
//! fails (NATS down, relay killed mid-batch, late commits, two relays at once).

use crate::helpers::{TestApp, expect_json, wait_until};
use crate::nats_support::{OwnedNats, connect, consume, read_stream, stream_len};
use api::app::breaker::{BreakerConfig, BreakerState};
use attendance::relay::{Relay, Step};
use event_store::outbox;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

async fn wait_for_stream(app: &TestApp, client: &async_nats::Client) {
    let stream = app.config.relay.stream.clone();
    let events = app.event_count().await as u64;
    wait_until(DEADLINE, || {
        let (client, stream) = (client.clone(), stream.clone());
        async move { stream_len(&client, &stream).await == events }
    })
    .await;
}

/// Every message id once, and per aggregate the sequences in increasing order.
pub(crate) fn assert_once_and_in_order(
    published: &[crate::nats_support::Published],
    expected: usize,
) {
    let ids: HashSet<_> = published.iter().map(|p| p.msg_id.clone()).collect();
    assert_eq!(ids.len(), published.len(), "no message twice");
    assert_eq!(published.len(), expected, "every event published");
    let mut last: HashMap<String, i64> = HashMap::new();
    for p in published {
        let data = &p.event.data;
        let previous = last
            .insert(data.aggregate_id.clone(), data.sequence)
            .unwrap_or(0);
        assert_eq!(
            data.sequence,
            previous + 1,
            "gap-free per-aggregate order at {}",
            p.msg_id
        );
        assert_eq!(
            p.msg_id,
            format!(
                "{}:{}:{}",
                data.aggregate_type, data.aggregate_id, data.sequence
            )
        );
    }
}

pub(crate) async fn manual_relay(app: &TestApp) -> Relay {
    let client = connect(&app.config.connections.nats_url).await;
    let relay = Relay::new(
        app.pool.clone(),
        client,
        app.config.relay.relay_config().unwrap(),
    );
    relay.ensure_stream().await.unwrap();
    relay
}

/// Steps the relay until it has published `expected` events (an idle step may come first
/// while a command is still committing).
pub(crate) async fn drain(relay: &Relay, expected: usize) -> usize {
    let mut total = 0;
    let started = std::time::Instant::now();
    while total < expected && started.elapsed() < DEADLINE {
        match relay.step().await.unwrap() {
            Step::Published { count, .. } => total += count,
            // Idle: nothing eligible yet; Follower: a rolled-back "crashed" transaction still
            // holds the checkpoint lock for a moment.
            Step::Idle | Step::Follower => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("unexpected relay step {other:?}"),
        }
    }
    total
}

#[tokio::test]
async fn every_committed_event_reaches_the_stream_once_as_a_cloud_event() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (teacher_id, teacher) = app.teacher_of("ada", "CS101").await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    let client = connect(&app.config.connections.nats_url).await;
    wait_for_stream(&app, &client).await;
    let published = read_stream(&client, &app.config.relay.stream).await;
    assert_once_and_in_order(&published, app.event_count().await as usize);
    let recorded = published
        .iter()
        .find(|p| p.event.data.event_type == "AttendanceRecorded")
        .unwrap();
    let prefix = &app.config.relay.subject_prefix;
    assert_eq!(
        recorded.subject,
        format!("{prefix}.v1.CS101.register.AttendanceRecorded")
    );
    let envelope = serde_json::to_value(&recorded.event).unwrap();
    assert_eq!(envelope["specversion"], "1.0");
    assert_eq!(
        envelope["type"],
        "attendance.v1.register.AttendanceRecorded"
    );
    assert_eq!(envelope["subject"], format!("register/{session}"));
    assert_eq!(envelope["datacontenttype"], "application/json");
    assert_eq!(envelope["data"]["event"]["student_id"], "S1");
    assert_eq!(envelope["data"]["event"]["status"], "present");
    assert_eq!(
        envelope["data"]["actor"],
        json!({"user_id": teacher_id, "role": "teacher"})
    );
    let text = envelope.to_string();
    assert!(
        !text.contains("Ada Obi") && !text.contains("Zoë"),
        "no names in events: {text}"
    );
}

#[tokio::test]
async fn a_course_subject_filter_receives_exactly_that_courses_events() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    app.create_course("MATH201").await;
    app.enroll("MATH201", "S1", "2026-09-01").await;
    app.schedule("MATH201", "Tutorial", "2026-09-08T10:00:00Z")
        .await;
    expect_json(
        app.record(&app.admin, &session, "S2", "late").await,
        StatusCode::CREATED,
    )
    .await;
    let client = connect(&app.config.connections.nats_url).await;
    wait_for_stream(&app, &client).await;

    let js = async_nats::jetstream::new(client.clone());
    let stream = js.get_stream(&app.config.relay.stream).await.unwrap();
    let filter = format!("{}.v1.CS101.>", app.config.relay.subject_prefix);
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("cs101-gradebook".into()),
            filter_subject: filter.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let cs101: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE metadata->>'course_id' = 'CS101'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let received = consume(&consumer, cs101 as usize).await;
    assert_eq!(received.len() as i64, cs101);
    assert!(
        received.iter().all(|s| s.contains(".v1.CS101.")),
        "{received:?}"
    );
}

#[tokio::test]
async fn commands_succeed_while_nats_is_down_and_every_event_arrives_once_when_it_returns() {
    let mut nats = OwnedNats::start().await;
    let url = nats.url();
    let app = TestApp::spawn_with(|c| c.connections.nats_url = url.clone()).await;
    let session = app.course_with_session().await;
    let client = connect(&url).await;
    wait_for_stream(&app, &client).await;

    nats.stop();
    for student in ["S1", "S2", "S3"] {
        expect_json(
            app.record(&app.admin, &session, student, "present").await,
            StatusCode::CREATED,
        )
        .await;
    }
    let breaker = app.relay.as_ref().unwrap().breaker();
    wait_until(DEADLINE, || {
        let breaker = breaker.clone();
        async move { breaker.snapshot().opened >= 1 }
    })
    .await;
    let health = app.health().await;
    assert!(
        health["relay"]["pending"].as_i64().unwrap() >= 3,
        "{health}"
    );
    assert_eq!(health["status"], "degraded");

    nats.restart().await;
    let client = connect(&url).await;
    wait_for_stream(&app, &client).await;
    let published = read_stream(&client, &app.config.relay.stream).await;
    assert_once_and_in_order(&published, app.event_count().await as usize);
    wait_until(DEADLINE, || {
        let app = &app;
        async move {
            let health = app
                .request(reqwest::Method::GET, "/api/health", Some(&app.admin))
                .send()
                .await
                .unwrap();
            let health: serde_json::Value = health.json().await.unwrap();
            health["relay"]["pending"] == 0
        }
    })
    .await;
}

#[tokio::test]
async fn a_relay_killed_between_publish_and_checkpoint_leaves_no_duplicate() {
    let app = TestApp::spawn_with(|c| c.no_relay = true).await;
    let session = app.course_with_session().await;
    expect_json(
        app.record(&app.admin, &session, "S1", "absent").await,
        StatusCode::CREATED,
    )
    .await;
    let relay = manual_relay(&app).await;
    let events = app.event_count().await as usize;

    // Publish a batch and "crash" before the checkpoint: the transaction rolls back.
    let (tx, batch) = loop {
        let mut tx = app.pool.begin().await.unwrap();
        let stream = &app.config.relay.stream;
        let checkpoint = outbox::lock_checkpoint(&mut tx, stream)
            .await
            .unwrap()
            .expect("no other relay holds the checkpoint");
        let batch = outbox::events_after(&mut tx, checkpoint, 1000)
            .await
            .unwrap();
        if batch.len() == events {
            break (tx, batch);
        }
        // A command may still be committing: release the lock (explicitly, so the next
        // attempt can take it) and look again.
        tx.rollback().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(relay.publish_only(&batch).await.unwrap(), events);
    tx.rollback().await.unwrap();

    // The restarted relay publishes the same batch again; JetStream drops every copy.
    assert_eq!(drain(&relay, events).await, events);
    assert_eq!(relay.stats().duplicates, events as u64);
    let client = connect(&app.config.connections.nats_url).await;
    let published = read_stream(&client, &app.config.relay.stream).await;
    assert_once_and_in_order(&published, events);
}

const LATE_COURSE: &str = r#"{"CourseCreated": {"course_id": "LATE1", "details": {"name": "Late", "department": null, "credits": null, "semester": null}, "by": {"user_id": "cli", "role": "admin"}, "at": "2026-09-01T00:00:00Z"}}"#;

/// Whether some connection to the app's database waits for an advisory lock: a command
/// waiting for an earlier event-writing transaction to commit.
async fn a_writer_waits(app: &TestApp) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                         WHERE l.locktype = 'advisory' AND NOT l.granted
                           AND d.datname = current_database())",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_event_committed_late_by_an_earlier_transaction_is_not_skipped() {
    let app = TestApp::spawn_with(|c| c.no_relay = true).await;
    let relay = manual_relay(&app).await;
    let url = format!("{}/{}", crate::helpers::postgres_base(), app.database);
    let mut early = PgConnection::connect(&url).await.unwrap();

    // Transaction A writes first and stays open.
    sqlx::query("BEGIN").execute(&mut early).await.unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('course', 'LATE1', 1, 'CourseCreated', '1', $1::json, '{\"course_id\": \"LATE1\"}')",
    )
    .bind(LATE_COURSE)
    .execute(&mut early)
    .await
    .unwrap();
    // Transaction B (a command) starts later: its events wait for A's commit, so that
    // events commit in position order and the relay never sees B without A.
    let command = app.create_course("CS101");
    let meanwhile = async {
        wait_until(DEADLINE, || a_writer_waits(&app)).await;
        for _ in 0..5 {
            let step = relay.step().await.unwrap();
            assert_eq!(step, Step::Idle, "nothing is published while A is open");
        }
        sqlx::query("COMMIT").execute(&mut early).await.unwrap();
    };
    tokio::join!(command, meanwhile);

    assert_eq!(drain(&relay, 2).await, 2);
    let client = connect(&app.config.connections.nats_url).await;
    let published = read_stream(&client, &app.config.relay.stream).await;
    let ids: Vec<_> = published.iter().map(|p| p.msg_id.as_str()).collect();
    assert_eq!(ids, ["course:LATE1:1", "course:CS101:1"]);
}

/// A transaction left open in another database of the same cluster (a long report, an idle
/// client of another application on a shared Postgres) holds the cluster's snapshot horizon
/// back; the relay does not wait for it: marks recorded meanwhile reach the stream and the
/// read models while it is still open.
#[tokio::test]
async fn a_transaction_open_in_another_database_does_not_hold_the_relay_back() {
    let app = TestApp::spawn().await;
    let other = format!("{}/postgres", crate::helpers::postgres_base());
    let mut stranger = PgConnection::connect(&other).await.unwrap();
    sqlx::query("BEGIN").execute(&mut stranger).await.unwrap();
    // With a transaction id of its own it holds back pg_snapshot_xmin in every database.
    let xid: String = sqlx::query_scalar("SELECT pg_current_xact_id()::text")
        .fetch_one(&mut stranger)
        .await
        .unwrap();

    let session = app.course_with_session().await;
    let marks = [("S1", "present"), ("S2", "late"), ("S3", "absent")];
    for (student, status) in marks {
        let recorded = app.record(&app.admin, &session, student, status).await;
        expect_json(recorded, StatusCode::CREATED).await;
    }
    let view = app.session_view(&app.admin, &session).await;
    for (student, status) in marks {
        assert_eq!(crate::helpers::roster_row(&view, student)["status"], status);
    }
    let stream = app.config.relay.stream.clone();
    wait_until(DEADLINE, || async {
        outbox::lag(&app.pool, &stream).await.unwrap().pending == 0
    })
    .await;

    let horizon: String =
        sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let (horizon, xid): (u64, u64) = (horizon.parse().unwrap(), xid.parse().unwrap());
    assert!(
        horizon <= xid,
        "the stranger still holds the horizon ({horizon} <= {xid})"
    );
    sqlx::query("ROLLBACK")
        .execute(&mut stranger)
        .await
        .unwrap();
}

#[tokio::test]
async fn two_relays_at_once_publish_every_event_once_in_order() {
    let app = TestApp::spawn_with(|c| c.no_relay = true).await;
    let relays = [
        Arc::new(manual_relay(&app).await),
        Arc::new(manual_relay(&app).await),
    ];
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running: Vec<_> = relays
        .iter()
        .map(|r| tokio::spawn(r.clone().run(stopped.clone())))
        .collect();

    app.create_course("CS101").await;
    let students: Vec<String> = (1..=30).map(|n| format!("S{n}")).collect();
    for id in &students {
        app.create_student(id, "Student").await;
    }
    let enrolments = students.iter().map(|id| {
        let app = &app;
        async move {
            let body = json!({"student_id": id, "effective_from": "2026-09-01"});
            app.post("/api/courses/CS101/enrollments", &app.admin, body)
                .await
                .status()
        }
    });
    assert!(
        join_all(enrolments)
            .await
            .iter()
            .all(|s| *s == StatusCode::OK)
    );

    let client = connect(&app.config.connections.nats_url).await;
    wait_for_stream(&app, &client).await;
    stop.send(true).unwrap();
    for task in running {
        task.await.unwrap();
    }
    let events = app.event_count().await as u64;
    let published: u64 = relays.iter().map(|r| r.stats().published).sum();
    let duplicates: u64 = relays.iter().map(|r| r.stats().duplicates).sum();
    assert_eq!(
        (published, duplicates),
        (events, 0),
        "each event published by exactly one relay, once"
    );
    assert_once_and_in_order(
        &read_stream(&client, &app.config.relay.stream).await,
        events as usize,
    );
}

/// The breaker's permit is taken before the batch is read: a database error in a half-open
/// trial must count as that trial's failure, not leave the trial marked as running (every
/// later step would be refused and the relay would stall until a restart).
#[tokio::test]
async fn a_database_error_during_a_half_open_trial_does_not_stall_the_relay() {
    let mut nats = OwnedNats::start().await;
    let url = nats.url();
    let app = TestApp::spawn_with(|c| {
        c.connections.nats_url = url.clone();
        c.no_relay = true;
    })
    .await;
    app.course_with_session().await;
    let events = app.event_count().await as usize;
    let mut config = app.config.relay.relay_config().unwrap();
    config.breaker = BreakerConfig {
        failure_threshold: 1,
        open_for: Duration::from_millis(300),
        success_threshold: 1,
    };
    let relay = Relay::new(app.pool.clone(), connect(&url).await, config);
    relay.ensure_stream().await.unwrap();
    let breaker = relay.breaker();

    // NATS goes away: a publish fails and the breaker opens.
    nats.stop();
    let started = std::time::Instant::now();
    while breaker.snapshot().opened == 0 {
        assert!(started.elapsed() < DEADLINE, "the breaker never opened");
        relay.step().await.unwrap();
    }
    nats.restart().await;
    wait_until(DEADLINE, || {
        let breaker = breaker.clone();
        async move { breaker.state() == BreakerState::HalfOpen }
    })
    .await;

    // The half-open trial meets a failing store: the events table is away for a moment.
    sqlx::query("ALTER TABLE events RENAME TO events_away")
        .execute(&app.pool)
        .await
        .unwrap();
    relay
        .step()
        .await
        .expect_err("the batch read fails while the table is away");
    sqlx::query("ALTER TABLE events_away RENAME TO events")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        breaker.state(),
        BreakerState::Open,
        "the trial counted as failed"
    );

    // Without a restart, the same relay publishes everything once the breaker lets it.
    let mut published = 0;
    while published < events {
        assert!(
            started.elapsed() < DEADLINE,
            "the relay stalled: {:?}",
            breaker.snapshot()
        );
        match relay.step().await.unwrap() {
            Step::Published { count, .. } => published += count,
            Step::Unavailable(wait) => tokio::time::sleep(wait.min(DEADLINE / 100)).await,
            Step::Idle | Step::Follower => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let client = connect(&url).await;
    let published = read_stream(&client, &app.config.relay.stream).await;
    assert_once_and_in_order(&published, events);
}
