//! A grey page raster drawn in layout points, with anti-aliased shapes given by their signed
//! distance (pt, negative inside). Ink darkens what is under it, as on paper.

use crate::layout::{PAGE_HEIGHT, PAGE_WIDTH};
use image::GrayImage;

/// A white A4 page at some resolution.
pub struct Canvas {
    /// The raster: 255 is paper, 0 solid ink.
    pub image: GrayImage,
    /// Pixels per point.
    pub scale: f32,
}

impl Canvas {
    /// A blank page at `dpi`.
    pub fn new(dpi: f32) -> Canvas {
        let scale = dpi / 72.0;
        let (w, h) = (PAGE_WIDTH * scale, PAGE_HEIGHT * scale);
        Canvas {
            image: GrayImage::from_pixel(w.round() as u32, h.round() as u32, image::Luma([255])),
            scale,
        }
    }

    /// Darkens by `tone` (1 = black ink) the points within `bbox` (x0, y0, x1, y1 in pt)
    /// where `distance` is negative, with a one-pixel soft edge.
    pub fn paint(
        &mut self,
        bbox: (f32, f32, f32, f32),
        tone: f32,
        distance: impl Fn(f32, f32) -> f32,
    ) {
        let (w, h) = self.image.dimensions();
        let s = self.scale;
        let u0 = ((bbox.0 * s).floor() as i64 - 1).max(0) as u32;
        let u1 = ((bbox.2 * s).ceil() as i64 + 1).clamp(0, i64::from(w)) as u32;
        let v0 = (((PAGE_HEIGHT - bbox.3) * s).floor() as i64 - 1).max(0) as u32;
        let v1 = (((PAGE_HEIGHT - bbox.1) * s).ceil() as i64 + 1).clamp(0, i64::from(h)) as u32;
        for v in v0..v1 {
            let y = PAGE_HEIGHT - (v as f32 + 0.5) / s;
            for u in u0..u1 {
                let x = (u as f32 + 0.5) / s;
                let coverage = (0.5 - distance(x, y) * s).clamp(0.0, 1.0);
                if coverage > 0.0 {
                    let pixel = &mut self.image.get_pixel_mut(u, v).0[0];
                    *pixel = (f32::from(*pixel) * (1.0 - tone * coverage)).round() as u8;
                }
            }
        }
    }

    /// Makes white again the points within `bbox` where `inside` holds (no soft edge: a
    /// tear or a cut).
    pub fn clear(&mut self, bbox: (f32, f32, f32, f32), inside: impl Fn(f32, f32) -> bool) {
        let (w, h) = self.image.dimensions();
        let s = self.scale;
        let u1 = ((bbox.2 * s).ceil().max(0.0) as u32).min(w);
        let v1 = (((PAGE_HEIGHT - bbox.1) * s).ceil().max(0.0) as u32).min(h);
        let u0 = ((bbox.0 * s).floor().max(0.0) as u32).min(u1);
        let v0 = (((PAGE_HEIGHT - bbox.3) * s).floor().max(0.0) as u32).min(v1);
        for v in v0..v1 {
            for u in u0..u1 {
                let (x, y) = ((u as f32 + 0.5) / s, PAGE_HEIGHT - (v as f32 + 0.5) / s);
                if inside(x, y) {
                    self.image.put_pixel(u, v, image::Luma([255]));
                }
            }
        }
    }

    /// A filled axis-aligned rectangle.
    pub fn rect(&mut self, (x0, y0, x1, y1): (f32, f32, f32, f32), tone: f32) {
        let (cx, cy, hw, hh) = (
            (x0 + x1) / 2.0,
            (y0 + y1) / 2.0,
            (x1 - x0) / 2.0,
            (y1 - y0) / 2.0,
        );
        self.paint((x0, y0, x1, y1), tone, |x, y| {
            let (dx, dy) = ((x - cx).abs() - hw, (y - cy).abs() - hh);
            dx.max(dy).min(0.0) + dx.max(0.0).hypot(dy.max(0.0))
        });
    }

    /// A circle's outline of `width`, centred on radius `r`.
    pub fn ring(&mut self, (cx, cy): (f32, f32), r: f32, width: f32, tone: f32) {
        let reach = r + width;
        self.paint(
            (cx - reach, cy - reach, cx + reach, cy + reach),
            tone,
            |x, y| ((x - cx).hypot(y - cy) - r).abs() - width / 2.0,
        );
    }

    /// A pen line of `width` through `points`, with round ends and joints.
    pub fn stroke(&mut self, points: &[(f32, f32)], width: f32, tone: f32) {
        let Some(bbox) = bounds(points, width) else {
            return;
        };
        self.paint(bbox, tone, |x, y| {
            points
                .windows(2)
                .map(|seg| segment_distance((x, y), seg[0], seg[1]))
                .fold(f32::MAX, f32::min)
                - width / 2.0
        });
    }

    /// An irregular blob: radius `r·(1 + Σ a·cos(kθ + φ))` around `centre`, `wobble[k-1] =
    /// (a, φ)`.
    pub fn blob(&mut self, (cx, cy): (f32, f32), r: f32, wobble: &[(f32, f32)], tone: f32) {
        let reach = r * (1.0 + wobble.iter().map(|w| w.0.abs()).sum::<f32>()) + 1.0;
        self.paint(
            (cx - reach, cy - reach, cx + reach, cy + reach),
            tone,
            |x, y| {
                let (dx, dy) = (x - cx, y - cy);
                let theta = dy.atan2(dx);
                let edge = wobble
                    .iter()
                    .enumerate()
                    .map(|(k, (a, phi))| a * ((k + 1) as f32 * theta + phi).cos())
                    .sum::<f32>();
                dx.hypot(dy) - r * (1.0 + edge)
            },
        );
    }
}

fn bounds(points: &[(f32, f32)], width: f32) -> Option<(f32, f32, f32, f32)> {
    let first = points.first()?;
    let init = (first.0, first.1, first.0, first.1);
    let (x0, y0, x1, y1) = points.iter().fold(init, |b, p| {
        (b.0.min(p.0), b.1.min(p.1), b.2.max(p.0), b.3.max(p.1))
    });
    Some((x0 - width, y0 - width, x1 + width, y1 + width))
}

fn segment_distance(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (abx, aby) = (b.0 - a.0, b.1 - a.1);
    let len2 = abx * abx + aby * aby;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * abx + (p.1 - a.1) * aby) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p.0 - a.0 - t * abx).hypot(p.1 - a.1 - t * aby)
}
