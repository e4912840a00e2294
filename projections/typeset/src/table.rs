//! Tables: a header row and rows of single-line cells, drawn on one page at a time (the
//! callers paginate and repeat the header on every page).

use crate::canvas::{Align, Canvas, Rgb8};
use crate::text::Weight;

/// Cell padding (pt).
pub const PAD: f32 = 2.5;
/// Header background.
const HEADER_FILL: Rgb8 = (232, 232, 232);
/// Totals rows background.
pub const TOTALS_FILL: Rgb8 = (242, 242, 242);

/// A column.
pub struct Column {
    /// Header text.
    pub title: String,
    /// Second header line (rotated headers only).
    pub subtitle: String,
    /// Width (pt).
    pub width: f32,
    /// Alignment of the cells.
    pub align: Align,
    /// Header text read upwards (narrow columns).
    pub rotated: bool,
}

impl Column {
    /// A column with a horizontal header.
    pub fn new(title: &str, width: f32, align: Align) -> Self {
        Column {
            title: title.to_string(),
            subtitle: String::new(),
            width,
            align,
            rotated: false,
        }
    }

    /// A column with a header read upwards.
    pub fn rotated(title: &str, subtitle: &str, width: f32, align: Align) -> Self {
        Column {
            title: title.to_string(),
            subtitle: subtitle.to_string(),
            width,
            align,
            rotated: true,
        }
    }
}

/// A row.
#[derive(Default)]
pub struct Row {
    /// One text per column (missing ones are blank).
    pub cells: Vec<String>,
    /// Background.
    pub fill: Option<Rgb8>,
    /// Bold text.
    pub bold: bool,
    /// A stronger line above.
    pub separator: bool,
}

/// Sizes of a table.
pub struct Style {
    /// Text size (pt).
    pub size: f32,
    /// Row height (pt).
    pub row_height: f32,
    /// Header row height (pt).
    pub header_height: f32,
}

impl Style {
    /// How many rows fit between `top` and `bottom` under the header (at least one).
    pub fn rows_per_page(&self, top: f32, bottom: f32) -> usize {
        let room = top - bottom - self.header_height;
        ((room / self.row_height).floor() as usize).max(1)
    }
}

/// Draws the header row and `rows` on the current page with the columns `cols` (indices
/// into `columns` and into each row's cells), the top left corner at `(x, top)`.
pub fn draw(
    canvas: &mut Canvas,
    columns: &[Column],
    cols: &[usize],
    rows: &[Row],
    (x, top): (f32, f32),
    style: &Style,
) {
    let cols: Vec<usize> = cols
        .iter()
        .copied()
        .filter(|c| *c < columns.len())
        .collect();
    let width: f32 = cols.iter().map(|c| columns[*c].width).sum();
    let size = style.size;
    let header_bottom = top - style.header_height;
    let bottom = header_bottom - rows.len() as f32 * style.row_height;
    // Header.
    canvas.fill(x, header_bottom, width, style.header_height, HEADER_FILL);
    let mut cx = x;
    for &c in &cols {
        let col = &columns[c];
        if col.rotated {
            let len = style.header_height - 2.0 * PAD;
            let small = size - 0.5;
            let step = small * 1.2;
            if col.subtitle.is_empty() {
                let base = cx + col.width / 2.0 + small * 0.36;
                canvas.text_up(
                    &col.title,
                    Weight::Bold,
                    small,
                    base,
                    header_bottom + PAD,
                    len,
                );
            } else {
                let base = cx + col.width / 2.0 + small * 0.36 - step / 2.0;
                canvas.text_up(
                    &col.title,
                    Weight::Regular,
                    small,
                    base,
                    header_bottom + PAD,
                    len,
                );
                canvas.text_up(
                    &col.subtitle,
                    Weight::Regular,
                    small,
                    base + step,
                    header_bottom + PAD,
                    len,
                );
            }
        } else {
            canvas.text(
                &col.title,
                Weight::Bold,
                size,
                cx + PAD,
                header_bottom + PAD + 1.0,
                col.width - 2.0 * PAD,
                col.align,
            );
        }
        cx += col.width;
    }
    // Rows.
    for (i, row) in rows.iter().enumerate() {
        let row_top = header_bottom - i as f32 * style.row_height;
        let row_bottom = row_top - style.row_height;
        if let Some(rgb) = row.fill {
            canvas.fill(x, row_bottom, width, style.row_height, rgb);
        }
        let baseline = row_bottom + (style.row_height - size * 0.72) / 2.0;
        let weight = if row.bold {
            Weight::Bold
        } else {
            Weight::Regular
        };
        let mut cx = x;
        for &c in &cols {
            let col = &columns[c];
            if let Some(text) = row.cells.get(c).filter(|t| !t.is_empty()) {
                let room = col.width - 2.0 * PAD;
                // Figures (right-aligned or centred) shrink to fit rather than lose digits;
                // text is cut with an ellipsis.
                let size = if col.align == Align::Left {
                    size
                } else {
                    let width = canvas.measure(text, weight, size);
                    if width > room {
                        (size * room / width).max(size * 0.6)
                    } else {
                        size
                    }
                };
                canvas.text(text, weight, size, cx + PAD, baseline, room, col.align);
            }
            cx += col.width;
        }
        if i > 0 {
            let (w, grey) = if row.separator {
                (0.8, 90)
            } else {
                (0.25, 200)
            };
            canvas.line((x, row_top), (x + width, row_top), w, grey);
        }
    }
    // Grid.
    let mut cx = x;
    for (n, &c) in cols.iter().enumerate() {
        if n > 0 {
            canvas.line((cx, top), (cx, bottom), 0.25, 170);
        }
        cx += columns[c].width;
    }
    canvas.line((x, header_bottom), (x + width, header_bottom), 0.6, 90);
    canvas.frame(x, bottom, width, top - bottom, 0.6, 90);
}
