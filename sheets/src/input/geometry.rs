//! Page geometry: the visible page box and its rotation, and whether a page is nothing
//! but a scan.

use lopdf::{Dictionary, Document};
use tiny_skia::Transform;

use super::images::ImageDraw;
use super::objects::{inherited, integer, numbers};
use super::state::Draw;
use super::{A4, MAX_PAGE_SIDE, MIN_COVERAGE, PageError, damaged};

/// The visible page box (pt) and its display rotation.
pub(super) struct Geometry {
    x0: f32,
    y0: f32,
    width: f32,
    height: f32,
    /// Clockwise quarter turns, in degrees: 0, 90, 180 or 270.
    rotate: u32,
}

impl Geometry {
    pub(super) fn of(doc: &Document, page: &Dictionary) -> Result<Geometry, PageError> {
        let boxed = |key: &[u8]| {
            inherited(doc, page, key)
                .map(|o| numbers(doc, o))
                .filter(|n| n.len() == 4)
        };
        let normal = |n: Vec<f32>| {
            [
                n[0].min(n[2]),
                n[1].min(n[3]),
                n[0].max(n[2]),
                n[1].max(n[3]),
            ]
        };
        let media = boxed(b"MediaBox").map(normal).unwrap_or(A4);
        let crop = boxed(b"CropBox").map(normal).map(|c| {
            [
                c[0].max(media[0]),
                c[1].max(media[1]),
                c[2].min(media[2]),
                c[3].min(media[3]),
            ]
        });
        let [x0, y0, x1, y1] = crop.filter(|c| c[2] > c[0] && c[3] > c[1]).unwrap_or(media);
        let (width, height) = (x1 - x0, y1 - y0);
        let valid = 1.0..=MAX_PAGE_SIDE;
        if !valid.contains(&width) || !valid.contains(&height) {
            return Err(damaged("the page size is invalid"));
        }
        let rotate = inherited(doc, page, b"Rotate")
            .and_then(integer)
            .map_or(0, |r| r.rem_euclid(360));
        let rotate = if rotate % 90 == 0 { rotate as u32 } else { 0 };
        Ok(Geometry {
            x0,
            y0,
            width,
            height,
            rotate,
        })
    }

    /// Page space to device pixels (y down, upright as displayed) at `scale` pixels per
    /// point, with the device's width and height.
    pub(super) fn device(&self, scale: f32) -> (Transform, f32, f32) {
        let (w, h) = (self.width * scale, self.height * scale);
        let flat = Transform::from_row(
            scale,
            0.0,
            0.0,
            -scale,
            -self.x0 * scale,
            (self.y0 + self.height) * scale,
        );
        let (turn, out_w, out_h) = match self.rotate {
            90 => (Transform::from_row(0.0, 1.0, -1.0, 0.0, h, 0.0), h, w),
            180 => (Transform::from_row(-1.0, 0.0, 0.0, -1.0, w, h), w, h),
            270 => (Transform::from_row(0.0, -1.0, 1.0, 0.0, 0.0, w), h, w),
            _ => (Transform::identity(), w, h),
        };
        (turn.pre_concat(flat), out_w, out_h)
    }
}

/// The page's image when it is all there is: one image, axis-aligned, covering most of
/// the page, with at most white fills besides.
pub(super) fn sole_scan<'d, 'a>(
    draws: &'d [Draw<'a>],
    geometry: &Geometry,
) -> Option<&'d ImageDraw<'a>> {
    let mut found = None;
    for draw in draws {
        match draw {
            Draw::Image(image) if found.is_none() => found = Some(image),
            Draw::Fill { gray, .. } if *gray >= 0.999 => {}
            _ => return None,
        }
    }
    let image = found?;
    let (device, w, h) = geometry.device(1.0);
    let t = device.pre_concat(image.ctm);
    let straight = t.kx.abs() <= 1e-3 * t.sx.abs() && t.ky.abs() <= 1e-3 * t.sy.abs();
    let turned = t.sx.abs() <= 1e-3 * t.kx.abs() && t.sy.abs() <= 1e-3 * t.ky.abs();
    if !(straight || turned) {
        return None;
    }
    let xs = [t.tx, t.tx + t.sx, t.tx + t.kx, t.tx + t.sx + t.kx];
    let ys = [t.ty, t.ty + t.ky, t.ty + t.sy, t.ty + t.ky + t.sy];
    let span = |v: [f32; 4], limit: f32| {
        let (low, high) = (
            v.iter().copied().fold(f32::MAX, f32::min),
            v.iter().copied().fold(f32::MIN, f32::max),
        );
        (high.min(limit) - low.max(0.0)).max(0.0)
    };
    let coverage = span(xs, w) * span(ys, h) / (w * h);
    (coverage >= MIN_COVERAGE).then_some(image)
}
