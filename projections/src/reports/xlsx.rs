//! XLSX reports (rust_xlsxwriter): real number and percentage cells, a frozen header,
//! autofit widths, and at-risk rows filled with their level's colour.

use super::config::{ReportConfig, RiskColours};
use super::model::letter;
use super::{
    AtRiskReport, CourseReport, DepartmentReport, ReportError, ReportFormat, RiskLevel,
    StudentReport,
};
use domain::Tally;
use rust_xlsxwriter::{Color, Format, Workbook, Worksheet, XlsxError};

/// The XLSX strategy.
pub struct XlsxFormat {
    colours: RiskColours,
}

impl XlsxFormat {
    /// From the configuration (colours).
    pub fn new(config: &ReportConfig) -> Self {
        XlsxFormat {
            colours: config.colours.clone(),
        }
    }

    fn fill(&self, level: Option<RiskLevel>) -> Format {
        match level {
            Some(level) => {
                let (r, g, b) = self.colours.rgb(level);
                Format::new().set_background_color(Color::RGB(u32::from_be_bytes([0, r, g, b])))
            }
            None => Format::new(),
        }
    }
}

fn error(e: XlsxError) -> ReportError {
    ReportError::render("xlsx", e)
}

fn bold() -> Format {
    Format::new().set_bold()
}

/// Writes a header row in bold.
fn header(sheet: &mut Worksheet, row: u32, titles: &[String]) -> Result<(), XlsxError> {
    for (col, title) in titles.iter().enumerate() {
        sheet.write_string_with_format(row, col as u16, title, &bold())?;
    }
    Ok(())
}

/// Counts as numbers and the rate as a percentage cell (blank when there is none).
fn figures(
    sheet: &mut Worksheet,
    row: u32,
    first: u16,
    t: &Tally,
    rate: Option<f64>,
    fill: &Format,
) -> Result<(), XlsxError> {
    for (i, n) in [t.present, t.late, t.excused, t.absent]
        .into_iter()
        .enumerate()
    {
        sheet.write_number_with_format(row, first + i as u16, f64::from(n), fill)?;
    }
    let percent = fill.clone().set_num_format("0.00%");
    match rate {
        Some(rate) => sheet.write_number_with_format(row, first + 4, rate / 100.0, &percent)?,
        None => sheet.write_blank(row, first + 4, fill)?,
    };
    Ok(())
}

fn counts_titles() -> Vec<String> {
    ["present", "late", "excused", "absent", "rate"]
        .map(String::from)
        .to_vec()
}

