//! Concurrent commands on one aggregate: no lost update.

use crate::helpers::{TestApp, expect_json};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_marks_on_one_register_are_all_kept() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let students: Vec<String> = (1..=20).map(|i| format!("S{i:02}")).collect();
    for id in &students {
        app.create_student(id, &format!("Student {id}")).await;
        app.enroll("CS101", id, "2026-09-01").await;
    }
    let session = app
        .schedule("CS101", "Lecture 1", "2026-09-07T09:00:00Z")
        .await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let app = Arc::new(app);
    let tasks = students.iter().map(|student| {
        let (app, teacher, session, student) = (
            app.clone(),
            teacher.clone(),
            session.clone(),
            student.clone(),
        );
        tokio::spawn(async move {
            let response = app.record(&teacher, &session, &student, "present").await;
            let status = response.status();
            (student, status, response.text().await.unwrap())
        })
    });
    let results = join_all(tasks).await;
    let mut versions = Vec::new();
    for result in results {
        let (student, status, body) = result.expect("task finished");
        assert_eq!(status, StatusCode::CREATED, "{student}: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["changed"], true, "{student}: {body}");
        versions.push(body["version"].as_u64().unwrap());
    }
    versions.sort();
    let expected: Vec<u64> = (2..=21).collect();
    assert_eq!(versions, expected, "each mark got its own version");

    let events = app.events_of("register", &session).await;
    assert_eq!(events.len(), 21, "opened + 20 recorded: {events:?}");
    assert_eq!(events[0], "RegisterOpened");
    assert!(events[1..].iter().all(|e| e == "AttendanceRecorded"));
    let view = app.session_view(&teacher, &session).await;
    let rows = view["roster"].as_array().unwrap();
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| r["status"] == "present"), "{view}");
    assert_eq!(view["version"], 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_enrolments_in_one_course_all_succeed() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let students: Vec<String> = (1..=10).map(|i| format!("S{i:02}")).collect();
    for id in &students {
        app.create_student(id, &format!("Student {id}")).await;
    }
    let app = Arc::new(app);
    let tasks = students.iter().map(|student| {
        let (app, student) = (app.clone(), student.clone());
        tokio::spawn(async move {
            let body = json!({"student_id": student, "effective_from": "2026-09-01"});
            let response = app
                .post("/api/courses/CS101/enrollments", &app.admin, body)
                .await;
            let status = response.status();
            (student, status, response.text().await.unwrap())
        })
    });
    let mut versions = Vec::new();
    for result in join_all(tasks).await {
        let (student, status, body) = result.expect("task finished");
        assert_eq!(status, StatusCode::OK, "{student}: {body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["changed"], true);
        versions.push(body["version"].as_u64().unwrap());
    }
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), 10, "distinct versions: {versions:?}");
    assert_eq!(versions, (2..=11).collect::<Vec<u64>>());

    let listed = expect_json(
        app.get("/api/courses/CS101/students", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 10, "{listed}");
    let course = expect_json(
        app.get("/api/courses/CS101", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(course["version"], 11);
    assert_eq!(
        app.events_of("course", "CS101").await.len(),
        11,
        "created + 10 enrolled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_identical_marks_write_one_event() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let app = Arc::new(app);
    let tasks = (0..8).map(|_| {
        let (app, teacher, session) = (app.clone(), teacher.clone(), session.clone());
        tokio::spawn(async move {
            let response = app.record(&teacher, &session, "S1", "late").await;
            // 201 for the one request that recorded it, 200 "Already recorded" for the others.
            let status = response.status();
            let body = expect_json(response, status).await;
            (status, body)
        })
    });
    let answers: Vec<_> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task finished"))
        .collect();
    let created = answers
        .iter()
        .filter(|(status, a)| *status == StatusCode::CREATED && a["changed"] == true)
        .count();
    assert_eq!(created, 1, "exactly one request recorded it: {answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, a)| *status == StatusCode::CREATED
                || (*status == StatusCode::OK && a["message"] == "Already recorded")),
        "{answers:?}"
    );
    let answers: Vec<_> = answers.into_iter().map(|(_, a)| a).collect();
    assert!(answers.iter().all(|a| a["version"] == 2), "{answers:?}");
    assert_eq!(
        app.events_of("register", &session).await,
        ["RegisterOpened", "AttendanceRecorded"]
    );
}
