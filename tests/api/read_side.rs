//! The read side through NATS: statistics with hand-computed figures, at-risk lists,
//! summaries, record search, policy changes applied to the past, and projectors that are
//! killed, rebuilt, or run in two processes, compared with a fold of the event store.

use crate::helpers::{
    Processes, TestApp, attendance_binary, expect_json, expect_problem, wait_until,
};
use event_store::outbox::{EVENT_COLUMNS, Row, StoredEvent};
use projections::course_stats::store::CourseStatsProjection;
use projections::event::ProjectedEvent;
use projections::projector::{self, Projection};
use projections::register_views::store::RegisterViewsProjection;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

/// CS101 with S1..S3 and three weekly sessions, marked so (S3 unmarked in the third):
/// S1 present, present, late; S2 late, absent, absent; S3 absent, excused, -.
pub async fn marked_course(app: &TestApp) -> (Vec<String>, i64) {
    let first = app.course_with_session().await;
    let second = app
        .schedule("CS101", "Lecture 2", "2026-09-14T09:00:00Z")
        .await;
    let third = app
        .schedule("CS101", "Lecture 3", "2026-09-21T09:00:00Z")
        .await;
    let marks = [
        (
            &first,
            [("S1", "present"), ("S2", "late"), ("S3", "absent")].as_slice(),
        ),
        (
            &second,
            &[("S1", "present"), ("S2", "absent"), ("S3", "excused")],
        ),
        (&third, &[("S1", "late"), ("S2", "absent")]),
    ];
    let mut position = 0;
    for (session, rows) in marks {
        let marks: Vec<Value> = rows
            .iter()
            .map(|(s, st)| json!({"student_id": s, "status": st}))
            .collect();
        let path = format!("/api/sessions/{session}/attendance");
        let done = expect_json(
            app.post(&path, &app.admin, json!({"marks": marks})).await,
            StatusCode::OK,
        )
        .await;
        position = done["position"].as_i64().unwrap();
    }
    (vec![first, second, third], position)
}

pub async fn read(app: &TestApp, path: &str, token: &str, position: i64) -> Value {
    let sep = if path.contains('?') { '&' } else { '?' };
    let body = expect_json(
        app.get(
            &format!("{path}{sep}min_position={position}&wait_ms=20000"),
            token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        body["freshness"]["caught_up"], true,
        "read model caught up: {body}"
    );
    body
}

pub fn student<'a>(stats: &'a Value, id: &str) -> &'a Value {
    stats["students"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["student_id"] == id)
        .unwrap()
}

#[tokio::test]
async fn course_statistics_through_nats_match_hand_computed_figures() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    let stats = read(&app, "/api/courses/CS101/statistics", &app.admin, position).await;

    // S1: 2 present + 1 late over 3 counted = 3/3 = 100 %, last attended 21 Sep (late).
    let s1 = student(&stats, "S1");
    assert_eq!(
        (
            s1["present"].clone(),
            s1["late"].clone(),
            s1["rate"].clone()
        ),
        (json!(2), json!(1), json!(100.0))
    );
    assert_eq!(
        (s1["at_risk"].clone(), s1["last_attended"].clone()),
        (json!(false), json!("2026-09-21"))
    );
    // S2: 1 late + 2 absent = 1/3 = 33.33 %, at risk, two absences in a row.
    let s2 = student(&stats, "S2");
    assert_eq!(
        (
            s2["rate"].clone(),
            s2["at_risk"].clone(),
            s2["absence_streak"].clone()
        ),
        (json!(33.33), json!(true), json!(2))
    );
    assert_eq!(s2["last_attended"], "2026-09-07");
    // S3: 1 absent counted (the excused mark is not) = 0/1 = 0 %; the excused mark ends the streak.
    let s3 = student(&stats, "S3");
    assert_eq!(
        (
            s3["excused"].clone(),
            s3["rate"].clone(),
            s3["absence_streak"].clone()
        ),
        (json!(1), json!(0.0), json!(0))
    );
    assert_eq!(s3["name"], "李小龙");
    // Totals: P2 L2 E1 A3; counted 7, weights 4 -> 57.14 %; 3 sessions taken; 2 at risk.
    let totals = &stats["totals"];
    assert_eq!(
        (
            totals["present"].clone(),
            totals["late"].clone(),
            totals["excused"].clone(),
            totals["absent"].clone()
        ),
        (json!(2), json!(2), json!(1), json!(3))
    );
    assert_eq!(
        (
            totals["rate"].clone(),
            totals["sessions"].clone(),
            totals["taken"].clone(),
            totals["at_risk"].clone()
        ),
        (json!(57.14), json!(3), json!(3), json!(2))
    );
    let third = &stats["sessions"][2];
    assert_eq!(
        (
            third["present"].clone(),
            third["late"].clone(),
            third["absent"].clone()
        ),
        (json!(0), json!(1), json!(1))
    );
    // Each session's rate, by the same formula over its own marks: P L A = 2/3 = 66.67 %;
    // P A and an excused mark not counted = 1/2 = 50 %; L A = 1/2 = 50 %.
    let rates: Vec<_> = stats["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rate"].clone())
        .collect();
    assert_eq!(rates, [json!(66.67), json!(50.0), json!(50.0)]);
    assert!(stats["freshness"]["position"].as_i64().unwrap() >= position);
}

