//! The early warning in the browser: a teacher sees the students of their course newly at
//! risk; the student sees a banner about their own state; another student sees no banner and
//! may not open the teachers' page.

use super::browser::Browser;
use super::{COURSE, TEACHER, school};
use crate::helpers::{PASSWORD, TestApp, expect_json, wait_until};
use reqwest::StatusCode;
use std::time::Duration;

#[tokio::test]
async fn a_teacher_sees_the_newly_at_risk_and_the_student_a_banner() {
    let app = TestApp::spawn().await;
    let (session, teacher) = school(&app, 2).await;
    app.create_user("sam", "student", Some("S001")).await;
    app.create_user("sue", "student", Some("S002")).await;
    for (student, status) in [("S001", "absent"), ("S002", "present")] {
        expect_json(
            app.record(&teacher, &session, student, status).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let standing = format!("{COURSE}.S001");
    wait_until(Duration::from_secs(30), || async {
        app.events_of("standing", &standing).await == ["StudentAtRisk"]
    })
    .await;

    let browser = Browser::start(&app.base).await;
    browser.sign_in(TEACHER, PASSWORD).await;
    browser.follow("Warnings").await;
    let page = browser.text().await;
    assert!(page.contains("Students newly at risk"), "{page}");
    assert!(page.contains("S001") && !page.contains("S002"), "{page}");
    browser.press("Sign out").await;

    browser.sign_in("sam", PASSWORD).await;
    let home = browser.text().await;
    assert!(
        home.contains("Your attendance needs attention")
            && home.contains("below the course's threshold"),
        "{home}"
    );
    browser.open("/warnings").await;
    assert!(browser.text().await.contains("You may not do this"));
    browser.open("/").await;
    browser.press("Sign out").await;

    browser.sign_in("sue", PASSWORD).await;
    let home = browser.text().await;
    assert!(!home.contains("Your attendance needs attention"), "{home}");
    browser.close().await;
}
