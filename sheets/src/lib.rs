//! Paper bubble sheets for a session's register.
//!
//! - [`layout`]: where everything sits on a sheet (PDF points, origin bottom left), the QR
//!   payload and its checksum. One geometry, used by the generator and by the reader.
//! - [`generate`]: the printable A4 PDF (printpdf, through the report canvas, so names in
//!   any script are legible).
//! - [`input`]: a scanned PDF to one grey image per page, parsed, decoded and rendered by
//!   hayro: a page that is one scan at the scan's resolution, any other page rendered.
//! - [`omr`]: one page image to marks: fiducials, orientation, skew and scale, QR, bubble
//!   fill, and a decision per row that never guesses.
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
pub mod simulate;

pub use layout::{Bubble, Layout, PageLayout, QrPayload, RosterEntry, RowLayout, SheetInfo};
