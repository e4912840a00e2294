//! A picture of what was read, for a person to check: the working page in colour with every
//! bubble ringed by its decision, the printed ring outlined where it was seen (a red cross
//! where it was not), and every held row shaded.

use super::{BubbleDecision, PageRead, RowDecision};
use crate::layout::{ROW_PITCH, TABLE_LEFT, TABLE_RIGHT, row_y};
use image::{ImageEncoder, Rgb, RgbImage};

/// Width of the picture at most (pixels): about 130 dpi on A4.
const PICTURE_WIDTH: f32 = 1080.0;

const FILLED: Rgb<u8> = Rgb([0, 160, 60]);
const EMPTY: Rgb<u8> = Rgb([150, 180, 235]);
const UNSURE: Rgb<u8> = Rgb([240, 90, 0]);
const HELD: [f32; 3] = [255.0, 200.0, 60.0];
/// The outline of a printed ring where it was seen.
const SEEN: Rgb<u8> = Rgb([0, 120, 200]);
/// The cross where a ring was looked for and not seen.
const NOT_SEEN: Rgb<u8> = Rgb([220, 0, 0]);

/// The working page as an RGB PNG with each bubble outlined (green filled, light blue empty,
/// orange unsure), its printed ring traced in blue where it was seen (a red cross where it
/// was not) and held rows shaded in amber, turned upright if the scan was upside down.
/// Empty if the image cannot be encoded.
pub fn annotate_png(read: &PageRead) -> Vec<u8> {
    // At most about 130 dpi, and greys in 16 steps: a checkable picture of a few hundred KB
    // instead of megabytes of scanner noise.
    let k = (PICTURE_WIDTH / read.working.width() as f32).min(1.0);
    let (w, h) = (
        ((read.working.width() as f32 * k).round() as u32).max(1),
        ((read.working.height() as f32 * k).round() as u32).max(1),
    );
    // Nearest pixel of the working image (no intermediate buffers: `imageops::resize`
    // allocates a float copy of the whole page).
    let (ww, wh) = read.working.dimensions();
    let mut picture = RgbImage::from_fn(w, h, |x, y| {
        let sx = (((x as f32 + 0.5) / k) as u32).min(ww.saturating_sub(1));
        let sy = (((y as f32 + 0.5) / k) as u32).min(wh.saturating_sub(1));
        // The working image has paper near 230: light greys become white.
        let v = read.working.get_pixel(sx, sy).0[0];
        let v = if v >= 0xC0 {
            0xFF
        } else {
            (v & 0xF0) | (v >> 4)
        };
        Rgb([v; 3])
    });
    for (i, row) in read.rows.iter().enumerate() {
        if matches!(row.decision, RowDecision::Held(_)) {
            shade_row(&mut picture, read, i, k);
        }
        for bubble in &row.bubbles {
            let colour = match bubble.decision {
                BubbleDecision::Filled => FILLED,
                BubbleDecision::Empty => EMPTY,
                BubbleDecision::Unsure => UNSURE,
            };
            let scale = read.scale * k;
            let width = (scale * 1.2).max(2.0);
            let radius = bubble.radius_px * k + scale * 1.5 + width / 2.0;
            let centre = (bubble.centre_px.0 * k, bubble.centre_px.1 * k);
            ring(&mut picture, centre, radius, width, colour);
            if bubble.ring_offset_pt.is_some() {
                let printed = bubble.radius_px * k;
                ring(&mut picture, centre, printed, (scale * 0.5).max(1.0), SEEN);
            } else {
                cross(&mut picture, centre, bubble.radius_px * k, NOT_SEEN);
            }
        }
    }
    if read.upside_down {
        image::imageops::rotate180_in_place(&mut picture);
    }
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Default,
        image::codecs::png::FilterType::Adaptive,
    );
    let (w, h) = picture.dimensions();
    match encoder.write_image(picture.as_raw(), w, h, image::ExtendedColorType::Rgb8) {
        Ok(()) => png,
        Err(_) => Vec::new(),
    }
}

/// Blends the row's band of the table with amber (`k`: picture pixels per working pixel).
fn shade_row(picture: &mut RgbImage, read: &PageRead, index: usize, k: f32) {
    let Some(back) = read.transform.invert() else {
        return;
    };
    let (y0, y1) = (
        row_y(index) - ROW_PITCH / 2.0,
        row_y(index) + ROW_PITCH / 2.0,
    );
    let corners = [
        (TABLE_LEFT, y0),
        (TABLE_RIGHT, y0),
        (TABLE_LEFT, y1),
        (TABLE_RIGHT, y1),
    ]
    .map(|p| {
        let (x, y) = read.transform.apply(p);
        (x * k, y * k)
    });
    let (w, h) = picture.dimensions();
    let lo = |f: fn(&(f32, f32)) -> f32| corners.iter().map(f).fold(f32::MAX, f32::min).max(0.0);
    let hi = |f: fn(&(f32, f32)) -> f32| corners.iter().map(f).fold(0.0, f32::max);
    let xs = lo(|c| c.0) as u32..(hi(|c| c.0) as u32 + 1).min(w);
    for y in lo(|c| c.1) as u32..(hi(|c| c.1) as u32 + 1).min(h) {
        for x in xs.clone() {
            let (px, py) = back.apply(((x as f32 + 0.5) / k, (y as f32 + 0.5) / k));
            if (TABLE_LEFT..=TABLE_RIGHT).contains(&px) && (y0..=y1).contains(&py) {
                let pixel = picture.get_pixel_mut(x, y);
                for (c, tint) in pixel.0.iter_mut().zip(HELD) {
                    *c = (f32::from(*c) * 0.6 + tint * 0.4) as u8;
                }
            }
        }
    }
}

/// Draws an X of half-size `reach` pixels.
fn cross(picture: &mut RgbImage, (cx, cy): (f32, f32), reach: f32, colour: Rgb<u8>) {
    let (w, h) = picture.dimensions();
    let n = (reach * 2.0) as i32;
    for i in -n..=n {
        let d = i as f32 / 2.0;
        for (x, y) in [(cx + d, cy + d), (cx + d, cy - d)] {
            for dx in [0.0, 1.0] {
                let (px, py) = ((x + dx) as u32, y as u32);
                if x >= 0.0 && y >= 0.0 && px < w && py < h {
                    picture.put_pixel(px, py, colour);
                }
            }
        }
    }
}

/// Draws a ring of `width` pixels centred on `radius`.
fn ring(picture: &mut RgbImage, (cx, cy): (f32, f32), radius: f32, width: f32, colour: Rgb<u8>) {
    let (w, h) = picture.dimensions();
    let reach = radius + width;
    let x_range = (cx - reach).max(0.0) as u32..((cx + reach).max(0.0) as u32 + 1).min(w);
    for y in (cy - reach).max(0.0) as u32..((cy + reach).max(0.0) as u32 + 1).min(h) {
        for x in x_range.clone() {
            let d = (x as f32 + 0.5 - cx).hypot(y as f32 + 0.5 - cy);
            if (d - radius).abs() <= width / 2.0 {
                picture.put_pixel(x, y, colour);
            }
        }
    }
}
