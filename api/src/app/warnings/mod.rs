//! The early warning: deciding a student's standing from the events that change their
//! figures ([`evaluate`], run by the process manager in `bin/src/warnings.rs`), the outbox of
//! e-mails made from the standing's events ([`outbox`]), and what the API and the pages read
//! ([`read`]: a course's warnings, a student's own state, the notification settings).
//!
//! The figures of an evaluation are those as of the causing event, folded from the event
//! store (the course's events up to its position) with the same fold and formula as the
//! course statistics, never from a read model that may lag.

pub mod evaluate;
pub mod outbox;
pub mod read;
