//! What a scanner does to a page: turn, shift, scale, maybe upside down, blur, noise, the
//! scanner's own paper and ink levels, and the file's encoding.

use crate::layout::{FIDUCIAL_SIDE, PAGE_HEIGHT, PAGE_WIDTH, fiducial_centres};
use image::GrayImage;
use image::codecs::jpeg::JpegEncoder;
use rand::Rng;

/// How one page is scanned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanOptions {
    /// Resolution of the clean page and of the scan.
    pub dpi: f32,
    /// Turn of the page on the glass (degrees, clockwise as seen).
    pub rotation_deg: f32,
    /// Shift of the page on the glass (pt, right and down).
    pub shift_pt: (f32, f32),
    /// Scale of the page in the scan (1 = true size).
    pub scale: f32,
    /// Whether the page lies upside down.
    pub upside_down: bool,
    /// Standard deviation of the sensor noise (grey levels).
    pub noise: f32,
    /// Weight of each neighbour in the blur (0 = sharp, 0.25 = soft).
    pub blur: f32,
    /// Grey level paper comes out as.
    pub paper: u8,
    /// Grey level solid ink comes out as.
    pub ink: u8,
    /// A corner of the paper torn off through its corner mark (index into
    /// `fiducial_centres`: bottom left, bottom right, top left, top right).
    pub torn_corner: Option<usize>,
}

impl ScanOptions {
    /// A perfect scan.
    pub fn ideal(dpi: f32) -> ScanOptions {
        ScanOptions {
            dpi,
            rotation_deg: 0.0,
            shift_pt: (0.0, 0.0),
            scale: 1.0,
            upside_down: false,
            noise: 0.0,
            blur: 0.0,
            paper: 255,
            ink: 0,
            torn_corner: None,
        }
    }

    /// A plausible office scan: within ±4°, ±5 mm, ±5 %, a quarter upside down, one in
    /// ten with a torn corner; redrawn until all four corner marks are on the image, as a
    /// scan that cuts one off is not a fair test of reading it.
    pub fn random(dpi: f32, rng: &mut impl Rng) -> ScanOptions {
        let mm = 72.0 / 25.4;
        loop {
            let options = ScanOptions {
                dpi,
                rotation_deg: rng.random_range(-4.0..4.0),
                shift_pt: (
                    rng.random_range(-5.0..5.0) * mm,
                    rng.random_range(-5.0..5.0) * mm,
                ),
                scale: rng.random_range(0.95..1.05),
                upside_down: rng.random_bool(0.25),
                noise: rng.random_range(2.0..10.0),
                blur: rng.random_range(0.0..0.25),
                paper: rng.random_range(215..=250),
                ink: rng.random_range(10..=60),
                torn_corner: rng.random_bool(0.1).then(|| rng.random_range(0..4)),
            };
            if options.keeps_marks_inside(3.0) {
                return options;
            }
        }
    }

    /// Whether every corner mark lands at least `margin` (pt) inside the scanned image.
    pub fn keeps_marks_inside(&self, margin: f32) -> bool {
        let (sin, cos) = self.rotation_deg.to_radians().sin_cos();
        let k = if self.upside_down {
            -self.scale
        } else {
            self.scale
        };
        let (cx, cy) = (PAGE_WIDTH / 2.0, PAGE_HEIGHT / 2.0);
        let half = FIDUCIAL_SIDE / 2.0;
        fiducial_centres().iter().all(|&(fx, fy)| {
            [(-half, -half), (-half, half), (half, -half), (half, half)]
                .iter()
                .all(|&(dx, dy)| {
                    // Page points with y down, about the centre.
                    let (x, y) = (fx + dx - cx, PAGE_HEIGHT - (fy + dy) - cy);
                    let u = cx + self.shift_pt.0 + k * (cos * x - sin * y);
                    let v = cy + self.shift_pt.1 + k * (sin * x + cos * y);
                    (margin..PAGE_WIDTH - margin).contains(&u)
                        && (margin..PAGE_HEIGHT - margin).contains(&v)
                })
        })
    }
}

/// Scans a page raster (255 paper, 0 ink) drawn at `options.dpi`.
pub fn scan(clean: &GrayImage, options: &ScanOptions, rng: &mut impl Rng) -> GrayImage {
    let (w, h) = clean.dimensions();
    let s = options.dpi / 72.0;
    // Output pixel -> clean pixel: undo shift, turn, scale and flip about the page's centre.
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (sin, cos) = options.rotation_deg.to_radians().sin_cos();
    let flip = if options.upside_down { -1.0 } else { 1.0 };
    let k = flip / options.scale;
    let (a, b, d, e) = (k * cos, k * sin, -k * sin, k * cos);
    let (ox, oy) = (cx + options.shift_pt.0 * s, cy + options.shift_pt.1 * s);
    let src = clean.as_raw();
    let mut turned = vec![255f32; (w * h) as usize];
    for v in 0..h {
        let py = v as f32 + 0.5 - oy;
        let mut x = a * (0.5 - ox) + b * py + cx - 0.5;
        let mut y = d * (0.5 - ox) + e * py + cy - 0.5;
        let row = &mut turned[(v * w) as usize..((v + 1) * w) as usize];
        for out in row.iter_mut() {
            *out = bilinear(src, w, h, x, y);
            x += a;
            y += d;
        }
    }
    let blurred = blur(&turned, w as usize, options.blur);
    let noise = Noise::new(rng.random::<u32>() | 1, options.noise);
    let ink = f32::from(options.ink);
    let gain = (f32::from(options.paper) - ink) / 255.0;
    let mut pixels = vec![0u8; blurred.len()];
    let mut state = noise.seed;
    for (out, &p) in pixels.iter_mut().zip(&blurred) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = noise.table[(state & 4095) as usize];
        *out = (ink + gain * p + n).clamp(0.0, 255.0) as u8;
    }
    GrayImage::from_raw(w, h, pixels).unwrap_or_else(|| GrayImage::new(w, h))
}

