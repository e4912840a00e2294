//! Synthetic scanned sheets with known answers, for the accuracy test, the benchmark and the
//! integration tests.
//!
//! A page is drawn clean from the layout ([`clean_page`]), marked the ways people mark
//! bubbles ([`Fill`], [`draw_fill`]), then scanned ([`scan`]: turned, shifted, scaled, maybe
//! upside down, blurred, noisy) and stored as a scanner would ([`Encoding`], [`wrap_pdf`]),
//! or photographed as a phone would ([`photograph`]: keystone, turn, curl, shadow, ink
//! colour, desk, defocus, JPEG).
//! [`expect`] says what a reader may answer for each row, [`Tally`] counts the answers, and
//! [`samples`] makes a varied, reproducible batch of pages.

//! It is part of the library (not only of the tests) so that `attendance bench` can upload
//! realistic scans.

mod batch;
mod canvas;
mod marks;
mod page;
mod pdf;
mod phone;
mod scan;
mod tally;

pub use batch::{DPIS, Made, Sample, roster, samples};
pub use canvas::Canvas;
pub use marks::{Fill, draw_fill};
pub use page::clean_page;
pub use pdf::wrap_pdf;
pub use phone::{Edge, Ink, PhoneOptions, photograph, render};
pub use scan::{Encoding, ScanOptions, bitonal_threshold, encode, round_trip, scan};
pub use tally::{BubbleTally, RowTally, Tally};

use crate::PageLayout;
use crate::layout::{BUBBLE_STATUS, PAGE_HEIGHT, PAGE_WIDTH, fiducial_centres};
use crate::omr::{HoldReason, RowDecision};
use domain::Status;
use image::GrayImage;
use rand::Rng;

/// The fills of one row's bubbles: present, late, excused.
pub type RowFills = [Fill; 3];

/// A page marked with `fills` (one entry per row, missing rows empty) and scanned.
pub fn scan_page(
    page: &PageLayout,
    fills: &[RowFills],
    options: &ScanOptions,
    rng: &mut impl Rng,
) -> GrayImage {
    let clean = clean_page(page, options.dpi, rng);
    let mut canvas = Canvas {
        image: clean,
        scale: options.dpi / 72.0,
    };
    if let Some(corner) = options.torn_corner {
        tear(&mut canvas, corner, rng);
    }
    for (row, row_fills) in page.rows.iter().zip(fills) {
        for (bubble, &fill) in row.bubbles.iter().zip(row_fills) {
            draw_fill(&mut canvas, bubble, fill, rng);
        }
    }
    scan(&canvas.image, options, rng)
}

/// Tears off the page's corner `corner` (as in `fiducial_centres`) along a diagonal through
/// its corner mark, taking a tenth to two thirds of the mark.
pub fn tear(canvas: &mut Canvas, corner: usize, rng: &mut impl Rng) {
    let Some(&(fx, fy)) = fiducial_centres().get(corner) else {
        return;
    };
    let (w, h) = (PAGE_WIDTH, PAGE_HEIGHT);
    // Distance along the diagonal from the page's corner: the mark spans 46 to 90 pt.
    let cut = rng.random_range(60.0..85.0);
    let (right, top) = (fx > w / 2.0, fy > h / 2.0);
    let reach = cut + 1.0;
    let bbox = (
        if right { w - reach } else { 0.0 },
        if top { h - reach } else { 0.0 },
        if right { w } else { reach },
        if top { h } else { reach },
    );
    canvas.clear(bbox, |x, y| {
        let dx = if right { w - x } else { x };
        let dy = if top { h - y } else { y };
        dx + dy < cut
    });
}

/// What a reader may answer for a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this: one clear mark.
    Mark(Status),
    /// Exactly absent: nothing on the row.
    Absent,
    /// Held because several bubbles are clearly filled.
    SeveralFilled,
    /// This status, or held: a faint mark, or a clear one beside an erased one.
    MarkOrHeld(Status),
    /// Absent or held: only erased marks.
    AbsentOrHeld,
}

