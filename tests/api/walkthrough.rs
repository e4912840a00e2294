//! The README's five-minute walkthrough, run as a person runs it: its first `sh` block, read
//! from README.md at test time, run with bash, curl and jq against a fresh server, once on an
//! empty system and once after `attendance demo`, as the README's order suggests.

use crate::helpers::{ADMIN_PASSWORD, TestApp, expect_json, roster_row};
use attendance::demo::{self, DemoArgs};
use reqwest::StatusCode;
use serde_json::Value;

/// The first ```sh block under "## Five-minute walkthrough" in the README.
fn walkthrough_block() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let section = readme
        .split_once("## Five-minute walkthrough")
        .expect("the README has a walkthrough")
        .1;
    let block = section
        .split_once("```sh\n")
        .expect("the walkthrough has a sh block")
        .1;
    block
        .split_once("\n```")
        .expect("the block ends")
        .0
        .to_string()
}

/// Runs the walkthrough against `app` and returns the JSON documents it printed, in order.
async fn run_walkthrough(app: &TestApp) -> Vec<Value> {
    // -e and pipefail make a missing curl or jq fail the test instead of printing nothing.
    let script = format!("set -eu -o pipefail\n{}", walkthrough_block());
    let base = app.base.clone();
    // The server runs on this test's runtime: wait for bash off it.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("B", base)
            .env("PASSWORD", ADMIN_PASSWORD)
            .output()
    })
    .await
    .expect("joined")
    .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the walkthrough ran: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // curl prints each answer without a newline: read them as a stream of JSON values.
    let documents: Vec<Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("the walkthrough printed JSON ({e}):\n{stdout}"));
    for document in &documents {
        assert!(
            document.get("code").is_none() || document.get("title").is_none(),
            "no step answers a problem: {document}\n{stdout}"
        );
    }
    documents
}

/// The last document is the register of step 5: it shows the correction, caught up.
fn assert_register_shows_the_correction(documents: &[Value]) {
    let register = documents.last().expect("step 5 printed the register");
    assert_eq!(
        register["freshness"]["caught_up"], true,
        "step 5 waited for the correction: {register}"
    );
    let row = roster_row(register, "S2001");
    assert_eq!(row["status"], "late", "the corrected status: {register}");
    let marked = documents
        .iter()
        .find(|d| d["status"] == "present" && d["student_id"] == "S2001")
        .expect("step 3 printed the mark");
    assert_eq!(marked["changed"], true);
    let preview = documents
        .iter()
        .find(|d| d.get("new").is_some() && d.get("enrolments").is_none())
        .expect("step 2c printed the preview");
    assert_eq!(preview["new"], 2, "{preview}");
    let imported = documents
        .iter()
        .find(|d| d.get("enrolments").is_some())
        .expect("step 2c printed the import");
    assert_eq!(imported["enrolments"][0]["enrolled"], 2, "{imported}");
    // Step 2b: the term, in Berlin time across the end of daylight saving time.
    let term = documents
        .iter()
        .find(|d| d.get("sessions").is_some() && d.get("first").is_some())
        .expect("step 2b printed the term");
    assert_eq!(term["sessions"], 27, "{term}");
    assert_eq!(term["first"], "2026-09-14T10:00:00+02:00", "{term}");
    assert_eq!(term["last"], "2026-12-16T10:00:00+01:00", "{term}");
}

#[tokio::test]
async fn the_readme_walkthrough_runs_as_written_on_an_empty_system() {
    let app = TestApp::spawn().await;
    let documents = run_walkthrough(&app).await;
    assert_register_shows_the_correction(&documents);
}

#[tokio::test]
async fn the_readme_walkthrough_runs_as_written_after_the_demo() {
    let app = TestApp::spawn().await;
    demo::run(DemoArgs {
        connections: app.config.connections.clone(),
        password: Some("demo-password-for-tests".into()),
    })
    .await
    .expect("the demo loads");
    let documents = run_walkthrough(&app).await;
    assert_register_shows_the_correction(&documents);

    // The demo's term is the documented one, whatever today is.
    let sessions = expect_json(
        app.get("/api/courses/CS101/sessions", &app.admin).await,
        StatusCode::OK,
    )
    .await;
    let first = &sessions.as_array().expect("a list of sessions")[0];
    assert_eq!(first["starts_at"], "2026-09-07T09:00:00Z", "{sessions}");
    assert_eq!(demo::TERM_START.to_string(), "2026-09-07");
}
