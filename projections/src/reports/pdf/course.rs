//! The course register: students by sessions, cut into pages both ways.

use super::{
    CONTENT_BOTTOM, HeaderLine, MARGIN, PdfFormat, draw_footers, draw_header, draw_legend,
    generated, rate, yes_no,
};
use crate::reports::model::letter;
use crate::reports::{CourseReport, ReportError, RiskLevel};
use domain::Tally;
use std::ops::Range;
use typeset::Weight;
use typeset::table::{self, Column, PAD, Row, Style, TOTALS_FILL};
use typeset::{Align, Canvas};

/// Most session columns on one page.
const MAX_SESSIONS_PER_PAGE: usize = 20;
/// Narrowest session column (pt); wider when the totals need it.
const SESSION_WIDTH: f32 = 17.0;
/// Sessions above which `orientation = auto` turns the page.
const LANDSCAPE_ABOVE: usize = 12;

const STYLE: Style = Style {
    size: 7.0,
    row_height: 11.0,
    header_height: 66.0,
};

/// The figures columns after the sessions: title and width.
const FIGURES: [(&str, f32); 6] = [
    ("Present", 24.0),
    ("Late", 24.0),
    ("Excused", 24.0),
    ("Absent", 24.0),
    ("Rate %", 30.0),
    ("At risk", 24.0),
];

/// A horizontal slice of the register: some sessions, and whether the figures are on it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Slice {
    pub sessions: Range<usize>,
    pub figures: bool,
}

