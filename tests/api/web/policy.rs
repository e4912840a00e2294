//! A course's attendance policy from the pages: a teacher of the course edits it, a value
//! out of range is shown next to its field with nothing changed, a student cannot see it.

use super::browser::Browser;
use super::{COURSE, TEACHER, school};
use crate::helpers::{PASSWORD, TestApp, expect_json};
use reqwest::StatusCode;

#[tokio::test]
async fn a_teacher_edits_the_policy_and_a_bad_value_is_shown_next_to_its_field() {
    let app = TestApp::spawn().await;
    let (_, teacher) = school(&app, 1).await;
    app.create_user("sam", "student", Some("S001")).await;
    let browser = Browser::start(&app.base).await;
    browser.sign_in(TEACHER, PASSWORD).await;
    browser.open(&format!("/courses/{COURSE}")).await;
    browser.follow("Attendance policy").await;
    assert_eq!(
        browser
            .field("Weight of Late")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("1")
    );

    browser.fill("Weight of Late", "1.5").await;
    browser.fill("At risk below (percent)", "60").await;
    browser.press("Save the policy").await;
    let text = browser.text().await;
    assert!(text.contains("Enter a number from 0 to 1"), "{text}");
    let late = browser.field("Weight of Late").await;
    assert_eq!(late.prop("value").await.unwrap().as_deref(), Some("1.5"));
    assert_eq!(
        late.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    let course = expect_json(
        app.get(&format!("/api/courses/{COURSE}"), &teacher).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        course["policy"]["at_risk_below"], 75.0,
        "nothing changed: {course}"
    );

    // The automatic close: a number of minutes, or nothing.
    let close_after = "Close each register automatically (minutes after the session ends)";
    browser.fill("Weight of Late", "0.5").await;
    browser.fill(close_after, "soon").await;
    browser.press("Save the policy").await;
    let text = browser.text().await;
    assert!(
        text.contains("Enter whole minutes from 0 to 43200"),
        "{text}"
    );
    let field = browser.field(close_after).await;
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some("soon"));
    assert_eq!(
        field.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );

    browser.fill(close_after, "90").await;
    browser
        .field("Excused absences count towards the rate (with their weight)")
        .await
        .click()
        .await
        .unwrap();
    browser.press("Save the policy").await;
    assert!(
        browser.text().await.contains("Saved."),
        "{}",
        browser.text().await
    );
    let course = expect_json(
        app.get(&format!("/api/courses/{COURSE}"), &teacher).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(course["policy"]["weights"]["late"], 0.5, "{course}");
    assert_eq!(course["policy"]["at_risk_below"], 60.0, "{course}");
    assert_eq!(course["policy"]["count_excused"], true, "{course}");
    assert_eq!(course["policy"]["close_after_minutes"], 90, "{course}");
    browser.press("Sign out").await;

    browser.sign_in("sam", PASSWORD).await;
    browser.open(&format!("/courses/{COURSE}/policy")).await;
    let text = browser.text().await;
    assert!(!text.contains("Weight of"), "{text}");
    browser.close().await;
}
