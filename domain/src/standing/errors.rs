//! Business rules a standing command can break.

use crate::{CourseId, StudentId};

/// Why a standing command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StandingError {
    /// The evaluation names another course or student than the standing's.
    #[error("this standing is {course_id}'s {student_id}'s")]
    WrongStanding {
        /// The standing's course.
        course_id: CourseId,
        /// The standing's student.
        student_id: StudentId,
    },
}
