//! `attendance soak`: mixed traffic for a while (10 minutes by default) at 16 clients
//! against a fresh server, then proof that nothing was lost: zero 5xx, resident memory
//! sampled over the run, and at the end commands accepted = events stored = messages in the
//! stream = marks in the read models.
//!
//! With `--url` it soaks a running deployment instead (several `serve` processes behind a
//! load balancer, say, while a test kills some of them). Every request carries its own
//! `X-Request-Id`, which the events it writes keep: a command whose answer was lost (a 5xx
//! or a dropped connection) is looked up in the store afterwards, so the accounting stays
//! exact when a process dies with requests in flight.

use super::server::Server;
use super::{BenchArgs, load};
use crate::config::{Connections, Secret};
use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options of `attendance soak`.
#[derive(Debug, Clone, clap::Args)]
pub struct SoakArgs {
    /// Postgres server (a fresh database is created on it) and NATS.
    #[command(flatten)]
    pub connections: Connections,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// How long to run, in minutes.
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Roll calls of 200 students in the mix (each taken once; then the mix reads instead).
    #[arg(long, default_value_t = 600)]
    pub roll_calls: usize,
    /// Soak a running deployment at this URL instead of starting a server: a fresh one (its
    /// database and stream hold nothing else), given with its `DATABASE_URL`, `NATS_URL`,
    /// `BENCH_ADMIN_PASSWORD` and `--stream`.
    #[arg(long)]
    pub url: Option<String>,
    /// With `--url`: the password of its `admin` account.
    #[arg(long, env = "BENCH_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,
    /// With `--url`: its stream (`ATTENDANCE_STREAM`), whose messages are counted.
    #[arg(long, requires = "url")]
    pub stream: Option<String>,
}

/// What one client did.
#[derive(Debug, Default)]
struct Tally {
    /// Requests by kind and status class.
    requests: BTreeMap<String, u64>,
    /// Marks answered 2xx with `changed`.
    marks: u64,
    /// Corrections answered 2xx with `changed`.
    corrections: u64,
    /// Marks recorded by roll calls.
    roll_marks: u64,
    /// 5xx answers and transport errors, with a sample.
    failures: Vec<String>,
    /// Requests without an answer: every 5xx and transport error.
    unanswered: Vec<Unanswered>,
    /// (session, student) pairs this client marked.
    marked: Vec<(String, String)>,
}

/// A request answered 5xx, or not at all: whatever it did is found by its request id.
#[derive(Debug, Clone, Serialize)]
pub struct Unanswered {
    /// Its kind in the mix (`mark`, `roll call`, `statistics`...).
    pub kind: String,
    /// The `X-Request-Id` it was sent with.
    pub request_id: String,
    /// The status (e.g. `502`) or the transport error.
    pub answer: String,
    /// When it was sent.
    pub sent_at: chrono::DateTime<chrono::Utc>,
}

/// The outcome of a soak run.
#[derive(Debug, Serialize)]
pub struct Soak {
    /// Minutes run.
    pub minutes: f64,
    /// Clients.
    pub clients: usize,
    /// Requests by kind and status class (e.g. `mark 2xx`, `correction 4xx`).
    pub requests: BTreeMap<String, u64>,
    /// Requests per second over the run.
    pub requests_per_sec: f64,
    /// 5xx answers and transport errors.
    pub server_errors: u64,
    /// Those requests, each with its request id.
    pub unanswered: Vec<Unanswered>,
    /// `AttendanceRecorded` events written by unanswered requests (committed, and then the
    /// answer was lost).
    pub unanswered_recorded: i64,
    /// `AttendanceCorrected` events written by unanswered requests.
    pub unanswered_corrected: i64,
    /// Resident memory of the server every 10 s (MiB).
    pub rss_mib: Vec<f64>,
    /// Marks accepted (single and roll call) = `AttendanceRecorded` events.
    pub marks_accepted: u64,
    /// Corrections accepted = `AttendanceCorrected` events.
    pub corrections_accepted: u64,
    /// Events in the store.
    pub events_stored: i64,
    /// Messages in the stream.
    pub stream_messages: u64,
    /// Marks in the course statistics read model.
    pub read_model_marks: i64,
    /// Marks in the attendance records read model.
    pub record_rows_marked: i64,
    /// Stored events by type that the clients' counts are compared with.
    pub recorded_events: i64,
    /// Stored corrections.
    pub corrected_events: i64,
}