#[tokio::test]
async fn a_position_not_reached_yet_is_never_caught_up() {
    let app = TestApp::spawn().await;
    let (session, position) = marked_course(&app).await;
    read(&app, "/api/courses/CS101/statistics", &app.admin, position).await;
    let beyond = app.latest_position().await + 1_000;
    for path in [
        "/api/courses/CS101/statistics".to_string(),
        format!("/api/sessions/{}", session[0]),
        "/api/attendance?course_id=CS101".to_string(),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let started = std::time::Instant::now();
        let body = expect_json(
            app.get(
                &format!("{path}{sep}min_position={beyond}&wait_ms=30000"),
                &app.admin,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            body["freshness"]["caught_up"], false,
            "{path}: position {beyond} was never stored: {body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{path} answered without holding the request for the whole wait"
        );
    }
}

#[tokio::test]
async fn the_at_risk_list_is_below_the_threshold_and_lowest_first() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    let list = read(&app, "/api/courses/CS101/at-risk", &app.admin, position).await;
    let ids: Vec<_> = list["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["student_id"].clone())
        .collect();
    assert_eq!(
        (ids, list["threshold"].clone()),
        (vec![json!("S3"), json!("S2")], json!(75.0))
    );
    let strict = read(
        &app,
        "/api/courses/CS101/at-risk?threshold=20",
        &app.admin,
        position,
    )
    .await;
    assert_eq!(
        strict["students"].as_array().unwrap().len(),
        1,
        "only S3 (0 %) is below 20 %"
    );
    let bad = app
        .get("/api/courses/CS101/at-risk?threshold=101", &app.admin)
        .await;
    expect_problem(bad, StatusCode::BAD_REQUEST, "invalid_parameter").await;
}

#[tokio::test]
async fn a_policy_change_recomputes_past_sessions() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    let before = read(&app, "/api/courses/CS101/statistics", &app.admin, position).await;
    assert_eq!(student(&before, "S1")["rate"], 100.0);
    let policy = json!({"weights": {"present": 1.0, "late": 0.5, "excused": 1.0, "absent": 0.0},
                        "count_excused": false, "at_risk_below": 75.0});
    let changed = expect_json(
        app.put("/api/courses/CS101/policy", &app.admin, policy)
            .await,
        StatusCode::OK,
    )
    .await;
    let after = read(
        &app,
        "/api/courses/CS101/statistics",
        &app.admin,
        changed["position"].as_i64().unwrap(),
    )
    .await;
    // S1: (2 + 0.5) / 3 = 83.33 %; S2: 0.5 / 3 = 16.67 %.
    assert_eq!(student(&after, "S1")["rate"], 83.33);
    assert_eq!(student(&after, "S2")["rate"], 16.67);
    assert_eq!(after["policy"]["weights"]["late"], 0.5);
}

