//! `attendance report course|student|at-risk`: renders a report offline from the read
//! models (or the history, with `--as-of`) to a file or standard output.

use crate::config::{Connections, report_registry};
use crate::startup;
use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use projections::reports::load;
use std::io::Write;
use std::path::PathBuf;

/// Which report.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ReportKind {
    /// A course's matrix of students by sessions.
    Course {
        /// Course code.
        course: String,
    },
    /// A student's attendance in a course.
    Student {
        /// Student number.
        student: String,
        /// Course code.
        #[arg(long)]
        course: String,
    },
    /// Students below a threshold, with their risk level.
    AtRisk {
        /// One course (default: all).
        #[arg(long)]
        course: Option<String>,
        /// Threshold in percent (default: the course policy's).
        #[arg(long)]
        threshold: Option<f64>,
    },
}

/// Options of `attendance report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Which report.
    #[command(subcommand)]
    pub kind: ReportKind,
    /// Database.
    #[command(flatten)]
    pub connections: Connections,
    /// csv, xlsx (or excel), pdf.
    #[arg(long, global = true)]
    pub format: Option<String>,
    /// Output file (default: standard output).
    #[arg(short = 'o', long, global = true)]
    pub output: Option<PathBuf>,
    /// The register as it stood at this time (RFC 3339).
    #[arg(long, global = true)]
    pub as_of: Option<DateTime<Utc>>,
    /// Report configuration file.
    #[arg(long, env = "REPORTS_CONFIG", global = true)]
    pub reports_config: Option<PathBuf>,
}

/// Renders the report.
pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let registry = report_registry(args.reports_config.as_deref())?;
    let format = registry.get(args.format.as_deref())?;
    let pool = startup::database(&args.connections).await?;
    let bytes = match &args.kind {
        ReportKind::Course { course } => {
            let report = load::course(&pool, course, args.as_of).await?;
            let report = report.with_context(|| format!("course {course} has no statistics"))?;
            format.render_course(&report)?
        }
        ReportKind::Student { student, course } => {
            let report = load::student(&pool, student, course, args.as_of).await?;
            let report = report
                .with_context(|| format!("student {student} has no attendance in {course}"))?;
            format.render_student(&report)?
        }
        ReportKind::AtRisk { course, threshold } => {
            let courses = match course {
                Some(course) => vec![course.clone()],
                None => event_store::event_log::course_ids(&pool)
                    .await?
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
            };
            if threshold.is_some_and(|t| !(0.0..=100.0).contains(&t)) {
                bail!("--threshold must be between 0 and 100");
            }
            format.render_at_risk(&load::at_risk(&pool, &courses, *threshold, args.as_of).await?)?
        }
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "wrote {} ({} bytes, {})",
                path.display(),
                bytes.len(),
                format.name()
            );
        }
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(())
}
