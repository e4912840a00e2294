//! A whole scanned document, page by page: the one loop shared by the API's import and the
//! `attendance sheet read` command.

use crate::input::{InputError, Limits, ScannedPdf};
use crate::omr::{self, PageRead, ReadError, Thresholds};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Why one page gave no reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFailure {
    /// Stable code: `unreadable_page`, `not_a_sheet`, `unreadable_qr`, `foreign_qr`.
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

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn failure(e: &ReadError) -> PageFailure {
    let code = match e {
        ReadError::NoFiducials => "not_a_sheet",
        ReadError::NoQr => "unreadable_qr",
        _ => "foreign_qr",
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

/// Reads one page.
fn read_one(
    doc: &ScannedPdf,
    index: usize,
    options: &Options,
    thresholds: &Thresholds,
) -> PageOutcome {
    let pages = doc.page_count();
    match doc.page_image(index, options.dpi) {
        Err(e) => PageOutcome {
            index,
            pages,
            sha256: None,
            read: Err(PageFailure {
                code: "unreadable_page",
                detail: e.to_string(),
            }),
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

/// Reads every page of a PDF, several at once, handing each outcome to `each` in page
/// order as soon as it and the pages before it are read. Fails only when the document
/// itself cannot be read; returns the number of pages.
pub fn read_pages(
    pdf: &[u8],
    limits: Limits,
    options: Options,
    thresholds: &Thresholds,
    mut each: impl FnMut(PageOutcome),
) -> Result<usize, InputError> {
    let doc = ScannedPdf::open(pdf, limits)?;
    let pages = doc.page_count();
    let workers = options.workers.clamp(1, pages.max(1));
    if workers == 1 {
        for index in 0..pages {
            each(read_one(&doc, index, &options, thresholds));
        }
        return Ok(pages);
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        for _ in 0..workers {
            let sender = sender.clone();
            let (doc, next) = (&doc, &next);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= pages {
                        break;
                    }
                    let outcome = read_one(doc, index, &options, thresholds);
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
