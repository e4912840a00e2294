//! An administrator in the browser: creates a course, assigns a teacher, enrols students,
//! finds a student by name.

use super::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, TestApp, expect_json};
use chrono::Utc;
use reqwest::StatusCode;

#[tokio::test]
async fn an_admin_creates_a_course_assigns_a_teacher_and_enrols_students() {
    let app = TestApp::spawn().await;
    app.create_student("S101", "Ada Obi").await;
    app.create_student("S102", "Zoë Ñúñez").await;
    let (teacher_id, _) = app.create_user("tom", "teacher", None).await;

    let browser = Browser::start(&app.base).await;
    browser.sign_in("admin", ADMIN_PASSWORD).await;
    browser.follow("Courses").await;
    browser.fill("Course code", "BIO200").await;
    browser.fill("Course name", "Cell Biology").await;
    browser.fill("Credits", "5").await;
    browser.press("Create").await;
    assert_eq!(browser.path().await, "/admin/courses/BIO200");

    browser
        .field("Teacher")
        .await
        .select_by_label("tom")
        .await
        .unwrap();
    browser.press("Assign a teacher").await;
    let today = Utc::now().date_naive().to_string();
    for student in ["S101", "S102"] {
        browser.fill("Student number", student).await;
        browser.fill("From (YYYY-MM-DD)", &today).await;
        browser.press("Enrol a student").await;
    }
    let page = browser.text().await;
    assert!(
        page.contains("tom")
            && page.contains("S101 · Ada Obi")
            && page.contains("S102 · Zoë Ñúñez"),
        "{page}"
    );
    browser.screenshot("admin-course").await;

    // An unknown student is refused with a message, and nothing changes.
    browser.fill("Student number", "S999").await;
    browser.press("Enrol a student").await;
    assert!(browser.text().await.contains("student S999 does not exist"));

    let course = expect_json(
        app.get("/api/courses/BIO200", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(course["name"], "Cell Biology");
    assert_eq!(course["teachers"], serde_json::json!([teacher_id]));
    assert_eq!(course["enrolled_students"], 2);

    browser.follow("Students").await;
    browser.fill("Search by number or name", "zoë").await;
    browser.press("Search").await;
    let found = browser.text().await;
    assert!(found.contains("S102") && !found.contains("S101"), "{found}");

    // An archived course leaves the course list; its page and history stay.
    browser.open("/admin/courses").await;
    assert!(browser.text().await.contains("BIO200"));
    expect_json(
        app.post(
            "/api/courses/BIO200/archive",
            &app.admin,
            serde_json::json!({"reason": "no longer offered"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    browser.open("/admin/courses").await;
    assert!(!browser.text().await.contains("BIO200"));
    browser.open("/admin/courses/BIO200").await;
    assert!(browser.text().await.contains("S101 · Ada Obi"));
    browser.close().await;
}
