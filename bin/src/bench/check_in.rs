//! Workload 11: a check-in burst. A session of a course of `--check-in-students` students
//! (500) opens check-in; every student signs in (`POST /api/auth/login`) and checks in
//! (`POST /api/check-in`) at a moment spread evenly over `--check-in-seconds` (60), each
//! from an address of their own (the server trusts `X-Forwarded-For`, as behind the
//! school's proxy, and the window only accepts `10.0.0.0/8`). The code comes from the
//! teacher's `GET /api/sessions/{id}/check-in/code`, as a projector shows it. Afterwards
//! every student must be recorded exactly once with method `self`.
//!
//! Setting up (students, enrolments, accounts) is not timed: accounts are inserted directly
//! with one password hash, since hashing 500 passwords is not what is measured.

use super::server::Server;
use super::{Figures, Latency, step};
use anyhow::{Context, ensure};
use chrono::Utc;
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// The students' password.
const PASSWORD: &str = "check-in-bench-password";
/// The course.
const COURSE: &str = "BURST";

/// What the burst measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Burst {
    /// Students in the burst.
    pub students: usize,
    /// Seconds the check-ins were spread over.
    pub seconds: u64,
    /// `POST /api/check-in` latency.
    pub check_in: Latency,
    /// `POST /api/auth/login` latency.
    pub sign_in: Latency,
    /// Requests answered other than 2xx.
    pub errors: u64,
    /// Students recorded, and `self` marks stored (both must equal `students`).
    pub recorded_students: i64,
    /// Marks stored for the session.
    pub marks_stored: i64,
}

async fn send(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = server
        .http
        .request(method, format!("{}{path}", server.url))
        .bearer_auth(&server.token)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    ensure!(status.is_success(), "{path}: {status} {text}");
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The course, its students with accounts, and a session starting now; the session id.
async fn prepare(server: &Server, students: usize) -> anyhow::Result<String> {
    let post = reqwest::Method::POST;
    send(
        server,
        post.clone(),
        "/api/courses",
        json!({"code": COURSE, "name": "Check-in burst"}),
    )
    .await?;
    let ids: Vec<String> = (1..=students).map(|n| format!("B{n:05}")).collect();
    let created = futures::stream::iter(ids.iter().map(|id| {
        let post = post.clone();
        async move {
            send(
                server,
                post.clone(),
                "/api/students",
                json!({"id": id, "name": format!("Student {id}")}),
            )
            .await?;
            let body = json!({"student_id": id, "effective_from": "2026-01-01"});
            send(
                server,
                post,
                &format!("/api/courses/{COURSE}/enrollments"),
                body,
            )
            .await
        }
    }))
    .buffer_unordered(16)
    .collect::<Vec<_>>()
    .await;
    created.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let hash = api::auth::password::hash(PASSWORD.to_string())
        .await
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    sqlx::query(
        // ASCII lower-case usernames are their own key (`api::auth::username::key`).
        "INSERT INTO users (id, username, username_key, password_hash, role, student_id)
         SELECT 'burst-' || s, lower(s), lower(s), $1, 'student', s FROM unnest($2::text[]) AS s",
    )
    .bind(&hash)
    .bind(&ids)
    .execute(&server.pool)
    .await?;
    let starts_at = Utc::now().to_rfc3339();
    let body = json!({"title": "Burst", "starts_at": starts_at, "duration_minutes": 90});
    let session = send(
        server,
        post,
        &format!("/api/courses/{COURSE}/sessions"),
        body,
    )
    .await?;
    Ok(session["id"].as_str().context("session id")?.to_string())
}

/// One student: sign in, then check in with the code shown now; the two latencies.
async fn student(
    server: &Server,
    n: usize,
    session: &str,
    code: &RwLock<String>,
) -> anyhow::Result<(f64, f64)> {
    let username = format!("b{n:05}");
    let address = format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256);
    let started = Instant::now();
    let login = server
        .http
        .post(format!("{}/api/auth/login", server.url))
        .header("x-forwarded-for", &address)
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await?;
    ensure!(
        login.status().is_success(),
        "sign-in {username}: {}",
        login.status()
    );
    let sign_in = started.elapsed().as_secs_f64();
    let token: Value = login.json().await?;
    let token = token["token"].as_str().context("token")?.to_string();
    let body = json!({"session_id": session, "code": code.read().await.clone()});
    let started = Instant::now();
    let answer = server
        .http
        .post(format!("{}/api/check-in", server.url))
        .bearer_auth(token)
        .header("x-forwarded-for", &address)
        .json(&body)
        .send()
        .await?;
    let check_in = started.elapsed().as_secs_f64();
    let status = answer.status();
    ensure!(
        status.is_success(),
        "check-in {username}: {status} {}",
        answer.text().await?
    );
    Ok((sign_in, check_in))
}