impl Soak {
    /// Whether nothing was lost or counted twice: marks and corrections accepted (plus those
    /// of unanswered requests found in the store) = events stored by type, events stored =
    /// messages in the stream, and marks stored = marks in both read models.
    pub fn counts_equal(&self) -> bool {
        self.marks_accepted as i64 + self.unanswered_recorded == self.recorded_events
            && self.corrections_accepted as i64 + self.unanswered_corrected == self.corrected_events
            && self.stream_messages as i64 == self.events_stored
            && self.read_model_marks == self.recorded_events
            && self.record_rows_marked == self.recorded_events
    }
}

/// Runs the soak test; fails if anything was lost or a 5xx was seen.
pub async fn run(args: SoakArgs) -> anyhow::Result<()> {
    let soak = measure(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&soak)?);
    } else {
        println!("{soak:#?}");
    }
    let counts_equal = soak.counts_equal();
    if soak.server_errors > 0 || !counts_equal {
        bail!(
            "soak failed: {} server errors; counts equal: {counts_equal}",
            soak.server_errors
        );
    }
    eprintln!("soak passed: zero 5xx, every accepted command stored, published and projected");
    Ok(())
}

/// An error with its causes (reqwest's own says only "error sending request").
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Runs the traffic (against a fresh server of its own, or the deployment at `args.url`)
/// and counts; judges nothing.
pub async fn measure(args: &SoakArgs) -> anyhow::Result<Soak> {
    let bench = BenchArgs {
        connections: args.connections.clone(),
        clients: args.clients,
        seconds: 0,
        students: 200,
        sessions: 200,
        roll_calls: args.roll_calls,
        json: args.json,
        url: args.url.clone(),
        admin_password: args.admin_password.clone(),
        stream: args.stream.clone(),
        district: false,
        district_scale: 1.0,
        only: None,
        check_in_students: 0,
        check_in_seconds: 0,
    };
    let server = Server::start(&bench).await?;
    let outcome = soak(&server, &bench, args.minutes).await;
    server.stop().await;
    outcome
}

