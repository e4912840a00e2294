//! A student in the browser sees their own records and nothing of another student's: not
//! by a link on their pages, not by typing another's URL.

use super::browser::Browser;
use super::{COURSE, school};
use crate::helpers::{PASSWORD, TestApp, expect_json};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_student_sees_their_own_records_and_nothing_of_another_students() {
    let app = TestApp::spawn().await;
    let (session, teacher) = school(&app, 2).await;
    app.create_user("sam", "student", Some("S001")).await;
    for (student, status) in [("S001", "absent"), ("S002", "late")] {
        expect_json(
            app.record(&teacher, &session, student, status).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let path = format!("/api/sessions/{session}/attendance/S001/correction");
    let body = json!({"status": "excused", "reason": "medical certificate"});
    expect_json(app.post(&path, &teacher, body).await, StatusCode::OK).await;

    let browser = Browser::start(&app.base).await;
    browser.sign_in("sam", PASSWORD).await;
    let home = browser.text().await;
    assert!(
        home.contains("My courses") && home.contains(COURSE),
        "{home}"
    );
    browser.follow(&format!("{COURSE} · Course {COURSE}")).await;
    let own = browser.text().await;
    assert!(
        own.contains("Morning lecture") && own.contains("Excused"),
        "{own}"
    );
    assert!(
        own.contains("medical certificate"),
        "the correction's reason: {own}"
    );
    browser.screenshot("student-course").await;
    browser.follow("Morning lecture").await;
    assert!(browser.text().await.contains("Mark history of Student 001"));

    // Nothing of S002 on any page the student reaches by links...
    for path in [
        "/",
        &format!("/courses/{COURSE}"),
        &format!("/sessions/{session}/students/S001"),
    ] {
        browser.open(path).await;
        let source = browser.client.source().await.unwrap();
        assert!(
            !source.contains("S002") && !source.contains("Student 002"),
            "{path} shows another student"
        );
    }
    // ...nor by URL: the register, another's history, the administration.
    for (path, expected) in [
        (format!("/sessions/{session}"), "does not exist"),
        (
            format!("/sessions/{session}/students/S002"),
            "does not exist",
        ),
        ("/admin/students".to_string(), "You may not do this"),
        ("/admin/courses".to_string(), "You may not do this"),
    ] {
        browser.open(&path).await;
        let text = browser.text().await;
        assert!(text.contains(expected), "{path}: {text}");
        assert!(
            !text.contains("Student 002") && !text.contains("S002"),
            "{path}: {text}"
        );
    }
    browser.close().await;
}
