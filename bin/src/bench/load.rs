//! The HTTP workloads: single marks (with the projection lag measured alongside) and
//! 200-student roll calls. Data is set up directly through the write side, as the demo does.

use super::ceiling::tick;
use super::server::Server;
use super::{BenchArgs, Figures, Latency, step};
use anyhow::anyhow;
use api::app::store::{self, CommandMeta, Source, Stores};
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use domain::course::{CourseCommand, CourseDetails};
use domain::{Actor, CourseId, Role, SessionId, StudentId, UserId};
use projections::projector::{self, Projection};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Students in a roll call.
const ROLL: usize = 200;

/// What the workloads mark.
pub struct Data {
    /// Sessions of the single-mark course.
    pub sessions: Vec<String>,
    /// Students of the single-mark course.
    pub students: Vec<String>,
    /// Sessions of the roll-call courses (200 students each).
    pub roll_sessions: Vec<String>,
}

/// A session to schedule: its id and when it starts.
pub type Session = (String, DateTime<Utc>);

/// Creates a course with its enrolments (from 2026-09-01) and 90-minute sessions through the
/// write side, in one command batch.
pub async fn course(
    stores: &Stores,
    code: &str,
    students: &[String],
    sessions: &[Session],
) -> anyhow::Result<()> {
    let actor = Actor {
        user_id: UserId::parse("bench")?,
        role: Role::Admin,
    };
    let id = CourseId::parse(code)?;
    let meta = CommandMeta {
        actor: actor.clone(),
        request_id: format!("bench-{code}"),
        source: Source::Cli,
        course_id: id.clone(),
    };
    let (at, start) = (
        Utc::now(),
        NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"),
    );
    let details = CourseDetails {
        name: format!("Benchmark {code}"),
        ..CourseDetails::default()
    };
    let mut commands = vec![CourseCommand::CreateCourse {
        course_id: id.clone(),
        details,
        time_zone: domain::Zone::UTC,
        by: actor.clone(),
        at,
    }];
    for s in students {
        let student_id = StudentId::parse(s.clone())?;
        commands.push(CourseCommand::EnrollStudent {
            student_id,
            effective_from: start,
            by: actor.clone(),
            at,
        });
    }
    for (n, (s, starts_at)) in sessions.iter().enumerate() {
        commands.push(CourseCommand::ScheduleSession {
            session_id: SessionId::parse(s.clone())?,
            title: format!("Lecture {}", n + 1),
            starts_at: *starts_at,
            duration_minutes: 90,
            by: actor.clone(),
            at,
        });
    }
    store::execute(
        &stores.courses,
        id.as_str(),
        &meta,
        |_| Ok(commands.clone()),
    )
    .await
    .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// One session a day at 9:00 from 2026-09-07, one per id.
fn daily(ids: &[String]) -> Vec<Session> {
    let first = NaiveDate::from_ymd_opt(2026, 9, 7).expect("date");
    ids.iter()
        .enumerate()
        .map(|(n, id)| {
            let day = first + Days::days(n as i64);
            let starts_at = day.and_hms_opt(9, 0, 0).expect("time").and_utc();
            (id.clone(), starts_at)
        })
        .collect()
}

/// Creates the single-mark course and the roll-call courses.
pub async fn prepare(server: &Server, args: &BenchArgs) -> anyhow::Result<Data> {
    let bar = step("loading data", None);
    let stores = Stores::new(&server.pool);
    let students: Vec<String> = (1..=args.students).map(|n| format!("S{n}")).collect();
    let sessions: Vec<String> = (1..=args.sessions).map(|n| format!("bench-{n}")).collect();
    course(&stores, "BENCH", &students, &daily(&sessions)).await?;
    let roll_students: Vec<String> = (1..=ROLL).map(|n| format!("R{n}")).collect();
    let mut roll_sessions = Vec::new();
    for (k, chunk) in (0..args.roll_calls)
        .collect::<Vec<_>>()
        .chunks(60)
        .enumerate()
    {
        let ids: Vec<String> = chunk.iter().map(|n| format!("roll-{n}")).collect();
        course(&stores, &format!("ROLL{k}"), &roll_students, &daily(&ids)).await?;
        roll_sessions.extend(ids);
    }
    bar.finish_and_clear();
    Ok(Data {
        sessions,
        students,
        roll_sessions,
    })
}

type Latest = Arc<Mutex<Option<(i64, Instant)>>>;

/// Workload 1 (and 3): single marks over HTTP from `clients` clients for `seconds`, while a
/// sampler measures how long the course statistics take to reflect a command.
pub async fn single_marks(
    server: &Server,
    data: &Data,
    args: &BenchArgs,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let bar = step(
        &format!("1 single marks, {} clients", args.clients),
        Some(args.seconds),
    );
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let latest: Latest = Arc::new(Mutex::new(None));
    let statuses = ["present", "present", "present", "late", "absent", "excused"];
    let clients: Vec<_> = (0..args.clients)
        .map(|c| {
            let (http, url, token, latest) = (server.http.clone(), server.url.clone(), server.token.clone(), latest.clone());
            let pairs: Vec<(String, String)> = data
                .sessions
                .iter()
                .enumerate()
                .filter(|(i, _)| i % args.clients == c)
                .flat_map(|(_, s)| data.students.iter().map(move |st| (s.clone(), st.clone())))
                .collect();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                for (i, (session, student)) in pairs.into_iter().enumerate() {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let body = json!({"session_id": session, "student_id": student, "status": statuses[i % statuses.len()]});
                    let started = Instant::now();
                    let response = http.post(format!("{url}/api/attendance")).bearer_auth(&token).json(&body).send().await;
                    match response {
                        Ok(r) if r.status().is_success() => {
                            let done: serde_json::Value = r.json().await.unwrap_or_default();
                            latencies.push(started.elapsed().as_secs_f64());
                            if let Some(position) = done["position"].as_i64() {
                                *latest.lock().expect("lock") = Some((position, Instant::now()));
                            }
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let sampler = tokio::spawn(sample_lag(server.pool.clone(), latest, deadline));
    let started = Instant::now();
    let ticker = tick(&bar);
    let mut latencies = Vec::new();
    for client in clients {
        let (mut l, e) = client.await?;
        latencies.append(&mut l);
        figures.command_errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    ticker.abort();
    bar.finish_and_clear();
    figures.commands_per_sec = latencies.len() as f64 / elapsed;
    figures.command_latency = Latency::of(&mut latencies);
    figures.projection_lag = Latency::of(&mut sampler.await?);
    Ok(())
}

/// How often the sampler asks whether a command shows yet: a figure may be up to this much
/// late, and asking more often would load the two cores the system under test runs on.
const LAG_POLL: Duration = Duration::from_millis(5);

/// Every 50 ms, times how long the newest command takes to show in the course statistics.
async fn sample_lag(pool: sqlx::PgPool, latest: Latest, deadline: Instant) -> Vec<f64> {
    let name = projections::course_stats::store::CourseStatsProjection::NAME;
    let mut samples = Vec::new();
    let mut last = 0;
    while Instant::now() < deadline {
        let newest = *latest.lock().expect("lock");
        if let Some((position, answered)) = newest.filter(|(p, _)| *p > last) {
            last = position;
            while !projector::has_applied(&pool, name, position)
                .await
                .unwrap_or(false)
            {
                if answered.elapsed() > Duration::from_secs(30) {
                    break;
                }
                tokio::time::sleep(LAG_POLL).await;
            }
            samples.push(answered.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    samples
}

/// Workload 2: 200-student roll calls, one request each, from `clients` clients.
pub async fn roll_calls(
    server: &Server,
    data: &Data,
    args: &BenchArgs,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let bar = step(&format!("2 roll calls of {ROLL}"), None);
    let next = Arc::new(AtomicUsize::new(0));
    let sessions = Arc::new(data.roll_sessions.clone());
    let marks: Vec<_> = (1..=ROLL)
        .map(|n| {
            let status = ["present", "late", "absent"][n % 3];
            json!({"student_id": format!("R{n}"), "status": status})
        })
        .collect();
    let body = Arc::new(json!({"marks": marks}));
    let started = Instant::now();
    let clients: Vec<_> = (0..args.clients)
        .map(|_| {
            let (http, url, token) = (
                server.http.clone(),
                server.url.clone(),
                server.token.clone(),
            );
            let (next, sessions, body) = (next.clone(), sessions.clone(), body.clone());
            tokio::spawn(async move {
                let (mut recorded, mut errors) = (0u64, 0u64);
                while let Some(session) = sessions.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let path = format!("{url}/api/sessions/{session}/attendance");
                    match http
                        .post(path)
                        .bearer_auth(&token)
                        .json(&*body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            let done: serde_json::Value = r.json().await.unwrap_or_default();
                            recorded += done["recorded"].as_u64().unwrap_or(0);
                        }
                        _ => errors += 1,
                    }
                }
                (recorded, errors)
            })
        })
        .collect();
    let mut recorded = 0;
    for client in clients {
        let (r, e) = client.await?;
        recorded += r;
        figures.bulk_errors += e;
    }
    bar.finish_and_clear();
    figures.bulk_marks_per_sec = recorded as f64 / started.elapsed().as_secs_f64();
    Ok(())
}
