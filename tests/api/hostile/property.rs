//! A property over the command API: whatever JSON an administrator sends to any POST or PUT
//! route of the OpenAPI document, the answer is never a 5xx and every error is a complete
//! problem document.

use super::support::{Answer, Ids, Operation, body_fields, openapi, operations};
use crate::helpers::TestApp;
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value};
use std::sync::Mutex;

/// Cases in all, spread over the routes: a few seconds in debug, well under half a minute.
const CASES: u32 = 1000;

/// A request body: JSON, or bytes that claim to be JSON.
#[derive(Debug, Clone)]
enum Body {
    Json(Value),
    Raw(Vec<u8>),
}

/// Strings a well-formed request would carry, and some that break naive code (quotes, a
/// LIKE wildcard, an emoji, a NUL character).
fn plausible(ids: &Ids) -> Vec<String> {
    let mut values: Vec<String> = [
        "present",
        "late",
        "excused",
        "absent",
        "teacher",
        "admin",
        "student",
        "S1",
        "S2",
        "CS101",
        "2026-09-07",
        "2026-09-07T09:00:00Z",
        "",
        " ",
        "'; --",
        "%",
        "🚀",
        "nul\u{0}byte",
    ]
    .map(String::from)
    .to_vec();
    values.extend([
        ids.session.clone(),
        ids.spare_session.clone(),
        ids.user.clone(),
    ]);
    values
}

/// Any JSON value, small; object keys are often field names of the document.
fn value(strings: Vec<String>, names: Vec<String>) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::from),
        prop::sample::select(strings).prop_map(Value::from),
    ];
    let key = prop_oneof![prop::sample::select(names), "[a-z_]{1,8}"];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Bodies for one route: mostly objects with its field names (each maybe missing, plus
/// maybe an unknown one), sometimes any JSON value, sometimes bytes.
fn bodies(
    fields: Vec<String>,
    strings: Vec<String>,
    values: BoxedStrategy<Value>,
) -> BoxedStrategy<Body> {
    let n = fields.len();
    let field = prop_oneof![
        2 => prop::sample::select(strings).prop_map(Value::from),
        1 => values.clone(),
    ];
    let shaped = (
        prop::collection::vec(prop::option::of(field), n),
        prop::option::of(("[a-z]{1,6}", values.clone())),
    )
        .prop_map(move |(picked, extra)| {
            let mut object: Map<String, Value> = fields
                .iter()
                .cloned()
                .zip(picked)
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect();
            object.extend(extra);
            Body::Json(Value::Object(object))
        });
    prop_oneof![
        4 => shaped,
        1 => values.prop_map(Body::Json),
        1 => prop::collection::vec(any::<u8>(), 0..48).prop_map(Body::Raw),
    ]
    .boxed()
}

async fn send(app: &TestApp, path: &str, op: &Operation, body: &Body) -> Answer {
    let request = app.request(op.method.clone(), path, Some(&app.admin));
    let request = match body {
        Body::Json(value) => request.json(value),
        Body::Raw(bytes) => request
            .header("content-type", "application/json")
            .body(bytes.clone()),
    };
    Answer::of(request.send().await.expect("request sent")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_json_to_any_command_is_never_a_5xx_and_errors_are_problems() {
    let app = TestApp::spawn().await;
    let ids = Ids::seed(&app).await;
    let doc = openapi(&app).await;
    let commands: Vec<Operation> = operations(&doc)
        .into_iter()
        .filter(|op| matches!(op.method.as_str(), "POST" | "PUT"))
        .collect();
    let mut names: Vec<String> = commands
        .iter()
        .flat_map(|op| body_fields(&doc, op))
        .collect();
    names.extend(["student_id", "status", "remark"].map(String::from));
    let strings = plausible(&ids);
    let values = value(strings.clone(), names);
    let per_route: Vec<BoxedStrategy<(usize, Body)>> = commands
        .iter()
        .enumerate()
        .map(|(i, op)| {
            bodies(body_fields(&doc, op), strings.clone(), values.clone())
                .prop_map(move |body| (i, body))
                .boxed()
        })
        .collect();
    let paths: Vec<String> = commands
        .iter()
        .map(|op| ids.fill(&op.template, None))
        .collect();
    let statuses = Mutex::new(Vec::new());
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        max_shrink_iters: 64,
        ..Config::default()
    });
    // The server runs on the runtime's workers; this thread blocks on one request at a time.
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&Union::new(per_route), |(i, body)| {
            let answer = handle.block_on(send(&app, &paths[i], &commands[i], &body));
            statuses.lock().unwrap().push(answer.status.as_u16());
            match answer.flaw() {
                Some(flaw) => Err(TestCaseError::fail(format!(
                    "{} {} with {body:?}: {flaw}",
                    commands[i].method, paths[i]
                ))),
                None => Ok(()),
            }
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let statuses = statuses.into_inner().unwrap();
    assert!(
        statuses.len() >= CASES as usize,
        "{} cases ran",
        statuses.len()
    );
    assert!(
        statuses.iter().any(|s| (200..300).contains(s)),
        "some bodies were accepted"
    );
    assert!(
        statuses.iter().any(|s| (400..500).contains(s)),
        "some bodies were refused"
    );
}
