//! The early warning end to end: the process manager stores each crossing once (through a
//! redelivery of every event, a replay as `attendance rebuild` does it, and a policy change),
//! and the notifier sends each e-mail once to an SMTP sink started here, through an SMTP
//! outage and with a second notifier running, skipping a student who opted out.

use crate::helpers::{TestApp, expect_json, expect_problem, wait_until};
use attendance::config::NotifySettings;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One message the sink accepted.
#[derive(Debug, Clone)]
struct Received {
    to: Vec<String>,
    data: String,
}

impl Received {
    /// The message with quoted-printable soft line breaks joined (the body's long lines).
    fn text(&self) -> String {
        self.data.replace("=\n", "")
    }

    fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }
}

/// A small SMTP server in the test binary: accepts every message and records it; can be
/// stopped (connections refused) and started again on the same port.
struct SmtpSink {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    task: Option<JoinHandle<()>>,
}

impl SmtpSink {
    async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let task = Some(tokio::spawn(serve(listener, received.clone())));
        SmtpSink {
            port,
            received,
            task,
        }
    }

    fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    async fn restart(&mut self) {
        self.stop();
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        self.task = Some(tokio::spawn(serve(listener, self.received.clone())));
    }

    fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(listener: TcpListener, received: Arc<Mutex<Vec<Received>>>) {
    // Connections end with the task: a stopped sink answers nothing.
    let mut sessions = tokio::task::JoinSet::new();
    while let Ok((socket, _)) = listener.accept().await {
        sessions.spawn(session(socket, received.clone()));
    }
}

async fn session(socket: tokio::net::TcpStream, received: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let mut to = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM") {
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            let _ = write.write_all(b"354 go on\r\n").await;
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(&line);
                data.push('\n');
            }
            received.lock().unwrap().push(Received {
                to: std::mem::take(&mut to),
                data,
            });
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

fn notify_settings(port: u16) -> NotifySettings {
    NotifySettings {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: port,
        smtp_tls: attendance::config::TlsMode::Plain,
        smtp_from: "attendance@school.test".into(),
        every_ms: 50,
        retry_base_ms: 100,
        retry_max_secs: 1,
        breaker_open_ms: 200,
        ..NotifySettings::default()
    }
}

/// The standing event types of a student in CS101.
async fn standing(app: &TestApp, student: &str) -> Vec<String> {
    app.events_of("standing", &format!("CS101.{student}")).await
}

/// CS101 with S1 and S2 (with addresses) and four sessions; returns the session ids.
async fn course(app: &TestApp) -> Vec<String> {
    app.create_course("CS101").await;
    for id in ["S1", "S2"] {
        let body = json!({"id": id, "name": format!("Student {id}"),
                          "email": format!("{}@school.test", id.to_lowercase())});
        expect_json(
            app.post("/api/students", &app.admin, body).await,
            StatusCode::CREATED,
        )
        .await;
        app.enroll("CS101", id, "2026-09-01").await;
    }
    let mut sessions = Vec::new();
    for day in 7..=10 {
        let at = format!("2026-09-{day:02}T09:00:00Z");
        sessions.push(app.schedule("CS101", &format!("Lecture {day}"), &at).await);
    }
    sessions
}

async fn mark(app: &TestApp, session: &str, student: &str, status: &str) {
    expect_json(
        app.record(&app.admin, session, student, status).await,
        StatusCode::CREATED,
    )
    .await;
}

async fn wait_for_standing(app: &TestApp, student: &str, expected: &[&str]) {
    wait_until(Duration::from_secs(30), || async {
        standing(app, student).await == expected
    })
    .await;
}

