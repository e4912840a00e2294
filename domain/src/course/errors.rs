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
    /// The policy is out of range.
    #[error("invalid attendance policy: {0}")]
    InvalidPolicy(#[from] PolicyError),
}
