//! `TestApp`: the application started on port 0 against a fresh database, with one helper
//! per endpoint the tests use.

use attendance::config::{Connections, RelaySettings, ServeConfig};
use attendance::startup::Application;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, PgPool};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Postgres server the tests use (a fresh database is created on it per test).
pub fn postgres_base() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// NATS server the tests use.
pub fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// The password of the `admin` account every test app starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// The password the helpers give every other account.
pub const PASSWORD: &str = "password-for-tests";

/// A running application on a fresh database.
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub base: String,
    /// Direct access to the test database.
    pub pool: PgPool,
    /// The database name.
    pub database: String,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// A token of the `admin` account.
    pub admin: String,
    /// The configuration it runs with (its stream, subject prefix, NATS URL).
    pub config: ServeConfig,
    /// The relay running inside it, unless disabled.
    pub relay: Option<std::sync::Arc<attendance::relay::Relay>>,
}

async fn require_services() {
    let mut pg = PgConnection::connect(&format!("{}/postgres", postgres_base()))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Postgres is required at {} and is not reachable: {e}",
                postgres_base()
            )
        });
    drop_stale_databases(&mut pg).await;
    let nats = nats_url();
    let host = nats.trim_start_matches("nats://");
    tokio::net::TcpStream::connect(host)
        .await
        .unwrap_or_else(|e| panic!("NATS is required at {nats} and is not reachable: {e}"));
}

/// Removes databases of earlier test runs (named `att_test_<unix seconds>_...`) older than an hour.
async fn drop_stale_databases(pg: &mut PgConnection) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'att_test_%'")
            .fetch_all(&mut *pg)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name.split('_').nth(2).and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|t| now.saturating_sub(t) > 3600) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut *pg)
                .await;
        }
    }
}

/// The configuration a test app runs with.
pub fn test_config(database: &str) -> ServeConfig {
    ServeConfig {
        connections: Connections {
            database_url: format!("{}/{database}", postgres_base()),
            database_max_connections: 10,
            database_acquire_timeout_secs: 2,
            nats_url: nats_url(),
            nats_user: None,
            nats_password: None,
        },
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        public_url: None,
        jwt_secret: Some(
            format!(
                "test-secret-{}-0123456789abcdefghijklmnop",
                uuid::Uuid::new_v4()
            )
            .into(),
        ),
        jwt_key_file: std::env::temp_dir().join(format!("{database}.jwt.key")),
        jwt_ttl_secs: 86_400,
        admin_password: Some(ADMIN_PASSWORD.into()),
        body_limit: 256 * 1024,
        sheet_upload_limit: 8 * 1024 * 1024,
        import_breaker_failures: 3,
        import_breaker_open_secs: 15.0,
        import_breaker_successes: 2,
        relay: RelaySettings {
            // A subject prefix and a stream of its own per test.
            subject_prefix: format!("t{}", &database[database.len() - 12..]),
            stream: format!("T{}", &database[database.len() - 12..]),
            breaker_open_secs: 1,
            ..RelaySettings::default()
        },
        // Every test client logs in from 127.0.0.1: the per-address login rate is tested on
        // its own (security::flooding), with its own setting.
        limits: attendance::limit_settings::LimitSettings {
            login_per_minute: 100_000,
            ..Default::default()
        },
        no_relay: false,
        no_projectors: false,
        no_scheduler: false,
        scheduler_every_secs: 1.0,
        reports_config: None,
        timezone: domain::Zone::UTC,
        notify: Default::default(),
    }
}

impl TestApp {
    /// Starts the application on a fresh database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the application with a tweaked configuration.
    pub async fn spawn_with(tweak: impl FnOnce(&mut ServeConfig)) -> TestApp {
        require_services().await;
        let database = fresh_database_name();
        let mut config = test_config(&database);
        tweak(&mut config);
        let app = Application::build(&config)
            .await
            .expect("the application starts");
        let base = format!("http://{}", app.local_addr());
        let pool = app.pool().clone();
        let relay = app.relay();
        tokio::spawn(app.run_until(std::future::pending()));
        let client = reqwest::Client::new();
        let mut test = TestApp {
            base,
            pool,
            database,
            client,
            admin: String::new(),
            config,
            relay,
        };
        test.admin = test.token("admin", ADMIN_PASSWORD).await;
        test
    }

