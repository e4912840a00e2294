//! The audit trail: the event history with actors and cursors, a mark's history, the
//! register as it stood at a time, upcasting of old events, immutability, offline replay.

use crate::helpers::{
    TestApp, attendance_binary, expect_json, expect_problem, postgres_base, roster_row,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn correction(
    app: &TestApp,
    session: &str,
    student: &str,
    status: &str,
    reason: &str,
) -> Value {
    let path = format!("/api/sessions/{session}/attendance/{student}/correction");
    expect_json(
        app.post(
            &path,
            &app.admin,
            json!({"status": status, "reason": reason}),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

/// Waits until the history lists every stored event. It lists only transactions older than
/// every running one on the Postgres cluster (so that cursors never skip a late commit), and
/// other tests' transactions run on the same cluster.
/// Waits until the audit pages hold every stored event, the early warning's crossings
/// included (the process manager stores them after the marks, so it is waited for first).
async fn settled(app: &TestApp) {
    app.settled().await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    crate::helpers::wait_until(std::time::Duration::from_secs(30), || async {
        let page = app.get("/api/audit/events?limit=1000", &app.admin).await;
        let page: Value = page.json().await.unwrap();
        page["events"].as_array().map(|e| e.len() as i64) == Some(stored)
    })
    .await;
}

async fn audit(app: &TestApp, token: &str, query: &str) -> Value {
    expect_json(
        app.get(&format!("/api/audit/events?{query}"), token).await,
        StatusCode::OK,
    )
    .await
}

fn types(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_history_is_in_commit_order_with_actors_and_pages_by_cursor() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    correction(&app, &session, "S1", "late", "arrived at 9:20").await;

    settled(&app).await;
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = audit(&app, &app.admin, &format!("course_id=CS101&limit=3{after}")).await;
        let events = page["events"].as_array().unwrap().clone();
        seen.extend(events);
        if page["has_more"] == false {
            break;
        }
        after = format!("&after={}", page["next_after"].as_str().unwrap());
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(seen.len() as i64, total, "every event once across pages");
    let positions: Vec<i64> = seen
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let recorded = seen
        .iter()
        .find(|e| e["event_type"] == "AttendanceRecorded")
        .unwrap();
    assert_eq!(recorded["actor"]["username"], "ada");
    assert_eq!(
        (
            recorded["actor"]["role"].clone(),
            recorded["source"].clone()
        ),
        (json!("teacher"), json!("api"))
    );
    assert!(
        recorded["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let corrected = seen
        .iter()
        .find(|e| e["event_type"] == "AttendanceCorrected")
        .unwrap();
    assert_eq!(corrected["data"]["reason"], "arrived at 9:20");
    assert_eq!(corrected["data"]["old_status"], "present");
    let bad = app
        .get("/api/audit/events?after=not-a-cursor", &app.admin)
        .await;
    expect_problem(bad, StatusCode::BAD_REQUEST, "invalid_parameter").await;
}

#[tokio::test]
async fn teachers_see_their_courses_and_students_only_events_about_themselves() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    app.create_course("MATH201").await;
    expect_json(
        app.record(&app.admin, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    expect_json(
        app.record(&app.admin, &session, "S2", "absent").await,
        StatusCode::CREATED,
    )
    .await;

    settled(&app).await;
    let mine = audit(&app, &teacher, "limit=1000").await;
    assert!(
        mine["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["course_id"] == "CS101")
    );
    assert!(!types(&mine).is_empty());
    expect_problem(
        app.get("/api/audit/events?course_id=MATH201", &teacher)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let (_, student) = app.create_user("s1", "student", Some("S1")).await;
    let about_me = audit(&app, &student, "limit=1000").await;
    assert_eq!(types(&about_me), ["StudentEnrolled", "AttendanceRecorded"]);
    assert!(
        about_me["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["data"]["student_id"] == "S1")
    );
    expect_problem(
        app.get("/api/audit/events?student_id=S2", &student).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_marks_history_shows_every_value_with_who_when_how_and_why() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    correction(&app, &session, "S1", "excused", "doctor's note").await;
    expect_json(
        app.post(
            &format!("/api/sessions/{session}/close"),
            &teacher,
            json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let history = expect_json(
        app.get(
            &format!("/api/sessions/{session}/attendance/S1/history"),
            &teacher,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let entries = history["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (
            entries[0]["kind"].clone(),
            entries[0]["status"].clone(),
            entries[0]["method"].clone()
        ),
        (json!("recorded"), json!("present"), json!("manual"))
    );
    assert_eq!(entries[0]["actor"]["username"], "ada");
    assert_eq!(
        (
            entries[1]["kind"].clone(),
            entries[1]["previous_status"].clone(),
            entries[1]["status"].clone()
        ),
        (json!("corrected"), json!("present"), json!("excused"))
    );
    assert_eq!(
        (
            entries[1]["reason"].clone(),
            entries[1]["actor"]["username"].clone()
        ),
        (json!("doctor's note"), json!("admin"))
    );
    assert_eq!(history["current_status"], "excused");

    let defaulted = expect_json(
        app.get(
            &format!("/api/sessions/{session}/attendance/S3/history"),
            &teacher,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(defaulted["entries"][0]["kind"], "defaulted_absent");
    assert_eq!(defaulted["entries"][0]["method"], "close");
    let (_, other) = app.create_user("s2", "student", Some("S2")).await;
    let path = format!("/api/sessions/{session}/attendance/S1/history");
    expect_problem(
        app.get(&path, &other).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn the_register_and_statistics_as_of_a_time_between_mark_and_correction_show_the_old_value() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    expect_json(
        app.record(&app.admin, &session, "S1", "absent").await,
        StatusCode::CREATED,
    )
    .await;
    let between: String = sqlx::query_scalar(
        "SELECT to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM events WHERE event_type = 'AttendanceRecorded'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let done = correction(&app, &session, "S1", "present", "misread the sheet").await;

    let then = expect_json(
        app.get(
            &format!("/api/sessions/{session}?as_of={between}"),
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let row = roster_row(&then, "S1");
    assert_eq!(
        (row["status"].clone(), row["corrected"].clone()),
        (json!("absent"), json!(false))
    );
    assert_eq!(then["freshness"]["projector"], "event_store");
    let stats_then = expect_json(
        app.get(
            &format!("/api/courses/CS101/statistics?as_of={between}"),
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let s1 = crate::read_side::student(&stats_then, "S1");
    assert_eq!(
        (s1["absent"].clone(), s1["present"].clone()),
        (json!(1), json!(0))
    );

    let now = app.session_view(&app.admin, &session).await;
    let row = roster_row(&now, "S1");
    assert_eq!(
        (row["status"].clone(), row["correction_reason"].clone()),
        (json!("present"), json!("misread the sheet"))
    );
    assert!(done["position"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn an_old_version_event_stored_raw_is_upcast_everywhere_it_is_read() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    expect_json(
        app.record(&app.admin, &session, "S2", "late").await,
        StatusCode::CREATED,
    )
    .await;
    // Version 0 of AttendanceRecorded (seed-system import) had no method and no remark.
    let old = json!({"AttendanceRecorded": {"student_id": "S1", "status": "present",
        "by": {"user_id": "cli", "role": "admin"}, "at": "2026-09-07T09:05:00Z"}});
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('register', $1, 3, 'AttendanceRecorded', '0', $2, '{\"course_id\": \"CS101\", \"source\": \"cli\"}')",
    )
    .bind(&session)
    .bind(&old)
    .execute(&app.pool)
    .await
    .unwrap();

    // The write side loads it: S1 is marked, so a different status needs a correction.
    let refused = app.record(&app.admin, &session, "S1", "absent").await;
    expect_problem(refused, StatusCode::CONFLICT, "correction_required").await;
    // The read side (through the relay and a projector) and the audit see version 1.
    let view = app.session_view(&app.admin, &session).await;
    let row = roster_row(&view, "S1");
    assert_eq!(
        (row["status"].clone(), row["method"].clone()),
        (json!("present"), json!("manual"))
    );
    settled(&app).await;
    let page = audit(
        &app,
        &app.admin,
        &format!("session_id={session}&type=AttendanceRecorded"),
    )
    .await;
    let upcast = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["student_id"] == "S1")
        .unwrap();
    assert_eq!(
        (
            upcast["event_version"].clone(),
            upcast["data"]["method"].clone()
        ),
        (json!("1"), json!("manual"))
    );
    let stored: String = sqlx::query_scalar(
        "SELECT event_version FROM events WHERE sequence = 3 AND aggregate_id = $1",
    )
    .bind(&session)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, "0", "the stored row is never rewritten");
}

#[tokio::test]
async fn history_is_immutable_and_erasing_a_student_keeps_it_readable_by_id() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    expect_json(
        app.record(&app.admin, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;

    let openapi = expect_json(
        app.request(reqwest::Method::GET, "/api/openapi.json", None)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    for (path, item) in openapi["paths"].as_object().unwrap() {
        if path.starts_with("/api/audit") || path.ends_with("/history") {
            let methods: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
            assert_eq!(methods, ["get"], "{path} only reads");
        }
    }
    for sql in [
        "UPDATE events SET event_type = 'Forged'",
        "DELETE FROM events",
    ] {
        let refused = sqlx::query(sql).execute(&app.pool).await.unwrap_err();
        assert!(refused.to_string().contains("immutable"), "{refused}");
    }

    expect_json(
        app.delete("/api/students/S1", &app.admin).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let history = expect_json(
        app.get(
            &format!("/api/sessions/{session}/attendance/S1/history"),
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(history["current_status"], "present");
    settled(&app).await;
    let about = audit(&app, &app.admin, "student_id=S1").await;
    assert!(types(&about).contains(&"AttendanceRecorded".to_string()));
    assert!(
        !about.to_string().contains("Ada Obi"),
        "no personal data in the history"
    );
}

#[tokio::test]
async fn replay_prints_the_history_offline_and_verify_catches_a_tampered_read_model() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    expect_json(
        app.record(&app.admin, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    app.session_view(&app.admin, &session).await;
    settled(&app).await;
    let url = format!("{}/{}", postgres_base(), app.database);
    let replay = |args: &[&str]| {
        std::process::Command::new(attendance_binary())
            .arg("replay")
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let json = replay(&["--format", "json", "--course", "CS101"]);
    assert!(json.status.success());
    let lines: Vec<Value> = String::from_utf8(json.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(lines.len() as i64, stored);
    assert_eq!(lines.last().unwrap()["event_type"], "AttendanceRecorded");
    let csv = replay(&["--format", "csv", "--student", "S1"]);
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with("position,recorded_at,course_id"), "{text}");
    assert_eq!(text.lines().count(), 3, "header, S1's enrolment and mark");

    // Wait until the course statistics reflect everything, then verify and tamper.
    let position = app.latest_position().await;
    let path = format!("/api/courses/CS101/statistics?min_position={position}&wait_ms=20000");
    expect_json(app.get(&path, &app.admin).await, StatusCode::OK).await;
    assert!(replay(&["--verify"]).status.success());
    sqlx::query("UPDATE rm_course_stats SET doc = jsonb_set(doc, '{name}', '\"tampered\"')")
        .execute(&app.pool)
        .await
        .unwrap();
    let verify = replay(&["--verify"]);
    assert!(!verify.status.success());
    assert!(
        String::from_utf8(verify.stdout)
            .unwrap()
            .contains("course_stats CS101.name: history \"Course CS101\", stored \"tampered\"")
    );
}
