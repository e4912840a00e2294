//! Secrets stay secret (issue 23, item 9): no credentials in `NATS_URL`, no query strings in
//! the request logs, no sign-in answer kept for idempotent replay, no token outliving its
//! lifetime; and the docs page is served with security headers (item 10).

use super::support::ChildServer;
use crate::helpers::{ADMIN_PASSWORD, TestApp, fresh_database_name, test_config};
use attendance::startup::Application;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::process::Stdio;

#[tokio::test]
async fn credentials_inside_nats_url_are_refused_and_never_repeated() {
    let mut config = test_config(&fresh_database_name());
    config.connections.nats_url = "nats://service:hunter2-secret@127.0.0.1:4222".into();
    let Err(error) = Application::build(&config).await else {
        panic!("a NATS_URL with a password was accepted");
    };
    let shown = format!("{error:#}");
    assert!(shown.contains("NATS_USER"), "{shown}");
    assert!(!shown.contains("hunter2-secret"), "{shown}");
}

#[tokio::test]
async fn request_logs_name_the_path_but_not_the_query_string() {
    let app = TestApp::spawn_with(|c| {
        c.no_relay = true;
        c.no_projectors = true;
    })
    .await;
    let path = std::env::temp_dir().join(format!("{}.log", app.database));
    let file = std::fs::File::create(&path).unwrap();
    let server =
        ChildServer::serve_logging(&app, &[("RUST_LOG", "debug")], Stdio::from(file)).await;
    let answer = app
        .client
        .get(format!(
            "{}/api/courses?leaked_probe=query-secret-4711",
            server.base
        ))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    let _ = answer.bytes().await;
    drop(server);
    let log = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(log.contains("/api/courses"), "the path is logged");
    assert!(
        !log.contains("query-secret-4711"),
        "the query string was logged"
    );
}

#[tokio::test]
async fn sign_in_answers_are_never_kept_for_idempotent_replay() {
    let app = TestApp::spawn().await;
    for _ in 0..2 {
        let answer = app
            .request(Method::POST, "/api/auth/login", Some(&app.admin))
            .header("idempotency-key", "login-1")
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 0, "a sign-in answer (with its token) was stored");
}

#[tokio::test]
async fn the_docs_page_is_served_with_security_headers() {
    let app = TestApp::spawn().await;
    let answer = app
        .request(Method::GET, "/api/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("x-frame-options"), "DENY");
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header("referrer-policy"), "no-referrer");
}

async fn stored_secret(database: &str) -> Option<String> {
    let pool = sqlx::PgPool::connect(&test_config(database).connections.database_url)
        .await
        .unwrap();
    let value = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'jwt_secret'")
        .fetch_optional(&pool)
        .await
        .unwrap();
    pool.close().await;
    value
}

#[tokio::test]
async fn a_generated_jwt_secret_lives_in_a_private_key_file_not_in_the_database() {
    use std::os::unix::fs::PermissionsExt;
    let database = fresh_database_name();
    let mut config = test_config(&database);
    config.jwt_secret = None;
    let key_file = config.jwt_key_file.clone();
    drop(
        Application::build(&config)
            .await
            .expect("the application starts"),
    );
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the key file is its owner's only");
    assert!(std::fs::read_to_string(&key_file).unwrap().len() >= 32);
    assert_eq!(
        stored_secret(&database).await,
        None,
        "no secret in settings"
    );

    // A secret an earlier version kept in the database moves to the file.
    let legacy = "a-legacy-secret-kept-in-settings-0123456789";
    let pool = sqlx::PgPool::connect(&config.connections.database_url)
        .await
        .unwrap();
    sqlx::query("INSERT INTO settings (key, value) VALUES ('jwt_secret', $1)")
        .bind(legacy)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    std::fs::remove_file(&key_file).unwrap();
    drop(
        Application::build(&config)
            .await
            .expect("the application starts"),
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), legacy);
    assert_eq!(
        stored_secret(&database).await,
        None,
        "the database forgot it"
    );
    let _ = std::fs::remove_file(&key_file);
}
