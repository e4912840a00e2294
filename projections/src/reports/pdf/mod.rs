//! PDF reports (printpdf 0.12, written op by op).
//!
//! - Pages are A4 or Letter; course registers turn landscape when `orientation = auto` and
//!   the course has more than 12 sessions (or when configured landscape).
//! - Every page repeats the report's header lines and the table's header row, and ends with
//!   "Page n of N". Wide course registers are cut into slices of at most 20 session columns
//!   (student id and name repeated on each, the counts on the last one); long rosters go on
//!   over further pages. Texts too long for their column are cut with an ellipsis.
//! - Text is shaped by [`text`]: DejaVu Sans (Latin, Greek, Cyrillic, Arabic...) with Droid
//!   Sans Fallback for Chinese and Japanese and Nanum Gothic for Korean, chosen per character run; right-to-left
//!   runs reordered (Unicode bidi) and Arabic letters joined (OpenType shaping, allsorts).
//!   Both fonts are embedded, subset to the glyphs used, with a ToUnicode map.
//! - Pure: report data in, bytes out.

mod course;
mod department;
mod listing;
#[cfg(test)]
mod tests;

use super::config::{Orientation, PageSize, ReportConfig, RiskColours};
use super::{
    AtRiskReport, CourseReport, DepartmentReport, ReportError, ReportFormat, RiskLevel,
    StudentReport,
};
use chrono::{DateTime, Utc};
use typeset::Weight;
use typeset::{Align, Canvas, Rgb8};

/// Page margin (pt).
const MARGIN: f32 = 36.0;
/// Title size (pt).
const TITLE_SIZE: f32 = 13.0;
/// Size of the other header lines (pt).
const INFO_SIZE: f32 = 8.5;
/// Footer text size (pt).
const FOOTER_SIZE: f32 = 7.5;
/// Lowest point of a table: room for two legend lines and the footer below (pt).
const CONTENT_BOTTOM: f32 = MARGIN + 18.0;
/// Baseline of the first legend line (pt).
const LEGEND_Y: f32 = MARGIN + 8.0;

/// The PDF strategy.
pub struct PdfFormat {
    page_size: PageSize,
    orientation: Orientation,
    colours: RiskColours,
}

impl PdfFormat {
    /// From the configuration (page size, orientation, colours).
    pub fn new(config: &ReportConfig) -> Self {
        PdfFormat {
            page_size: config.pdf.page_size,
            orientation: config.pdf.orientation,
            colours: config.colours.clone(),
        }
    }

    /// An empty document; `wide` asks for landscape under `orientation = auto`.
    fn canvas(&self, wide: bool) -> Result<Canvas, ReportError> {
        let (w, h) = match self.page_size {
            PageSize::A4 => (210.0, 297.0),
            PageSize::Letter => (215.9, 279.4),
        };
        let landscape = match self.orientation {
            Orientation::Portrait => false,
            Orientation::Landscape => true,
            Orientation::Auto => wide,
        };
        if landscape {
            Ok(Canvas::new(h, w)?)
        } else {
            Ok(Canvas::new(w, h)?)
        }
    }

    /// The fill of a risk level.
    fn fill(&self, level: RiskLevel) -> Rgb8 {
        self.colours.rgb(level)
    }

    /// Legend entries of the risk colours.
    fn risk_legend(&self, threshold: f64) -> Vec<(Option<Rgb8>, String)> {
        vec![
            (
                Some(self.fill(RiskLevel::Critical)),
                "critical: rate < 50 %".into(),
            ),
            (Some(self.fill(RiskLevel::High)), "high: < 60 %".into()),
            (
                Some(self.fill(RiskLevel::Moderate)),
                format!("moderate: < {threshold:.2} % (the at-risk threshold)"),
            ),
        ]
    }
}

/// A line of a page header.
struct HeaderLine {
    text: String,
    bold: bool,
    size: f32,
    fill: Option<Rgb8>,
}

impl HeaderLine {
    fn title(text: impl Into<String>) -> Self {
        HeaderLine {
            text: text.into(),
            bold: true,
            size: TITLE_SIZE,
            fill: None,
        }
    }

    fn info(text: impl Into<String>) -> Self {
        HeaderLine {
            text: text.into(),
            bold: false,
            size: INFO_SIZE,
            fill: None,
        }
    }
}

