//! Bad input of every kind gets a problem document naming what is wrong, and writes nothing.

use crate::helpers::{TestApp, expect_json, expect_problem, problem_fields};
use reqwest::{Method, StatusCode};
use serde_json::json;

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
const JSON: Option<&str> = Some("application/json");

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let events = app.event_count().await;
    for body in [r#"{"title": "Lecture 1", "#, "not json", ""] {
        let response = app
            .send_raw(
                Method::POST,
                "/api/courses/CS101/sessions",
                Some(&app.admin),
                JSON,
                body,
            )
            .await;
        expect_problem(response, StatusCode::BAD_REQUEST, "malformed_json").await;
    }
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn a_wrong_type_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let cases = [
        (
            "/api/courses/CS101/sessions",
            json!({"title": "L", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": "ninety"}),
            "duration_minutes",
        ),
        (
            "/api/courses/CS101/sessions",
            json!({"title": "L", "starts_at": "next monday", "duration_minutes": 90}),
            "starts_at",
        ),
        (
            "/api/attendance",
            json!({"session_id": session, "student_id": 42, "status": "present"}),
            "student_id",
        ),
        (
            "/api/attendance",
            json!({"course_id": "CS101", "date": "07/09/2026", "student_id": "S1", "status": "present"}),
            "date",
        ),
        (
            &format!("/api/sessions/{session}/attendance"),
            json!({"marks": "everyone present"}),
            "marks",
        ),
        (
            "/api/courses/CS101/enrollments",
            json!({"student_id": "S1", "effective_from": 20260901}),
            "effective_from",
        ),
    ];
    let events = app.event_count().await;
    let failures = misnamed(&app, &cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.event_count().await, events);
}

/// POSTs each body as admin; returns every case that is not a 422 naming exactly `field`.
async fn misnamed<P: AsRef<str>>(
    app: &TestApp,
    cases: &[(P, serde_json::Value, &str)],
) -> Vec<String> {
    let mut failures = Vec::new();
    for (path, body, field) in cases {
        let path = path.as_ref();
        let response = app.post(path, &app.admin, body.clone()).await;
        let status = response.status();
        let problem: serde_json::Value = response.json().await.unwrap_or_default();
        if status != UNPROCESSABLE || problem_fields(&problem) != [*field] {
            failures.push(format!(
                "POST {path} {body}: expected 422 naming {field}, got {status} {problem}"
            ));
        }
    }
    failures
}

#[tokio::test]
async fn a_json_value_of_the_wrong_kind_for_a_status_or_role_is_a_422_naming_it() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let events = app.event_count().await;
    let cases = [
        (
            "/api/attendance".to_string(),
            json!({"session_id": session, "student_id": "S1", "status": 1}),
            "status",
        ),
        (
            "/api/attendance".to_string(),
            json!({"session_id": session, "student_id": "S1", "status": null}),
            "status",
        ),
        (
            format!("/api/sessions/{session}/attendance"),
            json!({"marks": [{"student_id": "S1", "status": "present"}, {"student_id": "S2", "status": true}]}),
            "marks[1].status",
        ),
        (
            format!("/api/sessions/{session}/attendance/S1/correction"),
            json!({"status": ["late"], "reason": "typo"}),
            "status",
        ),
        (
            "/api/users".to_string(),
            json!({"username": "tina", "password": "long-enough-pw", "role": 2}),
            "role",
        ),
    ];
    let failures = misnamed(&app, &cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn a_wrong_type_in_course_or_student_details_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    app.create_student("S1", "Ada").await;
    let events = app.event_count().await;
    let cases = [
        (
            "/api/courses".to_string(),
            json!({"code": "CS202", "name": "Networks", "credits": "three"}),
            "credits",
        ),
        (
            "/api/students".to_string(),
            json!({"id": "S7", "name": ["not", "a", "string"]}),
            "name",
        ),
        (
            "/api/students".to_string(),
            json!({"id": "S8", "name": "Eight", "email": 8}),
            "email",
        ),
    ];
    let mut failures = misnamed(&app, &cases).await;
    for (path, body, field) in [
        (
            "/api/courses/CS101",
            json!({"name": "Programming", "credits": -1}),
            "credits",
        ),
        (
            "/api/students/S1",
            json!({"name": "Ada", "level": 2}),
            "level",
        ),
    ] {
        let response = app.put(path, &app.admin, body.clone()).await;
        let status = response.status();
        let problem: serde_json::Value = response.json().await.unwrap_or_default();
        if status != UNPROCESSABLE || problem_fields(&problem) != [field] {
            failures.push(format!(
                "PUT {path} {body}: expected 422 naming {field}, got {status} {problem}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn an_unknown_field_is_a_422_naming_it() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let cases = [
        (
            "/api/attendance".to_string(),
            json!({"session_id": session, "student_id": "S1", "status": "present", "stauts": "late"}),
            "stauts",
        ),
        (
            format!("/api/sessions/{session}/attendance"),
            json!({"marks": [{"student_id": "S1", "status": "present", "note": "x"}]}),
            "marks[0].note",
        ),
        (
            "/api/courses/CS101/sessions".to_string(),
            json!({"title": "L", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": 90, "room": "B12"}),
            "room",
        ),
        (
            "/api/users".to_string(),
            json!({"username": "x", "password": "long-enough-pw", "role": "teacher", "is_admin": true}),
            "is_admin",
        ),
        // Flattened bodies refuse unknown fields too.
        (
            "/api/students".to_string(),
            json!({"id": "S7", "name": "Seven", "phone": "555"}),
            "phone",
        ),
        (
            "/api/courses".to_string(),
            json!({"code": "CS202", "name": "Networks", "room": "B12"}),
            "room",
        ),
    ];
    let events = app.event_count().await;
    let failures = misnamed(&app, &cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.event_count().await, events);
    // Nothing was created by the refused bodies.
    expect_problem(
        app.get("/api/students/S7", &app.admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.get("/api/courses/CS202", &app.admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_missing_field_is_a_422_naming_it() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let cases = [
        (
            "/api/attendance".to_string(),
            json!({"session_id": session, "student_id": "S1"}),
            "status",
        ),
        (
            format!("/api/sessions/{session}/attendance"),
            json!({"marks": [{"status": "present"}]}),
            "marks[0].student_id",
        ),
        (
            "/api/courses/CS101/sessions".to_string(),
            json!({"title": "L", "duration_minutes": 90}),
            "starts_at",
        ),
        ("/api/students".to_string(), json!({"id": "S7"}), "name"),
        (
            "/api/courses".to_string(),
            json!({"name": "Networks"}),
            "code",
        ),
        (
            "/api/auth/login".to_string(),
            json!({"username": "admin"}),
            "password",
        ),
    ];
    let failures = misnamed(&app, &cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let body = r#"{"title": "L", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": 90}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let response = app
            .send_raw(
                Method::POST,
                "/api/courses/CS101/sessions",
                Some(&app.admin),
                content_type,
                body,
            )
            .await;
        expect_problem(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
    // With a charset parameter it is JSON.
    let response = app
        .send_raw(
            Method::POST,
            "/api/courses/CS101/sessions",
            Some(&app.admin),
            Some("application/json; charset=utf-8"),
            body,
        )
        .await;
    expect_json(response, StatusCode::CREATED).await;
}

#[tokio::test]
async fn a_body_over_256_kib_is_a_413() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let remark = "x".repeat(300 * 1024);
    let body =
        json!({"session_id": session, "student_id": "S1", "status": "present", "remark": remark});
    let events = app.event_count().await;
    let response = app.post("/api/attendance", &app.admin, body.clone()).await;
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // The same with an Idempotency-Key (the key layer reads the body first).
    let response = app
        .request(Method::POST, "/api/attendance", Some(&app.admin))
        .header("Idempotency-Key", "big")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn malformed_ids_in_paths_are_400_and_write_nothing() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let long = "x".repeat(70);
    let bad_ids = ["CS.101", "*", "%3E", "CS%20101", long.as_str()];
    let events = app.event_count().await;
    let mut failures = Vec::new();
    for bad in bad_ids {
        let requests = [
            (Method::GET, format!("/api/courses/{bad}"), None),
            (Method::GET, format!("/api/students/{bad}"), None),
            (Method::GET, format!("/api/sessions/{bad}"), None),
            (
                Method::POST,
                format!("/api/courses/{bad}/enrollments"),
                Some(json!({"student_id": "S1"})),
            ),
            (
                Method::POST,
                format!("/api/courses/{bad}/sessions"),
                Some(
                    json!({"title": "L", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": 90}),
                ),
            ),
            (
                Method::POST,
                format!("/api/sessions/{bad}/close"),
                Some(json!({})),
            ),
            (
                Method::POST,
                format!("/api/sessions/{session}/attendance/{bad}/correction"),
                Some(json!({"status": "late", "reason": "typo"})),
            ),
            (
                Method::PUT,
                format!("/api/students/{bad}"),
                Some(json!({"name": "X"})),
            ),
            (Method::DELETE, format!("/api/students/{bad}"), None),
            (
                Method::DELETE,
                format!("/api/courses/CS101/enrollments/{bad}"),
                None,
            ),
        ];
        for (method, path, body) in requests {
            let mut request = app.request(method.clone(), &path, Some(&app.admin));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            let problem: serde_json::Value = response.json().await.unwrap_or_default();
            if status != StatusCode::BAD_REQUEST
                || problem["code"] != "invalid_parameter"
                || content_type.as_deref() != Some("application/problem+json")
            {
                failures.push(format!(
                    "{method} {path}: expected 400 invalid_parameter, got {status} {problem}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.event_count().await, events, "nothing written");
}

#[tokio::test]
async fn malformed_ids_in_bodies_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let events = app.event_count().await;
    let cases = [
        (
            "/api/students",
            json!({"id": "S.1", "name": "Dotted"}),
            "id",
        ),
        (
            "/api/courses",
            json!({"code": "CS>", "name": "Wildcard"}),
            "code",
        ),
        (
            "/api/courses/CS101/enrollments",
            json!({"student_id": "S 1"}),
            "student_id",
        ),
        (
            "/api/attendance",
            json!({"session_id": session, "student_id": "*", "status": "present"}),
            "student_id",
        ),
    ];
    let mut failures = Vec::new();
    for (path, body, field) in cases {
        let response = app.post(path, &app.admin, body.clone()).await;
        let status = response.status();
        let problem: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_client_error() || problem_fields(&problem) != [field] {
            failures.push(format!(
                "POST {path} {body}: expected 4xx naming {field}, got {status} {problem}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.event_count().await, events);
    let students = expect_json(app.get("/api/students", &app.admin).await, StatusCode::OK).await;
    assert_eq!(students.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_status_outside_the_set_is_a_422() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let events = app.event_count().await;
    for status in ["maybe", "PRESENT", "", "tardy"] {
        let response = app.record(&app.admin, &session, "S1", status).await;
        let problem = expect_problem(response, UNPROCESSABLE, "invalid_field").await;
        assert_eq!(problem_fields(&problem), ["status"], "{status}: {problem}");
    }
    let correction = app
        .post(
            &format!("/api/sessions/{session}/attendance/S1/correction"),
            &app.admin,
            json!({"status": "sick", "reason": "flu"}),
        )
        .await;
    let problem = expect_problem(correction, UNPROCESSABLE, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["status"]);
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn implausible_times_and_numbers_are_422() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    app.create_student("S1", "Ada").await;
    let events = app.event_count().await;
    let cases = [
        (
            "/api/courses/CS101/sessions",
            json!({"title": "L", "starts_at": "1900-09-07T09:00:00Z", "duration_minutes": 90}),
            "starts_at",
        ),
        (
            "/api/courses/CS101/sessions",
            json!({"title": "L", "starts_at": "+20026-09-07T09:00:00Z", "duration_minutes": 90}),
            "starts_at",
        ),
        (
            "/api/courses/CS101/sessions",
            json!({"title": "L", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": 0}),
            "duration_minutes",
        ),
        (
            "/api/courses/CS101/sessions",
            json!({"title": "L", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": -5}),
            "duration_minutes",
        ),
        (
            "/api/courses/CS101/sessions",
            json!({"title": "  ", "starts_at": "2026-09-07T09:00:00Z", "duration_minutes": 90}),
            "title",
        ),
        (
            "/api/courses/CS101/enrollments",
            json!({"student_id": "S1", "effective_from": "1900-01-01"}),
            "effective_from",
        ),
        (
            "/api/courses",
            json!({"code": "CS202", "name": "Networks", "credits": 500}),
            "credits",
        ),
        (
            "/api/students",
            json!({"id": "S2", "name": "Bea", "email": "not-an-address"}),
            "email",
        ),
    ];
    let failures = misnamed(&app, &cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = TestApp::spawn().await;
    let unknown = app.get("/api/nope", &app.admin).await;
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;
    let anonymous = app
        .request(Method::GET, "/nothing/here", None)
        .send()
        .await
        .unwrap();
    expect_problem(anonymous, StatusCode::NOT_FOUND, "not_found").await;
    let wrong_method = app.delete("/api/courses", &app.admin).await;
    expect_problem(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    let wrong_method = app.put("/api/attendance", &app.admin, json!({})).await;
    expect_problem(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_date_or_time_names_the_form_expected() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    app.create_student("S1", "Ada").await;
    let date = "expected a date like 2026-09-07";
    let time = "expected an RFC 3339 time like 2026-09-07T09:00:00Z";
    let bodies = [
        (
            "/api/courses/CS101/sessions",
            json!({"title": "L", "starts_at": "2026-09-07", "duration_minutes": 90}),
            time,
        ),
        (
            "/api/courses/CS101/sessions",
            json!({"title": "L", "starts_at": "next monday", "duration_minutes": 90}),
            time,
        ),
        (
            "/api/courses/CS101/enrollments",
            json!({"student_id": "S1", "effective_from": "2026-09"}),
            date,
        ),
        (
            "/api/courses/CS101/enrollments",
            json!({"student_id": "S1", "effective_from": "07/09/2026"}),
            date,
        ),
    ];
    for (path, body, form) in bodies {
        let problem = expect_problem(
            app.post(path, &app.admin, body.clone()).await,
            UNPROCESSABLE,
            "invalid_field",
        )
        .await;
        let detail = problem["errors"][0]["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with(form), "{body}: {problem}");
    }
    let queries = [
        ("/api/attendance?from=2026-9", date),
        ("/api/audit/events?from=yesterday", time),
        ("/api/courses/CS101/statistics?as_of=2026-09-07", time),
    ];
    for (path, form) in queries {
        let problem = expect_problem(
            app.get(path, &app.admin).await,
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        )
        .await;
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(form), "{path}: {problem}");
        assert!(
            !detail.contains("premature") && !detail.contains("invalid characters"),
            "{path}: {problem}"
        );
    }
}

#[tokio::test]
async fn a_path_with_a_trailing_slash_names_the_path_without_it() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    for (path, without) in [
        ("/api/courses/", "/api/courses"),
        (
            "/api/courses/CS101/sessions/",
            "/api/courses/CS101/sessions",
        ),
    ] {
        let problem = expect_problem(
            app.get(path, &app.admin).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("use {without}")),
            "{path}: {problem}"
        );
    }
    // The API documentation keeps its own slash.
    let docs = app
        .request(Method::GET, "/api/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_error_is_a_complete_problem_document() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    expect_json(
        app.record(&teacher, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    let responses = vec![
        app.request(Method::GET, "/api/courses", None)
            .send()
            .await
            .unwrap(),
        app.get("/api/users", &teacher).await,
        app.get("/api/courses/NOPE", &app.admin).await,
        app.record(&teacher, &session, "S1", "absent").await,
        app.post("/api/courses", &app.admin, json!({"code": "X"}))
            .await,
        app.get("/api/courses/a.b", &app.admin).await,
        app.send_raw(Method::POST, "/api/courses", Some(&app.admin), JSON, "{")
            .await,
        app.get("/api/nope", &app.admin).await,
        app.delete("/api/courses", &app.admin).await,
        app.login("admin", "wrong-password").await,
    ];
    for response in responses {
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let body: serde_json::Value = response.json().await.expect("a JSON body");
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{status}: {body}"
        );
        assert_eq!(body["status"], status.as_u16(), "{body}");
        for key in ["type", "title", "detail", "code"] {
            assert!(
                body[key].as_str().is_some_and(|v| !v.is_empty()),
                "{status}: `{key}` missing in {body}"
            );
        }
        assert!(
            !body.to_string().to_lowercase().contains("sqlx"),
            "no internals: {body}"
        );
    }
}
