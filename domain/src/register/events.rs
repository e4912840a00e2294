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
            RegisterEvent::RegisterClosed { .. } => "RegisterClosed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_string()
    }
}
