//! The read side of the attendance system and the database it shares with the write side.
//!
//! [`db`] owns the schema (sqlx migrations, including the postgres-es event table with its
//! outbox columns) and connecting; [`event_log`] reads the committed event history for
//! look-ups that span aggregates.

pub mod db;
pub mod event_log;
