//! Reading the QR code, which also tells which way up the page is.
//!
//! The code's square is cut out of the working image through the fitted map, so it arrives
//! upright, square and large enough whatever the scan's skew and resolution, and handed to
//! `rqrr`. A page upside down has rows, not a QR code, at that place: the other way up is
//! then tried.

use super::ReadError;
use super::fill::Levels;
use super::homography::Homography;
use super::working::bilinear;
use crate::layout::{QR_RECT, QrPayload};
use image::GrayImage;

/// Pixels per point of the cut-out: at least 5 pixels a module for any code that fits.
const CROP_SCALE: f32 = 3.0;
/// Paper kept around the code's square (pt), for a map a little off.
const CROP_MARGIN: f32 = 6.0;

/// The payload and whether the page is upside down, given the map for an upright page.
pub(crate) fn read(
    image: &GrayImage,
    upright: &Homography,
    levels: &Levels,
) -> Result<(QrPayload, bool), ReadError> {
    for (t, upside_down) in [(*upright, false), (upright.rotated_180(), true)] {
        if let Some(text) = decode_at(image, &t, levels) {
            return Ok((QrPayload::parse(&text)?, upside_down));
        }
    }
    Err(ReadError::NoQr)
}

/// The text of the QR code where `t` says it is, if one can be read there.
fn decode_at(image: &GrayImage, t: &Homography, levels: &Levels) -> Option<String> {
    let (crop, side) = cut_out(image, t);
    let threshold = (levels.paper + levels.ink) / 2.0;
    // rqrr can panic on degenerate finder-pattern groups (its issue #54: an assert in
    // geometry.rs, still in 0.11); an odd upload must give "no QR code", not a crash.
    std::panic::catch_unwind(|| {
        let mut global = rqrr::PreparedImage::prepare_from_bitmap(side, side, |x, y| {
            crop[y * side + x] < threshold
        });
        let found = global
            .detect_grids()
            .iter()
            .find_map(|grid| grid.decode().ok().map(|(_, text)| text));
        if found.is_some() {
            return found;
        }
        // Uneven toner or a heavy JPEG: let rqrr pick its own local threshold.
        let mut adaptive = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            crop[y * side + x].clamp(0.0, 255.0) as u8
        });
        adaptive
            .detect_grids()
            .iter()
            .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
    })
    .ok()
    .flatten()
}

/// The code's square, upright, as grey levels row by row, and its side in pixels.
fn cut_out(image: &GrayImage, t: &Homography) -> (Vec<f32>, usize) {
    let (left, bottom, size) = QR_RECT;
    let (x0, top) = (left - CROP_MARGIN, bottom + size + CROP_MARGIN);
    let side = ((size + 2.0 * CROP_MARGIN) * CROP_SCALE) as usize;
    let mut crop = Vec::with_capacity(side * side);
    for j in 0..side {
        for i in 0..side {
            let x = x0 + (i as f32 + 0.5) / CROP_SCALE;
            let y = top - (j as f32 + 0.5) / CROP_SCALE;
            crop.push(bilinear(image, t.apply((x, y))));
        }
    }
    (crop, side)
}