fn bilinear(src: &[u8], w: u32, h: u32, x: f32, y: f32) -> f32 {
    let (ix, iy) = (x.floor() as i64, y.floor() as i64);
    if ix < 0 || iy < 0 || ix + 1 >= i64::from(w) || iy + 1 >= i64::from(h) {
        return 255.0;
    }
    let (i, w) = ((iy * i64::from(w) + ix) as usize, w as usize);
    let (p00, p01, p10, p11) = (src[i], src[i + 1], src[i + w], src[i + w + 1]);
    if p00 & p01 & p10 & p11 == 255 {
        return 255.0; // Blank paper, most of the page: skip the arithmetic.
    }
    let (fx, fy) = (x - ix as f32, y - iy as f32);
    let top = f32::from(p00) + (f32::from(p01) - f32::from(p00)) * fx;
    let bottom = f32::from(p10) + (f32::from(p11) - f32::from(p10)) * fx;
    top + (bottom - top) * fy
}

/// A separable `[b, 1 − 2b, b]` blur.
fn blur(pixels: &[f32], w: usize, b: f32) -> Vec<f32> {
    if b <= 0.0 {
        return pixels.to_vec();
    }
    let centre = 1.0 - 2.0 * b;
    let mut across = pixels.to_vec();
    for (row, out) in pixels.chunks_exact(w).zip(across.chunks_exact_mut(w)) {
        for x in 1..w - 1 {
            out[x] = b * (row[x - 1] + row[x + 1]) + centre * row[x];
        }
    }
    let mut down = across.clone();
    for i in w..across.len().saturating_sub(w) {
        down[i] = b * (across[i - w] + across[i + w]) + centre * across[i];
    }
    down
}

/// Sensor noise: a table of roughly Gaussian values, picked by a xorshift generator (cheap
/// enough for millions of pixels in a debug build).
struct Noise {
    seed: u32,
    table: Vec<f32>,
}

impl Noise {
    fn new(seed: u32, deviation: f32) -> Noise {
        let mut state = seed;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as f32 / u32::MAX as f32 - 0.5
        };
        let table = (0..4096)
            .map(|_| (uniform() + uniform() + uniform() + uniform()) * 1.732 * deviation)
            .collect();
        Noise {
            seed: seed.rotate_left(7) | 1,
            table,
        }
    }
}

/// How a scanned page image is stored in the PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// DCT (JPEG) at this quality, 1–100.
    Jpeg {
        /// JPEG quality.
        quality: u8,
    },
    /// 8-bit grey, Flate-compressed (as from a PNG).
    Png,
    /// 1 bit per pixel, thresholded halfway between paper and ink, Flate-compressed.
    Bitonal,
}

/// Where a bitonal scanner cuts, as calibrated: halfway between the page's paper (its median)
/// and its ink (its darkest half percent).
pub fn bitonal_threshold(image: &GrayImage) -> u8 {
    let mut sample: Vec<u8> = image.as_raw().iter().step_by(5).copied().collect();
    if sample.is_empty() {
        return 128;
    }
    let (mid, dark) = (sample.len() / 2, sample.len() / 200);
    let paper = *sample.select_nth_unstable(mid).1;
    let ink = *sample.select_nth_unstable(dark).1;
    ((u16::from(paper) + u16::from(ink)) / 2) as u8
}

/// The image's stream bytes as they go into the PDF: JPEG bytes, or raw rows before Flate
/// (8-bit grey, or 1-bit packed from the most significant bit with 1 = white).
pub fn encode(image: &GrayImage, encoding: Encoding) -> Vec<u8> {
    let threshold = bitonal_threshold(image);
    match encoding {
        Encoding::Jpeg { quality } => {
            let mut bytes = Vec::new();
            let encoder = JpegEncoder::new_with_quality(&mut bytes, quality);
            if let Err(e) = image.write_with_encoder(encoder) {
                panic!("encoding a JPEG in memory failed: {e}");
            }
            bytes
        }
        Encoding::Png => image.as_raw().clone(),
        Encoding::Bitonal => image
            .rows()
            .flat_map(|row| {
                let bits: Vec<bool> = row.map(|p| p.0[0] >= threshold).collect();
                bits.chunks(8)
                    .map(|byte| {
                        byte.iter()
                            .enumerate()
                            .fold(0u8, |acc, (i, &white)| acc | (u8::from(white) << (7 - i)))
                    })
                    .collect::<Vec<u8>>()
            })
            .collect(),
    }
}

/// What a reader gets back from an image stored with `encoding`.
pub fn round_trip(image: &GrayImage, encoding: Encoding) -> GrayImage {
    match encoding {
        Encoding::Jpeg { .. } => {
            let bytes = encode(image, encoding);
            match image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg) {
                Ok(decoded) => decoded.to_luma8(),
                Err(e) => panic!("decoding our own JPEG failed: {e}"),
            }
        }
        Encoding::Png => image.clone(),
        Encoding::Bitonal => {
            let threshold = bitonal_threshold(image);
            let mut out = image.clone();
            for p in out.pixels_mut() {
                p.0[0] = if p.0[0] >= threshold { 255 } else { 0 };
            }
            out
        }
    }
}
