//! `attendance bench`: measured speed against what raw Postgres does on the same machine in
//! the same run. Starts `attendance serve` as a child process on a fresh database and a fresh
//! stream (or uses a running server with `--url`), loads data, runs each workload, and prints
//! a table (or JSON with `--json`). `--district` runs a district-size term instead
//! ([`district`]).

mod ceiling;
mod check_in;
mod district;
mod load;
mod offline;
mod pages;
mod server;
mod sheet_import;
pub mod soak;
mod student_import;
mod term;

use crate::config::Connections;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::time::Duration;

/// Options of `attendance bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Postgres server (a fresh database is created on it) and NATS.
    #[command(flatten)]
    pub connections: Connections,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Seconds per timed workload.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Students in the single-mark course (and in the report benchmark).
    #[arg(long, default_value_t = 500)]
    pub students: usize,
    /// Sessions in the single-mark course (and in the report benchmark).
    #[arg(long, default_value_t = 60)]
    pub sessions: usize,
    /// Roll calls of 200 students in the bulk workload.
    #[arg(long, default_value_t = 300)]
    pub roll_calls: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Use a running server at this URL instead of starting one (needs `BENCH_ADMIN_PASSWORD`
    /// and the server's `DATABASE_URL`).
    #[arg(long)]
    pub url: Option<String>,
    /// With `--url`: the password of its `admin` account.
    #[arg(long, env = "BENCH_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<crate::config::Secret>,
    /// With `url`: the server's stream (`ATTENDANCE_STREAM`), whose messages are counted (on
    /// the servers of `NATS_URL`); set by `attendance soak --stream`.
    #[arg(skip)]
    pub stream: Option<String>,
    /// Run only the district workload instead: 4,000 students in 80 courses of 200, a term
    /// of 45 sessions each (720,000 marks), and the same with an eighth of the courses.
    #[arg(long)]
    pub district: bool,
    /// Multiplies the district's course and student counts, at both sizes (e.g. 0.1).
    #[arg(long, default_value_t = 1.0)]
    pub district_scale: f64,
    /// Run only this workload: `check-in` (workload 11).
    #[arg(long, value_parser = ["check-in"])]
    pub only: Option<String>,
    /// Students in the check-in burst (workload 11).
    #[arg(long, default_value_t = 500)]
    pub check_in_students: usize,
    /// Seconds the check-in burst is spread over.
    #[arg(long, default_value_t = 60)]
    pub check_in_seconds: u64,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

impl Latency {
    /// Percentiles of samples (in seconds).
    pub fn of(samples: &mut [f64]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize] * 1000.0;
        Latency {
            p50_ms: at(0.50),
            p99_ms: at(0.99),
        }
    }
}

/// Every figure of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    /// Clients.
    pub clients: usize,
    /// Seconds per timed workload.
    pub seconds: u64,
    /// 1: single-mark commands per second over HTTP.
    pub commands_per_sec: f64,
    /// 1: their latency.
    pub command_latency: Latency,
    /// 1: errors (non-2xx).
    pub command_errors: u64,
    /// 1: raw single-row inserts per second at the same concurrency.
    pub raw_inserts_per_sec: f64,
    /// 2: marks per second in 200-student roll calls.
    pub bulk_marks_per_sec: f64,
    /// 2: errors.
    pub bulk_errors: u64,
    /// 2: raw rows per second in 200-row batched inserts.
    pub raw_batched_rows_per_sec: f64,
    /// 3: command response to course statistics reflecting it.
    pub projection_lag: Latency,
    /// 4: rebuild of all read models, events per second.
    pub rebuild_events_per_sec: f64,
    /// 4: events in the store.
    pub rebuild_events: u64,
    /// 4: raw ordered scan of the event table (COPY), rows per second.
    pub raw_scan_rows_per_sec: f64,
    /// 5: course report (students x sessions) render time per format, milliseconds.
    pub report_ms: Vec<(String, f64)>,
    /// 6: sheet import pages per second (20-page scans over HTTP, median of three).
    pub sheet_pages_per_sec: Option<f64>,
    /// 9: seconds to import 10,000 students from an XLSX and enrol them in 20 courses.
    pub student_import_seconds: Option<f64>,
    /// 9: raw rows per second of one batched insert of 10,000 students.
    pub raw_student_rows_per_sec: f64,
    /// 7: peak resident memory of the server process, MiB (none with `--url`).
    pub server_peak_rss_mib: Option<f64>,
    /// 7: the same, measured before workload 6 (the sheet import), MiB.
    pub server_peak_rss_before_sheets_mib: Option<f64>,
    /// 8: one request scheduling a 15-week, 3-a-week term (45 sessions), milliseconds
    /// (median of five).
    pub term_schedule_ms: Option<f64>,
    /// 10: the 500-student roll-call page, time per page.
    pub page_latency: Latency,
    /// 10: its HTML in bytes.
    pub page_bytes: usize,
    /// 10: the same gzipped, as served to a browser.
    pub page_gzip_bytes: usize,
    /// 11: the check-in burst.
    pub check_in: Option<check_in::Burst>,
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.0} %", 100.0 * a / b)
    } else {
        "-".into()
    }
}

