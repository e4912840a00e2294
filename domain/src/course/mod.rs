//! The `Course` aggregate: catalogue data, teachers, enrolments with effective dates,
//! scheduled sessions and the course's attendance policy.

mod aggregate;
mod commands;
mod errors;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Course, CourseDetails, EnrollmentPeriod, ScheduledSession};
pub use commands::CourseCommand;
pub use errors::CourseError;
pub use events::CourseEvent;
