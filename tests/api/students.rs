//! Students' personal data: CRUD and erasure that keeps the history.

use crate::helpers::{TestApp, expect_json, expect_problem, problem_fields, roster_row};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn a_student_round_trips_through_create_read_update_and_list() {
    let app = TestApp::spawn().await;
    let created = expect_json(
        app.post(
            "/api/students",
            &app.admin,
            json!({"id": "2026-0001", "name": "Zoë Ñúñez", "email": "zoe@example.edu",
                   "department": "CS", "level": "L2"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        created,
        json!({"id": "2026-0001", "name": "Zoë Ñúñez", "email": "zoe@example.edu",
               "department": "CS", "level": "L2", "phone": null, "active": true,
               "registered_on": null, "erased": false})
    );
    let read = expect_json(
        app.get("/api/students/2026-0001", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read, created);

    let updated = expect_json(
        app.put(
            "/api/students/2026-0001",
            &app.admin,
            json!({"name": "Zoë Ñúñez-Obi", "level": "L3"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(updated["name"], "Zoë Ñúñez-Obi");
    assert_eq!(updated["level"], "L3");
    assert_eq!(
        updated["email"],
        Value::Null,
        "PUT replaces the whole record"
    );
    let read = expect_json(
        app.get("/api/students/2026-0001", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read, updated);

    app.create_student("A-7", "Li Wei").await;
    let list = expect_json(app.get("/api/students", &app.admin).await, StatusCode::OK).await;
    let ids: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["2026-0001", "A-7"]);
}

#[tokio::test]
async fn a_duplicate_student_number_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.create_student("S1", "Ada Obi").await;
    expect_problem(
        app.post(
            "/api/students",
            &app.admin,
            json!({"id": "S1", "name": "Someone Else"}),
        )
        .await,
        StatusCode::CONFLICT,
        "student_exists",
    )
    .await;
    let read = expect_json(
        app.get("/api/students/S1", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(read["name"], "Ada Obi", "the first record is untouched");
}

#[tokio::test]
async fn unknown_students_are_404() {
    let app = TestApp::spawn().await;
    for response in [
        app.get("/api/students/S404", &app.admin).await,
        app.put("/api/students/S404", &app.admin, json!({"name": "X"}))
            .await,
        app.delete("/api/students/S404", &app.admin).await,
    ] {
        expect_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test]
async fn erasing_a_student_removes_personal_data_but_keeps_history() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    expect_json(
        app.put(
            "/api/students/S2",
            &app.admin,
            json!({"name": "Zoë Ñúñez", "email": "zoe@example.edu", "department": "CS", "level": "L1"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_json(
        app.record(&teacher, &session, "S2", "late").await,
        StatusCode::CREATED,
    )
    .await;
    let events = app.event_count().await;

    let erased = app.delete("/api/students/S2", &app.admin).await;
    assert_eq!(erased.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.event_count().await, events, "history is not rewritten");

    let read = expect_json(
        app.get("/api/students/S2", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        read,
        json!({"id": "S2", "name": null, "email": null, "department": null, "level": null,
               "phone": null, "active": true, "registered_on": null, "erased": true})
    );
    // The personal data is gone from the database, not just hidden.
    let stored: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT name, email FROM students WHERE id = 'S2'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, (None, None));
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE payload::text LIKE '%Zoë%' OR payload::text LIKE '%zoe@%'
            OR metadata::text LIKE '%Zoë%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0, "personal data never entered the events");

    let view = app.session_view(&teacher, &session).await;
    let row = roster_row(&view, "S2");
    assert_eq!(row["status"], "late", "the mark is still there");
    assert_eq!(row["name"], Value::Null);
    let listed = expect_json(
        app.get("/api/courses/CS101/students", &teacher).await,
        StatusCode::OK,
    )
    .await;
    let s2 = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["student"]["id"] == "S2")
        .expect("still listed pseudonymously")
        .clone();
    assert_eq!(s2["student"]["erased"], true);
    assert_eq!(s2["student"]["name"], Value::Null);

    // Erased data cannot be written back, and the number cannot be enrolled again.
    expect_problem(
        app.put(
            "/api/students/S2",
            &app.admin,
            json!({"name": "Back Again"}),
        )
        .await,
        StatusCode::CONFLICT,
        "student_erased",
    )
    .await;
    app.create_course("CS202").await;
    let problem = expect_problem(
        app.post(
            "/api/courses/CS202/enrollments",
            &app.admin,
            json!({"student_id": "S2"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["student_id"]);
    // Erasing twice is harmless.
    let again = app.delete("/api/students/S2", &app.admin).await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_teacher_reads_the_students_of_their_courses_only() {
    let app = TestApp::spawn().await;
    app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    app.create_student("S9", "Elsewhere").await;
    expect_json(app.get("/api/students/S1", &teacher).await, StatusCode::OK).await;
    expect_problem(
        app.get("/api/students/S9", &teacher).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Once the student is unenrolled, the teacher still reads them (they were enrolled once).
    expect_json(
        app.delete(
            "/api/courses/CS101/enrollments/S1?effective_from=2026-10-01",
            &app.admin,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    expect_json(app.get("/api/students/S1", &teacher).await, StatusCode::OK).await;
}