impl XlsxFormat {
    fn student(&self, r: &StudentReport) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet().set_name("Student")?;
        let level = r.at_risk.then(|| r.rate.map(RiskLevel::of)).flatten();
        sheet.write_string_with_format(
            0,
            0,
            format!("{} {}", r.student_id, r.name.clone().unwrap_or_default()),
            &bold(),
        )?;
        sheet.write_string(1, 0, format!("{} {}", r.course_id, r.course_name))?;
        header(sheet, 2, &counts_titles())?;
        figures(sheet, 3, 0, &r.tally, r.rate, &self.fill(level))?;
        sheet.write_string(3, 5, if r.at_risk { "at risk" } else { "" })?;
        let titles = [
            "date",
            "session",
            "status",
            "recorded at",
            "recorded by",
            "corrected",
            "reason",
        ];
        header(sheet, 5, &titles.map(String::from))?;
        for (i, row) in r.rows.iter().enumerate() {
            let line = 6 + i as u32;
            sheet.write_string(line, 0, row.date.to_string())?;
            sheet.write_string(line, 1, &row.title)?;
            sheet.write_string(
                line,
                2,
                row.status.map(|s| s.to_string()).unwrap_or_default(),
            )?;
            sheet.write_string(
                line,
                3,
                row.recorded_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
            )?;
            sheet.write_string(line, 4, row.recorded_by.clone().unwrap_or_default())?;
            sheet.write_string(line, 5, if row.corrected { "yes" } else { "" })?;
            sheet.write_string(line, 6, row.correction_reason.clone().unwrap_or_default())?;
        }
        sheet.set_freeze_panes(6, 0)?;
        sheet.autofit();
        book.save_to_buffer()
    }

    fn course(&self, r: &CourseReport) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet().set_name("Course")?;
        sheet.write_string_with_format(
            0,
            0,
            format!("{} {}", r.course_id, r.course_name),
            &bold(),
        )?;
        let mut titles = vec!["student_id".to_string(), "name".to_string()];
        titles.extend(
            r.sessions
                .iter()
                .map(|s| format!("{} {}", s.local_start.format("%Y-%m-%d %H:%M"), s.title)),
        );
        titles.extend(counts_titles());
        titles.push("at risk".into());
        header(sheet, 2, &titles)?;
        let counts_col = 2 + r.sessions.len() as u16;
        for (i, student) in r.students.iter().enumerate() {
            let row = 3 + i as u32;
            let fill = self.fill(
                student
                    .at_risk
                    .then(|| student.rate.map(RiskLevel::of))
                    .flatten(),
            );
            sheet.write_string_with_format(row, 0, &student.student_id, &fill)?;
            sheet.write_string_with_format(
                row,
                1,
                student.name.clone().unwrap_or_default(),
                &fill,
            )?;
            for (c, status) in student.statuses.iter().enumerate() {
                sheet.write_string_with_format(row, 2 + c as u16, letter(*status), &fill)?;
            }
            figures(sheet, row, counts_col, &student.tally, student.rate, &fill)?;
            sheet.write_string_with_format(
                row,
                counts_col + 5,
                if student.at_risk { "yes" } else { "no" },
                &fill,
            )?;
        }
        let totals = 3 + r.students.len() as u32;
        for (k, label) in [
            "total present",
            "total late",
            "total excused",
            "total absent",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string_with_format(totals + k as u32, 0, *label, &bold())?;
            for (c, tally) in r.session_totals.iter().enumerate() {
                let n = [tally.present, tally.late, tally.excused, tally.absent][k];
                sheet.write_number(totals + k as u32, 2 + c as u16, f64::from(n))?;
            }
        }
        sheet.write_string(
            totals + 5,
            0,
            "Legend: P present, L late, E excused, A absent; coloured rows are at risk",
        )?;
        sheet.set_freeze_panes(3, 2)?;
        sheet.autofit();
        book.save_to_buffer()
    }

    fn at_risk(&self, r: &AtRiskReport) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet().set_name("At risk")?;
        sheet.write_string_with_format(
            0,
            0,
            format!("Students below {:.2} %", r.threshold),
            &bold(),
        )?;
        let mut titles = vec![
            "course_id".to_string(),
            "student_id".to_string(),
            "name".to_string(),
        ];
        titles.extend(counts_titles());
        titles.push("level".into());
        header(sheet, 2, &titles)?;
        for (i, line) in r.rows.iter().enumerate() {
            let row = 3 + i as u32;
            let fill = self.fill(Some(line.level));
            sheet.write_string_with_format(row, 0, &line.course_id, &fill)?;
            sheet.write_string_with_format(row, 1, &line.student_id, &fill)?;
            sheet.write_string_with_format(row, 2, line.name.clone().unwrap_or_default(), &fill)?;
            figures(sheet, row, 3, &line.tally, Some(line.rate), &fill)?;
            sheet.write_string_with_format(row, 8, line.level.as_str(), &fill)?;
        }
        sheet.set_freeze_panes(3, 0)?;
        sheet.autofit();
        book.save_to_buffer()
    }

    /// One row per course from row 4 (header on row 3), the totals two rows below.
    fn department(&self, r: &DepartmentReport) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet().set_name("Department")?;
        sheet.write_string_with_format(0, 0, format!("Department {}", r.department), &bold())?;
        let titles = [
            "course_id",
            "course_name",
            "archived",
            "sessions",
            "students",
            "average_rate",
            "at_risk",
        ]
        .map(String::from);
        header(sheet, 2, &titles)?;
        let percent = Format::new().set_num_format("0.00%");
        let write_rate = |sheet: &mut Worksheet, row: u32, rate: Option<f64>| match rate {
            Some(rate) => sheet
                .write_number_with_format(row, 5, rate / 100.0, &percent)
                .map(|_| ()),
            None => sheet.write_blank(row, 5, &Format::new()).map(|_| ()),
        };
        for (i, line) in r.rows.iter().enumerate() {
            let row = 3 + i as u32;
            sheet.write_string(row, 0, &line.course_id)?;
            sheet.write_string(row, 1, &line.course_name)?;
            sheet.write_string(row, 2, if line.archived { "yes" } else { "no" })?;
            sheet.write_number(row, 3, line.sessions as f64)?;
            sheet.write_number(row, 4, line.students as f64)?;
            write_rate(sheet, row, line.average_rate)?;
            sheet.write_number(row, 6, line.at_risk as f64)?;
        }
        let totals = 4 + r.rows.len() as u32;
        let t = &r.totals;
        sheet.write_string_with_format(totals, 0, "Total", &bold())?;
        sheet.write_string(
            totals,
            1,
            format!("{} courses, {} enrolments", t.courses, t.enrollments),
        )?;
        sheet.write_number(
            totals,
            3,
            r.rows.iter().map(|l| l.sessions).sum::<usize>() as f64,
        )?;
        sheet.write_number(totals, 4, t.students as f64)?;
        write_rate(sheet, totals, t.average_rate)?;
        sheet.write_number(totals, 6, t.at_risk as f64)?;
        sheet.write_string(
            totals + 1,
            0,
            "Total students: distinct students; average rate and at risk: over every enrolment",
        )?;
        sheet.set_freeze_panes(3, 0)?;
        sheet.autofit();
        book.save_to_buffer()
    }
}

impl ReportFormat for XlsxFormat {
    fn name(&self) -> &'static str {
        "xlsx"
    }

    fn extension(&self) -> &'static str {
        "xlsx"
    }

    fn content_type(&self) -> &'static str {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    }

    fn render_student(&self, report: &StudentReport) -> Result<Vec<u8>, ReportError> {
        self.student(report).map_err(error)
    }

    fn render_course(&self, report: &CourseReport) -> Result<Vec<u8>, ReportError> {
        self.course(report).map_err(error)
    }

    fn render_at_risk(&self, report: &AtRiskReport) -> Result<Vec<u8>, ReportError> {
        self.at_risk(report).map_err(error)
    }

    fn render_department(&self, report: &DepartmentReport) -> Result<Vec<u8>, ReportError> {
        self.department(report).map_err(error)
    }
}
