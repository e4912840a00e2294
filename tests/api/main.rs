//! Black-box integration tests of the attendance system against real Postgres and NATS.
//!
//! One test binary (link time on two cores); each test starts the application in-process on
//! port 0 with a fresh database. Missing services fail the tests loudly; nothing is skipped.

mod accounts;
mod attendance;
mod audit;
mod auth;
mod calendar;
mod calendar_life;
mod check_in;
mod cluster_soak;
mod concurrency;
mod course_archive;
mod courses;
mod department_report;
mod embedded;
mod faults;
mod group_commit;
mod helpers;
mod hostile;
mod idempotency;
mod input;
mod lists;
mod mark_import;
mod nats_cluster;
mod nats_conf;
mod nats_support;
mod onboarding;
mod openapi;
mod outbox_order;
mod platform;
mod proxy;
mod read_side;
mod relay;
mod relay_upgrade;
mod reports;
mod roles;
mod scale_out;
mod security;
mod seed_shapes;
mod sheets;
mod smoke;
mod students;
mod user_import;
mod walkthrough;
mod warnings;
mod web;