/// Cuts `sessions` columns into slices: at most `cap` on a page, at most `cap_last` on the
/// last one (which also holds the figures), spread evenly.
pub(super) fn slices(sessions: usize, cap: usize, cap_last: usize) -> Vec<Slice> {
    let cap = cap.clamp(1, MAX_SESSIONS_PER_PAGE);
    let cap_last = cap_last.min(cap);
    if sessions == 0 {
        return vec![Slice {
            sessions: 0..0,
            figures: true,
        }];
    }
    let mut sizes: Vec<usize>;
    let mut figures_alone = false;
    if cap_last == 0 {
        // The figures do not fit beside any session: they get a page of their own.
        sizes = vec![cap; sessions / cap];
        if !sessions.is_multiple_of(cap) {
            sizes.push(sessions % cap);
        }
        figures_alone = true;
    } else {
        let k = if sessions <= cap_last {
            1
        } else {
            1 + (sessions - cap_last).div_ceil(cap)
        };
        if sessions / k <= cap_last {
            sizes = (0..k)
                .map(|i| sessions / k + usize::from(i < sessions % k))
                .collect();
        } else {
            let rest = sessions - cap_last;
            let n = k - 1;
            sizes = (0..n)
                .map(|i| rest / n + usize::from(i < rest % n))
                .collect();
            sizes.push(cap_last);
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    let last = sizes.len().saturating_sub(1);
    for (i, size) in sizes.into_iter().enumerate() {
        out.push(Slice {
            sessions: start..start + size,
            figures: !figures_alone && i == last,
        });
        start += size;
    }
    if figures_alone {
        out.push(Slice {
            sessions: sessions..sessions,
            figures: true,
        });
    }
    out
}

fn counts(t: &Tally) -> [u32; 4] {
    [t.present, t.late, t.excused, t.absent]
}

/// The register's columns: id, name, one per session, the figures.
struct Columns {
    columns: Vec<Column>,
    /// Width of the id and name columns together (repeated on every slice).
    fixed: f32,
    session_width: f32,
}

fn columns(canvas: &mut Canvas, r: &CourseReport) -> Columns {
    let size = STYLE.size;
    let mut id_width = canvas.measure("Student ID", Weight::Bold, size);
    let mut name_width = 0f32;
    for s in &r.students {
        id_width = id_width.max(canvas.measure(&s.student_id, Weight::Regular, size));
        if let Some(name) = &s.name {
            name_width = name_width.max(canvas.measure(name, Weight::Regular, size));
        }
    }
    let id_width = (id_width + 6.0).clamp(40.0, 90.0);
    let name_width = (name_width + 6.0).clamp(80.0, 150.0);
    let mut session_width = SESSION_WIDTH;
    for t in &r.session_totals {
        for n in counts(t) {
            let w = canvas.measure(&n.to_string(), Weight::Bold, size) + 2.0 * PAD + 1.0;
            session_width = session_width.max(w.min(40.0));
        }
    }
    let mut columns = vec![
        Column::new("Student ID", id_width, Align::Left),
        Column::new("Name", name_width, Align::Left),
    ];
    for s in &r.sessions {
        columns.push(Column::rotated(
            &s.local_start.format("%Y-%m-%d %H:%M").to_string(),
            &s.title,
            session_width,
            Align::Centre,
        ));
    }
    for (title, width) in FIGURES {
        columns.push(Column::rotated(title, "", width, Align::Right));
    }
    Columns {
        columns,
        fixed: id_width + name_width,
        session_width,
    }
}

/// The rows: the students (or "No students"), then the totals per session.
fn rows(format: &PdfFormat, r: &CourseReport) -> Vec<Row> {
    let n_sessions = r.sessions.len();
    let mut rows: Vec<Row> = r
        .students
        .iter()
        .map(|s| {
            let mut cells = Vec::with_capacity(n_sessions + 2 + FIGURES.len());
            cells.push(s.student_id.clone());
            cells.push(s.name.clone().unwrap_or_default());
            cells.extend(
                (0..n_sessions).map(|i| letter(s.statuses.get(i).copied().flatten()).to_string()),
            );
            cells.extend(counts(&s.tally).map(|n| n.to_string()));
            cells.push(rate(s.rate));
            cells.push(yes_no(s.at_risk).to_string());
            let level = s.rate.map(RiskLevel::of).filter(|_| s.at_risk);
            Row {
                cells,
                fill: level.map(|l| format.fill(l)),
                ..Row::default()
            }
        })
        .collect();
    if rows.is_empty() {
        rows.push(Row {
            cells: vec![String::new(), "No students".into()],
            ..Row::default()
        });
    }
    if n_sessions == 0 {
        return rows;
    }
    let labels = [
        "Total present",
        "Total late",
        "Total excused",
        "Total absent",
    ];
    for (k, label) in labels.iter().enumerate() {
        let mut cells = vec![String::new(), label.to_string()];
        cells.extend((0..n_sessions).map(|i| {
            r.session_totals
                .get(i)
                .map(|t| counts(t)[k].to_string())
                .unwrap_or_default()
        }));
        rows.push(Row {
            cells,
            fill: Some(TOTALS_FILL),
            bold: true,
            separator: k == 0,
        });
    }
    rows
}

/// Where a page sits in the register: its students, its sessions, its part across.
fn place(
    students: Range<usize>,
    n_students: usize,
    slice: &Slice,
    part: (usize, usize),
    n_sessions: usize,
) -> String {
    let mut place = if students.is_empty() {
        "Totals".to_string()
    } else {
        format!(
            "Students {}–{} of {}",
            students.start + 1,
            students.end,
            n_students
        )
    };
    if !slice.sessions.is_empty() {
        place.push_str(&format!(
            " · sessions {}–{} of {}",
            slice.sessions.start + 1,
            slice.sessions.end,
            n_sessions
        ));
    }
    if part.1 > 1 {
        place.push_str(&format!(" · part {} of {} across", part.0 + 1, part.1));
    }
    place
}

/// Renders a course register: the rows cut into blocks down and slices across, each block
/// drawn once per slice.
pub(super) fn render(format: &PdfFormat, r: &CourseReport) -> Result<Vec<u8>, ReportError> {
    let n_sessions = r.sessions.len();
    let n_students = r.students.len();
    let mut canvas = format.canvas(n_sessions > LANDSCAPE_ABOVE)?;
    let Columns {
        columns,
        fixed,
        session_width,
    } = columns(&mut canvas, r);
    let first_figure = 2 + n_sessions;
    let room = canvas.width - 2.0 * MARGIN - fixed;
    let figures_width: f32 = FIGURES.iter().map(|(_, w)| w).sum();
    let cap = (room / session_width).floor().max(0.0) as usize;
    let cap_last = ((room - figures_width) / session_width).floor().max(0.0) as usize;
    let slices = slices(n_sessions, cap, cap_last);
    let rows = rows(format, r);

    let mut legend = vec![(
        None,
        "P present · L late · E excused · A absent · blank: unmarked or not enrolled · at risk:"
            .to_string(),
    )];
    legend.extend(format.risk_legend(r.threshold));
    let title = format!("{} — {}", r.course_id, r.course_name);
    let info = format!(
        "Course register · {} · at risk below {:.2} %",
        generated(r.generated_at, r.as_of),
        r.threshold
    );
    let mut header = vec![HeaderLine::title(&title), HeaderLine::info(&info)];
    header.push(HeaderLine::info(String::new()));
    let top = canvas.height - MARGIN - header_height(&header);
    let per_page = STYLE.rows_per_page(top, CONTENT_BOTTOM);
    let blocks: Vec<Range<usize>> = (0..rows.len())
        .step_by(per_page)
        .map(|start| start..(start + per_page).min(rows.len()))
        .collect();
    for block in &blocks {
        for (s, slice) in slices.iter().enumerate() {
            canvas.add_page();
            let students = block.start.min(n_students)..block.end.min(n_students);
            let here = place(students, n_students, slice, (s, slices.len()), n_sessions);
            if let Some(last) = header.last_mut() {
                *last = HeaderLine::info(here);
            }
            let top = draw_header(&mut canvas, &header);
            let mut cols = vec![0, 1];
            cols.extend(slice.sessions.clone().map(|i| 2 + i));
            if slice.figures {
                cols.extend(first_figure..first_figure + FIGURES.len());
            }
            table::draw(
                &mut canvas,
                &columns,
                &cols,
                &rows[block.clone()],
                (MARGIN, top),
                &STYLE,
            );
            draw_legend(&mut canvas, &legend);
        }
    }
    draw_footers(&mut canvas, &format!("Course register {}", r.course_id));
    Ok(canvas.finish(&title)?)
}

/// Height of the header lines (as drawn by `draw_header`).
fn header_height(lines: &[HeaderLine]) -> f32 {
    lines.iter().map(|l| l.size * 1.45).sum::<f32>() + 8.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(s: &[Slice]) -> Vec<(usize, bool)> {
        s.iter().map(|s| (s.sessions.len(), s.figures)).collect()
    }

    #[test]
    fn slices_spread_sessions_and_keep_figures_last() {
        assert_eq!(sizes(&slices(0, 20, 20)), vec![(0, true)]);
        assert_eq!(sizes(&slices(12, 30, 24)), vec![(12, true)]);
        assert_eq!(
            sizes(&slices(60, 32, 24)),
            vec![(20, false), (20, false), (20, true)]
        );
        assert_eq!(
            sizes(&slices(45, 32, 24)),
            vec![(15, false), (15, false), (15, true)]
        );
        assert_eq!(
            sizes(&slices(30, 18, 9)),
            vec![(11, false), (10, false), (9, true)]
        );
        assert_eq!(
            sizes(&slices(5, 4, 0)),
            vec![(4, false), (1, false), (0, true)]
        );
        for n in 0..200 {
            let s = slices(n, 18, 9);
            assert_eq!(s.iter().map(|s| s.sessions.len()).sum::<usize>(), n);
            assert!(s.iter().all(|s| s.sessions.len() <= 18));
            assert!(s.last().unwrap().figures && s.last().unwrap().sessions.len() <= 9);
            assert!(
                s.windows(2)
                    .all(|w| w[0].sessions.end == w[1].sessions.start)
            );
        }
    }
}
