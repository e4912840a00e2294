//! The command line as a user meets it: every subcommand is listed with help, and a bad
//! invocation fails with a message instead of running. (Also makes `cargo test` build the
//! `attendance` binary that the integration suite drives as a separate process.)

use std::process::Command;

fn attendance(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_attendance"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn help_lists_every_subcommand() {
    let output = attendance(&["--help"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for command in [
        "serve", "migrate", "relay", "project", "rebuild", "replay", "report", "user", "demo",
        "bench",
    ] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
}

#[test]
fn an_unknown_report_format_is_refused_before_touching_the_database() {
    let output = attendance(&[
        "report",
        "--database-url",
        "postgres://nowhere.invalid/x",
        "course",
        "CS101",
        "--format",
        "docx",
    ]);
    assert!(!output.status.success());
    let text = String::from_utf8(output.stderr).unwrap();
    assert!(text.contains("available: csv, pdf, xlsx"), "{text}");
}

#[test]
fn a_short_jwt_secret_is_refused_at_start() {
    let output = attendance(&[
        "serve",
        "--jwt-secret",
        "too-short",
        "--database-url",
        "postgres://127.0.0.1:1/x",
    ]);
    assert!(!output.status.success());
    let text = String::from_utf8(output.stderr).unwrap();
    assert!(text.contains("at least 32 bytes"), "{text}");
    assert!(
        !text.contains("too-short"),
        "the secret is never printed: {text}"
    );
}
