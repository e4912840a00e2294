//! Dates and times on the pages: in the course's zone with the offset shown, and in the
//! reader's language (Arabic month and day names, Arabic-Indic digits, right to left).

use super::browser::Browser;
use super::school;
use crate::helpers::{PASSWORD, TestApp, expect_json};
use reqwest::StatusCode;
use serde_json::json;

/// A course in Chicago with student S001 and a session at 15:00 UTC on Monday 4 January 2027 (09:00 there,
/// UTC-6 in winter), taught by the web tests' teacher; returns the session id.
async fn chicago_course(app: &TestApp) -> String {
    let body =
        json!({"code": "CHI101", "name": "Course in Chicago", "time_zone": "America/Chicago"});
    expect_json(
        app.post("/api/courses", &app.admin, body).await,
        StatusCode::CREATED,
    )
    .await;
    app.teacher_of("carl", "CHI101").await;
    app.enroll("CHI101", "S001", "2026-09-01").await;
    app.schedule("CHI101", "Winter lecture", "2027-01-04T15:00:00Z")
        .await
}

#[tokio::test]
async fn a_session_shows_in_its_course_zone_with_the_offset_in_english_and_arabic() {
    let app = TestApp::spawn().await;
    let _ = school(&app, 1).await;
    let session = chicago_course(&app).await;

    let english = Browser::start(&app.base).await;
    english.sign_in("carl", PASSWORD).await;
    english.open(&format!("/sessions/{session}")).await;
    let text = english.text().await;
    assert!(
        text.contains("Starts: Mon 4 Jan 2027, 09:00 (UTC-06:00)"),
        "{text}"
    );
    assert!(!text.contains("(UTC)"), "{text}");
    english.open("/courses/CHI101").await;
    assert!(
        english
            .text()
            .await
            .contains("Mon 4 Jan 2027, 09:00 (UTC-06:00)")
    );
    english.close().await;

    let arabic = Browser::start_in(&app.base, "ar").await;
    arabic.open("/sign-in").await;
    arabic.fill("اسم المستخدم", "carl").await;
    arabic.fill("كلمة المرور", PASSWORD).await;
    arabic.press("تسجيل الدخول").await;
    arabic.open(&format!("/sessions/{session}")).await;
    let dir = arabic
        .client
        .execute("return document.documentElement.dir", Vec::new())
        .await
        .unwrap();
    assert_eq!(dir, json!("rtl"));
    let text = arabic.text().await;
    // Monday 4 January 2027, 09:00, in Arabic names and digits; the offset kept LTR.
    for part in ["الاثنين", "٤", "يناير", "٢٠٢٧", "٠٩:٠٠", "UTC-٠٦:٠٠"] {
        assert!(text.contains(part), "{part} in {text}");
    }
    // The unmarked count in Arabic digits, also once the page's script has counted.
    assert!(text.contains("١ غير مسجّل"), "{text}");
    arabic.screenshot("register-arabic").await;
    assert!(
        arabic.accessibility_violations().await.is_empty(),
        "{:?}",
        arabic.accessibility_violations().await
    );
    arabic.close().await;
}
