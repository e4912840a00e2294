//! Reports from the pages: the course page's form downloads the course report, or one
//! student's, in each format and as of a day; a student downloads their own report and
//! nobody else's.

use super::browser::Browser;
use super::{COURSE, TEACHER, school};
use crate::helpers::{PASSWORD, TestApp, expect_json, wait_until};
use chrono::{Duration as Days, Utc};
use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// What the report form, as filled in, downloads: status, type, file name, text.
async fn download(browser: &Browser) -> (u64, String, String, String) {
    let script = "const done = arguments[arguments.length - 1];
        const form = document.querySelector('form[aria-labelledby=reports]');
        const url = form.action + '?' + new URLSearchParams(new FormData(form));
        fetch(url).then(async r => done([r.status, r.headers.get('content-type') || '',
            r.headers.get('content-disposition') || '', (await r.text()).slice(0, 4000)]));";
    let answer = browser
        .client
        .execute_async(script, Vec::new())
        .await
        .expect("the form's download");
    let field = |i: usize| answer[i].as_str().unwrap_or_default().to_string();
    (answer[0].as_u64().unwrap(), field(1), field(2), field(3))
}

/// What a URL answers the signed-in browser: status and text.
async fn fetch(browser: &Browser, path: &str) -> (u64, String) {
    let script = "const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(async r => done([r.status, await r.text()]));";
    let answer: Value = browser
        .client
        .execute_async(script, vec![json!(path)])
        .await
        .unwrap();
    (
        answer[0].as_u64().unwrap(),
        answer[1].as_str().unwrap().to_string(),
    )
}

async fn choose(browser: &Browser, label: &str, value: &str) {
    browser
        .field(label)
        .await
        .select_by_value(value)
        .await
        .unwrap();
}

async fn as_of(browser: &Browser, day: &str) {
    browser
        .client
        .execute(
            "document.getElementById('report-as-of').value = arguments[0]",
            vec![json!(day)],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn the_course_page_downloads_reports_in_each_format_and_as_of_a_day() {
    let app = TestApp::spawn().await;
    let (session, teacher) = school(&app, 3).await;
    app.create_user("sam", "student", Some("S001")).await;
    for (student, status) in [("S001", "present"), ("S002", "absent")] {
        let recorded = app.record(&teacher, &session, student, status).await;
        expect_json(recorded, StatusCode::CREATED).await;
    }
    let browser = Browser::start(&app.base).await;
    browser.sign_in(TEACHER, PASSWORD).await;
    browser.open(&format!("/courses/{COURSE}")).await;
    wait_until(Duration::from_secs(20), || async {
        browser.client.refresh().await.unwrap();
        browser.text().await.contains("100.0 %")
    })
    .await;

    choose(&browser, "Format", "csv").await;
    let (status, kind, name, text) = download(&browser).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(name.contains(&format!("course-{COURSE}-")), "{name}");
    assert!(text.contains("S001") && text.contains("S002"), "{text}");

    choose(&browser, "Format", "xlsx").await;
    let (status, kind, name, _) = download(&browser).await;
    assert_eq!(status, 200);
    assert!(kind.contains("spreadsheetml"), "{kind}");
    assert!(name.ends_with(".xlsx\""), "{name}");

    choose(&browser, "Format", "pdf").await;
    choose(&browser, "Student", "S002").await;
    let (status, kind, name, text) = download(&browser).await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/pdf");
    assert!(name.contains("attendance-S002-WEB101"), "{name}");
    assert!(text.starts_with("%PDF"));

    // As of the end of yesterday, nothing had been recorded: said in words, not a file.
    let yesterday = (Utc::now() - Days::days(1)).date_naive().to_string();
    choose(&browser, "Student", "").await;
    choose(&browser, "Format", "csv").await;
    as_of(&browser, &yesterday).await;
    let (status, kind, _, text) = download(&browser).await;
    assert_eq!(status, 404, "{text}");
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(text.contains("nothing to report yet"), "{text}");
    // As of today: the register as it is now, the day in the file name.
    let today = Utc::now().date_naive().to_string();
    as_of(&browser, &today).await;
    let (status, _, name, _) = download(&browser).await;
    assert_eq!(status, 200);
    assert!(name.contains(&format!("as-of-{today}")), "{name}");
    browser.press("Sign out").await;

    // A student downloads their own report, and nobody else's.
    browser.sign_in("sam", PASSWORD).await;
    browser.open(&format!("/courses/{COURSE}")).await;
    assert!(
        browser
            .client
            .find(Locator::XPath(
                "//button[normalize-space()='Download my report']"
            ))
            .await
            .is_ok()
    );
    choose(&browser, "Format", "csv").await;
    let (status, _, name, text) = download(&browser).await;
    assert_eq!(status, 200, "{text}");
    assert!(name.contains("attendance-S001-WEB101"), "{name}");
    assert!(!text.contains("S002"), "{text}");
    for path in [
        format!("/courses/{COURSE}/students/S002/report?format=csv"),
        format!("/courses/{COURSE}/report?format=csv"),
        format!("/courses/{COURSE}/report?format=csv&student=S002"),
    ] {
        let (status, text) = fetch(&browser, &path).await;
        assert_eq!(status, 404, "{path}: {text}");
        assert!(!text.contains("S002"), "{path}: {text}");
    }
    browser.close().await;
}
