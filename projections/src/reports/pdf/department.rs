//! The department report: one line per course, and the totals as the last line.

use super::listing::{paginate, sized, stretch};
use super::{HeaderLine, PdfFormat, draw_footers, generated, rate, yes_no};
use crate::reports::{DepartmentReport, ReportError};
use typeset::Align;
use typeset::table::{Column, Row};

/// Renders a department's report.
pub(super) fn render(format: &PdfFormat, r: &DepartmentReport) -> Result<Vec<u8>, ReportError> {
    let mut canvas = format.canvas(false)?;
    let t = &r.totals;
    let header = [
        HeaderLine::title(format!("Department report — {}", r.department)),
        HeaderLine::info(generated(r.generated_at, None)),
        HeaderLine::info(format!(
            "{} courses · {} students · {} enrolments · {} at risk",
            t.courses, t.students, t.enrollments, t.at_risk
        )),
    ];
    let mut rows: Vec<Row> = r
        .rows
        .iter()
        .map(|line| Row {
            cells: vec![
                line.course_id.clone(),
                line.course_name.clone(),
                yes_no(line.archived).to_string(),
                line.sessions.to_string(),
                line.students.to_string(),
                rate(line.average_rate),
                line.at_risk.to_string(),
            ],
            ..Row::default()
        })
        .collect();
    rows.push(Row {
        cells: vec![
            "Total".into(),
            format!("{} courses", t.courses),
            String::new(),
            r.rows.iter().map(|l| l.sessions).sum::<usize>().to_string(),
            t.students.to_string(),
            rate(t.average_rate),
            t.at_risk.to_string(),
        ],
        bold: true,
        separator: true,
        ..Row::default()
    });
    let cells = |i: usize| {
        rows.iter()
            .filter_map(move |r| r.cells.get(i).map(String::as_str))
    };
    let figures = (30.0, 70.0);
    let mut columns = vec![
        sized(&mut canvas, "Course", cells(0), (40.0, 90.0), Align::Left),
        Column::new("Name", 140.0, Align::Left),
        sized(&mut canvas, "Archived", cells(2), figures, Align::Left),
        sized(&mut canvas, "Sessions", cells(3), figures, Align::Right),
        sized(&mut canvas, "Students", cells(4), figures, Align::Right),
        sized(
            &mut canvas,
            "Average rate %",
            cells(5),
            figures,
            Align::Right,
        ),
        sized(&mut canvas, "At risk", cells(6), figures, Align::Right),
    ];
    stretch(&canvas, &mut columns, &[1]);
    let legend = vec![(
        None,
        "Total: distinct students; average rate and at risk over every enrolment".to_string(),
    )];
    paginate(&mut canvas, &header, &columns, &rows, &legend);
    draw_footers(
        &mut canvas,
        &format!("Department report · {}", r.department),
    );
    Ok(canvas.finish(&format!("Department report — {}", r.department))?)
}
