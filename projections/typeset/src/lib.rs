//! PDF typesetting shared by the reports (`projections::reports::pdf`) and the bubble sheets
//! (`sheets::generate`): pages of fills, lines, circles and shaped text in any script, fonts
//! embedded and subset, and tables that repeat their header over pages.
//!
//! - [`canvas`]: the page surface; finishes into PDF bytes (printpdf 0.12, op by op).
//! - [`text`]: shaping (allsorts) with DejaVu Sans, Droid Sans Fallback (Chinese, Japanese)
//!   and Nanum Gothic (Korean) chosen per character run; bidi reordering, Arabic joining.
//! - [`table`]: columns, rows and pagination of a table on a canvas.
//! - [`Drawing`]: the small surface the sheets draw on.
//!
//! Pure: values in, bytes out. Knows nothing of attendance.

pub mod canvas;
mod emit;
mod item;
pub mod table;
pub mod text;

pub use canvas::{Align, Canvas, Rgb8};
pub use text::Weight;

/// Typesetting failed (a font did not load, printpdf refused the document).
#[derive(Debug, thiserror::Error)]
#[error("typesetting the PDF failed: {0}")]
pub struct TypesetError(pub String);

/// A plain drawing surface for other documents (the bubble sheets): A4 portrait pages of
/// rectangles, lines, circles and text in any script, in points from the bottom left.
pub struct Drawing {
    canvas: Canvas,
}

impl Drawing {
    /// An empty A4 portrait document.
    pub fn a4() -> Result<Drawing, TypesetError> {
        Ok(Drawing {
            canvas: Canvas::new(210.0, 297.0)?,
        })
    }

    /// Page width and height (pt).
    pub fn size(&self) -> (f32, f32) {
        (self.canvas.width, self.canvas.height)
    }

    /// Starts a new page and draws on it.
    pub fn add_page(&mut self) {
        self.canvas.add_page();
    }

    /// A filled rectangle in a grey (0 is black).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, grey: u8) {
        self.canvas.fill(x, y, w, h, (grey, grey, grey));
    }

    /// A straight line.
    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, grey: u8) {
        self.canvas.line(from, to, width, grey);
    }

    /// A circle's outline.
    pub fn circle(&mut self, centre: (f32, f32), r: f32, width: f32, grey: u8) {
        self.canvas.circle(centre, r, width, grey, false);
    }

    /// Text on a baseline `y` in the box from `x` to `x + w`, cut with an ellipsis if it
    /// does not fit; returns the width drawn.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        text: &str,
        bold: bool,
        size: f32,
        x: f32,
        y: f32,
        w: f32,
        align: Align,
    ) -> f32 {
        let weight = if bold { Weight::Bold } else { Weight::Regular };
        self.canvas.text(text, weight, size, x, y, w, align)
    }

    /// The PDF.
    pub fn finish(self, title: &str) -> Result<Vec<u8>, TypesetError> {
        self.canvas.finish(title)
    }
}
