//! A whole scanned document, page by page: the one loop shared by the API's import and the
//! `attendance sheet read` command.

use crate::input::{InputError, Limits, ScannedPdf};
use crate::omr::{self, PageRead, ReadError, Thresholds};
use sha2::{Digest, Sha256};

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
}

/// SHA-256 of a grey image's size and pixels, hex.
pub fn image_sha256(image: &image::GrayImage) -> String {
    let mut hash = Sha256::new();
    hash.update(image.width().to_le_bytes());
    hash.update(image.height().to_le_bytes());
    hash.update(image.as_raw());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
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

/// Reads every page of a PDF in order, handing each outcome to `each` as soon as it is
/// read (so only one page image is held at a time). Vector pages are rasterized at `dpi`.
/// Returns the number of pages; fails only when the document itself cannot be read.
pub fn read_pages(
    pdf: &[u8],
    limits: Limits,
    dpi: f32,
    thresholds: &Thresholds,
    mut each: impl FnMut(PageOutcome),
) -> Result<usize, InputError> {
    let doc = ScannedPdf::open(pdf, limits)?;
    let pages = doc.page_count();
    for index in 0..pages {
        let outcome = match doc.page_image(index, dpi) {
            Err(e) => PageOutcome {
                index,
                pages,
                sha256: None,
                read: Err(PageFailure {
                    code: "unreadable_page",
                    detail: e.to_string(),
                }),
            },
            Ok(image) => PageOutcome {
                index,
                pages,
                sha256: Some(image_sha256(&image)),
                read: omr::read_page(&image, thresholds).map_err(|e| failure(&e)),
            },
        };
        each(outcome);
    }
    Ok(pages)
}
