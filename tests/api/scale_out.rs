//! Several `serve` processes on one Postgres and a NATS of several servers: a race to create
//! the database, a server list whose first entry does not answer, and the graceful drain
//! (`/api/ready` turns 503 on SIGTERM while requests in flight finish).

use crate::helpers::{
    TestApp, attendance_binary, expect_json, fresh_database_name, nats_url, postgres_base,
    roster_row,
};
use crate::nats_support::free_port;
use reqwest::StatusCode;
use sqlx::Connection;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn processes_creating_the_database_at_the_same_moment_all_start() {
    let database = fresh_database_name();
    let url = format!("{}/{database}", postgres_base());
    let settings = event_store::db::PoolSettings::default();
    let starts = (0..4).map(|_| event_store::db::prepare(&url, settings));
    for prepared in futures::future::join_all(starts).await {
        prepared.expect("every process starts");
    }
    let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", postgres_base()))
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE \"{database}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_nats_url_listing_a_server_that_does_not_answer_still_delivers() {
    let silent = format!("nats://127.0.0.1:{}", free_port());
    let app =
        TestApp::spawn_with(|c| c.connections.nats_url = format!("{silent},{}", nats_url())).await;
    let session = app.course_with_session().await;
    let recorded = app.record(&app.admin, &session, "S1", "late").await;
    expect_json(recorded, StatusCode::CREATED).await;
    let view = app.session_view(&app.admin, &session).await;
    assert_eq!(roster_row(&view, "S1")["status"], "late");
}

#[tokio::test]
async fn on_sigterm_readiness_turns_503_and_a_request_in_flight_finishes() {
    // The test app writes; the child serves reads and has no projectors, so a read waiting
    // for a position stays in flight for its whole wait.
    let app = TestApp::spawn_with(|c| c.no_projectors = true).await;
    app.create_course("CS101").await;
    let position = app.latest_position().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let secret = app.config.jwt_secret.as_ref().unwrap().expose().to_string();
    let mut child = Command::new(attendance_binary())
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("{}/{}", postgres_base(), app.database),
        )
        .env("NATS_URL", &app.config.connections.nats_url)
        .env("ATTENDANCE_STREAM", &app.config.relay.stream)
        .env(
            "ATTENDANCE_SUBJECT_PREFIX",
            &app.config.relay.subject_prefix,
        )
        .env("ATTENDANCE_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", secret)
        .env("ATTENDANCE_NO_PROJECTORS", "1")
        .env("ATTENDANCE_NO_RELAY", "1")
        .env("ATTENDANCE_EMBEDDED", "never")
        .env("ATTENDANCE_DRAIN_SECS", "5")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    app.until_serving(&mut child, &base, Duration::from_secs(60))
        .await;
    let ready = |client: reqwest::Client| {
        let url = format!("{base}/api/ready");
        async move { client.get(url).send().await.map(|r| r.status()) }
    };
    assert_eq!(ready(app.client.clone()).await.unwrap(), StatusCode::OK);

    let path = format!("{base}/api/courses/CS101/statistics?min_position={position}&wait_ms=8000");
    let in_flight = tokio::spawn(app.client.get(path).bearer_auth(&app.admin).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(term.unwrap().success());
    let started = Instant::now();
    loop {
        let status = ready(app.client.clone()).await;
        if status
            .as_ref()
            .is_ok_and(|s| *s == StatusCode::SERVICE_UNAVAILABLE)
        {
            break;
        }
        assert!(status.is_ok(), "still listening while draining: {status:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never turned 503"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["freshness"]["caught_up"], false, "{body}");
    assert!(child.wait().unwrap().success(), "serve stopped cleanly");
}
