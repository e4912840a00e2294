//! The `Register` aggregate: one per session, holding the roster as of the session's
//! start and every mark and correction taken on it.

mod aggregate;
pub mod check_in;
mod commands;
mod errors;
mod events;
mod roster;
mod sheet;
#[cfg(test)]
mod tests;
pub mod writers;

pub use aggregate::{Mark, Register};
pub use check_in::{CheckInWindow, Cidr};
pub use commands::{RegisterCommand, RollCallMark, SheetRead, SheetRow};
pub use errors::{RegisterError, RowProblem};
pub use events::{HeldConflict, HeldKind, HeldMark, RegisterEvent, SheetCounts};
pub use sheet::RowOutcome;
pub use writers::Writer;
