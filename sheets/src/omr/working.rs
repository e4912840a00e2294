//! The working image: the scan at about 150 dpi, upright or upside down, with its contrast
//! stretched so that paper is [`PAPER`] and ink is [`INK`] whatever the scanner did.

use super::ReadError;
use crate::layout::{PAGE_HEIGHT, PAGE_WIDTH};
use image::GrayImage;
use std::borrow::Cow;

/// Grey level of paper in the working image (headroom above it keeps noise unclipped).
pub(crate) const PAPER: u8 = 230;
/// Grey level of ink in the working image.
pub(crate) const INK: u8 = 10;
/// Pixels per point the working image aims at (150 dpi); never less unless the scan is.
const TARGET_SCALE: f32 = 150.0 / 72.0;
/// Below 72 dpi a bubble is too few pixels to judge.
const MIN_SCALE: f32 = 1.0;
/// A scan whose ink is not this much darker than its paper has nothing printed on it.
const MIN_CONTRAST: u8 = 40;

/// The scan, reduced and normalised.
pub(crate) struct Working {
    /// The image every position refers to.
    pub image: GrayImage,
    /// Pixels per point, assuming the image shows the whole A4 page.
    pub scale_guess: f32,
}

/// Reduces a scan to the working image.
pub(crate) fn prepare(source: &GrayImage) -> Result<Working, ReadError> {
    let source = if source.width() > source.height() {
        Cow::Owned(image::imageops::rotate90(source))
    } else {
        Cow::Borrowed(source)
    };
    let (w, h) = source.dimensions();
    let scale = ((w as f32 * h as f32) / (PAGE_WIDTH * PAGE_HEIGHT)).sqrt();
    if scale < MIN_SCALE {
        return Err(ReadError::TooSmall {
            width: w,
            height: h,
        });
    }
    let (ink, paper) = ink_and_paper(&source);
    if paper.saturating_sub(ink) < MIN_CONTRAST {
        return Err(ReadError::NoFiducials);
    }
    let lut = stretch(ink, paper);
    let k = ((scale / TARGET_SCALE + 0.15).floor() as u32).max(1);
    Ok(Working {
        image: reduce(&source, k, &lut),
        scale_guess: scale / k as f32,
    })
}

/// Ink and paper grey levels: a low and the middle percentile of a sample of pixels (a
/// sheet is mostly paper, and its corner marks and QR code are solid ink).
fn ink_and_paper(image: &GrayImage) -> (u8, u8) {
    let mut histogram = [0u32; 256];
    let (w, h) = image.dimensions();
    for y in (0..h).step_by(3) {
        for x in (0..w).step_by(3) {
            histogram[image.get_pixel(x, y).0[0] as usize] += 1;
        }
    }
    let total: u32 = histogram.iter().sum();
    let percentile = |p: f32| {
        let target = (total as f32 * p) as u32;
        let mut seen = 0;
        for (level, count) in histogram.iter().enumerate() {
            seen += count;
            if seen > target {
                return level as u8;
            }
        }
        255
    };
    (percentile(0.003), percentile(0.5))
}

/// The grey-level map taking `ink` to [`INK`] and `paper` to [`PAPER`].
fn stretch(ink: u8, paper: u8) -> [u8; 256] {
    let gain = f32::from(PAPER - INK) / f32::from(paper - ink).max(1.0);
    std::array::from_fn(|v| {
        let out = f32::from(INK) + (v as f32 - f32::from(ink)) * gain;
        out.round().clamp(0.0, 255.0) as u8
    })
}

/// Averages `k × k` blocks and maps each through `lut`.
pub(crate) fn reduce(source: &GrayImage, k: u32, lut: &[u8; 256]) -> GrayImage {
    let (w, h) = (source.width() / k, source.height() / k);
    let stride = source.width() as usize;
    let raw = source.as_raw();
    let (k, area) = (k as usize, k * k);
    let mut out = Vec::with_capacity(w as usize * h as usize);
    let mut sums = vec![0u32; w as usize];
    for y in 0..h as usize {
        sums.fill(0);
        for row in raw[y * k * stride..].chunks(stride).take(k) {
            for (sum, block) in sums.iter_mut().zip(row.chunks_exact(k)) {
                *sum += block.iter().map(|&v| u32::from(v)).sum::<u32>();
            }
        }
        out.extend(sums.iter().map(|&s| lut[(s / area) as usize]));
    }
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| GrayImage::new(w, h))
}

/// The grey level at a point by bilinear interpolation; paper outside the image.
pub(crate) fn bilinear(image: &GrayImage, (u, v): (f32, f32)) -> f32 {
    let (x, y) = (u - 0.5, v - 0.5);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |dx: f32, dy: f32| {
        let (px, py) = (x0 + dx, y0 + dy);
        if px < 0.0 || py < 0.0 || px >= image.width() as f32 || py >= image.height() as f32 {
            f32::from(PAPER)
        } else {
            f32::from(image.get_pixel(px as u32, py as u32).0[0])
        }
    };
    let top = at(0.0, 0.0) * (1.0 - fx) + at(1.0, 0.0) * fx;
    let bottom = at(0.0, 1.0) * (1.0 - fx) + at(1.0, 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_is_stretched_to_the_working_levels() {
        let lut = stretch(40, 200);
        assert_eq!(lut[40], INK);
        assert_eq!(lut[200], PAPER);
        assert_eq!(lut[0], 0);
        assert_eq!(lut[255], 255);
    }

    #[test]
    fn a_300_dpi_scan_is_halved_and_a_200_dpi_scan_kept() {
        let page = |dpi: f32| {
            let s = dpi / 72.0;
            let mut image = GrayImage::from_pixel(
                (PAGE_WIDTH * s) as u32,
                (PAGE_HEIGHT * s) as u32,
                image::Luma([235]),
            );
            for (x, y) in (0..200).flat_map(|x| (0..200).map(move |y| (x, y))) {
                image.put_pixel(x, y, image::Luma([20]));
            }
            image
        };
        let working = prepare(&page(300.0)).expect("a page with ink");
        assert_eq!(
            working.image.width(),
            (PAGE_WIDTH * 300.0 / 72.0) as u32 / 2
        );
        assert!((working.scale_guess - 150.0 / 72.0).abs() < 0.01);
        let working = prepare(&page(200.0)).expect("a page with ink");
        assert!((working.scale_guess - 200.0 / 72.0).abs() < 0.01);
        assert_eq!(working.image.get_pixel(500, 500).0[0], PAPER);
    }
}
