//! The served OpenAPI document as integrators' tools see it: it passes the OpenAPI 3.1
//! schema (openapi-spec-validator), reads well to client generators (unique operationIds,
//! every response described, problem responses as `application/problem+json`, examples,
//! `servers`), and a client generated from it by openapi-python-client runs the README's
//! walkthrough. The tools come from `scripts/openapi-tools.sh` (installed by `.ci/run`); when
//! they are missing the tests fail, never skip.

use crate::helpers::{ADMIN_PASSWORD, TestApp, expect_json, run};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's `scripts/openapi-tools.sh` with its arguments.
fn openapi_tools(args: &[&str]) -> Command {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new("bash");
    command
        .arg(root.join("scripts/openapi-tools.sh"))
        .args(args);
    command
}

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("attendance-openapi-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The document the app serves, also written to `dir/openapi.json` for the tools.
async fn served_document(app: &TestApp, dir: &TempDir) -> (Value, PathBuf) {
    let response = app
        .request(Method::GET, "/api/openapi.json", None)
        .send()
        .await
        .unwrap();
    let doc = expect_json(response, StatusCode::OK).await;
    let path = dir.0.join("openapi.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    (doc, path)
}

/// Every operation of the document: (method and path, operation).
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((format!("{} {path}", method.to_uppercase()), operation));
        }
    }
    all
}

/// What generators need and the 3.1 schema alone does not demand: each finding names its
/// operation.
fn generator_findings(doc: &Value, base: &str) -> Vec<String> {
    let mut findings = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (name, operation) in operations(doc) {
        match operation["operationId"].as_str() {
            None => findings.push(format!("{name}: no operationId")),
            Some(id) => {
                if let Some(first) = seen.insert(id.to_string(), name.clone()) {
                    findings.push(format!("{name}: operationId {id} repeats that of {first}"));
                }
            }
        }
        for (status, response) in operation["responses"].as_object().unwrap() {
            if response["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
            {
                findings.push(format!("{name}: response {status} has no description"));
            }
            let content = response["content"].as_object();
            let types: Vec<&String> = content.map(|c| c.keys().collect()).unwrap_or_default();
            if status.starts_with('4') || status.starts_with('5') {
                let problem_only = types == ["application/problem+json"];
                // /api/health answers its own body when it is unhealthy.
                if !problem_only && !name.ends_with("/api/health") {
                    findings.push(format!(
                        "{name}: response {status} is {types:?}, not problem+json"
                    ));
                }
            }
        }
        if let Some(body) = operation.get("requestBody") {
            let examples = body["content"].as_object().unwrap().values();
            if !examples.into_iter().all(|c| c.get("example").is_some()) {
                findings.push(format!("{name}: the request body has no example"));
            }
        }
    }
    if doc["servers"][0]["url"] != base {
        findings.push(format!("servers: {} instead of {base}", doc["servers"]));
    }
    for tag in doc["tags"].as_array().unwrap() {
        if tag["description"].as_str().is_none_or(str::is_empty) {
            findings.push(format!("tag {} has no description", tag["name"]));
        }
    }
    findings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_passes_the_openapi_3_1_validator() {
    let app = TestApp::spawn().await;
    let dir = TempDir::new();
    let (doc, path) = served_document(&app, &dir).await;
    let findings = generator_findings(&doc, &app.base);
    assert!(findings.is_empty(), "{}", findings.join("\n"));
    // The walkthrough's main responses show an example.
    for (path, method, status) in [
        ("/api/auth/login", "post", "200"),
        ("/api/students", "post", "201"),
        ("/api/attendance", "post", "200"),
    ] {
        let response = &doc["paths"][path][method]["responses"][status];
        assert!(
            response["content"]["application/json"]["example"].is_object(),
            "{method} {path} {status}: {response}"
        );
    }
    let text = run(openapi_tools(&["validate", path.to_str().unwrap()])).await;
    assert!(text.contains(": OK"), "the validator's verdict:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_python_client_runs_the_readme_walkthrough() {
    let app = TestApp::spawn().await;
    let dir = TempDir::new();
    let (_, path) = served_document(&app, &dir).await;
    let package = dir.0.join("attendance_client");
    run(openapi_tools(&[
        "generate",
        path.to_str().unwrap(),
        package.to_str().unwrap(),
    ]))
    .await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi/walkthrough.py");
    let mut walkthrough = openapi_tools(&[
        "python",
        script.to_str().unwrap(),
        &app.base,
        ADMIN_PASSWORD,
    ]);
    walkthrough.env("PYTHONPATH", &dir.0);
    let text = run(walkthrough).await;
    for step in [
        "created student",
        "a second mark is refused: correction_required",
        "statistics:",
    ] {
        assert!(text.contains(step), "no `{step}` in:\n{text}");
    }
    assert!(text.contains("walkthrough passed"), "{text}");
}
