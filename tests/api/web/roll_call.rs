//! A teacher's roll call in the browser: by keyboard, a correction with its reason, the
//! mark's history, the statistics; and a refused roll call that keeps what was entered.

use super::browser::Browser;
use super::{COURSE, TEACHER, school};
use crate::helpers::{PASSWORD, TestApp, expect_json, roster_row, wait_until};
use fantoccini::Locator;
use reqwest::StatusCode;
use std::time::Duration;

#[tokio::test]
async fn a_teacher_takes_a_roll_call_by_keyboard_corrects_a_mark_and_sees_it_everywhere() {
    let app = TestApp::spawn().await;
    let (session, teacher) = school(&app, 30).await;
    let browser = Browser::start(&app.base).await;
    browser.sign_in(TEACHER, PASSWORD).await;
    assert!(browser.text().await.contains("Today's sessions"));
    browser.follow("Morning lecture").await;
    assert!(browser.text().await.contains("30 unmarked"));

    // One key per student; the focus moves on by itself. S002 late, S003 absent, S004
    // excused, the rest present, S030 left unmarked; then K back up to S029, A for absent.
    browser
        .field("Status of Student 001")
        .await
        .send_keys("p")
        .await
        .unwrap();
    for i in 2..=29 {
        let key = match i {
            2 => "l",
            3 => "a",
            4 => "e",
            _ => "p",
        };
        browser.keys(key).await;
    }
    assert!(
        browser.text().await.contains("1 unmarked"),
        "{}",
        browser.text().await
    );
    browser.keys("k").await;
    browser.keys("a").await;
    browser
        .field("Everyone still unmarked is present")
        .await
        .click()
        .await
        .unwrap();
    browser.press("Save the roll call").await;
    assert!(
        browser.path().await.ends_with("?done=saved"),
        "{}",
        browser.text().await
    );
    assert!(browser.text().await.contains("0 unmarked"));

    let view = app.session_view(&teacher, &session).await;
    for (student, status) in [
        ("S001", "present"),
        ("S002", "late"),
        ("S003", "absent"),
        ("S004", "excused"),
        ("S029", "absent"),
        ("S030", "present"),
    ] {
        assert_eq!(roster_row(&view, student)["status"], status, "{student}");
    }

    // A marked student's status changed on the page is a correction with a reason.
    browser
        .field("Status of Student 003")
        .await
        .send_keys("e")
        .await
        .unwrap();
    browser
        .fill("Reason if changed: Student 003", "medical certificate")
        .await;
    browser.press("Save the roll call").await;
    assert!(
        browser.text().await.contains("Saved."),
        "{}",
        browser.text().await
    );
    browser.follow("History Student 003").await;
    let history = browser.text().await;
    assert!(history.contains("Mark history of Student 003"), "{history}");
    assert!(
        history.contains("medical certificate") && history.contains(TEACHER),
        "{history}"
    );
    let last = browser
        .client
        .find(Locator::XPath("//tbody/tr[last()]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        last.contains("Excused") && last.contains("Absent"),
        "the correction's row: {last}"
    );
    browser.screenshot("history").await;

    // The statistics: S029 absent once is at risk; S003 excused has no counted mark.
    browser.open(&format!("/courses/{COURSE}")).await;
    let row = |name: &'static str| {
        let browser = &browser;
        async move {
            let xpath = format!("//tr[th[normalize-space()='{name}']]");
            browser
                .client
                .find(Locator::XPath(&xpath))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    wait_until(Duration::from_secs(20), || async {
        browser.client.refresh().await.unwrap();
        row("Student 029").await.contains("At risk")
            && row("Student 003").await.contains("no marks yet")
    })
    .await;
    assert!(row("Student 001").await.contains("100.0 %"));
    browser.screenshot("statistics").await;
    browser.close().await;
}

#[tokio::test]
async fn a_refused_roll_call_shows_the_form_again_with_what_was_entered() {
    let app = TestApp::spawn().await;
    let (session, _) = school(&app, 5).await;
    let browser = Browser::start(&app.base).await;
    browser.sign_in(TEACHER, PASSWORD).await;
    browser.open(&format!("/sessions/{session}")).await;
    browser
        .field("Status of Student 001")
        .await
        .select_by_value("late")
        .await
        .unwrap();
    browser
        .field("Status of Student 002")
        .await
        .select_by_value("excused")
        .await
        .unwrap();

    // Meanwhile the register is closed elsewhere: everyone unmarked becomes absent.
    let closed = app
        .post(
            &format!("/api/sessions/{session}/close"),
            &app.admin,
            serde_json::json!({}),
        )
        .await;
    expect_json(closed, StatusCode::OK).await;

    browser.press("Save the roll call").await;
    let text = browser.text().await;
    assert!(
        text.contains("closed") && text.contains("Nothing was recorded"),
        "{text}"
    );
    let kept = |label: &'static str| {
        let browser = &browser;
        async move {
            browser
                .field(label)
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default()
        }
    };
    assert_eq!(kept("Status of Student 001").await, "late");
    assert_eq!(kept("Status of Student 002").await, "excused");
    // Nothing was entered for S003: it shows unmarked, or, once the page's live update
    // brings the closing from elsewhere (if the event reaches it after the page loaded),
    // absent as the register now holds it. Never anything else.
    let untouched = kept("Status of Student 003").await;
    assert!(matches!(untouched.as_str(), "" | "absent"), "{untouched}");
    browser.close().await;
}
