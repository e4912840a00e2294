//! The production topology in one test: three nats-servers as one cluster with the stream in
//! three replicas, three `serve` processes on one database, and haproxy in front of them,
//! checking `/api/ready`. The soak's mixed traffic (`attendance soak --url`) runs through
//! haproxy while the stream's leader and then one `serve` process are killed (SIGKILL). At the
//! end: commands accepted = events stored = messages in the stream (each once) = marks in the
//! read models, and the only 5xx are requests that were in flight on the killed process
//! (haproxy's log says which server each request went to).

use crate::helpers::{ADMIN_PASSWORD, attendance_binary, fresh_database_name, postgres_base};
use crate::nats_support::{Cluster, free_port};
use async_nats::jetstream;
use attendance::bench::soak::{self, Soak, SoakArgs};
use attendance::config::Connections;
use sqlx::PgPool;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `serve` processes behind haproxy.
const SERVES: usize = 3;
/// Minutes of traffic: long enough for both kills and traffic after them.
const SOAK_MINUTES: f64 = 0.5;
/// Soak clients.
const CLIENTS: usize = 8;
/// Roll calls of 200 in the mix (the soak's 600 would be 120,000 marks).
const ROLL_CALLS: usize = 20;
/// Each `serve` process's pool: 3 x 8, the soak's 20 and the test's 4 stay well under the
/// shared Postgres's `max_connections` (100) with other tests running.
const POOL_PER_SERVE: u32 = 8;
/// The `serve` process killed mid-run (haproxy's name for it).
const VICTIM: usize = 0;

