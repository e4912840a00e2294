//! The embedded PostgreSQL: a cluster in `<data dir>/postgres`, made once with initdb
//! (UTF-8, C.UTF-8, trust), served only on a Unix socket in `<data dir>/run` (no TCP port, so
//! no clash with a Postgres of the machine), by the installed binaries of the cluster's own
//! major version.

use super::child::{Spec, Supervised, User, run_once};
use anyhow::{Context, bail};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest path a Unix socket may have (`sun_path`, less its NUL).
const SOCKET_PATH_MAX: usize = 107;

/// Starts Postgres on the data directory (initialising it the first time) and returns it
/// with the database URL to use.
pub async fn start(dir: &Path) -> anyhow::Result<(Supervised, String)> {
    let user = User::for_postgres()?;
    let cluster = dir.join("postgres");
    let (major, bin) = binaries(&cluster)?;
    if !cluster.join("PG_VERSION").exists() {
        initdb(dir, &cluster, &bin, user)?;
    }
    let run = dir.join("run");
    make_private_dir(&run, user)?;
    let socket = run.join(".s.PGSQL.5432");
    if socket.as_os_str().len() > SOCKET_PATH_MAX {
        bail!(
            "the data directory's path is too long for Postgres' socket ({}): choose a shorter --data-dir",
            socket.display()
        );
    }
    let log = dir.join("postgres.log");
    let server = Supervised::start(Spec {
        name: "postgres",
        program: bin.join("postgres"),
        args: vec![
            "-D".into(),
            cluster.clone().into(),
            "-k".into(),
            run.clone().into(),
            "-c".into(),
            "listen_addresses=".into(),
        ],
        dir: dir.to_path_buf(),
        log: log.clone(),
        user,
        // Fast shutdown: ends sessions, checkpoints, exits.
        stop_signal: libc::SIGINT,
    })?;
    wait_ready(&run, &log).await?;
    tracing::info!(version = major, cluster = %cluster.display(), socket = %run.display(),
        log = %log.display(), "started the embedded PostgreSQL");
    Ok((server, url(&run)))
}

/// The installed binaries fit for this cluster: its own major version when it exists, else
/// the newest installed.
fn binaries(cluster: &Path) -> anyhow::Result<(u32, PathBuf)> {
    let mut installed: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .collect();
    installed.sort();
    let Some(newest) = installed.last().cloned() else {
        bail!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): apt-get install postgresql, or run scripts/setup"
        );
    };
    let Ok(text) = std::fs::read_to_string(cluster.join("PG_VERSION")) else {
        return Ok(newest);
    };
    let wanted: u32 = text.trim().parse().with_context(|| {
        format!(
            "{} is not a PostgreSQL version",
            cluster.join("PG_VERSION").display()
        )
    })?;
    match installed.into_iter().find(|(major, _)| *major == wanted) {
        Some(found) => Ok(found),
        None => bail!(
            "the data directory {} holds a PostgreSQL {wanted} cluster, but this machine has PostgreSQL {}: \
             install postgresql-{wanted} to use it, or move the data to {} with pg_upgrade",
            cluster.display(),
            newest.0,
            newest.0
        ),
    }
}

/// Makes the cluster in a scratch directory and renames it into place, so that an
/// interrupted initdb is started over rather than taken for a cluster.
fn initdb(dir: &Path, cluster: &Path, bin: &Path, user: Option<User>) -> anyhow::Result<()> {
    if cluster.exists() {
        bail!(
            "{} exists but holds no PostgreSQL cluster (no PG_VERSION): move it away",
            cluster.display()
        );
    }
    let scratch = dir.join("postgres.init");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    make_private_dir(&scratch, user)?;
    tracing::info!(cluster = %cluster.display(), "creating the embedded PostgreSQL cluster (initdb)");
    let args = [
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "-D",
    ];
    let mut args: Vec<_> = args.iter().map(Into::into).collect();
    args.push(scratch.clone().into());
    run_once(&Spec {
        name: "initdb",
        program: bin.join("initdb"),
        args,
        dir: dir.to_path_buf(),
        log: dir.join("initdb.log"),
        user,
        stop_signal: libc::SIGTERM,
    })?;
    std::fs::rename(&scratch, cluster)?;
    Ok(())
}

/// A directory only the server's user may enter; as root, the data directory above it is
/// made passable (not readable) for that user.
fn make_private_dir(path: &Path, user: Option<User>) -> anyhow::Result<()> {
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    if let Some(user) = user {
        user.own(path)?;
        let parent = path.parent().context("a directory has a parent")?;
        let mode = std::fs::metadata(parent)?.permissions().mode();
        std::fs::set_permissions(parent, std::fs::Permissions::from_mode(mode | 0o111))?;
    }
    Ok(())
}

async fn wait_ready(run: &Path, log: &Path) -> anyhow::Result<()> {
    use sqlx::Connection;
    let options = sqlx::postgres::PgConnectOptions::new()
        .socket(run)
        .username("postgres")
        .database("postgres");
    let started = Instant::now();
    loop {
        match sqlx::PgConnection::connect_with(&options).await {
            Ok(connection) => {
                let _ = connection.close().await;
                return Ok(());
            }
            Err(error) if started.elapsed() > Duration::from_secs(60) => {
                bail!(
                    "the embedded PostgreSQL did not accept connections within 60 s ({error}); see {}",
                    log.display()
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The URL of the `attendance` database over the socket directory (sqlx reads a `host`
/// starting with `/` as a socket directory).
fn url(run: &Path) -> String {
    let encoded: String = run
        .to_string_lossy()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("postgres://postgres@localhost/attendance?host={encoded}")
}
