//! Taking attendance: single marks, roll calls, corrections, closing, and the seed-style
//! body resolved by course and date.

use crate::helpers::{TestApp, expect_json, expect_problem, problem_fields, roster_row};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OK: StatusCode = StatusCode::OK;
const CREATED: StatusCode = StatusCode::CREATED;
const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

async fn setup() -> (TestApp, String, String, String) {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (teacher_id, teacher) = app.teacher_of("ada", "CS101").await;
    (app, session, teacher_id, teacher)
}

#[tokio::test]
async fn a_mark_is_recorded_with_who_when_and_how() {
    let (app, session, teacher_id, teacher) = setup().await;
    let body = json!({"session_id": session, "student_id": "S1", "status": "present", "remark": "front row"});
    let response = app.post("/api/attendance", &teacher, body).await;
    let request_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string())
        .expect("a request id header");
    let marked = expect_json(response, CREATED).await;
    assert_eq!(marked["session_id"], session.as_str());
    assert_eq!(marked["student_id"], "S1");
    assert_eq!(marked["status"], "present");
    assert_eq!(marked["changed"], true);
    assert_eq!(marked["version"], 2);

    let view = app.session_view(&teacher, &session).await;
    assert_eq!(view["opened"], true);
    assert_eq!(view["closed"], false);
    assert_eq!(view["version"], 2);
    assert_eq!(view["session"]["course_id"], "CS101");
    assert_eq!(view["session"]["title"], "Lecture 1");
    let row = roster_row(&view, "S1");
    assert_eq!(row["status"], "present");
    assert_eq!(row["method"], "manual");
    // The username, as in the reports and the audit, with the stored user id beside it.
    assert_eq!(row["recorded_by"], "ada");
    assert_eq!(row["recorded_by_id"], teacher_id.as_str());
    assert!(row["recorded_at"].as_str().is_some(), "row: {row}");
    assert_eq!(row["corrected"], false);
    assert_eq!(row["remark"], "front row");
    let unmarked = roster_row(&view, "S2");
    assert_eq!(unmarked["status"], Value::Null);
    assert_eq!(unmarked["method"], Value::Null);
    assert_eq!(unmarked["recorded_by"], Value::Null);

    // The events carry who, with which role, from where, under which request, and when: who
    // and when in the event itself (`by`, `at`), where from and under which request in the
    // metadata, which repeats neither (it would cost about 110 bytes an event).
    let rows: Vec<(Value, Value)> = sqlx::query_as(
        "SELECT payload::jsonb -> event_type, metadata::jsonb FROM events
          WHERE aggregate_type = 'register' AND aggregate_id = $1 ORDER BY sequence",
    )
    .bind(&session)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "opened + recorded");
    for (event, meta) in &rows {
        assert_eq!(
            event["by"]["user_id"],
            teacher_id.as_str(),
            "event: {event}"
        );
        assert_eq!(event["by"]["role"], "teacher", "event: {event}");
        assert!(
            event["at"]
                .as_str()
                .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
            "event: {event}"
        );
        assert_eq!(meta["source"], "api", "metadata: {meta}");
        assert_eq!(meta["request_id"], request_id.as_str(), "metadata: {meta}");
        assert_eq!(meta["course_id"], "CS101", "metadata: {meta}");
        assert!(
            meta.get("user_id").is_none() && meta.get("server_time").is_none(),
            "metadata: {meta}"
        );
    }
}

#[tokio::test]
async fn the_same_status_again_changes_nothing() {
    let (app, session, _, teacher) = setup().await;
    let first = expect_json(app.record(&teacher, &session, "S1", "late").await, CREATED).await;
    let events = app.event_count().await;
    let again = expect_json(app.record(&teacher, &session, "S1", "late").await, OK).await;
    assert_eq!(again["changed"], false);
    assert_eq!(again["status"], "late");
    assert_eq!(again["version"], first["version"]);
    assert_eq!(app.event_count().await, events, "no new event");
}

