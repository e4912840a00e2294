//! schemathesis (`scripts/schemathesis.sh`) against a seeded app as an administrator: no
//! generated request gets a 5xx and every documented response matches its schema.

use super::support::Ids;
use crate::helpers::{TestApp, run};
use std::process::Command;

/// The repository's `scripts/schemathesis.sh`.
fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/schemathesis.sh")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_errors() {
    let app = TestApp::spawn().await;
    Ids::seed(&app).await;
    let (base, token) = (app.base.clone(), app.admin.clone());
    let mut command = Command::new("bash");
    command
        .arg(script())
        // Its crash cache (`.schemathesis/`) goes there, not into the work tree.
        .current_dir(std::env::temp_dir())
        .args([&base, &token]);
    let text = run(command).await;
    assert!(
        text.contains("passed"),
        "schemathesis ran operations:\n{text}"
    );
}
