//! The geometry of a sheet, shared by the generator and the reader.
//!
//! All coordinates are PDF points (1/72 inch) on an A4 page, origin at the bottom left.
//! A sheet page has four solid square fiducials near its corners, a QR code at the top
//! right, a header at the top left, and up to [`ROWS_PER_PAGE`] rows, each with three
//! bubbles: present, late, excused (an empty row means absent).
//!
//! The QR code names the session, the page, the page count, the rows on the page and a
//! checksum of the student ids printed on it, so a page scanned after the roster changed is
//! refused instead of being read against the wrong students.

use chrono::{DateTime, Utc};
use domain::Status;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// The version of this geometry; printed in the QR code.
pub const LAYOUT_VERSION: u32 = 1;
/// A4 width (pt).
pub const PAGE_WIDTH: f32 = 595.28;
/// A4 height (pt).
pub const PAGE_HEIGHT: f32 = 841.89;
/// Side of a fiducial square (pt).
pub const FIDUCIAL_SIDE: f32 = 22.0;
/// Distance from a page edge to a fiducial's centre (pt).
pub const FIDUCIAL_INSET: f32 = 34.0;
/// The QR code's square: left, bottom, side (pt), quiet zone included.
pub const QR_RECT: (f32, f32, f32) = (436.0, 688.0, 104.0);
/// Rows on a full page.
pub const ROWS_PER_PAGE: usize = 27;
/// Centre of the first row (pt from the bottom).
pub const FIRST_ROW_Y: f32 = 660.0;
/// Distance between row centres (pt).
pub const ROW_PITCH: f32 = 22.0;
/// Bubble radius (pt), to the middle of the outline.
pub const BUBBLE_RADIUS: f32 = 7.5;
/// Width of a bubble's outline (pt).
pub const BUBBLE_OUTLINE: f32 = 0.9;
/// Bubble centres across the page: present, late, excused (pt).
pub const BUBBLE_X: [f32; 3] = [420.0, 468.0, 516.0];
/// The statuses of the three bubbles, left to right.
pub const BUBBLE_STATUS: [Status; 3] = [Status::Present, Status::Late, Status::Excused];
/// Baseline of the table's column titles (pt).
pub const TABLE_HEADER_Y: f32 = 676.0;
/// Left edge of the table (pt).
pub const TABLE_LEFT: f32 = 56.0;
/// Right edge of the table (pt).
pub const TABLE_RIGHT: f32 = 532.0;
/// What a QR payload starts with.
pub const QR_PREFIX: &str = "ATS";

/// Centres of the four fiducials: bottom left, bottom right, top left, top right.
pub fn fiducial_centres() -> [(f32, f32); 4] {
    let (l, r) = (FIDUCIAL_INSET, PAGE_WIDTH - FIDUCIAL_INSET);
    let (b, t) = (FIDUCIAL_INSET, PAGE_HEIGHT - FIDUCIAL_INSET);
    [(l, b), (r, b), (l, t), (r, t)]
}

/// Centre `y` of a row (0-based on its page).
pub fn row_y(row_index: usize) -> f32 {
    FIRST_ROW_Y - row_index as f32 * ROW_PITCH
}

/// The dark modules of a page's QR code as squares `(left, bottom, side)` in points inside
/// [`QR_RECT`] (EC level M, a 4-module quiet zone): what the generator prints and what test
/// scans draw. `None` if the payload does not fit a QR code.
pub fn qr_squares(payload: &QrPayload) -> Option<Vec<(f32, f32, f32)>> {
    let code = qrcode::QrCode::with_error_correction_level(payload.to_string(), qrcode::EcLevel::M)
        .ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let (left, bottom, side) = QR_RECT;
    let module = side / (width + 8) as f32;
    let top = bottom + side - 4.0 * module;
    let mut squares = Vec::new();
    for (i, colour) in colors.iter().enumerate() {
        if *colour == qrcode::Color::Dark {
            let (col, row) = (i % width, i / width);
            squares.push((
                left + (col + 4) as f32 * module,
                top - (row + 1) as f32 * module,
                module,
            ));
        }
    }
    Some(squares)
}

/// One student on the sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterEntry {
    /// Student number.
    pub student_id: String,
    /// Name, if known.
    pub name: Option<String>,
}

/// What a sheet is printed for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheetInfo {
    /// The session (register) id.
    pub session_id: String,
    /// The course code.
    pub course_id: String,
    /// The course's title.
    pub course_title: String,
    /// The session's title.
    pub session_title: String,
    /// When the session starts.
    pub starts_at: DateTime<Utc>,
    /// The roster, in roster order.
    pub roster: Vec<RosterEntry>,
}

/// One bubble.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bubble {
    /// What filling it means.
    pub status: Status,
    /// Centre x (pt).
    pub x: f32,
    /// Centre y (pt).
    pub y: f32,
    /// Radius (pt).
    pub r: f32,
}