/// Runs the workload.
pub async fn check_in_burst(
    server: &Server,
    students: usize,
    seconds: u64,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let bar = step(&format!("check-in burst ({students} students)"), None);
    let session = prepare(server, students).await?;
    let closes_at = (Utc::now() + chrono::Duration::seconds(seconds as i64 + 600)).to_rfc3339();
    let body = json!({"closes_at": closes_at, "networks": ["10.0.0.0/8"]});
    send(
        server,
        reqwest::Method::POST,
        &format!("/api/sessions/{session}/check-in"),
        body,
    )
    .await?;
    let code_path = format!("/api/sessions/{session}/check-in/code");
    let shown = send(server, reqwest::Method::GET, &code_path, Value::Null).await?;
    let code = Arc::new(RwLock::new(
        shown["code"].as_str().context("code")?.to_string(),
    ));
    // The projector: the code as shown, renewed every 5 s.
    let projector = tokio::spawn({
        let (code, url, token, http) = (
            code.clone(),
            format!("{}{code_path}", server.url),
            server.token.clone(),
            server.http.clone(),
        );
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let shown: Option<Value> = match http.get(&url).bearer_auth(&token).send().await {
                    Ok(answer) => answer.json().await.ok(),
                    Err(_) => None,
                };
                if let Some(now) = shown.as_ref().and_then(|s| s["code"].as_str()) {
                    *code.write().await = now.to_string();
                }
            }
        }
    });
    let spread = Duration::from_secs(seconds).as_secs_f64() / students.max(1) as f64;
    let started = Instant::now();
    let results = futures::stream::iter((1..=students).map(|n| {
        let (session, code) = (&session, &code);
        async move {
            let at = Duration::from_secs_f64(spread * (n - 1) as f64);
            tokio::time::sleep(at.saturating_sub(started.elapsed())).await;
            student(server, n, session, code).await
        }
    }))
    .buffer_unordered(students.max(1))
    .collect::<Vec<_>>()
    .await;
    projector.abort();
    let (mut sign_ins, mut check_ins, mut errors) = (Vec::new(), Vec::new(), 0u64);
    for result in results {
        match result {
            Ok((sign_in, check_in)) => {
                sign_ins.push(sign_in);
                check_ins.push(check_in);
            }
            Err(error) => {
                errors += 1;
                tracing::warn!(%error, "a check-in of the burst failed");
            }
        }
    }
    let (recorded_students, marks_stored): (i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT payload -> 'AttendanceRecorded' ->> 'student_id'), count(*)
           FROM events WHERE aggregate_type = 'register' AND aggregate_id = $1
            AND event_type = 'AttendanceRecorded'
            AND payload -> 'AttendanceRecorded' ->> 'method' = 'self'",
    )
    .bind(&session)
    .fetch_one(&server.pool)
    .await?;
    bar.finish_and_clear();
    figures.check_in = Some(Burst {
        students,
        seconds,
        check_in: Latency::of(&mut check_ins),
        sign_in: Latency::of(&mut sign_ins),
        errors,
        recorded_students,
        marks_stored,
    });
    ensure!(
        recorded_students == students as i64 && marks_stored == students as i64,
        "check-in burst: {recorded_students} students recorded in {marks_stored} marks, not {students}"
    );
    Ok(())
}
