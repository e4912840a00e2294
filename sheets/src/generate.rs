//! The printable sheet of a session: A4 pages drawn from [`Layout`], through the shared
//! typesetting crate (fonts for every script, subset and embedded).

use crate::layout::{
    self, BUBBLE_OUTLINE, BUBBLE_X, FIDUCIAL_SIDE, Layout, ROW_PITCH, SheetInfo, TABLE_HEADER_Y,
    TABLE_LEFT, TABLE_RIGHT,
};
use typeset::{Align, Drawing, TypesetError};

/// Left edge of the header and the number column (pt).
const HEADER_LEFT: f32 = TABLE_LEFT;
/// Right edge of the header text, left of the QR code (pt).
const HEADER_RIGHT: f32 = layout::QR_RECT.0 - 8.0;
/// Row separators' grey.
const RULE_GREY: u8 = 170;

/// Why a sheet could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The QR payload does not fit (cannot happen with valid session ids).
    #[error("the QR code for page {0} could not be made")]
    Qr(u32),
    /// The PDF could not be written.
    #[error(transparent)]
    Pdf(#[from] TypesetError),
}

/// The layout of the sheet for `info`.
pub fn layout_of(info: &SheetInfo) -> Layout {
    let ids: Vec<String> = info.roster.iter().map(|e| e.student_id.clone()).collect();
    Layout::new(&info.session_id, &ids)
}

/// The sheet as a PDF, with its layout.
pub fn sheet_pdf(info: &SheetInfo) -> Result<(Vec<u8>, Layout), GenerateError> {
    let layout = layout_of(info);
    let mut d = Drawing::a4()?;
    let (width, _) = d.size();
    let pages = layout.pages.len();
    let when = info.starts_at.format("%A %-d %B %Y, %H:%M UTC").to_string();
    for page in &layout.pages {
        d.add_page();
        for (x, y) in layout::fiducial_centres() {
            let half = FIDUCIAL_SIDE / 2.0;
            d.rect(x - half, y - half, FIDUCIAL_SIDE, FIDUCIAL_SIDE, 0);
        }
        let squares = layout::qr_squares(&page.qr).ok_or(GenerateError::Qr(page.page))?;
        for (x, y, side) in squares {
            d.rect(x, y, side, side, 0);
        }
        let header_w = HEADER_RIGHT - HEADER_LEFT;
        let title = format!("{} ({})", info.course_title, info.course_id);
        d.text(
            &title,
            true,
            14.0,
            HEADER_LEFT,
            790.0,
            header_w,
            Align::Left,
        );
        d.text(
            &info.session_title,
            false,
            11.0,
            HEADER_LEFT,
            772.0,
            header_w,
            Align::Left,
        );
        d.text(
            &when,
            false,
            10.0,
            HEADER_LEFT,
            756.0,
            header_w,
            Align::Left,
        );
        let where_ = format!(
            "Session {} \u{b7} Page {} of {pages}",
            info.session_id, page.page
        );
        d.text(
            &where_,
            false,
            9.0,
            HEADER_LEFT,
            740.0,
            header_w,
            Align::Left,
        );
        let help = [
            "Fill one bubble per row with a dark pen: P present, L late, E excused.",
            "Leave the row empty when the student is absent. Keep the corners and the QR code clean.",
        ];
        for (i, line) in help.iter().enumerate() {
            let y = 716.0 - 11.0 * i as f32;
            d.text(line, false, 8.0, HEADER_LEFT, y, header_w, Align::Left);
        }
        // Column titles.
        d.text(
            "No.",
            true,
            8.0,
            HEADER_LEFT,
            TABLE_HEADER_Y,
            24.0,
            Align::Right,
        );
        d.text(
            "Student ID",
            true,
            8.0,
            86.0,
            TABLE_HEADER_Y,
            100.0,
            Align::Left,
        );
        d.text("Name", true, 8.0, 190.0, TABLE_HEADER_Y, 200.0, Align::Left);
        for (x, label) in BUBBLE_X.iter().zip(["P", "L", "E"]) {
            d.text(
                label,
                true,
                8.0,
                x - 10.0,
                TABLE_HEADER_Y,
                20.0,
                Align::Centre,
            );
        }
        let half = ROW_PITCH / 2.0;
        if let Some(first) = page.rows.first() {
            let y = first.bubbles[0].y + half;
            d.line((TABLE_LEFT, y), (TABLE_RIGHT, y), 0.4, RULE_GREY);
        }
        for row in &page.rows {
            let y = row.bubbles[0].y;
            let base = y - 3.0;
            let number = row.number.to_string();
            d.text(&number, false, 9.0, HEADER_LEFT, base, 24.0, Align::Right);
            d.text(&row.student_id, false, 9.0, 86.0, base, 100.0, Align::Left);
            let name = info
                .roster
                .get(row.number as usize - 1)
                .and_then(|e| e.name.as_deref())
                .unwrap_or("");
            d.text(name, false, 9.0, 190.0, base, 200.0, Align::Left);
            for bubble in &row.bubbles {
                d.circle((bubble.x, bubble.y), bubble.r, BUBBLE_OUTLINE, 0);
            }
            d.line(
                (TABLE_LEFT, y - half),
                (TABLE_RIGHT, y - half),
                0.4,
                RULE_GREY,
            );
        }
        if page.rows.is_empty() {
            let y = layout::row_y(0);
            d.text(
                "No students are enrolled in this session.",
                false,
                10.0,
                HEADER_LEFT,
                y,
                300.0,
                Align::Left,
            );
        }
        let footer = format!(
            "Attendance sheet, layout {} \u{b7} page {} of {pages}",
            layout.version, page.page
        );
        d.text(
            &footer,
            false,
            7.0,
            80.0,
            31.0,
            width - 160.0,
            Align::Centre,
        );
    }
    let title = format!("Attendance sheet {} {}", info.course_id, info.session_id);
    Ok((d.finish(&title)?, layout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::RosterEntry;
    use chrono::TimeZone;

    fn info(n: usize) -> SheetInfo {
        SheetInfo {
            session_id: "CS101-s1".into(),
            course_id: "CS101".into(),
            course_title: "Introduction to Programming".into(),
            session_title: "Week 1: lecture".into(),
            starts_at: chrono::Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap(),
            roster: (1..=n)
                .map(|i| RosterEntry {
                    student_id: format!("S{i:04}"),
                    name: Some(match i % 3 {
                        0 => format!("Zoë Ødegård {i}"),
                        1 => format!("\u{645}\u{62d}\u{645}\u{62f} {i}"),
                        _ => format!("\u{674e}\u{534e} {i}"),
                    }),
                })
                .collect(),
        }
    }

    #[test]
    fn sheet_has_a_page_per_27_students_and_the_names_as_text() {
        let (pdf, layout) = sheet_pdf(&info(60)).unwrap();
        assert_eq!(layout.pages.len(), 3);
        let doc = lopdf::Document::load_mem(&pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 3);
        let text = doc.extract_text(&[1]).unwrap_or_default();
        assert!(text.contains("Page 1 of 3"), "{text}");
        assert!(text.contains("S0001"), "{text}");
    }

    #[test]
    fn an_empty_roster_prints_one_page() {
        let (pdf, layout) = sheet_pdf(&info(0)).unwrap();
        assert_eq!(layout.pages.len(), 1);
        assert_eq!(
            lopdf::Document::load_mem(&pdf).unwrap().get_pages().len(),
            1
        );
    }
}
