//! How much of a bubble is inked: a fill score from 0 (paper) to 1 (solid ink).
//!
//! The score is measured inside a disc of [`INNER`] of the bubble's radius, clear of the
//! printed outline even when the page is a point off, relative to the paper just outside the
//! bubble (so uneven scanner lighting does not read as a mark). Each pixel counts by how dark
//! it is between a faint smudge (nothing) and firm pencil (everything), so a faint erased
//! mark scores near 0 and a thin pen tick scores well above it.

use super::homography::Homography;
use super::working::{INK, PAPER};
use crate::layout::{Bubble, FIDUCIAL_SIDE};
use image::GrayImage;

/// Radius of the measured disc, as a share of the bubble's radius.
const INNER: f32 = 0.65;
/// The ring where the local paper level is taken (pt from the bubble's centre): outside the
/// outline, inside the row's separator lines.
const PAPER_RING: (f32, f32) = (8.8, 10.2);
/// Darkness (share of paper-to-ink) a pixel needs to count at all: more than an erased smudge.
const KNEE: f32 = 0.15;
/// Darkness above the knee at which a pixel counts fully: a firm pencil stroke.
const SPAN: f32 = 0.4;
/// How much darker than the page's paper the local paper may be taken to be: a mark spilling
/// over the ring must not lower the paper level enough to hide itself.
const MAX_SHADE: f32 = 0.15;

/// The page's paper and ink grey levels in the working image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Levels {
    pub paper: f32,
    pub ink: f32,
}

impl Levels {
    /// Paper is the page's median grey; ink is measured inside the corner marks.
    pub(crate) fn measure(image: &GrayImage, t: &Homography) -> Levels {
        let mut sample: Vec<u8> = image.as_raw().iter().step_by(7).copied().collect();
        let paper = median(&mut sample).unwrap_or(PAPER);
        let half = FIDUCIAL_SIDE * 0.3;
        let mut inks: Vec<u8> = crate::layout::fiducial_centres()
            .iter()
            .filter_map(|&(x, y)| {
                let mut inside = pixels_in(image, t, (x, y), |dx, dy| {
                    dx.abs() <= half && dy.abs() <= half
                });
                median(&mut inside)
            })
            .collect();
        inks.sort_unstable();
        // The second darkest mark: one may be damaged or missing.
        let ink = inks.get(1).or(inks.first()).copied().unwrap_or(INK);
        let ink = if paper.saturating_sub(ink) < 40 {
            INK
        } else {
            ink
        };
        Levels {
            paper: f32::from(paper),
            ink: f32::from(ink),
        }
    }
}

/// A bubble as measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Measured {
    pub fill: f32,
    pub centre: (f32, f32),
    pub radius: f32,
}

/// Measures one bubble.
pub(crate) fn measure(
    image: &GrayImage,
    t: &Homography,
    bubble: &Bubble,
    levels: &Levels,
) -> Measured {
    let inner = bubble.r * INNER;
    let disc = pixels_in(image, t, (bubble.x, bubble.y), |dx, dy| {
        dx * dx + dy * dy <= inner * inner
    });
    let (lo, hi) = PAPER_RING;
    let mut ring = pixels_in(image, t, (bubble.x, bubble.y), |dx, dy| {
        (lo * lo..=hi * hi).contains(&(dx * dx + dy * dy))
    });
    let floor = levels.paper - MAX_SHADE * (levels.paper - levels.ink);
    let paper = median(&mut ring).map_or(levels.paper, f32::from).max(floor);
    let range = (paper - levels.ink).max(1.0);
    let total: f32 = disc
        .iter()
        .map(|&v| (((paper - f32::from(v)) / range - KNEE) / SPAN).clamp(0.0, 1.0))
        .sum();
    Measured {
        fill: if disc.is_empty() {
            0.0
        } else {
            total / disc.len() as f32
        },
        centre: t.apply((bubble.x, bubble.y)),
        radius: bubble.r * t.scale_at((bubble.x, bubble.y)),
    }
}

/// The pixels whose centres, mapped back to the page, lie at an offset `(dx, dy)` (pt) from
/// `centre` for which `inside` holds.
fn pixels_in(
    image: &GrayImage,
    t: &Homography,
    centre: (f32, f32),
    inside: impl Fn(f32, f32) -> bool,
) -> Vec<u8> {
    let Some(back) = t.invert() else {
        return Vec::new();
    };
    let (cu, cv) = t.apply(centre);
    let reach = 11.0 * t.scale_at(centre) * 1.1;
    let (w, h) = image.dimensions();
    let x_range = (cu - reach).max(0.0) as u32..((cu + reach).max(0.0) as u32).min(w);
    let y_range = (cv - reach).max(0.0) as u32..((cv + reach).max(0.0) as u32).min(h);
    let mut out = Vec::new();
    for y in y_range {
        for x in x_range.clone() {
            let (px, py) = back.apply((x as f32 + 0.5, y as f32 + 0.5));
            if inside(px - centre.0, py - centre.1) {
                out.push(image.get_pixel(x, y).0[0]);
            }
        }
    }
    out
}

fn median(values: &mut [u8]) -> Option<u8> {
    if values.is_empty() {
        return None;
    }
    let mid = values.len() / 2;
    Some(*values.select_nth_unstable(mid).1)
}
