//! Reports in CSV, XLSX and PDF, read back and checked against the statistics.

use crate::helpers::{TestApp, attendance_binary, expect_json, expect_problem, postgres_base};
use crate::read_side::{marked_course, read};
use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::json;
use std::io::Cursor;

/// Downloads a report after the statistics reflect `position`.
async fn download(
    app: &TestApp,
    path: &str,
    token: &str,
    position: i64,
) -> (StatusCode, String, String, Vec<u8>) {
    read(app, "/api/courses/CS101/statistics", &app.admin, position).await;
    read(app, "/api/attendance/course/CS101", &app.admin, position).await;
    let response = app.get(path, token).await;
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (kind, disposition) = (header("content-type"), header("content-disposition"));
    (
        status,
        kind,
        disposition,
        response.bytes().await.unwrap().to_vec(),
    )
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn row<'a>(rows: &'a [Vec<String>], first: &str) -> &'a Vec<String> {
    rows.iter()
        .find(|r| r.first().map(String::as_str) == Some(first))
        .unwrap_or_else(|| panic!("no row {first}"))
}

#[tokio::test]
async fn the_formats_are_listed_and_an_unknown_one_is_refused_with_the_list() {
    let app = TestApp::spawn().await;
    let formats = expect_json(
        app.get("/api/reports/formats", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<_> = formats["formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].clone())
        .collect();
    assert_eq!(names, [json!("csv"), json!("pdf"), json!("xlsx")]);
    assert_eq!(
        (
            formats["default"].clone(),
            formats["aliases"]["excel"].clone()
        ),
        (json!("pdf"), json!("xlsx"))
    );
    app.course_with_session().await;
    let bad = app
        .get("/api/reports/course/CS101?format=docx", &app.admin)
        .await;
    let problem = expect_problem(bad, StatusCode::BAD_REQUEST, "unknown_format").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("csv, pdf, xlsx"),
        "{problem}"
    );
}

#[tokio::test]
async fn the_course_report_in_csv_has_the_matrix_the_counts_and_the_totals() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    let (status, kind, disposition, bytes) = download(
        &app,
        "/api/reports/course/CS101?format=csv",
        &app.admin,
        position,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/csv"));
    assert!(
        disposition.starts_with("attachment; filename=\"course-CS101-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let rows = csv_rows(&bytes);
    // One table for spreadsheets and pandas: the header on line 1, every row as wide.
    assert_eq!(rows[0][..2], ["student_id", "name"]);
    assert_eq!(rows[0][2], "2026-09-07 09:00 Lecture 1");
    assert_eq!(rows.len(), 4, "a header and three students: {rows:?}");
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{rows:?}");
    // student_id, name, three session columns, present, late, excused, absent, rate, at_risk
    assert_eq!(
        row(&rows, "S1")[2..],
        ["P", "P", "L", "2", "1", "0", "0", "100.00", "no"]
    );
    assert_eq!(
        row(&rows, "S2")[2..],
        ["L", "A", "A", "0", "1", "0", "2", "33.33", "yes"]
    );
    assert_eq!(
        row(&rows, "S3")[1..],
        ["李小龙", "A", "E", "", "0", "0", "1", "1", "0.00", "yes"]
    );
}

#[tokio::test]
async fn the_course_report_in_xlsx_has_numbers_and_percentages_not_text() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    // `excel` is accepted for the seed system's clients.
    let (status, kind, _, bytes) = download(
        &app,
        "/api/reports/course/CS101?format=excel",
        &app.admin,
        position,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.contains("spreadsheetml"));
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("Course").unwrap();
    let s2 = sheet
        .rows()
        .find(|r| r.first() == Some(&Data::String("S2".into())))
        .unwrap()
        .to_vec();
    // present, late, excused, absent as numbers after the three session columns, then the rate.
    assert_eq!(
        s2[2..5],
        [
            Data::String("L".into()),
            Data::String("A".into()),
            Data::String("A".into())
        ]
    );
    assert_eq!(
        s2[5..9],
        [
            Data::Float(0.0),
            Data::Float(1.0),
            Data::Float(0.0),
            Data::Float(2.0)
        ]
    );
    match &s2[9] {
        Data::Float(rate) => assert!((rate - 0.3333).abs() < 1e-9, "{rate}"),
        other => panic!("rate is not a number: {other:?}"),
    }
}

#[tokio::test]
async fn the_student_report_lists_each_session_with_who_when_and_corrections() {
    let app = TestApp::spawn().await;
    let (sessions, _) = marked_course(&app).await;
    let path = format!("/api/sessions/{}/attendance/S2/correction", sessions[1]);
    let done = expect_json(
        app.post(
            &path,
            &app.admin,
            json!({"status": "excused", "reason": "sick note"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let position = done["position"].as_i64().unwrap();
    let (status, _, disposition, bytes) = download(
        &app,
        "/api/reports/student/S2?course_id=CS101&format=csv",
        &app.admin,
        position,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        disposition.starts_with("attachment; filename=\"attendance-S2-CS101-"),
        "who and which course are in the file name: {disposition}"
    );
    let rows = csv_rows(&bytes);
    assert_eq!(
        rows[0],
        [
            "date",
            "session",
            "status",
            "recorded_at",
            "recorded_by",
            "corrected",
            "correction_reason"
        ]
    );
    assert_eq!(rows.len(), 4, "a header and three sessions: {rows:?}");
    let corrected = row(&rows, "2026-09-14");
    assert_eq!(
        (
            corrected[2].as_str(),
            corrected[4].as_str(),
            corrected[5].as_str(),
            corrected[6].as_str()
        ),
        ("excused", "admin", "yes", "sick note")
    );

    let (_, own) = app.create_user("s2", "student", Some("S2")).await;
    assert_eq!(
        app.get("/api/reports/student/S2?course_id=CS101&format=csv", &own)
            .await
            .status(),
        StatusCode::OK
    );
    let (_, other) = app.create_user("s1", "student", Some("S1")).await;
    let refused = app
        .get("/api/reports/student/S2?course_id=CS101&format=csv", &other)
        .await;
    expect_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn the_at_risk_report_gives_levels_and_the_as_of_course_report_shows_the_old_value() {
    let app = TestApp::spawn().await;
    let (sessions, position) = marked_course(&app).await;
    let (_, _, _, bytes) = download(
        &app,
        "/api/reports/at-risk?course_id=CS101&format=csv",
        &app.admin,
        position,
    )
    .await;
    let rows = csv_rows(&bytes);
    assert_eq!(
        rows[0][..2],
        ["course_id", "student_id"],
        "the header on line 1"
    );
    // S3 0 % and S2 33.33 %: both below 50 %, critical; S1 is not at risk.
    assert_eq!(
        row(&rows, "CS101")[1..],
        ["S3", "李小龙", "0", "0", "1", "1", "0.00", "critical"]
    );
    assert!(
        rows.iter()
            .all(|r| r.get(1).map(String::as_str) != Some("S1"))
    );
    let moderate = app
        .get(
            "/api/reports/at-risk?course_id=CS101&format=csv&threshold=101",
            &app.admin,
        )
        .await;
    expect_problem(moderate, StatusCode::BAD_REQUEST, "invalid_parameter").await;

    let between: String = sqlx::query_scalar(
        "SELECT to_char(max(recorded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM events",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let path = format!("/api/sessions/{}/attendance/S1/correction", sessions[0]);
    expect_json(
        app.post(
            &path,
            &app.admin,
            json!({"status": "absent", "reason": "left early"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (_, _, disposition, then) = download(
        &app,
        &format!("/api/reports/course/CS101?format=csv&as_of={between}"),
        &app.admin,
        position,
    )
    .await;
    assert!(
        disposition.contains("course-CS101-as-of-"),
        "the file name says when the figures are as of: {disposition}"
    );
    assert_eq!(
        row(&csv_rows(&then), "S1")[2],
        "P",
        "as it stood before the correction"
    );
}

#[tokio::test]
async fn the_pdf_course_report_carries_the_same_ids_and_rates() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    let (status, kind, disposition, bytes) = download(
        &app,
        "/api/reports/course/CS101?format=pdf",
        &app.admin,
        position,
    )
    .await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/pdf"));
    assert!(disposition.ends_with(".pdf\""));
    let pdf = lopdf::Document::load_mem(&bytes).expect("a readable PDF");
    let pages: Vec<u32> = pdf.get_pages().keys().copied().collect();
    let text = pdf.extract_text(&pages).unwrap_or_default();
    for expected in ["CS101", "S1", "S2", "S3", "100", "33.33"] {
        assert!(
            text.contains(expected),
            "missing {expected} in PDF text: {text}"
        );
    }
}

#[tokio::test]
async fn the_report_command_writes_the_same_csv_offline() {
    let app = TestApp::spawn().await;
    let (_, position) = marked_course(&app).await;
    let (_, _, _, online) = download(
        &app,
        "/api/reports/course/CS101?format=csv",
        &app.admin,
        position,
    )
    .await;
    let out = std::env::temp_dir().join(format!("course-{}.csv", uuid::Uuid::new_v4()));
    let status = std::process::Command::new(attendance_binary())
        .args(["report", "course", "CS101", "--format", "csv", "-o"])
        .arg(&out)
        .env(
            "DATABASE_URL",
            format!("{}/{}", postgres_base(), app.database),
        )
        .status()
        .unwrap();
    assert!(status.success());
    let offline = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    assert_eq!(csv_rows(&offline), csv_rows(&online));
}