/// Waits until `check` holds, at most `deadline`; returns how long it took.
async fn until<F, Fut>(what: &str, deadline: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < deadline,
            "{what}: not within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

/// A temporary directory for configuration and logs: removed after a pass, kept (and
/// named) after a failure.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("logs of the failed run kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// One `attendance serve` child process; killed when dropped.
struct Serve {
    port: u16,
    child: Option<Child>,
}

impl Serve {
    fn spawn(n: usize, dir: &Path, env: &[(&str, String)]) -> Serve {
        let port = free_port();
        let log = |stream: &str| std::fs::File::create(dir.join(format!("s{n}.{stream}"))).unwrap();
        let child = Command::new(attendance_binary())
            .arg("serve")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("ATTENDANCE_ADDR", format!("127.0.0.1:{port}"))
            .current_dir(dir)
            .stdout(log("stdout"))
            .stderr(log("stderr"))
            .spawn()
            .expect("attendance serve starts");
        Serve {
            port,
            child: Some(child),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until `/api/ready` answers 200 (the process exiting first fails the test).
    async fn until_ready(&mut self, http: &reqwest::Client) {
        let ready = format!("{}/api/ready", self.url());
        let child = self.child.as_mut().unwrap();
        until("serve ready", Duration::from_secs(90), || {
            let exited = child.try_wait().unwrap();
            assert!(exited.is_none(), "serve exited: {exited:?}");
            let request = http.get(&ready).send();
            async move { request.await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
    }

    /// SIGKILL: no drain, requests in flight are cut off.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Debian's haproxy; the test fails (never skips) without it.
fn haproxy_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("haproxy"))
        .find(|candidate| candidate.is_file())
        .expect("haproxy is required by this test: apt-get install haproxy (.ci/run does)")
}

/// haproxy in the foreground, in front of the `serve` processes; killed when dropped.
struct Haproxy {
    port: u16,
    log: PathBuf,
    child: Child,
}

impl Haproxy {
    fn start(dir: &Path, serves: &[Serve]) -> Haproxy {
        let port = free_port();
        let servers: String = serves
            .iter()
            .enumerate()
            .map(|(n, s)| format!("    server s{n} 127.0.0.1:{} check\n", s.port))
            .collect();
        // One access-log line per request on standard output: its X-Request-Id, the server
        // it went to, its status, how the session ended and when it came. A request whose
        // connection to a dead server fails is sent to another one (retries, redispatch): it
        // was not sent. One request per connection (`httpclose`): when a server dies before
        // answering a request that is not the first on its client connection, haproxy closes
        // that connection without a 502 or a log line (so that the client may retry), and the
        // test could not tell where the request went.
        let config = format!(
            "global
    log stdout format raw local0 info
    maxconn 1000
    nbthread 2

defaults
    mode http
    log global
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout check 5s
    retries 3
    option redispatch 1
    option httpclose

frontend api
    bind 127.0.0.1:{port}
    capture request header X-Request-Id len 64
    log-format \"%[capture.req.hdr(0)] %s %ST %tsc %tr\"
    default_backend serve

backend serve
    balance roundrobin
    option httpchk GET /api/ready
    http-check expect status 200
    default-server inter 500ms fastinter 200ms downinter 500ms fall 3 rise 2
{servers}"
        );
        let config_file = dir.join("haproxy.cfg");
        std::fs::write(&config_file, config).unwrap();
        let log = dir.join("haproxy.log");
        let child = Command::new(haproxy_binary())
            .arg("-db")
            .arg("-f")
            .arg(&config_file)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.join("haproxy.stderr")).unwrap())
            .spawn()
            .expect("haproxy starts");
        Haproxy { port, log, child }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until a request through haproxy finds a ready `serve`.
    async fn until_ready(&mut self, http: &reqwest::Client) {
        let ready = format!("{}/api/ready", self.url());
        let child = &mut self.child;
        until("haproxy ready", Duration::from_secs(30), || {
            let exited = child.try_wait().unwrap();
            assert!(exited.is_none(), "haproxy exited: {exited:?}");
            let request = http.get(&ready).send();
            async move { request.await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
    }

    /// Requests of the soak answered 2xx so far.
    fn answered(&self) -> usize {
        self.requests()
            .values()
            .filter(|(_, status, _)| status.starts_with('2'))
            .count()
    }

    /// Every logged request by its request id: (server, status, termination state).
    fn requests(&self) -> HashMap<String, (String, String, String)> {
        std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .filter_map(|line| {
                let mut fields = line.split(' ');
                let id = fields.next()?.to_string();
                let server = fields.next()?.to_string();
                let status = fields.next()?.to_string();
                let ended = fields.next()?.to_string();
                Some((id, (server, status, ended)))
            })
            .collect()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The stream's leader and message count, asked of whichever server answers within 2 s.
async fn stream_state(js: &jetstream::Context, name: &str) -> Option<(Option<String>, u64)> {
    let info = async {
        let mut stream = js.get_stream(name).await.ok()?;
        stream.info().await.ok().cloned()
    };
    let info = tokio::time::timeout(Duration::from_secs(2), info)
        .await
        .ok()??;
    Some((info.cluster.and_then(|c| c.leader), info.state.messages))
}

/// The largest delays seen while the traffic ran, sampled every 250 ms.
#[derive(Debug, Default)]
struct Lags {
    /// Age of the oldest event the relay had not yet published (s).
    relay: Vec<f64>,
    /// Age of the oldest event some projector had not yet applied (s).
    projection: Vec<f64>,
}

async fn sample_lags(pool: PgPool, stream: String, stop: Arc<AtomicBool>) -> Lags {
    let mut lags = Lags::default();
    while !stop.load(Ordering::SeqCst) {
        if let Ok(lag) = event_store::outbox::lag(&pool, &stream).await {
            lags.relay.push(lag.oldest_age_secs.unwrap_or(0.0));
        }
        let projection: Result<Option<f64>, _> = sqlx::query_scalar(
            "SELECT extract(epoch FROM now() - min(recorded_at))::float8 FROM events
              WHERE global_position > (SELECT coalesce(min(position), 0) FROM projector_state)",
        )
        .fetch_one(&pool)
        .await;
        if let Ok(age) = projection {
            lags.projection.push(age.unwrap_or(0.0));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    lags
}

/// Median and largest of some samples.
fn p50_max(samples: &[f64]) -> (f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let p50 = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    (p50, sorted.last().copied().unwrap_or(0.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_soak_through_haproxy_loses_nothing_when_the_stream_leader_and_a_serve_process_die() {
    haproxy_binary();
    let scratch =
        Scratch(std::env::temp_dir().join(format!("att-soak-{}", uuid::Uuid::new_v4().simple())));
    std::fs::create_dir_all(&scratch.0).unwrap();
    let dir = scratch.0.as_path();

    // Three nats-servers; the cluster takes a 3-replica stream once its peers have met.
    let mut cluster = Cluster::start();
    let database = fresh_database_name();
    let database_url = format!("{}/{database}", postgres_base());
    let connections = Connections {
        database_url: database_url.clone(),
        database_max_connections: 4,
        database_acquire_timeout_secs: 5,
        nats_url: cluster.url(),
        nats_user: None,
        nats_password: None,
    };
    let nats = attendance::startup::nats(&connections).await.unwrap();
    let js = jetstream::new(nats.clone());
    until(
        "the cluster takes a stream of three replicas",
        Duration::from_secs(60),
        || async {
            let probe = jetstream::stream::Config {
                name: "PROBE".into(),
                subjects: vec!["probe.>".into()],
                num_replicas: 3,
                ..Default::default()
            };
            js.get_or_create_stream(probe).await.is_ok()
        },
    )
    .await;
    js.delete_stream("PROBE").await.unwrap();

    // Three `serve` processes on one fresh database (they race to create it), one stream.
    let stream = format!("C{}", &database[database.len() - 12..]);
    let env = [
        ("DATABASE_URL", database_url.clone()),
        ("DATABASE_MAX_CONNECTIONS", POOL_PER_SERVE.to_string()),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "5".into()),
        ("NATS_URL", cluster.url()),
        ("ATTENDANCE_STREAM", stream.clone()),
        ("ATTENDANCE_SUBJECT_PREFIX", stream.to_lowercase()),
        ("ATTENDANCE_STREAM_REPLICAS", "3".into()),
        ("BREAKER_OPEN_SECS", "1".into()),
        (
            "JWT_SECRET",
            format!("cluster-soak-{}", uuid::Uuid::new_v4().simple()),
        ),
        ("ATTENDANCE_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
        ("ATTENDANCE_EMBEDDED", "never".into()),
        ("RUST_LOG", "warn".into()),
    ];
    let mut serves: Vec<Serve> = (0..SERVES).map(|n| Serve::spawn(n, dir, &env)).collect();
    let http = reqwest::Client::new();
    for serve in &mut serves {
        serve.until_ready(&http).await;
    }
    let mut haproxy = Haproxy::start(dir, &serves);
    haproxy.until_ready(&http).await;
    let pool = attendance::startup::database(&connections).await.unwrap();

    // The soak's traffic through haproxy, with the lags sampled alongside.
    let args = SoakArgs {
        connections: Connections {
            database_max_connections: 20,
            ..connections.clone()
        },
        clients: CLIENTS,
        minutes: SOAK_MINUTES,
        json: false,
        roll_calls: ROLL_CALLS,
        url: Some(haproxy.url()),
        admin_password: Some(ADMIN_PASSWORD.into()),
        stream: Some(stream.clone()),
    };
    let soak_started = Instant::now();
    let run = tokio::spawn(async move { soak::measure(&args).await });
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_lags(
        pool.clone(),
        stream.clone(),
        stop_sampling.clone(),
    ));
    // Traffic flows once data is loaded: then (while the soak runs) the kills.
    until(
        "requests answered through haproxy",
        Duration::from_secs(90),
        || async { haproxy.answered() >= 50 },
    )
    .await;

    // 1. The stream's leader dies.
    let (leader, published) = until_some(&js, &stream).await;
    let leader = leader.expect("a 3-replica stream has a leader");
    let mut info = js.get_stream(&stream).await.unwrap();
    assert_eq!(info.info().await.unwrap().config.num_replicas, 3);
    cluster.kill(&leader);
    let nats_killed = Instant::now();
    let nats_killed_at = soak_started.elapsed();
    until(
        "another server leads the stream",
        Duration::from_secs(30),
        || async {
            stream_state(&js, &stream)
                .await
                .is_some_and(|(l, _)| l.is_some_and(|l| l != leader))
        },
    )
    .await;
    let failover = nats_killed.elapsed();
    until(
        "publishing resumes after the failover",
        Duration::from_secs(30),
        || async {
            stream_state(&js, &stream)
                .await
                .is_some_and(|(_, messages)| messages > published)
        },
    )
    .await;
    let resumed = nats_killed.elapsed();

    // 2. One `serve` process dies with requests in flight.
    let answered = haproxy.answered();
    until(
        "requests answered after the failover",
        Duration::from_secs(30),
        || async { haproxy.answered() >= answered + 30 },
    )
    .await;
    assert!(
        !run.is_finished(),
        "the soak ended before a serve process was killed"
    );
    serves[VICTIM].kill();
    let serve_killed_at = soak_started.elapsed();
    let answered = haproxy.answered();
    until(
        "requests answered after a serve process died",
        Duration::from_secs(30),
        || async { haproxy.answered() >= answered + 30 },
    )
    .await;

    let figures: Soak = run.await.unwrap().expect("the soak ran to the end");
    stop_sampling.store(true, Ordering::SeqCst);
    let lags = sampler.await.unwrap();

    // Where each unanswered request went: only to the killed process.
    let logged = haproxy.requests();
    let victim = format!("s{VICTIM}");
    let mut in_flight_on_victim = 0;
    for request in &figures.unanswered {
        let (server, status, ended) = logged.get(&request.request_id).unwrap_or_else(|| {
            panic!(
                "{request:?} is not in haproxy's log: it never reached haproxy; all: {:#?}",
                figures.unanswered
            )
        });
        assert_eq!(
            server, &victim,
            "{request:?} failed on {server} ({status} {ended}), a process that was not killed"
        );
        in_flight_on_victim += 1;
    }

    // The stream holds every event once: contiguous sequences from 1, and by message id
    // every stored event and nothing else.
    let started = Instant::now();
    let check = loop {
        // A client whose server was killed reconnects in its own time: a fresh one.
        let client = attendance::startup::nats(&connections).await.unwrap();
        match attendance::stream_check::verify(&pool, &client, &stream).await {
            Ok(check) => break check,
            Err(error) if started.elapsed() < Duration::from_secs(60) => {
                eprintln!("reading the stream back: {error:#}; again");
            }
            Err(error) => panic!("the stream does not read back: {error:#}"),
        }
    };
    let mut info = js.get_stream(&stream).await.unwrap();
    let state = info.info().await.unwrap().state.clone();

    let requests: u64 = figures.requests.values().sum();
    let (relay_p50, relay_max) = p50_max(&lags.relay);
    let (projection_p50, projection_max) = p50_max(&lags.projection);
    println!(
        "cluster soak: {SERVES} serve processes behind haproxy, NATS cluster of 3 (R3), \
         {CLIENTS} clients for {:.0} s\n\
         requests: {requests} ({:.0}/s), by kind and class: {:?}\n\
         stream leader {leader} killed {:.1} s after the soak started (data loading included): \
         a new leader reported after {:.2} s, the stream growing again after {:.2} s\n\
         serve s{VICTIM} killed at {:.1} s: {in_flight_on_victim} requests in flight on it \
         answered 5xx (of them {} marks and {} corrections committed anyway)\n\
         marks accepted {} + committed unanswered {} = AttendanceRecorded {}; corrections \
         accepted {} + {} = AttendanceCorrected {}\n\
         events stored {} = stream messages {} (sequences {}..={}, {} held once by id) \
         = read-model marks {} / {} rows\n\
         relay lag p50 {relay_p50:.2} s, max {relay_max:.2} s; projection lag p50 \
         {projection_p50:.2} s, max {projection_max:.2} s",
        figures.minutes * 60.0,
        figures.requests_per_sec,
        figures.requests,
        nats_killed_at.as_secs_f64(),
        failover.as_secs_f64(),
        resumed.as_secs_f64(),
        serve_killed_at.as_secs_f64(),
        figures.unanswered_recorded,
        figures.unanswered_corrected,
        figures.marks_accepted,
        figures.unanswered_recorded,
        figures.recorded_events,
        figures.corrections_accepted,
        figures.unanswered_corrected,
        figures.corrected_events,
        figures.events_stored,
        figures.stream_messages,
        state.first_sequence,
        state.last_sequence,
        check.in_stream,
        figures.read_model_marks,
        figures.record_rows_marked,
    );
    assert!(figures.counts_equal(), "counts differ: {figures:#?}");
    assert!(check.complete(), "missing from the stream: {check:?}");
    assert_eq!(check.unknown, 0, "{check:?}");
    assert_eq!(check.pending, 0, "{check:?}");
    assert_eq!(check.in_stream, check.expected, "duplicates: {check:?}");
    assert_eq!(check.expected as i64, figures.events_stored, "{check:?}");
    assert_eq!(
        (state.first_sequence, state.last_sequence),
        (1, state.messages),
        "gaps in the stream's sequence"
    );
    // Each client has one request in flight at a time.
    assert!(in_flight_on_victim <= CLIENTS, "{:?}", figures.unanswered);
    assert!(
        figures
            .requests
            .iter()
            .any(|(kind, n)| kind == "roll call 2xx" && *n > 0),
        "the mix ran: {:?}",
        figures.requests
    );

    drop(haproxy);
    drop(serves);
    pool.close().await;
    let admin = PgPool::connect(&format!("{}/postgres", postgres_base()))
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE \"{database}\" WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}

/// The stream's state, waiting for a server to answer.
async fn until_some(js: &jetstream::Context, stream: &str) -> (Option<String>, u64) {
    let started = Instant::now();
    loop {
        if let Some(state) = stream_state(js, stream).await {
            return state;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the stream does not answer"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