/// One row: a student and three bubbles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowLayout {
    /// Row on its page, from 1.
    pub row: u32,
    /// Position on the roster, from 1.
    pub number: u32,
    /// The student.
    pub student_id: String,
    /// Present, late, excused.
    pub bubbles: [Bubble; 3],
}

/// One page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageLayout {
    /// Page number, from 1.
    pub page: u32,
    /// What its QR code says.
    pub qr: QrPayload,
    /// The rows.
    pub rows: Vec<RowLayout>,
}

/// Every page of a session's sheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layout {
    /// The session.
    pub session_id: String,
    /// [`LAYOUT_VERSION`].
    pub version: u32,
    /// Page width and height (pt).
    pub page_size: (f32, f32),
    /// Fiducial centres (bottom left, bottom right, top left, top right) and side (pt).
    pub fiducials: [(f32, f32); 4],
    /// The pages (at least one, even for an empty roster).
    pub pages: Vec<PageLayout>,
}

impl Layout {
    /// The layout of a session's sheet: the roster in order, [`ROWS_PER_PAGE`] per page.
    pub fn new(session_id: &str, roster: &[String]) -> Layout {
        let chunks: Vec<&[String]> = if roster.is_empty() {
            vec![&[]]
        } else {
            roster.chunks(ROWS_PER_PAGE).collect()
        };
        let pages = chunks.len() as u32;
        let pages = chunks
            .iter()
            .enumerate()
            .map(|(p, ids)| {
                let page = p as u32 + 1;
                let rows = ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| RowLayout {
                        row: i as u32 + 1,
                        number: (p * ROWS_PER_PAGE + i) as u32 + 1,
                        student_id: id.clone(),
                        bubbles: row_bubbles(i),
                    })
                    .collect();
                PageLayout {
                    page,
                    qr: QrPayload {
                        version: LAYOUT_VERSION,
                        session_id: session_id.to_string(),
                        page,
                        pages,
                        rows: ids.len() as u32,
                        checksum: checksum(session_id, page, pages, ids),
                    },
                    rows,
                }
            })
            .collect();
        Layout {
            session_id: session_id.to_string(),
            version: LAYOUT_VERSION,
            page_size: (PAGE_WIDTH, PAGE_HEIGHT),
            fiducials: fiducial_centres(),
            pages,
        }
    }

    /// A page by number (from 1).
    pub fn page(&self, page: u32) -> Option<&PageLayout> {
        self.pages.iter().find(|p| p.page == page)
    }
}

/// The three bubbles of a row (0-based on its page).
pub fn row_bubbles(row_index: usize) -> [Bubble; 3] {
    let y = row_y(row_index);
    std::array::from_fn(|i| Bubble {
        status: BUBBLE_STATUS[i],
        x: BUBBLE_X[i],
        y,
        r: BUBBLE_RADIUS,
    })
}

/// First 8 hex digits of the SHA-256 of the page's identity and its student ids.
pub fn checksum(session_id: &str, page: u32, pages: u32, student_ids: &[String]) -> String {
    let mut hash = Sha256::new();
    hash.update(format!("{LAYOUT_VERSION}|{session_id}|{page}|{pages}|").as_bytes());
    for id in student_ids {
        hash.update(id.as_bytes());
        hash.update(b",");
    }
    hex(&hash.finalize()[..4])
}

/// What a page's QR code says: `ATS|1|<session>|<page>|<pages>|<rows>|<checksum>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrPayload {
    /// Layout version.
    pub version: u32,
    /// The session.
    pub session_id: String,
    /// This page, from 1.
    pub page: u32,
    /// Pages of the sheet.
    pub pages: u32,
    /// Rows printed on this page.
    pub rows: u32,
    /// [`checksum`] of the page.
    pub checksum: String,
}

/// Why a QR text is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// Not our format at all.
    #[error("the QR code is not an attendance sheet code")]
    Foreign,
    /// Our prefix, but a layout this version cannot read.
    #[error(
        "sheet layout version {0} is not supported (this server reads version {LAYOUT_VERSION})"
    )]
    Version(u32),
    /// Our prefix, but fields are missing or wrong.
    #[error("the QR code is damaged: {0}")]
    Malformed(&'static str),
}

impl fmt::Display for QrPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{QR_PREFIX}|{}|{}|{}|{}|{}|{}",
            self.version, self.session_id, self.page, self.pages, self.rows, self.checksum
        )
    }
}

