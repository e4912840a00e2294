//! The event store: the database schema that the write side and the read side share, and the
//! readers of the committed event history.
//!
//! - [`db`]: connecting (creating the database if missing) and the sqlx migrations: the
//!   postgres-es `events` table with its outbox columns (`global_position`, `tx_id`,
//!   `recorded_at`), personal data tables, read-model tables, checkpoints.
//! - [`outbox`]: the log in commit order, `(tx_id, global_position)`, for the relay, the
//!   rebuild and the audit pages; the relay's checkpoints and lag.
//! - [`event_log`]: look-ups that span aggregates (course ids, a session's course).
//! - [`envelope`]: the public subject scheme and the CloudEvents message format.
pub mod db;
pub mod envelope;
pub mod event_log;
pub mod outbox;
