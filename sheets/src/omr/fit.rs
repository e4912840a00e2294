//! The page's map: first from the corner marks, then refined by least squares over every
//! bubble ring the page prints, and checked.
//!
//! The corner marks give a first map: affine when they sit as a scanner puts them (exactly
//! as before photos were read), else perspective, found near the image's corners or anywhere
//! in a photo, else through three marks. Each ring of the page's rows is then looked for near
//! where that map puts it, the map is fitted again to the marks and the rings seen, and the
//! rings looked for once more, closer. A page is refused whole when its marks and rings do
//! not fit one flat page (too tilted, curled, folded) or when rings are seen where the sheet
//! prints none (its rows are shifted: another layout, a scaled print, a fold).

use super::homography::{Homography, distance};
use super::rings::{self, Ring};
use super::transform::Correspondence;
use super::{ReadError, anywhere, fiducials};
use crate::layout::{self, fiducial_centres, row_bubbles};
use image::GrayImage;

/// How far from the first map's prediction a ring is looked for (pt).
const FIRST_REACH: f32 = 5.0;
/// How far from the refined map's prediction a ring is looked for (pt): room for a slight
/// curl of the paper, less than half the gap between two bubbles' outlines.
const SECOND_REACH: f32 = 3.0;
/// Share of a page's rings that must be seen for its map to be trusted.
const MIN_SEEN: f32 = 0.5;
/// Largest distance (pt) between a corner mark and where the refined map puts it.
const MAX_MARK_RESIDUAL: f32 = 4.0;
/// Largest root-mean-square distance (pt) between the rings seen and the refined map.
const MAX_RING_RMS: f32 = 1.5;

/// The refined map of an upright page and its rings, row by row.
pub(crate) struct Fitted {
    pub map: Homography,
    pub rings: Vec<[Ring; 3]>,
}

/// The first maps for an upright page, from its corner marks, most likely first: the four
/// marks as a scanner puts them (affine), a perspective map of four marks found near the
/// image's corners or anywhere in a photo, then through three marks (a torn or folded
/// corner). Each is made only when the ones before it did not give a page that fits.
pub(crate) fn initial(image: &GrayImage, scale_guess: f32) -> impl Iterator<Item = Homography> {
    let found = fiducials::find(image, scale_guess);
    let mut next = 0;
    std::iter::from_fn(move || {
        while next < 4 {
            next += 1;
            let map = match next {
                1 => fiducials::fit_four(&found, scale_guess).map(Homography::from),
                2 => anywhere::find(image, scale_guess),
                3 => fiducials::fit_perspective(&found, scale_guess),
                _ => fiducials::fit_three(&found, scale_guess).map(Homography::from),
            };
            if map.is_some() {
                return map;
            }
        }
        None
    })
}

/// Refines `first` (the map of the page as read, upright) with the rings of its `rows` rows.
pub(crate) fn refine(
    image: &GrayImage,
    first: &Homography,
    rows: usize,
    ink: f32,
) -> Result<Fitted, ReadError> {
    let anchors: Vec<Correspondence> = fiducial_centres()
        .iter()
        .map(|&p| (p, first.apply(p)))
        .collect();
    if rows == 0 {
        return Ok(Fitted {
            map: *first,
            rings: Vec::new(),
        });
    }
    let rough = search_rows(image, first, 0..rows, FIRST_REACH, ink);
    let map = fit_to(&anchors, &rough).unwrap_or(*first);
    let rings = search_rows(image, &map, 0..rows, SECOND_REACH, ink);
    let map = fit_to(&anchors, &rings).ok_or(ReadError::Distorted)?;
    check(&map, &anchors, &rings)?;
    // Rings one row above the first or below the last: the rows are not where they print.
    let above = layout::row_y(0) + layout::ROW_PITCH;
    for y in [above, layout::row_y(rows)] {
        let seen = row_bubbles(0)
            .iter()
            .filter(|b| {
                rings::search(image, &map, (b.x, y), SECOND_REACH, ink)
                    .found
                    .is_some()
            })
            .count();
        if seen >= 2 {
            return Err(ReadError::Misplaced);
        }
    }
    Ok(Fitted { map, rings })
}

/// Looks for the rings of rows `range` (0-based).
fn search_rows(
    image: &GrayImage,
    t: &Homography,
    range: std::ops::Range<usize>,
    reach: f32,
    ink: f32,
) -> Vec<[Ring; 3]> {
    range
        .map(|i| row_bubbles(i).map(|b| rings::search(image, t, (b.x, b.y), reach, ink)))
        .collect()
}

/// The rings seen, as correspondences from their layout centres.
fn seen(rings: &[[Ring; 3]]) -> Vec<Correspondence> {
    rings
        .iter()
        .enumerate()
        .flat_map(|(i, row)| {
            row_bubbles(i)
                .into_iter()
                .zip(row)
                .filter_map(|(b, ring)| ring.found.map(|f| ((b.x, b.y), f)))
        })
        .collect()
}

/// The least-squares map through the marks and the rings seen, fitted again without the
/// rings far from the first fit (a ring a smudge misled).
fn fit_to(anchors: &[Correspondence], rings: &[[Ring; 3]]) -> Option<Homography> {
    let seen = seen(rings);
    let all: Vec<_> = anchors.iter().chain(&seen).copied().collect();
    let first = Homography::fit(&all)?;
    let mut residuals: Vec<f32> = seen
        .iter()
        .map(|&(p, f)| distance(first.apply(p), f))
        .collect();
    let mid = residuals.len() / 2;
    let limit = match residuals.get(mid) {
        None => 0.0,
        Some(_) => {
            (3.0 * *residuals.select_nth_unstable_by(mid, f32::total_cmp).1).max(first.scale())
        }
    };
    let kept: Vec<_> = anchors
        .iter()
        .copied()
        .chain(
            seen.into_iter()
                .filter(|&(p, f)| distance(first.apply(p), f) <= limit),
        )
        .collect();
    Homography::fit(&kept).filter(Homography::is_plausible)
}

/// Whether the marks and rings fit one flat page well enough to trust it.
fn check(
    map: &Homography,
    anchors: &[Correspondence],
    rings: &[[Ring; 3]],
) -> Result<(), ReadError> {
    let seen = seen(rings);
    let expected = rings.len() * 3;
    let scale = map.scale();
    let rms = (seen
        .iter()
        .map(|&(p, f)| distance(map.apply(p), f).powi(2))
        .sum::<f32>()
        / seen.len().max(1) as f32)
        .sqrt();
    let fits = seen.len() as f32 >= MIN_SEEN * expected as f32
        && map.max_residual(anchors) <= MAX_MARK_RESIDUAL * scale
        && rms <= MAX_RING_RMS * scale;
    if fits {
        Ok(())
    } else {
        Err(ReadError::Distorted)
    }
}
