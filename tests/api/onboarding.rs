//! Bulk onboarding (issue 18): a school's spreadsheet of students, written by a spreadsheet
//! library with the seed system's headers, previewed, imported with an enrolment, and
//! imported again without changing anything.

use crate::helpers::{TestApp, expect_json, expect_problem};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use serde_json::Value;

const ROWS: u32 = 2000;

/// id, email, level, registered_on, phone, active.
type StoredRow = (
    String,
    Option<String>,
    Option<String>,
    Option<chrono::NaiveDate>,
    Option<String>,
    bool,
);

/// `S0000`..`S1999` with the seed's headers; row problems planted at known rows:
/// - spreadsheet row 11 (S0009) has a bad e-mail, row 21 repeats S0005, row 31 is the erased
///   student `GONE1`;
/// - registration dates as date cells, ISO text, day/month text and Excel serial numbers;
/// - the level of S0002 is a formula whose stored result is read, never evaluated.
fn school_workbook() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let headers = [
        "Student_No",
        "Full_Name",
        "Email",
        "Dept",
        "Year",
        "Mobile",
        "Status",
        "Reg_Date",
        "Notes",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    for i in 0..ROWS {
        let r = i + 1;
        let id = match r {
            20 => "S0005".to_string(),
            30 => "GONE1".to_string(),
            _ => format!("S{i:04}"),
        };
        sheet.write_string(r, 0, &id).unwrap();
        sheet
            .write_string(r, 1, format!("Étudiant Número {i}"))
            .unwrap();
        let email = if r == 10 {
            "not an address".to_string()
        } else {
            format!("Student{i}@School.EXAMPLE")
        };
        sheet.write_string(r, 2, &email).unwrap();
        sheet
            .write_string(
                r,
                3,
                ["Computer Science", "History", "Physics"][i as usize % 3],
            )
            .unwrap();
        if i == 2 {
            sheet
                .write_formula(r, 4, Formula::new("=1+1").set_result("2"))
                .unwrap();
        } else {
            sheet.write_number(r, 4, f64::from(1 + i % 4)).unwrap();
        }
        sheet
            .write_string(r, 5, format!(" +1 555 01{i:04} "))
            .unwrap();
        sheet
            .write_string(r, 6, if i % 50 == 49 { "Inactive" } else { "Active" })
            .unwrap();
        match i % 4 {
            0 => sheet
                .write_datetime_with_format(
                    r,
                    7,
                    ExcelDateTime::from_ymd(2026, 9, 1).unwrap(),
                    &date_format,
                )
                .map(|_| ()),
            1 => sheet.write_string(r, 7, "2026-09-01").map(|_| ()),
            2 => sheet.write_string(r, 7, "01/09/2026").map(|_| ()),
            _ => sheet.write_number(r, 7, 46266.0).map(|_| ()),
        }
        .unwrap();
        sheet.write_string(r, 8, "=HYPERLINK(\"x\")").unwrap();
    }
    book.save_to_buffer().unwrap()
}

async fn import(
    app: &TestApp,
    token: &str,
    file: Vec<u8>,
    options: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = Form::new().part("file", Part::bytes(file).file_name("students.xlsx"));
    for (name, value) in options {
        form = form.text(name.to_string(), value.to_string());
    }
    app.request(reqwest::Method::POST, "/api/imports/students", Some(token))
        .multipart(form)
        .send()
        .await
        .expect("request sent")
}

fn row(report: &Value, number: u64) -> &Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["row"] == number)
        .unwrap_or_else(|| panic!("row {number} in {report}"))
}