/// Draws header lines at the top of the current page; returns the y below them.
fn draw_header(canvas: &mut Canvas, lines: &[HeaderLine]) -> f32 {
    let width = canvas.width - 2.0 * MARGIN;
    let mut y = canvas.height - MARGIN;
    for line in lines {
        let step = line.size * 1.45;
        y -= step;
        if let Some(rgb) = line.fill {
            canvas.fill(MARGIN, y - line.size * 0.35, width, step, rgb);
        }
        let weight = if line.bold {
            Weight::Bold
        } else {
            Weight::Regular
        };
        canvas.text(
            &line.text,
            weight,
            line.size,
            MARGIN + 2.0,
            y,
            width - 4.0,
            Align::Left,
        );
    }
    y - 8.0
}

/// Draws a legend (colour swatches and labels) at the foot of the current page, on one
/// line or, when it does not fit, two.
fn draw_legend(canvas: &mut Canvas, entries: &[(Option<Rgb8>, String)]) {
    const SIZE: f32 = 7.0;
    const SWATCH: f32 = 11.0;
    const GAP: f32 = 12.0;
    let right = canvas.width - MARGIN;
    let (mut x, mut y) = (MARGIN, LEGEND_Y);
    for (i, (fill, label)) in entries.iter().enumerate() {
        let swatch = if fill.is_some() { SWATCH } else { 0.0 };
        let need = swatch + canvas.measure(label, Weight::Regular, SIZE);
        if i > 0 && x + need > right && y == LEGEND_Y {
            x = MARGIN;
            y = LEGEND_Y - SIZE * 1.5;
        }
        if let Some(rgb) = fill {
            canvas.fill(x, y - 1.5, 8.0, 8.0, *rgb);
            canvas.frame(x, y - 1.5, 8.0, 8.0, 0.4, 120);
        }
        let room = (right - x - swatch).max(0.0);
        let w = canvas.text(
            label,
            Weight::Regular,
            SIZE,
            x + swatch,
            y,
            room,
            Align::Left,
        );
        x += swatch + w + GAP;
    }
}

/// Adds "Page n of N" and a label to the foot of every page.
fn draw_footers(canvas: &mut Canvas, label: &str) {
    let total = canvas.page_count();
    let width = canvas.width - 2.0 * MARGIN;
    let y = MARGIN - 16.0;
    for page in 0..total {
        canvas.select_page(page);
        let number = format!("Page {} of {}", page + 1, total);
        let w = canvas.measure(&number, Weight::Regular, FOOTER_SIZE);
        canvas.text(
            &number,
            Weight::Regular,
            FOOTER_SIZE,
            MARGIN,
            y,
            width,
            Align::Right,
        );
        canvas.text_coloured(
            label,
            Weight::Regular,
            FOOTER_SIZE,
            (MARGIN, y, width - w - 12.0),
            Align::Left,
            (90, 90, 90),
        );
    }
}

/// A time as shown in the reports.
fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "generated ..., as of ..." for a header.
fn generated(generated_at: DateTime<Utc>, as_of: Option<DateTime<Utc>>) -> String {
    match as_of {
        Some(as_of) => format!("generated {} · as of {}", time(generated_at), time(as_of)),
        None => format!("generated {}", time(generated_at)),
    }
}

/// A rate as in the CSV (two decimals), blank when there is none.
fn rate(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.2}")).unwrap_or_default()
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// Runs a renderer, turning a panic in the shaping or PDF libraries (on some unforeseen
/// text) into an error rather than taking the caller down.
fn guard(render: impl FnOnce() -> Result<Vec<u8>, ReportError>) -> Result<Vec<u8>, ReportError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(render))
        .unwrap_or_else(|_| Err(ReportError::render("pdf", "the PDF renderer failed")))
}

impl ReportFormat for PdfFormat {
    fn name(&self) -> &'static str {
        "pdf"
    }

    fn extension(&self) -> &'static str {
        "pdf"
    }

    fn content_type(&self) -> &'static str {
        "application/pdf"
    }

    fn render_student(&self, report: &StudentReport) -> Result<Vec<u8>, ReportError> {
        guard(|| listing::student(self, report))
    }

    fn render_course(&self, report: &CourseReport) -> Result<Vec<u8>, ReportError> {
        guard(|| course::render(self, report))
    }

    fn render_at_risk(&self, report: &AtRiskReport) -> Result<Vec<u8>, ReportError> {
        guard(|| listing::at_risk(self, report))
    }

    fn render_department(&self, report: &DepartmentReport) -> Result<Vec<u8>, ReportError> {
        guard(|| department::render(self, report))
    }
}
