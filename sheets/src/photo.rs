//! A phone's photo of one page (JPEG or PNG) to the grey image the reader works on.
//!
//! The file's size is checked from its header before any pixel is decoded (at most
//! [`MAX_PIXELS`]); the photo is turned as its EXIF orientation says (a phone stores the
//! sensor's pixels and a tag saying which way up to show them); and a large photo (12 MP
//! and up) is reduced by averaging blocks of pixels to at most [`MAX_SIDE`] pixels on its
//! longer side, which is still about 200 dpi on an A4 page filling the frame. The desk around
//! the page is then cut away (the paper is the bright part of the photo), so that the reader
//! sees mostly paper, as on a scan. Peak memory is the decoded colour photo (3 bytes a pixel)
//! and its grey copy, once.

use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

/// Largest photo decoded (pixels): 48 MP, beyond any phone's normal mode.
pub const MAX_PIXELS: u64 = 48_000_000;
/// Longest side kept after reduction (pixels).
pub const MAX_SIDE: u32 = 2400;

/// What kind of file an upload is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A PDF (scanned pages, or a phone scanning app's output).
    Pdf,
    /// A JPEG photo.
    Jpeg,
    /// A PNG image.
    Png,
}

impl FileKind {
    /// The kind of `bytes` by their signature; `None` for anything else.
    pub fn of(bytes: &[u8]) -> Option<FileKind> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if bytes[..bytes.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
        {
            Some(FileKind::Pdf)
        } else {
            None
        }
    }
}

/// Why a photo cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// Not a JPEG or PNG, or damaged.
    #[error("the photo cannot be read: {0}")]
    Unreadable(String),
    /// Over [`MAX_PIXELS`].
    #[error("the photo is too large ({width}×{height} pixels; at most 48 megapixels)")]
    TooLarge {
        /// Width (pixels).
        width: u32,
        /// Height (pixels).
        height: u32,
    },
}

/// Decodes a JPEG or PNG photo to grey, upright as its EXIF orientation says, reduced to at
/// most [`MAX_SIDE`] pixels on its longer side.
pub fn decode(bytes: &[u8]) -> Result<GrayImage, PhotoError> {
    let format = match FileKind::of(bytes) {
        Some(FileKind::Jpeg) => ImageFormat::Jpeg,
        Some(FileKind::Png) => ImageFormat::Png,
        _ => return Err(PhotoError::Unreadable("not a JPEG or PNG".into())),
    };
    let unreadable = |e: image::ImageError| PhotoError::Unreadable(e.to_string());
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PhotoError::TooLarge { width, height });
    }
    let orientation = decoder.orientation().map_err(unreadable)?;
    // A decoder may panic on a hostile file; that is an unreadable photo, not a crash.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        DynamicImage::from_decoder(decoder)
    }))
    .map_err(|_| PhotoError::Unreadable("the image data is damaged".into()))?
    .map_err(unreadable)?;
    let grey = decoded.into_luma8();
    let mut reduced = DynamicImage::ImageLuma8(shrink(&grey));
    drop(grey);
    reduced.apply_orientation(orientation);
    Ok(crop_to_page(reduced.into_luma8()))
}

/// Share of a row or column of the photo that must be paper for it to be part of the page.
const PAPER_SHARE: f32 = 0.03;
/// Desk kept around the page, as a share of the photo's side.
const CROP_MARGIN: f32 = 0.02;

/// The part of a photo the page covers, with a little desk around it: the rows and columns
/// with some paper (brighter than Otsu's threshold between paper and desk). The photo as it
/// is when it is nearly all paper already, or when too little of it is paper to be a page.
fn crop_to_page(image: GrayImage) -> GrayImage {
    let (w, h) = image.dimensions();
    let threshold = otsu(&image);
    let (mut rows, mut columns) = (vec![0u32; h as usize], vec![0u32; w as usize]);
    for (x, y, p) in image.enumerate_pixels() {
        if p.0[0] > threshold {
            rows[y as usize] += 1;
            columns[x as usize] += 1;
        }
    }
    let bright: u64 = rows.iter().map(|&n| u64::from(n)).sum();
    let span = |counts: &[u32], across: u32| {
        let enough = |&n: &u32| n as f32 >= PAPER_SHARE * across as f32;
        let first = counts.iter().position(enough)?;
        let last = counts.iter().rposition(enough)?;
        let margin = (CROP_MARGIN * counts.len() as f32) as usize;
        Some((
            first.saturating_sub(margin) as u32,
            (last + margin + 1).min(counts.len()) as u32,
        ))
    };
    let (Some((x0, x1)), Some((y0, y1))) = (span(&columns, h), span(&rows, w)) else {
        return image;
    };
    let area = u64::from(w) * u64::from(h);
    let kept = u64::from(x1 - x0) * u64::from(y1 - y0);
    if bright * 10 > area * 9 || kept * 5 < area {
        return image;
    }
    image::imageops::crop_imm(&image, x0, y0, x1 - x0, y1 - y0).to_image()
}

