//! Facts about a course. Stored names are frozen: see [`CourseEvent::event_type`].

use super::aggregate::CourseDetails;
use crate::ids::CourseId;
use crate::{Actor, AttendancePolicy, SessionId, StudentId, UserId, Zone};
use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// Something that happened to a course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CourseEvent {
    /// The course exists.
    CourseCreated {
        /// Course code.
        course_id: CourseId,
        /// Its details.
        details: CourseDetails,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// The course's details changed.
    CourseUpdated {
        /// The new details.
        details: CourseDetails,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A teacher now manages the course.
    TeacherAssigned {
        /// The teacher.
        teacher: UserId,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A teacher no longer manages the course.
    TeacherUnassigned {
        /// The teacher.
        teacher: UserId,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A student belongs to the course from a date on.
    StudentEnrolled {
        /// The student.
        student_id: StudentId,
        /// First day enrolled.
        effective_from: NaiveDate,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A current enrolment starts earlier than recorded (a back-dated enrolment).
    EnrollmentBackdated {
        /// The student.
        student_id: StudentId,
        /// The new first day enrolled.
        effective_from: NaiveDate,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A student no longer belongs to the course from a date on.
    StudentUnenrolled {
        /// The student.
        student_id: StudentId,
        /// First day no longer enrolled.
        effective_from: NaiveDate,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A session is on the calendar.
    SessionScheduled {
        /// The session.
        session_id: SessionId,
        /// Its title.
        title: String,
        /// Start time.
        starts_at: DateTime<Utc>,
        /// Length in minutes.
        duration_minutes: u32,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A session was cancelled.
    SessionCancelled {
        /// The session.
        session_id: SessionId,
        /// Why, if given.
        reason: Option<String>,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A session moved (new start and/or length).
    SessionRescheduled {
        /// The session.
        session_id: SessionId,
        /// The new start.
        starts_at: DateTime<Utc>,
        /// The new length in minutes.
        duration_minutes: u32,
        /// Why.
        reason: String,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A cancelled session is back on the calendar.
    SessionRestored {
        /// The session.
        session_id: SessionId,
        /// Why.
        reason: String,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// A session has a new title.
    SessionRenamed {
        /// The session.
        session_id: SessionId,
        /// The new title.
        title: String,
        /// Why, if given.
        reason: Option<String>,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// The course's time zone changed: from now on every "day" of the course (rosters, the
    /// seed `date` look-up, reports) is the local date of a session's start in this zone.
    // The stored name (the payload's tag too) is frozen as `CourseTimeZoneChanged`.
    #[serde(rename = "CourseTimeZoneChanged")]
    TimeZoneChanged {
        /// The IANA zone.
        time_zone: Zone,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// The attendance policy changed (it applies to past sessions too).
    AttendancePolicyChanged {
        /// The new policy.
        policy: AttendancePolicy,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// The course is archived: hidden from course lists by default, no new sessions; its
    /// history, reads and reports stay.
    CourseArchived {
        /// Why, if given.
        reason: Option<String>,
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// An archived course is back in use.
    CourseRestored {
        /// Who.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
}

impl CourseEvent {
    /// Who caused the event.
    pub fn actor(&self) -> &Actor {
        match self {
            CourseEvent::CourseCreated { by, .. }
            | CourseEvent::CourseUpdated { by, .. }
            | CourseEvent::TeacherAssigned { by, .. }
            | CourseEvent::TeacherUnassigned { by, .. }
            | CourseEvent::StudentEnrolled { by, .. }
            | CourseEvent::StudentUnenrolled { by, .. }
            | CourseEvent::SessionScheduled { by, .. }
            | CourseEvent::SessionCancelled { by, .. }
            | CourseEvent::EnrollmentBackdated { by, .. }
            | CourseEvent::SessionRescheduled { by, .. }
            | CourseEvent::SessionRestored { by, .. }
            | CourseEvent::SessionRenamed { by, .. }
            | CourseEvent::TimeZoneChanged { by, .. }
            | CourseEvent::AttendancePolicyChanged { by, .. }
            | CourseEvent::CourseArchived { by, .. }
            | CourseEvent::CourseRestored { by, .. } => by,
        }
    }
}

impl DomainEvent for CourseEvent {
    // Written by hand so that renaming a variant never renames stored history.
    fn event_type(&self) -> String {
        match self {
            CourseEvent::CourseCreated { .. } => "CourseCreated",
            CourseEvent::CourseUpdated { .. } => "CourseUpdated",
            CourseEvent::TeacherAssigned { .. } => "TeacherAssigned",
            CourseEvent::TeacherUnassigned { .. } => "TeacherUnassigned",
            CourseEvent::StudentEnrolled { .. } => "StudentEnrolled",
            CourseEvent::StudentUnenrolled { .. } => "StudentUnenrolled",
            CourseEvent::SessionScheduled { .. } => "SessionScheduled",
            CourseEvent::SessionCancelled { .. } => "SessionCancelled",
            CourseEvent::AttendancePolicyChanged { .. } => "AttendancePolicyChanged",
            CourseEvent::TimeZoneChanged { .. } => "CourseTimeZoneChanged",
            CourseEvent::SessionRescheduled { .. } => "SessionRescheduled",
            CourseEvent::EnrollmentBackdated { .. } => "EnrollmentBackdated",
            CourseEvent::SessionRestored { .. } => "SessionRestored",
            CourseEvent::SessionRenamed { .. } => "SessionRenamed",
            CourseEvent::CourseArchived { .. } => "CourseArchived",
            CourseEvent::CourseRestored { .. } => "CourseRestored",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_string()
    }
}