async fn student_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM students")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_school_spreadsheet_is_previewed_imported_with_its_enrolments_and_imported_again_unchanged()
 {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    app.create_student("GONE1", "Someone Erased").await;
    let erased = app.delete("/api/students/GONE1", &app.admin).await;
    assert_eq!(erased.status(), StatusCode::NO_CONTENT);
    let file = school_workbook();
    let enrol = [("course", "CS101"), ("effective_from", "2026-09-01")];

    // The preview lists each problem by row and field and writes nothing.
    let options = [&enrol[..], &[("dry_run", "true")]].concat();
    let preview = expect_json(
        import(&app, &app.admin, file.clone(), &options).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(preview["dry_run"], true);
    assert_eq!(
        (preview["rows"].as_u64(), preview["new"].as_u64()),
        (Some(2000), Some(1997))
    );
    assert_eq!(preview["errors"], 3, "{}", preview["results"]);
    assert_eq!(row(&preview, 11)["errors"][0]["field"], "email");
    let duplicate = &row(&preview, 21)["errors"][0];
    assert_eq!(duplicate["field"], "id");
    assert!(
        duplicate["detail"].as_str().unwrap().contains("row 7"),
        "{duplicate}"
    );
    let erased = &row(&preview, 31)["errors"][0];
    assert_eq!(erased["field"], "id");
    assert!(
        erased["detail"].as_str().unwrap().contains("erased"),
        "{erased}"
    );
    // Every other row is new, and the three problems are the only errors.
    let errors: Vec<u64> = preview["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "error")
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    assert_eq!(errors, [11, 21, 31], "{}", preview["results"]);
    assert_eq!(preview["unknown_columns"], serde_json::json!(["Notes"]));
    assert_eq!(preview["columns"]["registered_on"], "Reg_Date");
    assert_eq!(preview["enrolments"][0]["enrolled"], 1997);
    assert_eq!(student_count(&app).await, 1, "a dry run writes nothing");
    let events = app.event_count().await;

    // The import writes the valid rows and enrols them with one course command.
    let done = expect_json(
        import(&app, &app.admin, file.clone(), &enrol).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (
            done["dry_run"].as_bool(),
            done["new"].as_u64(),
            done["errors"].as_u64()
        ),
        (Some(false), Some(1997), Some(3))
    );
    assert_eq!(student_count(&app).await, 1998);
    let added = app.event_count().await - events;
    assert_eq!(added, 1997, "one enrolment event per imported student");
    let commands: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT metadata->>'request_id') FROM events WHERE aggregate_id = 'CS101' AND event_type = 'StudentEnrolled'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(commands, 1, "the enrolments are one command");
    let course = expect_json(
        app.get("/api/courses/CS101", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        course["enrolled_students"], 1997,
        "the imported students are enrolled"
    );

    // Values are normalised: e-mail in lower case, every date form the same day, the
    // formula's stored result, the phone trimmed, status words read.
    let rows: Vec<StoredRow> = sqlx::query_as(
        "SELECT id, email, level, registered_on, phone, active FROM students WHERE id IN ('S0000','S0001','S0002','S0003','S0049') ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 9, 1);
    for (id, email, _, registered_on, phone, _) in &rows {
        assert_eq!(*registered_on, day, "{id}");
        assert_eq!(
            email.as_deref(),
            Some(
                format!(
                    "student{}@school.example",
                    id[1..].trim_start_matches('0').parse::<u32>().unwrap_or(0)
                )
                .as_str()
            )
        );
        assert!(
            phone
                .as_deref()
                .is_some_and(|p| p.starts_with("+1") && !p.ends_with(' ')),
            "{phone:?}"
        );
    }
    assert_eq!(
        rows[2].2.as_deref(),
        Some("2"),
        "S0002's level is the formula's stored result"
    );
    assert!(!rows[4].5, "S0049 is inactive");
    let found = expect_json(
        app.get("/api/students/S0001", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["name"], "Étudiant Número 1");

    // The same file again changes nothing, not even an event.
    let events = app.event_count().await;
    let again = expect_json(import(&app, &app.admin, file, &enrol).await, StatusCode::OK).await;
    assert_eq!(
        (
            again["new"].as_u64(),
            again["changed"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(1997))
    );
    assert_eq!(
        (
            again["enrolments"][0]["enrolled"].as_u64(),
            again["enrolments"][0]["already"].as_u64()
        ),
        (Some(0), Some(1997))
    );
    assert_eq!(app.event_count().await, events);
}

#[tokio::test]
async fn a_csv_with_its_own_headers_changes_what_differs_and_bad_files_are_refused_plainly() {
    let app = TestApp::spawn().await;
    app.create_student("S1", "Ada Lovelace").await;
    let csv =
        "Matric;Name;Level;Course\nS1;Ada Lovelace;L3;\nS2;Bea Smith;L1;NOPE1\nS3;Cy Young;L2;\n";
    let mapping = [
        ("mapping", r#"{"Matric": "id"}"#),
        ("effective_from", "2026-09-01"),
    ];
    let report = expect_json(
        import(&app, &app.admin, csv.into(), &mapping).await,
        StatusCode::OK,
    )
    .await;
    let s1 = row(&report, 2);
    assert_eq!(
        (s1["outcome"].as_str(), s1["fields"][0].as_str()),
        (Some("changed"), Some("level"))
    );
    let s2 = row(&report, 3);
    assert_eq!(s2["outcome"], "error", "a course that does not exist: {s2}");
    assert_eq!(s2["errors"][0]["field"], "course");
    assert_eq!(row(&report, 4)["outcome"], "new");
    let level: Option<String> = sqlx::query_scalar("SELECT level FROM students WHERE id = 'S1'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(level.as_deref(), Some("L3"));

    app.create_course("ANY1").await;
    let (_, teacher) = app.teacher_of("tina", "ANY1").await;
    let forbidden = import(&app, &teacher, csv.into(), &mapping).await;
    expect_problem(forbidden, StatusCode::FORBIDDEN, "forbidden").await;
    let broken = import(
        &app,
        &app.admin,
        b"PK\x03\x04 not really a workbook".to_vec(),
        &[],
    )
    .await;
    let problem = expect_problem(
        broken,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unreadable_spreadsheet",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("spreadsheet"),
        "{problem}"
    );
    let latin1 = import(&app, &app.admin, b"id,name\nS9,Jos\xe9\n".to_vec(), &[]).await;
    expect_problem(
        latin1,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unreadable_spreadsheet",
    )
    .await;
    let no_id = import(&app, &app.admin, b"Who,Mail\nA,a@b.c\n".to_vec(), &[]).await;
    let problem = expect_problem(no_id, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no column for id"),
        "{problem}"
    );
    let no_date = import(
        &app,
        &app.admin,
        csv.into(),
        &[("mapping", r#"{"Matric": "id"}"#)],
    )
    .await;
    expect_problem(no_date, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM students")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        count, 2,
        "refused imports wrote nothing beyond the first import's new student"
    );
}

#[tokio::test]
async fn the_command_line_previews_and_imports_the_same_way() {
    let app = TestApp::spawn().await;
    app.create_course("LAB1").await;
    let path = std::env::temp_dir().join(format!("students-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(
        &path,
        "ID,Name,Email\nS1,Ada,ADA@Example.org\nS2,Bea,bea at example\n",
    )
    .unwrap();
    let import = |extra: &[&str]| {
        let mut command = std::process::Command::new(crate::helpers::attendance_binary());
        command
            .args(["import", "students"])
            .arg(&path)
            .args(["--course", "LAB1", "--from", "2026-09-01"])
            .args(extra)
            .env("DATABASE_URL", &app.config.connections.database_url);
        command
    };
    let preview = crate::helpers::run(import(&["--dry-run"])).await;
    assert!(preview.contains("would import 2 rows: 1 new"), "{preview}");
    assert!(preview.contains("row 3: email"), "{preview}");
    assert_eq!(student_count(&app).await, 0);
    let done = crate::helpers::run(import(&[])).await;
    let _ = std::fs::remove_file(&path);
    assert!(done.contains("imported 2 rows: 1 new"), "{done}");
    assert!(done.contains("LAB1: 1 enrolled"), "{done}");
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM students WHERE id = 'S1'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(email.as_deref(), Some("ada@example.org"));
}

#[tokio::test]
async fn a_sheet_past_fifty_thousand_rows_is_refused_whole() {
    let app = TestApp::spawn().await;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "ID").unwrap();
    sheet.write_string(0, 1, "Name").unwrap();
    for r in 1..=50_001u32 {
        sheet.write_number(r, 0, f64::from(r)).unwrap();
        sheet.write_string(r, 1, "N").unwrap();
    }
    let file = book.save_to_buffer().unwrap();
    let refused = import(&app, &app.admin, file, &[]).await;
    let problem = expect_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "too_many_rows").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("50000"),
        "{problem}"
    );
    assert_eq!(student_count(&app).await, 0);
}
