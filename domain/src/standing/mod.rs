//! The `Standing` aggregate: one per course and student, the early warning's memory. It
//! hears evaluations of the student's figures (rate, absence streak) and records a fact only
//! when a figure crosses the course policy's line relative to what it recorded before:
//! [`StandingEvent::StudentAtRisk`], [`StandingEvent::StudentRecovered`],
//! [`StandingEvent::AbsenceStreakReached`] (and [`StandingEvent::AbsenceStreakEnded`], so
//! that a streak that breaks and comes back is a new crossing). An evaluation carries its
//! cause (the global position of the event that changed the figures); one whose cause is not
//! after the last one recorded is ignored, so a redelivery, a replay or a second process
//! never records a crossing twice.

mod aggregate;
mod commands;
mod errors;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::Standing;
pub use commands::StandingCommand;
pub use errors::StandingError;
pub use events::{Cause, Figures, StandingEvent};

/// The id of a student's standing in a course: `<course>.<student>` (ids never hold a dot).
pub fn standing_id(course: &crate::CourseId, student: &crate::StudentId) -> String {
    format!("{}.{}", course.as_str(), student.as_str())
}
