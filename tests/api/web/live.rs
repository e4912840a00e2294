//! Live updates across `serve` processes: two processes on one database and stream, a
//! browser on each. A mark saved in one browser, and marks recorded through the JSON API,
//! appear in the other browser's register and statistics without a reload, and only once
//! the read model holds them; a control changed on the page and not yet saved is kept.

use super::browser::Browser;
use super::{COURSE, TEACHER, school};
use crate::helpers::{PASSWORD, TestApp, expect_json, wait_until};
use attendance::startup::Application;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

/// A second `serve` process on the app's database and stream, without relay or projectors
/// (the first one relays and projects for both); returns its base URL.
async fn second_process(app: &TestApp) -> String {
    let mut config = app.config.clone();
    config.no_relay = true;
    config.no_projectors = true;
    let second = Application::build(&config)
        .await
        .expect("a second process starts");
    let base = format!("http://{}", second.local_addr());
    tokio::spawn(second.run_until(std::future::pending()));
    base
}

/// Waits until `processes` live feeds follow the app's stream (each process's one
/// subscription is an ephemeral consumer; the projectors' are durable `projector-*`).
async fn feeds_subscribed(app: &TestApp, processes: usize) {
    let client = async_nats::connect(app.config.connections.nats_url.as_str())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client);
    let stream_name = app.config.relay.stream.clone();
    wait_until(Duration::from_secs(20), || {
        let js = js.clone();
        let stream_name = stream_name.clone();
        async move {
            let Ok(stream) = js.get_stream(&stream_name).await else {
                return false;
            };
            let names: Vec<String> = stream
                .consumer_names()
                .filter_map(|n| async move { n.ok() })
                .collect()
                .await;
            names
                .iter()
                .filter(|n| !n.starts_with("projector-"))
                .count()
                >= processes
        }
    })
    .await;
}

async fn value_of(browser: &Browser, label: &str) -> String {
    browser
        .field(label)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Marks the page, so that a reload (which forgets it) can be told from a live update.
async fn mark_page(browser: &Browser) {
    browser
        .client
        .execute("window.sameDocument = true", Vec::new())
        .await
        .unwrap();
}

async fn same_page(browser: &Browser) -> bool {
    browser
        .client
        .execute("return window.sameDocument === true", Vec::new())
        .await
        .unwrap()
        == json!(true)
}

#[tokio::test]
async fn a_second_browser_on_another_process_sees_marks_appear_without_reloading() {
    let app = TestApp::spawn().await;
    let (session, teacher) = school(&app, 5).await;
    let other = second_process(&app).await;
    feeds_subscribed(&app, 2).await;
    let first = Browser::start(&app.base).await;
    let second = Browser::start(&other).await;
    first.sign_in(TEACHER, PASSWORD).await;
    second.sign_in(TEACHER, PASSWORD).await;
    let register = format!("/sessions/{session}");
    first.open(&register).await;
    second.open(&register).await;
    mark_page(&second).await;
    assert!(!second.text().await.contains("Updated just now"));
    assert!(second.text().await.contains("Register: not taken yet"));

    // The first teacher saves a mark; it appears on the second teacher's page.
    first
        .field("Status of Student 001")
        .await
        .select_by_value("late")
        .await
        .unwrap();
    first.press("Save the roll call").await;
    assert!(
        first.text().await.contains("Saved."),
        "{}",
        first.text().await
    );
    wait_until(Duration::from_secs(20), || async {
        value_of(&second, "Status of Student 001").await == "late"
    })
    .await;
    let text = second.text().await;
    assert!(
        text.contains("Updated just now") && text.contains("4 unmarked"),
        "{text}"
    );
    assert!(same_page(&second).await, "the page was reloaded");
    // What arrived is a mark now: changing it on this page asks for a reason.
    second
        .field("Reason if changed: Student 001")
        .await
        .send_keys("")
        .await
        .unwrap();

    // A status chosen on the page and not saved yet is kept when a mark arrives for it.
    second
        .field("Status of Student 003")
        .await
        .select_by_value("excused")
        .await
        .unwrap();
    let marks = json!({"marks": [
        {"student_id": "S003", "status": "present"},
        {"student_id": "S004", "status": "absent"},
    ]});
    let recorded = app
        .post(
            &format!("/api/sessions/{session}/attendance"),
            &teacher,
            marks,
        )
        .await;
    expect_json(recorded, StatusCode::OK).await;
    wait_until(Duration::from_secs(20), || async {
        value_of(&second, "Status of Student 004").await == "absent"
    })
    .await;
    assert_eq!(value_of(&second, "Status of Student 003").await, "excused");
    assert!(same_page(&second).await, "the page was reloaded");
    second.screenshot("live-register").await;

    // The statistics page follows too: a student marked absent turns at risk.
    second.open(&format!("/courses/{COURSE}")).await;
    mark_page(&second).await;
    // Read in one step: the live update replaces the table between two WebDriver calls.
    let row = || async {
        let script = "const row = Array.from(document.querySelectorAll('tbody tr'))
            .find(tr => tr.querySelector('th').textContent.trim() === 'Student 002');
            return row ? row.innerText : '';";
        let text = second.client.execute(script, Vec::new()).await.unwrap();
        text.as_str().unwrap_or_default().to_string()
    };
    assert!(!row().await.contains("At risk"), "{}", row().await);
    let recorded = app.record(&teacher, &session, "S002", "absent").await;
    expect_json(recorded, StatusCode::CREATED).await;
    wait_until(Duration::from_secs(20), || async {
        row().await.contains("At risk")
    })
    .await;
    assert!(second.text().await.contains("Updated just now"));
    assert!(same_page(&second).await, "the page was reloaded");
    second.screenshot("live-statistics").await;
    first.close().await;
    second.close().await;
}
