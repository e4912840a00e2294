//! `attendance import students FILE` and `attendance import users FILE`: the bulk onboarding
//! of the API (`POST /api/imports/students`, `POST /api/imports/users`) from the command line,
//! acting as the first administrator account.

use crate::config::Connections;
use crate::startup;
use anyhow::Context;
use api::app::onboarding::accounts::{self, AccountImportReport};
use api::app::onboarding::values::DateOrder;
use api::app::onboarding::{self, ImportReport, Importer, StudentImport};
use api::app::store::{Source, Stores};
use chrono::NaiveDate;
use domain::CourseId;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `attendance import ...`
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Import students from a spreadsheet (CSV, XLSX, XLS, XLSB, ODS): headers mapped by the
    /// alias table (see the README), rows checked, valid rows written in one transaction.
    Students {
        /// Database.
        #[command(flatten)]
        connections: Connections,
        /// The spreadsheet.
        file: PathBuf,
        /// Only print what would change.
        #[arg(long)]
        dry_run: bool,
        /// A column's field, overriding the aliases: `--map "Matric No=id"` (repeatable;
        /// `--map "Notes="` ignores a column).
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        map: Vec<String>,
        /// Enrol every imported student in this course.
        #[arg(long)]
        course: Option<String>,
        /// First day of the enrolments (YYYY-MM-DD).
        #[arg(long = "from")]
        effective_from: Option<NaiveDate>,
        /// Read 03/04/2026 month first (the default is day first).
        #[arg(long)]
        month_first: bool,
    },
    /// Import teachers and other accounts (columns username, role, email, student_id,
    /// courses). Each new account's one-time password is printed once, as
    /// `username,password` lines on standard output.
    Users {
        /// Database.
        #[command(flatten)]
        connections: Connections,
        /// The spreadsheet.
        file: PathBuf,
        /// Only print what would change.
        #[arg(long)]
        dry_run: bool,
        /// A column's field, overriding the aliases: `--map "Login=username"` (repeatable).
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        map: Vec<String>,
    },
}

/// Runs `attendance import ...`.
pub async fn run(command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Students {
            connections,
            file,
            dry_run,
            map,
            course,
            effective_from,
            month_first,
        } => {
            let options = StudentImport {
                dry_run,
                course: course
                    .map(CourseId::parse)
                    .transpose()
                    .context("--course")?,
                effective_from,
                date_order: if month_first {
                    DateOrder::Mdy
                } else {
                    DateOrder::Dmy
                },
                mapping: mapping(map)?,
            };
            students(&connections, &file, &options).await
        }
        ImportCommand::Users {
            connections,
            file,
            dry_run,
            map,
        } => users(&connections, &file, dry_run, &mapping(map)?).await,
    }
}

fn mapping(pairs: Vec<String>) -> anyhow::Result<HashMap<String, String>> {
    let mut mapping = HashMap::new();
    for pair in pairs {
        let (header, field) = pair
            .split_once('=')
            .with_context(|| format!("--map {pair:?}: write HEADER=FIELD"))?;
        mapping.insert(header.to_string(), field.to_string());
    }
    Ok(mapping)
}

async fn users(
    connections: &Connections,
    file: &Path,
    dry_run: bool,
    mapping: &HashMap<String, String>,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let pool = startup::database(connections).await?;
    let stores = Stores::new(&pool);
    let importer = Importer {
        pool: &pool,
        stores: &stores,
        actor: crate::demo::administrator(&pool).await?,
        request_id: format!("cli-import-{}", uuid::Uuid::now_v7()),
        source: Source::Cli,
    };
    let report = accounts::import_accounts(&importer, &bytes, dry_run, mapping)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    print_accounts(&report);
    Ok(())
}

fn print_accounts(report: &AccountImportReport) {
    for row in &report.results {
        for problem in &row.errors {
            eprintln!("row {}: {}: {}", row.row, problem.field, problem.detail);
        }
        if let (Some(name), Some(secret)) = (&row.username, &row.one_time_password) {
            println!("{name},{secret}");
        }
    }
    if !report.unknown_columns.is_empty() {
        eprintln!("ignored columns: {}", report.unknown_columns.join(", "));
    }
    eprintln!(
        "{}",
        totals(
            report.dry_run,
            [
                report.rows,
                report.new,
                report.changed,
                report.unchanged,
                report.errors
            ]
        )
    );
    for course in &report.assignments {
        eprintln!(
            "{}: {} teachers assigned, {} already teaching",
            course.course, course.assigned, course.already
        );
    }
}

async fn students(
    connections: &Connections,
    file: &Path,
    options: &StudentImport,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let pool = startup::database(connections).await?;
    let stores = Stores::new(&pool);
    let importer = Importer {
        pool: &pool,
        stores: &stores,
        actor: crate::demo::administrator(&pool).await?,
        request_id: format!("cli-import-{}", uuid::Uuid::now_v7()),
        source: Source::Cli,
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len} rows")
            .expect("valid template"),
    );
    let report = onboarding::import_students(&importer, &bytes, options, &|stage, done, total| {
        bar.set_message(stage.to_string());
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    print(&report);
    Ok(())
}

fn print(report: &ImportReport) {
    for row in report.results.iter().filter(|r| !r.errors.is_empty()) {
        for problem in &row.errors {
            println!("row {}: {}: {}", row.row, problem.field, problem.detail);
        }
    }
    if !report.unknown_columns.is_empty() {
        println!("ignored columns: {}", report.unknown_columns.join(", "));
    }
    println!(
        "{}",
        totals(
            report.dry_run,
            [
                report.rows,
                report.new,
                report.changed,
                report.unchanged,
                report.errors
            ]
        )
    );
    for course in &report.enrolments {
        println!(
            "{}: {} enrolled, {} already enrolled",
            course.course, course.enrolled, course.already
        );
    }
}

/// The totals line of an import: rows, new, changed, unchanged and in error.
fn totals(dry_run: bool, [rows, new, changed, unchanged, errors]: [usize; 5]) -> String {
    let verb = if dry_run { "would import" } else { "imported" };
    format!(
        "{verb} {rows} rows: {new} new, {changed} changed, {unchanged} unchanged, {errors} in error"
    )
}
