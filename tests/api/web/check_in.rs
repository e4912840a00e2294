//! Self check-in in the browser: the teacher opens it from the register and gets the
//! projector page; a student types the code on the phone-sized page and is checked in; the
//! teacher's pages stay the teacher's.

use super::browser::Browser;
use super::{TEACHER, school};
use crate::helpers::{PASSWORD, TestApp, expect_json, roster_row};
use reqwest::StatusCode;

/// The code shown now, as the projector shows it.
async fn shown_code(app: &TestApp, teacher: &str, session: &str) -> String {
    let path = format!("/api/sessions/{session}/check-in/code");
    let shown = expect_json(app.get(&path, teacher).await, StatusCode::OK).await;
    shown["code"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_student_checks_in_by_typing_the_code_the_projector_shows() {
    let app = TestApp::spawn().await;
    let (session, teacher) = school(&app, 2).await;
    app.create_user("sam", "student", Some("S001")).await;
    let browser = Browser::start(&app.base).await;

    browser.sign_in(TEACHER, PASSWORD).await;
    browser.open(&format!("/sessions/{session}")).await;
    browser.follow("Open self check-in (QR code)").await;
    browser
        .fill("Late after (minutes; empty: never late)", "")
        .await;
    browser.press("Open check-in").await;
    let projector = browser.text().await;
    let code = shown_code(&app, &teacher, &session).await;
    assert!(projector.contains("0 / 2 checked in"), "{projector}");
    let source = browser.client.source().await.unwrap();
    assert!(source.contains("<svg"), "the QR code is on the page");
    browser.screenshot("check-in-projector").await;
    // The code may have changed between the page and the question: either half of one of
    // the two is on the page.
    assert_eq!(code.len(), 6);
    browser.open("/").await;
    browser.press("Sign out").await;

    browser.sign_in("sam", PASSWORD).await;
    // A student never reaches the teacher's page.
    browser.open(&format!("/sessions/{session}/check-in")).await;
    let refused = browser.client.source().await.unwrap();
    assert!(
        !refused.contains("check-in/close") && !refused.contains("<svg"),
        "{refused}"
    );

    browser.open(&format!("/check-in/{session}")).await;
    let wrong = if shown_code(&app, &teacher, &session).await == "000000" {
        "111111"
    } else {
        "000000"
    };
    browser.fill("Code shown in the room", wrong).await;
    browser.press("Check in").await;
    assert!(
        browser.text().await.contains("This is not the code shown"),
        "{}",
        browser.text().await
    );
    let code = shown_code(&app, &teacher, &session).await;
    browser.fill("Code shown in the room", &code).await;
    browser.press("Check in").await;
    let done = browser.text().await;
    assert!(done.contains("You are checked in: present."), "{done}");
    browser.screenshot("check-in-student").await;
    browser.close().await;

    let view = app.session_view(&teacher, &session).await;
    let row = roster_row(&view, "S001");
    assert_eq!(
        (row["status"].as_str(), row["method"].as_str()),
        (Some("present"), Some("self"))
    );
}
