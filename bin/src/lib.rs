//! The `attendance` command: composition root, configuration and subcommands.
//!
//! `main.rs` only parses the command line; [`startup`] builds the application (the tests
//! use the same builder), [`cli`] dispatches subcommands, [`demo`] loads sample data.

pub mod bench;
pub mod check_in;
pub mod cli;
pub mod config;
pub mod demo;
pub mod embedded;
pub mod import;
pub mod limit_settings;
pub mod nats_url;
pub mod notify;
pub mod notify_command;
pub mod passwd;
pub mod projectors;
pub mod readiness;
pub mod relay;
pub mod replay;
pub mod report;
pub mod schedule;
pub mod serve;
pub mod sheet;
pub mod startup;
pub mod stream_check;
pub mod warnings;

/// Sets up logging: human-readable by default, JSON with `LOG_FORMAT=json`; level from
/// `RUST_LOG` (default `info`).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,async_nats=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
