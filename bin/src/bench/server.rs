//! The system under test: `attendance serve` started as a child process on a fresh database
//! and stream (so that its memory is measured alone), or a running server given with `--url`.

use super::BenchArgs;
use crate::config::Connections;
use anyhow::{Context, bail};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server to load.
pub struct Server {
    /// Its base URL.
    pub url: String,
    /// A connection pool on its database.
    pub pool: PgPool,
    /// An admin token.
    pub token: String,
    /// An HTTP client.
    pub http: reqwest::Client,
    child: Option<Child>,
    /// The database made for this run (server URL, name), removed by `stop`.
    database: Option<(String, String)>,
    /// The stream made for this run (NATS URL, name), removed by `stop`.
    stream: Option<(String, String)>,
    /// The stream whose messages are counted: the child's, or the running server's
    /// (`--stream`), on the servers of `nats`.
    counted: Option<String>,
    nats: Connections,
}

fn random(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn split_database(url: &str) -> anyhow::Result<(String, String)> {
    let (base, name) = url
        .rsplit_once('/')
        .context("DATABASE_URL has no database name")?;
    Ok((
        base.to_string(),
        name.split('?').next().unwrap_or(name).to_string(),
    ))
}

/// Whether both projectors have applied every stored event.
pub async fn projectors_caught_up(pool: &PgPool) -> anyhow::Result<bool> {
    let (applied, last): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT min(position) FROM projector_state), (SELECT max(global_position) FROM events)",
    )
    .fetch_one(pool)
    .await?;
    Ok(applied >= last)
}

