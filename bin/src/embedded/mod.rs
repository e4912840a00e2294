//! The embedded default: when `serve` has no Postgres or NATS configured and nothing answers on
//! the default addresses, it starts the installed `postgres` and `nats-server` as supervised
//! child processes under one data directory, so that a fresh machine needs no setup beyond
//! installing the two packages (`scripts/setup`).
//!
//! This module decides whether to embed and owns the data directory's lock; [`child`] spawns
//! and supervises a process that dies with ours, [`postgres`] and [`nats`] know each server.

mod child;
mod nats;
mod postgres;

use crate::config::{Connections, DEFAULT_DATABASE_URL, DEFAULT_NATS_URL};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

/// When `serve` starts its own Postgres and NATS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmbeddedMode {
    /// Each one that is not configured and does not answer on its default address.
    Auto,
    /// Both, whatever is configured (same as `--embedded`).
    Always,
    /// Never: a missing service is an error (tests and CI).
    Never,
}

/// Flags of the embedded default (`serve` only).
#[derive(Debug, Clone, Args)]
pub struct EmbeddedArgs {
    /// Start our own Postgres and NATS under the data directory, whatever is configured.
    #[arg(long)]
    pub embedded: bool,
    /// When to start our own Postgres and NATS: auto (when not configured and nothing
    /// answers on the default address), always, never.
    #[arg(long = "embedded-mode", env = "ATTENDANCE_EMBEDDED", value_enum, default_value_t = EmbeddedMode::Auto)]
    pub mode: EmbeddedMode,
    /// Where the embedded Postgres and NATS keep their data (default `./attendance-data`,
    /// `/var/lib/attendance` when run as root).
    #[arg(long, env = "ATTENDANCE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Which services to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    postgres: bool,
    nats: bool,
}

/// The embedded servers of this process; dropping it stops them.
pub struct Embedded {
    // Field order is drop order: NATS before Postgres, the lock last.
    nats: Option<child::Supervised>,
    postgres: Option<child::Supervised>,
    _lock: std::fs::File,
}

/// Starts what the flags and the environment ask for, and points `connections` at it.
/// Returns `None` when everything configured (or answering on the defaults) is used instead.
pub async fn start_if_needed(
    args: &EmbeddedArgs,
    connections: &mut Connections,
) -> anyhow::Result<Option<Embedded>> {
    let plan = plan(args, connections).await?;
    if !plan.postgres && !plan.nats {
        return Ok(None);
    }
    let dir = data_dir(args.data_dir.as_deref());
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the data directory {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    let lock = lock(&dir)?;
    let postgres = match plan.postgres {
        true => {
            let (server, url) = postgres::start(&dir).await?;
            connections.database_url = url;
            Some(server)
        }
        false => None,
    };
    let nats = match plan.nats {
        true => {
            let (server, url) = nats::start(&dir).await?;
            connections.nats_url = url;
            Some(server)
        }
        false => None,
    };
    Ok(Some(Embedded {
        nats,
        postgres,
        _lock: lock,
    }))
}

impl Embedded {
    /// Stops the servers in order (NATS, then Postgres) and waits for them.
    pub fn stop(self) {
        let Embedded {
            nats,
            postgres,
            _lock,
        } = self;
        drop(nats);
        drop(postgres);
    }
}

async fn plan(args: &EmbeddedArgs, connections: &Connections) -> anyhow::Result<Plan> {
    let forced = args.embedded || args.mode == EmbeddedMode::Always;
    if args.embedded && args.mode == EmbeddedMode::Never {
        bail!("--embedded contradicts ATTENDANCE_EMBEDDED=never");
    }
    if forced {
        if configured(
            "DATABASE_URL",
            &connections.database_url,
            DEFAULT_DATABASE_URL,
        ) || configured("NATS_URL", &connections.nats_url, DEFAULT_NATS_URL)
        {
            tracing::warn!("--embedded: the configured DATABASE_URL and NATS_URL are not used");
        }
        return Ok(Plan {
            postgres: true,
            nats: true,
        });
    }
    if args.mode == EmbeddedMode::Never {
        return Ok(Plan {
            postgres: false,
            nats: false,
        });
    }
    let postgres = !configured(
        "DATABASE_URL",
        &connections.database_url,
        DEFAULT_DATABASE_URL,
    ) && !answers("127.0.0.1:5432").await;
    let nats = !configured("NATS_URL", &connections.nats_url, DEFAULT_NATS_URL)
        && !answers("127.0.0.1:4222").await;
    Ok(Plan { postgres, nats })
}

/// A URL counts as configured when its variable is set or it differs from the default.
fn configured(variable: &str, value: &str, default: &str) -> bool {
    std::env::var_os(variable).is_some() || value != default
}

async fn answers(address: &str) -> bool {
    let connect = tokio::net::TcpStream::connect(address);
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(1), connect).await,
        Ok(Ok(_))
    )
}

/// The data directory: the flag, else `/var/lib/attendance` for root, `./attendance-data`
/// for anyone else.
fn data_dir(configured: Option<&Path>) -> PathBuf {
    match configured {
        Some(dir) => dir.to_path_buf(),
        None if child::is_root() => PathBuf::from("/var/lib/attendance"),
        None => PathBuf::from("attendance-data"),
    }
}

/// Takes the data directory's lock for as long as the returned file stays open: a second
/// `serve` on the same directory stops here instead of starting a second Postgres on it.
fn lock(dir: &Path) -> anyhow::Result<std::fs::File> {
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsRawFd;
    let path = dir.join("attendance.lock");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: flock on a descriptor we own; the lock goes with the descriptor (close on exec,
    // so the children do not inherit it).
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        bail!(
            "another attendance serve (pid {}) uses the data directory {}: stop it or choose another --data-dir",
            holder.trim(),
            dir.display()
        );
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    Ok(file)
}
