//! `attendance user passwd` (issue 23, item 9): a password set on the command line takes
//! effect at once, and the tokens issued before it stop working.

use crate::helpers::{PASSWORD, TestApp, attendance_binary, postgres_base, wait_until};
use crate::hostile::tokens::resigned;
use reqwest::StatusCode;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const NEW_PASSWORD: &str = "a-new-password-for-tests";

/// Runs `attendance user passwd` on a database, the new password on standard input.
async fn passwd(database: &str, username: &str) -> std::process::Output {
    let (database, username) = (database.to_string(), username.to_string());
    tokio::task::spawn_blocking(move || run_passwd(&database, &username))
        .await
        .unwrap()
}

fn run_passwd(database: &str, username: &str) -> std::process::Output {
    let mut child = Command::new(attendance_binary())
        .args(["user", "passwd", "--username", username])
        .env("DATABASE_URL", format!("{}/{database}", postgres_base()))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the attendance binary runs");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{NEW_PASSWORD}").unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn a_password_changed_on_the_command_line_revokes_the_tokens_issued_before() {
    let app = TestApp::spawn().await;
    let (_, token) = app.create_user("tina", "teacher", None).await;
    // Issued ten seconds ago (token times have one-second resolution).
    let earlier = resigned(&app, &token, |claims| {
        for claim in ["iat", "nbf"] {
            claims[claim] = (claims[claim].as_i64().unwrap() - 10).into();
        }
    });
    let me = |token: String| {
        let app = &app;
        async move { app.get("/api/auth/me", &token).await.status() }
    };
    assert_eq!(me(earlier.clone()).await, StatusCode::OK);

    let output = passwd(&app.database, "tina").await;
    assert!(output.status.success(), "{output:?}");

    wait_until(Duration::from_secs(10), || async {
        me(earlier.clone()).await == StatusCode::UNAUTHORIZED
    })
    .await;
    assert_eq!(
        app.login("tina", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let fresh = app.token("tina", NEW_PASSWORD).await;
    assert_eq!(me(fresh).await, StatusCode::OK);
    let unknown = passwd(&app.database, "nobody").await;
    assert!(!unknown.status.success(), "an unknown account is an error");
}