    /// A request to a path under the base URL, with a bearer token when given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .expect("request sent")
    }

    /// POST a JSON body with a token.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token))
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    /// PUT a JSON body with a token.
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PUT, path, Some(token))
            .json(&body)
            .send()
            .await
            .expect("request sent")
    }

    /// DELETE with a token.
    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token))
            .send()
            .await
            .expect("request sent")
    }

    /// `POST /api/auth/login`.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/auth/login", None)
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("request sent")
    }

    /// Logs in and returns the token.
    pub async fn token(&self, username: &str, password: &str) -> String {
        let body = expect_json(self.login(username, password).await, StatusCode::OK).await;
        body["token"].as_str().expect("a token").to_string()
    }

    /// Creates a student record (as admin).
    pub async fn create_student(&self, id: &str, name: &str) {
        expect_json(
            self.post(
                "/api/students",
                &self.admin,
                json!({"id": id, "name": name}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }

    /// Creates an account (as admin) and returns `(user id, token)`.
    pub async fn create_user(
        &self,
        username: &str,
        role: &str,
        student_id: Option<&str>,
    ) -> (String, String) {
        let mut body = json!({"username": username, "password": PASSWORD, "role": role});
        if let Some(student) = student_id {
            body["student_id"] = json!(student);
        }
        let user = expect_json(
            self.post("/api/users", &self.admin, body).await,
            StatusCode::CREATED,
        )
        .await;
        let token = self.token(username, PASSWORD).await;
        (user["id"].as_str().unwrap().to_string(), token)
    }

    /// Creates a course (as admin).
    pub async fn create_course(&self, code: &str) {
        let body = json!({"code": code, "name": format!("Course {code}")});
        expect_json(
            self.post("/api/courses", &self.admin, body).await,
            StatusCode::CREATED,
        )
        .await;
    }

    /// Creates a teacher assigned to a course; returns `(user id, token)`.
    pub async fn teacher_of(&self, username: &str, course: &str) -> (String, String) {
        let (id, token) = self.create_user(username, "teacher", None).await;
        let path = format!("/api/courses/{course}/teachers");
        expect_json(
            self.post(&path, &self.admin, json!({"user_id": id})).await,
            StatusCode::OK,
        )
        .await;
        (id, token)
    }

    /// Enrols a student from a date (as admin).
    pub async fn enroll(&self, course: &str, student: &str, from: &str) {
        let path = format!("/api/courses/{course}/enrollments");
        let body = json!({"student_id": student, "effective_from": from});
        expect_json(self.post(&path, &self.admin, body).await, StatusCode::OK).await;
    }

    /// Schedules a session (as admin) and returns its id.
    pub async fn schedule(&self, course: &str, title: &str, starts_at: &str) -> String {
        let path = format!("/api/courses/{course}/sessions");
        let body = json!({"title": title, "starts_at": starts_at, "duration_minutes": 90});
        let created = expect_json(
            self.post(&path, &self.admin, body).await,
            StatusCode::CREATED,
        )
        .await;
        created["id"].as_str().unwrap().to_string()
    }

    /// `POST /api/attendance` for one student.
    pub async fn record(
        &self,
        token: &str,
        session: &str,
        student: &str,
        status: &str,
    ) -> Response {
        let body = json!({"session_id": session, "student_id": student, "status": status});
        self.post("/api/attendance", token, body).await
    }

    /// A course `CS101` with students S1..S3 enrolled from 2026-09-01 and one session on
    /// 2026-09-07 09:00 UTC; returns the session id.
    pub async fn course_with_session(&self) -> String {
        self.create_course("CS101").await;
        for (id, name) in [("S1", "Ada Obi"), ("S2", "Zoë Ñúñez"), ("S3", "李小龙")] {
            self.create_student(id, name).await;
            self.enroll("CS101", id, "2026-09-01").await;
        }
        self.schedule("CS101", "Lecture 1", "2026-09-07T09:00:00Z")
            .await
    }

    /// `GET /api/health` with the details (as admin), expecting 200.
    pub async fn health(&self) -> Value {
        let response = self
            .request(Method::GET, "/api/health", Some(&self.admin))
            .send()
            .await
            .unwrap();
        expect_json(response, StatusCode::OK).await
    }

    /// Waits until the early warning has settled on this app's stream (see
    /// [`crate::nats_support::settled`]), up to 60 s.
    pub async fn settled(&self) {
        let client = crate::nats_support::connect(&self.config.connections.nats_url).await;
        crate::nats_support::settled(
            &self.pool,
            &client,
            &self.config.relay.stream,
            Duration::from_secs(60),
        )
        .await;
    }

    /// How many events commands stored.
    ///
    /// Only the events of commands: the early warning's process manager derives standing
    /// crossings from them later and on its own (aggregate type `standing`), so a test that
    /// checks that a refused or repeated command wrote nothing would otherwise race with it.
    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type <> 'standing'")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// Asserts the status and returns the JSON body (printing it on mismatch).
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
    let actual = response.status();
    let text = response.text().await.expect("a body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }
}

/// Asserts a problem+json answer with the status and code, and returns it.
pub async fn expect_problem(response: Response, status: StatusCode, code: &str) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let body = expect_json(response, status).await;
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "body: {body}"
    );
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], status.as_u16(), "body: {body}");
    body
}