#[tokio::test]
async fn each_crossing_is_stored_once_through_a_redelivery_a_rebuild_and_a_policy_change() {
    let app = TestApp::spawn().await;
    let sessions = course(&app).await;
    // S1 absent three times: at risk at once (0 %), then the streak of 3; S2 present.
    for session in &sessions[..3] {
        mark(&app, session, "S1", "absent").await;
        mark(&app, session, "S2", "present").await;
    }
    wait_for_standing(&app, "S1", &["StudentAtRisk", "AbsenceStreakReached"]).await;
    // Present once: 25 %, still at risk; the streak breaks.
    mark(&app, &sessions[3], "S1", "present").await;
    wait_for_standing(
        &app,
        "S1",
        &[
            "StudentAtRisk",
            "AbsenceStreakReached",
            "AbsenceStreakEnded",
        ],
    )
    .await;
    let (_, teacher) = app.teacher_of("teacher1", "CS101").await;
    let listed = expect_json(
        app.get("/api/courses/CS101/warnings", &teacher).await,
        StatusCode::OK,
    )
    .await;
    let warnings = listed["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 3, "{listed}");
    assert_eq!(warnings[0]["kind"], "StudentAtRisk");
    assert_eq!(warnings[0]["rate"], 0.0);
    assert_eq!(warnings[0]["at_risk_below"], 75.0);
    assert_eq!(warnings[1]["kind"], "AbsenceStreakReached");
    assert_eq!(warnings[1]["absence_streak"], 3);
    assert_eq!(warnings[1]["streak_of"], 3);
    let since = warnings[1]["position"].as_i64().unwrap();
    let later = expect_json(
        app.get(
            &format!("/api/courses/CS101/warnings?since={since}"),
            &teacher,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(later["warnings"].as_array().unwrap().len(), 1);
    // S2 was never at risk: no standing at all.
    assert!(standing(&app, "S2").await.is_empty());

    // A policy change: a threshold of 20 % takes S1 (25 %) out of risk; nobody else crosses.
    let policy = json!({"weights": {"present": 1.0, "late": 1.0, "excused": 1.0, "absent": 0.0},
                        "count_excused": false, "at_risk_below": 20.0, "absence_streak": 3});
    expect_json(
        app.put("/api/courses/CS101/policy", &app.admin, policy.clone())
            .await,
        StatusCode::OK,
    )
    .await;
    let after_policy = [
        "StudentAtRisk",
        "AbsenceStreakReached",
        "AbsenceStreakEnded",
        "StudentRecovered",
    ];
    wait_for_standing(&app, "S1", &after_policy).await;

    // Redelivery of every event: the process manager's consumer is deleted; it makes a new
    // one, which delivers the whole stream again.
    let client = async_nats::connect(&app.config.connections.nats_url)
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client.clone());
    let stream = js.get_stream(&app.config.relay.stream).await.unwrap();
    stream
        .delete_consumer(attendance::warnings::CONSUMER)
        .await
        .unwrap();
    // Noticing the deletion and evaluating the whole stream again takes a few seconds alone
    // and much longer beside the rest of the suite on two cores.
    wait_until(Duration::from_secs(90), || async {
        let Ok(mut consumer) = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>(
                attendance::warnings::CONSUMER,
            )
            .await
        else {
            return false;
        };
        consumer.info().await.is_ok_and(|i| {
            i.num_pending == 0 && i.num_ack_pending == 0 && i.delivered.stream_sequence > 10
        })
    })
    .await;
    assert_eq!(standing(&app, "S1").await, after_policy);
    assert!(standing(&app, "S2").await.is_empty());

    // The `attendance rebuild` path: every event evaluated again from the store.
    attendance::startup::rebuild(&app.config.connections, &["warnings".to_string()])
        .await
        .unwrap();
    let state = attendance::notify::offline_state(app.pool.clone(), domain::Zone::UTC).unwrap();
    let replayed = api::app::warnings::evaluate::replay(&state).await.unwrap();
    assert!(replayed.events > 10);
    assert_eq!(replayed.stored, 0);
    assert_eq!(standing(&app, "S1").await, after_policy);

    // The same policy again crosses nothing; a stricter one puts S1 back at risk.
    expect_json(
        app.put("/api/courses/CS101/policy", &app.admin, policy)
            .await,
        StatusCode::OK,
    )
    .await;
    let stricter = json!({"weights": {"present": 1.0, "late": 1.0, "excused": 1.0, "absent": 0.0},
                          "count_excused": false, "at_risk_below": 30.0});
    expect_json(
        app.put("/api/courses/CS101/policy", &app.admin, stricter)
            .await,
        StatusCode::OK,
    )
    .await;
    let mut again = after_policy.to_vec();
    again.push("StudentAtRisk");
    wait_for_standing(&app, "S1", &again).await;
    assert!(standing(&app, "S2").await.is_empty());

    // The events are audited like every other: by the system, from `warnings`.
    let sources: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT metadata ->> 'source' FROM events WHERE aggregate_type = 'standing'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(sources, ["warnings"]);

    // A student reads their own standing; another student may not.
    let (_, s1) = app.create_user("s1", "student", Some("S1")).await;
    let own = expect_json(
        app.get("/api/students/S1/standing", &s1).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own["courses"][0]["at_risk"], true, "{own}");
    assert_eq!(own["courses"][0]["last"]["kind"], "StudentAtRisk");
    let (_, s2) = app.create_user("s2", "student", Some("S2")).await;
    expect_problem(
        app.get("/api/students/S1/standing", &s2).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    expect_problem(
        app.get("/api/courses/CS101/warnings", &s1).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

/// A leader that died with a batch in hand: the next one evaluates it before anything after
/// it. S1 is absent (at risk, 0 %), then the mark is corrected to present (recovered). The
/// dead leader took the messages up to the absence and never acknowledged them; JetStream
/// would give them back only after the 30 s ack wait, after the correction, and evaluated
/// then the absence would put S1 at risk for good while their rate is 100 %.
#[tokio::test]
async fn a_leader_that_dies_with_a_batch_in_hand_leaves_no_untrue_crossing() {
    use async_nats::jetstream::consumer::pull;
    use domain::register::RegisterEvent;
    use futures::StreamExt;
    use projections::consumer::ConsumerConfig;
    use projections::event::{DomainEvent, ProjectedEvent};
    // No projectors in the app, so no process manager: the test plays both leaders.
    let app = TestApp::spawn_with(|c| c.no_projectors = true).await;
    let sessions = course(&app).await;
    mark(&app, &sessions[0], "S1", "absent").await;
    let correction = json!({"status": "present", "reason": "came late from the nurse"});
    let path = format!("/api/sessions/{}/attendance/S1/correction", sessions[0]);
    expect_json(
        app.post(&path, &app.admin, correction).await,
        StatusCode::OK,
    )
    .await;
    let client = async_nats::connect(&app.config.connections.nats_url)
        .await
        .unwrap();
    let stored = app.event_count().await as u64;
    let stream = app.config.relay.stream.clone();
    wait_until(Duration::from_secs(10), || async {
        crate::nats_support::stream_len(&client, &stream).await == stored
    })
    .await;

    // The first leader: the process manager's own consumer; it takes every message up to
    // S1's absence and dies before acknowledging any.
    let config = ConsumerConfig {
        stream: stream.clone(),
        subject_prefix: app.config.relay.subject_prefix.clone(),
    };
    let js = async_nats::jetstream::new(client.clone());
    let consumer: async_nats::jetstream::consumer::PullConsumer = projections::consumer::durable(
        &js,
        &config,
        attendance::warnings::CONSUMER,
        Duration::from_secs(30),
        1_000,
    )
    .await
    .unwrap();
    let mut absence = None;
    while absence.is_none() {
        let mut batch = consumer
            .fetch()
            .max_messages(1)
            .expires(Duration::from_secs(2))
            .messages()
            .await
            .unwrap();
        let message = batch.next().await.expect("a message").unwrap();
        let cloud: event_store::envelope::CloudEvent =
            serde_json::from_slice(&message.payload).unwrap();
        let event = ProjectedEvent::from_cloud(&cloud).unwrap();
        if let DomainEvent::Register(RegisterEvent::AttendanceRecorded { student_id, .. }) =
            &event.event
            && student_id.as_str() == "S1"
        {
            absence = Some(event.position);
        }
    }
    let absence = absence.unwrap();
    let mut held = js
        .get_consumer_from_stream::<pull::Config, _, _>(attendance::warnings::CONSUMER, &stream)
        .await
        .unwrap();
    assert!(held.info().await.unwrap().num_ack_pending > 0);

    // The next leader takes over.
    let state = attendance::notify::offline_state(app.pool.clone(), domain::Zone::UTC).unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let leader = tokio::spawn(attendance::warnings::run(
        state,
        client.clone(),
        config,
        stopped,
    ));
    // Both crossings, in order, long before the ack wait would have given the batch back.
    wait_for_standing(&app, "S1", &["StudentAtRisk", "StudentRecovered"]).await;
    let listed = expect_json(
        app.get("/api/courses/CS101/warnings", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    let warnings = listed["warnings"].as_array().unwrap();
    assert_eq!(warnings[0]["kind"], "StudentAtRisk", "{listed}");
    assert_eq!(warnings[0]["cause_position"], absence, "{listed}");
    assert_eq!(warnings[0]["rate"], 0.0, "{listed}");
    assert_eq!(warnings[1]["kind"], "StudentRecovered", "{listed}");
    assert_eq!(warnings[1]["rate"], 100.0, "{listed}");
    assert!(standing(&app, "S2").await.is_empty());
    // Nothing is left out to come back later: every message acknowledged, in order.
    wait_until(Duration::from_secs(20), || async {
        let Ok(mut consumer) = js
            .get_consumer_from_stream::<pull::Config, _, _>(attendance::warnings::CONSUMER, &stream)
            .await
        else {
            return false;
        };
        consumer
            .info()
            .await
            .is_ok_and(|i| i.num_pending == 0 && i.num_ack_pending == 0)
    })
    .await;
    assert_eq!(
        standing(&app, "S1").await,
        ["StudentAtRisk", "StudentRecovered"]
    );
    stop.send(true).unwrap();
    leader.await.unwrap();
}

/// Stores one crossing of S's standing in CS101 through the write side, as the process
/// manager would: a rate below 75 % falls, one at or above it recovers.
async fn cross(
    state: &api::AppState,
    student: &str,
    rate: f64,
    position: i64,
    at: chrono::DateTime<chrono::Utc>,
) {
    let stored = evaluate_standing(state, student, rate, position, at, false).await;
    assert_eq!(stored.len(), 1, "one crossing");
}

/// Evaluates S's standing in CS101 at `rate` for a cause at `position` through the write
/// side, in the process manager's order ([`store::execute_in_order`]), trusting a no-op on
/// the cached standing when `cached_is_current`; returns the event types stored.
async fn evaluate_standing(
    state: &api::AppState,
    student: &str,
    rate: f64,
    position: i64,
    at: chrono::DateTime<chrono::Utc>,
    cached_is_current: bool,
) -> Vec<String> {
    use api::app::store::{self, CommandMeta, Source};
    use domain::standing::{Cause, Figures, StandingCommand, standing_id};
    let course_id = domain::CourseId::parse("CS101").unwrap();
    let student_id = domain::StudentId::parse(student).unwrap();
    let command = StandingCommand::Evaluate {
        course_id: course_id.clone(),
        student_id: student_id.clone(),
        figures: Figures {
            rate: Some(rate),
            at_risk_below: 75.0,
            sessions_counted: 4,
            absence_streak: 0,
            streak_of: 3,
        },
        cause: Cause {
            position,
            event_type: "AttendanceRecorded".into(),
            aggregate_id: "s1".into(),
        },
        by: domain::Actor::system(),
        at,
    };
    let meta = CommandMeta {
        actor: domain::Actor::system(),
        request_id: format!("test-{position}"),
        source: Source::Warnings,
        course_id: course_id.clone(),
    };
    let id = standing_id(&course_id, &student_id);
    let committed = store::execute_in_order(
        &state.stores().standings,
        &id,
        &meta,
        cached_is_current,
        |_| Ok(vec![command.clone()]),
    )
    .await
    .unwrap();
    // Stored as `{"StudentAtRisk": {...}}`: the variant's name is the event type.
    committed
        .events
        .iter()
        .map(|e| {
            let value = serde_json::to_value(e).unwrap();
            value.as_object().unwrap().keys().next().unwrap().clone()
        })
        .collect()
}

/// A process that led the early warning, then lost the lead while another moved a standing
/// on, keeps that standing cached as it last wrote it. Leading again, it reads each standing
/// afresh before it trusts a no-op decided on the cache (each leadership's folds start with
/// none current); within a leadership it trusts them, and a standing that it and a replay
/// both decide in the same order agrees.
#[tokio::test]
async fn a_standing_another_leader_moved_is_read_again_before_a_no_op_is_trusted() {
    use chrono::Utc;
    let app = TestApp::spawn_with(|c| c.no_projectors = true).await;
    app.create_course("CS101").await;
    let first = attendance::notify::offline_state(app.pool.clone(), domain::Zone::UTC).unwrap();
    let second = attendance::notify::offline_state(app.pool.clone(), domain::Zone::UTC).unwrap();
    let now = Utc::now();
    // The first leader sees S1 fall; the second, leading after it, sees S1 recover.
    let fell = evaluate_standing(&first, "S1", 50.0, 1_000_001, now, false).await;
    assert_eq!(fell, ["StudentAtRisk"]);
    let recovered = evaluate_standing(&second, "S1", 80.0, 1_000_002, now, false).await;
    assert_eq!(recovered, ["StudentRecovered"]);
    // The first leads again: S1 is below the threshold again. Its cache says "at risk" (so
    // nothing would change); read afresh, S1 had recovered, and this is a new fall.
    let again = evaluate_standing(&first, "S1", 60.0, 1_000_003, now, false).await;
    assert_eq!(again, ["StudentAtRisk"]);
    // Now current in the first: the next no-op is decided on the cache alone.
    let still = evaluate_standing(&first, "S1", 55.0, 1_000_004, now, true).await;
    assert!(still.is_empty());
    // The second, a replay behind the first, decides the same causes the same way on its
    // stale cache: each that crossed meets the first's events at the insert and is read
    // again, so nothing is stored twice.
    for (rate, position) in [(60.0, 1_000_003), (55.0, 1_000_004)] {
        let replayed = evaluate_standing(&second, "S1", rate, position, now, true).await;
        assert!(replayed.is_empty(), "{position}: {replayed:?}");
    }
    assert_eq!(
        standing(&app, "S1").await,
        ["StudentAtRisk", "StudentRecovered", "StudentAtRisk"]
    );
}

/// The teachers' list of students newly at risk reads each standing's last crossing, however
/// many older ones the course has: 300 students fell and recovered ten days ago (600
/// crossings, more than one page of the course's warnings), S9001 fell an hour ago, S9002
/// ten days ago and has not recovered. Its query walks the course's crossings alone.
#[tokio::test]
async fn the_newly_at_risk_are_found_behind_hundreds_of_older_crossings() {
    use api::app::access::CurrentUser;
    use api::app::warnings::read;
    use chrono::{Duration as Days, Utc};
    let app = TestApp::spawn_with(|c| c.no_projectors = true).await;
    app.create_course("CS101").await;
    let (teacher_id, _) = app.teacher_of("teacher1", "CS101").await;
    let (other_id, _) = app.create_user("teacher2", "teacher", None).await;
    let state = attendance::notify::offline_state(app.pool.clone(), domain::Zone::UTC).unwrap();
    let (now, old) = (Utc::now(), Utc::now() - Days::days(10));
    // Causes beyond every stored event, in order.
    let mut position = 1_000_000;
    for n in 0..300 {
        let student = format!("S{n:04}");
        cross(&state, &student, 50.0, position, old).await;
        cross(&state, &student, 80.0, position + 1, old).await;
        position += 2;
    }
    cross(&state, "S9002", 40.0, position, old).await;
    cross(&state, "S9001", 60.0, position + 1, now - Days::hours(1)).await;

    let teacher = |id: &str, name: &str| CurrentUser {
        id: domain::UserId::parse(id).unwrap(),
        username: name.into(),
        role: domain::Role::Teacher,
        student_id: None,
    };
    let since = now - Days::days(7);
    let found = read::newly_at_risk(&state, &teacher(&teacher_id, "teacher1"), since)
        .await
        .unwrap();
    let students: Vec<&str> = found
        .iter()
        .map(|f| f.warning.student_id.as_str())
        .collect();
    assert_eq!(students, ["S9001"]);
    assert_eq!(found[0].warning.rate, Some(60.0));
    // A teacher of no course sees nobody.
    let none = read::newly_at_risk(&state, &teacher(&other_id, "teacher2"), since)
        .await
        .unwrap();
    assert!(none.is_empty());

    // The plans, prepared (generic, as the pool's statements are after five runs), with
    // sequential scans off as this table is small: the crossings of the courses by their
    // partial index; a course's fold between two positions by the course's position index.
    let mut conn = app.pool.acquire().await.unwrap();
    for set in [
        "SET plan_cache_mode = force_generic_plan",
        "SET enable_seqscan = off",
    ] {
        sqlx::query(set).execute(&mut *conn).await.unwrap();
    }
    let explain = |sql: &str| format!("EXPLAIN {sql}");
    let plan: Vec<String> = sqlx::query_scalar(&explain(read::NEWLY_AT_RISK_SQL))
        .bind(vec!["CS101".to_string()])
        .bind(since)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("events_standing_course"), "{plan}");
    let plan: Vec<String> = sqlx::query_scalar(&explain(&api::app::warnings::evaluate::fold_sql()))
        .bind("CS101")
        .bind(0i64)
        .bind(position)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("events_course_position") && !plan.contains("Sort"),
        "{plan}"
    );
}

#[tokio::test]
async fn the_emails_arrive_once_through_an_smtp_outage_with_two_notifiers_and_an_opt_out() {
    let mut sink = SmtpSink::start().await;
    let settings = notify_settings(sink.port);
    let app = {
        let settings = settings.clone();
        TestApp::spawn_with(move |c| c.notify = settings).await
    };
    let sessions = course(&app).await;
    // S1's guardian is copied; S2 opts out themselves (audited).
    expect_json(
        app.put(
            "/api/students/S1/notifications",
            &app.admin,
            json!({"opted_out": false, "guardian_email": "parent1@home.test"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let bad = expect_problem(
        app.put(
            "/api/students/S1/notifications",
            &app.admin,
            json!({"opted_out": false, "guardian_email": "not an address"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(bad["errors"][0]["field"], "guardian_email");
    let (_, s2) = app.create_user("s2", "student", Some("S2")).await;
    let (_, s1) = app.create_user("s1", "student", Some("S1")).await;
    expect_problem(
        app.put(
            "/api/students/S2/notifications",
            &s1,
            json!({"opted_out": false}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let opted = expect_json(
        app.put(
            "/api/students/S2/notifications",
            &s2,
            json!({"opted_out": true}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(opted, json!({"opted_out": true, "guardian_email": null}));
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM student_notification_changes WHERE student_id = 'S2' AND opted_out",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The SMTP server goes down; both students fall at risk and S1 reaches the streak.
    sink.stop();
    for session in &sessions[..3] {
        mark(&app, session, "S1", "absent").await;
    }
    mark(&app, &sessions[0], "S2", "absent").await;
    wait_for_standing(&app, "S1", &["StudentAtRisk", "AbsenceStreakReached"]).await;
    wait_for_standing(&app, "S2", &["StudentAtRisk"]).await;
    // The messages wait in the outbox, failing; health shows them and the breaker.
    wait_until(Duration::from_secs(30), || async {
        let health = app.health().await;
        health["notifications"]["failing"].as_i64().unwrap_or(0) > 0
            && health["notifications"]["pending"].as_i64() == Some(4)
    })
    .await;
    let health = app.health().await;
    assert!(
        health["breakers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["name"] == "smtp"),
        "{health}"
    );
    let metrics = app
        .get("/api/metrics", &app.admin)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("attendance_notifications_pending 4"),
        "{metrics}"
    );

    // A second notifier process (its own state and breaker) runs beside the first.
    let state = attendance::notify::offline_state(app.pool.clone(), domain::Zone::UTC).unwrap();
    let second = attendance::notify::Notifier::new(
        state,
        settings.clone(),
        attendance::notify::breaker_for(&settings),
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let second = tokio::spawn(second.run(stopped));

    // The server comes back: every message arrives, once.
    sink.restart().await;
    wait_until(Duration::from_secs(30), || async {
        let health = app.health().await;
        health["notifications"]["pending"].as_i64() == Some(0)
    })
    .await;
    // Give a doubled send the time to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = stop.send(true);
    second.await.unwrap();
    let messages = sink.messages();
    let mut ids: Vec<String> = messages
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    ids.sort();
    let count = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), count, "a message was sent twice: {messages:?}");
    let mut recipients: Vec<String> = messages.iter().flat_map(|m| m.to.clone()).collect();
    recipients.sort();
    // S1 and their guardian, for the risk and the streak; nothing for S2, who opted out.
    assert_eq!(
        recipients,
        [
            "parent1@home.test",
            "parent1@home.test",
            "s1@school.test",
            "s1@school.test"
        ],
        "{messages:?}"
    );
    let at_risk = messages
        .iter()
        .find(|m| {
            m.to == ["s1@school.test"]
                && m.header("Subject")
                    .unwrap()
                    .starts_with("Attendance warning")
        })
        .expect("the at-risk e-mail to S1");
    let text = at_risk.text();
    assert!(text.contains("0.00 %"), "{text}");
    // When it happened, in the course's zone (UTC here).
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(text.contains(&today), "{text}");
    assert!(text.contains(" UTC"), "{text}");
    let skipped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_outbox WHERE student_id = 'S2' AND skipped = 'opted_out'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(skipped, 1);

    // A teacher with an address gets one digest a day: S1 and S2 newly at risk, the fourth
    // session's register not taken.
    let (teacher, _) = app.teacher_of("teacher1", "CS101").await;
    sqlx::query("UPDATE users SET email = 'teacher1@school.test' WHERE id = $1")
        .bind(&teacher)
        .execute(&app.pool)
        .await
        .unwrap();
    wait_until(Duration::from_secs(30), || async {
        sink.messages()
            .iter()
            .any(|m| m.to == ["teacher1@school.test"])
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let digests: Vec<Received> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to == ["teacher1@school.test"])
        .collect();
    assert_eq!(digests.len(), 1, "{digests:?}");
    let text = digests[0].text();
    assert!(text.contains("student S1 newly at risk"), "{text}");
    assert!(text.contains("student S2 newly at risk"), "{text}");
    assert!(text.contains("Lecture 10"), "{text}");
    assert!(!text.contains("Lecture 7\""), "{text}");
}
