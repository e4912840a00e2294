//! Images: what a drawn image is, its decoding to grey (JPEG, packed samples, stencil
//! masks; fax images in [`super::ccitt`]), and a lone scan turned upright.

use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;
use image::{GrayImage, ImageDecoder};
use lopdf::{Dictionary, Document, Stream};
use tiny_skia::Transform;

use super::ccitt::ccitt;
use super::colour::{Space, luma8, to_gray, to_u8};
use super::filters::{Filter, filters, read_sample, unfilter};
use super::objects::{get2, integer, numbers};
use super::{Limits, PageError, damaged};

/// Where an image's stream lives: in the document, or inline in the content stream.
pub(super) enum ImageSource<'a> {
    Object(&'a Stream),
    Inline(Box<Stream>),
}

/// One image drawn by the page.
pub(super) struct ImageDraw<'a> {
    pub(super) source: ImageSource<'a>,
    /// Resources in force where it was drawn (named colour spaces).
    pub(super) resources: Option<&'a Dictionary>,
    /// Maps the unit square, where the image lies, to page space.
    pub(super) ctm: Transform,
    /// Grey of the fill colour, which paints stencil masks.
    pub(super) fill: f32,
}

impl ImageDraw<'_> {
    fn stream(&self) -> &Stream {
        match &self.source {
            ImageSource::Object(stream) => stream,
            ImageSource::Inline(stream) => stream,
        }
    }
}

/// An image's pixels as grey, rows top-down, with coverage when it is a stencil mask.
pub(super) struct Decoded {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) gray: Vec<u8>,
    pub(super) alpha: Option<Vec<u8>>,
}

pub(super) fn check_pixels(width: u64, height: u64, limits: &Limits) -> Result<(), PageError> {
    if width.saturating_mul(height) > limits.max_pixels {
        let max = limits.max_pixels;
        return Err(PageError::TooLarge(format!(
            "{width} x {height} pixels, at most {max}"
        )));
    }
    Ok(())
}

fn dimension(
    doc: &Document,
    dict: &Dictionary,
    full: &[u8],
    short: &[u8],
) -> Result<u32, PageError> {
    get2(doc, dict, full, short)
        .and_then(integer)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| damaged("an image has no valid size"))
}

/// Decodes one image to grey, charging its pixels to `budget` first.
pub(super) fn decode_image(
    doc: &Document,
    image: &ImageDraw,
    limits: &Limits,
    budget: &mut u64,
) -> Result<Decoded, PageError> {
    let dict = &image.stream().dict;
    let width = dimension(doc, dict, b"Width", b"W")?;
    let height = dimension(doc, dict, b"Height", b"H")?;
    check_pixels(u64::from(width), u64::from(height), limits)?;
    let pixels = u64::from(width) * u64::from(height);
    *budget = budget
        .checked_sub(pixels)
        .ok_or_else(|| PageError::TooLarge("the page's images hold too many pixels".into()))?;
    let chain = filters(doc, dict)?;
    let (codec, general) = match chain.split_last() {
        Some((&(filter, params), rest)) if filter.image_codec() => (Some((filter, params)), rest),
        _ => (None, &chain[..]),
    };
    if general.iter().any(|(f, _)| f.image_codec()) {
        return Err(PageError::Unsupported(
            "an image codec followed by another filter".into(),
        ));
    }
    // Raw samples are never larger than the declared image (at most 4 components of 16 bits
    // and a predictor byte a row): a small image whose stream inflates further is a bomb, and
    // is refused without inflating it all.
    let most = match codec {
        None => usize::try_from(pixels * 8 + u64::from(height) + 65_536)
            .unwrap_or(usize::MAX)
            .min(limits.max_stream_bytes),
        Some(_) => limits.max_stream_bytes,
    };
    let data = unfilter(doc, &image.stream().content, general, most)?;
    let decode = get2(doc, dict, b"Decode", b"D")
        .map(|o| numbers(doc, o))
        .unwrap_or_default();
    let size = (width, height);
    match codec {
        Some((Filter::Dct, _)) => jpeg(doc, image, &data, &decode, limits),
        Some((_, params)) => {
            let packed = ccitt(doc, &data, params, size)?;
            samples(doc, image, &packed, size, Some(1), &decode)
        }
        None => samples(doc, image, &data, size, None, &decode),
    }
}

