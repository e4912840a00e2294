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
//! nesting, operations, decoded pixels and painted pixels per page are capped, and parsing
//! and decoding run under `catch_unwind` as a last defence. That defence cannot stop a
//! panic raised while unwinding, which aborts the process: tiny-skia 0.12 does that on
//! far-off coordinates, so paths are clipped to the canvas before it sees them.
//!
//! Residual risks, accepted: lopdf parses the whole file and inflates its object and
//! cross-reference streams while loading. It is given the same per-stream bound, but a
//! file made of many bounded streams can still cost several times its own size in memory.
//! Images drawn on a page that is composited (strips, or vector content next to the image)
//! are expanded to RGBA for tiny-skia, four bytes per pixel on top of their grey copy.
//! A CMYK JPEG is taken to be Adobe's inverted CMYK (what the JPEG decoder assumes), so
//! a rare plain-CMYK JPEG comes out as a negative.

use std::panic::{AssertUnwindSafe, catch_unwind};

use image::GrayImage;
use lopdf::{DecompressError, Document, LoadOptions, ObjectId};

use geometry::{Geometry, sole_scan};
use images::{decode_image, upright};
use interpret::{Interpreter, page_content};
use objects::inherited;
use raster::Canvas;
use state::GState;

mod ccitt;
mod clip;
mod colour;
mod filters;
mod geometry;
mod images;
mod interpret;
mod objects;
mod raster;
mod state;

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
