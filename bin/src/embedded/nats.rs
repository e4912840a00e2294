//! The embedded nats-server: JetStream with its store in `<data dir>/nats`, listening on
//! 127.0.0.1 on a port free at start (so no clash with a NATS of the machine), chosen below the
//! kernel's ephemeral range so that no "any free port" bind elsewhere can take it.

use super::child::{Spec, Supervised};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Starts nats-server and returns it with its URL once JetStream answers.
pub async fn start(dir: &Path) -> anyhow::Result<(Supervised, String)> {
    let program = find_on_path("nats-server").context(
        "nats-server is not installed (not on PATH): apt-get install nats-server, or run scripts/setup",
    )?;
    let store = dir.join("nats");
    std::fs::create_dir_all(&store)?;
    let port = free_port_below_ephemeral()?;
    let log = dir.join("nats.log");
    let server = Supervised::start(Spec {
        name: "nats-server",
        program,
        args: vec![
            "-a".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string().into(),
            "-js".into(),
            "-sd".into(),
            store.clone().into(),
        ],
        dir: dir.to_path_buf(),
        log: log.clone(),
        user: None,
        // Lame-duck free clean stop: flushes the JetStream store.
        stop_signal: libc::SIGTERM,
    })?;
    let url = format!("nats://127.0.0.1:{port}");
    wait_ready(&url, &log).await?;
    tracing::info!(url = %url, store = %store.display(), log = %log.display(),
        "started the embedded nats-server with JetStream");
    Ok((server, url))
}

/// A port free now, below Linux's ephemeral range (32768-60999). A port the kernel hands out
/// for "any free port" (what `--addr 127.0.0.1:0`-style callers and other programs get) can
/// be handed out again once its first owner closes it, so the embedded server, which keeps
/// its port across restarts, picks one from the range the kernel never hands out itself.
fn free_port_below_ephemeral() -> anyhow::Result<u16> {
    use rand::Rng;
    let mut rng = rand::rng();
    for _ in 0..200 {
        let port = rng.random_range(20_000..32_768);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port found between 20000 and 32767 for the embedded nats-server")
}

/// The first executable named `name` on PATH (and in /usr/sbin, where Debian puts it).
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Waits until JetStream answers an account query (the port opens a little before).
async fn wait_ready(url: &str, log: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        // The raw API answer: async-nats' `Account` expects fields nats-server 2.9 lacks.
        let ready = async {
            let client = async_nats::connect(url).await.ok()?;
            let answer = client.request("$JS.API.INFO", "".into()).await.ok()?;
            let text = String::from_utf8_lossy(&answer.payload).into_owned();
            (text.contains("account_info_response") && !text.contains("\"error\"")).then_some(())
        };
        if tokio::time::timeout(Duration::from_secs(2), ready)
            .await
            .ok()
            .flatten()
            .is_some()
        {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!(
                "the embedded nats-server's JetStream did not answer within 30 s; see {}",
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
