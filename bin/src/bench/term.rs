//! Workload 8: a 15-week term at three classes a week (45 sessions) scheduled in one
//! `POST /api/courses/{id}/schedule`, milliseconds per request (median of five, each on a
//! course of its own so that every request creates all 45 sessions).

use super::server::Server;
use super::{Figures, step};
use anyhow::{Context, ensure};
use serde_json::json;
use std::time::Instant;

/// Requests timed.
const RUNS: usize = 5;
/// Sessions a 15-week, 3-a-week term has.
pub const TERM_SESSIONS: usize = 45;

/// Creates one course over HTTP.
async fn create_course(server: &Server, code: &str) -> anyhow::Result<()> {
    let response = server
        .http
        .post(format!("{}/api/courses", server.url))
        .bearer_auth(&server.token)
        .json(&json!({"code": code, "name": "Benchmark term", "time_zone": "America/Chicago"}))
        .send()
        .await?;
    ensure!(
        response.status().is_success(),
        "creating {code}: {}",
        response.status()
    );
    Ok(())
}

/// Schedules the term of one course; answers the seconds it took.
async fn schedule(server: &Server, code: &str) -> anyhow::Result<f64> {
    // Mondays, Wednesdays and Fridays of 15 weeks from Monday 7 September 2026.
    let body = json!({
        "weekdays": ["mon", "wed", "fri"], "at": "09:00", "duration_minutes": 90,
        "first_date": "2026-09-07", "last_date": "2026-12-18", "title_pattern": "Lecture {n}"
    });
    let started = Instant::now();
    let response = server
        .http
        .post(format!("{}/api/courses/{code}/schedule", server.url))
        .bearer_auth(&server.token)
        .json(&body)
        .send()
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    ensure!(
        response.status().is_success(),
        "scheduling {code}: {}",
        response.status()
    );
    let answer: serde_json::Value = response.json().await?;
    let created = answer["sessions"].as_array().context("sessions")?.len();
    ensure!(
        created == TERM_SESSIONS,
        "{code}: {created} sessions, not {TERM_SESSIONS}"
    );
    Ok(seconds)
}

/// Runs the workload: the median milliseconds of one term request.
pub async fn term_schedule(server: &Server, figures: &mut Figures) -> anyhow::Result<()> {
    let bar = step("term timetable (45 sessions)", None);
    let mut samples = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let code = format!("TERM{run}");
        create_course(server, &code).await?;
        samples.push(schedule(server, &code).await?);
    }
    bar.finish_and_clear();
    samples.sort_by(f64::total_cmp);
    figures.term_schedule_ms = Some(samples[RUNS / 2] * 1000.0);
    Ok(())
}
