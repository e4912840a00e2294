//! The calendar pages: an administrator sets a course's time zone and declares a closed
//! day (previewing first which sessions it cancels), then opens it again; a teacher creates
//! a calendar feed, whose address answers until it is revoked. Only administrators reach
//! the closed days and the zone.

use super::browser::Browser;
use super::forgery::{client, form_token};
use super::{COURSE, TEACHER, school};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp};
use chrono::Utc;
use fantoccini::Locator;
use reqwest::StatusCode;
use reqwest::header::COOKIE;

#[tokio::test]
async fn an_admin_sets_a_zone_and_declares_a_closed_day_after_a_preview() {
    let app = TestApp::spawn().await;
    let (session, teacher_token) = school(&app, 1).await;
    let admin = Browser::start(&app.base).await;
    admin.sign_in("admin", ADMIN_PASSWORD).await;

    admin.open(&format!("/admin/courses/{COURSE}")).await;
    admin.fill("Time zone", "Mars/Olympus").await;
    admin.press("Set the time zone").await;
    assert!(admin.text().await.contains("Unknown time zone"));
    admin.fill("Time zone", "Africa/Cairo").await;
    admin.press("Set the time zone").await;
    let zone = admin.field("Time zone").await.prop("value").await.unwrap();
    assert_eq!(zone.as_deref(), Some("Africa/Cairo"));

    // Today's 08:00 UTC session falls on the day: the preview names it, cancels nothing.
    let today = Utc::now().date_naive().to_string();
    admin.follow("Closed days").await;
    admin.fill("First day (YYYY-MM-DD)", &today).await;
    admin.fill("Reason", "Storm warning").await;
    admin.press("Preview").await;
    let text = admin.text().await;
    assert!(
        text.contains("Declaring would cancel 1 sessions:"),
        "{text}"
    );
    assert!(text.contains("WEB101 · Morning lecture"), "{text}");
    assert!(text.contains("No closed days declared."), "{text}");
    let view = app.session_view(&teacher_token, &session).await;
    assert_eq!(view["session"]["cancelled"], false, "{view}");

    admin.press("Declare").await;
    let text = admin.text().await;
    assert!(text.contains("Declared: 1 sessions cancelled."), "{text}");
    assert!(text.contains("Storm warning"), "{text}");
    let view = app.session_view(&teacher_token, &session).await;
    assert_eq!(view["session"]["cancelled"], true, "{view}");

    admin.press_starting("Open again").await;
    let text = admin.text().await;
    assert!(text.contains("The day is open again."), "{text}");
    assert!(text.contains("No closed days declared."), "{text}");
    admin.close().await;

    // A teacher's session cookie does not reach the administrators' calendar.
    let cookie = format!("__Host-attendance={teacher_token}");
    let page = client()
        .get(format!("{}/admin/calendar", app.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let home = client()
        .get(format!("{}/", app.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let declared = client()
        .post(format!("{}/admin/calendar/closures", app.base))
        .header(COOKIE, &cookie)
        .form(&[
            ("csrf", form_token(&home).as_str()),
            ("from", today.as_str()),
            ("reason", "not mine to say"),
            ("action", "declare"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_teacher_subscribes_to_a_calendar_feed_and_revokes_it() {
    let app = TestApp::spawn().await;
    school(&app, 1).await;
    let teacher = Browser::start(&app.base).await;
    teacher.sign_in(TEACHER, PASSWORD).await;
    teacher.follow("Calendar feeds").await;
    assert!(teacher.text().await.contains("No feeds yet."));
    teacher.press("Create a feed").await;
    let url = teacher
        .client
        .find(Locator::Css("code.secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let path = url
        .split_once("/api/")
        .map(|(_, p)| format!("/api/{p}"))
        .unwrap();
    let feed = client()
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(feed.text().await.unwrap().contains("Morning lecture"));

    teacher.open("/calendar/feeds").await;
    assert!(!teacher.text().await.contains(&url), "shown only once");
    teacher.press_starting("Revoke").await;
    let text = teacher.text().await;
    assert!(text.contains("The feed was revoked"), "{text}");
    assert!(text.contains("Revoked"), "{text}");
    let feed = client()
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::NOT_FOUND);
    teacher.close().await;
}