#[tokio::test]
async fn a_student_summary_spans_courses_and_each_reader_sees_what_they_may() {
    let app = TestApp::spawn().await;
    let (_, _) = marked_course(&app).await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    app.create_course("MATH201").await;
    app.enroll("MATH201", "S1", "2026-09-01").await;
    let session = app
        .schedule("MATH201", "Tutorial", "2026-09-08T10:00:00Z")
        .await;
    let done = expect_json(
        app.record(&app.admin, &session, "S1", "absent").await,
        StatusCode::CREATED,
    )
    .await;
    let position = done["position"].as_i64().unwrap();

    let summary = read(&app, "/api/students/S1/summary", &app.admin, position).await;
    let courses: Vec<_> = summary["courses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["course_id"].clone(), c["rate"].clone()))
        .collect();
    assert_eq!(
        courses,
        vec![
            (json!("CS101"), json!(100.0)),
            (json!("MATH201"), json!(0.0))
        ]
    );
    assert_eq!(summary["name"], "Ada Obi");
    let seen_by_teacher = read(&app, "/api/students/S1/summary", &teacher, position).await;
    assert_eq!(
        seen_by_teacher["courses"].as_array().unwrap().len(),
        1,
        "a teacher sees their own course only"
    );
    let (_, own) = app.create_user("s1", "student", Some("S1")).await;
    read(&app, "/api/students/S1/summary", &own, position).await;
    let (_, other) = app.create_user("s2", "student", Some("S2")).await;
    expect_problem(
        app.get("/api/students/S1/summary", &other).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn record_search_filters_pages_and_keeps_students_to_their_own() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    let absent = read(
        &app,
        "/api/attendance?status=absent&course_id=CS101",
        &app.admin,
        position,
    )
    .await;
    assert_eq!(absent["total"], 3, "S2 twice, S3 once");
    let page = read(
        &app,
        "/api/attendance?course_id=CS101&limit=2&offset=7",
        &app.admin,
        position,
    )
    .await;
    // 3 sessions x 3 roster lines = 9 lines; the last page holds 2.
    assert_eq!(
        (
            page["total"].clone(),
            page["records"].as_array().unwrap().len()
        ),
        (json!(9), 2)
    );
    let september_14 = read(
        &app,
        "/api/attendance?from=2026-09-14&to=2026-09-14",
        &app.admin,
        position,
    )
    .await;
    assert_eq!(september_14["total"], 3);
    let (_, own) = app.create_user("s2", "student", Some("S2")).await;
    let mine = read(&app, "/api/attendance", &own, position).await;
    assert!(
        mine["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["student_id"] == "S2")
    );
    assert_eq!(mine["total"], 3);
    expect_problem(
        app.get("/api/attendance?student_id=S1", &own).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let (_, stranger) = app.create_user("bob", "teacher", None).await;
    assert_eq!(
        read(&app, "/api/attendance", &stranger, position).await["total"],
        0
    );
    expect_problem(
        app.get("/api/attendance?limit=0", &app.admin).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
}

#[tokio::test]
async fn the_seed_shapes_answer_a_students_records_and_a_courses_counts() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    let records = read(
        &app,
        "/api/attendance/student/S2?course_id=CS101",
        &app.admin,
        position,
    )
    .await;
    assert_eq!(
        records["summary"],
        json!({"total_sessions": 3, "present": 0, "late": 1, "excused": 0, "absent": 2, "attendance_rate": 33.33})
    );
    assert_eq!(records["records"].as_array().unwrap().len(), 3);
    // Who marked: the username, as in the register and the reports, the user id beside it.
    let first = &records["records"][0];
    assert_eq!(first["recorded_by"], "admin", "{first}");
    assert!(
        first["recorded_by_id"]
            .as_str()
            .is_some_and(|id| id != "admin")
    );
    let counts = read(&app, "/api/attendance/course/CS101", &app.admin, position).await;
    assert_eq!(
        (
            counts["present"].clone(),
            counts["absent"].clone(),
            counts["unmarked"].clone(),
            counts["total"].clone()
        ),
        (json!(2), json!(3), json!(1), json!(9))
    );
}

/// Every event of the store, folded in memory as a rebuild would.
async fn folded<P: Projection>(app: &TestApp) -> BTreeMap<String, P::Model> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY tx_id, global_position");
    let rows: Vec<Row> = sqlx::query_as(&sql).fetch_all(&app.pool).await.unwrap();
    let mut docs = BTreeMap::new();
    for row in rows {
        let event = ProjectedEvent::from_stored(&StoredEvent::try_from(row).unwrap()).unwrap();
        projector::fold::<P>(&mut docs, &event);
    }
    docs
}

async fn stored<P: Projection>(app: &TestApp, keys: Vec<String>) -> BTreeMap<String, P::Model> {
    let mut conn = app.pool.acquire().await.unwrap();
    P::load(&mut conn, &keys)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

async fn matches_the_event_store(app: &TestApp) -> bool {
    let expected = folded::<CourseStatsProjection>(app).await;
    let stats =
        stored::<CourseStatsProjection>(app, expected.keys().cloned().collect()).await == expected;
    let expected = folded::<RegisterViewsProjection>(app).await;
    stats
        && stored::<RegisterViewsProjection>(app, expected.keys().cloned().collect()).await
            == expected
}

/// Waits until both read models equal a fold of the whole event store (redelivered and
/// gap-delayed events settle within the deadline), failing loudly otherwise.
pub(crate) async fn assert_matches_the_event_store(app: &TestApp) {
    wait_until(DEADLINE, || matches_the_event_store(app)).await;
}

async fn wait_caught_up(app: &TestApp) {
    let position = app.latest_position().await;
    for name in [CourseStatsProjection::NAME, RegisterViewsProjection::NAME] {
        wait_until(DEADLINE, || {
            let pool = app.pool.clone();
            async move { projector::has_applied(&pool, name, position).await.unwrap() }
        })
        .await;
    }
}

/// Roll calls for `sessions` new sessions of CS101 (students S1..S3).
async fn more_roll_calls(app: &TestApp, from_day: u32, sessions: u32) {
    for day in from_day..from_day + sessions {
        let session = app
            .schedule(
                "CS101",
                &format!("Day {day}"),
                &format!("2026-10-{day:02}T09:00:00Z"),
            )
            .await;
        let marks = json!({"marks": [{"student_id": "S1", "status": "present"}, {"student_id": "S2", "status": "late"},
                                     {"student_id": "S3", "status": "absent"}]});
        expect_json(
            app.post(
                &format!("/api/sessions/{session}/attendance"),
                &app.admin,
                marks,
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
}

fn spawn_projectors(
    app: &TestApp,
    shutdown: &tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let client_url = app.config.connections.nats_url.clone();
    let config = projections::consumer::ConsumerConfig {
        stream: app.config.relay.stream.clone(),
        subject_prefix: app.config.relay.subject_prefix.clone(),
    };
    let client = futures::executor::block_on(async_nats::connect(client_url)).unwrap();
    attendance::projectors::spawn(
        &attendance::projectors::ALL,
        &app.pool,
        &client,
        &config,
        shutdown,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_killed_mid_stream_resumes_without_loss_or_double_counting() {
    let app = TestApp::spawn_with(|c| c.no_projectors = true).await;
    let _ = marked_course(&app).await;
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let first = spawn_projectors(&app, &stopped);
    wait_until(DEADLINE, || {
        let pool = app.pool.clone();
        async move {
            projector::position(&pool, CourseStatsProjection::NAME)
                .await
                .unwrap()
                > 0
        }
    })
    .await;
    // Killed while events keep arriving: whatever it had not acked is redelivered.
    let writing = more_roll_calls(&app, 1, 6);
    tokio::pin!(writing);
    let finished = tokio::select! {
        _ = &mut writing => true,
        _ = tokio::time::sleep(Duration::from_millis(150)) => false,
    };
    for task in &first {
        task.abort();
    }
    if !finished {
        writing.await;
    }
    more_roll_calls(&app, 10, 3).await;
    let _second = spawn_projectors(&app, &stopped);
    wait_caught_up(&app).await;
    assert_matches_the_event_store(&app).await;
}

async fn snapshot(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT course_id || ' ' || doc::text FROM rm_course_stats ORDER BY course_id",
        "SELECT row_to_json(r)::text FROM (SELECT * FROM rm_course_students ORDER BY course_id, student_id) r",
        "SELECT row_to_json(r)::text FROM (SELECT * FROM rm_course_marks ORDER BY course_id, student_id) r",
        "SELECT session_id || ' ' || doc::text FROM rm_register_views ORDER BY session_id",
        "SELECT row_to_json(r)::text FROM (SELECT * FROM rm_attendance_records ORDER BY session_id, student_id) r",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&app.pool).await.unwrap();
        out.extend(rows);
    }
    out
}

#[tokio::test]
async fn a_rebuilt_model_equals_the_live_one_row_for_row_and_hands_over_without_gaps() {
    let app = TestApp::spawn().await;
    let (sessions, _) = marked_course(&app).await;
    more_roll_calls(&app, 1, 3).await;
    wait_caught_up(&app).await;
    // The early warning's crossings (read past by both projectors) are stored after the
    // marks: wait for them too, so the rebuild reads what is counted below.
    app.settled().await;
    let live = snapshot(&app).await;
    assert!(!live.is_empty());
    let rebuilt = projector::rebuild::<CourseStatsProjection>(&app.pool, |_, _| {})
        .await
        .unwrap();
    projector::rebuild::<RegisterViewsProjection>(&app.pool, |_, _| {})
        .await
        .unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(rebuilt.events as i64, stored);
    assert_eq!(
        snapshot(&app).await,
        live,
        "rebuilt tables equal the live ones"
    );

    // The live consumer carries on after the rebuild: one correction, counted once.
    let body = json!({"status": "present", "reason": "late bus"});
    let path = format!("/api/sessions/{}/attendance/S2/correction", sessions[0]);
    let done = expect_json(app.post(&path, &app.admin, body).await, StatusCode::OK).await;
    let stats = read(
        &app,
        "/api/courses/CS101/statistics",
        &app.admin,
        done["position"].as_i64().unwrap(),
    )
    .await;
    // S2: 6 sessions: present (corrected from late), absent, absent, late x3 -> P1 L3 A2.
    let s2 = student(&stats, "S2");
    assert_eq!(
        (
            s2["present"].clone(),
            s2["late"].clone(),
            s2["absent"].clone()
        ),
        (json!(1), json!(3), json!(2))
    );
    assert_matches_the_event_store(&app).await;
}

#[tokio::test]
async fn two_project_processes_share_the_work_and_the_totals_are_exact() {
    let app = TestApp::spawn_with(|c| c.no_projectors = true).await;
    let url = format!("{}/{}", crate::helpers::postgres_base(), app.database);
    let processes = Processes(
        (0..2)
            .map(|_| {
                std::process::Command::new(attendance_binary())
                    .arg("project")
                    .env("DATABASE_URL", &url)
                    .env("NATS_URL", &app.config.connections.nats_url)
                    .env("ATTENDANCE_STREAM", &app.config.relay.stream)
                    .env(
                        "ATTENDANCE_SUBJECT_PREFIX",
                        &app.config.relay.subject_prefix,
                    )
                    .env("RUST_LOG", "warn")
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .expect("the attendance binary runs")
            })
            .collect(),
    );
    let _ = marked_course(&app).await;
    more_roll_calls(&app, 1, 8).await;
    assert_matches_the_event_store(&app).await;
    // The early warning runs in `project` too, led by one of the two: S3, absent every
    // time, fell at risk, once; evaluating every event again stores nothing.
    app.settled().await;
    assert_eq!(
        app.events_of("standing", "CS101.S3").await,
        ["StudentAtRisk", "AbsenceStreakReached"]
    );
    let state = attendance::notify::offline_state(app.pool.clone(), domain::Zone::UTC).unwrap();
    let replayed = api::app::warnings::evaluate::replay(&state).await.unwrap();
    assert_eq!(replayed.stored, 0);
    drop(processes);
    let applied: i64 = sqlx::query_scalar("SELECT sum(applied)::bigint FROM projector_state")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // Every event, the crossings too (`event_count` counts only the commands' events).
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        applied,
        2 * events,
        "each projector applied every event exactly once"
    );
}

#[tokio::test]
async fn health_reports_each_projectors_position_and_lag() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    read(&app, "/api/courses/CS101/statistics", &app.admin, position).await;
    wait_caught_up(&app).await;
    let health = app
        .request(reqwest::Method::GET, "/api/health", Some(&app.admin))
        .send()
        .await
        .unwrap();
    let health: Value = health.json().await.unwrap();
    let projectors = health["projectors"].as_array().unwrap();
    let names: Vec<_> = projectors
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["course_stats", "register_views"]);
    assert!(
        projectors
            .iter()
            .all(|p| p["position"].as_i64().unwrap() >= position),
        "{health}"
    );
}

#[tokio::test]
async fn metrics_expose_relay_projector_and_breaker_figures_to_admins_only() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    read(&app, "/api/courses/CS101/statistics", &app.admin, position).await;
    let response = app.get("/api/metrics", &app.admin).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for expected in [
        "# TYPE attendance_events_stored gauge",
        "attendance_relay_pending_events ",
        "attendance_projector_position{projector=\"course_stats\"} ",
        "attendance_breaker_state{breaker=\"nats-publish\"} 0",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(
        text.matches("# HELP attendance_projector_position ")
            .count(),
        1
    );
    let (_, teacher) = app.create_user("ada", "teacher", None).await;
    expect_problem(
        app.get("/api/metrics", &teacher).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}