impl QrPayload {
    /// Parses a decoded QR text.
    pub fn parse(text: &str) -> Result<QrPayload, QrError> {
        let fields: Vec<&str> = text.trim().split('|').collect();
        if fields.first() != Some(&QR_PREFIX) {
            return Err(QrError::Foreign);
        }
        let version: u32 = fields
            .get(1)
            .and_then(|v| v.parse().ok())
            .ok_or(QrError::Malformed("version"))?;
        if version != LAYOUT_VERSION {
            return Err(QrError::Version(version));
        }
        if fields.len() != 7 {
            return Err(QrError::Malformed("field count"));
        }
        let number = |i: usize, what: &'static str| -> Result<u32, QrError> {
            fields[i].parse().map_err(|_| QrError::Malformed(what))
        };
        let session_id = fields[2].to_string();
        if domain::SessionId::parse(session_id.clone()).is_err() {
            return Err(QrError::Malformed("session id"));
        }
        let (page, pages, rows) = (number(3, "page")?, number(4, "pages")?, number(5, "rows")?);
        if page == 0 || page > pages || rows as usize > ROWS_PER_PAGE {
            return Err(QrError::Malformed("page numbers"));
        }
        let checksum = fields[6].to_string();
        if checksum.len() != 8 || !checksum.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(QrError::Malformed("checksum"));
        }
        Ok(QrPayload {
            version,
            session_id,
            page,
            pages,
            rows,
            checksum,
        })
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("S{i:04}")).collect()
    }

    #[test]
    fn long_rosters_spill_onto_more_pages() {
        let layout = Layout::new("sess-1", &ids(60));
        assert_eq!(layout.pages.len(), 3);
        assert_eq!(layout.pages[0].rows.len(), ROWS_PER_PAGE);
        assert_eq!(layout.pages[2].rows.len(), 60 - 2 * ROWS_PER_PAGE);
        assert_eq!(layout.pages[2].rows[0].number, 2 * ROWS_PER_PAGE as u32 + 1);
        assert_eq!(layout.pages[1].qr.pages, 3);
        assert!(
            layout
                .pages
                .iter()
                .all(|p| p.qr.rows as usize == p.rows.len())
        );
    }

    #[test]
    fn an_empty_roster_still_has_a_page() {
        let layout = Layout::new("sess-1", &[]);
        assert_eq!(layout.pages.len(), 1);
        assert_eq!(layout.pages[0].qr.rows, 0);
    }

    #[test]
    fn rows_stay_between_the_fiducials_and_below_the_header() {
        let lowest = row_y(ROWS_PER_PAGE - 1) - ROW_PITCH / 2.0;
        assert!(lowest > FIDUCIAL_INSET + FIDUCIAL_SIDE / 2.0 + 4.0);
        assert!(row_y(0) + ROW_PITCH / 2.0 < TABLE_HEADER_Y);
        assert!(QR_RECT.1 > TABLE_HEADER_Y + 8.0);
        assert!(QR_RECT.0 + QR_RECT.2 < PAGE_WIDTH - FIDUCIAL_INSET - FIDUCIAL_SIDE / 2.0);
        assert!(QR_RECT.1 + QR_RECT.2 < PAGE_HEIGHT - FIDUCIAL_INSET - FIDUCIAL_SIDE / 2.0);
    }

    #[test]
    fn qr_payload_round_trips_and_rejects_damage() {
        let layout = Layout::new("CS101-2026-09-01", &ids(30));
        let qr = &layout.pages[1].qr;
        let text = qr.to_string();
        assert_eq!(QrPayload::parse(&text).unwrap(), *qr);
        assert_eq!(
            QrPayload::parse("https://example.com"),
            Err(QrError::Foreign)
        );
        assert_eq!(
            QrPayload::parse("ATS|9|x|1|1|1|00000000"),
            Err(QrError::Version(9))
        );
        assert!(QrPayload::parse("ATS|1|a.b|1|1|1|00000000").is_err());
        assert!(QrPayload::parse("ATS|1|s|2|1|1|00000000").is_err());
        assert!(QrPayload::parse("ATS|1|s|1|1|1|zz").is_err());
    }

    #[test]
    fn the_longest_session_id_fits_the_qr_square() {
        let id = "x".repeat(domain::SessionId::MAX_LEN);
        let layout = Layout::new(&id, &ids(27));
        let squares = qr_squares(&layout.pages[0].qr).unwrap();
        let (left, bottom, side) = QR_RECT;
        assert!(squares.iter().all(|(x, y, s)| *x >= left
            && *y >= bottom
            && x + s <= left + side + 0.01
            && y + s <= bottom + side + 0.01));
        // Modules stay at least 1.4 pt wide: 3 pixels at 150 dpi.
        assert!(squares[0].2 >= 1.4, "module {}", squares[0].2);
    }

    #[test]
    fn checksum_changes_with_the_students() {
        let a = checksum("s", 1, 1, &ids(3));
        let mut other = ids(3);
        other[1] = "S9999".into();
        assert_ne!(a, checksum("s", 1, 1, &other));
        assert_eq!(a, checksum("s", 1, 1, &ids(3)));
    }
}
