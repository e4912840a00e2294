//! The seed system's answer shapes (issue 18): one mark answers `message` and `record_id`
//! with 201 (new) or 200 ("Already recorded"); a student's records carry the seed's summary
//! keys; `POST /api/attendance/bulk` records marks across sessions, each session all or
//! nothing.

use crate::helpers::{TestApp, expect_json, expect_problem, problem_fields, roster_row};
use crate::read_side::{marked_course, read};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_new_mark_is_created_and_the_same_mark_again_is_already_recorded() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let first = expect_json(
        app.record(&app.admin, &session, "S1", "late").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (&first["message"], &first["changed"], &first["status"]),
        (&json!("Attendance recorded"), &json!(true), &json!("late"))
    );
    let record_id = format!("{session}:S1");
    assert_eq!(first["record_id"], record_id.as_str());
    let again = expect_json(
        app.record(&app.admin, &session, "S1", "late").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&again["message"], &again["changed"], &again["record_id"]),
        (
            &json!("Already recorded"),
            &json!(false),
            &first["record_id"]
        )
    );
    // The record id leads back to the record.
    let (session_part, student_part) = record_id.split_once(':').unwrap();
    let found = read(
        &app,
        &format!("/api/attendance?session_id={session_part}&student_id={student_part}"),
        &app.admin,
        first["position"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["records"][0]["status"], "late");
}

#[tokio::test]
async fn a_students_records_carry_the_seed_summary_keys() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    // S2: late, absent, absent: 1 of 3 counted marks attends = 33.33 %.
    let s2 = read(&app, "/api/attendance/student/S2", &app.admin, position).await;
    assert_eq!(
        [
            &s2["total"],
            &s2["present"],
            &s2["late"],
            &s2["absent"],
            &s2["excused"]
        ],
        [&json!(3), &json!(0), &json!(1), &json!(2), &json!(0)]
    );
    assert_eq!(s2["attendance_percentage"], 33.33);
    assert_eq!(s2["summary"]["total_sessions"], 3, "the old keys stay");
    // S3: absent, excused (not counted by the default policy): 0 %; with the course filter the
    // percentage is the course rate, as in `summary`.
    let s3 = read(
        &app,
        "/api/attendance/student/S3?course_id=CS101",
        &app.admin,
        position,
    )
    .await;
    assert_eq!((&s3["total"], &s3["excused"]), (&json!(2), &json!(1)));
    assert_eq!(s3["attendance_percentage"], 0.0);
    assert_eq!(
        s3["attendance_percentage"],
        s3["summary"]["attendance_rate"]
    );
}

fn outcome(results: &Value, index: usize) -> (bool, Option<&str>) {
    let row = &results["results"][index];
    assert_eq!(row["index"], index);
    (row["ok"].as_bool().unwrap(), row["code"].as_str())
}

#[tokio::test]
async fn bulk_marks_are_written_per_session_all_or_nothing() {
    let app = TestApp::spawn().await;
    let first = app.course_with_session().await;
    let second = app
        .schedule("CS101", "Lecture 2", "2026-09-14T09:00:00Z")
        .await;
    app.create_course("MA101").await;
    app.enroll("MA101", "S1", "2026-09-01").await;
    let other = app
        .schedule("MA101", "Algebra 1", "2026-09-08T09:00:00Z")
        .await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let mark = |session: &str, student: &str, status: &str| json!({"session_id": session, "student_id": student, "status": status});
    let body = json!({"records": [
        mark(&first, "S1", "present"),
        mark(&second, "S1", "late"),
        mark(&first, "S2", "absent"),
        mark(&second, "NOBODY", "present"),
        mark(&other, "S1", "present"),
    ]});
    let done = expect_json(
        app.post("/api/attendance/bulk", &teacher, body).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&done["total"], &done["success_count"], &done["error_count"]),
        (&json!(5), &json!(2), &json!(3))
    );
    assert_eq!(outcome(&done, 0), (true, None));
    assert_eq!(outcome(&done, 2), (true, None));
    // The second session's roll call is refused for its unknown student, so its good mark is
    // not written either; the teacher does not teach MA101.
    assert_eq!(outcome(&done, 3), (false, Some("not_on_roster")));
    assert_eq!(outcome(&done, 1), (false, Some("roll_call_refused")));
    assert_eq!(outcome(&done, 4), (false, Some("forbidden")));
    assert_eq!(done["results"][4]["session_id"], other.as_str());

    let view = app.session_view(&app.admin, &first).await;
    assert_eq!(roster_row(&view, "S2")["status"], "absent");
    let view = app.session_view(&app.admin, &second).await;
    assert_eq!(roster_row(&view, "S1")["status"], Value::Null);
    assert_eq!(app.events_of("register", &other).await.len(), 0);

    // Sending the written marks again changes nothing and still succeeds.
    let events = app.event_count().await;
    let again = json!({"records": [mark(&first, "S1", "present"), mark(&first, "S2", "absent")]});
    let done = expect_json(
        app.post("/api/attendance/bulk", &teacher, again).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["success_count"], 2);
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn a_bulk_request_with_a_bad_field_or_too_many_records_writes_nothing() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let events = app.event_count().await;
    let empty = app
        .post("/api/attendance/bulk", &app.admin, json!({"records": []}))
        .await;
    let problem = expect_problem(empty, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["records"]);
    let bad = json!({"records": [
        {"session_id": session, "student_id": "S1", "status": "present"},
        {"session_id": session, "student_id": "no spaces", "status": "present"},
    ]});
    // A malformed id is a bad request, as in every body.
    let problem = expect_problem(
        app.post("/api/attendance/bulk", &app.admin, bad).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["records[1].student_id"]);
    let many: Vec<Value> = (0..2001)
        .map(|_| json!({"session_id": session, "student_id": "S1", "status": "present"}))
        .collect();
    let problem = expect_problem(
        app.post("/api/attendance/bulk", &app.admin, json!({"records": many}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["records"]);
    assert_eq!(app.event_count().await, events);
}
