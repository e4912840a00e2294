//! Scanned PDFs to one grey image per page, parsed, decoded and rendered by hayro: a page that
//! is one scan comes back at the scan's own resolution, any other page is rendered by hayro.
//!
//! hayro reads every filter and image codec a scanner writes (JPEG, JPEG 2000, JBIG2 with or
//! without globals, CCITT fax, Flate, LZW, run length), image masks and soft masks, and every
//! colour space (grey, RGB, CMYK, ICC, Indexed, Lab) at 1 to 16 bits per component.
//!
//! Uploads are hostile until read, and hayro has no limits of its own (no cap on what a
//! stream inflates to, an image's size, or a page's work), so before hayro decodes anything
//! of a page: every stream the page reaches is checked to inflate within
//! [`Limits::max_stream_bytes`] (`bounds`), and a survey of the page's drawing (hayro's
//! interpreter with a device that only counts, `survey`) checks each image's declared and
//! encoded size against [`Limits::max_pixels`], counts operations and charges the area they
//! paint, which bounds the time rendering can take. Parsing and rendering run under
//! `catch_unwind` as a last defence.
//!
//! Residual risks, accepted: LZW and run-length streams are not inflated ahead (they are rare
//! in scans and expand at most about 3,600 and 64 times); images drawn only inside a tiling
//! pattern are not surveyed; a JBIG2 image is bounded by its decoder (65,535 pixels a side),
//! not by [`Limits::max_pixels`]; hayro cannot be stopped midway through a page, so its time
//! is bounded only by what the survey lets through.

use std::panic::{AssertUnwindSafe, catch_unwind};

use hayro::hayro_syntax::{LoadPdfError, Pdf};
use image::GrayImage;

mod bounds;
mod render;
mod scan;
mod survey;

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
    /// The page's image is larger than [`Limits::max_pixels`], a stream than
    /// [`Limits::max_stream_bytes`], or the page's drawing is more work than allowed.
    #[error("the page image is too large ({0})")]
    TooLarge(String),
    /// An image the renderer could not decode; the reason names its encoding.
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

/// An opened, checked PDF whose pages are turned into images one at a time.
pub struct ScannedPdf {
    pdf: Pdf,
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
        // hayro opens files with an empty user password; a scan is never meant to be one.
        if contains(bytes, b"/Encrypt") {
            return Err(InputError::Encrypted);
        }
        let loaded = catch_unwind(AssertUnwindSafe(|| Pdf::new(bytes.to_vec())));
        let pdf = match loaded {
            Ok(Ok(pdf)) => pdf,
            Ok(Err(LoadPdfError::Decryption(_))) => return Err(InputError::Encrypted),
            Ok(Err(LoadPdfError::Invalid)) | Err(_) => {
                return Err(InputError::Damaged("its structure cannot be read".into()));
            }
        };
        let pages = catch_unwind(AssertUnwindSafe(|| pdf.pages().len()))
            .map_err(|_| InputError::Damaged("its page tree cannot be read".into()))?;
        if pages == 0 {
            return Err(InputError::NoPages);
        }
        if pages > limits.max_pages {
            let max = limits.max_pages;
            return Err(InputError::TooManyPages { pages, max });
        }
        Ok(ScannedPdf { pdf, limits })
    }

    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.pdf.pages().len()
    }

    /// Page `index` (0-based) as a grey image: its embedded scan, or the page rendered at
    /// `dpi`.
    pub fn page_image(&self, index: usize, dpi: f32) -> Result<GrayImage, PageError> {
        let Some(page) = self.pdf.pages().get(index) else {
            return Err(damaged(format!("there is no page {}", index + 1)));
        };
        if !(dpi.is_finite() && dpi > 0.0) {
            return Err(damaged(format!("cannot render at {dpi} dpi")));
        }
        catch_unwind(AssertUnwindSafe(|| {
            bounds::check(page, &self.limits)?;
            let survey = survey::Survey::of(page, dpi, &self.limits)?;
            match survey.sole_scan() {
                Some(scan) => scan::capture(page, scan),
                None => render::page(page, dpi, &self.limits),
            }
        }))
        .unwrap_or_else(|_| Err(damaged("its content cannot be read")))
    }
}

fn damaged(reason: impl Into<String>) -> PageError {
    PageError::Damaged(reason.into())
}

fn too_large(reason: impl Into<String>) -> PageError {
    PageError::TooLarge(reason.into())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Where `%PDF-` starts, if within the junk readers tolerate before it.
fn header_offset(bytes: &[u8]) -> Option<usize> {
    let window = &bytes[..bytes.len().min(HEADER_WINDOW + 5)];
    window.windows(5).position(|w| w == b"%PDF-")
}

/// Grey from sRGB, as ITU-R BT.601 weighs the channels.
fn luma8(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000) as u8
}