/// A DCT (JPEG) image, at the size its own header gives.
fn jpeg(
    doc: &Document,
    image: &ImageDraw,
    data: &[u8],
    decode: &[f32],
    limits: &Limits,
) -> Result<Decoded, PageError> {
    let decoder =
        JpegDecoder::new(Cursor::new(data)).map_err(|_| damaged("a JPEG image is damaged"))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(damaged("a JPEG image is empty"));
    }
    check_pixels(u64::from(width), u64::from(height), limits)?;
    let channels = usize::from(decoder.color_type().channel_count());
    let mut buffer = vec![0u8; width as usize * height as usize * channels];
    decoder
        .read_image(&mut buffer)
        .map_err(|_| damaged("a JPEG image is damaged"))?;
    let mut gray: Vec<u8> = match channels {
        1 => buffer,
        2 => buffer.chunks_exact(2).map(|p| p[0]).collect(),
        3 | 4 => buffer
            .chunks_exact(channels)
            .map(|p| luma8(p[0], p[1], p[2]))
            .collect(),
        _ => return Err(PageError::Unsupported("a JPEG colour layout".into())),
    };
    // `/Decode [1 0]` inverts; on CMYK it is the Adobe convention the decoder already applied.
    let space = get2(doc, &image.stream().dict, b"ColorSpace", b"CS")
        .and_then(|o| Space::parse(doc, o, image.resources, 0).ok());
    let cmyk = matches!(space, Some(Space::Cmyk));
    if !cmyk && decode.len() >= 2 && decode[0] > decode[1] {
        gray.iter_mut().for_each(|g| *g = 255 - *g);
    }
    Ok(Decoded {
        width,
        height,
        gray,
        alpha: None,
    })
}

/// Packed samples (raw, Flate, CCITT) to grey through the image's colour space.
fn samples(
    doc: &Document,
    image: &ImageDraw,
    data: &[u8],
    (width, height): (u32, u32),
    bpc: Option<u32>,
    decode: &[f32],
) -> Result<Decoded, PageError> {
    let dict = &image.stream().dict;
    let (w, h) = (width as usize, height as usize);
    if get2(doc, dict, b"ImageMask", b"IM").and_then(|o| o.as_bool().ok()) == Some(true) {
        let painted = u16::from(decode.len() >= 2 && decode[0] > decode[1]);
        return stencil(data, (w, h), painted, image.fill).map(|(gray, alpha)| Decoded {
            width,
            height,
            gray,
            alpha: Some(alpha),
        });
    }
    let bpc = bpc
        .map(i64::from)
        .or_else(|| get2(doc, dict, b"BitsPerComponent", b"BPC").and_then(integer))
        .ok_or_else(|| damaged("an image has no bits per component"))?;
    // A missing colour space is read as grey, as viewers do for fax images.
    let space = match get2(doc, dict, b"ColorSpace", b"CS") {
        Some(space) => Space::parse(doc, space, image.resources, 0)?,
        None => Space::Gray,
    };
    if matches!(space, Space::Pattern) {
        return Err(damaged("an image has a pattern colour space"));
    }
    let gray = to_gray(data, (w, h), bpc, &space, decode)?;
    Ok(Decoded {
        width,
        height,
        gray,
        alpha: None,
    })
}

/// A 1-bit stencil: the fill colour where a sample equals `painted`, transparent elsewhere.
fn stencil(
    data: &[u8],
    (w, h): (usize, usize),
    painted: u16,
    fill: f32,
) -> Result<(Vec<u8>, Vec<u8>), PageError> {
    let stride = w.div_ceil(8);
    if data.len() < stride * h {
        return Err(damaged("an image's data is shorter than its size"));
    }
    let mut alpha = Vec::with_capacity(w * h);
    for row in data.chunks_exact(stride).take(h) {
        alpha.extend((0..w).map(|x| {
            if read_sample(row, x, 1) == painted {
                255
            } else {
                0
            }
        }));
    }
    Ok((vec![to_u8(fill); w * h], alpha))
}

/// A decoded scan turned so that it is upright as displayed: `to_device` maps the unit
/// square to device space (y down), which fixes flips and quarter turns.
pub(super) fn upright(decoded: Decoded, to_device: Transform) -> GrayImage {
    let Decoded {
        width,
        height,
        mut gray,
        alpha,
    } = decoded;
    if let Some(alpha) = alpha {
        // A lone stencil is painted over white paper.
        gray.iter_mut()
            .zip(&alpha)
            .for_each(|(g, &a)| *g = if a > 0 { *g } else { 255 });
    }
    let t = to_device.pre_concat(unit_square(width, height));
    let (w, h) = (width as usize, height as usize);
    let turned = t.sx.abs() < t.kx.abs();
    let (out_w, out_h) = if turned { (h, w) } else { (w, h) };
    let flip_x = if turned { t.kx < 0.0 } else { t.sx < 0.0 };
    let flip_y = if turned { t.ky < 0.0 } else { t.sy < 0.0 };
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

/// Image pixel coordinates (rows top-down) to the unit square (y up).
pub(super) fn unit_square(width: u32, height: u32) -> Transform {
    Transform::from_row(1.0 / width as f32, 0.0, 0.0, -1.0 / height as f32, 0.0, 1.0)
}
