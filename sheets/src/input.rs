//! Scanned PDFs to page images: what the scanner saw on each page, as one grey image.
//!
//! A scan PDF draws one embedded image per page (rarely several strips of one). When a
//! single image covers the page it is returned at its native resolution, turned upright as
//! a viewer shows it. Anything else (strips, vector pages such as our own printed sheets)
//! is rasterized at the requested resolution by a small content-stream interpreter: paths,
//! greys and colours, images and form XObjects; text, clipping, dashes, patterns, shadings
//! and soft masks are skipped.
//!
//! Uploads are hostile until read: image sizes are checked before anything is allocated,
//! every stream this module inflates is bounded by [`Limits::max_stream_bytes`], form
//! nesting, operation counts and the pixels decoded per page are capped, and parsing and
//! decoding run under `catch_unwind` as a last defence.
//!
//! Residual risks, accepted: lopdf parses the whole file and inflates its object and
//! cross-reference streams while loading. It is given the same per-stream bound, but a
//! file made of many bounded streams can still cost several times its own size in memory.
//! Images drawn on a page that is composited (strips, or vector content next to the image)
//! are expanded to RGBA for tiny-skia, four bytes per pixel on top of their grey copy.
//! A CMYK JPEG is taken to be Adobe's inverted CMYK (what the JPEG decoder assumes), so
//! a rare plain-CMYK JPEG comes out as a negative.

use std::borrow::Cow;
use std::convert::Infallible;
use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use fax::Color as FaxColor;
use fax::decoder::{DecodeStatus, Group4Decoder, decode_g3, pels};
use flate2::read::{DeflateDecoder, ZlibDecoder};
use image::codecs::jpeg::JpegDecoder;
use image::{GrayImage, ImageDecoder};
use lopdf::content::{Content, Operation};
use lopdf::{DecompressError, Dictionary, Document, LoadOptions, Object, ObjectId, Stream};
use tiny_skia::{
    Color, FillRule, FilterQuality, IntSize, LineCap, LineJoin, Paint, Path, PathBuilder,
    PathSegment, Pattern, Pixmap, Point, Rect, SpreadMode, Stroke, Transform,
};

/// Limits that keep a hostile or broken upload from exhausting the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Pages a document may have.
    pub max_pages: usize,
    /// Pixels one page image may have (width x height).
    pub max_pixels: u64,
    /// Bytes one decompressed stream may have.
    pub max_stream_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pages: 100,
            max_pixels: 60_000_000,
            max_stream_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Why a document cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not a PDF.
    #[error("the file is not a PDF")]
    NotPdf,
    /// A PDF that cannot be parsed (truncated, damaged).
    #[error("the PDF is damaged or truncated: {0}")]
    Damaged(String),
    /// Encrypted PDFs are refused.
    #[error("the PDF is encrypted; scan without a password")]
    Encrypted,
    /// No pages.
    #[error("the PDF has no pages")]
    NoPages,
    /// Too many pages.
    #[error("the PDF has {pages} pages; at most {max} are read in one upload")]
    TooManyPages {
        /// Pages found.
        pages: usize,
        /// The limit.
        max: usize,
    },
}

/// Why one page cannot be turned into an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// The page's image is larger than [`Limits::max_pixels`] or a stream than
    /// [`Limits::max_stream_bytes`].
    #[error("the page image is too large ({0})")]
    TooLarge(String),
    /// An image encoding this reader does not support.
    #[error("unsupported image on the page: {0}")]
    Unsupported(String),
    /// The page's content is damaged.
    #[error("the page is damaged: {0}")]
    Damaged(String),
}

/// Leading junk a reader skips looking for `%PDF-`, as Acrobat does.
const HEADER_WINDOW: usize = 1024;
/// How close to the end an untruncated file has its `%%EOF` marker.
const TRAILER_WINDOW: usize = 1024;
/// Levels of `/Parent` followed for inherited page attributes.
const MAX_TREE_DEPTH: usize = 64;
/// Nesting of form XObjects; real documents use two or three levels.
const MAX_FORM_DEPTH: usize = 12;
/// Content operations interpreted per page, forms included; a printed sheet has thousands.
const MAX_OPERATIONS: usize = 1_000_000;
/// Graphics states kept by `q`; deeper nesting is counted but not stored.
const MAX_SAVED_STATES: usize = 256;
/// Filters one stream may chain; files use one or two.
const MAX_FILTERS: usize = 8;
/// Fraction of the page a single image must cover to be returned as the scan itself.
const MIN_COVERAGE: f32 = 0.8;
/// Largest page side accepted (pt): PDF's own limit is 200 inches.
const MAX_PAGE_SIDE: f32 = 14_400.0;
/// Device-space slack (px) around the canvas within which paths go to tiny-skia as they
/// are. Far beyond it tiny-skia 0.12's fixed-point scan converter overflows and panics
/// while unwinding, which aborts the process whatever `catch_unwind` does, so such paths
/// are flattened and clipped first.
const SAFE_MARGIN: f32 = 1024.0;
/// Widest stroke drawn (device px); a wider one covers the page anyway.
const MAX_STROKE_PX: f32 = 2048.0;
/// Largest miter limit honoured, which bounds how far a join may spike.
const MAX_MITER: f32 = 100.0;
/// Times a rasterized page may be painted over, counted in canvas areas...
const MAX_REPAINTS: f64 = 100.0;
/// ... and in pixels (a few hundred milliseconds of painting), but always at least four
/// canvas areas.
const MAX_PAINTED_PIXELS: f64 = 250_000_000.0;
/// What painting an image pixel costs against those budgets, in solid-fill pixels
/// (tiny-skia samples a transformed image about this much slower).
const IMAGE_PAINT_COST: f64 = 16.0;
/// Segments a curve becomes when a far-off path is flattened for clipping.
const CURVE_STEPS: usize = 16;
/// Points a flattened far-off path may have; beyond, it is not drawn.
const MAX_FLAT_POINTS: usize = 1 << 20;
/// A4 (pt), for a page without a usable MediaBox.
const A4: [f32; 4] = [0.0, 0.0, 595.28, 841.89];

/// An opened, checked PDF whose pages are turned into images one at a time.
pub struct ScannedPdf {
    doc: Document,
    pages: Vec<ObjectId>,
    limits: Limits,
}

impl ScannedPdf {
    /// Parses and checks a document (PDF header, encryption, page count).
    pub fn open(bytes: &[u8], limits: Limits) -> Result<ScannedPdf, InputError> {
        let start = header_offset(bytes).ok_or(InputError::NotPdf)?;
        let bytes = &bytes[start..];
        let tail = &bytes[bytes.len().saturating_sub(TRAILER_WINDOW)..];
        if !contains(tail, b"%%EOF") {
            return Err(InputError::Damaged(
                "it ends before its end-of-file marker".into(),
            ));
        }
        let options = LoadOptions {
            max_decompressed_size: Some(limits.max_stream_bytes),
            ..LoadOptions::default()
        };
        let loaded = catch_unwind(AssertUnwindSafe(|| {
            Document::load_mem_with_options(bytes, options)
        }));
        let doc = match loaded {
            Ok(Ok(doc)) => doc,
            // An encryption dictionary lopdf cannot even parse is still encryption.
            Ok(Err(_)) if contains(bytes, b"/Encrypt") => return Err(InputError::Encrypted),
            Ok(Err(error)) => return Err(InputError::Damaged(load_failure(&error))),
            Err(_) => return Err(InputError::Damaged("its structure cannot be read".into())),
        };
        // lopdf decrypts files with an empty user password and drops `/Encrypt`.
        if doc.trailer.has(b"Encrypt") || doc.was_encrypted() {
            return Err(InputError::Encrypted);
        }
        let pages = catch_unwind(AssertUnwindSafe(|| doc.page_iter().collect::<Vec<_>>()))
            .map_err(|_| InputError::Damaged("its page tree cannot be read".into()))?;
        if pages.is_empty() {
            return Err(InputError::NoPages);
        }
        if pages.len() > limits.max_pages {
            let (pages, max) = (pages.len(), limits.max_pages);
            return Err(InputError::TooManyPages { pages, max });
        }
        Ok(ScannedPdf { doc, pages, limits })
    }

    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Page `index` (0-based) as a grey image: its embedded scan, or the vector page
    /// rasterized at `dpi`.
    pub fn page_image(&self, index: usize, dpi: f32) -> Result<GrayImage, PageError> {
        let Some(&page) = self.pages.get(index) else {
            return Err(damaged(format!("there is no page {}", index + 1)));
        };
        if !(dpi.is_finite() && dpi > 0.0) {
            return Err(damaged(format!("cannot render at {dpi} dpi")));
        }
        catch_unwind(AssertUnwindSafe(|| self.render(page, dpi)))
            .unwrap_or_else(|_| Err(damaged("its content cannot be read")))
    }

