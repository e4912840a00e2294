//! `Idempotency-Key`: a retried command replays the first answer instead of running twice.

use crate::helpers::{TestApp, expect_json, expect_problem};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

async fn post_with_key(app: &TestApp, path: &str, token: &str, key: &str, body: Value) -> Response {
    app.request(Method::POST, path, Some(token))
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("request sent")
}

fn replayed(response: &Response) -> Option<String> {
    response
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn a_retried_command_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let body =
        json!({"title": "Lecture 1", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": 90});
    let path = "/api/courses/CS101/sessions";
    let first = post_with_key(&app, path, &app.admin, "key-1", body.clone()).await;
    assert_eq!(replayed(&first), None);
    let first_status = first.status();
    let first_type = first.headers().get("content-type").cloned();
    let first_body = first.text().await.unwrap();
    assert_eq!(first_status, StatusCode::CREATED, "{first_body}");
    let events = app.event_count().await;

    let second = post_with_key(&app, path, &app.admin, "key-1", body.clone()).await;
    assert_eq!(replayed(&second).as_deref(), Some("true"));
    assert_eq!(second.status(), first_status);
    assert_eq!(second.headers().get("content-type").cloned(), first_type);
    let second_body = second.text().await.unwrap();
    assert_eq!(
        second_body, first_body,
        "the same session id, not a new one"
    );
    assert_eq!(app.event_count().await, events, "executed once");
    let sessions = expect_json(
        app.get("/api/courses/CS101/sessions", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(sessions.as_array().unwrap().len(), 1);

    // A new key runs the command again.
    let third = post_with_key(&app, path, &app.admin, "key-2", body).await;
    assert_eq!(replayed(&third), None);
    expect_json(third, StatusCode::CREATED).await;
    assert_eq!(app.event_count().await, events + 1);
}

#[tokio::test]
async fn a_retried_mark_is_not_recorded_twice() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let body = json!({"session_id": session, "student_id": "S1", "status": "present"});
    let first = expect_json(
        post_with_key(&app, "/api/attendance", &teacher, "mark-S1", body.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["changed"], true);
    let second = post_with_key(&app, "/api/attendance", &teacher, "mark-S1", body).await;
    assert_eq!(replayed(&second).as_deref(), Some("true"));
    let second = expect_json(second, StatusCode::CREATED).await;
    assert_eq!(second, first, "the first answer, changed=true included");
    assert_eq!(
        app.events_of("register", &session).await,
        ["RegisterOpened", "AttendanceRecorded"]
    );
}

#[tokio::test]
async fn a_refused_command_is_replayed_as_refused() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let body = json!({"session_id": session, "student_id": "NOPE", "status": "present"});
    let first = post_with_key(&app, "/api/attendance", &teacher, "k", body.clone()).await;
    expect_problem(first, StatusCode::NOT_FOUND, "student_not_found").await;
    let second = post_with_key(&app, "/api/attendance", &teacher, "k", body).await;
    assert_eq!(replayed(&second).as_deref(), Some("true"));
    expect_problem(second, StatusCode::NOT_FOUND, "student_not_found").await;
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let first = json!({"session_id": session, "student_id": "S1", "status": "present"});
    expect_json(
        post_with_key(&app, "/api/attendance", &teacher, "reused", first).await,
        StatusCode::CREATED,
    )
    .await;
    let events = app.event_count().await;
    let other = json!({"session_id": session, "student_id": "S2", "status": "late"});
    expect_problem(
        post_with_key(&app, "/api/attendance", &teacher, "reused", other).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    // The same key on another route is another request too.
    expect_problem(
        post_with_key(
            &app,
            &format!("/api/sessions/{session}/close"),
            &teacher,
            "reused",
            json!({}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(app.event_count().await, events);
    let view = app.session_view(&teacher, &session).await;
    assert_eq!(view["closed"], false);
}

#[tokio::test]
async fn keys_belong_to_one_user() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let s1 = json!({"session_id": session, "student_id": "S1", "status": "present"});
    expect_json(
        post_with_key(&app, "/api/attendance", &teacher, "shared", s1).await,
        StatusCode::CREATED,
    )
    .await;
    // Another user's identical key is unrelated: their request runs.
    let s2 = json!({"session_id": session, "student_id": "S2", "status": "present"});
    let response = post_with_key(&app, "/api/attendance", &app.admin, "shared", s2).await;
    assert_eq!(replayed(&response), None);
    let done = expect_json(response, StatusCode::CREATED).await;
    assert_eq!(done["student_id"], "S2");
    assert_eq!(done["changed"], true);
}

#[tokio::test]
async fn an_overlong_key_is_a_bad_request() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let events = app.event_count().await;
    let body =
        json!({"title": "Lecture 1", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": 90});
    let key = "k".repeat(201);
    expect_problem(
        post_with_key(&app, "/api/courses/CS101/sessions", &app.admin, &key, body).await,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    )
    .await;
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn housekeeping_forgets_day_old_idempotent_answers_and_stale_login_failures() {
    let app = TestApp::spawn().await;
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at)
         VALUES ('u', 'old', 'h', 200, '', now() - interval '25 hours'), ('u', 'new', 'h', 200, '', now())",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO login_failures (username, failures, locked_until, last_failure)
         VALUES ('gone', 9, now() - interval '1 hour', now() - interval '2 days'),
                ('locked', 9, now() + interval '1 hour', now() - interval '2 days'),
                ('recent', 2, NULL, now())",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(api::housekeeping(&app.pool).await.unwrap(), (1, 1));
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM idempotency_keys ORDER BY key")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(keys, ["new"]);
    let names: Vec<String> =
        sqlx::query_scalar("SELECT username FROM login_failures ORDER BY username")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        names,
        ["locked", "recent"],
        "an ongoing lock and recent failures stay"
    );
}

/// A key claimed by a request that died without an answer (its release failed because the
/// database went away) is taken over after two minutes instead of blocking for a day.
#[tokio::test]
async fn an_abandoned_claim_is_taken_over() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (teacher_id, teacher) = app.teacher_of("ada", "CS101").await;
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, created_at)
         VALUES ($1, 'stuck', 'left-by-a-dead-request', now() - interval '10 minutes')",
    )
    .bind(&teacher_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let body = json!({"session_id": session, "student_id": "S1", "status": "present"});
    let done = expect_json(
        post_with_key(&app, "/api/attendance", &teacher, "stuck", body.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(done["changed"], true);
    // And from then on it replays like any other key.
    let again = post_with_key(&app, "/api/attendance", &teacher, "stuck", body).await;
    assert_eq!(replayed(&again).as_deref(), Some("true"));
}
