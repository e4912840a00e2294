//! Accounts people look after (issue 18): changing one's own password, an administrator's
//! reset to a one-time password, disabling and enabling, refreshing a token, signing out,
//! the password policy, and the audit trail of every change.

use crate::helpers::{PASSWORD, TestApp, expect_json, expect_problem, problem_fields};
use reqwest::StatusCode;
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "correct-horse-battery-staple";

async fn change_password(
    app: &TestApp,
    token: &str,
    current: &str,
    new: &str,
) -> reqwest::Response {
    app.post(
        "/api/auth/password",
        token,
        json!({"current_password": current, "new_password": new}),
    )
    .await
}

async fn me(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/auth/me", token).await.status()
}

/// The account's audit trail as `(change, by, source)`.
async fn changes(app: &TestApp, id: &str) -> Vec<(String, Value, String)> {
    let trail = expect_json(
        app.get(&format!("/api/users/{id}/changes"), &app.admin)
            .await,
        StatusCode::OK,
    )
    .await;
    trail
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_string(),
                c["by"].clone(),
                c["source"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn admin_id(app: &TestApp) -> Value {
    expect_json(app.get("/api/auth/me", &app.admin).await, StatusCode::OK).await["id"].clone()
}

#[tokio::test]
async fn changing_ones_own_password_revokes_the_earlier_tokens_and_answers_a_fresh_one() {
    let app = TestApp::spawn().await;
    let (id, token) = app.create_user("tina", "teacher", None).await;
    let other = app.token("tina", PASSWORD).await;

    let wrong = change_password(&app, &token, "not-my-password", NEW_PASSWORD).await;
    let problem = expect_problem(wrong, StatusCode::UNPROCESSABLE_ENTITY, "wrong_password").await;
    assert_eq!(problem_fields(&problem), ["current_password"]);
    assert_eq!(me(&app, &token).await, StatusCode::OK, "nothing changed");

    let changed = change_password(&app, &token, PASSWORD, NEW_PASSWORD).await;
    let body = expect_json(changed, StatusCode::OK).await;
    assert_eq!(body["must_change_password"], false);
    let fresh = body["token"].as_str().unwrap().to_string();
    assert_eq!(me(&app, &fresh).await, StatusCode::OK);
    // Both earlier tokens are refused at once, though issued in the same second.
    assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &other).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("tina", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.token("tina", NEW_PASSWORD).await;

    let trail = changes(&app, &id).await;
    assert_eq!(
        trail,
        [
            (
                "created".to_string(),
                admin_id(&app).await,
                "api".to_string()
            ),
            ("password_changed".to_string(), json!(id), "api".to_string()),
        ]
    );
}

#[tokio::test]
async fn every_new_password_meets_the_policy() {
    let app = TestApp::spawn().await;
    let (_, token) = app.create_user("tina.teacher", "teacher", None).await;
    for weak in [
        "short-pass1",
        "Tina.Teacher",
        "Password1234",
        "qwerty123456",
        "xxxxxxxxxxxxxx",
    ] {
        let refused = change_password(&app, &token, PASSWORD, weak).await;
        let problem =
            expect_problem(refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
        assert_eq!(
            problem_fields(&problem),
            ["new_password"],
            "{weak}: {problem}"
        );
    }
    // An exactly-12-character username is refused as its own password at creation too.
    let created = app
        .post(
            "/api/users",
            &app.admin,
            json!({"username": "margaret1234", "password": "MARGARET1234", "role": "teacher"}),
        )
        .await;
    let problem = expect_problem(created, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["password"]);
    assert_eq!(me(&app, &token).await, StatusCode::OK, "nothing changed");
}

#[tokio::test]
async fn a_reset_account_signs_in_once_with_its_one_time_password_and_must_change_it() {
    let app = TestApp::spawn().await;
    let (id, token) = app.create_user("tina", "teacher", None).await;
    app.create_course("CS101").await;

    let reset = app
        .post(
            &format!("/api/users/{id}/password-reset"),
            &app.admin,
            json!({}),
        )
        .await;
    let reset = expect_json(reset, StatusCode::OK).await;
    assert_eq!(reset["must_change_password"], true);
    let one_time = reset["one_time_password"].as_str().unwrap().to_string();
    assert!(one_time.len() >= 12);
    // The token from before the reset is refused at once (issued in the same second).
    let old = app.get("/api/auth/me", &token).await;
    expect_problem(old, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(
        app.login("tina", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let login = expect_json(app.login("tina", &one_time).await, StatusCode::OK).await;
    assert_eq!(login["must_change_password"], true);
    assert_eq!(login["user"]["must_change_password"], true);
    let pending = login["token"].as_str().unwrap().to_string();
    for path in ["/api/auth/me", "/api/courses", "/api/me/sessions"] {
        let refused = app.get(path, &pending).await;
        expect_problem(refused, StatusCode::FORBIDDEN, "password_change_required").await;
    }
    let refresh = app.post("/api/auth/refresh", &pending, json!({})).await;
    expect_problem(refresh, StatusCode::FORBIDDEN, "password_change_required").await;
    // The one-time password itself is not a new password.
    let same = change_password(&app, &pending, &one_time, &one_time).await;
    let problem = expect_problem(same, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(problem_fields(&problem), ["new_password"]);
    let body = expect_json(
        change_password(&app, &pending, &one_time, NEW_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["must_change_password"], false);
    let fresh = body["token"].as_str().unwrap();
    assert_eq!(me(&app, fresh).await, StatusCode::OK);
    assert_eq!(me(&app, &pending).await, StatusCode::UNAUTHORIZED);

    let admin = admin_id(&app).await;
    let trail: Vec<_> = changes(&app, &id).await;
    let names: Vec<&str> = trail.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(names, ["created", "password_reset", "password_changed"]);
    assert_eq!(trail[1].1, admin, "the reset names the administrator");
    assert_eq!(
        trail[2].1,
        json!(id),
        "the change names the account's owner"
    );
}

#[tokio::test]
async fn only_an_administrator_resets_and_an_unknown_account_is_404() {
    let app = TestApp::spawn().await;
    let (id, teacher) = app.create_user("tina", "teacher", None).await;
    let (other, _) = app.create_user("bob", "teacher", None).await;
    let refused = app
        .post(
            &format!("/api/users/{other}/password-reset"),
            &teacher,
            json!({}),
        )
        .await;
    expect_problem(refused, StatusCode::FORBIDDEN, "forbidden").await;
    let unknown = app
        .post("/api/users/nobody/password-reset", &app.admin, json!({}))
        .await;
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;
    let unknown = app
        .post("/api/users/nobody/enable", &app.admin, json!({}))
        .await;
    expect_problem(unknown, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(me(&app, &teacher).await, StatusCode::OK);
    assert_eq!(changes(&app, &id).await.len(), 1);
}

#[tokio::test]
async fn a_disabled_account_enabled_again_signs_in_again_but_its_old_tokens_stay_refused() {
    let app = TestApp::spawn().await;
    let (id, token) = app.create_user("tina", "teacher", None).await;
    let disabled = app.delete(&format!("/api/users/{id}"), &app.admin).await;
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("tina", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let enabled = app
        .post(&format!("/api/users/{id}/enable"), &app.admin, json!({}))
        .await;
    assert_eq!(enabled.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED);
    let fresh = app.token("tina", PASSWORD).await;
    assert_eq!(me(&app, &fresh).await, StatusCode::OK);
    // Enabling an enabled account changes and records nothing.
    let again = app
        .post(&format!("/api/users/{id}/enable"), &app.admin, json!({}))
        .await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT);

    let admin = admin_id(&app).await;
    let trail = changes(&app, &id).await;
    assert_eq!(
        trail,
        [
            ("created".to_string(), admin.clone(), "api".to_string()),
            ("disabled".to_string(), admin.clone(), "api".to_string()),
            ("enabled".to_string(), admin, "api".to_string()),
        ]
    );
    let users = expect_json(app.get("/api/users", &app.admin).await, StatusCode::OK).await;
    let tina = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap();
    assert_eq!(tina["disabled"], false);
}

#[tokio::test]
async fn a_refreshed_token_replaces_the_old_one() {
    let app = TestApp::spawn().await;
    let (_, token) = app.create_user("tina", "teacher", None).await;
    let refreshed = expect_json(
        app.post("/api/auth/refresh", &token, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(refreshed["token_type"], "Bearer");
    assert_eq!(refreshed["user"]["username"], "tina");
    let fresh = refreshed["token"].as_str().unwrap();
    assert_ne!(fresh, token);
    assert_eq!(me(&app, fresh).await, StatusCode::OK);
    assert_eq!(me(&app, &token).await, StatusCode::UNAUTHORIZED);
    let again = app.post("/api/auth/refresh", &token, json!({})).await;
    expect_problem(again, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let anonymous = app
        .request(reqwest::Method::POST, "/api/auth/refresh", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_out_revokes_only_that_token() {
    let app = TestApp::spawn().await;
    let (_, token) = app.create_user("tina", "teacher", None).await;
    let phone = app.token("tina", PASSWORD).await;
    let out = app.post("/api/auth/logout", &token, json!({})).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let after = app.get("/api/auth/me", &token).await;
    expect_problem(after, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(
        me(&app, &phone).await,
        StatusCode::OK,
        "the other session goes on"
    );
    let twice = app.post("/api/auth/logout", &token, json!({})).await;
    assert_eq!(twice.status(), StatusCode::UNAUTHORIZED);
}