    fn render(&self, page_id: ObjectId, dpi: f32) -> Result<GrayImage, PageError> {
        let doc = &self.doc;
        let page = doc
            .get_dictionary(page_id)
            .map_err(|_| damaged("the page object is missing"))?;
        let geometry = Geometry::of(doc, page)?;
        let resources = inherited(doc, page, b"Resources").and_then(|o| o.as_dict().ok());
        let mut interpreter = Interpreter::new(doc, self.limits);
        let content = page_content(doc, page, &mut interpreter.content_budget)?;
        interpreter.run(&content, resources, GState::default(), 0)?;
        let mut pixel_budget = self.limits.max_pixels;
        if let Some(scan) = sole_scan(&interpreter.draws, &geometry) {
            let decoded = decode_image(doc, scan, &self.limits, &mut pixel_budget)?;
            let (device, _, _) = geometry.device(1.0);
            return Ok(upright(decoded, device.pre_concat(scan.ctm)));
        }
        let mut canvas = Canvas::new(&geometry, dpi, &self.limits)?;
        for draw in &interpreter.draws {
            canvas.draw(doc, draw, &self.limits, &mut pixel_budget)?;
        }
        canvas.into_gray()
    }
}

fn damaged(reason: impl Into<String>) -> PageError {
    PageError::Damaged(reason.into())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Where `%PDF-` starts, if within the junk readers tolerate before it.
fn header_offset(bytes: &[u8]) -> Option<usize> {
    let window = &bytes[..bytes.len().min(HEADER_WINDOW + 5)];
    window.windows(5).position(|w| w == b"%PDF-")
}

/// A short reason for a load failure, without lopdf's internals.
fn load_failure(error: &lopdf::Error) -> String {
    match error {
        lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => {
            "a compressed object stream is larger than allowed".into()
        }
        _ => "its structure cannot be read".into(),
    }
}

// ---------------------------------------------------------------------------------------
// Dictionary access: lenient, following references, never panicking.

fn deref<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    doc.dereference(object).ok().map(|(_, o)| o)
}

fn get<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    deref(doc, dict.get(key).ok()?)
}

/// A key that inline images may abbreviate (`/W` for `/Width`).
fn get2<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    full: &[u8],
    short: &[u8],
) -> Option<&'a Object> {
    get(doc, dict, full).or_else(|| get(doc, dict, short))
}

fn integer(object: &Object) -> Option<i64> {
    match object {
        Object::Integer(i) => Some(*i),
        Object::Real(r) if r.is_finite() => Some(r.round() as i64),
        _ => None,
    }
}

fn param(doc: &Document, dict: Option<&Dictionary>, key: &[u8]) -> Option<i64> {
    get(doc, dict?, key).and_then(integer)
}

fn flag(doc: &Document, dict: Option<&Dictionary>, key: &[u8]) -> Option<bool> {
    get(doc, dict?, key).and_then(|o| o.as_bool().ok())
}

/// The finite numbers of an array (references followed).
fn numbers(doc: &Document, object: &Object) -> Vec<f32> {
    match object {
        Object::Array(items) => items
            .iter()
            .filter_map(|i| deref(doc, i)?.as_float().ok())
            .filter(|n| n.is_finite())
            .collect(),
        _ => Vec::new(),
    }
}

/// A page attribute that may be set on the page or any of its ancestors.
fn inherited<'a>(doc: &'a Document, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..MAX_TREE_DEPTH {
        if let Some(value) = get(doc, node, key) {
            return Some(value);
        }
        node = get(doc, node, b"Parent")?.as_dict().ok()?;
    }
    None
}

fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

// ---------------------------------------------------------------------------------------
// Stream filters.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    Flate,
    Lzw,
    Ascii85,
    AsciiHex,
    RunLength,
    Dct,
    Ccitt,
}

impl Filter {
    fn image_codec(self) -> bool {
        matches!(self, Filter::Dct | Filter::Ccitt)
    }
}

type Chain<'a> = Vec<(Filter, Option<&'a Dictionary>)>;

/// A stream's filters in decoding order, each with its parameters.
fn filters<'a>(doc: &'a Document, dict: &'a Dictionary) -> Result<Chain<'a>, PageError> {
    let names: Vec<&Object> = match get2(doc, dict, b"Filter", b"F") {
        None => Vec::new(),
        Some(Object::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    if names.len() > MAX_FILTERS {
        return Err(damaged("a stream chains too many filters"));
    }
    let params: Vec<Option<&Dictionary>> = match get2(doc, dict, b"DecodeParms", b"DP") {
        Some(Object::Array(items)) => items
            .iter()
            .map(|i| deref(doc, i).and_then(|o| o.as_dict().ok()))
            .collect(),
        Some(Object::Dictionary(one)) => vec![Some(one)],
        _ => Vec::new(),
    };
    let mut chain = Vec::with_capacity(names.len());
    for (index, name) in names.into_iter().enumerate() {
        let name = deref(doc, name)
            .and_then(|o| o.as_name().ok())
            .ok_or_else(|| damaged("a stream's filter is not a name"))?;
        let filter = match name {
            b"FlateDecode" | b"Fl" => Filter::Flate,
            b"LZWDecode" | b"LZW" => Filter::Lzw,
            b"ASCII85Decode" | b"A85" => Filter::Ascii85,
            b"ASCIIHexDecode" | b"AHx" => Filter::AsciiHex,
            b"RunLengthDecode" | b"RL" => Filter::RunLength,
            b"DCTDecode" | b"DCT" => Filter::Dct,
            b"CCITTFaxDecode" | b"CCF" => Filter::Ccitt,
            other => return Err(PageError::Unsupported(lossy(other))),
        };
        chain.push((filter, params.get(index).copied().flatten()));
    }
    Ok(chain)
}

/// Runs the general-purpose (non-image) filters of `chain` over `data`.
fn unfilter<'d>(
    doc: &Document,
    data: &'d [u8],
    chain: &[(Filter, Option<&Dictionary>)],
    max: usize,
) -> Result<Cow<'d, [u8]>, PageError> {
    let mut data = Cow::Borrowed(data);
    for &(filter, params) in chain {
        data = Cow::Owned(match filter {
            Filter::Flate => unpredict(doc, inflate(&data, max)?, params)?,
            Filter::Lzw => with_lopdf(b"LZWDecode", params, &data, max)?,
            Filter::Ascii85 => with_lopdf(b"ASCII85Decode", params, &data, max)?,
            Filter::AsciiHex => with_lopdf(b"ASCIIHexDecode", params, &data, max)?,
            Filter::RunLength => with_lopdf(b"RunLengthDecode", params, &data, max)?,
            Filter::Dct | Filter::Ccitt => return Err(damaged("an image codec is misplaced")),
        });
    }
    Ok(data)
}

/// A whole non-image stream (page content, form, palette), at most `max` bytes decoded.
fn decode_stream<'s>(
    doc: &Document,
    stream: &'s Stream,
    max: usize,
) -> Result<Cow<'s, [u8]>, PageError> {
    let chain = filters(doc, &stream.dict)?;
    let data = unfilter(doc, &stream.content, &chain, max)?;
    if data.len() > max {
        return Err(PageError::TooLarge(format!("a stream exceeds {max} bytes")));
    }
    Ok(data)
}

