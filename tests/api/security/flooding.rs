//! Login flooding (issue 23, item 2): password hashing is memory-hard, so unbounded
//! concurrent logins exhaust memory. The server measured is a child process.

use super::support::ChildServer;
use crate::helpers::TestApp;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn two_hundred_concurrent_logins_keep_memory_bounded_and_are_refused_plainly() {
    let app = TestApp::spawn_with(|c| {
        c.no_relay = true;
        c.no_projectors = true;
    })
    .await;
    // A generous per-address rate, so that the hashing bound itself is what is measured.
    let server = ChildServer::serve(&app, &[("ATTENDANCE_LOGIN_PER_MINUTE", "100000")]).await;
    let url = format!("{}/api/auth/login", server.base);
    let client = reqwest::Client::new();
    // Warm up: the first login builds the dummy hash and the allocator's first arenas.
    let warm = client
        .post(&url)
        .json(&json!({"username": "warm-up", "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), StatusCode::UNAUTHORIZED);
    let idle = server.rss_mib();

    let logins = (0..200).map(|i| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let body = json!({"username": format!("flood-{i}-{}", uuid::Uuid::new_v4()), "password": "a-wrong-password"});
            let answer = client.post(&url).json(&body).send().await.expect("an answer");
            let retry_after = answer.headers().get("retry-after").is_some();
            (answer.status(), retry_after)
        }
    });
    let answers = join_all(logins).await;
    let peak = server.peak_rss_mib();
    let growth = peak - idle;
    let count = |s: StatusCode| answers.iter().filter(|(a, _)| *a == s).count();
    eprintln!(
        "200 logins: idle {idle:.0} MiB, peak {peak:.0} MiB (+{growth:.0}); 401: {}, 429: {}, 503: {}",
        count(StatusCode::UNAUTHORIZED),
        count(StatusCode::TOO_MANY_REQUESTS),
        count(StatusCode::SERVICE_UNAVAILABLE)
    );
    for (status, retry_after) in &answers {
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(status),
            "unexpected answer {status}"
        );
        if *status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after, "a 503 says when to retry");
        }
    }
    assert!(
        growth <= 150.0,
        "200 concurrent logins grew the server from {idle:.0} to {peak:.0} MiB"
    );
}

async fn login_from(app: &TestApp, forwarded_for: &str) -> (StatusCode, bool) {
    let answer = app
        .request(reqwest::Method::POST, "/api/auth/login", None)
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": "nobody", "password": "a-wrong-password"}))
        .send()
        .await
        .unwrap();
    (
        answer.status(),
        answer.headers().contains_key("retry-after"),
    )
}

#[tokio::test]
async fn logins_past_the_rate_of_one_address_wait_and_only_a_trusted_proxy_names_the_address() {
    let limited = |header: Option<&str>| {
        let header = header.map(str::to_string);
        move |c: &mut attendance::config::ServeConfig| {
            c.limits.login_per_minute = 3;
            c.limits.trusted_proxy_header = header;
        }
    };
    // Behind a trusted proxy: each client address has its own three attempts.
    let app = TestApp::spawn_with(limited(Some("X-Forwarded-For"))).await;
    for _ in 0..3 {
        assert_eq!(
            login_from(&app, "203.0.113.7").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from(&app, "203.0.113.7").await,
        (StatusCode::TOO_MANY_REQUESTS, true)
    );
    assert_eq!(
        login_from(&app, "203.0.113.8").await.0,
        StatusCode::UNAUTHORIZED
    );

    // Without one, the header is the client's word and changes nothing: one peer, one rate
    // (the app's own admin login already took one attempt).
    let app = TestApp::spawn_with(limited(None)).await;
    let answers = [
        login_from(&app, "198.51.100.1").await.0,
        login_from(&app, "198.51.100.2").await.0,
        login_from(&app, "198.51.100.3").await.0,
    ];
    assert_eq!(
        answers,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}
