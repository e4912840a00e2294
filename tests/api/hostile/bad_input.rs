//! Bad input that `input.rs` does not try: bodies of megabytes and deep nesting, hostile ids
//! in every path parameter of the document, marks across courses, dates out of range. Each
//! gets a clear problem document and changes nothing.

use super::support::{Answer, Counts, Ids, Kind, assert_none, encode, openapi, operations, send};
use crate::helpers::{TestApp, expect_json, expect_problem, problem_fields};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const JSON: Option<&str> = Some("application/json");

#[tokio::test]
async fn a_10_mb_body_or_100000_nested_arrays_change_nothing() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let events = app.event_count().await;
    let remark = "x".repeat(10 * 1024 * 1024);
    let huge =
        json!({"session_id": session, "student_id": "S1", "status": "present", "remark": remark});
    let marked = app.post("/api/attendance", &app.admin, huge.clone()).await;
    expect_problem(marked, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // The login route, open to anyone, refuses it the same way.
    let login = app
        .request(Method::POST, "/api/auth/login", None)
        .json(&json!({"username": "admin", "password": remark}))
        .send()
        .await
        .expect("request sent");
    expect_problem(login, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Deep nesting within the size limit is refused as input, not by a stack overflow.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let path = format!("/api/sessions/{session}/attendance");
    for path in [path.as_str(), "/api/auth/login"] {
        let answer = Answer::of(
            app.send_raw(Method::POST, path, Some(&app.admin), JSON, nested.clone())
                .await,
        )
        .await;
        let refused = matches!(answer.status.as_u16(), 400 | 422);
        assert!(refused && answer.flaw().is_none(), "{path}: {answer:?}");
    }
    assert_eq!(app.event_count().await, events, "nothing written");
    // The server is still there.
    expect_json(
        app.record(&app.admin, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
}

/// Values no path parameter accepts: 1,000 characters, bytes that are not UTF-8, and the
/// characters a NATS subject or a file path would misread.
pub fn hostile_ids() -> Vec<String> {
    let mut ids: Vec<String> = ["CS.101", "*", ">", "CS 101", "S1/../S2", "\u{0}"]
        .iter()
        .map(|v| encode(v))
        .collect();
    ids.push(encode(&"x".repeat(1000)));
    ids.push("%FF%FE%C3%28".to_string());
    ids
}

/// One request of [`probe_path_params`].
pub struct Probe {
    /// Method and path, for messages.
    pub request: String,
    /// What the parameter holds.
    pub kind: Kind,
    /// The value tried (encoded).
    pub value: String,
    /// The answer.
    pub answer: Answer,
}

/// Sends every operation of the document with each of `values` (already encoded) in each
/// path parameter in turn, the other parameters real and the body valid.
pub async fn probe_path_params(app: &TestApp, ids: &Ids, values: &[String]) -> Vec<Probe> {
    let doc = openapi(app).await;
    let mut probes = Vec::new();
    for op in operations(&doc) {
        for param in op.path_params() {
            let (_, kind) = ids.value_for(&op.template, &param);
            for value in values {
                let path = ids.fill(&op.template, Some((&param, value)));
                let body = ids.valid_body(&op);
                let (method, token) = (op.method.clone(), Some(app.admin.as_str()));
                probes.push(Probe {
                    request: format!("{method} {path}"),
                    kind,
                    value: value.clone(),
                    answer: send(app, method, &path, token, body.as_ref()).await,
                });
            }
        }
    }
    probes
}

#[tokio::test]
async fn hostile_ids_in_every_path_parameter_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let ids = Ids::seed(&app).await;
    let before = Counts::of(&app).await;
    let students = app.get("/api/students", &app.admin).await.text().await;
    let probes = probe_path_params(&app, &ids, &hostile_ids()).await;
    let mut failures = Vec::new();
    for Probe {
        request,
        kind,
        answer,
        ..
    } in &probes
    {
        let expected = match kind {
            Kind::Checked => {
                answer.status == StatusCode::BAD_REQUEST && answer.code() == "invalid_parameter"
            }
            // A user id is looked up as given; nobody has these.
            Kind::Looked => matches!(answer.status.as_u16(), 400 | 404 | 409),
        };
        if let Some(flaw) = answer.flaw() {
            failures.push(format!("{request}: {flaw}"));
        } else if !expected {
            failures.push(format!("{request}: {} {}", answer.status, answer.body));
        }
    }
    assert_none("hostile path ids", &failures);
    assert!(probes.len() > 200, "only {} requests", probes.len());
    assert_eq!(Counts::of(&app).await, before, "nothing written");
    let after = app.get("/api/students", &app.admin).await.text().await;
    assert_eq!(students.unwrap(), after.unwrap(), "no student changed");
}

/// Sends each case as `token`; returns every answer that is not the expected problem.
async fn refused(
    app: &TestApp,
    token: &str,
    cases: &[(Method, String, Value, u16, &str)],
) -> Vec<String> {
    let mut failures = Vec::new();
    for (method, path, body, status, code) in cases {
        let answer = send(app, method.clone(), path, Some(token), Some(body)).await;
        if answer.flaw().is_some() || answer.status.as_u16() != *status || answer.code() != *code {
            failures.push(format!(
                "{method} {path} {body}: expected {status} {code}, got {} {}",
                answer.status, answer.body
            ));
        }
    }
    failures
}

#[tokio::test]
async fn marks_across_courses_and_for_students_off_the_roster_change_nothing() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    app.create_course("CS202").await;
    app.create_student("S4", "Kofi Mensah").await;
    app.enroll("CS202", "S4", "2026-09-01").await;
    let other = app
        .schedule("CS202", "Networks 1", "2026-09-08T09:00:00Z")
        .await;
    let events = app.event_count().await;
    let post = Method::POST;
    let cases = [
        // A session of CS202 named as CS101's, and the other way round.
        (
            post.clone(),
            "/api/attendance".to_string(),
            json!({"course_id": "CS101", "session_id": other, "student_id": "S4", "status": "present"}),
            422,
            "invalid_field",
        ),
        (
            post.clone(),
            "/api/attendance".to_string(),
            json!({"course_id": "CS202", "session_id": session, "student_id": "S1", "status": "present"}),
            422,
            "invalid_field",
        ),
        // CS202 has no session on CS101's day.
        (
            post.clone(),
            "/api/attendance".to_string(),
            json!({"course_id": "CS202", "date": "2026-09-07", "student_id": "S1", "status": "present"}),
            404,
            "not_found",
        ),
        // S4 is enrolled, but in CS202 only.
        (
            post.clone(),
            "/api/attendance".to_string(),
            json!({"session_id": session, "student_id": "S4", "status": "present"}),
            409,
            "not_on_roster",
        ),
        (
            post.clone(),
            "/api/attendance".to_string(),
            json!({"course_id": "CS202", "date": "2026-09-08", "student_id": "S1", "status": "present"}),
            409,
            "not_on_roster",
        ),
        (
            post.clone(),
            format!("/api/sessions/{session}/attendance"),
            json!({"marks": [{"student_id": "S1", "status": "present"}, {"student_id": "S4", "status": "late"}]}),
            422,
            "roll_call_refused",
        ),
        (
            post.clone(),
            format!("/api/sessions/{session}/attendance/S4/correction"),
            json!({"status": "late", "reason": "wrong course"}),
            409,
            "not_on_roster",
        ),
        (
            post.clone(),
            format!("/api/sessions/{other}/review/S1"),
            json!({"status": "late"}),
            404,
            "not_found",
        ),
    ];
    let failures = refused(&app, &app.admin, &cases).await;
    assert_none("cross-course marks", &failures);
    assert_eq!(app.event_count().await, events, "nothing written");
    assert!(
        app.events_of("register", &session).await.is_empty(),
        "register not opened"
    );
    assert!(
        app.events_of("register", &other).await.is_empty(),
        "register not opened"
    );
}

#[tokio::test]
async fn dates_out_of_range_are_refused_naming_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    app.create_student("S5", "Late Joiner").await;
    let events = app.event_count().await;
    let (post, delete) = (Method::POST, Method::DELETE);
    let enrol = "/api/courses/CS101/enrollments".to_string();
    let schedule = "/api/courses/CS101/sessions".to_string();
    let mut cases = Vec::new();
    for day in [
        "2101-01-01",
        "1999-12-31",
        "2026-02-30",
        "+99999-01-01",
        "0000-01-01",
    ] {
        cases.push((
            post.clone(),
            enrol.clone(),
            json!({"student_id": "S5", "effective_from": day}),
            "effective_from",
        ));
        cases.push((
            post.clone(),
            "/api/attendance".into(),
            json!({"course_id": "CS101", "date": day, "student_id": "S1", "status": "present"}),
            "date",
        ));
        cases.push((
            delete.clone(),
            format!("{enrol}/S1?effective_from={}", encode(day)),
            Value::Null,
            "effective_from",
        ));
    }
    for time in [
        "2101-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z",
        "2026-09-07T25:00:00Z",
        "2026-09-07T09:00:00+25:00",
    ] {
        let body = json!({"title": "L", "starts_at": time, "duration_minutes": 60});
        cases.push((post.clone(), schedule.clone(), body, "starts_at"));
    }
    let mut failures = Vec::new();
    for (method, path, body, field) in &cases {
        let body = (!body.is_null()).then_some(body);
        let answer = send(&app, method.clone(), path, Some(&app.admin), body).await;
        // A body field is named in `errors`; a query parameter, or a day no session has,
        // in `detail`.
        let detail = answer.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let value = body.and_then(|b| b[*field].as_str()).unwrap_or_default();
        let named = problem_fields(&answer.json()).iter().any(|f| f == field)
            || detail.contains(field)
            || (!value.is_empty() && detail.contains(value));
        if answer.flaw().is_some() || !matches!(answer.status.as_u16(), 400 | 404 | 422) || !named {
            failures.push(format!(
                "{method} {path} {body:?}: expected a 4xx naming {field}, got {} {}",
                answer.status, answer.body
            ));
        }
    }
    assert_none("dates out of range", &failures);
    assert_eq!(app.event_count().await, events, "nothing written");
    assert!(app.events_of("register", &session).await.is_empty());
}

