//! What a refusal gives away (issue 23, item 10): a teacher asking for a course (or a
//! session) they do not teach gets the answer a course that does not exist gets.

use crate::helpers::TestApp;
use reqwest::StatusCode;

async fn answer(app: &TestApp, path: &str, token: &str) -> (StatusCode, String) {
    let response = app.get(path, token).await;
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_course_or_session_someone_may_not_read_answers_as_one_that_does_not_exist() {
    let app = TestApp::spawn().await;
    let session = app.course_with_session().await;
    let (_, other) = app.create_user("otto", "teacher", None).await;

    let (status, hidden) = answer(&app, "/api/courses/CS101", &other).await;
    let (missing_status, missing) = answer(&app, "/api/courses/NOPE1", &other).await;
    assert_eq!(
        (status, missing_status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(hidden.replace("CS101", "NOPE1"), missing);

    let absent = "01a20e97abab71d585620a59b45afc7d";
    let (status, hidden) = answer(&app, &format!("/api/sessions/{session}"), &other).await;
    let (missing_status, missing) = answer(&app, &format!("/api/sessions/{absent}"), &other).await;
    assert_eq!(
        (status, missing_status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(hidden.replace(&session, absent), missing);
}

#[tokio::test]
async fn oversized_headers_are_answered_431_with_a_problem_document() {
    let app = TestApp::spawn().await;
    let response = app
        .request(reqwest::Method::GET, "/api/courses", Some(&app.admin))
        .header("x-padding", "p".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let kind = response.headers().get("content-type").cloned();
    assert_eq!(kind.unwrap(), "application/problem+json");
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        (problem["status"].as_u64(), problem["code"].as_str()),
        (Some(431), Some("headers_too_large"))
    );
}
