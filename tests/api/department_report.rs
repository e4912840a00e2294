//! The seed system's department report (issue 18) in CSV, XLSX and PDF, read back and
//! checked against the data: per course its students, average rate and at-risk count, and
//! the department's totals; no CSV cell starts a formula.

use crate::helpers::{TestApp, expect_json, expect_problem};
use crate::read_side::marked_course;
use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::json;
use std::io::Cursor;

/// CS101 (marked_course) and CS102 in Computer Science, MA101 in Mathematics.
///
/// CS101: S1 present, present, late = 100 %; S2 late, absent, absent = 33.33 %; S3 absent,
/// excused (not counted) = 0 %. Average (100 + 33.33 + 0) / 3 = 44.44; S2 and S3 at risk.
/// CS102: S1 present = 100 %, none at risk. Department: 3 distinct students, 4 enrolments,
/// average (100 + 33.33 + 0 + 100) / 4 = 58.33, 2 at risk.
async fn department(app: &TestApp) -> i64 {
    marked_course(app).await;
    for (code, department) in [
        ("CS101", "Computer Science"),
        ("CS102", "Computer Science"),
        ("MA101", "Mathematics"),
    ] {
        if code != "CS101" {
            app.create_course(code).await;
        }
        // CS102's name would be a formula in a spreadsheet: the CSV quotes it.
        let name = match code {
            "CS102" => "=HYPERLINK(\"http://x\")".to_string(),
            _ => format!("Course {code}"),
        };
        let body = json!({"name": name, "department": department});
        expect_json(
            app.put(&format!("/api/courses/{code}"), &app.admin, body)
                .await,
            StatusCode::OK,
        )
        .await;
    }
    app.enroll("CS102", "S1", "2026-09-01").await;
    app.enroll("MA101", "S2", "2026-09-01").await;
    let session = app
        .schedule("CS102", "Lecture 1", "2026-09-08T09:00:00Z")
        .await;
    expect_json(
        app.record(&app.admin, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;
    app.latest_position().await
}

async fn download(app: &TestApp, format: &str, position: i64) -> (String, Vec<u8>) {
    let path = format!(
        "/api/reports/department/Computer%20Science?format={format}&min_position={position}&wait_ms=20000"
    );
    let response = app.get(&path, &app.admin).await;
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (kind, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn the_department_report_in_csv_xlsx_and_pdf_has_the_figures_of_the_data() {
    let app = TestApp::spawn().await;
    let position = department(&app).await;

    let (kind, csv) = download(&app, "csv", position).await;
    assert!(kind.starts_with("text/csv"));
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(
        rows,
        [
            ["CS101", "Course CS101", "no", "3", "3", "44.44", "2"],
            [
                "CS102",
                "'=HYPERLINK(\"http://x\")",
                "no",
                "1",
                "1",
                "100.00",
                "0"
            ],
        ]
        .map(|r| r.map(String::from).to_vec())
    );

    let (_, xlsx) = download(&app, "xlsx", position).await;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx)).unwrap();
    let sheet = book.worksheet_range("Department").unwrap();
    let line = |first: &str| {
        sheet
            .rows()
            .find(|r| r.first() == Some(&Data::String(first.into())))
            .unwrap_or_else(|| panic!("no row {first}"))
            .to_vec()
    };
    let cs101 = line("CS101");
    assert_eq!(cs101[4], Data::Float(3.0));
    assert!(
        matches!(cs101[5], Data::Float(r) if (r - 0.4444).abs() < 1e-9),
        "{cs101:?}"
    );
    assert_eq!(cs101[6], Data::Float(2.0));
    let total = line("Total");
    assert_eq!(total[4], Data::Float(3.0), "distinct students");
    assert!(
        matches!(total[5], Data::Float(r) if (r - 0.5833).abs() < 1e-9),
        "{total:?}"
    );
    assert_eq!(total[6], Data::Float(2.0));

    let (kind, pdf) = download(&app, "pdf", position).await;
    assert_eq!(kind, "application/pdf");
    let pdf = lopdf::Document::load_mem(&pdf).expect("a readable PDF");
    let pages: Vec<u32> = pdf.get_pages().keys().copied().collect();
    let text = pdf.extract_text(&pages).unwrap_or_default();
    for expected in [
        "Computer Science",
        "CS101",
        "CS102",
        "44.44",
        "58.33",
        "Total",
    ] {
        assert!(
            text.contains(expected),
            "missing {expected} in PDF text: {text}"
        );
    }
    assert!(
        !text.contains("MA101"),
        "another department's course: {text}"
    );
}

#[tokio::test]
async fn the_department_report_is_for_admins_and_a_department_without_course_is_not_found() {
    let app = TestApp::spawn().await;
    let position = department(&app).await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let refused = app
        .get(
            "/api/reports/department/Computer%20Science?format=csv",
            &teacher,
        )
        .await;
    expect_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let missing = app
        .get(
            &format!(
                "/api/reports/department/Biology?format=csv&min_position={position}&wait_ms=20000"
            ),
            &app.admin,
        )
        .await;
    expect_problem(missing, StatusCode::NOT_FOUND, "not_found").await;
}
