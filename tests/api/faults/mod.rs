//! Reliability under faults: Postgres cut away, the NATS server stopped, a projector and the
//! server killed with SIGKILL, fifty corrections of one mark at once. Every test ends with the
//! same accounting: commands accepted = events stored = messages in the test's stream = marks
//! in the read models.

use crate::helpers::{
    Processes, TestApp, attendance_binary, expect_json, postgres_base, roster_row, wait_until,
};
use crate::nats_support::{
    OwnedNats, Published, connect, free_port, read_stream, settled, stream_len,
};
use crate::proxy::TcpProxy;
use crate::read_side::read;
use futures::future::join_all;
use projections::consumer::consumer_name;
use projections::course_stats::store::CourseStatsProjection;
use projections::projector::Projection;
use projections::register_views::store::RegisterViewsProjection;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);
const COURSE: &str = "FLT101";
const STATUSES: [&str; 4] = ["present", "late", "absent", "excused"];
/// "Fast" for a dependency failure, generous for a loaded two-core machine.
const FAST: Duration = Duration::from_secs(5);

mod accounting;
mod load;
mod processes;

use accounting::*;
use load::*;
use processes::*;

/// Postgres cut by a proxy in the middle of a stream of marks (tokens taken before): every
/// command during the cut answers 503 problem+json with Retry-After, fast (bounded by the
/// pool's 2 s acquire timeout, plus the proxy's 1 s drain for commands caught mid-query);
/// nothing is half-written (every 200 is stored, no 503 is); once the proxy forwards again
/// the service recovers by itself, without a restart, and the counts match.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_cut_by_a_proxy_answers_503_fast_and_recovers() {
    let proxy = TcpProxy::start(&postgres_upstream()).await;
    let app = behind(&proxy).await;
    let class = Class::create(&app, 12, 20).await;
    let (_, teacher) = app.teacher_of("ada", COURSE).await;
    let load = Load::start(&app.base, &teacher, &class, 4);
    load.wait_for(10, Outcome::accepted).await;
    proxy.cut();
    load.wait_for(6, Outcome::unavailable).await;
    let restored = Instant::now();
    proxy.restore();
    let before = load.count(Outcome::accepted);
    load.wait_for(before + 1, Outcome::accepted).await;
    let recovery = restored.elapsed();
    load.wait_for(before + 10, Outcome::accepted).await;
    let outcomes = load.finish().await;

    let refused: Vec<&Outcome> = outcomes.iter().filter(|o| o.unavailable()).collect();
    for o in &refused {
        assert!(o.elapsed < FAST, "503 within {FAST:?}: {o:?}");
        let retry_after: u64 = o
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{o:?}");
        assert_eq!(o.header("content-type"), Some("application/problem+json"));
        assert_eq!(
            (o.body["status"].clone(), o.body["code"].clone()),
            (json!(503), json!("unavailable"))
        );
    }
    let others: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !o.accepted() && !o.unavailable())
        .collect();
    assert!(others.is_empty(), "only 201 or 503: {others:?}");
    assert_accounted(&app, &outcomes).await;
    let slowest = refused.iter().map(|o| o.elapsed).max().unwrap();
    let relay = app.relay.as_ref().unwrap().stats();
    eprintln!(
        "faults: {} accepted, {} answered 503 (slowest {slowest:?}), {} connections dropped while cut, first success {recovery:?} after restore; relay: {} published, {} duplicates",
        outcomes.len() - refused.len(),
        refused.len(),
        proxy.refused(),
        relay.published,
        relay.duplicates
    );
}

