//! Paper bubble sheets for a session's register.
//!
//! - [`layout`]: where everything sits on a sheet (PDF points, origin bottom left), the QR
//!   payload and its checksum. One geometry, used by the generator and by the reader.
//! - [`generate`]: the printable A4 PDF (through the shared `typeset` crate, so names in
//!   any script are legible).
//! - [`input`]: a scanned PDF to one grey image per page, parsed, decoded and rendered by
//!   hayro: a page that is one scan at the scan's resolution, any other page rendered.
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
