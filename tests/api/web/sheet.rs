//! The bubble sheet from the register page: its staff print it, nobody else gets it.

use super::browser::Browser;
use super::{TEACHER, school};
use crate::helpers::{PASSWORD, TestApp};
use fantoccini::Locator;
use serde_json::{Value, json};

/// Status, type and the first bytes (as text) of what `path` answers the signed-in browser.
async fn fetch(browser: &Browser, path: &str) -> (u64, String, String) {
    let script = "const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(async r => done([r.status, r.headers.get('content-type') || '',
            (await r.text()).slice(0, 8)]));";
    let answer: Value = browser
        .client
        .execute_async(script, vec![json!(path)])
        .await
        .unwrap();
    let text = |i: usize| answer[i].as_str().unwrap_or_default().to_string();
    (answer[0].as_u64().unwrap(), text(1), text(2))
}

#[tokio::test]
async fn the_register_page_links_the_sessions_bubble_sheet_for_its_staff_only() {
    let app = TestApp::spawn().await;
    let (session, _) = school(&app, 3).await;
    app.create_user("sam", "student", Some("S001")).await;
    let browser = Browser::start(&app.base).await;
    browser.sign_in(TEACHER, PASSWORD).await;
    browser.open(&format!("/sessions/{session}")).await;
    let link = browser
        .client
        .find(Locator::LinkText("Print the bubble sheet (PDF)"))
        .await
        .expect("the sheet's link");
    let href = link.attr("href").await.unwrap().unwrap();
    assert_eq!(href, format!("/sessions/{session}/sheet.pdf"));
    let (status, kind, start) = fetch(&browser, &href).await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    assert!(start.starts_with("%PDF"), "{start}");
    browser.press("Sign out").await;

    browser.sign_in("sam", PASSWORD).await;
    let (status, kind, _) = fetch(&browser, &href).await;
    assert_eq!(status, 404);
    assert!(kind.starts_with("text/html"), "{kind}");
    browser.close().await;
}
