//! SQL injection: classic payloads in every string the API takes (path ids, query filters,
//! login names and passwords, names and reasons in bodies) are data, never SQL. Nothing is
//! dropped, nothing is matched by a wildcard, and text round-trips exactly.

use super::bad_input::{Probe, probe_path_params};
use super::support::{Counts, Ids, Operation, assert_none, encode, openapi, operations, send};
use crate::helpers::{TestApp, expect_json, wait_until};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

/// The payloads: quotes, statement breaks, dollar quoting, LIKE wildcards, unicode. (The NUL
/// byte has its own test below.)
pub const PAYLOADS: [&str; 8] = [
    "' OR '1'='1",
    "'; DROP TABLE events; --",
    "\\\"",
    "\" OR \"\"=\"",
    "$$; DROP TABLE students; $$",
    "%",
    "_",
    "Zoë 李小龙 \u{202e}🚀",
];

/// A value for a required query parameter that is not the one under test.
fn default_for(name: &str) -> &'static str {
    match name {
        "course_id" => "CS101",
        "format" => "csv",
        _ => panic!("no default for the required query parameter {name}"),
    }
}

/// Every query parameter of every operation of the document, with each payload (required
/// ones otherwise real, bodies valid); returns the failures and how many requests were sent.
async fn probe_query_params(app: &TestApp, ids: &Ids, ops: &[Operation]) -> (Vec<String>, usize) {
    let (mut failures, mut sent) = (Vec::new(), 0);
    for op in ops {
        let path = ids.fill(&op.template, None);
        let params = op.query_params();
        for (name, _) in &params {
            for payload in PAYLOADS {
                let mut query = vec![format!("{name}={}", encode(payload))];
                query.extend(
                    params
                        .iter()
                        .filter(|(other, required)| *required && other != name)
                        .map(|(other, _)| format!("{other}={}", default_for(other))),
                );
                let url = format!("{path}?{}", query.join("&"));
                let body = ids.valid_body(op);
                let token = Some(app.admin.as_str());
                let answer = send(app, op.method.clone(), &url, token, body.as_ref()).await;
                sent += 1;
                if let Some(flaw) = answer.flaw() {
                    failures.push(format!("{} {url}: {flaw}", op.method));
                }
            }
        }
    }
    (failures, sent)
}

/// Logs in with each payload as the username (and as the password of a real account):
/// always a 401 or 429, never a token.
async fn probe_login(app: &TestApp) -> Vec<String> {
    let mut failures = Vec::new();
    let mut attempts = Vec::new();
    for payload in PAYLOADS {
        attempts.push((payload.to_string(), "whatever-password".to_string()));
        attempts.push((
            format!("admin{payload}"),
            crate::helpers::ADMIN_PASSWORD.to_string(),
        ));
        attempts.push(("hostile-teacher".to_string(), payload.to_string()));
    }
    attempts.push(("admin' --".into(), "x".into()));
    for (username, password) in attempts {
        let answer = super::support::Answer::of(app.login(&username, &password).await).await;
        let refused = matches!(answer.status.as_u16(), 401 | 429);
        if answer.flaw().is_some() || !refused {
            failures.push(format!(
                "login {username:?}/{password:?}: {} {}",
                answer.status, answer.body
            ));
        }
    }
    failures
}

