//! What a phone adds to a filled sheet: the page lying on a desk, photographed a little off
//! square (one edge shorter than the opposite one), turned, slightly curled, lit unevenly,
//! marked in blue or black pen or in pencil, a little out of focus, with sensor noise, saved
//! as a phone's colour JPEG.
//!
//! The print and the students' marks are drawn on two grey layers in layout points, so the
//! ink can be given its own colour; each photo pixel is then taken back through the camera's
//! perspective (and the curl) to the page, or to the desk around it.

use super::RowFills;
use super::canvas::Canvas;
use super::marks::draw_fill;
use super::page::clean_page;
use crate::PageLayout;
use crate::layout::{PAGE_HEIGHT, PAGE_WIDTH};
use crate::omr::Homography;
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};
use rand::Rng;

/// The edge of the page that comes out shorter in a keystoned photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The top edge (the phone tilted towards the page's foot).
    Top,
    /// The bottom edge.
    Bottom,
    /// The left edge.
    Left,
    /// The right edge.
    Right,
}

impl Edge {
    /// All four.
    pub const ALL: [Edge; 4] = [Edge::Top, Edge::Bottom, Edge::Left, Edge::Right];
}

/// What the students marked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ink {
    /// A blue ballpoint.
    Blue,
    /// A black pen.
    Black,
    /// A graphite pencil.
    Pencil,
}

impl Ink {
    /// Share of red, green and blue light the ink lets through where it is solid.
    fn transmittance(self) -> [f32; 3] {
        match self {
            Ink::Blue => [0.18, 0.28, 0.72],
            Ink::Black => [0.08, 0.08, 0.1],
            Ink::Pencil => [0.32, 0.32, 0.35],
        }
    }
}

/// How one page is photographed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhoneOptions {
    /// The photo's size in pixels (width, height).
    pub size: (u32, u32),
    /// Share of the photo's height the page's height takes (the rest is desk).
    pub fill: f32,
    /// The edge that comes out shorter and by what share of the opposite edge.
    pub keystone: Option<(Edge, f32)>,
    /// Turn of the page in the photo (degrees, clockwise as seen).
    pub rotation_deg: f32,
    /// How far the page's middle bows sideways (pt): a slight curl of the paper.
    pub curl: f32,
    /// The page's lower half bent back along a fold across its middle, seen shortened to
    /// this share of its height (1 = flat).
    pub fold: f32,
    /// How much darker one corner is than the rest (0 = even light, 0.35 = a shadow).
    pub shadow: f32,
    /// What the marks were made with.
    pub ink: Ink,
    /// Radius of the defocus blur (pixels; 0 = sharp).
    pub defocus: u32,
    /// Standard deviation of the sensor noise (grey levels).
    pub noise: f32,
    /// The JPEG's quality.
    pub quality: u8,
}

impl PhoneOptions {
    /// A straight, evenly lit, sharp photo of a page filling most of a 1400 × 1900 frame (about
    /// 150 dpi on the page) in blue pen, saved at JPEG quality 85.
    pub fn straight() -> PhoneOptions {
        PhoneOptions {
            size: (1400, 1900),
            fill: 0.9,
            keystone: None,
            rotation_deg: 0.0,
            curl: 0.0,
            fold: 1.0,
            shadow: 0.0,
            ink: Ink::Blue,
            defocus: 0,
            noise: 3.0,
            quality: 85,
        }
    }

    /// A normal handheld photo: turned by up to `max_turn` degrees, a slight curl, a shadow
    /// over a corner, any ink, a little defocus, some noise, JPEG 75-92.
    pub fn handheld(max_turn: f32, rng: &mut impl Rng) -> PhoneOptions {
        PhoneOptions {
            rotation_deg: rng.random_range(-max_turn..=max_turn),
            curl: rng.random_range(0.0..2.0),
            shadow: rng.random_range(0.0..0.35),
            ink: [Ink::Blue, Ink::Black, Ink::Pencil][rng.random_range(0..3)],
            defocus: rng.random_range(0..=1),
            noise: rng.random_range(2.0..6.0),
            quality: rng.random_range(75..=92),
            ..PhoneOptions::straight()
        }
    }

