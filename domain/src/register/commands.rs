//! What can be asked of a register. Each command carries its actor and time.

use crate::{Actor, CourseId, Method, SessionId, Status, StudentId};
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// One row of a roll call.
#[derive(Debug, Clone, PartialEq)]
pub struct RollCallMark {
    /// The student.
    pub student_id: StudentId,
    /// Their status.
    pub status: Status,
    /// An optional remark.
    pub remark: Option<String>,
}

/// A request to change a register.
#[derive(Debug, Clone, PartialEq)]
pub enum RegisterCommand {
    /// Open the register with the roster as of the session's start.
    OpenRegister {
        /// The session (aggregate id).
        session_id: SessionId,
        /// The session's course.
        course_id: CourseId,
        /// The session's start.
        starts_at: DateTime<Utc>,
        /// Students enrolled at the start.
        roster: Vec<StudentId>,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Mark one student.
    RecordAttendance {
        /// The student.
        student_id: StudentId,
        /// Their status.
        status: Status,
        /// How the mark was taken.
        method: Method,
        /// An optional remark.
        remark: Option<String>,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Mark many students at once, all or nothing.
    RecordRollCall {
        /// The rows.
        marks: Vec<RollCallMark>,
        /// Skip students who already have a mark instead of refusing a different status.
        only_unmarked: bool,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Change a student's mark, giving a reason.
    CorrectAttendance {
        /// The student.
        student_id: StudentId,
        /// The new status.
        status: Status,
        /// Why (required).
        reason: String,
        /// How the correction was taken.
        method: Method,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Import one page of a scanned sheet: each row as the rule between writers says
    /// ([`super::writers`]): recorded where nothing is, a re-scan corrects the sheet's own
    /// marks, an empty row replaces nothing, a row differing from a person's mark and an
    /// uncertain row are held for review. A page already imported (same SHA-256) changes
    /// nothing.
    ImportSheetPage {
        /// SHA-256 of the page image.
        sha256: String,
        /// The page (from 1).
        page: u32,
        /// Pages of the sheet.
        pages: u32,
        /// One entry per row printed on the page.
        rows: Vec<SheetRow>,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Decide a held mark as a status: recorded, or a correction by the reviewer when the
    /// register says otherwise.
    ResolveReview {
        /// The student.
        student_id: StudentId,
        /// The status decided.
        status: Status,
        /// Why, when it replaces a mark (a review's default reason otherwise).
        reason: Option<String>,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Decide a held mark by keeping the register's mark: only the hold is cleared.
    KeepHeldMark {
        /// The student.
        student_id: StudentId,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Make the roster what the course's enrolments say for the session's day.
    AmendRoster {
        /// The students who should be on the roster.
        roster: Vec<StudentId>,
        /// Why.
        reason: String,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Open a closed register again, with a reason.
    ReopenRegister {
        /// Why (required).
        reason: String,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Close the register: unmarked students become absent; later only corrections.
    CloseRegister {
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Let students check themselves in (see [`super::check_in`]).
    OpenCheckIn {
        /// Names the window (the caller keeps its code secret under it).
        window_id: String,
        /// From when; none: now.
        opens_at: Option<DateTime<Utc>>,
        /// Until when (exclusive).
        closes_at: DateTime<Utc>,
        /// Late from this many minutes after the opening; none: never late.
        late_after_minutes: Option<u32>,
        /// Only from these networks (CIDR); empty: from anywhere.
        networks: Vec<String>,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Stop check-ins now.
    CloseCheckIn {
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A student checks themselves in, having given the code of `window_id`.
    CheckIn {
        /// The student.
        student_id: StudentId,
        /// The window whose code the student gave.
        window_id: String,
        /// The address the request came from, when known.
        address: Option<IpAddr>,
        /// The student's account.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// The scheduler's close, once the course's `close_after_minutes` have passed since the
    /// session ended: like [`RegisterCommand::CloseRegister`], except that it changes nothing
    /// on a register that is closed or that a person ever reopened (it never closes twice).
    CloseRegisterOnSchedule {
        /// The scheduler (`Actor::system()`).
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
}

/// What the reader made of one row of a sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum SheetRead {
    /// Read with certainty (an empty row is `Absent`).
    Mark(Status),
    /// Not certain: held for review.
    Held {
        /// Why.
        reason: String,
        /// The statuses whose bubbles were filled or uncertain.
        candidates: Vec<Status>,
    },
}

/// One row of a scanned sheet page.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetRow {
    /// The student printed on the row.
    pub student_id: StudentId,
    /// What was read.
    pub read: SheetRead,
}