#[tokio::test]
async fn payloads_in_paths_queries_and_logins_change_nothing() {
    let app = TestApp::spawn().await;
    let ids = Ids::seed(&app).await;
    let before = Counts::of(&app).await;
    let doc = openapi(&app).await;
    let ops = operations(&doc);
    let encoded: Vec<String> = PAYLOADS.iter().map(|p| encode(p)).collect();
    let mut failures: Vec<String> = probe_path_params(&app, &ids, &encoded)
        .await
        .into_iter()
        .filter_map(
            |Probe {
                 request,
                 value,
                 answer,
                 ..
             }| {
                // `_` is a valid id: it may be read (and matches nothing, see below).
                let accepted = answer.status.is_success() && value != "_";
                answer
                    .flaw()
                    .or(accepted.then(|| answer.body.clone()))
                    .map(|f| format!("{request}: {f}"))
            },
        )
        .collect();
    let (query_failures, sent) = probe_query_params(&app, &ids, &ops).await;
    assert!(
        sent > 200,
        "query parameters are documented: only {sent} requests"
    );
    failures.extend(query_failures);
    failures.extend(probe_login(&app).await);
    assert_none("injection payloads", &failures);
    assert_eq!(
        Counts::of(&app).await,
        before,
        "every table there, no row or event added"
    );
}

#[tokio::test]
async fn payloads_in_names_and_reasons_are_stored_as_text_exactly() {
    let app = TestApp::spawn().await;
    let ids = Ids::seed(&app).await;
    let before = Counts::of(&app).await;
    let mut failures = Vec::new();
    let mut written = 0;
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let status = if i % 2 == 0 { "late" } else { "present" };
        // Usernames with invisible characters are refused by design (issue 23, item 8).
        let refused_name = api::auth::username::key(&format!("u{i}{payload}")).is_err();
        let writes = [
            (
                "/api/students".to_string(),
                json!({"id": format!("INJ{i}"), "name": payload, "department": payload}),
                format!("/api/students/INJ{i}"),
                "name",
                0,
            ),
            (
                "/api/courses".to_string(),
                json!({"code": format!("INJ{i}"), "name": payload, "semester": payload}),
                format!("/api/courses/INJ{i}"),
                "name",
                1,
            ),
            (
                "/api/users".to_string(),
                json!({"username": format!("u{i}{payload}"), "password": format!("{payload}-long-enough"), "role": "teacher"}),
                String::new(),
                "username",
                0,
            ),
            (
                format!("/api/sessions/{}/attendance/S1/correction", ids.session),
                json!({"status": status, "reason": payload}),
                String::new(),
                "reason",
                1,
            ),
        ];
        for (path, body, read_back, field, events) in writes {
            let answer = send(&app, Method::POST, &path, Some(&app.admin), Some(&body)).await;
            if let Some(flaw) = answer.flaw() {
                failures.push(format!("POST {path} {body}: {flaw}"));
                continue;
            }
            if path == "/api/users" && refused_name {
                if answer.status != StatusCode::UNPROCESSABLE_ENTITY {
                    failures.push(format!("POST {path} {body}: {} not 422", answer.status));
                }
                continue;
            }
            if !answer.status.is_success() {
                failures.push(format!(
                    "POST {path} {body}: refused {} {}",
                    answer.status, answer.body
                ));
                continue;
            }
            written += events;
            if !read_back.is_empty() {
                let stored =
                    expect_json(app.get(&read_back, &app.admin).await, StatusCode::OK).await;
                if stored[field] != body[field] {
                    failures.push(format!(
                        "{read_back}: {field} stored as {}, sent {}",
                        stored[field], body[field]
                    ));
                }
            }
        }
        let login = app
            .login(&format!("u{i}{payload}"), &format!("{payload}-long-enough"))
            .await;
        if !refused_name && login.status() != StatusCode::OK {
            failures.push(format!(
                "the account named u{i}{payload:?} cannot log in: {}",
                login.status()
            ));
        }
    }
    assert_none("payloads as text", &failures);
    let n = PAYLOADS.len() as i64;
    let refused = (0..PAYLOADS.len())
        .filter(|i| api::auth::username::key(&format!("u{i}{}", PAYLOADS[*i])).is_err())
        .count() as i64;
    let expected = Counts {
        events: before.events + written,
        students: before.students + n,
        users: before.users + n - refused,
        ..before
    };
    assert_eq!(
        Counts::of(&app).await,
        expected,
        "one event per course and correction"
    );
}

