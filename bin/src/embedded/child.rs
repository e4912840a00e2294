//! A server as a child process that dies with ours, restarted when it dies on its own.
//!
//! The parent-death signal (`PR_SET_PDEATHSIG`) makes the kernel signal the child when the
//! thread that forked it ends, which includes a SIGKILL of our whole process. It is tied to
//! that thread, so each child is spawned and waited for by a thread of its own that lives
//! exactly as long as the supervision. As root, a server runs as the `postgres` user (initdb
//! and postgres refuse root); the order in the child matters: setgroups, setgid, setuid, then
//! the death signal (a change of uid clears it), then a check that the parent is still there
//! (it may have died before the signal was armed).

use anyhow::{Context, bail};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A system user to run a child as.
#[derive(Debug, Clone, Copy)]
pub struct User {
    uid: libc::uid_t,
    gid: libc::gid_t,
}

impl User {
    /// The `postgres` user when we are root (Postgres refuses to run as root), else nobody
    /// (the child runs as we do).
    pub fn for_postgres() -> anyhow::Result<Option<User>> {
        if !is_root() {
            return Ok(None);
        }
        let name = c"postgres";
        // SAFETY: a NUL-terminated name; the record is read at once, before any other
        // getpw* call could overwrite it.
        let entry = unsafe { libc::getpwnam(name.as_ptr()) };
        if entry.is_null() {
            bail!(
                "running as root, but there is no `postgres` user to run Postgres as (apt-get install postgresql creates it)"
            );
        }
        // SAFETY: checked non-null above.
        let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
        Ok(Some(User { uid, gid }))
    }

    /// Gives `path` to this user (Postgres insists on owning its data directory).
    pub fn own(&self, path: &std::path::Path) -> anyhow::Result<()> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .with_context(|| format!("giving {} to the postgres user", path.display()))
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Shown in logs.
    pub name: &'static str,
    /// The binary.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Working directory (readable by `user`).
    pub dir: PathBuf,
    /// Standard output and error go here (appended).
    pub log: PathBuf,
    /// Who to run as; `None` is ourselves.
    pub user: Option<User>,
    /// The signal that stops it cleanly, also sent when we die.
    pub stop_signal: libc::c_int,
}

impl Spec {
    fn command(&self) -> anyhow::Result<Command> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let (user, signal) = (self.user, self.stop_signal);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs between fork and exec and makes only async-signal-safe
        // system calls, allocating nothing.
        unsafe { command.pre_exec(move || become_child(user, signal, parent)) };
        Ok(command)
    }
}

fn become_child(
    user: Option<User>,
    signal: libc::c_int,
    parent: libc::pid_t,
) -> std::io::Result<()> {
    let check = |result: libc::c_int| match result {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    };
    // SAFETY: plain system calls on values copied into the closure.
    unsafe {
        if let Some(user) = user {
            check(libc::setgroups(0, std::ptr::null()))?;
            check(libc::setgid(user.gid))?;
            check(libc::setuid(user.uid))?;
        }
        check(libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong))?;
        if libc::getppid() != parent {
            return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
        }
    }
    Ok(())
}

/// Runs a one-off command (initdb) as the spec says and fails with its output unless it
/// succeeded.
pub fn run_once(spec: &Spec) -> anyhow::Result<()> {
    let status = spec
        .command()?
        .status()
        .with_context(|| format!("running {}", spec.program.display()))?;
    if !status.success() {
        let log = std::fs::read_to_string(&spec.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{} failed ({status}):\n{}", spec.name, tail.join("\n"));
    }
    Ok(())
}

/// A running, supervised child: restarted a second after it exits on its own; stopped with
/// its stop signal (then SIGKILL after 30 s) when this is dropped.
pub struct Supervised {
    name: &'static str,
    signal: libc::c_int,
    pid: Arc<AtomicI32>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Supervised {
    /// Spawns the child on a supervising thread; fails if the first spawn fails.
    pub fn start(spec: Spec) -> anyhow::Result<Supervised> {
        let pid = Arc::new(AtomicI32::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let (started, first) = std::sync::mpsc::channel();
        let (name, signal) = (spec.name, spec.stop_signal);
        let thread = std::thread::Builder::new()
            .name(format!("embedded-{name}"))
            .spawn({
                let (pid, stopping) = (pid.clone(), stopping.clone());
                move || supervise(spec, &pid, &stopping, started)
            })?;
        first
            .recv()
            .context("the supervising thread ended")?
            .with_context(|| format!("starting {name}"))?;
        Ok(Supervised {
            name,
            signal,
            pid,
            stopping,
            thread: Some(thread),
        })
    }
}

fn supervise(
    spec: Spec,
    pid: &AtomicI32,
    stopping: &AtomicBool,
    started: std::sync::mpsc::Sender<anyhow::Result<()>>,
) {
    let mut started = Some(started);
    while !stopping.load(Ordering::SeqCst) {
        match spec.command().and_then(|mut c| Ok(c.spawn()?)) {
            Ok(mut child) => {
                let id = child.id() as i32;
                pid.store(id, Ordering::SeqCst);
                if stopping.load(Ordering::SeqCst) {
                    // SAFETY: signalling our own child, which we have not reaped yet.
                    unsafe { libc::kill(id, spec.stop_signal) };
                }
                if let Some(started) = started.take() {
                    let _ = started.send(Ok(()));
                }
                let status = child.wait();
                pid.store(0, Ordering::SeqCst);
                if !stopping.load(Ordering::SeqCst) {
                    tracing::error!(server = spec.name, ?status, log = %spec.log.display(),
                        "embedded server exited; restarting it in a second");
                }
            }
            Err(error) => match started.take() {
                Some(started) => {
                    let _ = started.send(Err(error));
                    return;
                }
                None => tracing::error!(server = spec.name, %error, "restarting failed"),
            },
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut signal = self.signal;
        let mut sent = (0, 0);
        let Some(thread) = self.thread.take() else {
            return;
        };
        while !thread.is_finished() {
            let pid = self.pid.load(Ordering::SeqCst);
            // Never 0 or negative: kill(0, ..) would signal our own process group.
            if pid > 0 && sent != (pid, signal) {
                // SAFETY: the pid is our child's, still unreaped while it is stored.
                unsafe { libc::kill(pid, signal) };
                sent = (pid, signal);
            }
            if Instant::now() > deadline {
                signal = libc::SIGKILL;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = thread.join();
        tracing::info!(server = self.name, "embedded server stopped");
    }
}
