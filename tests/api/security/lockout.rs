//! The lockout cannot be raced (issue 23, item 3): each attempt is counted before its
//! password is checked, so a burst of guesses gets the free failures and no more.

use crate::helpers::{PASSWORD, TestApp};
use futures::future::join_all;
use reqwest::StatusCode;

#[tokio::test]
async fn forty_concurrent_wrong_guesses_check_at_most_five_passwords() {
    let app = TestApp::spawn().await;
    app.create_user("victim", "teacher", None).await;
    let app = &app;
    let guesses =
        (0..40).map(|i| async move { app.login("victim", &format!("wrong-guess-{i}")).await });
    let answers: Vec<StatusCode> = join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    for status in &answers {
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(status),
            "unexpected answer {status}"
        );
    }
    assert!(
        checked <= 5,
        "{checked} of 40 concurrent guesses had their password checked"
    );
    // The right password now waits for the lock like any other attempt.
    assert_eq!(
        app.login("victim", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
