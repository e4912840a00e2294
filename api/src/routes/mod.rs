//! The JSON routes, one file per area, each with its own `router()`; merged in
//! [`crate::router`]. A route is a leaf: it parses and checks its input ([`crate::checks`]),
//! asks [`crate::app`] (access and the use case), and answers; no route file imports another
//! (shared answer shapes are in [`crate::views`]).

pub mod attendance;
pub mod attendance_bulk;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod check_in;
pub mod closures;
pub mod course_archive;
pub mod courses;
pub mod enrollments;
pub mod feeds;
pub mod health;
pub mod imports;
pub mod me;
pub mod records;
pub mod reports;
pub mod sessions;
pub mod sheets;
pub mod statistics;
pub mod students;
pub mod timetable;
pub mod users;
pub mod warnings;