/// Inflates zlib data, reading at most `max + 1` bytes so a bomb is caught without being
/// held. A damaged tail keeps what was inflated before it, as viewers do.
fn inflate(data: &[u8], max: usize) -> Result<Vec<u8>, PageError> {
    let bound = (max as u64).saturating_add(1);
    let mut out = Vec::new();
    let result = ZlibDecoder::new(data).take(bound).read_to_end(&mut out);
    if result.is_err() && out.is_empty() && data.len() > 2 {
        // Some writers emit raw deflate, or a zlib header with a bad checksum.
        let _ = DeflateDecoder::new(&data[2..])
            .take(bound)
            .read_to_end(&mut out);
    }
    if out.len() > max {
        return Err(PageError::TooLarge(format!(
            "a stream inflates past {max} bytes"
        )));
    }
    if result.is_err() && out.is_empty() {
        return Err(damaged("a compressed stream is damaged"));
    }
    Ok(out)
}

/// The rarely used filters, through lopdf's own bounded decoders.
fn with_lopdf(
    name: &[u8],
    params: Option<&Dictionary>,
    data: &[u8],
    max: usize,
) -> Result<Vec<u8>, PageError> {
    let mut dict = Dictionary::new();
    dict.set("Filter", Object::Name(name.to_vec()));
    if let Some(params) = params {
        dict.set("DecodeParms", Object::Dictionary(params.clone()));
    }
    Stream::new(dict, data.to_vec())
        .decompressed_content_with_limit(max)
        .map_err(|error| match error {
            lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => {
                PageError::TooLarge(format!("a stream decodes past {max} bytes"))
            }
            _ => damaged(format!("a {} stream is damaged", lossy(name))),
        })
}

/// Undoes a Flate predictor: PNG (10 to 15, per-row filter byte) or TIFF 2.
fn unpredict(
    doc: &Document,
    data: Vec<u8>,
    params: Option<&Dictionary>,
) -> Result<Vec<u8>, PageError> {
    let predictor = param(doc, params, b"Predictor").unwrap_or(1);
    if predictor < 2 {
        return Ok(data);
    }
    let colors = param(doc, params, b"Colors").unwrap_or(1);
    let bpc = param(doc, params, b"BitsPerComponent").unwrap_or(8);
    let columns = param(doc, params, b"Columns").unwrap_or(1);
    if !(1..=32).contains(&colors)
        || ![1, 2, 4, 8, 16].contains(&bpc)
        || !(1..=1 << 24).contains(&columns)
    {
        return Err(damaged("a stream's predictor parameters are invalid"));
    }
    let (colors, bpc, columns) = (colors as usize, bpc as usize, columns as usize);
    let row = (columns * colors * bpc).div_ceil(8);
    match predictor {
        2 => Ok(tiff_unpredict(data, (row, columns * colors), colors, bpc)),
        10..=15 => png_unpredict(&data, row, (colors * bpc).div_ceil(8)),
        other => Err(PageError::Unsupported(format!("predictor {other}"))),
    }
}

