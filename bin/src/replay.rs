//! `attendance replay`: prints the event history offline, straight from the event store (no
//! server needed), as text, JSON lines or CSV, with a progress bar on stderr; `--verify`
//! refolds every read model in memory from the whole history and compares it with the
//! stored one.

mod verify;

pub use verify::{ProjectionCheck, VerifyReport, verify_report};

use crate::config::Connections;
use crate::startup;
use chrono::{DateTime, Utc};
use event_store::outbox::StoredEvent;
use indicatif::{ProgressBar, ProgressStyle};
use projections::audit::{self, Filter};
use serde_json::{Value, json};
use std::io::Write;
use std::time::Instant;

/// Output formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One readable line per event.
    Text,
    /// One JSON object per line.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Options of `attendance replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// Database.
    #[command(flatten)]
    pub connections: Connections,
    /// Only this course.
    #[arg(long)]
    pub course: Option<String>,
    /// Only this session.
    #[arg(long)]
    pub session: Option<String>,
    /// Only events about this student.
    #[arg(long)]
    pub student: Option<String>,
    /// Only events stored up to this time (RFC 3339).
    #[arg(long)]
    pub until: Option<DateTime<Utc>>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Instead of printing, rebuild every read model in memory and compare with the stored one.
    #[arg(long)]
    pub verify: bool,
}

const PAGE: i64 = 5_000;

/// Runs the command; `Ok(false)` when `--verify` found differences.
pub async fn run(args: ReplayArgs) -> anyhow::Result<bool> {
    let pool = startup::database(&args.connections).await?;
    if args.verify {
        return verify::verify(&pool).await;
    }
    let mut filter = Filter {
        course_id: args.course,
        session_id: args.session,
        student_id: args.student,
        to: args.until,
        limit: PAGE,
        ..Filter::default()
    };
    let total = audit::count(&pool, &filter).await? as u64;
    let bar = progress(total);
    let started = Instant::now();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut csv = matches!(args.format, Format::Csv).then(|| csv_writer(std::io::stdout()));
    let mut printed = 0u64;
    loop {
        let (events, next) = audit::page(&pool, &filter).await?;
        for event in &events {
            match (&args.format, csv.as_mut()) {
                (Format::Csv, Some(writer)) => writer.write_record(csv_record(event))?,
                (Format::Json, _) => writeln!(out, "{}", json_line(event))?,
                _ => writeln!(out, "{}", text_line(event))?,
            }
        }
        printed += events.len() as u64;
        bar.set_position(printed);
        if (events.len() as i64) < PAGE {
            break;
        }
        filter.after = next;
    }
    if let Some(mut writer) = csv {
        writer.flush()?;
    }
    out.flush()?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{printed} events in {secs:.2} s ({:.0} events/s)",
        printed as f64 / secs.max(1e-9)
    );
    Ok(true)
}

fn progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("replay [{bar:40}] {pos}/{len} events {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

fn data(event: &StoredEvent) -> Value {
    event
        .payload
        .get(&event.event_type)
        .cloned()
        .unwrap_or(Value::Null)
}

fn text_line(e: &StoredEvent) -> String {
    format!(
        "{} #{} {} {}/{}:{} {} by {} {} ({}) {}",
        e.recorded_at.to_rfc3339(),
        e.position,
        e.meta("course_id").unwrap_or("-"),
        e.aggregate_type,
        e.aggregate_id,
        e.sequence,
        e.event_type,
        e.meta("role").unwrap_or("-"),
        e.meta("user_id").unwrap_or("-"),
        e.meta("source").unwrap_or("-"),
        data(e)
    )
}

fn json_line(e: &StoredEvent) -> Value {
    json!({
        "position": e.position, "recorded_at": e.recorded_at, "course_id": e.meta("course_id"),
        "aggregate_type": e.aggregate_type, "aggregate_id": e.aggregate_id, "sequence": e.sequence,
        "event_type": e.event_type, "event_version": e.event_version,
        "actor": {"user_id": e.meta("user_id"), "role": e.meta("role")},
        "source": e.meta("source"), "request_id": e.meta("request_id"), "data": data(e),
    })
}

fn csv_writer<W: Write>(sink: W) -> csv::Writer<W> {
    let mut writer = csv::Writer::from_writer(sink);
    let header = [
        "position",
        "recorded_at",
        "course_id",
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "event_type",
        "event_version",
        "user_id",
        "role",
        "source",
        "request_id",
        "data",
    ];
    // A failing stdout shows up again, as an error, at the first record.
    let _ = writer.write_record(header);
    writer
}

fn csv_record(e: &StoredEvent) -> Vec<String> {
    let meta = |key: &str| e.meta(key).unwrap_or_default().to_string();
    vec![
        e.position.to_string(),
        e.recorded_at.to_rfc3339(),
        meta("course_id"),
        e.aggregate_type.clone(),
        e.aggregate_id.clone(),
        e.sequence.to_string(),
        e.event_type.clone(),
        e.event_version.clone(),
        meta("user_id"),
        meta("role"),
        meta("source"),
        meta("request_id"),
        data(e).to_string(),
    ]
}
