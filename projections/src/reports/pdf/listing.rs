//! The one-table reports: a student's sessions, and the students at risk.

use super::{
    CONTENT_BOTTOM, HeaderLine, MARGIN, PdfFormat, draw_footers, draw_header, draw_legend,
    generated, rate, yes_no,
};
use crate::reports::{AtRiskReport, ReportError, RiskLevel, StudentReport};
use typeset::Weight;
use typeset::table::{self, Column, Row, Style};
use typeset::{Align, Canvas, Rgb8};

pub(super) const STYLE: Style = Style {
    size: 7.5,
    row_height: 12.0,
    header_height: 16.0,
};

/// Widens the columns marked flexible to fill the page width between the margins (or
/// narrows every column when they are too wide together).
pub(super) fn stretch(canvas: &Canvas, columns: &mut [Column], flexible: &[usize]) {
    let room = canvas.width - 2.0 * MARGIN;
    let total: f32 = columns.iter().map(|c| c.width).sum();
    if total > room {
        for c in columns.iter_mut() {
            c.width *= room / total;
        }
        return;
    }
    let flex: f32 = flexible
        .iter()
        .filter_map(|i| columns.get(*i))
        .map(|c| c.width)
        .sum();
    if flex <= 0.0 {
        return;
    }
    for &i in flexible {
        if let Some(c) = columns.get_mut(i) {
            c.width += (room - total) * c.width / flex;
        }
    }
}

/// A column as wide as its widest text (the header in bold) plus padding, within bounds.
pub(super) fn sized<'t>(
    canvas: &mut Canvas,
    title: &str,
    texts: impl Iterator<Item = &'t str>,
    (min, max): (f32, f32),
    align: Align,
) -> Column {
    let mut width = canvas.measure(title, Weight::Bold, STYLE.size);
    for text in texts {
        width = width.max(canvas.measure(text, Weight::Regular, STYLE.size));
    }
    Column::new(title, (width + 6.0).clamp(min, max), align)
}

/// Draws the pages of a one-table report: header lines and the table header on every page;
/// `legend` (if any) at the foot of each page.
pub(super) fn paginate(
    canvas: &mut Canvas,
    header: &[HeaderLine],
    columns: &[Column],
    rows: &[Row],
    legend: &[(Option<Rgb8>, String)],
) {
    let cols: Vec<usize> = (0..columns.len()).collect();
    let mut start = 0;
    loop {
        canvas.add_page();
        let top = draw_header(canvas, header);
        let per_page = STYLE.rows_per_page(top, CONTENT_BOTTOM);
        let end = (start + per_page).min(rows.len());
        table::draw(
            canvas,
            columns,
            &cols,
            &rows[start..end],
            (MARGIN, top),
            &STYLE,
        );
        if !legend.is_empty() {
            draw_legend(canvas, legend);
        }
        start = end;
        if start >= rows.len() {
            break;
        }
    }
}