async fn soak(server: &Server, bench: &BenchArgs, minutes: f64) -> anyhow::Result<Soak> {
    let data = Arc::new(load::prepare(server, bench).await?);
    let run_for = Duration::from_secs_f64(minutes * 60.0);
    let deadline = Instant::now() + run_for;
    let bar = ProgressBar::new(run_for.as_secs());
    bar.set_style(
        ProgressStyle::with_template("soak [{bar:30}] {pos}/{len} s {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let next_roll = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clients: Vec<_> = (0..bench.clients)
        .map(|_| {
            let (http, url, token) = (
                server.http.clone(),
                server.url.clone(),
                server.token.clone(),
            );
            let (data, next_roll) = (data.clone(), next_roll.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                while Instant::now() < deadline {
                    let request = pick(&data, &next_roll, &tally.marked);
                    let builder = match &request.body {
                        Some(body) => http.post(format!("{url}{}", request.path)).json(body),
                        None => http.get(format!("{url}{}", request.path)),
                    };
                    let request_id = format!("soak-{}", uuid::Uuid::new_v4().simple());
                    let sent_at = chrono::Utc::now();
                    let answer = builder
                        .bearer_auth(&token)
                        .header("x-request-id", &request_id)
                        .send()
                        .await;
                    let (class, status, body) = match answer {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            match r.bytes().await {
                                Ok(bytes) => (
                                    format!("{}xx", status / 100),
                                    status.to_string(),
                                    serde_json::from_slice(&bytes).unwrap_or_default(),
                                ),
                                // The connection broke in the middle of the answer.
                                Err(e) => (
                                    "transport error".into(),
                                    format!("{status}, then {}", causes(&e)),
                                    Value::Null,
                                ),
                            }
                        }
                        Err(e) => ("transport error".into(), causes(&e), Value::Null),
                    };
                    *tally
                        .requests
                        .entry(format!("{} {class}", request.kind))
                        .or_default() += 1;
                    match class.as_str() {
                        "2xx" => match request.kind {
                            "mark" => {
                                if body["changed"] == true {
                                    tally.marks += 1;
                                }
                                if let (Some(session), Some(student)) =
                                    (body["session_id"].as_str(), body["student_id"].as_str())
                                {
                                    tally
                                        .marked
                                        .push((session.to_string(), student.to_string()));
                                }
                            }
                            "correction" if body["changed"] == true => tally.corrections += 1,
                            "roll call" => {
                                tally.roll_marks += body["recorded"].as_u64().unwrap_or(0)
                            }
                            _ => {}
                        },
                        "4xx" => {}
                        _ => {
                            if tally.failures.len() < 5 {
                                tally.failures.push(format!(
                                    "{} {} ({request_id}): {status} {body}",
                                    request.kind, request.path
                                ));
                            }
                            tally.unanswered.push(Unanswered {
                                kind: request.kind.to_string(),
                                request_id,
                                answer: status,
                                sent_at,
                            });
                        }
                    }
                }
                tally
            })
        })
        .collect();
    let mut rss = Vec::new();
    while Instant::now() < deadline {
        if let Some(mib) = server.rss_mib() {
            rss.push(mib);
            bar.set_message(format!("RSS {mib:.0} MiB"));
        }
        bar.set_position(started.elapsed().as_secs().min(run_for.as_secs()));
        tokio::time::sleep(Duration::from_secs(10).min(deadline - Instant::now().min(deadline)))
            .await;
    }
    let mut total = Tally::default();
    for client in clients {
        let t = client.await?;
        for (k, v) in t.requests {
            *total.requests.entry(k).or_default() += v;
        }
        total.marks += t.marks;
        total.corrections += t.corrections;
        total.roll_marks += t.roll_marks;
        total.failures.extend(t.failures);
        total.unanswered.extend(t.unanswered);
    }
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    for failure in &total.failures {
        eprintln!("server error: {failure}");
    }
    let server_errors = total
        .requests
        .iter()
        .filter(|(k, _)| !k.ends_with("2xx") && !k.ends_with("4xx"))
        .map(|(_, v)| v)
        .sum();
    let requests: u64 = total.requests.values().sum();
    let (events_stored, stream_messages) = settle(server).await?;
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&server.pool)
            .await
    };
    let ids: Vec<&str> = total
        .unanswered
        .iter()
        .map(|u| u.request_id.as_str())
        .collect();
    let written_by_unanswered = |event_type: &'static str| {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM events WHERE event_type = $1 AND metadata ->> 'request_id' = ANY($2)",
        )
        .bind(event_type)
        .bind(&ids)
        .fetch_one(&server.pool)
    };
    let unanswered_recorded = written_by_unanswered("AttendanceRecorded").await?;
    let unanswered_corrected = written_by_unanswered("AttendanceCorrected").await?;
    Ok(Soak {
        minutes: elapsed / 60.0,
        clients: bench.clients,
        requests_per_sec: requests as f64 / elapsed,
        requests: total.requests,
        server_errors,
        unanswered: total.unanswered,
        unanswered_recorded,
        unanswered_corrected,
        rss_mib: rss,
        marks_accepted: total.marks + total.roll_marks,
        corrections_accepted: total.corrections,
        events_stored,
        stream_messages,
        read_model_marks: count(
            "SELECT COALESCE(sum(present + late + excused + absent), 0)::bigint FROM rm_course_students",
        )
        .await?,
        record_rows_marked: count(
            "SELECT count(*) FROM rm_attendance_records WHERE status IS NOT NULL",
        )
        .await?,
        recorded_events: count("SELECT count(*) FROM events WHERE event_type = 'AttendanceRecorded'")
            .await?,
        corrected_events: count(
            "SELECT count(*) FROM events WHERE event_type = 'AttendanceCorrected'",
        )
        .await?,
    })
}