fn png_unpredict(data: &[u8], row: usize, bpp: usize) -> Result<Vec<u8>, PageError> {
    let mut out = Vec::with_capacity(data.len() / (row + 1) * row);
    let mut previous = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        let Some((&kind, line)) = chunk.split_first() else {
            break;
        };
        let mut line = line.to_vec();
        for i in 0..line.len() {
            let left = if i >= bpp { line[i - bpp] } else { 0 };
            let up = previous[i];
            let up_left = if i >= bpp { previous[i - bpp] } else { 0 };
            let predicted = match kind {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => paeth(left, up, up_left),
                _ => return Err(damaged("an image row has an unknown PNG filter")),
            };
            line[i] = line[i].wrapping_add(predicted);
        }
        previous[..line.len()].copy_from_slice(&line);
        out.extend_from_slice(&line);
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// TIFF predictor 2: each sample is stored as the difference from the one to its left.
fn tiff_unpredict(
    mut data: Vec<u8>,
    (row, samples): (usize, usize),
    colors: usize,
    bpc: usize,
) -> Vec<u8> {
    let mask = if bpc == 16 {
        u16::MAX
    } else {
        (1u16 << bpc) - 1
    };
    for line in data.chunks_mut(row) {
        let mut left = [0u16; 32];
        let available = (line.len() * 8 / bpc).min(samples);
        for index in 0..available {
            let value = read_sample(line, index, bpc).wrapping_add(left[index % colors]) & mask;
            write_sample(line, index, bpc, value);
            left[index % colors] = value;
        }
    }
    data
}

/// Sample `index` of a packed row of `bpc`-bit samples (0 past the end).
fn read_sample(row: &[u8], index: usize, bpc: usize) -> u16 {
    match bpc {
        8 => row.get(index).copied().map_or(0, u16::from),
        16 => match row.get(index * 2..index * 2 + 2) {
            Some(pair) => u16::from_be_bytes([pair[0], pair[1]]),
            None => 0,
        },
        _ => {
            let bit = index * bpc;
            let byte = row.get(bit / 8).copied().unwrap_or(0);
            u16::from((byte >> (8 - bpc - bit % 8)) & ((1u8 << bpc) - 1))
        }
    }
}

fn write_sample(row: &mut [u8], index: usize, bpc: usize, value: u16) {
    match bpc {
        8 => {
            if let Some(byte) = row.get_mut(index) {
                *byte = value as u8;
            }
        }
        16 => {
            if let Some(pair) = row.get_mut(index * 2..index * 2 + 2) {
                pair.copy_from_slice(&value.to_be_bytes());
            }
        }
        _ => {
            let bit = index * bpc;
            let shift = 8 - bpc - bit % 8;
            let mask = ((1u8 << bpc) - 1) << shift;
            if let Some(byte) = row.get_mut(bit / 8) {
                *byte = (*byte & !mask) | (((value as u8) << shift) & mask);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Colour spaces, reduced to what a grey page needs.

#[derive(Debug, Clone)]
enum Space {
    Gray,
    Rgb,
    Cmyk,
    Lab,
    /// One ink; its tint is approximated as darkness.
    Separation,
    /// Several inks, approximated by the darkest.
    DeviceN(usize),
    /// A palette, already converted to grey.
    Indexed(Rc<[u8]>),
    Pattern,
}

impl Space {
    fn parse(
        doc: &Document,
        object: &Object,
        resources: Option<&Dictionary>,
        depth: usize,
    ) -> Result<Space, PageError> {
        if depth > 4 {
            return Err(damaged("colour spaces refer to each other"));
        }
        match object {
            Object::Name(name) => Self::named(doc, name, resources, depth),
            Object::Array(items) => Self::family(doc, items, resources, depth),
            Object::Reference(_) => match deref(doc, object) {
                Some(target) => Self::parse(doc, target, resources, depth + 1),
                None => Err(damaged("a colour space is missing")),
            },
            _ => Err(damaged("a colour space is malformed")),
        }
    }

    fn named(
        doc: &Document,
        name: &[u8],
        resources: Option<&Dictionary>,
        depth: usize,
    ) -> Result<Space, PageError> {
        match name {
            b"DeviceGray" | b"G" | b"CalGray" => Ok(Space::Gray),
            b"DeviceRGB" | b"RGB" | b"CalRGB" => Ok(Space::Rgb),
            b"DeviceCMYK" | b"CMYK" => Ok(Space::Cmyk),
            b"Pattern" => Ok(Space::Pattern),
            _ => {
                let found = resources
                    .and_then(|r| get(doc, r, b"ColorSpace"))
                    .and_then(|o| o.as_dict().ok())
                    .and_then(|d| get(doc, d, name))
                    .ok_or_else(|| {
                        PageError::Unsupported(format!("colour space {}", lossy(name)))
                    })?;
                Self::parse(doc, found, resources, depth + 1)
            }
        }
    }

    fn family(
        doc: &Document,
        items: &[Object],
        resources: Option<&Dictionary>,
        depth: usize,
    ) -> Result<Space, PageError> {
        let family = items
            .first()
            .and_then(|o| deref(doc, o)?.as_name().ok())
            .unwrap_or(b"");
        let argument = |i: usize| items.get(i).and_then(|o| deref(doc, o));
        match family {
            b"CalGray" => Ok(Space::Gray),
            b"CalRGB" => Ok(Space::Rgb),
            b"CalCMYK" => Ok(Space::Cmyk),
            b"Lab" => Ok(Space::Lab),
            b"Separation" => Ok(Space::Separation),
            b"DeviceN" => {
                let inks = argument(1)
                    .and_then(|o| o.as_array().ok())
                    .map_or(1, Vec::len);
                Ok(Space::DeviceN(inks.clamp(1, 32)))
            }
            b"Pattern" => Ok(Space::Pattern),
            b"ICCBased" => {
                let dict = argument(1)
                    .and_then(|o| o.as_stream().ok())
                    .map(|s| &s.dict);
                match param(doc, dict, b"N") {
                    Some(1) => Ok(Space::Gray),
                    Some(3) => Ok(Space::Rgb),
                    Some(4) => Ok(Space::Cmyk),
                    _ => match dict.and_then(|d| get(doc, d, b"Alternate")) {
                        Some(alternate) => Self::parse(doc, alternate, resources, depth + 1),
                        None => Err(PageError::Unsupported("ICC profile of unknown size".into())),
                    },
                }
            }
            b"Indexed" | b"I" => Self::indexed(doc, items, resources, depth),
            b"" => Err(damaged("a colour space is malformed")),
            _ if items.len() == 1 => Self::named(doc, family, resources, depth + 1),
            other => Err(PageError::Unsupported(format!(
                "colour space {}",
                lossy(other)
            ))),
        }
    }

    /// `[/Indexed base hival lookup]`, with the palette converted to grey once.
    fn indexed(
        doc: &Document,
        items: &[Object],
        resources: Option<&Dictionary>,
        depth: usize,
    ) -> Result<Space, PageError> {
        let argument = |i: usize| items.get(i).and_then(|o| deref(doc, o));
        let base = argument(1).ok_or_else(|| damaged("a palette has no base colour space"))?;
        let base = Self::parse(doc, base, resources, depth + 1)?;
        if matches!(base, Space::Indexed(_) | Space::Pattern) {
            return Err(damaged("a palette's base colour space is invalid"));
        }
        let hival = argument(2).and_then(integer).unwrap_or(255).clamp(0, 255) as usize;
        let lookup: Cow<[u8]> = match argument(3) {
            Some(Object::String(bytes, _)) => Cow::Borrowed(bytes),
            Some(Object::Stream(stream)) => decode_stream(doc, stream, 64 * 1024)?,
            _ => return Err(damaged("a palette has no colours")),
        };
        let n = base.components();
        let palette: Vec<u8> = (0..=hival)
            .map(|index| {
                let colour: Vec<f32> = (0..n)
                    .map(|c| {
                        let (low, high) = base.default_range(c);
                        let byte = lookup.get(index * n + c).copied().unwrap_or(0);
                        low + f32::from(byte) / 255.0 * (high - low)
                    })
                    .collect();
                to_u8(base.gray(&colour).unwrap_or(0.0))
            })
            .collect();
        Ok(Space::Indexed(palette.into()))
    }

    fn components(&self) -> usize {
        match self {
            Space::Gray | Space::Separation | Space::Indexed(_) | Space::Pattern => 1,
            Space::Rgb | Space::Lab => 3,
            Space::Cmyk => 4,
            Space::DeviceN(n) => *n,
        }
    }

    /// The natural range of component `c` (what `/Decode` maps samples onto by default).
    fn default_range(&self, c: usize) -> (f32, f32) {
        match (self, c) {
            (Space::Lab, 0) => (0.0, 100.0),
            (Space::Lab, _) => (-100.0, 100.0),
            _ => (0.0, 1.0),
        }
    }

    /// The colour a fill gets when the space is selected (black for process colours).
    fn initial(&self) -> Vec<f32> {
        match self {
            Space::Separation | Space::DeviceN(_) => vec![1.0; self.components()],
            _ => vec![0.0; self.components()],
        }
    }

    /// Lightness of a colour in 0..=1, or `None` for a pattern (not drawn).
    fn gray(&self, c: &[f32]) -> Option<f32> {
        let at = |i: usize| c.get(i).copied().unwrap_or(0.0).clamp(0.0, 1.0);
        let luma = |r: f32, g: f32, b: f32| 0.299 * r + 0.587 * g + 0.114 * b;
        Some(match self {
            Space::Gray => at(0),
            Space::Rgb => luma(at(0), at(1), at(2)),
            Space::Cmyk => {
                let k = 1.0 - at(3);
                luma((1.0 - at(0)) * k, (1.0 - at(1)) * k, (1.0 - at(2)) * k)
            }
            Space::Lab => (c.first().copied().unwrap_or(0.0) / 100.0).clamp(0.0, 1.0),
            Space::Separation => 1.0 - at(0),
            Space::DeviceN(n) => 1.0 - (0..*n).map(at).fold(0.0, f32::max),
            Space::Indexed(palette) => {
                let index = c.first().copied().unwrap_or(0.0).round().max(0.0) as usize;
                let last = palette.len().saturating_sub(1);
                f32::from(palette.get(index.min(last)).copied().unwrap_or(0)) / 255.0
            }
            Space::Pattern => return None,
        })
    }
}

fn to_u8(value: f32) -> u8 {
    (value.clamp(0.0, 1.0) * 255.0).round() as u8
}

fn luma8(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000) as u8
}

// ---------------------------------------------------------------------------------------
// Images.

/// Where an image's stream lives: in the document, or inline in the content stream.
enum ImageSource<'a> {
    Object(&'a Stream),
    Inline(Box<Stream>),
}

/// One image drawn by the page.
struct ImageDraw<'a> {
    source: ImageSource<'a>,
    /// Resources in force where it was drawn (named colour spaces).
    resources: Option<&'a Dictionary>,
    /// Maps the unit square, where the image lies, to page space.
    ctm: Transform,
    /// Grey of the fill colour, which paints stencil masks.
    fill: f32,
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
struct Decoded {
    width: u32,
    height: u32,
    gray: Vec<u8>,
    alpha: Option<Vec<u8>>,
}

fn check_pixels(width: u64, height: u64, limits: &Limits) -> Result<(), PageError> {
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
fn decode_image(
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
    let data = unfilter(
        doc,
        &image.stream().content,
        general,
        limits.max_stream_bytes,
    )?;
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

/// A CCITT fax image, as packed 1-bit rows (0 = black unless `/BlackIs1`).
fn ccitt(
    doc: &Document,
    data: &[u8],
    params: Option<&Dictionary>,
    (width, height): (u32, u32),
) -> Result<Vec<u8>, PageError> {
    let k = param(doc, params, b"K").unwrap_or(0);
    let columns = param(doc, params, b"Columns").unwrap_or(i64::from(width));
    if columns != i64::from(width) {
        return Err(damaged("a fax image's width disagrees with its columns"));
    }
    if flag(doc, params, b"EncodedByteAlign") == Some(true) {
        return Err(PageError::Unsupported(
            "CCITTFaxDecode with EncodedByteAlign".into(),
        ));
    }
    let black_is_1 = flag(doc, params, b"BlackIs1").unwrap_or(false);
    let mut sink = FaxRows::new(width, height, black_is_1);
    let complete = if k < 0 {
        let bytes = data.iter().map(|&b| Ok::<u8, Infallible>(b));
        let Ok(mut decoder) = Group4Decoder::new(bytes, width);
        loop {
            if sink.lines >= sink.height {
                break true;
            }
            match decoder.advance() {
                Ok(DecodeStatus::Incomplete) => sink.line(decoder.transition()),
                // Encoders may stop before trailing white lines.
                Ok(DecodeStatus::End) => break true,
                Err(_) => break false,
            }
        }
    } else if k == 0 && flag(doc, params, b"EndOfLine") == Some(true) {
        decode_g3(data.iter().copied(), |t| sink.line(t)).is_some()
    } else {
        return Err(PageError::Unsupported(
            "CCITTFaxDecode Group 3 without EOL or 2-D".into(),
        ));
    };
    if !complete && sink.lines < sink.height {
        return Err(damaged("a fax image is damaged"));
    }
    Ok(sink.packed)
}

/// Decoded fax lines packed into 1-bit rows, white where no line was decoded.
struct FaxRows {
    packed: Vec<u8>,
    width: u32,
    height: usize,
    stride: usize,
    black_is_1: bool,
    lines: usize,
}

impl FaxRows {
    fn new(width: u32, height: u32, black_is_1: bool) -> Self {
        let stride = (width as usize).div_ceil(8);
        let white = if black_is_1 { 0 } else { 0xFF };
        FaxRows {
            packed: vec![white; stride * height as usize],
            width,
            height: height as usize,
            stride,
            black_is_1,
            lines: 0,
        }
    }

    /// One line, given as the positions where its colour changes (starting white).
    fn line(&mut self, transitions: &[u32]) {
        let range = self.lines * self.stride..(self.lines + 1) * self.stride;
        if let Some(row) = self.packed.get_mut(range) {
            for (x, colour) in pels(transitions, self.width).enumerate() {
                let bit = u16::from((colour == FaxColor::Black) == self.black_is_1);
                write_sample(row, x, 1, bit);
            }
        }
        self.lines += 1;
    }
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

fn to_gray(
    data: &[u8],
    (w, h): (usize, usize),
    bpc: i64,
    space: &Space,
    decode: &[f32],
) -> Result<Vec<u8>, PageError> {
    let n = space.components();
    // 16-bit samples keep their high byte: grey output has 8 bits anyway.
    let (data, bpc): (Cow<[u8]>, usize) = match bpc {
        16 => (data.iter().step_by(2).copied().collect(), 8),
        1 | 2 | 4 | 8 => (Cow::Borrowed(data), bpc as usize),
        other => return Err(damaged(format!("an image has {other} bits per component"))),
    };
    let stride = (w * n * bpc).div_ceil(8);
    if data.len() < stride * h {
        return Err(damaged("an image's data is shorter than its size"));
    }
    let top = (1usize << bpc) - 1;
    // Per component: sample value to its decoded value.
    let tables: Vec<Vec<f32>> = (0..n)
        .map(|c| {
            let (low, high) = match (decode.get(2 * c), decode.get(2 * c + 1), space) {
                (Some(&low), Some(&high), _) => (low, high),
                (_, _, Space::Indexed(_)) => (0.0, top as f32),
                _ => space.default_range(c),
            };
            (0..=top)
                .map(|v| low + v as f32 * (high - low) / top as f32)
                .collect()
        })
        .collect();
    let mut gray = Vec::with_capacity(w * h);
    if n == 1 {
        let table: Vec<u8> = tables[0]
            .iter()
            .map(|&v| to_u8(space.gray(&[v]).unwrap_or(0.0)))
            .collect();
        for row in data.chunks_exact(stride).take(h) {
            gray.extend((0..w).map(|x| table[usize::from(read_sample(row, x, bpc))]));
        }
        return Ok(gray);
    }
    let mut colour = vec![0f32; n];
    for row in data.chunks_exact(stride).take(h) {
        for x in 0..w {
            for (c, value) in colour.iter_mut().enumerate() {
                *value = tables[c][usize::from(read_sample(row, x * n + c, bpc))];
            }
            gray.push(to_u8(space.gray(&colour).unwrap_or(0.0)));
        }
    }
    Ok(gray)
}

/// A decoded scan turned so that it is upright as displayed: `to_device` maps the unit
/// square to device space (y down), which fixes flips and quarter turns.
fn upright(decoded: Decoded, to_device: Transform) -> GrayImage {
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
fn unit_square(width: u32, height: u32) -> Transform {
    Transform::from_row(1.0 / width as f32, 0.0, 0.0, -1.0 / height as f32, 0.0, 1.0)
}

// ---------------------------------------------------------------------------------------
// Page geometry.

/// The visible page box (pt) and its display rotation.
struct Geometry {
    x0: f32,
    y0: f32,
    width: f32,
    height: f32,
    /// Clockwise quarter turns, in degrees: 0, 90, 180 or 270.
    rotate: u32,
}

impl Geometry {
    fn of(doc: &Document, page: &Dictionary) -> Result<Geometry, PageError> {
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
    fn device(&self, scale: f32) -> (Transform, f32, f32) {
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
fn sole_scan<'d, 'a>(draws: &'d [Draw<'a>], geometry: &Geometry) -> Option<&'d ImageDraw<'a>> {
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

// ---------------------------------------------------------------------------------------
// Content-stream interpretation to a display list.

/// One thing the page paints, in page space.
enum Draw<'a> {
    Fill {
        path: Path,
        rule: FillRule,
        gray: f32,
        ctm: Transform,
    },
    Stroke {
        path: Path,
        gray: f32,
        ctm: Transform,
        width: f32,
        cap: LineCap,
        join: LineJoin,
        miter: f32,
    },
    Image(ImageDraw<'a>),
}

/// A colour reduced to grey; `gray` is `None` for a pattern, which is not drawn.
#[derive(Clone)]
struct Ink {
    space: Space,
    gray: Option<f32>,
}

impl Ink {
    fn set(&mut self, space: Space, colour: &[f32]) {
        self.gray = space.gray(colour);
        self.space = space;
    }

    /// `sc`/`scn`: components in the current space, or guessed from their count when a
    /// space could not be read.
    fn components(&mut self, colour: &[f32]) {
        let space = match colour.len() {
            n if n == self.space.components() => self.space.clone(),
            1 => Space::Gray,
            3 => Space::Rgb,
            4 => Space::Cmyk,
            _ => return,
        };
        self.gray = space.gray(colour);
    }
}

#[derive(Clone)]
struct GState {
    ctm: Transform,
    fill: Ink,
    stroke: Ink,
    line_width: f32,
    cap: LineCap,
    join: LineJoin,
    miter: f32,
}

impl Default for GState {
    fn default() -> Self {
        let black = Ink {
            space: Space::Gray,
            gray: Some(0.0),
        };
        GState {
            ctm: Transform::identity(),
            fill: black.clone(),
            stroke: black,
            line_width: 1.0,
            cap: LineCap::Butt,
            join: LineJoin::Miter,
            miter: 10.0,
        }
    }
}

/// The interpretation of one content stream (the page's or a form's).
struct Frame<'a> {
    resources: Option<&'a Dictionary>,
    depth: usize,
    state: GState,
    saved: Vec<GState>,
    unsaved: usize,
    path: PathBuilder,
}

struct Interpreter<'a> {
    doc: &'a Document,
    draws: Vec<Draw<'a>>,
    operations: usize,
    /// Decoded content bytes still allowed on this page, forms included.
    content_budget: usize,
    /// Forms being interpreted, to refuse a form that draws itself.
    forms: Vec<ObjectId>,
}

/// The page's content streams, concatenated with newlines.
fn page_content(
    doc: &Document,
    page: &Dictionary,
    budget: &mut usize,
) -> Result<Vec<u8>, PageError> {
    let streams: Vec<&Stream> = match get(doc, page, b"Contents") {
        None | Some(Object::Null) => Vec::new(),
        Some(Object::Stream(stream)) => vec![stream],
        Some(Object::Array(items)) => items
            .iter()
            .map(|i| deref(doc, i).and_then(|o| o.as_stream().ok()))
            .collect::<Option<_>>()
            .ok_or_else(|| damaged("a content stream is missing"))?,
        Some(_) => return Err(damaged("the page content is malformed")),
    };
    let mut content = Vec::new();
    for stream in streams {
        let data = decode_stream(doc, stream, *budget)?;
        *budget -= data.len();
        content.extend_from_slice(&data);
        content.push(b'\n');
    }
    Ok(content)
}

impl<'a> Interpreter<'a> {
    fn new(doc: &'a Document, limits: Limits) -> Self {
        Interpreter {
            doc,
            draws: Vec::new(),
            operations: 0,
            content_budget: limits.max_stream_bytes,
            forms: Vec::new(),
        }
    }

    fn run(
        &mut self,
        content: &[u8],
        resources: Option<&'a Dictionary>,
        state: GState,
        depth: usize,
    ) -> Result<(), PageError> {
        let mut frame = Frame {
            resources,
            depth,
            state,
            saved: Vec::new(),
            unsaved: 0,
            path: PathBuilder::new(),
        };
        for operation in Content::<Vec<Operation>>::decode_iter(content) {
            // A damaged tail ends the page where viewers stop drawing it too.
            let Ok(operation) = operation else { break };
            self.operations += 1;
            if self.operations > MAX_OPERATIONS {
                return Err(PageError::TooLarge(
                    "the page has too many drawing operations".into(),
                ));
            }
            self.step(&mut frame, &operation)?;
        }
        Ok(())
    }

    fn step(&mut self, frame: &mut Frame<'a>, operation: &Operation) -> Result<(), PageError> {
        let args: Vec<f32> = operation
            .operands
            .iter()
            .filter_map(|o| o.as_float().ok())
            .filter(|n| n.is_finite())
            .collect();
        let state = &mut frame.state;
        match (operation.operator.as_str(), args.as_slice()) {
            ("q", _) if frame.saved.len() < MAX_SAVED_STATES => frame.saved.push(state.clone()),
            ("q", _) => frame.unsaved += 1,
            ("Q", _) if frame.unsaved > 0 => frame.unsaved -= 1,
            ("Q", _) => {
                if let Some(saved) = frame.saved.pop() {
                    *state = saved;
                }
            }
            ("cm", &[a, b, c, d, e, f]) => {
                state.ctm = state.ctm.pre_concat(Transform::from_row(a, b, c, d, e, f))
            }
            ("w", &[w]) => state.line_width = w.abs(),
            ("J", &[cap]) => {
                state.cap = [LineCap::Butt, LineCap::Round, LineCap::Square][(cap as usize).min(2)]
            }
            ("j", &[join]) => {
                state.join =
                    [LineJoin::Miter, LineJoin::Round, LineJoin::Bevel][(join as usize).min(2)]
            }
            ("M", &[miter]) => state.miter = miter.max(1.0),
            (
                "g" | "G" | "rg" | "RG" | "k" | "K" | "cs" | "CS" | "sc" | "scn" | "SC" | "SCN",
                _,
            ) => self.colour(frame, operation, &args),
            ("Do", _) => {
                if let Some(name) = operation.operands.first().and_then(|o| o.as_name().ok()) {
                    self.xobject(frame, name)?;
                }
            }
            ("BI", _) => {
                if let Some(Object::Stream(stream)) = operation.operands.first() {
                    let source = ImageSource::Inline(Box::new(stream.clone()));
                    self.image(frame, source);
                }
            }
            (operator, args) => self.path(frame, operator, args),
        }
        Ok(())
    }

    /// Colour operators; every colour is kept as the grey it prints as.
    fn colour(&self, frame: &mut Frame<'a>, operation: &Operation, args: &[f32]) {
        let state = &mut frame.state;
        match (operation.operator.as_str(), args) {
            ("g", &[g]) => state.fill.set(Space::Gray, &[g]),
            ("G", &[g]) => state.stroke.set(Space::Gray, &[g]),
            ("rg", &[r, g, b]) => state.fill.set(Space::Rgb, &[r, g, b]),
            ("RG", &[r, g, b]) => state.stroke.set(Space::Rgb, &[r, g, b]),
            ("k", &[c, m, y, k]) => state.fill.set(Space::Cmyk, &[c, m, y, k]),
            ("K", &[c, m, y, k]) => state.stroke.set(Space::Cmyk, &[c, m, y, k]),
            ("cs" | "CS", _) => {
                let space = operation
                    .operands
                    .first()
                    .and_then(|o| Space::parse(self.doc, o, frame.resources, 0).ok())
                    .unwrap_or(Space::Gray);
                let ink = if operation.operator == "cs" {
                    &mut state.fill
                } else {
                    &mut state.stroke
                };
                let initial = space.initial();
                ink.set(space, &initial);
            }
            ("sc" | "scn", colour) => state.fill.components(colour),
            ("SC" | "SCN", colour) => state.stroke.components(colour),
            _ => {}
        }
    }

    /// Path construction and painting operators.
    fn path(&mut self, frame: &mut Frame<'a>, operator: &str, args: &[f32]) {
        let path = &mut frame.path;
        match (operator, args) {
            ("m", &[x, y]) => path.move_to(x, y),
            ("l", &[x, y]) => path.line_to(x, y),
            ("c", &[x1, y1, x2, y2, x3, y3]) => path.cubic_to(x1, y1, x2, y2, x3, y3),
            ("v", &[x2, y2, x3, y3]) => {
                if let Some(p) = path.last_point() {
                    path.cubic_to(p.x, p.y, x2, y2, x3, y3);
                }
            }
            ("y", &[x1, y1, x3, y3]) => path.cubic_to(x1, y1, x3, y3, x3, y3),
            ("h", _) => path.close(),
            ("re", &[x, y, w, h]) => {
                path.move_to(x, y);
                path.line_to(x + w, y);
                path.line_to(x + w, y + h);
                path.line_to(x, y + h);
                path.close();
            }
            ("f" | "F", _) => self.paint(frame, Some(FillRule::Winding), false, false),
            ("f*", _) => self.paint(frame, Some(FillRule::EvenOdd), false, false),
            ("S", _) => self.paint(frame, None, true, false),
            ("s", _) => self.paint(frame, None, true, true),
            ("B", _) => self.paint(frame, Some(FillRule::Winding), true, false),
            ("B*", _) => self.paint(frame, Some(FillRule::EvenOdd), true, false),
            ("b", _) => self.paint(frame, Some(FillRule::Winding), true, true),
            ("b*", _) => self.paint(frame, Some(FillRule::EvenOdd), true, true),
            // Clipping is not applied; `n` ends the (clipping) path unpainted.
            ("n", _) => frame.path = PathBuilder::new(),
            _ => {}
        }
    }

    fn paint(&mut self, frame: &mut Frame<'a>, fill: Option<FillRule>, stroke: bool, close: bool) {
        if close {
            frame.path.close();
        }
        // Not `take`: tiny-skia's `PathBuilder::default()` lets a path start without a
        // move-to, which its rasterizer then indexes out of bounds on.
        let Some(path) = std::mem::replace(&mut frame.path, PathBuilder::new()).finish() else {
            return;
        };
        let state = &frame.state;
        if let (Some(rule), Some(gray)) = (fill, state.fill.gray) {
            let path = path.clone();
            self.draws.push(Draw::Fill {
                path,
                rule,
                gray,
                ctm: state.ctm,
            });
        }
        if let (true, Some(gray)) = (stroke, state.stroke.gray) {
            self.draws.push(Draw::Stroke {
                path,
                gray,
                ctm: state.ctm,
                width: state.line_width,
                cap: state.cap,
                join: state.join,
                miter: state.miter,
            });
        }
    }

    fn image(&mut self, frame: &Frame<'a>, source: ImageSource<'a>) {
        self.draws.push(Draw::Image(ImageDraw {
            source,
            resources: frame.resources,
            ctm: frame.state.ctm,
            fill: frame.state.fill.gray.unwrap_or(0.0),
        }));
    }

    fn xobject(&mut self, frame: &Frame<'a>, name: &[u8]) -> Result<(), PageError> {
        let doc = self.doc;
        let missing = || damaged(format!("the page draws a missing object /{}", lossy(name)));
        let entry = frame
            .resources
            .and_then(|r| get(doc, r, b"XObject"))
            .and_then(|o| o.as_dict().ok())
            .and_then(|x| x.get(name).ok())
            .ok_or_else(missing)?;
        let (id, object) = doc.dereference(entry).map_err(|_| missing())?;
        let stream = object.as_stream().map_err(|_| missing())?;
        match get(doc, &stream.dict, b"Subtype").and_then(|o| o.as_name().ok()) {
            Some(b"Image") => self.image(frame, ImageSource::Object(stream)),
            Some(b"Form") => self.form(frame, id, stream)?,
            _ => {}
        }
        Ok(())
    }

    fn form(
        &mut self,
        frame: &Frame<'a>,
        id: Option<ObjectId>,
        stream: &'a Stream,
    ) -> Result<(), PageError> {
        let doc = self.doc;
        if frame.depth >= MAX_FORM_DEPTH || id.is_some_and(|id| self.forms.contains(&id)) {
            return Err(damaged("its forms nest too deeply or draw themselves"));
        }
        let matrix = match get(doc, &stream.dict, b"Matrix")
            .map(|o| numbers(doc, o))
            .as_deref()
        {
            Some(&[a, b, c, d, e, f]) => Transform::from_row(a, b, c, d, e, f),
            _ => Transform::identity(),
        };
        // Old files leave a form's resources to the page's.
        let resources = get(doc, &stream.dict, b"Resources")
            .and_then(|o| o.as_dict().ok())
            .or(frame.resources);
        let content = decode_stream(doc, stream, self.content_budget)?;
        self.content_budget -= content.len();
        let mut state = frame.state.clone();
        state.ctm = state.ctm.pre_concat(matrix);
        self.forms.extend(id);
        let result = self.run(&content, resources, state, frame.depth + 1);
        if id.is_some() {
            self.forms.pop();
        }
        result
    }
}

// ---------------------------------------------------------------------------------------
// Rasterizing.

/// A white page at a resolution, onto which the display list is painted.
struct Canvas {
    pixmap: Pixmap,
    /// Page space to device pixels.
    device: Transform,
    /// Pixels still allowed to be painted, so a page cannot repaint itself for hours.
    paint_budget: f64,
}

impl Canvas {
    fn new(geometry: &Geometry, dpi: f32, limits: &Limits) -> Result<Canvas, PageError> {
        let (device, w, h) = geometry.device(dpi / 72.0);
        let (w, h) = (w.round().max(1.0) as u32, h.round().max(1.0) as u32);
        check_pixels(u64::from(w), u64::from(h), limits)?;
        let mut pixmap =
            Pixmap::new(w, h).ok_or_else(|| PageError::TooLarge(format!("{w} x {h} pixels")))?;
        pixmap.fill(Color::WHITE);
        let area = f64::from(w) * f64::from(h);
        let paint_budget = (MAX_REPAINTS * area)
            .min(MAX_PAINTED_PIXELS)
            .max(4.0 * area);
        Ok(Canvas {
            pixmap,
            device,
            paint_budget,
        })
    }

    fn draw(
        &mut self,
        doc: &Document,
        draw: &Draw,
        limits: &Limits,
        budget: &mut u64,
    ) -> Result<(), PageError> {
        match draw {
            Draw::Fill {
                path,
                rule,
                gray,
                ctm,
            } => {
                let transform = self.device.pre_concat(*ctm);
                if let Some(device) = path.clone().transform(transform)
                    && let Some(device) = self.contained(device)
                {
                    self.spend(self.area(device.bounds(), 0.0))?;
                    let paint = ink(*gray);
                    let identity = Transform::identity();
                    self.pixmap
                        .fill_path(&device, &paint, *rule, identity, None);
                }
            }
            Draw::Stroke {
                path,
                gray,
                ctm,
                width,
                cap,
                join,
                miter,
            } => {
                let stroke = Stroke {
                    width: *width,
                    miter_limit: miter.min(MAX_MITER),
                    line_cap: *cap,
                    line_join: *join,
                    dash: None,
                };
                self.stroke(path, &ink(*gray), stroke, self.device.pre_concat(*ctm))?;
            }
            Draw::Image(image) => {
                let decoded = decode_image(doc, image, limits, budget)?;
                self.image(&decoded, self.device.pre_concat(image.ctm))?;
            }
        }
        Ok(())
    }

    /// Canvas pixels under device-space `bounds` grown by `pad`.
    fn area(&self, bounds: Rect, pad: f32) -> f64 {
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        let across = (bounds.right() + pad).min(w) - (bounds.left() - pad).max(0.0);
        let down = (bounds.bottom() + pad).min(h) - (bounds.top() - pad).max(0.0);
        f64::from(across.max(0.0)) * f64::from(down.max(0.0))
    }

    /// Charges about `pixels` of painting to the page's budget.
    fn spend(&mut self, pixels: f64) -> Result<(), PageError> {
        self.paint_budget -= pixels;
        if self.paint_budget < 0.0 {
            let reason = "the page paints over itself too many times";
            return Err(PageError::TooLarge(reason.into()));
        }
        Ok(())
    }

    /// Charges a stroke: about its length times its width, at most its bounding box, so
    /// a long thin diagonal costs what it covers.
    fn spend_stroke(&mut self, device: &Path, width: f32) -> Result<(), PageError> {
        let along = f64::from(length(device)) * f64::from(width + 2.0);
        self.spend(along.min(self.area(device.bounds(), width)))
    }

    /// Whether device-space `bounds` stay near enough the canvas for tiny-skia.
    fn near(&self, bounds: Rect) -> bool {
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        bounds.left() >= -SAFE_MARGIN
            && bounds.top() >= -SAFE_MARGIN
            && bounds.right() <= w + SAFE_MARGIN
            && bounds.bottom() <= h + SAFE_MARGIN
    }

    /// A device-space path to fill: as it is near the canvas, else flattened and clipped to
    /// the canvas (`None` when nothing of it shows).
    fn contained(&self, path: Path) -> Option<Path> {
        if self.near(path.bounds()) {
            return Some(path);
        }
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        let mut clipped = PathBuilder::new();
        for (contour, _) in polylines(&path)? {
            let contour = clip_polygon(contour, [-1.0, -1.0, w + 1.0, h + 1.0]);
            if let Some((first, rest)) = contour.split_first() {
                clipped.move_to(first.x, first.y);
                rest.iter().for_each(|p| clipped.line_to(p.x, p.y));
                clipped.close();
            }
        }
        clipped.finish()
    }

    /// Strokes `path` at least one device pixel wide, so thin lines do not vanish.
    fn stroke(
        &mut self,
        path: &Path,
        paint: &Paint,
        mut stroke: Stroke,
        transform: Transform,
    ) -> Result<(), PageError> {
        let (thin, thick) = stretches(transform);
        let Some(device) = path.clone().transform(transform) else {
            return Ok(());
        };
        if !(thin > 0.0 && thick.is_finite()) {
            return Ok(());
        }
        if self.near(device.bounds()) {
            // At least a pixel across, at most `MAX_STROKE_PX` along the longest stretch.
            stroke.width = stroke.width.max(1.0 / thin).min(MAX_STROKE_PX / thick);
            self.spend_stroke(&device, stroke.width * thick)?;
            self.pixmap
                .stroke_path(path, paint, &stroke, transform, None);
            return Ok(());
        }
        let width = (stroke.width * thin.sqrt() * thick.sqrt()).clamp(1.0, MAX_STROKE_PX);
        // Far-off coordinates: stroke the visible parts of the segments in device space.
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        let area = [-width - 2.0, -width - 2.0, w + width + 2.0, h + width + 2.0];
        let mut visible = PathBuilder::new();
        for (contour, closed) in polylines(&device).unwrap_or_default() {
            let closing = closed.then(|| [contour[contour.len() - 1], contour[0]]);
            let segments = contour.windows(2).map(|s| [s[0], s[1]]).chain(closing);
            for (a, b) in segments.filter_map(|[a, b]| clip_segment(a, b, area)) {
                visible.move_to(a.x, a.y);
                visible.line_to(b.x, b.y);
            }
        }
        if let Some(visible) = visible.finish() {
            self.spend_stroke(&visible, width)?;
            stroke.width = width;
            stroke.line_join = LineJoin::Round;
            self.pixmap
                .stroke_path(&visible, paint, &stroke, Transform::identity(), None);
        }
        Ok(())
    }

    /// Paints an image through a pattern over its (clipped) device-space quadrilateral,
    /// as `draw_pixmap` would, without handing tiny-skia far-off coordinates.
    fn image(&mut self, decoded: &Decoded, to_device: Transform) -> Result<(), PageError> {
        let size = IntSize::from_wh(decoded.width, decoded.height)
            .ok_or_else(|| damaged("an image is empty"))?;
        let transform = to_device.pre_concat(unit_square(decoded.width, decoded.height));
        let quad = Rect::from_xywh(0.0, 0.0, decoded.width as f32, decoded.height as f32)
            .map(PathBuilder::from_rect)
            .and_then(|quad| quad.transform(transform))
            .and_then(|quad| self.contained(quad));
        let Some(quad) = quad else {
            return Ok(());
        };
        self.spend(IMAGE_PAINT_COST * self.area(quad.bounds(), 0.0))?;
        let rgba: Vec<u8> = match &decoded.alpha {
            None => decoded.gray.iter().flat_map(|&g| [g, g, g, 255]).collect(),
            Some(alpha) => decoded
                .gray
                .iter()
                .zip(alpha)
                .flat_map(|(&g, &a)| {
                    let p = (u16::from(g) * u16::from(a) / 255) as u8;
                    [p, p, p, a]
                })
                .collect(),
        };
        let image = Pixmap::from_vec(rgba, size).ok_or_else(|| damaged("an image is malformed"))?;
        let quality = FilterQuality::Bilinear;
        let paint = Paint {
            shader: Pattern::new(image.as_ref(), SpreadMode::Pad, quality, 1.0, transform),
            // Anti-aliased edges would leave light seams between image strips.
            anti_alias: false,
            ..Paint::default()
        };
        self.pixmap.fill_path(
            &quad,
            &paint,
            FillRule::Winding,
            Transform::identity(),
            None,
        );
        Ok(())
    }

    /// Every colour painted is a grey, so the red channel is the grey.
    fn into_gray(self) -> Result<GrayImage, PageError> {
        let (w, h) = (self.pixmap.width(), self.pixmap.height());
        let gray = self.pixmap.data().chunks_exact(4).map(|p| p[0]).collect();
        GrayImage::from_raw(w, h, gray).ok_or_else(|| damaged("the page could not be rasterized"))
    }
}

fn ink(gray: f32) -> Paint<'static> {
    let g = to_u8(gray);
    let mut paint = Paint {
        anti_alias: true,
        ..Paint::default()
    };
    paint.set_color_rgba8(g, g, g, 255);
    paint
}

/// The least and greatest factor by which a transform stretches lengths (its singular
/// values), in f64 because hostile matrices square past f32.
fn stretches(t: Transform) -> (f32, f32) {
    let [a, b, c, d] = [t.sx, t.ky, t.kx, t.sy].map(f64::from);
    let sum = a * a + b * b + c * c + d * d;
    let det = (a * d - b * c).abs();
    let thick = ((sum + (sum * sum - 4.0 * det * det).max(0.0).sqrt()) / 2.0).sqrt();
    let thin = if thick > 0.0 { det / thick } else { 0.0 };
    (thin as f32, thick as f32)
}

/// The length of a device-space path along its control polygon (an upper bound for curves).
fn length(path: &Path) -> f32 {
    let mut last = Point::zero();
    let mut total = 0.0;
    for segment in path.segments() {
        let points = match segment {
            PathSegment::MoveTo(p) => {
                last = p;
                continue;
            }
            PathSegment::LineTo(p) => [p, p, p],
            PathSegment::QuadTo(c, p) => [c, p, p],
            PathSegment::CubicTo(c1, c2, p) => [c1, c2, p],
            PathSegment::Close => continue,
        };
        for p in points {
            total += last.distance(p);
            last = p;
        }
    }
    total
}

/// A point in f64: far-off coordinates lose too much in f32 to be clipped.
type Xy = (f64, f64);

/// The contours of a device-space path as points, curves flattened, each with whether it is
/// closed; `None` when it has too many points to be worth clipping.
fn polylines(path: &Path) -> Option<Vec<(Vec<Xy>, bool)>> {
    let xy = |p: Point| (f64::from(p.x), f64::from(p.y));
    let mut contours = Vec::new();
    let mut points: Vec<Xy> = Vec::new();
    let mut total = 0usize;
    for segment in path.segments() {
        let s = points.last().copied().unwrap_or_default();
        let steps = (1..=CURVE_STEPS).map(|i| i as f64 / CURVE_STEPS as f64);
        match segment {
            PathSegment::MoveTo(p) => {
                if points.len() > 1 {
                    contours.push((std::mem::take(&mut points), false));
                }
                points = vec![xy(p)];
            }
            PathSegment::LineTo(p) => points.push(xy(p)),
            PathSegment::QuadTo(c, p) => {
                let (c, p) = (xy(c), xy(p));
                points.extend(steps.map(|t| {
                    let (a, b, d) = ((1.0 - t) * (1.0 - t), 2.0 * (1.0 - t) * t, t * t);
                    (a * s.0 + b * c.0 + d * p.0, a * s.1 + b * c.1 + d * p.1)
                }));
            }
            PathSegment::CubicTo(c1, c2, p) => {
                let (c1, c2, p) = (xy(c1), xy(c2), xy(p));
                points.extend(steps.map(|t| {
                    let u = 1.0 - t;
                    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
                    (
                        a * s.0 + b * c1.0 + c * c2.0 + d * p.0,
                        a * s.1 + b * c1.1 + c * c2.1 + d * p.1,
                    )
                }));
            }
            PathSegment::Close => {
                if let Some(&first) = points.first() {
                    contours.push((std::mem::replace(&mut points, vec![first]), true));
                }
            }
        }
        total += CURVE_STEPS;
        if total > MAX_FLAT_POINTS {
            return None;
        }
    }
    if points.len() > 1 {
        contours.push((points, false));
    }
    Some(contours)
}

/// A clipped point back in f32, clamped into the clip area: with far-off input the
/// computed intersection can miss the boundary by more than the canvas is wide.
fn clamped((x, y): Xy, [left, top, right, bottom]: [f32; 4]) -> Point {
    let x = x.clamp(f64::from(left), f64::from(right));
    let y = y.clamp(f64::from(top), f64::from(bottom));
    Point::from_xy(x as f32, y as f32)
}

/// Sutherland-Hodgman: the part of a polygon inside `area` (left, top, right, bottom).
/// Winding numbers inside the area are kept, so fills come out the same there.
fn clip_polygon(mut points: Vec<Xy>, area: [f32; 4]) -> Vec<Point> {
    let [left, top, right, bottom] = area.map(f64::from);
    for (vertical, bound, keep_above) in [
        (true, left, true),
        (true, right, false),
        (false, top, true),
        (false, bottom, false),
    ] {
        let value = |p: Xy| if vertical { p.0 } else { p.1 };
        let inside = |p: Xy| {
            if keep_above {
                value(p) >= bound
            } else {
                value(p) <= bound
            }
        };
        let cross = |a: Xy, b: Xy| {
            let t = (bound - value(a)) / (value(b) - value(a));
            (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
        };
        let input = std::mem::take(&mut points);
        let Some(&last) = input.last() else {
            break;
        };
        let mut previous = last;
        for &point in &input {
            match (inside(previous), inside(point)) {
                (true, true) => points.push(point),
                (true, false) => points.push(cross(previous, point)),
                (false, true) => {
                    points.push(cross(previous, point));
                    points.push(point);
                }
                (false, false) => {}
            }
            previous = point;
        }
    }
    points.into_iter().map(|p| clamped(p, area)).collect()
}

/// Liang-Barsky: the part of segment `a`-`b` inside `area` (left, top, right, bottom).
fn clip_segment(a: Xy, b: Xy, area: [f32; 4]) -> Option<(Point, Point)> {
    let [left, top, right, bottom] = area.map(f64::from);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut enter, mut leave) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - left),
        (dx, right - a.0),
        (-dy, a.1 - top),
        (dy, bottom - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else if p < 0.0 {
            enter = enter.max(q / p);
        } else {
            leave = leave.min(q / p);
        }
    }
    (enter <= leave).then(|| {
        let at = |t: f64| clamped((a.0 + t * dx, a.1 + t * dy), area);
        (at(enter), at(leave))
    })
}
