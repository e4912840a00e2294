//! What can be asked of a course. Each command carries its actor and time.

use super::aggregate::CourseDetails;
use crate::ids::CourseId;
use crate::{Actor, AttendancePolicy, SessionId, StudentId, UserId, Zone};
use chrono::{DateTime, NaiveDate, Utc};

/// A request to change a course.
#[derive(Debug, Clone, PartialEq)]
pub enum CourseCommand {
    /// Create the course with its code and details.
    CreateCourse {
        /// The course code (aggregate id).
        course_id: CourseId,
        /// Name, department, credits, semester.
        details: CourseDetails,
        /// The zone its days are counted in (the institution's unless chosen).
        time_zone: Zone,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Replace the course's details.
    UpdateCourse {
        /// The new details.
        details: CourseDetails,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Let a teacher manage the course.
    AssignTeacher {
        /// The teacher's user id.
        teacher: UserId,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Remove a teacher from the course.
    UnassignTeacher {
        /// The teacher's user id.
        teacher: UserId,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Enrol a student from a date on.
    EnrollStudent {
        /// The student.
        student_id: StudentId,
        /// First day the student belongs to the course.
        effective_from: NaiveDate,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// End a student's enrolment from a date on.
    UnenrollStudent {
        /// The student.
        student_id: StudentId,
        /// First day the student no longer belongs to the course.
        effective_from: NaiveDate,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Put a session on the calendar.
    ScheduleSession {
        /// The new session's id (chosen by the caller).
        session_id: SessionId,
        /// A title such as "Lecture 3".
        title: String,
        /// Start time.
        starts_at: DateTime<Utc>,
        /// Length in minutes (1 to 1440).
        duration_minutes: u32,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Put a whole term's sessions on the calendar at once: all of them or none.
    ScheduleTerm {
        /// The timetable, in the course's local time.
        timetable: super::Timetable,
        /// One new id per session the timetable means, in date order.
        session_ids: Vec<SessionId>,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Cancel a scheduled session.
    CancelSession {
        /// The session.
        session_id: SessionId,
        /// Why, if given.
        reason: Option<String>,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Move a session: a new start and/or length, with a reason.
    RescheduleSession {
        /// The session.
        session_id: SessionId,
        /// The new start (unchanged when none).
        starts_at: Option<DateTime<Utc>>,
        /// The new length (unchanged when none).
        duration_minutes: Option<u32>,
        /// Why (required).
        reason: String,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Put a cancelled session back on the calendar, with a reason.
    RestoreSession {
        /// The session.
        session_id: SessionId,
        /// Why (required).
        reason: String,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Give a session a new title.
    RenameSession {
        /// The session.
        session_id: SessionId,
        /// The new title.
        title: String,
        /// Why, if given.
        reason: Option<String>,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Count the course's days in another time zone.
    SetTimeZone {
        /// The IANA zone.
        time_zone: Zone,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Change how attendance rates are computed for this course.
    SetPolicy {
        /// The new policy.
        policy: AttendancePolicy,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Archive the course: hidden from lists, no new sessions, history kept.
    ArchiveCourse {
        /// Why, if given.
        reason: Option<String>,
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
    /// Bring an archived course back into use.
    RestoreCourse {
        /// Who asks.
        by: Actor,
        /// When.
        at: DateTime<Utc>,
    },
}
