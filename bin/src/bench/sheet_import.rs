//! Workload 6: a 20-page scan of filled sheets (simulated: 200 dpi, turned, noisy, JPEG)
//! uploaded to `POST /api/sheets`, pages per second (median of three uploads, each of a
//! fresh session so every page is recorded).

use super::server::Server;
use super::{Figures, step};
use anyhow::{Context, bail};
use api::app::store::{self, CommandMeta, Source, Stores};
use chrono::{NaiveDate, Utc};
use domain::course::{CourseCommand, CourseDetails};
use domain::{Actor, CourseId, Role, SessionId, StudentId, UserId};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sheets::layout::ROWS_PER_PAGE;
use sheets::simulate::{Encoding, ScanOptions, random_row, scan_page, wrap_pdf};
use std::time::Instant;

/// Pages in the scan.
const PAGES: usize = 20;
/// Uploads timed.
const RUNS: usize = 3;

/// The sheet course: enough students for [`PAGES`] full pages, one session per run.
async fn sheet_course(stores: &Stores) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let actor = Actor {
        user_id: UserId::parse("bench")?,
        role: Role::Admin,
    };
    let id = CourseId::parse("SHEETS")?;
    let students: Vec<String> = (1..=PAGES * ROWS_PER_PAGE)
        .map(|n| format!("P{n:04}"))
        .collect();
    let sessions: Vec<String> = (1..=RUNS).map(|n| format!("sheet-{n}")).collect();
    let at = Utc::now();
    let start = NaiveDate::from_ymd_opt(2026, 9, 1).context("date")?;
    let mut commands = vec![CourseCommand::CreateCourse {
        course_id: id.clone(),
        details: CourseDetails {
            name: "Benchmark sheets".into(),
            ..CourseDetails::default()
        },
        time_zone: domain::Zone::UTC,
        by: actor.clone(),
        at,
    }];
    for s in &students {
        commands.push(CourseCommand::EnrollStudent {
            student_id: StudentId::parse(s.clone())?,
            effective_from: start,
            by: actor.clone(),
            at,
        });
    }
    for (n, s) in sessions.iter().enumerate() {
        commands.push(CourseCommand::ScheduleSession {
            session_id: SessionId::parse(s.clone())?,
            title: format!("Sheet lecture {}", n + 1),
            starts_at: start
                .and_hms_opt(9 + n as u32, 0, 0)
                .context("time")?
                .and_utc(),
            duration_minutes: 50,
            by: actor.clone(),
            at,
        });
    }
    let meta = CommandMeta {
        actor,
        request_id: "bench-sheets".into(),
        source: Source::Cli,
        course_id: id.clone(),
    };
    store::execute(
        &stores.courses,
        id.as_str(),
        &meta,
        |_| Ok(commands.clone()),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((students, sessions))
}

/// Workload 6.
pub async fn sheet_import(server: &Server, figures: &mut Figures) -> anyhow::Result<()> {
    let bar = step(&format!("6 sheet import ({PAGES} pages)"), None);
    let stores = Stores::new(&server.pool);
    let (students, sessions) = sheet_course(&stores).await?;
    let mut rates = Vec::with_capacity(RUNS);
    for (run, session) in sessions.iter().enumerate() {
        let layout = sheets::Layout::new(session, &students);
        let pdf = tokio::task::spawn_blocking(move || {
            let mut rng = StdRng::seed_from_u64(run as u64);
            let pages = layout
                .pages
                .iter()
                .map(|page| {
                    let fills: Vec<_> = page
                        .rows
                        .iter()
                        .map(|_| random_row(&mut rng, true))
                        .collect();
                    let options = ScanOptions::random(200.0, &mut rng);
                    let quality = 60 + (page.page % 30) as u8;
                    (
                        scan_page(page, &fills, &options, &mut rng),
                        Encoding::Jpeg { quality },
                    )
                })
                .collect();
            wrap_pdf(pages)
        })
        .await?;
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(pdf)
                .file_name("scan.pdf")
                .mime_str("application/pdf")?,
        );
        let started = Instant::now();
        let response = server
            .http
            .post(format!("{}/api/sheets", server.url))
            .bearer_auth(&server.token)
            .multipart(form)
            .send()
            .await?;
        let elapsed = started.elapsed().as_secs_f64();
        let status = response.status();
        let job: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() || job["page_errors"] != 0 {
            bail!("sheet import failed ({status}): {job}");
        }
        rates.push(PAGES as f64 / elapsed);
    }
    bar.finish_and_clear();
    rates.sort_by(f64::total_cmp);
    figures.sheet_pages_per_sec = rates.get(RUNS / 2).copied();
    Ok(())
}
