//! The pure write model of the attendance system.
//!
//! Two aggregates decide what happens: [`course::Course`] (catalogue data, teachers,
//! enrolments, sessions, attendance policy) and [`register::Register`] (one per session:
//! who was present, late, excused or absent, and every correction). Commands carry
//! everything the decision needs, including the time and the actor; nothing here does
//! I/O or reads a clock. [`policy`] holds the one attendance-rate formula. [`standing::Standing`]
//! (one per course and student) records the early warning's crossings.

pub mod actor;
pub mod course;
pub mod ids;
pub mod policy;
pub mod register;
pub mod standing;
pub mod status;
pub mod upcast;
pub mod zone;

pub use actor::{Actor, Role};
pub use ids::{CourseId, IdError, SessionId, StudentId, UserId};
pub use policy::{AttendancePolicy, PolicyError, Tally};
pub use status::{Method, Status};
pub use zone::{UnknownZone, Zone};

/// An aggregate that works out a command's events from its state without changing it, so
/// that a command can be decided on shared state and only a command that changes something
/// needs a state of its own.
pub trait Decide: cqrs_es::Aggregate {
    /// The events `command` causes, or why it is refused.
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;
}

/// Version string written with every event of the current schema.
///
/// Events are stored with this version; an older version is upcast on load.
pub const EVENT_VERSION: &str = "1";