/// Waits until the relay has published every event and the projectors applied them;
/// returns (events stored, messages in the stream).
///
/// A projector's position is the highest it applied, not a low-water mark: after a process
/// dies holding unacknowledged messages, later events of other aggregates are applied while
/// an earlier one of the same aggregate waits for its redelivery (ack wait) as a gap. So the
/// read models are also waited for until they hold every recorded mark (or 300 s pass, and
/// the settling fails naming what is missing).
async fn settle(server: &Server) -> anyhow::Result<(i64, u64)> {
    // The early warning catches up after the burst with the rest of the suite on two cores.
    const LIMIT: Duration = Duration::from_secs(300);
    let started = Instant::now();
    // The early warning's process manager stores crossings after the marks that caused
    // them: settled means it is idle and the counts held still over three looks. A look
    // that cannot tell (the stream or the consumer does not answer while the cluster fails
    // over) counts neither way: the next one that can is compared with the last that could.
    let (mut quiet, mut last) = (0, (-1_i64, 0_u64));
    let (mut unanswered, mut why) = (0u32, String::new());
    loop {
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&server.pool)
            .await?;
        let (recorded, in_stats, in_records): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM events WHERE event_type = 'AttendanceRecorded'), \
                    (SELECT COALESCE(sum(present + late + excused + absent), 0)::bigint FROM rm_course_students), \
                    (SELECT count(*) FROM rm_attendance_records WHERE status IS NOT NULL)",
        )
        .fetch_one(&server.pool)
        .await?;
        let caught_up = super::server::projectors_caught_up(&server.pool).await?;
        let answered = match (server.stream_messages().await, server.warnings_idle().await) {
            (Ok(messages), Ok(idle)) => Some((messages, idle)),
            (messages, idle) => {
                unanswered += 1;
                why = format!("{:?} / {:?}", messages.err(), idle.err());
                None
            }
        };
        if let Some((messages, idle)) = answered {
            let converged = in_stats == recorded && in_records == recorded;
            let still = (events, messages) == last;
            last = (events, messages);
            if messages as i64 == events && converged && still && caught_up && idle {
                quiet += 1;
                if quiet >= 3 {
                    return Ok((events, messages));
                }
            } else {
                quiet = 0;
            }
        }
        if started.elapsed() > LIMIT {
            anyhow::bail!(
                "the system did not settle in {LIMIT:?}: {events} events stored, {} in the \
                 stream, {recorded} marks of which {in_stats} in the statistics and \
                 {in_records} in the records, projectors caught up: {caught_up}, the early \
                 warning idle: {answered:?}; {unanswered} looks unanswered (last: {why})",
                last.1
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One request of the mix.
struct Request {
    kind: &'static str,
    path: String,
    body: Option<Value>,
}

/// The mix: half single marks, corrections, roll calls, and reads of every kind.
fn pick(
    data: &load::Data,
    next_roll: &std::sync::atomic::AtomicUsize,
    marked: &[(String, String)],
) -> Request {
    let mut rng = rand::rng();
    let session = &data.sessions[rng.random_range(0..data.sessions.len())];
    let student = &data.students[rng.random_range(0..data.students.len())];
    let status = ["present", "late", "excused", "absent"][rng.random_range(0..4)];
    // The same first status for a pair every time: repeats answer `changed: false`.
    let first = ["present", "late", "absent"][(session.len() + student.len()) % 3];
    match rng.random_range(0..100) {
        0..50 => Request {
            kind: "mark",
            path: "/api/attendance".into(),
            body: Some(json!({"session_id": session, "student_id": student, "status": first})),
        },
        50..62 => {
            // Mostly a mark this client took, so that most corrections have a mark to change.
            let (session, student) = match marked.get(rng.random_range(0..marked.len().max(1))) {
                Some((session, student)) if rng.random_bool(0.9) => (session, student),
                _ => (session, student),
            };
            Request {
                kind: "correction",
                path: format!("/api/sessions/{session}/attendance/{student}/correction"),
                body: Some(json!({"status": status, "reason": "soak test correction"})),
            }
        }
        62..66 => {
            let n = next_roll.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match data.roll_sessions.get(n) {
                Some(roll) => Request {
                    kind: "roll call",
                    path: format!("/api/sessions/{roll}/attendance"),
                    body: Some(json!({"marks": (1..=200)
                        .map(|i| json!({"student_id": format!("R{i}"), "status": "present"}))
                        .collect::<Vec<_>>()})),
                },
                None => Request {
                    kind: "session view",
                    path: format!("/api/sessions/{session}"),
                    body: None,
                },
            }
        }
        66..78 => Request {
            kind: "session view",
            path: format!("/api/sessions/{session}"),
            body: None,
        },
        78..88 => Request {
            kind: "statistics",
            path: "/api/courses/BENCH/statistics".into(),
            body: None,
        },
        88..94 => Request {
            kind: "at-risk",
            path: "/api/courses/BENCH/at-risk".into(),
            body: None,
        },
        94..97 => Request {
            kind: "audit",
            path: "/api/audit/events?limit=50".into(),
            body: None,
        },
        _ => Request {
            kind: "csv report",
            path: "/api/reports/course/BENCH?format=csv".into(),
            body: None,
        },
    }
}