#[tokio::test]
async fn reads_with_dates_at_the_ends_of_time_are_answered_not_crashed() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    expect_json(
        app.record(&app.admin, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    let days = ["0001-01-01", "+262143-12-31", "-262143-01-01", "9999-12-31"];
    let times = [
        "0001-01-01T00:00:00Z",
        "-4714-11-23T00:00:00Z",
        "+262143-12-31T23:59:59Z",
        "9999-12-31T23:59:59Z",
    ];
    let mut paths = Vec::new();
    for day in days.map(encode) {
        paths.push(format!("/api/attendance?from={day}"));
        paths.push(format!("/api/attendance?to={day}"));
    }
    for time in times.map(encode) {
        paths.push(format!("/api/audit/events?from={time}"));
        paths.push(format!("/api/audit/events?to={time}"));
        paths.push(format!("/api/courses/CS101/statistics?as_of={time}"));
        paths.push(format!("/api/courses/CS101/at-risk?as_of={time}"));
        paths.push(format!("/api/reports/course/CS101?format=csv&as_of={time}"));
        paths.push(format!(
            "/api/reports/student/S1?course_id=CS101&format=csv&as_of={time}"
        ));
    }
    let mut failures = Vec::new();
    for path in &paths {
        let answer = send(&app, Method::GET, path, Some(&app.admin), None).await;
        if let Some(flaw) = answer.flaw() {
            failures.push(format!("GET {path}: {flaw}"));
        }
    }
    assert_none("reads at the ends of time", &failures);
}
