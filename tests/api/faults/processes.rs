//! Child `attendance` processes and the app behind the Postgres proxy.

use super::*;

/// The test database's URL, straight to Postgres.
pub(super) fn database_url(app: &TestApp) -> String {
    format!("{}/{}", postgres_base(), app.database)
}

/// `attendance <args>` as a child process on the test's database, broker and stream.
pub(super) fn attendance(app: &TestApp, args: &[&str], extra: &[(&str, String)]) -> Child {
    let env = [
        ("DATABASE_URL", database_url(app)),
        ("NATS_URL", app.config.connections.nats_url.clone()),
        ("ATTENDANCE_STREAM", app.config.relay.stream.clone()),
        (
            "ATTENDANCE_SUBJECT_PREFIX",
            app.config.relay.subject_prefix.clone(),
        ),
        ("RUST_LOG", "warn".to_string()),
        // A missing service fails loudly instead of starting an embedded one.
        ("ATTENDANCE_EMBEDDED", "never".to_string()),
    ];
    Command::new(attendance_binary())
        .args(args)
        .envs(env.into_iter().chain(extra.iter().cloned()))
        .stdout(Stdio::null())
        .spawn()
        .expect("the attendance binary runs")
}

/// `attendance serve` as a child process on a free port, with the test app's JWT secret;
/// returns it once it answers, with its base URL.
pub(super) async fn serve(app: &TestApp) -> (Child, String) {
    let port = free_port();
    let secret = app.config.jwt_secret.as_ref().unwrap().expose().to_string();
    let extra = [
        ("ATTENDANCE_ADDR", format!("127.0.0.1:{port}")),
        ("JWT_SECRET", secret),
        ("BREAKER_OPEN_SECS", "1".to_string()),
    ];
    let mut child = attendance(app, &["serve"], &extra);
    let base = format!("http://127.0.0.1:{port}");
    app.until_serving(&mut child, &base, DEADLINE).await;
    (child, base)
}

/// Kills a child with SIGKILL and reaps it.
pub(super) fn sigkill(child: &mut Child) {
    child.kill().expect("SIGKILL sent");
    child.wait().expect("the child reaped");
}

/// Starts the application with its database connections going through `proxy`; the test's
/// own pool still goes straight to Postgres.
pub(super) async fn behind(proxy: &TcpProxy) -> TestApp {
    let upstream = postgres_upstream();
    let via = proxy.addr().to_string();
    let mut app = TestApp::spawn_with(|c| {
        let url = &c.connections.database_url;
        assert!(url.contains(&upstream), "host:port spelled out in {url}");
        c.connections.database_url = url.replacen(&upstream, &via, 1);
    })
    .await;
    app.pool = PgPool::connect(&database_url(&app)).await.unwrap();
    app
}

/// `host:port` of the Postgres server the tests use.
pub(super) fn postgres_upstream() -> String {
    let options = sqlx::postgres::PgConnectOptions::from_str(&postgres_base()).unwrap();
    format!("{}:{}", options.get_host(), options.get_port())
}