#[tokio::test]
async fn a_different_status_needs_a_correction() {
    let (app, session, _, teacher) = setup().await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        CREATED,
    )
    .await;
    let events = app.event_count().await;
    let problem = expect_problem(
        app.record(&teacher, &session, "S1", "absent").await,
        StatusCode::CONFLICT,
        "correction_required",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("S1"),
        "{problem}"
    );
    assert_eq!(app.event_count().await, events);
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(roster_row(&view, "S1")["status"], "present");
}

#[tokio::test]
async fn a_correction_needs_a_reason() {
    let (app, session, _, teacher) = setup().await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        CREATED,
    )
    .await;
    let path = format!("/api/sessions/{session}/attendance/S1/correction");
    let events = app.event_count().await;
    let missing = app.post(&path, &teacher, json!({"status": "absent"})).await;
    let problem = expect_problem(missing, UNPROCESSABLE, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["reason"]);
    let blank = app
        .post(
            &path,
            &teacher,
            json!({"status": "absent", "reason": "   "}),
        )
        .await;
    let problem = expect_problem(blank, UNPROCESSABLE, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["reason"]);
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn a_correction_keeps_the_history() {
    let (app, session, _, teacher) = setup().await;
    let first = expect_json(
        app.record(&teacher, &session, "S2", "absent").await,
        CREATED,
    )
    .await;
    let path = format!("/api/sessions/{session}/attendance/S2/correction");
    let corrected = expect_json(
        app.post(
            &path,
            &teacher,
            json!({"status": "excused", "reason": "doctor's note"}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(corrected["status"], "excused");
    assert_eq!(corrected["changed"], true);
    assert!(corrected["version"].as_u64() > first["version"].as_u64());

    let events = app.events_of("register", &session).await;
    assert_eq!(
        events,
        [
            "RegisterOpened",
            "AttendanceRecorded",
            "AttendanceCorrected"
        ]
    );
    let payload: Value = sqlx::query_scalar(
        "SELECT payload::jsonb FROM events WHERE aggregate_type = 'register' AND aggregate_id = $1
         AND event_type = 'AttendanceCorrected'",
    )
    .bind(&session)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let text = payload.to_string();
    assert!(
        text.contains("absent") && text.contains("excused") && text.contains("doctor's note"),
        "the correction keeps the old status and the reason: {payload}"
    );

    let view = app.session_view(&teacher, &session).await;
    let row = roster_row(&view, "S2");
    assert_eq!(row["status"], "excused");
    assert_eq!(row["corrected"], true);

    // Correcting to the current status changes nothing.
    let same = expect_json(
        app.post(
            &path,
            &teacher,
            json!({"status": "excused", "reason": "again"}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(same["changed"], false);
    assert_eq!(app.events_of("register", &session).await.len(), 3);
}

#[tokio::test]
async fn a_correction_of_an_unmarked_student_is_refused() {
    let (app, session, _, teacher) = setup().await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        CREATED,
    )
    .await;
    let events = app.event_count().await;
    expect_problem(
        app.post(
            &format!("/api/sessions/{session}/attendance/S2/correction"),
            &teacher,
            json!({"status": "late", "reason": "typo"}),
        )
        .await,
        StatusCode::CONFLICT,
        "not_marked",
    )
    .await;
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn a_student_not_on_the_roster_is_refused() {
    let (app, session, _, teacher) = setup().await;
    app.create_student("S7", "Not Enrolled").await;
    let events = app.event_count().await;
    expect_problem(
        app.record(&teacher, &session, "S7", "present").await,
        StatusCode::CONFLICT,
        "not_on_roster",
    )
    .await;
    assert_eq!(
        app.event_count().await,
        events,
        "not even the register is opened"
    );
}

#[tokio::test]
async fn a_mark_for_a_student_who_does_not_exist_says_so() {
    let (app, session, _, teacher) = setup().await;
    let events = app.event_count().await;
    let problem = expect_problem(
        app.record(&teacher, &session, "NOPE", "present").await,
        StatusCode::NOT_FOUND,
        "student_not_found",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("NOPE"),
        "{problem}"
    );
    expect_problem(
        app.post(
            &format!("/api/sessions/{session}/attendance/NOPE/correction"),
            &teacher,
            json!({"status": "late", "reason": "typo"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "student_not_found",
    )
    .await;
    assert_eq!(app.event_count().await, events, "nothing is stored");
}

#[tokio::test]
async fn a_student_enrolled_after_the_session_day_is_not_on_its_roster() {
    let (app, session, _, teacher) = setup().await;
    app.create_student("S8", "Late Joiner").await;
    app.enroll("CS101", "S8", "2026-09-08").await;
    let view = app.session_view(&teacher, &session).await;
    let ids: Vec<_> = view["roster"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["student_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["S1", "S2", "S3"]);
    expect_problem(
        app.record(&teacher, &session, "S8", "present").await,
        StatusCode::CONFLICT,
        "not_on_roster",
    )
    .await;
    // But a later session has them.
    let later = app
        .schedule("CS101", "Lecture 2", "2026-09-14T09:00:00Z")
        .await;
    expect_json(app.record(&teacher, &later, "S8", "present").await, CREATED).await;
}

#[tokio::test]
async fn the_roster_follows_a_backdated_enrolment_after_the_register_opens() {
    let (app, session, _, teacher) = setup().await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        CREATED,
    )
    .await;
    // A back-dated enrolment after the register opened amends its roster (issue 17).
    app.create_student("S8", "Back Dated").await;
    app.enroll("CS101", "S8", "2026-09-01").await;
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(view["roster"].as_array().unwrap().len(), 4, "{view}");
    assert_eq!(roster_row(&view, "S8")["status"], Value::Null, "{view}");
}

#[tokio::test]
async fn a_roll_call_is_all_or_nothing() {
    let (app, session, _, teacher) = setup().await;
    expect_json(
        app.record(&teacher, &session, "S3", "present").await,
        CREATED,
    )
    .await;
    let events = app.event_count().await;
    let path = format!("/api/sessions/{session}/attendance");
    let body = json!({"marks": [
        {"student_id": "S1", "status": "present"},
        {"student_id": "S9", "status": "present"},
        {"student_id": "S2", "status": "late"},
        {"student_id": "S3", "status": "absent"},
        {"student_id": "S1", "status": "present"}
    ]});
    let problem = expect_problem(
        app.post(&path, &teacher, body).await,
        UNPROCESSABLE,
        "roll_call_refused",
    )
    .await;
    assert_eq!(
        problem_fields(&problem),
        ["marks[1]", "marks[3]", "marks[4]"]
    );
    let codes: Vec<_> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        codes,
        ["not_on_roster", "correction_required", "duplicate_row"]
    );
    assert_eq!(app.event_count().await, events, "no events written");
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(roster_row(&view, "S1")["status"], Value::Null);
    assert_eq!(roster_row(&view, "S2")["status"], Value::Null);
}

#[tokio::test]
async fn a_roll_call_on_an_unopened_register_that_fails_writes_nothing() {
    let (app, session, _, teacher) = setup().await;
    let events = app.event_count().await;
    let body = json!({"marks": [
        {"student_id": "S1", "status": "present"},
        {"student_id": "GHOST", "status": "present"}
    ]});
    let problem = expect_problem(
        app.post(
            &format!("/api/sessions/{session}/attendance"),
            &teacher,
            body,
        )
        .await,
        UNPROCESSABLE,
        "roll_call_refused",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["marks[1]"]);
    assert_eq!(app.event_count().await, events);
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(view["opened"], false);
}

#[tokio::test]
async fn a_roll_call_records_every_row_in_bulk() {
    let (app, session, _, teacher) = setup().await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        CREATED,
    )
    .await;
    let path = format!("/api/sessions/{session}/attendance");
    let body = json!({"marks": [
        {"student_id": "S1", "status": "present"},
        {"student_id": "S2", "status": "late", "remark": "bus"},
        {"student_id": "S3", "status": "absent"}
    ]});
    let done = expect_json(app.post(&path, &teacher, body).await, OK).await;
    assert_eq!(done["session_id"], session.as_str());
    assert_eq!(done["recorded"], 2);
    assert_eq!(done["unchanged"], 1);
    assert_eq!(done["version"], 4, "opened + 3 recorded");
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(roster_row(&view, "S1")["method"], "manual");
    let s2 = roster_row(&view, "S2");
    assert_eq!(
        (&s2["status"], &s2["method"]),
        (&json!("late"), &json!("bulk"))
    );
    assert_eq!(s2["remark"], "bus");
    assert_eq!(roster_row(&view, "S3")["status"], "absent");

    let empty = app.post(&path, &teacher, json!({"marks": []})).await;
    let problem = expect_problem(empty, UNPROCESSABLE, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["marks"]);
}

#[tokio::test]
async fn only_unmarked_skips_students_already_marked() {
    let (app, session, _, teacher) = setup().await;
    expect_json(app.record(&teacher, &session, "S1", "late").await, CREATED).await;
    let body = json!({"only_unmarked": true, "marks": [
        {"student_id": "S1", "status": "present"},
        {"student_id": "S2", "status": "present"},
        {"student_id": "S3", "status": "present"}
    ]});
    let done = expect_json(
        app.post(
            &format!("/api/sessions/{session}/attendance"),
            &teacher,
            body,
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(done["recorded"], 2);
    assert_eq!(done["unchanged"], 1);
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(roster_row(&view, "S1")["status"], "late", "kept");
    assert_eq!(roster_row(&view, "S2")["status"], "present");
    assert_eq!(roster_row(&view, "S3")["status"], "present");
}

#[tokio::test]
async fn closing_defaults_the_unmarked_to_absent_then_only_corrections_pass() {
    let (app, session, teacher_id, teacher) = setup().await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        CREATED,
    )
    .await;
    let closed = expect_json(
        app.post(
            &format!("/api/sessions/{session}/close"),
            &teacher,
            json!({}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(closed["defaulted_absent"], json!(["S2", "S3"]));
    assert_eq!(closed["changed"], true);
    assert_eq!(closed["version"], 3);
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(view["closed"], true);
    let s2 = roster_row(&view, "S2");
    assert_eq!(s2["status"], "absent");
    assert_eq!(s2["method"], "close");
    assert_eq!(s2["recorded_by"], "ada");
    assert_eq!(s2["recorded_by_id"], teacher_id.as_str());

    let events = app.event_count().await;
    expect_problem(
        app.record(&teacher, &session, "S2", "present").await,
        StatusCode::CONFLICT,
        "register_closed",
    )
    .await;
    let roll_call = app
        .post(
            &format!("/api/sessions/{session}/attendance"),
            &teacher,
            json!({"marks": [{"student_id": "S3", "status": "late"}]}),
        )
        .await;
    let problem = expect_problem(roll_call, UNPROCESSABLE, "roll_call_refused").await;
    assert_eq!(problem["errors"][0]["code"], "register_closed");
    // Repeating the current status is still a harmless no-op.
    let same = expect_json(app.record(&teacher, &session, "S1", "present").await, OK).await;
    assert_eq!(same["changed"], false);
    assert_eq!(app.event_count().await, events);

    let corrected = expect_json(
        app.post(
            &format!("/api/sessions/{session}/attendance/S2/correction"),
            &teacher,
            json!({"status": "present", "reason": "was in the back row"}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(corrected["changed"], true);
    assert_eq!(corrected["version"], 4);
    let view = app.session_view(&teacher, &session).await;
    let s2 = roster_row(&view, "S2");
    assert_eq!(s2["status"], "present");
    assert_eq!(s2["corrected"], true);

    // Closing again changes nothing.
    let again = expect_json(
        app.post(
            &format!("/api/sessions/{session}/close"),
            &teacher,
            json!({}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(again["changed"], false);
    assert_eq!(again["defaulted_absent"], json!([]));
    assert_eq!(again["version"], 4);
}

#[tokio::test]
async fn closing_an_untouched_register_marks_everyone_absent() {
    let (app, session, _, teacher) = setup().await;
    let closed = expect_json(
        app.post(
            &format!("/api/sessions/{session}/close"),
            &teacher,
            json!({}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(closed["defaulted_absent"], json!(["S1", "S2", "S3"]));
    assert_eq!(closed["version"], 2, "opened + closed");
    assert_eq!(
        app.events_of("register", &session).await,
        ["RegisterOpened", "RegisterClosed"]
    );
}

#[tokio::test]
async fn the_seed_style_body_resolves_the_session_by_course_and_date() {
    let (app, session, _, teacher) = setup().await;
    let body = json!({"student_id": "S1", "course_id": "CS101", "date": "2026-09-07", "status": "present"});
    let marked = expect_json(app.post("/api/attendance", &teacher, body).await, CREATED).await;
    assert_eq!(marked["session_id"], session.as_str());
    assert_eq!(marked["status"], "present");
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(roster_row(&view, "S1")["status"], "present");

    let no_session = json!({"student_id": "S1", "course_id": "CS101", "date": "2026-09-08", "status": "present"});
    expect_problem(
        app.post("/api/attendance", &teacher, no_session).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let neither = json!({"student_id": "S1", "status": "present"});
    let problem = expect_problem(
        app.post("/api/attendance", &teacher, neither).await,
        UNPROCESSABLE,
        "invalid_field",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["session_id"]);
}

#[tokio::test]
async fn two_sessions_on_the_day_are_ambiguous_unless_named() {
    let (app, morning, _, teacher) = setup().await;
    let afternoon = app.schedule("CS101", "Lab", "2026-09-07T14:00:00Z").await;
    let events = app.event_count().await;
    let body = json!({"student_id": "S1", "course_id": "CS101", "date": "2026-09-07", "status": "present"});
    let problem = expect_problem(
        app.post("/api/attendance", &teacher, body.clone()).await,
        UNPROCESSABLE,
        "ambiguous_session",
    )
    .await;
    let listed = problem["errors"].to_string();
    assert!(
        listed.contains(&morning) && listed.contains(&afternoon),
        "both candidates are listed: {problem}"
    );
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    assert_eq!(app.event_count().await, events);

    let mut named = body.clone();
    named["session_name"] = json!("lab");
    let marked = expect_json(app.post("/api/attendance", &teacher, named).await, CREATED).await;
    assert_eq!(marked["session_id"], afternoon.as_str());
    let view = app.session_view(&teacher, &morning).await;
    assert_eq!(roster_row(&view, "S1")["status"], Value::Null);
    let view = app.session_view(&teacher, &afternoon).await;
    assert_eq!(roster_row(&view, "S1")["status"], "present");

    // Once one of them is cancelled, the date alone is enough again.
    expect_json(
        app.post(
            &format!("/api/courses/CS101/sessions/{afternoon}/cancel"),
            &teacher,
            json!({}),
        )
        .await,
        OK,
    )
    .await;
    let marked = expect_json(app.post("/api/attendance", &teacher, body).await, CREATED).await;
    assert_eq!(marked["session_id"], morning.as_str());
}

#[tokio::test]
async fn a_session_id_with_another_courses_code_is_refused() {
    let (app, session, _, teacher) = setup().await;
    app.create_course("CS202").await;
    let events = app.event_count().await;
    let body = json!({"session_id": session, "course_id": "CS202", "student_id": "S1", "status": "present"});
    let problem = expect_problem(
        app.post("/api/attendance", &teacher, body).await,
        UNPROCESSABLE,
        "invalid_field",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["course_id"]);
    assert_eq!(app.event_count().await, events);
    // With the right code it passes.
    let body = json!({"session_id": session, "course_id": "CS101", "student_id": "S1", "status": "present"});
    expect_json(app.post("/api/attendance", &teacher, body).await, CREATED).await;
}

#[tokio::test]
async fn a_cancelled_session_takes_no_attendance() {
    let (app, session, _, teacher) = setup().await;
    let cancelled = expect_json(
        app.post(
            &format!("/api/courses/CS101/sessions/{session}/cancel"),
            &teacher,
            json!({"reason": "holiday"}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(cancelled["changed"], true);
    let events = app.event_count().await;
    expect_problem(
        app.record(&teacher, &session, "S1", "present").await,
        StatusCode::CONFLICT,
        "session_cancelled",
    )
    .await;
    expect_problem(
        app.post(
            &format!("/api/sessions/{session}/attendance"),
            &teacher,
            json!({"marks": [{"student_id": "S1", "status": "present"}]}),
        )
        .await,
        StatusCode::CONFLICT,
        "session_cancelled",
    )
    .await;
    expect_problem(
        app.post(
            &format!("/api/sessions/{session}/close"),
            &teacher,
            json!({}),
        )
        .await,
        StatusCode::CONFLICT,
        "session_cancelled",
    )
    .await;
    assert_eq!(app.event_count().await, events);
    let sessions = expect_json(app.get("/api/courses/CS101/sessions", &teacher).await, OK).await;
    assert_eq!(sessions[0]["cancelled"], true);
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(view["session"]["cancelled"], true);
}

#[tokio::test]
async fn unknown_sessions_are_404() {
    let (app, _, _, teacher) = setup().await;
    expect_problem(
        app.record(&teacher, "no-such-session", "S1", "present")
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.get("/api/sessions/no-such-session", &teacher).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.post("/api/sessions/no-such-session/close", &teacher, json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn every_command_answers_the_registers_growing_version() {
    let (app, session, _, teacher) = setup().await;
    let mut versions = Vec::new();
    for (student, status) in [("S1", "present"), ("S2", "late")] {
        let done = expect_json(
            app.record(&teacher, &session, student, status).await,
            CREATED,
        )
        .await;
        versions.push(done["version"].as_u64().unwrap());
    }
    let roll = expect_json(
        app.post(
            &format!("/api/sessions/{session}/attendance"),
            &teacher,
            json!({"marks": [{"student_id": "S3", "status": "present"}]}),
        )
        .await,
        OK,
    )
    .await;
    versions.push(roll["version"].as_u64().unwrap());
    let corrected = expect_json(
        app.post(
            &format!("/api/sessions/{session}/attendance/S2/correction"),
            &teacher,
            json!({"status": "present", "reason": "clock was wrong"}),
        )
        .await,
        OK,
    )
    .await;
    versions.push(corrected["version"].as_u64().unwrap());
    let closed = expect_json(
        app.post(
            &format!("/api/sessions/{session}/close"),
            &teacher,
            json!({}),
        )
        .await,
        OK,
    )
    .await;
    versions.push(closed["version"].as_u64().unwrap());
    assert_eq!(versions, [2, 3, 4, 5, 6]);
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(view["version"], 6);

    // Course commands answer the course's version too.
    let before = expect_json(app.get("/api/courses/CS101", &teacher).await, OK).await;
    let v = before["version"].as_u64().unwrap();
    app.create_student("S4", "New").await;
    let enrolled = expect_json(
        app.post(
            "/api/courses/CS101/enrollments",
            &app.admin,
            json!({"student_id": "S4", "effective_from": "2026-09-01"}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(enrolled["version"], v + 1);
    assert_eq!(enrolled["changed"], true);
    let scheduled = expect_json(
        app.post(
            "/api/courses/CS101/sessions",
            &teacher,
            json!({"title": "Lecture 2", "starts_at": "2026-09-14T09:00:00Z", "duration_minutes": 90}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(scheduled["version"], v + 2);
}
