//! Secrets never reach the logs: `attendance serve` runs as a child process at debug level
//! (text, then JSON), takes logins right and wrong, account creation and commands, and no
//! line it prints holds a password, a password hash, the JWT secret or a token.

use super::support::Answer;
use crate::helpers::{
    ADMIN_PASSWORD, PASSWORD, Processes, TestApp, attendance_binary, fresh_database_name,
    test_config,
};
use crate::nats_support::free_port;
use reqwest::StatusCode;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `attendance serve` on a fresh database, with a `TestApp` talking to it.
struct Served {
    app: TestApp,
    log: PathBuf,
    process: Processes,
}

async fn serve(log_format: &str) -> Served {
    let database = fresh_database_name();
    let mut config = test_config(&database);
    config.addr.set_port(free_port());
    let log = std::env::temp_dir().join(format!("{database}.log"));
    let file = std::fs::File::create(&log).unwrap();
    let child = Command::new(attendance_binary())
        .arg("serve")
        .env("DATABASE_URL", &config.connections.database_url)
        .env("NATS_URL", &config.connections.nats_url)
        .env("JWT_SECRET", config.jwt_secret.as_ref().unwrap().expose())
        .env("ATTENDANCE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ATTENDANCE_ADDR", config.addr.to_string())
        .env("ATTENDANCE_STREAM", &config.relay.stream)
        .env("ATTENDANCE_SUBJECT_PREFIX", &config.relay.subject_prefix)
        .env("RUST_LOG", "debug")
        .env("LOG_FORMAT", log_format)
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .expect("the attendance binary runs");
    let mut process = Processes(vec![child]);
    let base = format!("http://{}", config.addr);
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while client
        .get(format!("{base}/api/health"))
        .send()
        .await
        .is_err()
    {
        if let Ok(Some(status)) = process.0[0].try_wait() {
            panic!(
                "serve exited with {status}: {}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not answer in a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pool = sqlx::PgPool::connect(&config.connections.database_url)
        .await
        .unwrap();
    let mut app = TestApp {
        base,
        pool,
        database,
        client,
        admin: String::new(),
        config,
        relay: None,
    };
    app.admin = app.token("admin", ADMIN_PASSWORD).await;
    Served { app, log, process }
}

/// Logs in right and wrong, creates accounts and records attendance; returns every secret
/// that went over the wire.
async fn exercise(app: &TestApp) -> Vec<String> {
    let own_password = format!("Own-Secret-{}", uuid::Uuid::new_v4().simple());
    let wrong = ["Wrong-Admin-Password-1", "Ghost-Password-2"];
    assert_eq!(
        app.login("admin", wrong[0]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("ghost", wrong[1]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let session = app.course_with_session().await;
    let (_, teacher) = app.teacher_of("tina", "CS101").await;
    let body = json!({"username": "own", "password": own_password, "role": "admin"});
    let created = Answer::of(app.post("/api/users", &app.admin, body).await).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let own = app.token("own", &own_password).await;
    assert_eq!(
        app.record(&teacher, &session, "S1", "present")
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.record(&own, &session, "S2", "late").await.status(),
        StatusCode::CREATED
    );
    // A refused command and a refused token are logged too, if at all, without secrets.
    assert_eq!(
        app.record(&teacher, &session, "S9", "late").await.status(),
        StatusCode::NOT_FOUND,
        "S9 does not exist"
    );
    assert_eq!(
        app.get("/api/users", &format!("{teacher}x")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut secrets = vec![
        ADMIN_PASSWORD.to_string(),
        PASSWORD.to_string(),
        own_password,
    ];
    secrets.extend(wrong.map(String::from));
    secrets.push(app.config.jwt_secret.as_ref().unwrap().expose().to_string());
    for token in [&app.admin, &teacher, &own] {
        secrets.push(token.clone());
        secrets.push(token.rsplit('.').next().unwrap().to_string());
    }
    secrets.push("$argon2id$".into());
    secrets
}

/// Runs the scenario against a server logging in `log_format`; returns the offending lines.
async fn leaks(log_format: &str) -> (Vec<String>, usize) {
    let served = serve(log_format).await;
    let secrets = exercise(&served.app).await;
    drop(served.process);
    let log = std::fs::read_to_string(&served.log).unwrap();
    let _ = std::fs::remove_file(&served.log);
    assert!(log.contains("listening"), "the log was captured: {log}");
    let leaked = log
        .lines()
        .filter(|line| secrets.iter().any(|s| line.contains(s.as_str())))
        .map(str::to_string)
        .collect();
    (leaked, log.lines().count())
}

#[tokio::test]
async fn debug_text_logs_hold_no_password_hash_secret_or_token() {
    let (leaked, lines) = leaks("text").await;
    assert!(lines > 50, "debug logging is on: {lines} lines");
    assert!(
        leaked.is_empty(),
        "secrets in the log:\n{}",
        leaked.join("\n")
    );
}

#[tokio::test]
async fn debug_json_logs_hold_no_password_hash_secret_or_token() {
    let (leaked, lines) = leaks("json").await;
    assert!(lines > 50, "debug logging is on: {lines} lines");
    assert!(
        leaked.is_empty(),
        "secrets in the log:\n{}",
        leaked.join("\n")
    );
}
