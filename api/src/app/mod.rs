//! The application layer: every use case and the write side, callable from the JSON routes,
//! the CLI and the web pages alike. It knows no HTTP: its errors are [`error::AppError`],
//! turned into problem documents in one place (`crate::error`), and no module here imports
//! `crate::routes`, `crate::error`, `crate::extract`, `crate::idempotency`, `crate::docs` or
//! axum (a test below holds that).
//!
//! - [`access`]: who may do what to which course and student (the one authorization module).
//! - [`courses`], [`course_list`] (paged, filtered course lists), [`register`], [`students`], [`sheets`], [`import`], [`onboarding`]: the use
//!   cases, one module per aggregate or read model (and the spreadsheet import of students).
//! - [`store`] (aggregate cache, optimistic retries) over [`writer`] (group commit): the
//!   write side. [`breaker`] guards calls to a dependency that may be down; [`freshness`]
//!   waits for a read model to reach a position.

pub mod access;
pub mod auto_close;
pub mod breaker;
pub mod bulk_marks;
pub mod check_in;
pub mod closures;
pub mod course_list;
pub mod courses;
mod domain_errors;
pub mod error;
pub mod feeds;
pub mod freshness;
pub mod health;
pub mod ical;
pub mod import;
pub mod onboarding;
pub mod rates;
pub mod register;
pub mod roster;
pub mod sheets;
pub mod store;
pub mod students;
pub mod timetable;
pub mod warnings;
pub mod whats_on;
pub mod writer;

pub use domain_errors::register_code;
pub use error::AppError;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// What the application layer must never import: the HTTP side depends on it, not the
    /// other way round.
    const HTTP: [&str; 7] = [
        "crate::routes",
        "crate::error",
        "crate::extract",
        "crate::idempotency",
        "crate::docs",
        "crate::problem",
        "axum",
    ];

    fn sources(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path.display().to_string(), text));
            }
        }
    }

    #[test]
    fn the_application_layer_imports_nothing_of_http() {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app"),
            &mut files,
        );
        assert!(
            files.len() >= 10,
            "the app folder was found: {}",
            files.len()
        );
        let mut offences = Vec::new();
        for (path, text) in &files {
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for name in HTTP {
                    if code.contains(&format!("{name}::")) || code.contains(&format!("{name};")) {
                        offences.push(format!("{path}:{}: {}", number + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            offences.is_empty(),
            "app imports HTTP:\n{}",
            offences.join("\n")
        );
    }
}
