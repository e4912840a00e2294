//! Paper bubble sheets for a session's register.
//!
//! - [`layout`]: where everything sits on a sheet (PDF points, origin bottom left), the QR
//!   payload and its checksum. One geometry, used by the generator and by the reader.
//! - [`generate`]: the printable A4 PDF (printpdf, through the report canvas, so names in
//!   any script are legible).
//! - [`input`]: a scanned PDF (lopdf) to one grey image per page: embedded JPEG, PNG-like
//!   (Flate) or bitonal (CCITT G4, 1-bit) images are extracted, vector pages rasterized.
//! - [`photo`]: a phone's JPEG or PNG photo of one page to a grey image (EXIF orientation,
//!   large photos reduced).
//! - [`omr`]: one page image to marks: fiducials, orientation, perspective, QR, each bubble's
//!   ring and fill, and a decision per row that never guesses.
//! - [`document`]: an upload of PDFs and photos, page by page, several pages at once.
//!
//! - [`simulate`]: realistic scans of filled sheets with known answers, for tests and the
//!   benchmark.
//!
//! Pure: bytes in, values out. The API and the CLI decide what to record.

pub mod document;
pub mod generate;
pub mod input;
pub mod layout;
pub mod omr;
pub mod photo;
pub mod simulate;

pub use layout::{Bubble, Layout, PageLayout, QrPayload, RosterEntry, RowLayout, SheetInfo};
