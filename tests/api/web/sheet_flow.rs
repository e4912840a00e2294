//! The paper sheet from a teacher's pages: upload a scan of the session's sheet (a plain
//! file form), see the job with each page's picture, and decide the rows the sheet could not
//! decide alone (an unclear row; a row that differs from the teacher's own mark, which the
//! sheet never replaces). A student, and another course's teacher, are refused.

use super::accessibility::check_here;
use super::browser::Browser;
use super::{COURSE, TEACHER, school};
use crate::helpers::{PASSWORD, TestApp, expect_json, roster_row};
use rand::SeedableRng;
use rand::rngs::StdRng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sheets::Layout;
use sheets::simulate::{Encoding, Fill, ScanOptions, scan_page, wrap_pdf};

/// Status and content type of what `path` answers the signed-in browser.
async fn fetch(browser: &Browser, path: &str) -> (u64, String) {
    let script = "const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(r => done([r.status, r.headers.get('content-type') || '']));";
    let answer: Value = browser
        .client
        .execute_async(script, vec![json!(path)])
        .await
        .unwrap();
    (
        answer[0].as_u64().unwrap(),
        answer[1].as_str().unwrap_or_default().to_string(),
    )
}

/// A scanned sheet of the session: S001 present, S002 two bubbles (unclear), S003 late.
async fn scanned_sheet(app: &TestApp, teacher: &str, session: &str) -> std::path::PathBuf {
    let served = expect_json(
        app.get(&format!("/api/sessions/{session}/sheet/layout"), teacher)
            .await,
        StatusCode::OK,
    )
    .await;
    let students: Vec<String> = served["pages"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["student_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(students, ["S001", "S002", "S003"]);
    let layout = Layout::new(session, &students);
    use Fill::*;
    let rows = [
        [Solid, Empty, Empty],
        [Solid, Solid, Empty],
        [Empty, Solid, Empty],
    ];
    let image = scan_page(
        &layout.pages[0],
        &rows,
        &ScanOptions::ideal(200.0),
        &mut StdRng::seed_from_u64(3),
    );
    let pdf = wrap_pdf(vec![(image, Encoding::Jpeg { quality: 85 })]);
    let path = std::env::temp_dir().join(format!("att-scan-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, pdf).unwrap();
    path
}

#[tokio::test]
async fn a_teacher_uploads_a_scan_sees_each_page_and_decides_the_held_rows() {
    let app = TestApp::spawn().await;
    let (session, teacher_token) = school(&app, 3).await;
    // The teacher marked S003 present by hand before the sheet came back (it reads late).
    expect_json(
        app.record(&teacher_token, &session, "S003", "present")
            .await,
        StatusCode::CREATED,
    )
    .await;
    let scan = scanned_sheet(&app, &teacher_token, &session).await;
    let sheets_page = format!("/sessions/{session}/sheets");

    let teacher = Browser::start(&app.base).await;
    teacher.client.set_window_size(360, 800).await.unwrap();
    teacher.sign_in(TEACHER, PASSWORD).await;
    teacher.open(&format!("/sessions/{session}")).await;
    teacher.follow("Paper sheets").await;
    assert!(
        teacher
            .text()
            .await
            .contains("No rows wait for a decision.")
    );
    teacher
        .field("Scanned sheets (PDF) or photos of pages (JPEG, PNG)")
        .await
        .send_keys(scan.to_str().unwrap())
        .await
        .unwrap();
    teacher.press("Upload").await;
    let _ = std::fs::remove_file(&scan);
    // The upload's page reloads itself until the job is there.
    crate::helpers::wait_until(std::time::Duration::from_secs(60), || async {
        let path = teacher.path().await;
        path.starts_with("/sheets/") && !path.starts_with("/sheets/uploads/")
    })
    .await;
    crate::helpers::wait_until(std::time::Duration::from_secs(10), || async {
        teacher.text().await.contains("Finished")
    })
    .await;
    let text = teacher.text().await;
    assert!(
        text.contains("Finished: every page was read. 1 of 1 pages read"),
        "{text}"
    );
    let mut found = Vec::new();
    check_here(&teacher, "sheet job", &mut found).await;
    teacher.screenshot("sheet-job").await;
    let job_path = teacher.path().await;
    let picture = format!("{job_path}/pages/1.png");
    assert_eq!(
        fetch(&teacher, &picture).await,
        (200, "image/png".to_string())
    );

    // Both held rows wait for a person; nothing replaced the teacher's mark.
    teacher.open(&sheets_page).await;
    let text = teacher.text().await;
    assert!(
        text.contains("The bubbles could not be read with certainty."),
        "{text}"
    );
    assert!(
        text.contains("The sheet says Late; the register says Present, set by tina"),
        "{text}"
    );
    check_here(&teacher, "held rows", &mut found).await;
    teacher.screenshot("sheet-review").await;
    teacher
        .field("Status of Student 002")
        .await
        .select_by_value("late")
        .await
        .unwrap();
    teacher.press("Record · Student 002").await;
    assert!(
        teacher
            .text()
            .await
            .contains("Decided: the register was updated.")
    );
    teacher.press("Keep the recorded mark · Student 003").await;
    assert!(
        teacher
            .text()
            .await
            .contains("No rows wait for a decision.")
    );
    teacher.press("Sign out").await;
    assert!(found.is_empty(), "axe-core found:\n{}", found.join("\n"));

    let register = app.session_view(&teacher_token, &session).await;
    let status_of = |id: &str| roster_row(&register, id)["status"].clone();
    assert_eq!(
        (status_of("S001"), status_of("S002"), status_of("S003")),
        (json!("present"), json!("late"), json!("present")),
        "{register}"
    );

    // A student and another course's teacher see neither the pages nor the picture.
    app.create_user("sam", "student", Some("S001")).await;
    app.create_course("OTHER1").await;
    app.teacher_of("otto", "OTHER1").await;
    for who in ["sam", "otto"] {
        teacher.sign_in(who, PASSWORD).await;
        for path in [&sheets_page, &job_path, &picture] {
            let (status, _) = fetch(&teacher, path).await;
            assert_eq!(status, 404, "{who} {path}");
        }
        teacher.open("/").await;
        teacher.press("Sign out").await;
    }
    teacher.close().await;
    let _ = COURSE;
}
