//! CSV reports (`csv` crate): a key/value header block, a blank line, then the table.

use super::config::ReportConfig;
use super::model::letter;
use super::{AtRiskReport, CourseReport, ReportError, ReportFormat, StudentReport};
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
            .flexible(true)
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
        let as_of = r.as_of.map(|t| t.to_rfc3339()).unwrap_or_default();
        for (key, value) in [
            ("report", "student".to_string()),
            ("student_id", r.student_id.clone()),
            ("name", r.name.clone().unwrap_or_default()),
            ("course_id", r.course_id.clone()),
            ("course", r.course_name.clone()),
            ("present", r.tally.present.to_string()),
            ("late", r.tally.late.to_string()),
            ("excused", r.tally.excused.to_string()),
            ("absent", r.tally.absent.to_string()),
            ("rate", rate(r.rate)),
            ("at_risk", yes_no(r.at_risk).to_string()),
            ("as_of", as_of),
        ] {
            w.write_record([key, value.as_str()]).map_err(e)?;
        }
        w.write_record([""]).map_err(e)?;
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
                row.title.clone(),
                row.status.map(|s| s.to_string()).unwrap_or_default(),
                row.recorded_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                row.recorded_by.clone().unwrap_or_default(),
                yes_no(row.corrected).to_string(),
                row.correction_reason.clone().unwrap_or_default(),
            ])
            .map_err(e)?;
        }
        finish(w)
    }

    fn render_course(&self, r: &CourseReport) -> Result<Vec<u8>, ReportError> {
        let mut w = self.writer();
        let e = |e: csv::Error| ReportError::render("csv", e);
        w.write_record(["report", "course"]).map_err(e)?;
        w.write_record(["course_id", r.course_id.as_str()])
            .map_err(e)?;
        w.write_record(["course", r.course_name.as_str()])
            .map_err(e)?;
        w.write_record(["at_risk_below", &format!("{:.2}", r.threshold)])
            .map_err(e)?;
        w.write_record([
            "as_of",
            &r.as_of.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ])
        .map_err(e)?;
        w.write_record([""]).map_err(e)?;
        let mut header = vec!["student_id".to_string(), "name".to_string()];
        header.extend(
            r.sessions
                .iter()
                .map(|s| format!("{} {}", s.starts_at.format("%Y-%m-%d %H:%M"), s.title)),
        );
        header
            .extend(["present", "late", "excused", "absent", "rate", "at_risk"].map(String::from));
        w.write_record(&header).map_err(e)?;
        for row in &r.students {
            let mut line = vec![row.student_id.clone(), row.name.clone().unwrap_or_default()];
            line.extend(row.statuses.iter().map(|s| letter(*s).to_string()));
            line.extend(counts(&row.tally));
            line.push(rate(row.rate));
            line.push(yes_no(row.at_risk).to_string());
            w.write_record(&line).map_err(e)?;
        }
        for (i, label) in [
            "total present",
            "total late",
            "total excused",
            "total absent",
        ]
        .iter()
        .enumerate()
        {
            let mut line = vec![label.to_string(), String::new()];
            line.extend(r.session_totals.iter().map(|t| counts(t)[i].clone()));
            w.write_record(&line).map_err(e)?;
        }
        w.write_record([""]).map_err(e)?;
        w.write_record([
            "legend",
            "P present",
            "L late",
            "E excused",
            "A absent",
            "empty: unmarked or not enrolled",
        ])
        .map_err(e)?;
        finish(w)
    }

    fn render_at_risk(&self, r: &AtRiskReport) -> Result<Vec<u8>, ReportError> {
        let mut w = self.writer();
        let e = |e: csv::Error| ReportError::render("csv", e);
        w.write_record(["report", "at-risk"]).map_err(e)?;
        w.write_record([
            "course_id",
            &r.course_id.clone().unwrap_or_else(|| "all".into()),
        ])
        .map_err(e)?;
        w.write_record(["threshold", &format!("{:.2}", r.threshold)])
            .map_err(e)?;
        w.write_record([""]).map_err(e)?;
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
                row.course_id.clone(),
                row.student_id.clone(),
                row.name.clone().unwrap_or_default(),
            ];
            line.extend(counts(&row.tally));
            line.push(format!("{:.2}", row.rate));
            line.push(row.level.as_str().to_string());
            w.write_record(&line).map_err(e)?;
        }
        finish(w)
    }
}
