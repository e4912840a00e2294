//! What a student's standing can be asked to do.

use super::events::{Cause, Figures};
use crate::{Actor, CourseId, StudentId};
use chrono::{DateTime, Utc};

/// A command on a student's standing.
#[derive(Debug, Clone, PartialEq)]
pub enum StandingCommand {
    /// Compare the student's figures as of `cause` with the recorded standing; record the
    /// crossings.
    Evaluate {
        /// The course.
        course_id: CourseId,
        /// The student.
        student_id: StudentId,
        /// The figures as of the cause.
        figures: Figures,
        /// The event that changed them.
        cause: Cause,
        /// Who evaluates (the system).
        by: Actor,
        /// When the cause was stored.
        at: DateTime<Utc>,
    },
}