/// The NATS server killed and started again while clients keep marking: commands never
/// depend on the broker (all answer 200), and afterwards the stream holds every event
/// exactly once (republished batches dropped by JetStream as duplicates), gap-free per
/// aggregate, and the read models equal the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nats_stopped_and_restarted_under_load_loses_and_doubles_nothing() {
    let mut nats = OwnedNats::start().await;
    let url = nats.url();
    let app = TestApp::spawn_with(|c| c.connections.nats_url = url.clone()).await;
    let class = Class::create(&app, 12, 20).await;
    let load = Load::start(&app.base, &app.admin, &class, 6);
    load.wait_for(30, Outcome::accepted).await;
    nats.stop();
    let at_stop = load.count(Outcome::accepted);
    load.wait_for(at_stop + 30, Outcome::accepted).await;
    nats.restart().await;
    let at_restart = load.count(Outcome::accepted);
    load.wait_for(at_restart + 30, Outcome::accepted).await;
    let outcomes = load.finish().await;

    let refused: Vec<&Outcome> = outcomes.iter().filter(|o| !o.accepted()).collect();
    assert!(
        refused.is_empty(),
        "the broker is not on the command path: {refused:?}"
    );
    assert_accounted(&app, &outcomes).await;
    let stats = app.relay.as_ref().unwrap().stats();
    eprintln!(
        "faults: {} accepted ({} while NATS was down), {} events published, {} duplicates dropped by JetStream",
        outcomes.len(),
        at_restart - at_stop,
        stats.published,
        stats.duplicates
    );
}

/// Whether a projector is inside a batch: its transaction holds the projector's advisory
/// lock (nothing else in the system takes advisory locks).
async fn batch_open(pool: &PgPool) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                         WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database())",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Records one roll call per session (every student), statuses varied; returns the marks.
async fn roll_calls(app: &TestApp, class: &Class) -> usize {
    for (day, session) in class.sessions.iter().enumerate() {
        let marks: Vec<Value> = class
            .students
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"student_id": s, "status": STATUSES[(i + day) % 4]}))
            .collect();
        let path = format!("/api/sessions/{session}/attendance");
        let done = app.post(&path, &app.admin, json!({"marks": marks})).await;
        expect_json(done, StatusCode::OK).await;
    }
    class.sessions.len() * class.students.len()
}

/// `attendance project` killed with SIGKILL while it works through a backlog of a few
/// thousand events (after its first batch committed, before the last): restarted, it
/// catches up and the statistics equal a count of the events table, each event applied
/// exactly once (the batch it was applying is redelivered and applied once, the batches
/// it had committed are skipped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_killed_with_sigkill_mid_batch_restarts_with_exact_totals() {
    let app = TestApp::spawn_with(|c| c.no_projectors = true).await;
    let class = Class::create(&app, 50, 40).await;
    let marks = roll_calls(&app, &class).await;
    // The whole backlog is in the stream before the projector starts.
    assert_stream_holds_the_store(&app).await;
    let events = count_events(&app.pool, "*").await;

    // The projectors alone: the early warning (which `project` runs too) would add its
    // crossings to the totals counted here.
    const PROJECTORS: &[&str] = &[
        "project",
        "--only",
        "course_stats",
        "--only",
        "register_views",
    ];
    let mut processes = Processes(vec![attendance(&app, PROJECTORS, &[])]);
    let stats = CourseStatsProjection::NAME;
    let started = Instant::now();
    // Killed once a batch has committed and while the next one's transaction is open.
    let at_kill = loop {
        let done = applied(&app.pool, stats).await;
        if done > 0 && batch_open(&app.pool).await {
            break done;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the projector never applied a batch"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    sigkill(&mut processes.0[0]);
    assert!(
        at_kill < events,
        "killed before the end ({at_kill} of {events})"
    );

    processes.0.push(attendance(&app, PROJECTORS, &[]));
    let stored = assert_read_models_hold_the_store(&app, COURSE).await;
    assert_eq!(stored.len(), marks);
    for name in [stats, RegisterViewsProjection::NAME] {
        assert_eq!(
            applied(&app.pool, name).await,
            events,
            "{name}: each event once"
        );
    }
    let client = connect(&app.config.connections.nats_url).await;
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream(&app.config.relay.stream).await.unwrap();
    let mut consumer: async_nats::jetstream::consumer::PullConsumer = stream
        .get_consumer(&consumer_name::<CourseStatsProjection>())
        .await
        .unwrap();
    let deliveries = consumer.info().await.unwrap().delivered.consumer_sequence;
    eprintln!(
        "faults: {marks} marks, {events} events; killed at {at_kill} applied; caught up {:?} after the start; {deliveries} deliveries",
        started.elapsed()
    );
}

/// `attendance serve` (API, relay and projectors in one process) killed with SIGKILL while
/// clients mark: every command that was answered 200 is in the events table; the commands
/// in flight (no answer) may or may not be; after a restart the stream and the read models
/// converge to the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_with_sigkill_under_load_keeps_every_acknowledged_command() {
    // The in-process app only prepares the database and reads it; the child does the work.
    let app = TestApp::spawn_with(|c| {
        c.no_relay = true;
        c.no_projectors = true;
    })
    .await;
    let class = Class::create(&app, 12, 20).await;
    let (child, base) = serve(&app).await;
    let mut processes = Processes(vec![child]);
    let load = Load::start(&base, &app.admin, &class, 6);
    load.wait_for(40, Outcome::accepted).await;
    sigkill(&mut processes.0[0]);
    let outcomes = load.finish().await;
    let answered: Vec<&Outcome> = outcomes.iter().filter(|o| !o.in_doubt()).collect();
    assert!(answered.iter().all(|o| o.accepted()), "{answered:?}");

    let (child, _) = serve(&app).await;
    processes.0.push(child);
    let in_doubt_stored = assert_accounted(&app, &outcomes).await;
    eprintln!(
        "faults: {} accepted before the kill, {} in flight ({in_doubt_stored} of them stored)",
        answered.len(),
        outcomes.len() - answered.len()
    );
}

