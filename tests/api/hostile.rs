//! Hostile callers and input: what an attacker or a buggy client would send, and what the
//! API must do with it (a clear problem document, never a 5xx, nothing changed, no secret
//! leaked, no access beyond the caller's own).
//!
//! - `bad_input`: huge and deep bodies, hostile path ids, cross-course marks, dates out of range
//! - `property`: arbitrary JSON to every command of the OpenAPI document (proptest)
//! - `injection`: SQL injection payloads in every string parameter
//! - `tokens`: forged JWTs (times, claims, keys, algorithms)
//! - `logs`: `attendance serve` at debug level never logs a password, hash, secret or token
//! - `ownership`: the role matrix for every route `roles.rs` has no row for
//! - `schemathesis`: the schemathesis fuzzer finds no 5xx and no schema mismatch

mod bad_input;
mod injection;
mod logs;
mod ownership;
mod property;
mod schemathesis;
mod support;
pub(crate) mod tokens;
