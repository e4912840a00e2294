//! The embedded default: `attendance serve --embedded` starts its own Postgres and NATS under
//! a data directory, keeps what was recorded across a restart, refuses a second server on the
//! same directory and a cluster of another Postgres version, and leaves no process behind
//! when it is killed with SIGKILL.

use crate::helpers::{
    ADMIN_PASSWORD, TestApp, attendance_binary, expect_json, roster_row, test_config,
};
use crate::nats_support::free_port;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long an embedded start (initdb, Postgres, NATS, migrations) may take on a loaded CI.
const START: Duration = Duration::from_secs(120);

/// A data directory under the temporary directory, removed at the end.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> DataDir {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let path = std::env::temp_dir().join(format!("att-embedded-{}", &name[..12]));
        std::fs::create_dir(&path).unwrap();
        DataDir(path)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `attendance serve --embedded` on `dir`, with nothing else configured.
fn serve_command(dir: &Path, port: u16) -> Command {
    let mut command = Command::new(attendance_binary());
    command
        .args(["serve", "--embedded", "--data-dir"])
        .arg(dir)
        .env_remove("DATABASE_URL")
        .env_remove("NATS_URL")
        .env_remove("ATTENDANCE_EMBEDDED")
        .env("ATTENDANCE_ADDR", format!("127.0.0.1:{port}"))
        .env("ATTENDANCE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("JWT_KEY_FILE", dir.join("jwt.key"))
        .env("RUST_LOG", "info,sqlx=warn,async_nats=warn")
        .stdout(Stdio::null());
    command
}

/// Starts the embedded server and returns it with a test app talking to it (its pool goes
/// through the embedded Postgres' socket).
async fn start(dir: &Path) -> (Child, TestApp) {
    let port = free_port();
    let mut child = serve_command(dir, port).spawn().expect("attendance runs");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{base}/api/health"))
        .send()
        .await
        .is_err()
    {
        let exited = child.try_wait().unwrap();
        assert!(
            exited.is_none(),
            "attendance serve --embedded exited: {exited:?}"
        );
        assert!(started.elapsed() < START, "serve --embedded never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let socket_dir = dir.canonicalize().unwrap().join("run");
    let url = format!(
        "postgres://postgres@localhost/attendance?host={}",
        socket_dir.display()
    );
    let mut app = TestApp {
        base,
        pool: sqlx::PgPool::connect(&url)
            .await
            .expect("the embedded Postgres"),
        database: "attendance".into(),
        client,
        admin: String::new(),
        config: test_config("attendance_embedded"),
        relay: None,
    };
    app.admin = app.token("admin", ADMIN_PASSWORD).await;
    (child, app)
}

/// Every process below `root` (children, their children...), by pid, with its name.
fn descendants(root: u32) -> HashMap<u32, String> {
    let mut parents: Vec<(u32, u32, String)> = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((name, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") "))
        else {
            continue;
        };
        let ppid = rest.split(' ').nth(1).and_then(|p| p.parse().ok());
        parents.push((pid, ppid.unwrap_or(0), name.to_string()));
    }
    let mut found = HashMap::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, _, name) in parents.iter().filter(|(_, ppid, _)| *ppid == parent) {
            if found.insert(*pid, name.clone()).is_none() {
                frontier.push(*pid);
            }
        }
    }
    found
}

/// A process that is gone, or a zombie waiting for whoever adopted it to reap it.
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {name}");
}

async fn wait_gone(processes: &HashMap<u32, String>, deadline: Duration) {
    let started = Instant::now();
    loop {
        let left: Vec<_> = processes.iter().filter(|(pid, _)| !gone(**pid)).collect();
        if left.is_empty() {
            return;
        }
        assert!(started.elapsed() < deadline, "still running: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn embedded_serve_keeps_a_mark_across_a_restart_and_dies_whole_on_sigkill() {
    let dir = DataDir::new();
    let (mut child, app) = start(&dir.0).await;
    let children = descendants(child.id());
    let names: Vec<&str> = children.values().map(String::as_str).collect();
    assert!(names.contains(&"postgres"), "a postgres child: {names:?}");
    assert!(
        names.contains(&"nats-server"),
        "a nats-server child: {names:?}"
    );
    let session = app.course_with_session().await;
    expect_json(
        app.record(&app.admin, &session, "S2", "late").await,
        StatusCode::CREATED,
    )
    .await;
    // Through the embedded NATS: the relay published it and the projector applied it.
    let view = app.session_view(&app.admin, &session).await;
    assert_eq!(roster_row(&view, "S2")["status"], "late");

    // A clean stop stops its servers too.
    signal(&child, "-TERM");
    assert!(
        child.wait().unwrap().success(),
        "serve stops cleanly on SIGTERM"
    );
    wait_gone(&children, Duration::from_secs(5)).await;

    let (mut child, app) = start(&dir.0).await;
    let view = app.session_view(&app.admin, &session).await;
    assert_eq!(
        roster_row(&view, "S2")["status"],
        "late",
        "the mark survived"
    );

    let second = serve_command(&dir.0, free_port()).output().unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success(),
        "a second server on the directory refused"
    );
    assert!(said.contains("uses the data directory"), "{said}");

    let children = descendants(child.id());
    assert!(children.len() >= 2, "{children:?}");
    signal(&child, "-KILL");
    child.wait().unwrap();
    wait_gone(&children, Duration::from_secs(60)).await;
}

#[tokio::test]
async fn a_data_directory_of_another_postgres_version_is_refused() {
    let dir = DataDir::new();
    std::fs::create_dir(dir.0.join("postgres")).unwrap();
    std::fs::write(dir.0.join("postgres/PG_VERSION"), "9\n").unwrap();
    let output = serve_command(&dir.0, free_port()).output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains("holds a PostgreSQL 9 cluster"), "{said}");
    assert!(said.contains("install postgresql-9"), "{said}");
}