/// Renders a student's report.
pub(super) fn student(format: &PdfFormat, r: &StudentReport) -> Result<Vec<u8>, ReportError> {
    let mut canvas = format.canvas(false)?;
    let who = match &r.name {
        Some(name) => format!("{name} ({})", r.student_id),
        None => r.student_id.clone(),
    };
    let level = r.rate.map(RiskLevel::of).filter(|_| r.at_risk);
    let at_risk = match level {
        Some(level) => format!("yes ({})", level.as_str()),
        None => yes_no(r.at_risk).to_string(),
    };
    let rate_text = match r.rate {
        Some(_) => format!("{} %", rate(r.rate)),
        None => "—".to_string(),
    };
    let summary = format!(
        "Present {} · Late {} · Excused {} · Absent {} · Rate {} · At risk: {}",
        r.tally.present, r.tally.late, r.tally.excused, r.tally.absent, rate_text, at_risk
    );
    let header = [
        HeaderLine::title(&who),
        HeaderLine::info(format!("{} — {}", r.course_id, r.course_name)),
        HeaderLine::info(format!(
            "Student attendance · {}",
            generated(r.generated_at, r.as_of)
        )),
        HeaderLine {
            text: summary,
            bold: true,
            size: 9.0,
            fill: level.map(|l| format.fill(l)),
        },
    ];
    let mut rows: Vec<Row> = r
        .rows
        .iter()
        .map(|row| Row {
            cells: vec![
                row.date.format("%Y-%m-%d").to_string(),
                row.title.clone(),
                row.status.map(|s| s.to_string()).unwrap_or_default(),
                row.recorded_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                row.recorded_by.clone().unwrap_or_default(),
                match (&row.corrected, &row.correction_reason) {
                    (true, Some(reason)) => format!("yes: {reason}"),
                    (corrected, _) => yes_no(*corrected).to_string(),
                },
            ],
            ..Row::default()
        })
        .collect();
    if rows.is_empty() {
        rows.push(Row {
            cells: vec![String::new(), "No sessions".into()],
            ..Row::default()
        });
    }
    let cells = |i: usize| {
        rows.iter()
            .filter_map(move |r| r.cells.get(i).map(String::as_str))
    };
    let mut columns = vec![
        sized(&mut canvas, "Date", cells(0), (40.0, 70.0), Align::Left),
        Column::new("Session", 90.0, Align::Left),
        sized(&mut canvas, "Status", cells(2), (30.0, 60.0), Align::Left),
        sized(
            &mut canvas,
            "Recorded at (UTC)",
            cells(3),
            (60.0, 100.0),
            Align::Left,
        ),
        sized(
            &mut canvas,
            "Recorded by",
            cells(4),
            (50.0, 110.0),
            Align::Left,
        ),
        Column::new("Corrected", 110.0, Align::Left),
    ];
    stretch(&canvas, &mut columns, &[1, 5]);
    paginate(&mut canvas, &header, &columns, &rows, &[]);
    draw_footers(
        &mut canvas,
        &format!("Student report {} · {}", r.student_id, r.course_id),
    );
    Ok(canvas.finish(&format!(
        "Attendance of {} in {}",
        r.student_id, r.course_id
    ))?)
}

/// Renders the at-risk report.
pub(super) fn at_risk(format: &PdfFormat, r: &AtRiskReport) -> Result<Vec<u8>, ReportError> {
    let mut canvas = format.canvas(false)?;
    let scope = r.course_id.clone().unwrap_or_else(|| "all courses".into());
    let header = [
        HeaderLine::title(format!("Students at risk — {scope}")),
        HeaderLine::info(format!(
            "At risk below {:.2} % · {}",
            r.threshold,
            generated(r.generated_at, r.as_of)
        )),
        HeaderLine::info(match r.rows.len() {
            1 => "1 student, lowest rate first".to_string(),
            n => format!("{n} students, lowest rate first"),
        }),
    ];
    let mut rows: Vec<Row> = r
        .rows
        .iter()
        .map(|row| Row {
            cells: vec![
                row.course_id.clone(),
                row.student_id.clone(),
                row.name.clone().unwrap_or_default(),
                row.tally.present.to_string(),
                row.tally.late.to_string(),
                row.tally.excused.to_string(),
                row.tally.absent.to_string(),
                format!("{:.2}", row.rate),
                row.level.as_str().to_string(),
            ],
            fill: Some(format.fill(row.level)),
            ..Row::default()
        })
        .collect();
    if rows.is_empty() {
        rows.push(Row {
            cells: vec![String::new(), String::new(), "No students at risk".into()],
            ..Row::default()
        });
    }
    let cells = |i: usize| {
        rows.iter()
            .filter_map(move |r| r.cells.get(i).map(String::as_str))
    };
    let figures = (24.0, 60.0);
    let mut columns = vec![
        sized(&mut canvas, "Course", cells(0), (40.0, 90.0), Align::Left),
        sized(
            &mut canvas,
            "Student ID",
            cells(1),
            (50.0, 90.0),
            Align::Left,
        ),
        Column::new("Name", 120.0, Align::Left),
        sized(&mut canvas, "Present", cells(3), figures, Align::Right),
        sized(&mut canvas, "Late", cells(4), figures, Align::Right),
        sized(&mut canvas, "Excused", cells(5), figures, Align::Right),
        sized(&mut canvas, "Absent", cells(6), figures, Align::Right),
        sized(&mut canvas, "Rate %", cells(7), figures, Align::Right),
        sized(&mut canvas, "Level", cells(8), (40.0, 60.0), Align::Left),
    ];
    stretch(&canvas, &mut columns, &[2]);
    let mut legend = vec![(None, "Rows coloured by level:".to_string())];
    legend.extend(format.risk_legend(r.threshold));
    paginate(&mut canvas, &header, &columns, &rows, &legend);
    draw_footers(&mut canvas, &format!("At-risk report · {scope}"));
    Ok(canvas.finish(&format!("Students at risk — {scope}"))?)
}