    /// Where the page's corners land in the photo: bottom left, bottom right, top left, top
    /// right (pixels).
    pub fn corners(&self) -> [(f32, f32); 4] {
        let (w, h) = (self.size.0 as f32, self.size.1 as f32);
        let ph = self.fill * h;
        let pw = ph * PAGE_WIDTH / PAGE_HEIGHT;
        let (hw, hh) = (pw / 2.0, ph / 2.0);
        // Offsets from the centre, y down: bottom left, bottom right, top left, top right.
        let mut c = [(-hw, hh), (hw, hh), (-hw, -hh), (hw, -hh)];
        if let Some((edge, k)) = self.keystone {
            let (along, across) = (k / 2.0 * pw, k / 2.0 * ph);
            match edge {
                Edge::Top => (c[2].0 += along, c[3].0 -= along),
                Edge::Bottom => (c[0].0 += along, c[1].0 -= along),
                Edge::Left => (c[0].1 -= across, c[2].1 += across),
                Edge::Right => (c[1].1 -= across, c[3].1 += across),
            };
        }
        let (s, co) = self.rotation_deg.to_radians().sin_cos();
        c.map(|(x, y)| (w / 2.0 + co * x - s * y, h / 2.0 + s * x + co * y))
    }

    /// Layout points to photo pixels (before the curl).
    pub fn camera(&self) -> Homography {
        let page = [
            (0.0, 0.0),
            (PAGE_WIDTH, 0.0),
            (0.0, PAGE_HEIGHT),
            (PAGE_WIDTH, PAGE_HEIGHT),
        ];
        let pairs: Vec<_> = page.into_iter().zip(self.corners()).collect();
        match Homography::fit(&pairs) {
            Some(h) => h,
            None => panic!("a page's four corners always fit a homography"),
        }
    }
}

/// A page marked with `fills` and photographed: the JPEG a phone would save.
pub fn photograph(
    page: &PageLayout,
    fills: &[RowFills],
    options: &PhoneOptions,
    rng: &mut impl Rng,
) -> Vec<u8> {
    let photo = render(page, fills, options, rng);
    let mut bytes = Vec::new();
    let encoder = JpegEncoder::new_with_quality(&mut bytes, options.quality);
    let (w, h) = photo.dimensions();
    if let Err(e) = encoder.write_image(photo.as_raw(), w, h, image::ExtendedColorType::Rgb8) {
        panic!("encoding a JPEG in memory failed: {e}");
    }
    bytes
}

/// The photo before it is saved.
pub fn render(
    page: &PageLayout,
    fills: &[RowFills],
    options: &PhoneOptions,
    rng: &mut impl Rng,
) -> RgbImage {
    let camera = options.camera();
    // Draw the page a little finer than the photo sees it.
    let dpi = (camera.scale() * 72.0 * 1.25).max(72.0);
    let print = clean_page(page, dpi, rng);
    let mut marks = Canvas::new(dpi);
    for (row, row_fills) in page.rows.iter().zip(fills) {
        for (bubble, &fill) in row.bubbles.iter().zip(row_fills) {
            draw_fill(&mut marks, bubble, fill, rng);
        }
    }
    let back = match camera.invert() {
        Some(back) => back,
        None => panic!("a page's camera map is invertible"),
    };
    let (w, h) = options.size;
    let paper = [
        rng.random_range(235.0..250.0),
        232.0,
        rng.random_range(215.0..228.0),
    ];
    let desk = [
        rng.random_range(90.0..130.0),
        80.0,
        rng.random_range(50.0..70.0),
    ];
    let ink = options.ink.transmittance();
    let shadow_corner = [
        (0.0, 0.0),
        (w as f32, 0.0),
        (0.0, h as f32),
        (w as f32, h as f32),
    ][rng.random_range(0..4)];
    let diagonal = (w as f32).hypot(h as f32);
    let s = dpi / 72.0;
    let mut photo = RgbImage::new(w, h);
    for (u, v, pixel) in photo.enumerate_pixels_mut() {
        let (uf, vf) = (u as f32 + 0.5, v as f32 + 0.5);
        let (x, y) = back.apply((uf, vf));
        // The curl bows the page's vertical lines sideways, most in the middle.
        let x = x - options.curl * (std::f32::consts::PI * y / PAGE_HEIGHT).sin();
        let middle = PAGE_HEIGHT / 2.0;
        let y = if y < middle {
            middle - (middle - y) / options.fold.max(0.1)
        } else {
            y
        };
        let light = 1.0
            - options.shadow
                * (1.0 - (uf - shadow_corner.0).hypot(vf - shadow_corner.1) / (0.8 * diagonal))
                    .max(0.0);
        let colour = if (0.0..PAGE_WIDTH).contains(&x) && (0.0..PAGE_HEIGHT).contains(&y) {
            let (px, py) = (x * s - 0.5, (PAGE_HEIGHT - y) * s - 0.5);
            let printed = sample(&print, px, py) / 255.0;
            let marked = 1.0 - sample(&marks.image, px, py) / 255.0;
            std::array::from_fn(|c| paper[c] * printed * (1.0 - marked * (1.0 - ink[c])))
        } else {
            // Wood: slow stripes along the grain.
            let grain = 1.0 + 0.12 * (vf * 0.05 + (uf * 0.004).sin() * 3.0).sin();
            desk.map(|d| d * grain)
        };
        pixel.0 = colour.map(|c| (c * light).clamp(0.0, 255.0) as u8);
    }
    for _ in 0..2 {
        box_blur(&mut photo, options.defocus);
    }
    add_noise(&mut photo, options.noise, rng);
    photo
}

