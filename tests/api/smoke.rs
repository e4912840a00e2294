//! The five-minute walkthrough of the README, end to end.

use crate::helpers::{TestApp, expect_json, roster_row};
use reqwest::StatusCode;

#[tokio::test]
async fn a_teacher_records_and_reads_back_attendance() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("ada", "CS101").await;
    let marked = expect_json(
        app.record(&teacher, &session, "S2", "late").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(marked["status"], "late");
    assert_eq!(marked["version"], 2, "opened + recorded");
    let view = app.session_view(&teacher, &session).await;
    let row = roster_row(&view, "S2");
    assert_eq!(row["status"], "late");
    assert_eq!(row["name"], "Zoë Ñúñez");
    assert_eq!(row["method"], "manual");
}
