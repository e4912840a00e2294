//! Optical mark reading of one scanned page image.
//!
//! The scan or photo is reduced to a working image of about 150 dpi with its contrast
//! normalised (`working`); the four corner marks are found (`fiducials`, or `anywhere` in a
//! photo) and a map from layout points to pixels fitted to them (affine for a scan,
//! [`Homography`] for a photo); the QR code is read where it is for an upright page, else for
//! a page upside down (`qr`), which names the page and how many rows it has; the map is
//! refined by least squares over every bubble ring seen near its place and checked (`fit`,
//! `rings`); then each bubble's fill is measured where its ring was seen (`fill`) and each row
//! decided. A row is recorded only when every ring of the row was seen, and one bubble is
//! clearly filled and the others clearly empty (a mark), or all are clearly empty (absent);
//! anything else is held for a person, never guessed.

mod annotate;
mod anywhere;
mod fiducials;
mod fill;
mod fit;
mod homography;
mod qr;
mod rings;
mod transform;
pub(crate) mod working;

pub use annotate::annotate_png;
pub use homography::Homography;
pub use transform::{Affine, Correspondence};

use crate::layout::{self, QrError, QrPayload};
use domain::Status;
use image::GrayImage;
use std::fmt;

/// Where a bubble's fill score (0 = paper, 1 = solid ink) must fall to count as empty or as
/// filled; in between the bubble is unsure and its row is held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A bubble scoring below this is empty.
    pub empty_below: f32,
    /// A bubble scoring above this is filled.
    pub filled_above: f32,
}

impl Default for Thresholds {
    /// Tuned on 12,000 rows of the accuracy test's synthetic scans (`tests/omr.rs`), where
    /// blank bubbles score at most 0.001, erased smudges at most 0.15, pen ticks 0.09–0.36,
    /// light pencil from 0.31, sparse pen scribbles from 0.37, solid and part-filled bubbles
    /// from 0.9. Empty is below the faintest tick, so a tick is never read as absent; filled
    /// is well above any smudge and well below the sparsest scribble, so a tick is read or
    /// held and an erased mark is never read.
    fn default() -> Self {
        Thresholds {
            empty_below: 0.06,
            filled_above: 0.25,
        }
    }
}

impl Thresholds {
    /// The decision for one fill score.
    pub fn decide(&self, fill: f32) -> BubbleDecision {
        if fill < self.empty_below {
            BubbleDecision::Empty
        } else if fill > self.filled_above {
            BubbleDecision::Filled
        } else {
            BubbleDecision::Unsure
        }
    }

    /// How far a score is from the nearest threshold, as a share of the room on its side
    /// (0 when unsure, 1 for blank paper or solid ink).
    pub fn certainty(&self, fill: f32) -> f32 {
        let room = match self.decide(fill) {
            BubbleDecision::Empty => (self.empty_below - fill) / self.empty_below.max(1e-6),
            BubbleDecision::Filled => {
                (fill - self.filled_above) / (1.0 - self.filled_above).max(1e-6)
            }
            BubbleDecision::Unsure => 0.0,
        };
        room.clamp(0.0, 1.0)
    }
}

/// What one bubble looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BubbleDecision {
    /// Clearly not marked.
    Empty,
    /// Clearly marked.
    Filled,
    /// Neither: a faint, small or half-erased mark.
    Unsure,
}

/// One bubble as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BubbleRead {
    /// What filling it means.
    pub status: Status,
    /// Its fill score, 0 (paper) to 1 (solid ink).
    pub fill: f32,
    /// What the score means under the thresholds used.
    pub decision: BubbleDecision,
    /// Its centre in the working image (pixels).
    pub centre_px: (f32, f32),
    /// Its radius in the working image (pixels).
    pub radius_px: f32,
    /// Where its printed ring was seen, from where the page's map puts it (pt, x right and y
    /// up); `None` when it was not seen near there (then its row is held).
    pub ring_offset_pt: Option<(f32, f32)>,
}

/// Why a row is held for a person to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    /// More than one bubble is clearly filled.
    SeveralFilled,
    /// Some bubble is neither clearly filled nor clearly empty.
    Unsure,
    /// Some bubble's printed ring was not seen where it should be, so what was measured
    /// there may not be the bubble.
    RingNotSeen,
}

impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HoldReason::SeveralFilled => "two or more bubbles filled",
            HoldReason::Unsure => "a bubble is neither clearly filled nor clearly empty",
            HoldReason::RingNotSeen => {
                "a bubble's printed ring was not seen where it should be (a fold, a curl or a \
                 shadow there): check the row on the paper"
            }
        })
    }
}

/// What a row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowDecision {
    /// Exactly one bubble is filled and the others are empty.
    Mark(Status),
    /// Every bubble is empty.
    Absent,
    /// A person must look.
    Held(HoldReason),
}

/// Decides a row from its three bubbles; never guesses.
pub fn decide_row(bubbles: [BubbleDecision; 3]) -> RowDecision {
    let filled: Vec<usize> = (0..3)
        .filter(|&i| bubbles[i] == BubbleDecision::Filled)
        .collect();
    if filled.len() >= 2 {
        RowDecision::Held(HoldReason::SeveralFilled)
    } else if bubbles.contains(&BubbleDecision::Unsure) {
        RowDecision::Held(HoldReason::Unsure)
    } else if let Some(&i) = filled.first() {
        RowDecision::Mark(layout::BUBBLE_STATUS[i])
    } else {
        RowDecision::Absent
    }
}

