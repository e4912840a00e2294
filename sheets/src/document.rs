//! A whole upload, page by page: the one loop shared by the API's import and the
//! `attendance sheet read` command. An upload is one or more files, each a scanned PDF (its
//! pages in order) or a phone's photo of one page (JPEG or PNG); together they are one job.

use crate::input::{InputError, Limits, ScannedPdf};
use crate::layout::hex;
use crate::omr::{self, PageRead, ReadError, Thresholds};
use crate::photo::{self, FileKind};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Why one page gave no reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFailure {
    /// Stable code: `unreadable_page`, `unreadable_photo`, `not_a_sheet`, `unreadable_qr`,
    /// `foreign_qr`, `distorted_page` (a photo too tilted, a page curled), `misplaced_rows`
    /// (rows shifted from where the sheet prints them).
    pub code: &'static str,
    /// What is wrong, for a person.
    pub detail: String,
}

/// One page of a document after OMR.
pub struct PageOutcome {
    /// Page in the document, from 0.
    pub index: usize,
    /// Pages in the document.
    pub pages: usize,
    /// SHA-256 (hex) of the page image's pixels and size: the page's identity.
    pub sha256: Option<String>,
    /// The reading.
    pub read: Result<PageRead, PageFailure>,
    /// The checked picture (PNG) of a page read, when asked for.
    pub picture: Option<Vec<u8>>,
}

/// SHA-256 of a grey image's size and pixels, hex.
pub fn image_sha256(image: &image::GrayImage) -> String {
    let mut hash = Sha256::new();
    hash.update(image.width().to_le_bytes());
    hash.update(image.height().to_le_bytes());
    hash.update(image.as_raw());
    hex(&hash.finalize())
}

/// SHA-256 of some bytes (an uploaded file), hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The identity of an upload: the SHA-256 of its file when it is one file, else the SHA-256
/// of its files' SHA-256s (hex, one a line, in order).
pub fn upload_sha256(files: &[&[u8]]) -> String {
    match files {
        [one] => sha256_hex(one),
        _ => {
            let lines: Vec<String> = files.iter().map(|f| sha256_hex(f)).collect();
            sha256_hex(lines.join("\n").as_bytes())
        }
    }
}

fn failure(e: &ReadError) -> PageFailure {
    let code = match e {
        ReadError::NoFiducials => "not_a_sheet",
        ReadError::NoQr => "unreadable_qr",
        ReadError::Distorted => "distorted_page",
        ReadError::Misplaced => "misplaced_rows",
        ReadError::TooSmall { .. } => "unreadable_page",
        ReadError::Qr(_) => "foreign_qr",
    };
    PageFailure {
        code,
        detail: e.to_string(),
    }
}

/// What to produce for each page besides the reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Resolution vector pages are rasterized at.
    pub dpi: f32,
    /// Draw the checked picture of every page read ([`PageOutcome::picture`]).
    pub pictures: bool,
    /// Pages read at once (at least 1; default: the machine's cores).
    pub workers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dpi: 150.0,
            pictures: false,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// One page of an upload: a page of a PDF, or a photo.
enum Source<'a> {
    Pdf(&'a ScannedPdf, usize),
    Photo(&'a [u8]),
}

/// Reads one page.
fn read_one(
    source: Source<'_>,
    index: usize,
    pages: usize,
    options: &Options,
    thresholds: &Thresholds,
) -> PageOutcome {
    let image = match source {
        Source::Pdf(doc, page) => doc.page_image(page, options.dpi).map_err(|e| PageFailure {
            code: "unreadable_page",
            detail: e.to_string(),
        }),
        Source::Photo(bytes) => photo::decode(bytes).map_err(|e| PageFailure {
            code: "unreadable_photo",
            detail: e.to_string(),
        }),
    };
    match image {
        Err(failure) => PageOutcome {
            index,
            pages,
            sha256: None,
            read: Err(failure),
            picture: None,
        },
        Ok(image) => {
            let read = omr::read_page(&image, thresholds).map_err(|e| failure(&e));
            let picture = match (&read, options.pictures) {
                (Ok(read), true) => Some(omr::annotate_png(read)),
                _ => None,
            };
            PageOutcome {
                index,
                pages,
                sha256: Some(image_sha256(&image)),
                read,
                picture,
            }
        }
    }
}

/// Reads every page of a PDF; see [`read_files`].
pub fn read_pages(
    pdf: &[u8],
    limits: Limits,
    options: Options,
    thresholds: &Thresholds,
    each: impl FnMut(PageOutcome),
) -> Result<usize, InputError> {
    read_files(&[pdf], limits, options, thresholds, each)
}

/// An opened file of an upload.
enum Opened<'a> {
    Pdf(Box<ScannedPdf>),
    Photo(&'a [u8]),
}

/// Reads every page of an upload of one or more files (scanned PDFs, JPEG or PNG photos of
/// one page each), in order, several pages at once, handing each outcome to `each` in page
/// order as soon as it and the pages before it are read. A photo that cannot be decoded is
/// a page that failed; the upload fails only when a file is of no known kind or a PDF
/// cannot be opened (then no page is read). Returns the number of pages.
pub fn read_files(
    files: &[&[u8]],
    limits: Limits,
    options: Options,
    thresholds: &Thresholds,
    mut each: impl FnMut(PageOutcome),
) -> Result<usize, InputError> {
    let opened = files
        .iter()
        .map(|&bytes| match FileKind::of(bytes) {
            Some(FileKind::Jpeg | FileKind::Png) => Ok(Opened::Photo(bytes)),
            _ => ScannedPdf::open(bytes, limits).map(|doc| Opened::Pdf(Box::new(doc))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sources: Vec<Source<'_>> = opened
        .iter()
        .flat_map(|file| match file {
            Opened::Pdf(doc) => (0..doc.page_count())
                .map(|page| Source::Pdf(doc, page))
                .collect::<Vec<_>>(),
            Opened::Photo(bytes) => vec![Source::Photo(bytes)],
        })
        .collect();
    let pages = sources.len();
    if pages > limits.max_pages {
        return Err(InputError::TooManyPages {
            pages,
            max: limits.max_pages,
        });
    }
    let source = |i: usize| match sources[i] {
        Source::Pdf(doc, page) => Source::Pdf(doc, page),
        Source::Photo(bytes) => Source::Photo(bytes),
    };
    let workers = options.workers.clamp(1, pages.max(1));
    if workers == 1 {
        for index in 0..pages {
            each(read_one(source(index), index, pages, &options, thresholds));
        }
        return Ok(pages);
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, source) = (&next, &source);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= pages {
                        break;
                    }
                    let outcome = read_one(source(index), index, pages, &options, thresholds);
                    if sender.send(outcome).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Pages finish out of order; hand them on in order.
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        for outcome in receiver {
            waiting.insert(outcome.index, outcome);
            while let Some(outcome) = waiting.remove(&due) {
                each(outcome);
                due += 1;
            }
        }
    });
    Ok(pages)
}
