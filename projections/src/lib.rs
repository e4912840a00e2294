//! The read side of the attendance system and the database it shares with the write side.
//!
//! [`db`] owns the schema (sqlx migrations, including the postgres-es event table with its
//! outbox columns) and connecting; [`event_log`] reads the committed event history for
//! look-ups that span aggregates; [`outbox`] reads it in commit order for the relay;
//! [`envelope`] is the public subject scheme and CloudEvents message format.
//!
//! Read models: [`course_stats`] and [`register_views`], each a pure fold with its storage,
//! run by [`projector`] (checkpointed batches, rebuild) from a JetStream durable consumer
//! ([`consumer`]). [`students`] looks up the names that answers and reports print.

pub mod audit;
pub mod consumer;
pub mod course_stats;
pub mod db;
pub mod envelope;
pub mod event;
pub mod event_log;
pub mod outbox;
pub mod projector;
pub mod register_views;
pub mod reports;
pub mod students;
