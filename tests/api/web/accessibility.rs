//! axe-core (WCAG 2.1 A and AA rules) on every page: signed out, as a teacher, as a
//! student, as an administrator, an error page, and a refused form; each at 360 px wide
//! without sideways scrolling.

use super::browser::Browser;
use super::{COURSE, TEACHER, school};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp, expect_json};
use reqwest::StatusCode;

async fn check(browser: &Browser, path: &str, found: &mut Vec<String>) {
    browser.open(path).await;
    check_here(browser, path, found).await;
}

pub(super) async fn check_here(browser: &Browser, what: &str, found: &mut Vec<String>) {
    for violation in browser.accessibility_violations().await {
        found.push(format!("{what}: {violation}"));
    }
    // At a phone's 360 px the page itself never scrolls sideways (wide tables scroll in
    // their own box).
    let wide = browser
        .client
        .execute("return document.documentElement.scrollWidth", Vec::new())
        .await
        .unwrap();
    if wide.as_u64().is_none_or(|w| w > 360) {
        let culprits = browser
            .client
            .execute("return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 361 && !e.closest('[tabindex], table')).slice(0, 6).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')", Vec::new())
            .await
            .unwrap();
        found.push(format!(
            "{what}: {wide} px wide at a 360 px window: {culprits}"
        ));
    }
}

#[tokio::test]
async fn no_page_has_a_wcag_2_1_a_or_aa_violation() {
    let app = TestApp::spawn().await;
    let (session, teacher) = school(&app, 3).await;
    app.create_user("sam", "student", Some("S001")).await;
    expect_json(
        app.record(&teacher, &session, "S001", "late").await,
        StatusCode::CREATED,
    )
    .await;
    let mut found = Vec::new();
    let browser = Browser::start(&app.base).await;
    browser.client.set_window_size(360, 800).await.unwrap();

    check(&browser, "/sign-in", &mut found).await;
    browser.fill("Username", TEACHER).await;
    browser.fill("Password", "wrong password").await;
    browser.press("Sign in").await;
    check_here(&browser, "refused sign-in", &mut found).await;

    browser.sign_in(TEACHER, PASSWORD).await;
    browser.screenshot("teacher-home").await;
    for path in [
        "/".to_string(),
        format!("/sessions/{session}"),
        format!("/sessions/{session}/students/S001"),
        format!("/courses/{COURSE}"),
        format!("/courses/{COURSE}/policy"),
        "/warnings".to_string(),
        format!("/sessions/{session}/sheets"),
        "/account/password".to_string(),
        "/calendar/feeds".to_string(),
        format!("/sessions/{session}/check-in"),
        "/no-such-page".to_string(),
    ] {
        check(&browser, &path, &mut found).await;
    }
    // The projector page, once check-in is open.
    let open = format!("/api/sessions/{session}/check-in");
    let body = serde_json::json!({"late_after_minutes": 10});
    expect_json(app.post(&open, &teacher, body).await, StatusCode::CREATED).await;
    check(
        &browser,
        &format!("/sessions/{session}/check-in"),
        &mut found,
    )
    .await;
    browser.open(&format!("/sessions/{session}")).await;
    browser.screenshot("roll-call").await;
    // A refused correction: a changed mark without its reason.
    browser
        .field("Status of Student 001")
        .await
        .select_by_value("absent")
        .await
        .unwrap();
    browser
        .client
        .execute(
            "document.getElementById('r-S001').required = false",
            Vec::new(),
        )
        .await
        .unwrap();
    browser.press("Save the roll call").await;
    assert!(browser.text().await.contains("needs a reason"));
    check_here(&browser, "refused roll call", &mut found).await;
    // A refused policy: a weight out of range, shown next to its field.
    browser.open(&format!("/courses/{COURSE}/policy")).await;
    browser.fill("Weight of Late", "2").await;
    browser.press("Save the policy").await;
    check_here(&browser, "refused policy", &mut found).await;
    browser.press("Sign out").await;

    browser.sign_in("sam", PASSWORD).await;
    for path in [
        "/".to_string(),
        format!("/courses/{COURSE}"),
        format!("/sessions/{session}/students/S001"),
        "/admin/courses".to_string(),
        "/calendar/feeds".to_string(),
        "/check-in".to_string(),
        format!("/check-in/{session}/123456"),
    ] {
        check(&browser, &path, &mut found).await;
    }
    browser.open(&format!("/check-in/{session}/123456")).await;
    browser.press("Check in").await;
    check_here(&browser, "refused check-in", &mut found).await;
    browser.open("/").await;
    browser.press("Sign out").await;

    browser.sign_in("admin", ADMIN_PASSWORD).await;
    for path in [
        "/admin/courses".to_string(),
        format!("/admin/courses/{COURSE}"),
        "/admin/students".to_string(),
        "/admin/students?q=Student".to_string(),
        "/admin/health".to_string(),
        "/admin/users".to_string(),
        "/admin/users?role=student".to_string(),
        "/admin/calendar".to_string(),
        "/account/password".to_string(),
    ] {
        check(&browser, &path, &mut found).await;
    }
    // A closed day's preview, and a one-time password shown after a reset.
    browser.open("/admin/calendar").await;
    browser.fill("First day (YYYY-MM-DD)", "2030-01-01").await;
    browser.fill("Reason", "New year").await;
    browser.press("Preview").await;
    check_here(&browser, "closed days preview", &mut found).await;
    browser.open("/admin/users").await;
    browser.press("Reset password sam").await;
    check_here(&browser, "one-time password", &mut found).await;
    browser.screenshot("users-reset").await;
    browser.close().await;
    assert!(found.is_empty(), "axe-core found:\n{}", found.join("\n"));
}