impl Server {
    /// Starts (or joins) the server and logs in.
    pub async fn start(args: &BenchArgs) -> anyhow::Result<Server> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(args.clients * 2)
            .build()?;
        if let Some(url) = &args.url {
            let password = args
                .admin_password
                .as_ref()
                .context("--url needs BENCH_ADMIN_PASSWORD")?;
            let pool = crate::startup::database(&Connections {
                database_max_connections: (args.clients as u32 + 4).max(20),
                ..args.connections.clone()
            })
            .await?;
            let token = login(&http, url, password.expose()).await?;
            return Ok(Server {
                url: url.clone(),
                pool,
                token,
                http,
                child: None,
                database: None,
                stream: None,
                counted: args.stream.clone(),
                nats: args.connections.clone(),
            });
        }
        let (base, _) = split_database(&args.connections.database_url)?;
        let tag = format!(
            "{}{}",
            chrono::Utc::now().format("%H%M%S"),
            random(4).to_lowercase()
        );
        let database = format!("att_bench_{tag}");
        let database_url = format!("{base}/{database}");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let password = random(24);
        let stream = format!("BENCH_{tag}");
        let child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .env("DATABASE_URL", &database_url)
            .env("NATS_URL", &args.connections.nats_url)
            .env("ATTENDANCE_ADDR", format!("127.0.0.1:{port}"))
            .env("ATTENDANCE_ADMIN_PASSWORD", &password)
            .env("JWT_SECRET", random(48))
            .env("ATTENDANCE_STREAM", &stream)
            .env("ATTENDANCE_SUBJECT_PREFIX", format!("bench{tag}"))
            // Workload 11's students each sign in from an address of their own.
            .env("ATTENDANCE_TRUSTED_PROXY_HEADER", "x-forwarded-for")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .context("starting attendance serve")?;
        let url = format!("http://127.0.0.1:{port}");
        let mut server = Server {
            url: url.clone(),
            pool: PgPool::connect_lazy(&database_url)?,
            token: String::new(),
            http,
            child: Some(child),
            database: Some((base, database)),
            stream: Some((args.connections.nats_url.clone(), stream.clone())),
            counted: Some(stream),
            nats: args.connections.clone(),
        };
        server.wait_healthy().await?;
        server.pool = crate::startup::database(&crate::config::Connections {
            database_url,
            database_max_connections: (args.clients as u32 + 4).max(20),
            ..args.connections.clone()
        })
        .await?;
        server.token = login(&server.http, &url, &password).await?;
        Ok(server)
    }

    async fn wait_healthy(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("attendance serve exited: {status}");
            }
            let health = self
                .http
                .get(format!("{}/api/health", self.url))
                .send()
                .await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("attendance serve did not become healthy within 60 s")
    }

    /// Peak resident memory of the child, in MiB (Linux `VmHWM`).
    pub fn peak_rss_mib(&self) -> Option<f64> {
        status_mib(self.pid()?, "VmHWM:")
    }

    /// Current resident memory of the child, in MiB (Linux `VmRSS`).
    pub fn rss_mib(&self) -> Option<f64> {
        status_mib(self.pid()?, "VmRSS:")
    }

    /// The stream (and relay checkpoint) name of the child (none with `--url`).
    pub fn stream_name(&self) -> Option<&str> {
        self.stream.as_ref().map(|(_, name)| name.as_str())
    }

    /// The child's process id (none with `--url`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Messages in the benchmark's stream (0 with `--url` without `--stream`).
    pub async fn stream_messages(&self) -> anyhow::Result<u64> {
        let Some(stream) = &self.counted else {
            return Ok(0);
        };
        // The servers may be a cluster (a comma-separated list) that is failing over: the
        // client picks one that answers, and a count that takes too long is an error.
        let count = async {
            let client = crate::startup::nats(&self.nats).await?;
            let mut stream = async_nats::jetstream::new(client)
                .get_stream(stream)
                .await?;
            anyhow::Ok(stream.info().await?.state.messages)
        };
        tokio::time::timeout(Duration::from_secs(10), count)
            .await
            .context("counting the stream's messages took more than 10 s")?
    }

    /// Whether the early warning's process manager has taken and acknowledged every message
    /// of the benchmark's stream (true with `--url` without `--stream`, or before it exists);
    /// an error when its consumer cannot be read now (see [`crate::warnings::idle`]).
    pub async fn warnings_idle(&self) -> anyhow::Result<bool> {
        let Some(stream) = &self.counted else {
            return Ok(true);
        };
        let look = async {
            let client = crate::startup::nats(&self.nats).await?;
            crate::warnings::idle(&async_nats::jetstream::new(client), stream)
                .await
                .map_err(anyhow::Error::msg)
        };
        tokio::time::timeout(Duration::from_secs(10), look)
            .await
            .context("reading the process manager's consumer took more than 10 s")?
    }

    /// Stops the child and removes the benchmark's database and stream.
    pub async fn stop(mut self) {
        self.kill();
        self.pool.close().await;
        remove(self.database.take(), self.stream.take()).await;
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A value in kB from `/proc/{pid}/status`, in MiB.
fn status_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Drops the benchmark's database (`(server URL, name)`) and deletes its stream.
async fn remove(database: Option<(String, String)>, stream: Option<(String, String)>) {
    if let Some((base, database)) = &database
        && let Ok(admin) = PgPool::connect(&format!("{base}/postgres")).await
    {
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
        ))
        .execute(&admin)
        .await;
        admin.close().await;
    }
    if let Some((url, stream)) = &stream
        && let Ok(client) = async_nats::connect(url).await
    {
        let _ = async_nats::jetstream::new(client)
            .delete_stream(stream)
            .await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Never leave the child running, whatever failed.
        self.kill();
        // Dropped without `stop` (a failed start, an early return, a panic): a district run
        // leaves more than a gigabyte behind, so remove it here too. On a thread of its own,
        // because a runtime cannot be blocked on from inside one.
        let (database, stream) = (self.database.take(), self.stream.take());
        if database.is_none() && stream.is_none() {
            return;
        }
        let cleanup = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(remove(database, stream));
            }
        });
        let _ = cleanup.join();
    }
}

async fn login(http: &reqwest::Client, url: &str, password: &str) -> anyhow::Result<String> {
    let response = http
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await?;
    let body: Value = response.json().await?;
    body["token"]
        .as_str()
        .map(str::to_string)
        .context("login failed")
}