impl Figures {
    fn table(&self) -> String {
        let mut out = String::new();
        let mut line = |workload: &str, figure: String, ceiling: String, ratio: String| {
            out.push_str(&format!(
                "{workload:<44} {figure:>22} {ceiling:>22} {ratio:>8}\n"
            ));
        };
        line(
            "workload",
            "measured".into(),
            "raw Postgres".into(),
            "ratio".into(),
        );
        line(
            &format!("1 single marks, {} clients", self.clients),
            format!("{:.0} cmd/s", self.commands_per_sec),
            format!("{:.0} inserts/s", self.raw_inserts_per_sec),
            ratio(self.commands_per_sec, self.raw_inserts_per_sec),
        );
        let l = self.command_latency;
        line(
            "  latency p50 / p99",
            format!("{:.1} / {:.1} ms", l.p50_ms, l.p99_ms),
            String::new(),
            String::new(),
        );
        line(
            "  errors",
            self.command_errors.to_string(),
            String::new(),
            String::new(),
        );
        line(
            "2 roll calls of 200",
            format!("{:.0} marks/s", self.bulk_marks_per_sec),
            format!("{:.0} rows/s", self.raw_batched_rows_per_sec),
            ratio(self.bulk_marks_per_sec, self.raw_batched_rows_per_sec),
        );
        let p = self.projection_lag;
        line(
            "3 projection lag p50 / p99",
            format!("{:.1} / {:.1} ms", p.p50_ms, p.p99_ms),
            String::new(),
            String::new(),
        );
        line(
            &format!("4 rebuild ({} events)", self.rebuild_events),
            format!("{:.0} events/s", self.rebuild_events_per_sec),
            format!("{:.0} rows/s", self.raw_scan_rows_per_sec),
            ratio(self.rebuild_events_per_sec, self.raw_scan_rows_per_sec),
        );
        for (format, ms) in &self.report_ms {
            line(
                &format!("5 course report {format}"),
                format!("{ms:.0} ms"),
                String::new(),
                String::new(),
            );
        }
        let sheets = self
            .sheet_pages_per_sec
            .map(|p| format!("{p:.1} pages/s"))
            .unwrap_or_else(|| "n/a".into());
        line(
            "6 sheet import (20 pages)",
            sheets,
            String::new(),
            String::new(),
        );
        let rss = self
            .server_peak_rss_mib
            .map(|m| format!("{m:.0} MiB"))
            .unwrap_or_else(|| "n/a".into());
        line("7 server peak RSS", rss, String::new(), String::new());
        if let Some(before) = self.server_peak_rss_before_sheets_mib {
            line(
                "7 server peak RSS before workload 6",
                format!("{before:.0} MiB"),
                String::new(),
                String::new(),
            );
        }
        let term = self
            .term_schedule_ms
            .map(|ms| format!("{ms:.0} ms/request"))
            .unwrap_or_else(|| "n/a".into());
        line(
            "8 term timetable (45 sessions, 1 request)",
            term,
            String::new(),
            String::new(),
        );
        if let Some(seconds) = self.student_import_seconds {
            let rows = student_import::STUDENTS as f64 / seconds;
            line(
                &format!("9 student import ({} rows, XLSX)", student_import::STUDENTS),
                format!("{seconds:.1} s, {rows:.0} rows/s"),
                format!("{:.0} rows/s", self.raw_student_rows_per_sec),
                ratio(rows, self.raw_student_rows_per_sec),
            );
        }
        let page = self.page_latency;
        line(
            "10 roll-call page, 500 students p50 / p99",
            format!("{:.1} / {:.1} ms", page.p50_ms, page.p99_ms),
            String::new(),
            String::new(),
        );
        line(
            "  size gzipped / HTML",
            format!(
                "{:.0} / {:.0} KB",
                self.page_gzip_bytes as f64 / 1000.0,
                self.page_bytes as f64 / 1000.0
            ),
            String::new(),
            String::new(),
        );
        if let Some(burst) = &self.check_in {
            line(
                &format!(
                    "11 check-in burst, {} students in {} s p50 / p99",
                    burst.students, burst.seconds
                ),
                format!(
                    "{:.1} / {:.1} ms",
                    burst.check_in.p50_ms, burst.check_in.p99_ms
                ),
                String::new(),
                String::new(),
            );
            line(
                "  sign-in p50 / p99",
                format!(
                    "{:.1} / {:.1} ms",
                    burst.sign_in.p50_ms, burst.sign_in.p99_ms
                ),
                String::new(),
                String::new(),
            );
            line(
                "  recorded once / errors",
                format!(
                    "{} of {} / {}",
                    burst.marks_stored, burst.students, burst.errors
                ),
                String::new(),
                String::new(),
            );
        }
        out
    }
}

