//! schemathesis (`scripts/schemathesis.sh`) against a seeded app as an administrator: no
//! generated request gets a 5xx and every documented response matches its schema.

use super::support::Ids;
use crate::helpers::TestApp;
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
    // The script runs on a blocking thread; the server keeps serving on the workers.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg(script())
            // Its crash cache (`.schemathesis/`) goes there, not into the work tree.
            .current_dir(std::env::temp_dir())
            .args([&base, &token])
            .output()
            .expect("bash runs")
    })
    .await
    .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis failed ({}):\n{text}",
        output.status
    );
    assert!(
        text.contains("passed"),
        "schemathesis ran operations:\n{text}"
    );
}
