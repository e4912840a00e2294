//! Workload 9: bulk onboarding. A 10,000-row XLSX (the seed's headers, each student with a
//! course of 20 in a course column) through `POST /api/imports/students`, written and enrolled
//! (20 course commands of 500 enrolments); against one raw `INSERT ... SELECT FROM UNNEST` of
//! the same rows into a bare table.

use super::server::Server;
use super::{Figures, step};
use anyhow::{Context, bail};
use api::app::store::{self, CommandMeta, Source, Stores};
use chrono::Utc;
use domain::course::{CourseCommand, CourseDetails};
use domain::{Actor, CourseId, Role, UserId};
use rust_xlsxwriter::Workbook;
use std::time::Instant;

/// Rows in the file.
pub const STUDENTS: usize = 10_000;
/// Courses the students are spread over.
const COURSES: usize = 20;

fn course(n: usize) -> String {
    format!("IMP{n:02}")
}

async fn courses(stores: &Stores) -> anyhow::Result<()> {
    let actor = Actor {
        user_id: UserId::parse("bench")?,
        role: Role::Admin,
    };
    for n in 0..COURSES {
        let id = CourseId::parse(course(n))?;
        let command = CourseCommand::CreateCourse {
            course_id: id.clone(),
            details: CourseDetails {
                name: format!("Imported course {n}"),
                ..CourseDetails::default()
            },
            time_zone: domain::Zone::UTC,
            by: actor.clone(),
            at: Utc::now(),
        };
        let meta = CommandMeta {
            actor: actor.clone(),
            request_id: "bench-import".into(),
            source: Source::Cli,
            course_id: id.clone(),
        };
        store::execute(&stores.courses, id.as_str(), &meta, |_| {
            Ok(vec![command.clone()])
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

fn workbook() -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let headers = [
        "Student_No",
        "Full_Name",
        "Email",
        "Dept",
        "Year",
        "Reg_Date",
        "Course",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    for i in 0..STUDENTS {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, format!("I{i:05}"))?;
        sheet.write_string(r, 1, format!("Imported Student {i}"))?;
        sheet.write_string(r, 2, format!("imported{i}@school.example"))?;
        sheet.write_string(r, 3, ["Science", "Arts", "Law", "Medicine"][i % 4])?;
        sheet.write_number(r, 4, (1 + i % 4) as f64)?;
        sheet.write_string(r, 5, "01/09/2026")?;
        sheet.write_string(r, 6, course(i % COURSES))?;
    }
    Ok(book.save_to_buffer()?)
}

/// Workload 9.
pub async fn student_import(server: &Server, figures: &mut Figures) -> anyhow::Result<()> {
    let bar = step(&format!("9 student import ({STUDENTS} rows)"), None);
    courses(&Stores::new(&server.pool)).await?;
    let file = tokio::task::spawn_blocking(workbook).await??;
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(file).file_name("students.xlsx"),
        )
        .text("effective_from", "2026-09-01");
    let started = Instant::now();
    let response = server
        .http
        .post(format!("{}/api/imports/students", server.url))
        .bearer_auth(&server.token)
        .multipart(form)
        .send()
        .await?;
    let status = response.status();
    let report: serde_json::Value = response.json().await.unwrap_or_default();
    let elapsed = started.elapsed().as_secs_f64();
    let enrolled: u64 = report["enrolments"]
        .as_array()
        .context("enrolments")?
        .iter()
        .filter_map(|c| c["enrolled"].as_u64())
        .sum();
    if !status.is_success() || report["new"] != STUDENTS || enrolled != STUDENTS as u64 {
        bail!(
            "the student import failed ({status}): new {}, enrolled {enrolled}",
            report["new"]
        );
    }
    figures.student_import_seconds = Some(elapsed);
    figures.raw_student_rows_per_sec = raw_rows_per_sec(server).await?;
    bar.finish_and_clear();
    Ok(())
}

/// The same rows in one statement into a table without keys, triggers or history.
async fn raw_rows_per_sec(server: &Server) -> anyhow::Result<f64> {
    // A temporary table lives in one session: create and fill it on one connection.
    let mut connection = server.pool.acquire().await?;
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS bench_students (LIKE students INCLUDING DEFAULTS)",
    )
    .execute(&mut *connection)
    .await?;
    let ids: Vec<String> = (0..STUDENTS).map(|i| format!("R{i:05}")).collect();
    let names: Vec<String> = (0..STUDENTS)
        .map(|i| format!("Imported Student {i}"))
        .collect();
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO bench_students (id, name, created_at, updated_at, active)
         SELECT id, name, now(), now(), true FROM UNNEST($1::text[], $2::text[]) AS r(id, name)",
    )
    .bind(&ids)
    .bind(&names)
    .execute(&mut *connection)
    .await?;
    Ok(STUDENTS as f64 / started.elapsed().as_secs_f64())
}