/// The grey level at `(x, y)` (pixel centres at integers) by bilinear interpolation; paper
/// outside.
fn sample(image: &image::GrayImage, x: f32, y: f32) -> f32 {
    let (w, h) = image.dimensions();
    let (x0, y0) = (x.floor(), y.floor());
    if x0 < 0.0 || y0 < 0.0 || x0 + 1.0 >= w as f32 || y0 + 1.0 >= h as f32 {
        return 255.0;
    }
    let (fx, fy) = (x - x0, y - y0);
    let (i, j) = (x0 as u32, y0 as u32);
    let at = |di: u32, dj: u32| f32::from(image.get_pixel(i + di, j + dj).0[0]);
    let top = at(0, 0) + (at(1, 0) - at(0, 0)) * fx;
    let bottom = at(0, 1) + (at(1, 1) - at(0, 1)) * fx;
    top + (bottom - top) * fy
}

/// A box blur of `radius` pixels, across then down.
fn box_blur(image: &mut RgbImage, radius: u32) {
    if radius == 0 {
        return;
    }
    let (w, h) = image.dimensions();
    let r = radius as i64;
    let n = (2 * r + 1) as u32;
    let blur_line = |get: &dyn Fn(i64) -> [u8; 3], len: i64, out: &mut Vec<[u8; 3]>| {
        out.clear();
        let mut sum = [0u32; 3];
        let clamp = |i: i64| i.clamp(0, len - 1);
        for i in -r..=r {
            let p = get(clamp(i));
            (0..3).for_each(|c| sum[c] += u32::from(p[c]));
        }
        for i in 0..len {
            out.push(sum.map(|s| (s / n) as u8));
            let (add, drop) = (get(clamp(i + r + 1)), get(clamp(i - r)));
            (0..3).for_each(|c| sum[c] = sum[c] + u32::from(add[c]) - u32::from(drop[c]));
        }
    };
    let mut line = Vec::new();
    for y in 0..h {
        let row: Vec<[u8; 3]> = (0..w).map(|x| image.get_pixel(x, y).0).collect();
        blur_line(&|i| row[i as usize], i64::from(w), &mut line);
        for (x, p) in line.iter().enumerate() {
            image.get_pixel_mut(x as u32, y).0 = *p;
        }
    }
    for x in 0..w {
        let column: Vec<[u8; 3]> = (0..h).map(|y| image.get_pixel(x, y).0).collect();
        blur_line(&|i| column[i as usize], i64::from(h), &mut line);
        for (y, p) in line.iter().enumerate() {
            image.get_pixel_mut(x, y as u32).0 = *p;
        }
    }
}

/// Sensor noise, the same on the three channels (luminance noise).
fn add_noise(image: &mut RgbImage, deviation: f32, rng: &mut impl Rng) {
    if deviation <= 0.0 {
        return;
    }
    let table: Vec<f32> = (0..4096)
        .map(|_| (0..4).map(|_| rng.random::<f32>() - 0.5).sum::<f32>() * 1.732 * deviation)
        .collect();
    let mut state: u32 = rng.random::<u32>() | 1;
    for pixel in image.pixels_mut() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = table[(state & 4095) as usize];
        pixel.0 = pixel.0.map(|c| (f32::from(c) + n).clamp(0.0, 255.0) as u8);
    }
}
