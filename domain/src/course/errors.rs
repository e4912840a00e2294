//! Business rules a course command can break.

use crate::{PolicyError, SessionId, StudentId, UserId};

/// Why a course command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CourseError {
    /// The course was already created.
    #[error("the course already exists")]
    AlreadyExists,
    /// The course has not been created.
    #[error("the course does not exist")]
    NotFound,
    /// A course needs a non-empty name.
    #[error("the course name must not be empty")]
    NameRequired,
    /// Unassigning someone who is not a teacher of the course.
    #[error("user {0} is not a teacher of this course")]
    TeacherNotAssigned(UserId),
    /// Unenrolling a student who is not enrolled.
    #[error("student {0} is not enrolled in this course")]
    NotEnrolled(StudentId),
    /// A re-enrolment would start before the previous enrolment ended.
    #[error(
        "student {0} was enrolled until after that date; re-enrol from the day the last enrolment ended"
    )]
    EnrollmentOverlaps(StudentId),
    /// The session id is taken.
    #[error("session {0} already exists")]
    SessionExists(SessionId),
    /// No such session in this course.
    #[error("session {0} is not a session of this course")]
    SessionNotFound(SessionId),
    /// The session was cancelled.
    #[error("session {0} is cancelled")]
    SessionCancelled(SessionId),
    /// A session needs a non-empty title.
    #[error("the session title must not be empty")]
    TitleRequired,
    /// Sessions last 1 to 1440 minutes.
    #[error("a session lasts between 1 and 1440 minutes")]
    InvalidDuration,
    /// A timetable that holds no session (no weekday, or every date skipped).
    #[error(
        "the timetable holds no session: give at least one weekday between the first and last date"
    )]
    EmptyTimetable,
    /// A timetable whose last date is before its first.
    #[error("the last date is before the first date")]
    TermEndsBeforeItStarts,
    /// A timetable longer than a term can be.
    #[error("a timetable spans at most 400 days and 730 sessions")]
    TimetableTooLong,
    /// A timetable given too few or too many session ids (the caller's bug, or a course
    /// changed in between).
    #[error("the timetable means {expected} sessions, {given} ids were given")]
    SessionIdsMismatch {
        /// Sessions the timetable means.
        expected: usize,
        /// Ids given.
        given: usize,
    },
    /// A change that needs a reason was given none.
    #[error("a reason is required")]
    ReasonRequired,
    /// The course is archived: it takes no new sessions until restored.
    #[error("the course is archived; restore it first")]
    Archived,
    /// The policy is out of range.
    #[error("invalid attendance policy: {0}")]
    InvalidPolicy(#[from] PolicyError),
}
