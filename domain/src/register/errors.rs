//! Business rules a register command can break.

use crate::{Method, Status, StudentId};
use chrono::{DateTime, Utc};

/// One refused row of a roll call.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    /// Zero-based position of the row in the request.
    pub index: usize,
    /// The row's student.
    pub student_id: StudentId,
    /// Why the row was refused.
    pub problem: RegisterError,
}

/// Why a register command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegisterError {
    /// Marks need an opened register.
    #[error("the register of this session has not been opened")]
    NotOpened,
    /// The register was opened before.
    #[error("the register is already open")]
    AlreadyOpened,
    /// The student was not enrolled when the session started.
    #[error("student {0} is not on this session's roster")]
    NotOnRoster(StudentId),
    /// A different status for a marked student must be a correction.
    #[error(
        "student {student_id} is already marked {current}; send a correction with a reason to change it"
    )]
    CorrectionRequired {
        /// The student.
        student_id: StudentId,
        /// Their current status.
        current: Status,
    },
    /// A correction needs a reason.
    #[error("a correction needs a reason")]
    ReasonRequired,
    /// Only marked students can be corrected.
    #[error("student {0} has no mark to correct yet")]
    NotMarked(StudentId),
    /// The student was taken off the roster (their enrolment changed).
    #[error(
        "student {0} was removed from this session's roster (their enrolment does not cover the session's day); their earlier marks no longer count"
    )]
    RemovedFromRoster(StudentId),
    /// After closing, only corrections are accepted.
    #[error("the register is closed; only corrections are accepted")]
    Closed,
    /// A roll call with no rows.
    #[error("the roll call has no marks")]
    EmptyRollCall,
    /// A student appears twice in one roll call.
    #[error("student {0} appears more than once in the roll call")]
    DuplicateRow(StudentId),
    /// A review was asked for a student with no held mark.
    #[error("student {0} has no mark held for review")]
    NothingToReview(StudentId),
    /// Keeping a held row's mark needs a mark: decide a status instead.
    #[error("student {0} has no mark to keep; decide a status")]
    NothingToKeep(StudentId),
    /// A check-in window is still open.
    #[error("check-in is already open for this session; close it first")]
    CheckInAlreadyOpen,
    /// A check-in window's times or networks make no sense.
    #[error("{field}: {detail}")]
    InvalidCheckIn {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Nobody opened check-in for this session.
    #[error("check-in has not been opened for this session")]
    CheckInNotOpen,
    /// The window opens later.
    #[error("check-in for this session opens at {}", .0.format("%Y-%m-%d %H:%M UTC"))]
    CheckInNotYetOpen(DateTime<Utc>),
    /// The window was closed, its time is over, or the register was closed.
    #[error("check-in for this session is closed")]
    CheckInClosed,
    /// The check-in came from a network the window does not list.
    #[error("check-in for this session is only accepted from the classroom's network")]
    NetworkNotAllowed,
    /// Someone else (staff, a sheet, an import) set the student's mark: a check-in never
    /// replaces it.
    #[error(
        "your mark for this session was already set by staff ({current}, {}); a check-in does not change it: ask your teacher",
        .method.as_str()
    )]
    MarkedByStaff {
        /// The mark's status.
        current: Status,
        /// How it was taken.
        method: Method,
    },
    /// Some rows of a roll call were refused; nothing was recorded.
    #[error("{} row(s) of the roll call were refused; nothing was recorded", .0.len())]
    RollCallRefused(Vec<RowProblem>),
}
