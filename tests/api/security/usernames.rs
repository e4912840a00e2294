//! Usernames cannot pass for one another (issue 23, item 8).

use crate::helpers::{PASSWORD, TestApp, expect_problem};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn usernames_are_unique_by_their_folded_form_and_refuse_invisible_and_mixed_letters() {
    let app = TestApp::spawn().await;
    let create = |username: &str| {
        let body = json!({"username": username, "password": PASSWORD, "role": "teacher"});
        app.post("/api/users", &app.admin, body)
    };
    for same in ["Admin", "ADMIN", "ａｄｍｉｎ"] {
        expect_problem(create(same).await, StatusCode::CONFLICT, "username_taken").await;
    }
    for invisible in ["ad\u{200b}min", "ad\u{202e}nim", "\u{0430}dmin"] {
        expect_problem(
            create(invisible).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
    }
    assert_eq!(create("Zoë").await.status(), StatusCode::CREATED);
    expect_problem(create("ZOË").await, StatusCode::CONFLICT, "username_taken").await;
}
