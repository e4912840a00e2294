//! Students checking themselves in: the teacher opens a window and shows a code that changes
//! every 15 s; a signed-in student gives it and is marked present or late with method `self`.
//! Each refusal has its own problem and records nothing.
//!
//! The cast: `ada` teaches CS101 (S1, S2, S3 enrolled); accounts `s1`, `s2` and `s9` (S9 is
//! not enrolled).

use crate::helpers::{TestApp, expect_json, expect_problem, roster_row};
use api::app::check_in::code::{code_for, seconds_left, step_of};
use attendance::config::ServeConfig;
use chrono::{Duration, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

struct Room {
    app: TestApp,
    session: String,
    teacher: String,
    s1: String,
    s2: String,
    s9: String,
}

async fn room_with(tweak: impl FnOnce(&mut ServeConfig)) -> Room {
    let app = TestApp::spawn_with(tweak).await;
    let session = app.course_with_session().await;
    app.create_student("S9", "Not Enrolled").await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let (_, s1) = app.create_user("s1", "student", Some("S1")).await;
    let (_, s2) = app.create_user("s2", "student", Some("S2")).await;
    let (_, s9) = app.create_user("s9", "student", Some("S9")).await;
    Room {
        app,
        session,
        teacher,
        s1,
        s2,
        s9,
    }
}

async fn room() -> Room {
    room_with(|_| {}).await
}

impl Room {
    /// Opens check-in on a session, expecting 201.
    async fn open_on(&self, session: &str, body: Value) -> Value {
        let path = format!("/api/sessions/{session}/check-in");
        expect_json(
            self.app.post(&path, &self.teacher, body).await,
            StatusCode::CREATED,
        )
        .await
    }

    async fn open(&self, body: Value) -> Value {
        self.open_on(&self.session, body).await
    }

    /// The code shown now for a session.
    async fn shown(&self, session: &str) -> Value {
        let path = format!("/api/sessions/{session}/check-in/code");
        expect_json(self.app.get(&path, &self.teacher).await, StatusCode::OK).await
    }

    async fn code(&self) -> String {
        self.shown(&self.session).await["code"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn check_in_to(&self, token: &str, session: &str, code: &str) -> Response {
        let body = json!({"session_id": session, "code": code});
        self.app.post("/api/check-in", token, body).await
    }

    async fn check_in(&self, token: &str, code: &str) -> Response {
        self.check_in_to(token, &self.session, code).await
    }

    async fn marks(&self) -> usize {
        let types = self.app.events_of("register", &self.session).await;
        types.iter().filter(|t| *t == "AttendanceRecorded").count()
    }

    /// The window's secret, read from its table (as only the server does).
    async fn secret(&self) -> Vec<u8> {
        sqlx::query_scalar("SELECT secret FROM check_in_secrets WHERE session_id = $1")
            .bind(&self.session)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }
}

/// Waits, if need be, until at least three seconds of the current step are left, so that a
/// code computed now is still of the same step when the request arrives.
async fn steady_step() {
    while seconds_left(Utc::now()) < 3 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_student_checks_in_once_with_the_code_shown_and_the_register_and_statistics_say_self() {
    let room = room().await;
    let window = room.open(json!({"late_after_minutes": 10})).await;
    assert_eq!(window["late_after_minutes"], 10);
    steady_step().await;
    let shown = room.shown(&room.session).await;
    let code = shown["code"].as_str().unwrap();
    assert_eq!(code.len(), 6, "{shown}");
    assert!(shown["qr_svg"].as_str().unwrap().starts_with("<svg"));
    assert!(shown["url"].as_str().unwrap().contains(&room.session));
    assert!(!shown.to_string().contains("secret"), "{shown}");

    let first = expect_json(room.check_in(&room.s1, code).await, StatusCode::OK).await;
    assert_eq!(
        (&first["status"], &first["method"], &first["recorded"]),
        (&json!("present"), &json!("self"), &json!(true))
    );
    // The same code again by the same student: nothing new. By a classmate: still valid.
    let again = expect_json(room.check_in(&room.s1, code).await, StatusCode::OK).await;
    assert_eq!(again["recorded"], false);
    let classmate = expect_json(room.check_in(&room.s2, code).await, StatusCode::OK).await;
    assert_eq!(classmate["recorded"], true);
    assert_eq!(room.marks().await, 2);
    assert_eq!(room.shown(&room.session).await["checked_in"], 2);

    let view = room.app.session_view(&room.teacher, &room.session).await;
    let row = roster_row(&view, "S1");
    assert_eq!(
        (&row["status"], &row["method"]),
        (&json!("present"), &json!("self"))
    );
    let position = room.app.latest_position().await;
    let path = format!("/api/courses/CS101/statistics?min_position={position}&wait_ms=20000");
    let stats = expect_json(room.app.get(&path, &room.teacher).await, StatusCode::OK).await;
    assert_eq!(stats["totals"]["present"], 2, "{stats}");

    // The teacher corrects a self mark as any other.
    let path = format!("/api/sessions/{}/attendance/S1/correction", room.session);
    let body = json!({"status": "absent", "reason": "left after giving the code"});
    expect_json(
        room.app.post(&path, &room.teacher, body).await,
        StatusCode::OK,
    )
    .await;
    let refused = room.check_in(&room.s1, &room.code().await).await;
    expect_problem(refused, StatusCode::CONFLICT, "marked_by_staff").await;
}

#[tokio::test]
async fn the_previous_steps_code_is_accepted_and_an_older_one_has_expired() {
    let room = room().await;
    room.open(json!({})).await;
    let secret = room.secret().await;
    steady_step().await;
    let step = step_of(Utc::now());
    let expired = room.check_in(&room.s1, &code_for(&secret, step - 2)).await;
    let problem = expect_problem(
        expired,
        StatusCode::UNPROCESSABLE_ENTITY,
        "check_in_code_expired",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "code");
    assert_eq!(room.marks().await, 0);
    let previous = room.check_in(&room.s1, &code_for(&secret, step - 1)).await;
    assert_eq!(
        expect_json(previous, StatusCode::OK).await["recorded"],
        true
    );
    let current = room.check_in(&room.s2, &code_for(&secret, step)).await;
    assert_eq!(expect_json(current, StatusCode::OK).await["recorded"], true);
    // The secret is in its table only: no event carries it.
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let leaks: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE payload::text ILIKE '%' || $1 || '%' OR payload::text ILIKE '%secret%'",
    )
    .bind(&hex)
    .fetch_one(&room.app.pool)
    .await
    .unwrap();
    assert_eq!(leaks, 0);
}

#[tokio::test]
async fn another_sessions_code_a_closed_window_and_no_window_record_nothing() {
    let room = room().await;
    let other = room
        .app
        .schedule("CS101", "Lecture 2", "2026-09-14T09:00:00Z")
        .await;
    let unopened = room
        .app
        .schedule("CS101", "Lecture 3", "2026-09-21T09:00:00Z")
        .await;
    room.open(json!({})).await;
    room.open_on(&other, json!({})).await;
    steady_step().await;
    let others_code = room.shown(&other).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let ours = room.code().await;
    if others_code != ours {
        let wrong = room.check_in(&room.s1, &others_code).await;
        expect_problem(
            wrong,
            StatusCode::UNPROCESSABLE_ENTITY,
            "check_in_code_wrong",
        )
        .await;
    }
    let nowhere = room.check_in_to(&room.s1, &unopened, &ours).await;
    expect_problem(nowhere, StatusCode::CONFLICT, "check_in_not_open").await;

    let path = format!("/api/sessions/{}/check-in", room.session);
    let closed = expect_json(room.app.delete(&path, &room.teacher).await, StatusCode::OK).await;
    assert_eq!(closed["changed"], true);
    let late = room.check_in(&room.s1, &ours).await;
    expect_problem(late, StatusCode::CONFLICT, "check_in_closed").await;
    let path = format!("/api/sessions/{}/check-in/code", room.session);
    expect_problem(
        room.app.get(&path, &room.teacher).await,
        StatusCode::CONFLICT,
        "check_in_closed",
    )
    .await;
    assert_eq!(room.marks().await, 0);
    let types = room.app.events_of("register", &room.session).await;
    assert_eq!(types, ["RegisterOpened", "CheckInOpened", "CheckInClosed"]);
}

#[tokio::test]
async fn before_the_window_opens_nothing_is_recorded_and_after_n_minutes_it_is_late() {
    let room = room().await;
    let soon = Utc::now() + Duration::minutes(10);
    room.open(json!({"opens_at": soon.to_rfc3339(), "closes_at": (soon + Duration::minutes(20)).to_rfc3339()}))
        .await;
    steady_step().await;
    let early = room.check_in(&room.s1, &room.code().await).await;
    expect_problem(early, StatusCode::CONFLICT, "check_in_not_yet_open").await;
    assert_eq!(room.marks().await, 0);

    let other = room
        .app
        .schedule("CS101", "Lecture 2", "2026-09-14T09:00:00Z")
        .await;
    let opened_before = Utc::now() - Duration::minutes(15);
    room.open_on(
        &other,
        json!({"opens_at": opened_before.to_rfc3339(), "late_after_minutes": 10}),
    )
    .await;
    steady_step().await;
    let code = room.shown(&other).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let late = expect_json(
        room.check_in_to(&room.s2, &other, &code).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(late["status"], "late");
}

#[tokio::test]
async fn a_teachers_mark_is_never_overwritten_and_a_student_off_the_roster_is_refused() {
    let room = room().await;
    expect_json(
        room.app
            .record(&room.teacher, &room.session, "S1", "absent")
            .await,
        StatusCode::CREATED,
    )
    .await;
    room.open(json!({})).await;
    steady_step().await;
    let code = room.code().await;
    let refused = room.check_in(&room.s1, &code).await;
    let problem = expect_problem(refused, StatusCode::CONFLICT, "marked_by_staff").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("set by staff"),
        "{problem}"
    );
    let view = room.app.session_view(&room.teacher, &room.session).await;
    let row = roster_row(&view, "S1");
    assert_eq!(
        (&row["status"], &row["method"]),
        (&json!("absent"), &json!("manual"))
    );

    let outsider = room.check_in(&room.s9, &code).await;
    expect_problem(outsider, StatusCode::CONFLICT, "not_on_roster").await;
    let teacher = room.check_in(&room.teacher, &code).await;
    expect_problem(teacher, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(room.marks().await, 1);
}

#[tokio::test]
async fn wrong_codes_past_the_limit_wait_even_with_the_right_code() {
    let room = room().await;
    room.open(json!({})).await;
    let secret = room.secret().await;
    steady_step().await;
    let step = step_of(Utc::now());
    let valid = [code_for(&secret, step), code_for(&secret, step - 1)];
    let wrong = (0..1000)
        .map(|n| format!("{:06}", 999_000 + n))
        .find(|c| !valid.contains(c))
        .unwrap();
    for _ in 0..5 {
        let answer = room.check_in(&room.s1, &wrong).await;
        expect_problem(
            answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            "check_in_code_wrong",
        )
        .await;
    }
    let throttled = room.check_in(&room.s1, &valid[0]).await;
    let wait: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    expect_problem(
        throttled,
        StatusCode::TOO_MANY_REQUESTS,
        "check_in_attempts",
    )
    .await;
    // Another student is not slowed down by S1's guesses.
    let other = room.check_in(&room.s2, &room.code().await).await;
    assert_eq!(expect_json(other, StatusCode::OK).await["recorded"], true);
    assert_eq!(room.marks().await, 1);
}

async fn check_in_from(room: &Room, token: &str, code: &str, forwarded: &str) -> Response {
    room.app
        .request(Method::POST, "/api/check-in", Some(token))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"session_id": room.session, "code": code}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_must_be_in_a_listed_network() {
    let room = room_with(|c| c.limits.trusted_proxy_header = Some("x-forwarded-for".into())).await;
    room.open(json!({"networks": ["203.0.113.0/24"]})).await;
    steady_step().await;
    let code = room.code().await;
    let outside = check_in_from(&room, &room.s1, &code, "198.51.100.4").await;
    expect_problem(outside, StatusCode::CONFLICT, "check_in_network").await;
    let inside = check_in_from(&room, &room.s1, &code, "203.0.113.9").await;
    assert_eq!(expect_json(inside, StatusCode::OK).await["recorded"], true);
}

#[tokio::test]
async fn without_a_trusted_proxy_the_header_is_ignored_and_the_connection_counts() {
    let room = room().await;
    let bad = json!({"networks": ["10.0.0.0/99"]});
    let path = format!("/api/sessions/{}/check-in", room.session);
    expect_problem(
        room.app.post(&path, &room.teacher, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    room.open(json!({"networks": ["203.0.113.0/24"]})).await;
    steady_step().await;
    let code = room.code().await;
    let claimed = check_in_from(&room, &room.s1, &code, "203.0.113.9").await;
    expect_problem(claimed, StatusCode::CONFLICT, "check_in_network").await;
    assert_eq!(room.marks().await, 0);

    let other = room
        .app
        .schedule("CS101", "Lecture 2", "2026-09-14T09:00:00Z")
        .await;
    room.open_on(&other, json!({"networks": ["127.0.0.0/8", "::1/128"]}))
        .await;
    steady_step().await;
    let code = room.shown(&other).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let local = room.check_in_to(&room.s1, &other, &code).await;
    assert_eq!(expect_json(local, StatusCode::OK).await["recorded"], true);
}