/// Otsu's threshold: the grey level that best splits the photo into two classes.
fn otsu(image: &GrayImage) -> u8 {
    let mut histogram = [0u64; 256];
    for p in image.as_raw().iter().step_by(3) {
        histogram[*p as usize] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let sum: f64 = histogram
        .iter()
        .enumerate()
        .map(|(v, &n)| v as f64 * n as f64)
        .sum();
    let (mut below, mut below_sum, mut best) = (0u64, 0.0f64, (0.0f64, 128u8));
    for (v, &n) in histogram.iter().enumerate() {
        below += n;
        below_sum += v as f64 * n as f64;
        let above = total - below;
        if below == 0 || above == 0 {
            continue;
        }
        let (m0, m1) = (below_sum / below as f64, (sum - below_sum) / above as f64);
        let between = below as f64 * above as f64 * (m0 - m1).powi(2);
        if between > best.0 {
            best = (between, v as u8);
        }
    }
    best.1
}

/// Averages `k × k` blocks, `k` the smallest whole factor bringing the longer side to at
/// most [`MAX_SIDE`] (the working image's own block average, without a tone map).
fn shrink(image: &GrayImage) -> GrayImage {
    let long = image.width().max(image.height());
    let k = long.div_ceil(MAX_SIDE).max(1);
    if k == 1 {
        return image.clone();
    }
    let identity: [u8; 256] = std::array::from_fn(|v| v as u8);
    crate::omr::working::reduce(image, k, &identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::jpeg::JpegEncoder;
    use image::{ImageEncoder, Luma};

    /// A JPEG of a 40 × 20 image, light with a dark patch at its top left, with an EXIF
    /// orientation tag.
    fn jpeg_with_orientation(tag: u16) -> Vec<u8> {
        let image = GrayImage::from_fn(40, 20, |x, y| Luma([if x < 8 && y < 5 { 0 } else { 255 }]));
        // A little-endian TIFF header with one IFD entry: orientation (0x0112), SHORT, 1.
        let mut exif = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0".to_vec();
        exif.extend_from_slice(&tag.to_le_bytes());
        exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let mut bytes = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 90);
        encoder.set_exif_metadata(exif).expect("JPEG takes EXIF");
        encoder
            .write_image(image.as_raw(), 40, 20, image::ExtendedColorType::L8)
            .expect("encodes");
        bytes
    }

    #[test]
    fn files_are_told_apart_by_their_first_bytes() {
        assert_eq!(FileKind::of(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        assert_eq!(
            FileKind::of(&jpeg_with_orientation(1)),
            Some(FileKind::Jpeg)
        );
        assert_eq!(FileKind::of(b"\x89PNG\r\n\x1a\n...."), Some(FileKind::Png));
        assert_eq!(FileKind::of(b"GIF89a"), None);
        assert_eq!(FileKind::of(b""), None);
    }

    #[test]
    fn a_photo_tagged_as_turned_is_turned_upright() {
        let plain = decode(&jpeg_with_orientation(1)).expect("a photo");
        assert_eq!(plain.dimensions(), (40, 20));
        assert!(plain.get_pixel(2, 2).0[0] < 60, "dark at the top left");
        // 6: the sensor's image must be turned 90° clockwise to be shown.
        let turned = decode(&jpeg_with_orientation(6)).expect("a photo");
        assert_eq!(turned.dimensions(), (20, 40));
        assert!(turned.get_pixel(17, 3).0[0] < 60, "dark at the top right");
        assert!(turned.get_pixel(2, 3).0[0] > 200, "light at the top left");
    }

    #[test]
    fn a_large_photo_is_reduced() {
        let image = GrayImage::from_pixel(4000, 3000, Luma([200]));
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(image.as_raw(), 4000, 3000, image::ExtendedColorType::L8)
            .expect("encodes");
        let decoded = decode(&png).expect("a photo");
        assert_eq!(decoded.dimensions(), (2000, 1500));
        assert_eq!(decoded.get_pixel(100, 100).0[0], 200);
    }

    #[test]
    fn the_desk_around_the_page_is_cut_away() {
        // A bright page in the middle of a dark desk, with a dark mark on the page.
        let photo = GrayImage::from_fn(1000, 1200, |x, y| {
            let on_page = (200..800).contains(&x) && (150..1000).contains(&y);
            let mark = (300..330).contains(&x) && (300..330).contains(&y);
            Luma([if mark {
                20
            } else if on_page {
                235
            } else {
                90
            }])
        });
        let page = crop_to_page(photo);
        // 2 % of each side kept around the page: 20 and 24 pixels.
        assert_eq!(page.dimensions(), (600 + 40, 850 + 48));
        assert_eq!(page.get_pixel(300 - 180 + 5, 300 - 126 + 5).0[0], 20);
        let scan = GrayImage::from_pixel(300, 400, Luma([240]));
        assert_eq!(crop_to_page(scan).dimensions(), (300, 400));
    }

    #[test]
    fn a_damaged_photo_is_an_error() {
        let mut bytes = jpeg_with_orientation(1);
        bytes.truncate(30);
        assert!(matches!(decode(&bytes), Err(PhotoError::Unreadable(_))));
        assert!(matches!(decode(b"hello"), Err(PhotoError::Unreadable(_))));
    }
}
