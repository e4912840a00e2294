//! The web pages in a real browser (headless Chromium from Debian through chromedriver):
//! each test with its own server, database and stream (`TestApp`) and its own browser.
//! People find things by label and name, as a screen reader announces them.

mod accessibility;
mod account;
mod admin;
mod browser;
mod calendar;
mod check_in;
mod forgery;
mod health;
mod live;
mod policy;
mod reports;
mod roll_call;
mod sheet;
mod sheet_flow;
mod student;
mod users;
mod warnings;
mod zones;

use crate::helpers::TestApp;
use chrono::Utc;

/// The course every web test uses.
pub const COURSE: &str = "WEB101";
/// The teacher's username (password `helpers::PASSWORD`).
pub const TEACHER: &str = "tina";

/// A course with `students` students (`S001` "Student 001", ...) enrolled from today, the
/// teacher `tina`, and a session today at 08:00 UTC; returns `(session id, teacher token)`.
pub async fn school(app: &TestApp, students: usize) -> (String, String) {
    app.create_course(COURSE).await;
    let today = Utc::now().date_naive().to_string();
    for i in 1..=students {
        let id = format!("S{i:03}");
        app.create_student(&id, &format!("Student {i:03}")).await;
        app.enroll(COURSE, &id, &today).await;
    }
    let (_, teacher) = app.teacher_of(TEACHER, COURSE).await;
    let session = app
        .schedule(COURSE, "Morning lecture", &format!("{today}T08:00:00Z"))
        .await;
    (session, teacher)
}