/// Polls `check` until it returns true or the deadline passes.
pub async fn wait_until<F, Fut>(deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < deadline,
            "condition not met within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl TestApp {
    /// Waits until an `attendance serve` child process answers at `base`; fails loudly if it
    /// exits first or does not answer within `deadline`.
    pub async fn until_serving(
        &self,
        child: &mut std::process::Child,
        base: &str,
        deadline: Duration,
    ) {
        let started = std::time::Instant::now();
        while self
            .client
            .get(format!("{base}/api/health"))
            .send()
            .await
            .is_err()
        {
            let exited = child.try_wait().unwrap();
            assert!(exited.is_none(), "attendance serve exited: {exited:?}");
            assert!(
                started.elapsed() < deadline,
                "attendance serve never answered"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl TestApp {
    /// Sends a raw body with an explicit content type (no content type when `None`).
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut builder = self.request(method, path, token);
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder.body(body).send().await.expect("request sent")
    }

    /// The event types stored for one aggregate, in sequence order.
    pub async fn events_of(&self, aggregate_type: &str, aggregate_id: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT event_type FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
             ORDER BY sequence",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// `GET /api/sessions/{id}` as the given token, expecting 200.
    pub async fn session_view(&self, token: &str, session: &str) -> Value {
        // The view is a read model: wait until it reflects every event written so far.
        let position = self.latest_position().await;
        let path = format!("/api/sessions/{session}?min_position={position}&wait_ms=20000");
        let view = expect_json(self.get(&path, token).await, StatusCode::OK).await;
        assert_eq!(
            view["freshness"]["caught_up"], true,
            "the register view caught up: {view}"
        );
        view
    }

    /// The global position of the newest stored event (0 without events).
    pub async fn latest_position(&self) -> i64 {
        sqlx::query_scalar("SELECT COALESCE(max(global_position), 0) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// The roster row of a student in a session view.
pub fn roster_row(view: &Value, student: &str) -> Value {
    view["roster"]
        .as_array()
        .expect("a roster")
        .iter()
        .find(|row| row["student_id"] == student)
        .unwrap_or_else(|| panic!("no roster row for {student} in {view}"))
        .clone()
}

/// The `field` of every entry of a problem's `errors`.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url encoding (to forge tokens).
pub fn b64url_encode(input: &[u8]) -> String {
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(B64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Unpadded base64url decoding (to read token claims).
pub fn b64url_decode(input: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in input.bytes() {
        let v = B64URL
            .iter()
            .position(|a| *a == c)
            .unwrap_or_else(|| panic!("not base64url: {input}")) as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

/// The decoded JSON header and claims of a JWT.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let header = b64url_decode(parts.next().expect("a header"));
    let claims = b64url_decode(parts.next().expect("claims"));
    (
        serde_json::from_slice(&header).expect("JSON header"),
        serde_json::from_slice(&claims).expect("JSON claims"),
    )
}

/// Child processes killed when the test ends, however it ends.
pub struct Processes(pub Vec<std::process::Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn attendance_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = dir.join("attendance");
    assert!(
        binary.exists(),
        "build the attendance binary first (cargo build): {}",
        binary.display()
    );
    binary
}

/// A new test database's name: `att_test_` with the time (so that stale ones can be told
/// apart) and a random part.
pub fn fresh_database_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("att_test_{secs}_{}", uuid::Uuid::new_v4().simple())
}

/// Runs a command on a blocking thread (the server under test keeps serving on the runtime's
/// workers) and fails with everything it printed unless it succeeded; returns its standard
/// output and standard error, one after the other.
pub async fn run(mut command: std::process::Command) -> String {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joined")
        .expect("the command starts");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "failed ({}):\n{text}",
        output.status
    );
    text
}