/// One row as read.
#[derive(Debug, Clone, PartialEq)]
pub struct RowRead {
    /// The row on its page, from 1.
    pub row: u32,
    /// Present, late, excused.
    pub bubbles: [BubbleRead; 3],
    /// What the row says.
    pub decision: RowDecision,
    /// How far the least certain bubble is from the thresholds, 0 to 1.
    pub confidence: f32,
}

/// One page as read.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRead {
    /// What the page's QR code says.
    pub qr: QrPayload,
    /// Whether the page was scanned upside down.
    pub upside_down: bool,
    /// How far the page is turned in the scan (degrees, clockwise as seen), once upright.
    pub rotation_deg: f32,
    /// Pixels of the working image per point.
    pub scale: f32,
    /// The rows the QR code announces, in order.
    pub rows: Vec<RowRead>,
    /// Layout points to working-image pixels.
    pub transform: Homography,
    /// The working image every position refers to.
    pub working: GrayImage,
}

/// Why a page cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Under 72 dpi.
    #[error("the page image is too small to read ({width}×{height} pixels)")]
    TooSmall {
        /// Width (pixels).
        width: u32,
        /// Height (pixels).
        height: u32,
    },
    /// Fewer than three corner marks, or marks that do not outline a page.
    #[error("no corner marks found: not an attendance sheet, or badly cropped")]
    NoFiducials,
    /// No QR code where it should be, either way up.
    #[error("the QR code could not be read")]
    NoQr,
    /// A QR code that is not one of ours.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// The corner marks and the bubbles' rings do not fit one flat page.
    #[error(
        "the photo is too tilted or the page is curled: retake it from straight above, with \
         the page flat"
    )]
    Distorted,
    /// Rings where the sheet prints none: the rows are not where this sheet has them.
    #[error(
        "the rows are not where this sheet prints them (printed scaled or shifted, another \
         sheet's layout, or folded): print the sheet at actual size and retake it"
    )]
    Misplaced,
}

/// Reads one page image (grey, any resolution from 72 dpi, upright or upside down, a scan
/// or a photo).
pub fn read_page(image: &GrayImage, thresholds: &Thresholds) -> Result<PageRead, ReadError> {
    let work = working::prepare(image)?;
    let mut first_error = None;
    for upright in fit::initial(&work.image, work.scale_guess) {
        match read_with(&work, upright, thresholds) {
            Ok(read) => return Ok(read),
            // A map that does not fit its page (a false mark taken for a corner): the next.
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    Err(first_error.unwrap_or(ReadError::NoFiducials))
}

/// Reads the page through one first map of it, upright.
fn read_with(
    work: &working::Working,
    upright: Homography,
    thresholds: &Thresholds,
) -> Result<PageRead, ReadError> {
    let levels = fill::Levels::measure(&work.image, &upright);
    let (qr, upside_down) = qr::read(&work.image, &upright, &levels)?;
    let first = if upside_down {
        upright.rotated_180()
    } else {
        upright
    };
    let fitted = fit::refine(&work.image, &first, qr.rows as usize, levels.ink)?;
    let rows = fitted
        .rings
        .iter()
        .enumerate()
        .map(|(i, rings)| read_row(&work.image, &fitted.map, &levels, thresholds, i, rings))
        .collect();
    Ok(PageRead {
        qr,
        upside_down,
        rotation_deg: upright.rotation_deg(),
        scale: fitted.map.scale(),
        rows,
        transform: fitted.map,
        working: work.image.clone(),
    })
}

fn read_row(
    image: &GrayImage,
    t: &Homography,
    levels: &fill::Levels,
    thresholds: &Thresholds,
    index: usize,
    rings: &[rings::Ring; 3],
) -> RowRead {
    let back = t.invert();
    let mut i = 0;
    let bubbles = layout::row_bubbles(index).map(|bubble| {
        let ring = rings[i];
        i += 1;
        // Measured where the ring was seen, else where the map puts it.
        let seen = ring.found.zip(back).map(|(found, back)| back.apply(found));
        let at = seen.map_or(bubble, |(x, y)| layout::Bubble { x, y, ..bubble });
        let measured = fill::measure(image, t, &at, levels);
        BubbleRead {
            status: bubble.status,
            fill: measured.fill,
            decision: thresholds.decide(measured.fill),
            centre_px: measured.centre,
            radius_px: measured.radius,
            ring_offset_pt: seen.map(|(x, y)| (x - bubble.x, y - bubble.y)),
        }
    });
    let mut decision = decide_row(bubbles.map(|b| b.decision));
    if !matches!(decision, RowDecision::Held(_))
        && bubbles.iter().any(|b| b.ring_offset_pt.is_none())
    {
        decision = RowDecision::Held(HoldReason::RingNotSeen);
    }
    RowRead {
        row: index as u32 + 1,
        decision,
        confidence: bubbles
            .iter()
            .map(|b| thresholds.certainty(b.fill))
            .fold(1.0, f32::min),
        bubbles,
    }
}

#[cfg(test)]
mod tests;
