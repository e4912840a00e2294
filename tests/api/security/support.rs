//! `attendance serve` as a child process, so that its resident memory is measured alone
//! (the test's own client and seeding stay out of the figure), and small load helpers.

use crate::helpers::{TestApp, attendance_binary, postgres_base};
use crate::nats_support::free_port;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process started by one test; killed when dropped.
pub struct ChildServer {
    /// Its base URL.
    pub base: String,
    child: Child,
}

impl ChildServer {
    /// Starts `attendance serve` on the test app's database, broker, stream and JWT secret
    /// (so the app's tokens work on it), with extra environment; returns once it answers.
    pub async fn serve(app: &TestApp, extra: &[(&str, &str)]) -> ChildServer {
        Self::serve_logging(app, extra, Stdio::inherit()).await
    }

    /// [`Self::serve`] with its log (standard error) going to `log`.
    pub async fn serve_logging(app: &TestApp, extra: &[(&str, &str)], log: Stdio) -> ChildServer {
        let port = free_port();
        let secret = app.config.jwt_secret.as_ref().unwrap().expose().to_string();
        let mut command = Command::new(attendance_binary());
        command
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
            .env("RUST_LOG", "error")
            // A missing service fails loudly instead of starting an embedded one.
            .env("ATTENDANCE_EMBEDDED", "never")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(log);
        let mut child = command.spawn().expect("the attendance binary runs");
        let base = format!("http://127.0.0.1:{port}");
        app.until_serving(&mut child, &base, Duration::from_secs(60))
            .await;
        ChildServer { base, child }
    }

    /// Current resident memory, in MiB (`VmRSS`).
    pub fn rss_mib(&self) -> f64 {
        self.status_mib("VmRSS:")
    }

    /// Peak resident memory since the start, in MiB (`VmHWM`).
    pub fn peak_rss_mib(&self) -> f64 {
        self.status_mib("VmHWM:")
    }

    fn status_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server process is alive");
        let kib: f64 = status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .expect("a memory figure in /proc/PID/status");
        kib / 1024.0
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `GET /api/health` every 50 ms until `stop` is set; returns the slowest answer.
pub async fn slowest_health(
    client: reqwest::Client,
    url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Duration {
    let mut slowest = Duration::ZERO;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let started = Instant::now();
        let answer = client.get(&url).send().await.expect("health answers");
        assert!(answer.status().is_success(), "health: {}", answer.status());
        let _ = answer.bytes().await;
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    slowest
}
