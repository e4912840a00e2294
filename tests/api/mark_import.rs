//! Importing a session's marks from a file (issue 18): one roll call with method `import`,
//! a preview per row, all or nothing, and a second import that changes nothing.

use crate::helpers::{TestApp, expect_json, expect_problem, roster_row};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

async fn import(
    app: &TestApp,
    token: &str,
    session: &str,
    file: &str,
    options: &[(&str, &str)],
) -> reqwest::Response {
    let part = Part::bytes(file.as_bytes().to_vec()).file_name("marks.csv");
    let mut form = Form::new()
        .text("session_id", session.to_string())
        .part("file", part);
    for (name, value) in options {
        form = form.text(name.to_string(), value.to_string());
    }
    app.request(reqwest::Method::POST, "/api/imports/marks", Some(token))
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

fn first_error(row: &Value) -> (String, String) {
    let error = &row["errors"][0];
    let field = error["field"].as_str().unwrap().to_string();
    (field, error["code"].as_str().unwrap_or("").to_string())
}

const CLEAN: &str = "Student ID,Status,Remark\nS1,present,\nS2,A,sick note\nS3,late,bus\n";
const BROKEN: &str =
    "Student ID,Status,Remark\nS1,present,\nS2,here,\nS9,absent,\nS1,late,\nS3,,\n";

#[tokio::test]
async fn a_file_of_marks_is_previewed_recorded_as_one_import_roll_call_and_imported_again_unchanged()
 {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let events = app.event_count().await;

    let preview = import(&app, &app.admin, &session, BROKEN, &[("dry_run", "true")]).await;
    let preview = expect_json(preview, StatusCode::OK).await;
    assert_eq!(
        (preview["new"].as_u64(), preview["errors"].as_u64()),
        (Some(1), Some(4)),
        "{preview}"
    );
    assert_eq!(row(&preview, 2)["outcome"], "new");
    assert_eq!(first_error(row(&preview, 3)).0, "status");
    assert_eq!(
        first_error(row(&preview, 4)),
        ("student_id".into(), "not_on_roster".into())
    );
    assert_eq!(
        first_error(row(&preview, 5)),
        ("student_id".into(), "duplicate_row".into())
    );
    assert_eq!(first_error(row(&preview, 6)).0, "status");
    assert_eq!(app.event_count().await, events, "a preview records nothing");

    // Any row in error: nothing is recorded, every row is named.
    let refused = import(&app, &app.admin, &session, BROKEN, &[]).await;
    let problem = expect_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "roll_call_refused",
    )
    .await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 4, "{problem}");
    assert_eq!(app.event_count().await, events, "all or nothing");

    let report = expect_json(
        import(&app, &app.admin, &session, CLEAN, &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (report["new"].as_u64(), report["errors"].as_u64()),
        (Some(3), Some(0)),
        "{report}"
    );
    let view = app.session_view(&app.admin, &session).await;
    let s2 = roster_row(&view, "S2");
    assert_eq!(
        (s2["status"].as_str(), s2["method"].as_str()),
        (Some("absent"), Some("import"))
    );
    assert_eq!(roster_row(&view, "S3")["status"], "late");

    let recorded = app.event_count().await;
    let again = expect_json(
        import(&app, &app.admin, &session, CLEAN, &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (again["new"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(
        app.event_count().await,
        recorded,
        "a second import stores no event"
    );
    // A different status for a marked student is a correction, not an import.
    let different = "student,status\nS1,absent\n";
    let refused = import(&app, &app.admin, &session, different, &[]).await;
    let problem = expect_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "roll_call_refused",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "correction_required");
}

#[tokio::test]
async fn the_courses_teacher_imports_marks_and_others_may_not() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    app.create_course("CS202").await;
    let (_, other) = app.teacher_of("bob", "CS202").await;
    let (_, student) = app.create_user("s1", "student", Some("S1")).await;
    let hidden = import(&app, &other, &session, CLEAN, &[]).await;
    expect_problem(hidden, StatusCode::NOT_FOUND, "not_found").await;
    let refused = import(&app, &student, &session, CLEAN, &[]).await;
    expect_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let unknown = import(&app, &app.admin, "nosuchsession", CLEAN, &[]).await;
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;
    let done = expect_json(
        import(&app, &teacher, &session, CLEAN, &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["new"], 3);
}
