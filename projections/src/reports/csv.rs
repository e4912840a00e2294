//! CSV reports (`csv` crate): one table, its header on line 1, one row per line.
//!
//! Spreadsheets and pandas read a CSV file as a single table, so nothing else goes in the
//! file: no key/value block above it, no totals or legend below it. What the table does not
//! hold (who, which course, as of when) is in the file's name; the totals are in the XLSX and
//! PDF reports and the statistics.

use super::config::ReportConfig;
use super::csv_safe::owned as text;
use super::model::letter;
use super::{
    AtRiskReport, CourseReport, DepartmentReport, ReportError, ReportFormat, StudentReport,
};
use domain::Tally;

/// The CSV strategy.
pub struct CsvFormat {
    delimiter: u8,
}

impl CsvFormat {
    /// From the configuration (delimiter).
    pub fn new(config: &ReportConfig) -> Self {
        CsvFormat {
            delimiter: config
                .csv
                .delimiter
                .as_bytes()
                .first()
                .copied()
                .unwrap_or(b','),
        }
    }

    fn writer(&self) -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .from_writer(Vec::new())
    }
}

fn rate(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.2}")).unwrap_or_default()
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn finish(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, ReportError> {
    writer
        .into_inner()
        .map_err(|e| ReportError::render("csv", e))
}

fn counts(t: &Tally) -> [String; 4] {
    [
        t.present.to_string(),
        t.late.to_string(),
        t.excused.to_string(),
        t.absent.to_string(),
    ]
}

impl ReportFormat for CsvFormat {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn extension(&self) -> &'static str {
        "csv"
    }

    fn content_type(&self) -> &'static str {
        "text/csv; charset=utf-8"
    }

    fn render_student(&self, r: &StudentReport) -> Result<Vec<u8>, ReportError> {
        let mut w = self.writer();
        let e = |e: csv::Error| ReportError::render("csv", e);
        w.write_record([
            "date",
            "session",
            "status",
            "recorded_at",
            "recorded_by",
            "corrected",
            "correction_reason",
        ])
        .map_err(e)?;
        for row in &r.rows {
            w.write_record([
                row.date.to_string(),
                text(row.title.clone()),
                row.status.map(|s| s.to_string()).unwrap_or_default(),
                row.recorded_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                text(row.recorded_by.clone().unwrap_or_default()),
                yes_no(row.corrected).to_string(),
                text(row.correction_reason.clone().unwrap_or_default()),
            ])
            .map_err(e)?;
        }
        finish(w)
    }

    fn render_course(&self, r: &CourseReport) -> Result<Vec<u8>, ReportError> {
        let mut w = self.writer();
        let e = |e: csv::Error| ReportError::render("csv", e);
        let mut header = vec!["student_id".to_string(), "name".to_string()];
        header.extend(r.sessions.iter().map(|s| {
            text(format!(
                "{} {}",
                s.local_start.format("%Y-%m-%d %H:%M"),
                s.title
            ))
        }));
        header
            .extend(["present", "late", "excused", "absent", "rate", "at_risk"].map(String::from));
        w.write_record(&header).map_err(e)?;
        for row in &r.students {
            let mut line = vec![
                text(row.student_id.clone()),
                text(row.name.clone().unwrap_or_default()),
            ];
            line.extend(row.statuses.iter().map(|s| letter(*s).to_string()));
            line.extend(counts(&row.tally));
            line.push(rate(row.rate));
            line.push(yes_no(row.at_risk).to_string());
            w.write_record(&line).map_err(e)?;
        }
        finish(w)
    }

    fn render_at_risk(&self, r: &AtRiskReport) -> Result<Vec<u8>, ReportError> {
        let mut w = self.writer();
        let e = |e: csv::Error| ReportError::render("csv", e);
        w.write_record([
            "course_id",
            "student_id",
            "name",
            "present",
            "late",
            "excused",
            "absent",
            "rate",
            "level",
        ])
        .map_err(e)?;
        for row in &r.rows {
            let mut line = vec![
                text(row.course_id.clone()),
                text(row.student_id.clone()),
                text(row.name.clone().unwrap_or_default()),
            ];
            line.extend(counts(&row.tally));
            line.push(format!("{:.2}", row.rate));
            line.push(row.level.as_str().to_string());
            w.write_record(&line).map_err(e)?;
        }
        finish(w)
    }

    /// One line per course; the totals are in the XLSX and PDF reports (one table here).
    fn render_department(&self, r: &DepartmentReport) -> Result<Vec<u8>, ReportError> {
        let mut w = self.writer();
        let e = |e: csv::Error| ReportError::render("csv", e);
        w.write_record([
            "course_id",
            "course_name",
            "archived",
            "sessions",
            "students",
            "average_rate",
            "at_risk",
        ])
        .map_err(e)?;
        for row in &r.rows {
            w.write_record([
                text(row.course_id.clone()),
                text(row.course_name.clone()),
                yes_no(row.archived).to_string(),
                row.sessions.to_string(),
                row.students.to_string(),
                rate(row.average_rate),
                row.at_risk.to_string(),
            ])
            .map_err(e)?;
        }
        finish(w)
    }
}
