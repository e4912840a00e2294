//! The district's data and its burst: students created over the HTTP API, courses with their
//! enrolments and a term of sessions through the write side, then every session's roll call
//! over HTTP.

use super::{Burst, Plan, ROSTER};
use crate::bench::BenchArgs;
use crate::bench::load::{self, Session};
use crate::bench::server::Server;
use anyhow::bail;
use api::app::store::Stores;
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Weeks in the term.
const WEEKS: usize = 15;
/// Sessions a week: Monday, Wednesday and Friday.
const WEEKDAYS: [i64; 3] = [0, 2, 4];

/// What was loaded.
pub struct District {
    /// Student numbers of each course's roster.
    pub rosters: Vec<Vec<String>>,
    /// Every session, with the index of its course.
    pub sessions: Vec<(String, usize)>,
}

/// The code of course `c`.
pub fn course_code(c: usize) -> String {
    format!("C{:03}", c + 1)
}

fn student_number(n: usize) -> String {
    format!("S{:05}", n + 1)
}

/// A bar counting `len` things on stderr.
pub fn counter(message: &str, len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:<40} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .expect("template"),
    );
    bar.set_message(message.to_string());
    bar
}

/// The students of course `c`: 200 in a row, each course's window starting `students /
/// courses` further, so every student takes the same number of courses (4 at full density).
fn roster(plan: &Plan, c: usize) -> Vec<String> {
    let stride = plan.students / plan.courses;
    (0..ROSTER)
        .map(|j| student_number((c * stride + j) % plan.students))
        .collect()
}

/// The term of course `c`: 15 weeks of Monday, Wednesday and Friday from 2026-09-07, at an
/// hour of the course's own.
fn term(c: usize) -> Vec<Session> {
    let monday = NaiveDate::from_ymd_opt(2026, 9, 7).expect("date");
    let hour = 8 + (c % 9) as u32;
    let mut sessions = Vec::with_capacity(WEEKS * WEEKDAYS.len());
    for week in 0..WEEKS {
        for day in WEEKDAYS {
            let date = monday + Days::days(7 * week as i64 + day);
            let starts_at: DateTime<Utc> = date.and_hms_opt(hour, 0, 0).expect("time").and_utc();
            let id = format!("{}-{:02}", course_code(c), sessions.len() + 1);
            sessions.push((id, starts_at));
        }
    }
    sessions
}

/// Creates the students over HTTP, then the courses through the write side.
pub async fn load(server: &Server, args: &BenchArgs, plan: &Plan) -> anyhow::Result<District> {
    students(server, args, plan).await?;
    let bar = counter(&format!("courses ({})", plan.name), plan.courses);
    let stores = Stores::new(&server.pool);
    let (mut rosters, mut sessions) = (Vec::new(), Vec::new());
    for c in 0..plan.courses {
        let (students, term) = (roster(plan, c), term(c));
        load::course(&stores, &course_code(c), &students, &term).await?;
        sessions.extend(term.into_iter().map(|(id, _)| (id, c)));
        rosters.push(students);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(District { rosters, sessions })
}

/// `POST /api/students` for every student, `--clients` at a time.
async fn students(server: &Server, args: &BenchArgs, plan: &Plan) -> anyhow::Result<()> {
    let bar = counter(
        &format!("students over HTTP ({})", plan.name),
        plan.students,
    );
    let next = Arc::new(AtomicUsize::new(0));
    let total = plan.students;
    let clients: Vec<_> = (0..args.clients)
        .map(|_| {
            let (http, url, token) = (
                server.http.clone(),
                server.url.clone(),
                server.token.clone(),
            );
            let (next, bar) = (next.clone(), bar.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return Ok(());
                    }
                    let body =
                        json!({"id": student_number(n), "name": format!("Student {}", n + 1)});
                    let response = http
                        .post(format!("{url}/api/students"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await?;
                    if !response.status().is_success() {
                        let status = response.status();
                        bail!("creating a student: {status} {}", response.text().await?);
                    }
                    bar.inc(1);
                }
            })
        })
        .collect();
    for client in clients {
        client.await??;
    }
    bar.finish_and_clear();
    Ok(())
}

/// A mixed status, the same in every run: 80 % present, 10 % late, 5 % absent, 5 % excused.
fn status(session: usize, student: usize) -> &'static str {
    let mixed = (session as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((student as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
    match (mixed >> 32) % 20 {
        0..=15 => "present",
        16 | 17 => "late",
        18 => "absent",
        _ => "excused",
    }
}

fn roll_call(district: &District, session: usize) -> Value {
    let (_, course) = &district.sessions[session];
    let marks: Vec<Value> = district.rosters[*course]
        .iter()
        .enumerate()
        .map(|(j, student)| json!({"student_id": student, "status": status(session, j)}))
        .collect();
    json!({"marks": marks})
}

/// What one client of the burst saw.
#[derive(Default)]
struct Tally {
    marks: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn add(&mut self, answer: Result<u64, String>) {
        match answer {
            Ok(marks) => self.marks += marks,
            Err(error) => {
                self.errors += 1;
                self.first_error.get_or_insert(error);
            }
        }
    }
}

/// One roll call; the marks recorded, or what went wrong.
async fn send(server: &Client, id: &str, body: &Value) -> Result<u64, String> {
    let path = format!("{}/api/sessions/{id}/attendance", server.url);
    let response = server
        .http
        .post(path)
        .bearer_auth(&server.token)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("{id}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(format!("{id}: {status} {text}"));
    }
    let done: Value = response.json().await.map_err(|e| format!("{id}: {e}"))?;
    Ok(done["recorded"].as_u64().unwrap_or(0))
}

/// What a client task needs of the server.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
}

/// Row 1: every session's roll call over HTTP, `--clients` at a time.
pub async fn burst(
    server: &Server,
    args: &BenchArgs,
    plan: &Plan,
    district: &Arc<District>,
) -> anyhow::Result<Burst> {
    let roll_calls = district.sessions.len();
    let bar = counter(&format!("1 roll calls ({})", plan.name), roll_calls);
    let next = Arc::new(AtomicUsize::new(0));
    let client = Client {
        http: server.http.clone(),
        url: server.url.clone(),
        token: server.token.clone(),
    };
    let started = Instant::now();
    let clients: Vec<_> = (0..args.clients)
        .map(|_| {
            let (client, next, district, bar) =
                (client.clone(), next.clone(), district.clone(), bar.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some((id, _)) = district.sessions.get(n) else {
                        return tally;
                    };
                    // Built per request: all of them at once would take a hundred megabytes.
                    tally.add(send(&client, id, &roll_call(&district, n)).await);
                    bar.inc(1);
                }
            })
        })
        .collect();
    let mut burst = Burst {
        roll_calls,
        ..Burst::default()
    };
    for client in clients {
        let tally = client.await?;
        burst.marks += tally.marks;
        burst.errors += tally.errors;
        burst.first_error = burst.first_error.or(tally.first_error);
    }
    burst.secs = started.elapsed().as_secs_f64();
    burst.marks_per_sec = burst.marks as f64 / burst.secs;
    bar.finish_and_clear();
    Ok(burst)
}
