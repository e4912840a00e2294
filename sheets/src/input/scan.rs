//! A page that is one scan: the scan decoded by hayro at its own resolution (no resampling,
//! so the reader sees every pixel the scanner stored), laid over white where it has a soft
//! mask, turned to grey and upright as a viewer shows it.

use hayro::hayro_interpret::font::GlyphRun;
use hayro::hayro_interpret::hayro_syntax::Filter;
use hayro::hayro_interpret::hayro_syntax::page::Page;
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_interpret::{
    BlendMode, ClipPath, Context, Device, DrawMode, DrawProps, Image, ImageData, ImageDrawProps,
    InterpreterCache, InterpreterSettings, LumaData, SoftMask, interpret_page,
};
use hayro::kurbo::{Affine, BezPath, Rect};
use image::GrayImage;

use super::survey::Scan;
use super::{PageError, damaged, luma8};

/// Decodes the page's one image and turns it upright per `scan`'s transform.
pub(super) fn capture(page: &Page<'_>, scan: Scan) -> Result<GrayImage, PageError> {
    let mut capture = Capture { taken: None };
    let cache = InterpreterCache::new();
    let (w, h) = page.render_dimensions();
    let bbox = Rect::new(0.0, 0.0, f64::from(w), f64::from(h));
    let transform = page.initial_transform(true).to_kurbo();
    let settings = InterpreterSettings::default();
    let mut context = Context::new(transform, bbox, &cache, page.xref(), settings);
    interpret_page(page, &mut context, &mut capture);
    let (gray, width, height) = capture
        .taken
        .ok_or_else(|| damaged("the scan disappeared between two readings"))??;
    Ok(upright(gray, (width, height), scan.transform))
}

/// Grey pixels, rows top-down, with the width and height.
type Gray = (Vec<u8>, u32, u32);

/// The first image drawn, decoded to grey (or why it could not be).
struct Capture {
    taken: Option<Result<Gray, PageError>>,
}

impl Capture {
    fn take(&mut self, image: &Image<'_, '_>) {
        let Image::Raster(raster) = image else {
            return;
        };
        let mut decoded = None;
        raster.with_rgba(
            |data, alpha| decoded = Some(to_gray(data, alpha.as_ref())),
            None,
        );
        self.taken = Some(decoded.ok_or_else(|| undecodable(&raster.stream().filters())));
    }
}

/// Why an image could not be read, naming its encoding.
pub(super) fn undecodable(filters: &[Filter]) -> PageError {
    let names: Vec<&str> = filters.iter().map(|f| filter_name(*f)).collect();
    let encoding = if names.is_empty() {
        "uncompressed".to_string()
    } else {
        names.join(" + ")
    };
    PageError::Unsupported(format!("an image ({encoding}) that could not be decoded"))
}

fn filter_name(filter: Filter) -> &'static str {
    match filter {
        Filter::AsciiHexDecode => "ASCIIHexDecode",
        Filter::Ascii85Decode => "ASCII85Decode",
        Filter::LzwDecode => "LZWDecode",
        Filter::FlateDecode => "FlateDecode",
        Filter::RunLengthDecode => "RunLengthDecode",
        Filter::CcittFaxDecode => "CCITTFaxDecode (fax)",
        Filter::Jbig2Decode => "JBIG2Decode",
        Filter::DctDecode => "DCTDecode (JPEG)",
        Filter::JpxDecode => "JPXDecode (JPEG 2000)",
        Filter::Crypt => "Crypt",
    }
}

/// Grey pixels of decoded image data, over white where `alpha` makes it transparent.
fn to_gray(data: ImageData, alpha: Option<&LumaData>) -> Gray {
    let (width, height) = (data.width(), data.height());
    let mut gray = match data {
        ImageData::Luma(luma) => luma.data,
        ImageData::Rgb(rgb) => rgb
            .data
            .chunks_exact(3)
            .map(|p| luma8(p[0], p[1], p[2]))
            .collect(),
    };
    if let Some(alpha) = alpha.filter(|a| a.width > 0 && a.height > 0) {
        let (w, h) = (width as usize, height as usize);
        let (aw, ah) = (alpha.width as usize, alpha.height as usize);
        for (y, row) in gray.chunks_exact_mut(w.max(1)).enumerate().take(h) {
            let ay = y * ah / h;
            for (x, g) in row.iter_mut().enumerate() {
                let a = u32::from(alpha.data[ay * aw + x * aw / w]);
                *g = ((u32::from(*g) * a + 255 * (255 - a) + 127) / 255) as u8;
            }
        }
    }
    (gray, width, height)
}

/// Grey pixels (rows top-down) turned so that they are upright as displayed: `transform`
/// maps image pixels to the device (y down), which fixes flips and quarter turns.
fn upright(gray: Vec<u8>, (width, height): (u32, u32), transform: Affine) -> GrayImage {
    let [a, b, c, d, _, _] = transform.as_coeffs();
    let (w, h) = (width as usize, height as usize);
    let turned = a.abs() < c.abs();
    let (out_w, out_h) = if turned { (h, w) } else { (w, h) };
    let flip_x = if turned { c < 0.0 } else { a < 0.0 };
    let flip_y = if turned { b < 0.0 } else { d < 0.0 };
    if !(turned || flip_x || flip_y) {
        return GrayImage::from_raw(width, height, gray).unwrap_or_default();
    }
    let mut out = vec![255u8; w * h];
    for (j, row) in gray.chunks_exact(w).enumerate() {
        for (i, &value) in row.iter().enumerate() {
            let (x, y) = if turned { (j, i) } else { (i, j) };
            let x = if flip_x { out_w - 1 - x } else { x };
            let y = if flip_y { out_h - 1 - y } else { y };
            out[y * out_w + x] = value;
        }
    }
    GrayImage::from_raw(out_w as u32, out_h as u32, out).unwrap_or_default()
}

impl<'a> Device<'a> for Capture {
    fn draw_path(&mut self, _: &BezPath, _: DrawProps<'a>, _: &DrawMode) {}

    fn push_clip_path(&mut self, _: &ClipPath) {}

    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'a>>, _: BlendMode) {}

    fn draw_glyph_run(&mut self, _: &GlyphRun<'_, 'a>, _: DrawProps<'a>, _: &DrawMode) {}

    fn draw_image(&mut self, image: Image<'a, '_>, _: ImageDrawProps<'a>) {
        if self.taken.is_none() {
            self.take(&image);
        }
    }

    fn pop_clip(&mut self) {}

    fn pop_transparency_group(&mut self) {}
}
