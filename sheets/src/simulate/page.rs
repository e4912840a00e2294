//! The clean printed page: what the generator's PDF looks like, drawn straight from the
//! layout (corner marks, QR code, bubbles, separators) with text as glyph-like strokes.

use super::canvas::Canvas;
use crate::PageLayout;
use crate::layout::{
    BUBBLE_OUTLINE, BUBBLE_X, FIDUCIAL_SIDE, PAGE_HEIGHT, QR_RECT, ROW_PITCH, TABLE_HEADER_Y,
    TABLE_LEFT, TABLE_RIGHT, fiducial_centres, row_y,
};
use image::GrayImage;
use rand::Rng;

/// Grey of the row separators (share of black).
const SEPARATOR_TONE: f32 = 0.45;

/// The page as printed, at `dpi`; `rng` varies the text.
pub fn clean_page(page: &PageLayout, dpi: f32, rng: &mut impl Rng) -> GrayImage {
    let mut canvas = Canvas::new(dpi);
    for (cx, cy) in fiducial_centres() {
        let half = FIDUCIAL_SIDE / 2.0;
        canvas.rect((cx - half, cy - half, cx + half, cy + half), 1.0);
    }
    qr(&mut canvas, &page.qr.to_string());
    header(&mut canvas, rng);
    for (i, row) in page.rows.iter().enumerate() {
        let y = row_y(i);
        let baseline = y - 3.0;
        text(
            &mut canvas,
            (60.0, baseline),
            9.0,
            row.number.to_string().len(),
            rng,
        );
        text(
            &mut canvas,
            (84.0, baseline),
            9.0,
            row.student_id.len(),
            rng,
        );
        let name = rng.random_range(8..30);
        text(&mut canvas, (160.0, baseline), 9.0, name, rng);
        for bubble in &row.bubbles {
            canvas.ring((bubble.x, bubble.y), bubble.r, BUBBLE_OUTLINE, 1.0);
        }
    }
    for i in 0..=page.rows.len() {
        let y = row_y(0) + ROW_PITCH / 2.0 - i as f32 * ROW_PITCH;
        canvas.stroke(&[(TABLE_LEFT, y), (TABLE_RIGHT, y)], 0.5, SEPARATOR_TONE);
    }
    canvas.image
}

/// The QR code: modules as black squares filling `QR_RECT` less a 4-module quiet zone.
fn qr(canvas: &mut Canvas, payload: &str) {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(payload, qrcode::EcLevel::M) else {
        return;
    };
    let n = code.width();
    let colors = code.to_colors();
    let (left, bottom, size) = QR_RECT;
    let module = size / (n + 8) as f32;
    // Each pixel darkened by the share of it that dark modules cover: no seams between them.
    let s = canvas.scale;
    let (u0, u1) = ((left * s) as u32, ((left + size) * s) as u32 + 1);
    let top = PAGE_HEIGHT - bottom - size;
    let (v0, v1) = ((top * s) as u32, ((top + size) * s) as u32 + 1);
    let span = |p0: f32, origin: f32| {
        // Module indices a pixel from `p0` (px) overlaps, with the overlap (px) of each.
        let (a, b) = (
            (p0 / s - origin) / module,
            ((p0 + 1.0) / s - origin) / module,
        );
        let (first, last) = (a.floor() as i64, b.floor() as i64);
        (first..=last).map(move |m| {
            let overlap = (b.min((m + 1) as f32) - a.max(m as f32)).max(0.0) / (b - a);
            (m - 4, overlap)
        })
    };
    for v in v0..v1.min(canvas.image.height()) {
        for u in u0..u1.min(canvas.image.width()) {
            let mut cover = 0.0;
            for (row, dy) in span(v as f32, top) {
                for (col, dx) in span(u as f32, left) {
                    if (0..n as i64).contains(&col)
                        && (0..n as i64).contains(&row)
                        && colors[row as usize * n + col as usize] == qrcode::Color::Dark
                    {
                        cover += dx * dy;
                    }
                }
            }
            let pixel = &mut canvas.image.get_pixel_mut(u, v).0[0];
            *pixel = (f32::from(*pixel) * (1.0 - cover)).round() as u8;
        }
    }
}

/// Title, course and session lines at the top left, and the table's column titles.
fn header(canvas: &mut Canvas, rng: &mut impl Rng) {
    text(canvas, (56.0, 790.0), 16.0, rng.random_range(14..26), rng);
    for (i, size) in [11.0, 10.0, 10.0, 9.0].into_iter().enumerate() {
        let chars = rng.random_range(20..48);
        text(canvas, (56.0, 764.0 - 17.0 * i as f32), size, chars, rng);
    }
    text(canvas, (60.0, TABLE_HEADER_Y), 8.0, 1, rng);
    text(canvas, (84.0, TABLE_HEADER_Y), 8.0, 7, rng);
    text(canvas, (160.0, TABLE_HEADER_Y), 8.0, 4, rng);
    for (x, chars) in BUBBLE_X.into_iter().zip([7, 4, 7]) {
        let width = chars as f32 * 0.55 * 8.0;
        text(canvas, (x - width / 2.0, TABLE_HEADER_Y), 8.0, chars, rng);
    }
}

/// `chars` glyph-like marks of font `size` from `(x, baseline)`: stems, bars and bowls with
/// the density and stroke width of printed text.
fn text(
    canvas: &mut Canvas,
    (x, baseline): (f32, f32),
    size: f32,
    chars: usize,
    rng: &mut impl Rng,
) {
    let advance = 0.55 * size;
    for i in 0..chars {
        let left = x + i as f32 * advance + 0.08 * size;
        let tall = rng.random_bool(0.3);
        glyph(canvas, (left, baseline), size, tall, rng.random_range(0..4));
    }
}

/// One glyph-like shape of font `size` from `(left, baseline)`: a stem, a bowl, a `u` or a
/// `v`, reaching the ascender height if `tall`.
fn glyph(canvas: &mut Canvas, (left, base): (f32, f32), size: f32, tall: bool, shape: u8) {
    let (x_height, pen) = (0.5 * size, 0.09 * size);
    let right = left + 0.39 * size;
    let top = base + if tall { 0.72 * size } else { x_height };
    match shape {
        0 => canvas.stroke(&[(left, base), (left, top)], pen, 1.0),
        1 => {
            let r = ((right - left) / 2.0).min(x_height / 2.0);
            canvas.ring(((left + right) / 2.0, base + x_height / 2.0), r, pen, 1.0);
        }
        2 => {
            let u = [
                (left, top),
                (left, base),
                (right, base),
                (right, base + x_height),
            ];
            canvas.stroke(&u, pen, 1.0);
        }
        _ => canvas.stroke(
            &[(left, base), ((left + right) / 2.0, top), (right, base)],
            pen,
            1.0,
        ),
    }
}
