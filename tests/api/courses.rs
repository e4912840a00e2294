//! Courses, teachers, enrolments, sessions and policy.

use crate::helpers::{TestApp, expect_json, expect_problem, problem_fields};
use reqwest::StatusCode;
use serde_json::{Value, json};

const OK: StatusCode = StatusCode::OK;

#[tokio::test]
async fn a_course_round_trips_through_create_read_and_update() {
    let app = TestApp::spawn().await;
    let created = expect_json(
        app.post(
            "/api/courses",
            &app.admin,
            json!({"code": "CS101", "name": "Programming 1", "department": "CS",
                   "credits": 6, "semester": "2026-fall"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["code"], "CS101");
    assert_eq!(created["name"], "Programming 1");
    assert_eq!(created["department"], "CS");
    assert_eq!(created["credits"], 6);
    assert_eq!(created["semester"], "2026-fall");
    assert_eq!(created["teachers"], json!([]));
    assert_eq!(created["enrolled_students"], 0);
    assert_eq!(created["sessions"], 0);
    assert_eq!(created["version"], 1);
    // The default policy.
    assert_eq!(
        created["policy"],
        json!({"weights": {"present": 1.0, "late": 1.0, "excused": 1.0, "absent": 0.0},
               "count_excused": false, "at_risk_below": 75.0, "absence_streak": 3})
    );
    let read = expect_json(app.get("/api/courses/CS101", &app.admin).await, OK).await;
    assert_eq!(read, created);

    let updated = expect_json(
        app.put(
            "/api/courses/CS101",
            &app.admin,
            json!({"name": "Programming One", "credits": 5}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(updated["name"], "Programming One");
    assert_eq!(updated["credits"], 5);
    assert_eq!(updated["department"], Value::Null);
    assert_eq!(updated["version"], 2);
    let read = expect_json(app.get("/api/courses/CS101", &app.admin).await, OK).await;
    assert_eq!(read, updated);
    let list = expect_json(app.get("/api/courses", &app.admin).await, OK).await;
    assert_eq!(list, json!([updated]));
}

#[tokio::test]
async fn a_duplicate_course_code_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let events = app.event_count().await;
    expect_problem(
        app.post(
            "/api/courses",
            &app.admin,
            json!({"code": "CS101", "name": "Another"}),
        )
        .await,
        StatusCode::CONFLICT,
        "course_exists",
    )
    .await;
    assert_eq!(app.event_count().await, events);
    let read = expect_json(app.get("/api/courses/CS101", &app.admin).await, OK).await;
    assert_eq!(read["name"], "Course CS101");
}

#[tokio::test]
async fn unknown_courses_are_404() {
    let app = TestApp::spawn().await;
    app.create_student("S1", "Ada").await;
    let events = app.event_count().await;
    for response in [
        app.get("/api/courses/NOPE", &app.admin).await,
        app.put("/api/courses/NOPE", &app.admin, json!({"name": "X"}))
            .await,
        app.get("/api/courses/NOPE/students", &app.admin).await,
        app.get("/api/courses/NOPE/sessions", &app.admin).await,
        app.post(
            "/api/courses/NOPE/enrollments",
            &app.admin,
            json!({"student_id": "S1"}),
        )
        .await,
        app.post(
            "/api/courses/NOPE/sessions",
            &app.admin,
            json!({"title": "L", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": 90}),
        )
        .await,
    ] {
        expect_problem(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert_eq!(
        app.event_count().await,
        events,
        "no course was created by accident"
    );
}

#[tokio::test]
async fn a_teacher_lists_only_their_courses() {
    let app = TestApp::spawn().await;
    for code in ["CS101", "CS202", "MA101"] {
        app.create_course(code).await;
    }
    let (ada_id, ada) = app.teacher_of("ada", "CS101").await;
    expect_json(
        app.post(
            "/api/courses/MA101/teachers",
            &app.admin,
            json!({"user_id": ada_id}),
        )
        .await,
        OK,
    )
    .await;
    let (_, bob) = app.create_user("bob", "teacher", None).await;
    let codes = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect()
    };
    let listed = expect_json(app.get("/api/courses", &ada).await, OK).await;
    assert_eq!(codes(&listed), ["CS101", "MA101"]);
    assert_eq!(listed[0]["teachers"], json!([ada_id]));
    let listed = expect_json(app.get("/api/courses", &bob).await, OK).await;
    assert_eq!(listed, json!([]));

    // Unassigned, the course disappears from the list and the teacher loses access.
    let unassigned = expect_json(
        app.delete(&format!("/api/courses/MA101/teachers/{ada_id}"), &app.admin)
            .await,
        OK,
    )
    .await;
    assert_eq!(unassigned["changed"], true);
    let listed = expect_json(app.get("/api/courses", &ada).await, OK).await;
    assert_eq!(codes(&listed), ["CS101"]);
    expect_problem(
        app.get("/api/courses/MA101", &ada).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.delete(&format!("/api/courses/MA101/teachers/{ada_id}"), &app.admin)
            .await,
        StatusCode::CONFLICT,
        "teacher_not_assigned",
    )
    .await;
}

#[tokio::test]
async fn only_active_teacher_accounts_can_be_assigned() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    app.create_student("S1", "Ada").await;
    let (student_user, _) = app.create_user("s1", "student", Some("S1")).await;
    let (admin_user, _) = app.create_user("root2", "admin", None).await;
    let (disabled, _) = app.create_user("gone", "teacher", None).await;
    let done = app
        .delete(&format!("/api/users/{disabled}"), &app.admin)
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    for user in [
        student_user.as_str(),
        admin_user.as_str(),
        disabled.as_str(),
        "no-such-user",
    ] {
        let problem = expect_problem(
            app.post(
                "/api/courses/CS101/teachers",
                &app.admin,
                json!({"user_id": user}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert_eq!(problem_fields(&problem), ["user_id"], "{user}");
    }
    let course = expect_json(app.get("/api/courses/CS101", &app.admin).await, OK).await;
    assert_eq!(course["teachers"], json!([]));
    // Assigning twice changes nothing.
    let (ada, _) = app.create_user("ada", "teacher", None).await;
    let path = "/api/courses/CS101/teachers";
    let first = expect_json(
        app.post(path, &app.admin, json!({"user_id": ada})).await,
        OK,
    )
    .await;
    assert_eq!(first["changed"], true);
    let again = expect_json(
        app.post(path, &app.admin, json!({"user_id": ada})).await,
        OK,
    )
    .await;
    assert_eq!(again["changed"], false);
    assert_eq!(again["version"], first["version"]);
}

#[tokio::test]
async fn enrolments_are_listed_with_their_periods() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    app.create_student("S1", "Ada Obi").await;
    app.create_student("S2", "Bea Ruiz").await;
    app.enroll("CS101", "S1", "2026-09-01").await;
    app.enroll("CS101", "S2", "2026-09-01").await;
    // Enrolling again changes nothing.
    let again = expect_json(
        app.post(
            "/api/courses/CS101/enrollments",
            &app.admin,
            json!({"student_id": "S1", "effective_from": "2026-09-05"}),
        )
        .await,
        OK,
    )
    .await;
    assert_eq!(again["changed"], false);
    expect_json(
        app.delete(
            "/api/courses/CS101/enrollments/S2?effective_from=2026-10-01",
            &app.admin,
        )
        .await,
        OK,
    )
    .await;

    let listed = expect_json(app.get("/api/courses/CS101/students", &teacher).await, OK).await;
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["student"]["id"], "S1");
    assert_eq!(rows[0]["student"]["name"], "Ada Obi");
    assert_eq!(
        rows[0]["periods"],
        json!([{"from": "2026-09-01", "until": null}])
    );
    assert_eq!(rows[1]["student"]["id"], "S2");
    assert_eq!(
        rows[1]["periods"],
        json!([{"from": "2026-09-01", "until": "2026-10-01"}])
    );

    // A second unenrolment of the same student is refused.
    expect_problem(
        app.delete(
            "/api/courses/CS101/enrollments/S2?effective_from=2026-11-01",
            &app.admin,
        )
        .await,
        StatusCode::CONFLICT,
        "not_enrolled",
    )
    .await;
    // Re-enrolling inside the closed period overlaps it.
    expect_problem(
        app.post(
            "/api/courses/CS101/enrollments",
            &app.admin,
            json!({"student_id": "S2", "effective_from": "2026-09-15"}),
        )
        .await,
        StatusCode::CONFLICT,
        "enrollment_overlaps",
    )
    .await;
}

#[tokio::test]
async fn enrolling_an_unknown_student_is_a_422() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let events = app.event_count().await;
    let problem = expect_problem(
        app.post(
            "/api/courses/CS101/enrollments",
            &app.admin,
            json!({"student_id": "S404"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["student_id"]);
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn sessions_are_scheduled_and_listed_by_start() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let scheduled = expect_json(
        app.post(
            "/api/courses/CS101/sessions",
            &teacher,
            json!({"title": "Lecture 2", "starts_at": "2026-09-14T09:00:00+02:00", "duration_minutes": 90}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = scheduled["id"].as_str().unwrap().to_string();
    assert_eq!(scheduled["session"]["id"], id.as_str());
    assert_eq!(scheduled["session"]["course_id"], "CS101");
    assert_eq!(scheduled["session"]["title"], "Lecture 2");
    assert_eq!(scheduled["session"]["duration_minutes"], 90);
    assert_eq!(scheduled["session"]["cancelled"], false);
    let starts = scheduled["session"]["starts_at"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(starts).unwrap(),
        chrono::DateTime::parse_from_rfc3339("2026-09-14T07:00:00Z").unwrap()
    );
    let first = app
        .schedule("CS101", "Lecture 1", "2026-09-07T09:00:00Z")
        .await;
    let listed = expect_json(app.get("/api/courses/CS101/sessions", &teacher).await, OK).await;
    let ids: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [first.clone(), id.clone()]);

    let view = app.session_view(&teacher, &id).await;
    assert_eq!(view["opened"], false);
    assert_eq!(view["version"], 0);
    assert_eq!(view["session"]["title"], "Lecture 2");
    let course = expect_json(app.get("/api/courses/CS101", &teacher).await, OK).await;
    assert_eq!(course["sessions"], 2);
}

#[tokio::test]
async fn the_policy_is_validated_and_set_by_the_courses_teacher() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let path = "/api/courses/CS101/policy";
    let canvas = json!({
        "weights": {"present": 1.0, "late": 0.8, "excused": 1.0, "absent": 0.0},
        "count_excused": true,
        "at_risk_below": 80.0,
        "absence_streak": 3
    });
    let done = expect_json(app.put(path, &teacher, canvas.clone()).await, OK).await;
    assert_eq!(done["changed"], true);
    let course = expect_json(app.get("/api/courses/CS101", &teacher).await, OK).await;
    assert_eq!(course["policy"], canvas);
    assert_eq!(course["version"], done["version"]);
    let same = expect_json(app.put(path, &teacher, canvas.clone()).await, OK).await;
    assert_eq!(same["changed"], false);

    let events = app.event_count().await;
    let mut too_heavy = canvas.clone();
    too_heavy["weights"]["late"] = json!(1.5);
    let problem = expect_problem(
        app.put(path, &teacher, too_heavy).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["policy"]);
    assert!(
        problem["detail"].as_str().unwrap().contains("late"),
        "{problem}"
    );
    let mut negative = canvas.clone();
    negative["weights"]["absent"] = json!(-0.1);
    expect_problem(
        app.put(path, &teacher, negative).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    let mut threshold = canvas.clone();
    threshold["at_risk_below"] = json!(120);
    expect_problem(
        app.put(path, &teacher, threshold).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    let mut missing = canvas.clone();
    missing["weights"].as_object_mut().unwrap().remove("late");
    let problem = expect_problem(
        app.put(path, &teacher, missing).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["weights.late"]);
    assert_eq!(app.event_count().await, events);
    let course = expect_json(app.get("/api/courses/CS101", &teacher).await, OK).await;
    assert_eq!(course["policy"], canvas, "unchanged by the refused bodies");
}