impl Expect {
    /// Whether `decision` is acceptable.
    pub fn accepts(self, decision: RowDecision) -> bool {
        match (self, decision) {
            (Expect::Mark(s), RowDecision::Mark(r)) => s == r,
            (Expect::Absent, RowDecision::Absent) => true,
            (Expect::SeveralFilled, RowDecision::Held(HoldReason::SeveralFilled)) => true,
            (Expect::MarkOrHeld(s), RowDecision::Mark(r)) => s == r,
            (Expect::MarkOrHeld(_) | Expect::AbsentOrHeld, RowDecision::Held(_)) => true,
            (Expect::AbsentOrHeld, RowDecision::Absent) => true,
            _ => false,
        }
    }

    /// Whether `decision` records something other than the truth (a wrong mark or a wrong
    /// absence), the error that must never happen.
    pub fn is_wrong_recording(self, decision: RowDecision) -> bool {
        !matches!(decision, RowDecision::Held(_)) && !self.accepts(decision)
    }
}

/// What a reader may answer for a row marked with `fills`.
pub fn expect(fills: &RowFills) -> Expect {
    let clear: Vec<usize> = (0..3).filter(|&i| fills[i].is_clear()).collect();
    let faint: Vec<usize> = (0..3).filter(|&i| fills[i].is_faint()).collect();
    let erased = fills.contains(&Fill::Erased);
    match (clear.as_slice(), faint.as_slice()) {
        ([], []) if erased => Expect::AbsentOrHeld,
        ([], []) => Expect::Absent,
        ([i], []) if !erased => Expect::Mark(BUBBLE_STATUS[*i]),
        ([i], []) | ([], [i]) => Expect::MarkOrHeld(BUBBLE_STATUS[*i]),
        (c, _) if c.len() >= 2 => Expect::SeveralFilled,
        // A clear and a faint mark, or two faint ones: anything but held would be a guess.
        _ => Expect::AbsentOrHeld,
    }
}

/// A short name for the kind of row, for reports.
pub fn row_kind(fills: &RowFills) -> String {
    let mut marks: Vec<&str> = fills
        .iter()
        .filter(|f| **f != Fill::Empty)
        .map(|f| f.name())
        .collect();
    marks.sort_unstable();
    match marks.len() {
        0 => "empty".to_string(),
        _ => marks.join("+"),
    }
}

/// A row as students fill them: mostly one mark of some kind, some empty, some erased and
/// re-marked, a few with two marks. `pencil` allows pencil (not on a bitonal scan, where
/// light grey is thresholded away).
pub fn random_row(rng: &mut impl Rng, pencil: bool) -> RowFills {
    let mut fills = [Fill::Empty; 3];
    let roll: f32 = rng.random();
    match roll {
        r if r < 0.16 => {}
        r if r < 0.52 => put(&mut fills, clear_mark(rng), rng),
        r if r < 0.62 => put(&mut fills, Fill::Tick, rng),
        r if r < 0.72 && pencil => put(&mut fills, Fill::Pencil, rng),
        r if r < 0.79 => put(&mut fills, Fill::Erased, rng),
        r if r < 0.92 => {
            put(&mut fills, Fill::Erased, rng);
            put(&mut fills, clear_mark(rng), rng);
        }
        _ => {
            put(&mut fills, clear_mark(rng), rng);
            put(&mut fills, clear_mark(rng), rng);
        }
    }
    fills
}

fn clear_mark(rng: &mut impl Rng) -> Fill {
    [Fill::Solid, Fill::Partial, Fill::Scribble][rng.random_range(0..3)]
}

/// Puts `fill` in a random empty bubble of the row.
fn put(fills: &mut RowFills, fill: Fill, rng: &mut impl Rng) {
    let free: Vec<usize> = (0..3).filter(|&i| fills[i] == Fill::Empty).collect();
    if !free.is_empty() {
        fills[free[rng.random_range(0..free.len())]] = fill;
    }
}
