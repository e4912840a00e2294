//! Facts about a register. Stored names are frozen: see [`RegisterEvent::event_type`].

use crate::{Actor, CourseId, Method, SessionId, Status, StudentId};
use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// Something that happened to a register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RegisterEvent {
    /// The register was opened with its roster.
    RegisterOpened {
        /// The session.
        session_id: SessionId,
        /// Its course.
        course_id: CourseId,
        /// The session's start.
        starts_at: DateTime<Utc>,
        /// Students enrolled at the start, in id order.
        roster: Vec<StudentId>,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A student was marked for the first time.
    AttendanceRecorded {
        /// The student.
        student_id: StudentId,
        /// The status.
        status: Status,
        /// How it was taken.
        method: Method,
        /// An optional remark.
        remark: Option<String>,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A student's mark was changed; the old value stays in this event.
    AttendanceCorrected {
        /// The student.
        student_id: StudentId,
        /// The status before.
        old_status: Status,
        /// The status after.
        new_status: Status,
        /// Why.
        reason: String,
        /// How the correction was taken.
        method: Method,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Rows of a scanned sheet held for a person to decide, nothing recorded for them: rows
    /// that could not be read with certainty, and rows that differ from a person's mark
    /// (which stands).
    MarksHeldForReview {
        /// SHA-256 of the page image that was read.
        sheet_sha256: String,
        /// The page of the sheet (from 1).
        page: u32,
        /// The held rows.
        held: Vec<HeldMark>,
        /// Who imported the sheet.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A scanned sheet page was imported; its marks are the attendance events before it.
    SheetImported {
        /// SHA-256 of the page image: the same page is imported once.
        sha256: String,
        /// The page of the sheet (from 1).
        page: u32,
        /// Pages of the sheet.
        pages: u32,
        /// What the page said.
        counts: SheetCounts,
        /// Who imported it.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A held mark was decided by a person (the mark itself is recorded or corrected by the
    /// events before this one, unless it already had that status: kept). From then on the
    /// mark is a person's: a sheet never changes it.
    ReviewResolved {
        /// The student.
        student_id: StudentId,
        /// The status decided.
        status: Status,
        /// Who decided.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// The register's roster follows the course's enrolments (a back-dated enrolment or
    /// unenrolment, a session moved to another day). A removed student's earlier marks stay
    /// in the history and stop counting.
    RosterAmended {
        /// Students now on the roster.
        added: Vec<StudentId>,
        /// Students no longer on it.
        removed: Vec<StudentId>,
        /// Why.
        reason: String,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A closed register was opened again for marks.
    RegisterReopened {
        /// Why.
        reason: String,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Students may check themselves in from `opens_at` until `closes_at` (exclusive). The
    /// window's code secret is kept outside the events, under `window_id`.
    CheckInOpened {
        /// Names the window.
        window_id: String,
        /// From when.
        opens_at: DateTime<Utc>,
        /// Until when (exclusive).
        closes_at: DateTime<Utc>,
        /// A check-in this many minutes after `opens_at` or later is `late`.
        #[serde(default)]
        late_after_minutes: Option<u32>,
        /// The networks (CIDR) a check-in must come from; empty: any.
        #[serde(default)]
        networks: Vec<String>,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A person closed the check-in window before its end.
    CheckInClosed {
        /// The window closed.
        window_id: String,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// The register was closed; the listed unmarked students became absent.
    RegisterClosed {
        /// Students defaulted to absent.
        defaulted_absent: Vec<StudentId>,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
}

impl RegisterEvent {
    /// Who caused the event.
    pub fn actor(&self) -> &Actor {
        match self {
            RegisterEvent::RegisterOpened { by, .. }
            | RegisterEvent::AttendanceRecorded { by, .. }
            | RegisterEvent::AttendanceCorrected { by, .. }
            | RegisterEvent::MarksHeldForReview { by, .. }
            | RegisterEvent::SheetImported { by, .. }
            | RegisterEvent::ReviewResolved { by, .. }
            | RegisterEvent::RosterAmended { by, .. }
            | RegisterEvent::RegisterReopened { by, .. }
            | RegisterEvent::CheckInOpened { by, .. }
            | RegisterEvent::CheckInClosed { by, .. }
            | RegisterEvent::RegisterClosed { by, .. } => by,
        }
    }
}

impl DomainEvent for RegisterEvent {
    // Written by hand so that renaming a variant never renames stored history.
    fn event_type(&self) -> String {
        match self {
            RegisterEvent::RegisterOpened { .. } => "RegisterOpened",
            RegisterEvent::AttendanceRecorded { .. } => "AttendanceRecorded",
            RegisterEvent::AttendanceCorrected { .. } => "AttendanceCorrected",
            RegisterEvent::MarksHeldForReview { .. } => "MarksHeldForReview",
            RegisterEvent::SheetImported { .. } => "SheetImported",
            RegisterEvent::ReviewResolved { .. } => "ReviewResolved",
            RegisterEvent::RegisterClosed { .. } => "RegisterClosed",
            RegisterEvent::RosterAmended { .. } => "RosterAmended",
            RegisterEvent::RegisterReopened { .. } => "RegisterReopened",
            RegisterEvent::CheckInOpened { .. } => "CheckInOpened",
            RegisterEvent::CheckInClosed { .. } => "CheckInClosed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_string()
    }
}

/// A row of a scanned sheet held for review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldMark {
    /// The student of the row.
    pub student_id: StudentId,
    /// Why it was held, for a person (two bubbles filled, a bubble neither filled nor empty,
    /// the sheet and the register differ).
    pub reason: String,
    /// The statuses whose bubbles were filled or uncertain.
    pub candidates: Vec<Status>,
    /// Which kind of hold (events stored before conflicts existed read as `unclear`).
    #[serde(default)]
    pub kind: HeldKind,
    /// For a conflict: both values and who set the register's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<HeldConflict>,
}

/// Why a row was held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldKind {
    /// Its bubbles could not be read with certainty.
    #[default]
    Unclear,
    /// It was read clearly, but a person set the mark to something else.
    Conflict,
}

impl HeldKind {
    /// The stored name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            HeldKind::Unclear => "unclear",
            HeldKind::Conflict => "conflict",
        }
    }
}

/// A sheet row that differs from a person's mark: what each says, and who set the mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldConflict {
    /// What the sheet says.
    pub sheet: Status,
    /// What the register says (it stands until a review replaces it).
    pub register: Status,
    /// How the register's value was taken.
    pub method: Method,
    /// Who set it.
    pub set_by: Actor,
    /// When.
    pub set_at: DateTime<Utc>,
    /// Why: the correction's reason, or the mark's remark.
    pub why: Option<String>,
}

impl HeldConflict {
    /// The conflict for a person, naming who set the register's value as `who` ("the sheet
    /// says late; the register says present, set by ada at 2026-09-07 09:12 UTC (manual)").
    pub fn describe(&self, who: &str) -> String {
        let why = self.why.as_deref().map(|w| format!(": {w}"));
        format!(
            "the sheet says {}; the register says {}, set by {who} at {} ({}{})",
            self.sheet,
            self.register,
            self.set_at.format("%Y-%m-%d %H:%M UTC"),
            self.method.as_str(),
            why.unwrap_or_default(),
        )
    }
}

/// What one sheet page said, row by row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SheetCounts {
    /// Rows read as present.
    pub present: u32,
    /// Rows read as late.
    pub late: u32,
    /// Rows read as excused.
    pub excused: u32,
    /// Empty rows (absent).
    pub absent: u32,
    /// Rows held for review: bubbles that could not be read with certainty.
    pub held: u32,
    /// Rows held for review because they differ from a mark a person set (also counted
    /// under the status read).
    #[serde(default)]
    pub held_conflict: u32,
}

impl SheetCounts {
    /// Counts one row read as a status.
    pub fn count(&mut self, status: Status) {
        match status {
            Status::Present => self.present += 1,
            Status::Late => self.late += 1,
            Status::Excused => self.excused += 1,
            Status::Absent => self.absent += 1,
        }
    }

    /// Adds another page's counts.
    pub fn add(&mut self, other: &SheetCounts) {
        self.present += other.present;
        self.late += other.late;
        self.excused += other.excused;
        self.absent += other.absent;
        self.held += other.held;
        self.held_conflict += other.held_conflict;
    }
}
