//! Importing teachers and other accounts from a spreadsheet (issue 18): a preview first, each
//! new account's one-time password answered once, a first sign-in that may only set a new
//! password, teachers assigned to the courses they teach, and a second import that changes
//! nothing.

use crate::helpers::{TestApp, expect_json, expect_problem};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

async fn import(
    app: &TestApp,
    token: &str,
    file: &str,
    options: &[(&str, &str)],
) -> reqwest::Response {
    let part = Part::bytes(file.as_bytes().to_vec()).file_name("staff.csv");
    let mut form = Form::new().part("file", part);
    for (name, value) in options {
        form = form.text(name.to_string(), value.to_string());
    }
    app.request(reqwest::Method::POST, "/api/imports/users", Some(token))
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

fn error_fields(row: &Value) -> Vec<&str> {
    row["errors"]
        .as_array()
        .map(|e| e.iter().map(|p| p["field"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

async fn account_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Headers as a school writes them; row 2 and 3 teachers, row 4 an admin, row 5 a student
/// account, then a bad e-mail, a repeated username, a course that does not exist, a role
/// that is none, and a student number nobody has.
const STAFF: &str = "Login,Role,E-mail,Student ID,Courses to teach,Office\n\
ada.lovelace,Teacher,Ada@School.example,,CS101;CS202,B12\n\
emmy.noether,teacher,emmy@school.example,,CS101,B14\n\
grace,admin,grace@school.example,,,A1\n\
s1,student,,S1,,\n\
lise,teacher,not-an-address,,,\n\
ADA.LOVELACE,teacher,,,,\n\
carl,teacher,,,MA999,\n\
dora,principal,,,,\n\
sam,student,,S404,,\n";

#[tokio::test]
async fn accounts_are_previewed_imported_with_one_time_passwords_and_imported_again_unchanged() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    app.create_course("CS202").await;
    app.create_student("S1", "Sam One").await;
    let before = account_count(&app).await;

    let preview = expect_json(
        import(&app, &app.admin, STAFF, &[("dry_run", "true")]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (preview["new"].as_u64(), preview["errors"].as_u64()),
        (Some(4), Some(5)),
        "{preview}"
    );
    assert_eq!(preview["unknown_columns"], json!(["Office"]));
    assert_eq!(preview["columns"]["courses"], "Courses to teach");
    assert_eq!(error_fields(row(&preview, 6)), ["email"]);
    assert_eq!(error_fields(row(&preview, 7)), ["username"]);
    assert_eq!(error_fields(row(&preview, 8)), ["courses"]);
    assert_eq!(error_fields(row(&preview, 9)), ["role"]);
    assert_eq!(error_fields(row(&preview, 10)), ["student_id"]);
    assert!(
        preview.to_string().find("one_time_password").is_none(),
        "a preview hands out no password"
    );
    assert_eq!(
        account_count(&app).await,
        before,
        "a preview writes nothing"
    );

    let report = expect_json(import(&app, &app.admin, STAFF, &[]).await, StatusCode::OK).await;
    assert_eq!(report["new"], 4, "{report}");
    assert_eq!(account_count(&app).await, before + 4);
    let cs101 = report["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["course"] == "CS101")
        .unwrap();
    assert_eq!(cs101["assigned"], 2);
    let ada = row(&report, 2);
    let secret = ada["one_time_password"].as_str().unwrap();

    // The first sign-in may only set a new password.
    let login = expect_json(app.login("ada.lovelace", secret).await, StatusCode::OK).await;
    assert_eq!(login["must_change_password"], true);
    assert_eq!(login["user"]["email"], "ada@school.example");
    let pending = login["token"].as_str().unwrap();
    let refused = app.get("/api/courses", pending).await;
    expect_problem(refused, StatusCode::FORBIDDEN, "password_change_required").await;
    let changed = app
        .post(
            "/api/auth/password",
            pending,
            json!({"current_password": secret, "new_password": "ada-chose-this-one"}),
        )
        .await;
    let token = expect_json(changed, StatusCode::OK).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let courses = expect_json(app.get("/api/courses", &token).await, StatusCode::OK).await;
    let mut codes: Vec<&str> = courses
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        ["CS101", "CS202"],
        "she teaches the courses the file names"
    );
    let student = expect_json(
        app.login("s1", row(&report, 5)["one_time_password"].as_str().unwrap())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(student["user"]["student_id"], "S1");

    // Who created the accounts is recorded.
    let ada_id = login["user"]["id"].as_str().unwrap();
    let trail = expect_json(
        app.get(&format!("/api/users/{ada_id}/changes"), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trail[0]["change"], "created");
    assert_eq!(trail[0]["source"], "import");

    let events = app.event_count().await;
    let again = expect_json(import(&app, &app.admin, STAFF, &[]).await, StatusCode::OK).await;
    assert_eq!(
        (
            again["new"].as_u64(),
            again["changed"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(4)),
        "{again}"
    );
    assert!(again.to_string().find("one_time_password").is_none());
    assert_eq!(account_count(&app).await, before + 4);
    assert_eq!(
        app.event_count().await,
        events,
        "a second import stores no event"
    );
    let still = app.get("/api/auth/me", &token).await;
    assert_eq!(
        still.status(),
        StatusCode::OK,
        "and does not touch the passwords"
    );
}

#[tokio::test]
async fn a_changed_email_and_a_new_course_are_changes_and_a_role_is_never_changed() {
    let app = TestApp::spawn().await;
    app.create_course("CS101").await;
    let first = "username,role,email\nada,teacher,ada@school.example\n";
    expect_json(import(&app, &app.admin, first, &[]).await, StatusCode::OK).await;
    let second = "username,role,email,courses\nada,teacher,ada@new.example,CS101\n";
    let report = expect_json(import(&app, &app.admin, second, &[]).await, StatusCode::OK).await;
    assert_eq!(row(&report, 2)["outcome"], "changed");
    assert_eq!(row(&report, 2)["fields"], json!(["email", "courses"]));
    let promoted = "username,role\nada,admin\n";
    let report = expect_json(
        import(&app, &app.admin, promoted, &[]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(error_fields(row(&report, 2)), ["role"]);
}

#[tokio::test]
async fn only_an_administrator_imports_accounts_and_a_file_without_roles_is_refused() {
    let app = TestApp::spawn().await;
    let (_, teacher) = app.create_user("tina", "teacher", None).await;
    let refused = import(&app, &teacher, STAFF, &[]).await;
    expect_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let anonymous = app
        .request(reqwest::Method::POST, "/api/imports/users", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let no_role = import(&app, &app.admin, "username,email\nada,ada@x.example\n", &[]).await;
    let problem = expect_problem(no_role, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("no column for role"),
        "{problem}"
    );
    let unknown_option = import(&app, &app.admin, STAFF, &[("course", "CS101")]).await;
    expect_problem(
        unknown_option,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
}

#[tokio::test]
async fn the_command_line_prints_each_new_accounts_one_time_password_once() {
    let app = TestApp::spawn().await;
    let path = std::env::temp_dir().join(format!("staff-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(&path, "Username,Role\nada,teacher\nbea,nurse\n").unwrap();
    let import = |extra: &[&str]| {
        let mut command = std::process::Command::new(crate::helpers::attendance_binary());
        command
            .args(["import", "users"])
            .arg(&path)
            .args(extra)
            .env("DATABASE_URL", &app.config.connections.database_url);
        command
    };
    let preview = crate::helpers::run(import(&["--dry-run"])).await;
    assert!(preview.contains("would import 2 rows: 1 new"), "{preview}");
    assert!(preview.contains("row 3: role"), "{preview}");
    let done = crate::helpers::run(import(&[])).await;
    let again = crate::helpers::run(import(&[])).await;
    let _ = std::fs::remove_file(&path);
    let line = done
        .lines()
        .find(|l| l.starts_with("ada,"))
        .expect("ada's password");
    let secret = line.trim_start_matches("ada,");
    let login = expect_json(app.login("ada", secret).await, StatusCode::OK).await;
    assert_eq!(login["must_change_password"], true);
    assert!(!again.contains("ada,"), "{again}");
    assert!(again.contains("1 unchanged"), "{again}");
}
