//! The administrators' health page: each part of the system and its state in words, from
//! the same check as `/api/health`; nobody else may see it.

use super::browser::Browser;
use super::{TEACHER, school};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp, wait_until};
use std::time::Duration;

fn row<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(what))
        .unwrap_or_else(|| panic!("no line {what} in {text}"))
}

#[tokio::test]
async fn an_admin_reads_the_systems_health_in_words_and_a_teacher_cannot() {
    let app = TestApp::spawn().await;
    school(&app, 2).await;
    let browser = Browser::start(&app.base).await;
    browser.sign_in("admin", ADMIN_PASSWORD).await;
    browser.follow("System health").await;
    wait_until(Duration::from_secs(20), || async {
        browser.client.refresh().await.unwrap();
        browser.text().await.contains("Everything is working.")
    })
    .await;
    let text = browser.text().await;
    assert!(row(&text, "Database").contains("Answering ("), "{text}");
    assert!(
        row(&text, "Messaging server").contains("Answering ("),
        "{text}"
    );
    assert!(
        row(&text, "Relay").contains("Every event is published."),
        "{text}"
    );
    assert!(row(&text, "course_stats").contains("Up to date."), "{text}");
    assert!(
        row(&text, "sheet_import").contains("Working normally."),
        "{text}"
    );
    browser.screenshot("health").await;
    browser.press("Sign out").await;
    browser.sign_in(TEACHER, PASSWORD).await;
    browser.open("/admin/health").await;
    let text = browser.text().await;
    assert!(
        !text.contains("Database") && !text.contains("sheet_import"),
        "{text}"
    );
    browser.close().await;

    // Without a relay the events wait in the store: the page says how many and how long.
    let stalled = TestApp::spawn_with(|c| c.no_relay = true).await;
    school(&stalled, 2).await;
    let browser = Browser::start(&stalled.base).await;
    browser.sign_in("admin", ADMIN_PASSWORD).await;
    browser.open("/admin/health").await;
    let text = browser.text().await;
    assert!(
        row(&text, "Relay").contains("events waiting to be published, the oldest for"),
        "{text}"
    );
    browser.close().await;
}
