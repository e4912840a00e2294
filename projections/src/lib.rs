//! The read side of the attendance system and the database it shares with the write side.
//!
//! [`db`] owns the schema (sqlx migrations, including the postgres-es event table with its
//! outbox columns) and connecting; [`event_log`] reads the committed event history for
//! look-ups that span aggregates; [`outbox`] reads it in commit order for the relay;
//! [`envelope`] is the public subject scheme and CloudEvents message format.

pub mod db;
pub mod envelope;
pub mod event_log;
pub mod outbox;