/// Fifty corrections of one mark at once, statuses alternating, each with its own reason:
/// no 500 (a 409 `concurrent_write` only if the bounded retry gives up); the register view
/// and the store agree with the last accepted correction; the mark's history lists every
/// correction that changed something, and only those.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_corrections_of_one_mark_keep_every_accepted_one() {
    let app = Arc::new(TestApp::spawn().await);
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/api/sessions/{session}/attendance/S1/correction");
    let tasks = (0..50).map(|i| {
        let (app, teacher, path) = (app.clone(), teacher.clone(), path.clone());
        tokio::spawn(async move {
            let body =
                json!({"status": STATUSES[(i + 1) % 4], "reason": format!("correction #{i}")});
            let response = app.post(&path, &teacher, body.clone()).await;
            let status = response.status();
            (status, body, response.json::<Value>().await.unwrap())
        })
    });
    let answers: Vec<(StatusCode, Value, Value)> = join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let conflicts = answers
        .iter()
        .filter(|(s, ..)| *s == StatusCode::CONFLICT)
        .count();
    for (status, _, answer) in &answers {
        let conflict = *status == StatusCode::CONFLICT && answer["code"] == "concurrent_write";
        assert!(*status == StatusCode::OK || conflict, "{status}: {answer}");
    }
    let mut changed: Vec<(&Value, &Value)> = answers
        .iter()
        .filter(|(s, _, a)| *s == StatusCode::OK && a["changed"] == true)
        .map(|(_, body, answer)| (body, answer))
        .collect();
    changed.sort_by_key(|(_, answer)| answer["version"].as_u64().unwrap());
    let versions: Vec<u64> = changed
        .iter()
        .map(|(_, a)| a["version"].as_u64().unwrap())
        .collect();
    assert_eq!(
        versions,
        (3..3 + changed.len() as u64).collect::<Vec<_>>(),
        "one event each"
    );
    let last = changed.last().expect("some correction changed the mark").0["status"].clone();

    let stored = assert_read_models_hold_the_store(&app, "CS101").await;
    assert_eq!(
        json!(stored[&(session.clone(), "S1".to_string())]),
        last,
        "store fold"
    );
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(roster_row(&view, "S1")["status"], last, "register view");
    let history = expect_json(
        app.get(
            &format!("/api/sessions/{session}/attendance/S1/history"),
            &teacher,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let listed: Vec<&Value> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "corrected")
        .map(|e| &e["reason"])
        .collect();
    let accepted: Vec<&Value> = changed.iter().map(|(body, _)| &body["reason"]).collect();
    assert_eq!(listed, accepted, "every accepted correction, in order");
    assert_eq!(history["current_status"], last);
    assert_eq!(
        count_events(&app.pool, "AttendanceCorrected").await as usize,
        changed.len()
    );
    let published = assert_stream_holds_the_store(&app).await;
    eprintln!(
        "faults: 50 corrections: {} changed the mark, {} no-ops, {conflicts} conflicts; {} messages",
        changed.len(),
        50 - changed.len() - conflicts,
        published.len()
    );
}