#[tokio::test]
async fn wildcards_and_quotes_in_filters_match_nothing() {
    let app = TestApp::spawn().await;
    let ids = Ids::seed(&app).await;
    // S1 is marked by the seed already: 200 "Already recorded"; the others are new.
    for (student, status) in [
        ("S1", StatusCode::OK),
        ("S2", StatusCode::CREATED),
        ("S3", StatusCode::CREATED),
    ] {
        expect_json(
            app.record(&app.admin, &ids.session, student, "present")
                .await,
            status,
        )
        .await;
    }
    // The history lists an event once no older transaction is open anywhere on the cluster.
    let recorded = "/api/audit/events?type=AttendanceRecorded";
    wait_until(Duration::from_secs(20), || async {
        let page = expect_json(app.get(recorded, &app.admin).await, StatusCode::OK).await;
        page["events"].as_array().map_or(0, Vec::len) == 3
    })
    .await;
    let position = app.latest_position().await;
    let wait = format!("min_position={position}&wait_ms=20000");
    let all = expect_json(
        app.get(&format!("/api/attendance?{wait}"), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all["total"], 3, "three marks: {all}");
    let mut failures = Vec::new();
    // `_` is a valid id character: the filter must compare, not pattern-match.
    for filter in ["student_id", "course_id", "session_id"] {
        let path = format!("/api/attendance?{filter}=_&{wait}");
        let page = expect_json(app.get(&path, &app.admin).await, StatusCode::OK).await;
        if page["total"] != 0 {
            failures.push(format!("GET {path}: {} records match", page["total"]));
        }
    }
    for payload in ["%", "_", "%%", "' OR '1'='1", "Attendance%"] {
        let path = format!("/api/audit/events?type={}", encode(payload));
        let page = expect_json(app.get(&path, &app.admin).await, StatusCode::OK).await;
        let matched = page["events"].as_array().map_or(0, Vec::len);
        if matched != 0 {
            failures.push(format!("GET {path}: {matched} events match"));
        }
    }
    assert_none("wildcards in filters", &failures);
}

/// Postgres text cannot hold a NUL byte, so text with one must be refused as input (422,
/// or 401 at login), never reach the database as a 500.
#[tokio::test]
async fn a_nul_byte_in_any_text_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let ids = Ids::seed(&app).await;
    let before = Counts::of(&app).await;
    let nul = "nul\u{0}byte";
    let session = &ids.session;
    let writes = [
        (
            "/api/students".to_string(),
            json!({"id": "NUL1", "name": nul}),
        ),
        (
            "/api/courses".to_string(),
            json!({"code": "NUL1", "name": nul}),
        ),
        (
            "/api/users".to_string(),
            json!({"username": nul, "password": "long-enough-pw", "role": "teacher"}),
        ),
        (
            "/api/courses/CS101/sessions".to_string(),
            json!({"title": nul, "starts_at": "2026-10-01T09:00:00Z", "duration_minutes": 60}),
        ),
        (
            "/api/attendance".to_string(),
            json!({"session_id": session, "student_id": "S2", "status": "late", "remark": nul}),
        ),
        (
            format!("/api/sessions/{session}/attendance/S1/correction"),
            json!({"status": "late", "reason": nul}),
        ),
        (
            "/api/auth/login".to_string(),
            json!({"username": nul, "password": "whatever-password"}),
        ),
        (
            "/api/auth/login".to_string(),
            json!({"username": "admin", "password": nul}),
        ),
    ];
    let mut failures = Vec::new();
    for (path, body) in &writes {
        let answer = send(&app, Method::POST, path, Some(&app.admin), Some(body)).await;
        if answer.flaw().is_some() || !answer.status.is_client_error() {
            failures.push(format!(
                "POST {path} {body}: {} {}",
                answer.status, answer.body
            ));
        }
    }
    assert_none("NUL bytes in text", &failures);
    assert_eq!(Counts::of(&app).await, before, "nothing written");
}