/// A spinner on stderr for one workload.
pub fn step(message: &str, seconds: Option<u64>) -> ProgressBar {
    let bar = match seconds {
        Some(secs) => {
            let bar = ProgressBar::new(secs);
            bar.set_style(
                ProgressStyle::with_template("{msg:<40} [{bar:30}] {pos}/{len} s")
                    .expect("template"),
            );
            bar
        }
        None => {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        }
    };
    bar.set_message(message.to_string());
    bar
}

/// Runs the benchmark.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.district {
        return district::run(&args).await;
    }
    let server = server::Server::start(&args).await?;
    let mut figures = Figures {
        clients: args.clients,
        seconds: args.seconds,
        ..Figures::default()
    };
    let measured = measure(&server, &args, &mut figures).await;
    figures.server_peak_rss_mib = server.peak_rss_mib();
    server.stop().await;
    measured?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        print!("{}", figures.table());
    }
    Ok(())
}

async fn measure(
    server: &server::Server,
    args: &BenchArgs,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let (students, seconds) = (args.check_in_students, args.check_in_seconds);
    if args.only.as_deref() == Some("check-in") {
        return check_in::check_in_burst(server, students, seconds, figures).await;
    }
    let data = load::prepare(server, args).await?;
    load::single_marks(server, &data, args, figures).await?;
    pages::roll_call_page(server, &data, figures).await?;
    ceiling::single_inserts(&server.pool, args, figures).await?;
    load::roll_calls(server, &data, args, figures).await?;
    ceiling::batched_inserts(&server.pool, args, figures).await?;
    offline::rebuild(&server.pool, figures).await?;
    offline::reports(args, figures)?;
    term::term_schedule(server, figures).await?;
    figures.server_peak_rss_before_sheets_mib = server.peak_rss_mib();
    sheet_import::sheet_import(server, figures).await?;
    student_import::student_import(server, figures).await?;
    check_in::check_in_burst(server, students, seconds, figures).await
}
