//! The `Course` aggregate: catalogue data, teachers, enrolments with effective dates,
//! scheduled sessions and the course's attendance policy.

mod aggregate;
mod changes;
mod commands;
mod errors;
mod events;
#[cfg(test)]
mod tests;
mod timetable;

pub use aggregate::{Course, CourseDetails, EnrollmentPeriod, ScheduledSession};
pub use commands::CourseCommand;
pub use errors::CourseError;
pub use events::CourseEvent;
pub use timetable::{MAX_DAYS, MAX_SESSIONS, PlannedSession, Timetable};
