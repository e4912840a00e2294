//! The OpenAPI document, the docs page and the health check.

use crate::helpers::{TestApp, expect_json};
use reqwest::{Method, StatusCode};

/// Every route the foundation issue lists, as OpenAPI writes them.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/auth/login"),
    ("get", "/api/auth/me"),
    ("post", "/api/users"),
    ("get", "/api/users"),
    ("delete", "/api/users/{id}"),
    ("post", "/api/students"),
    ("get", "/api/students"),
    ("get", "/api/students/{id}"),
    ("put", "/api/students/{id}"),
    ("delete", "/api/students/{id}"),
    ("post", "/api/courses"),
    ("get", "/api/courses"),
    ("get", "/api/courses/{id}"),
    ("put", "/api/courses/{id}"),
    ("post", "/api/courses/{id}/teachers"),
    ("post", "/api/courses/{id}/enrollments"),
    ("delete", "/api/courses/{id}/enrollments/{student_id}"),
    ("get", "/api/courses/{id}/students"),
    ("post", "/api/courses/{id}/sessions"),
    ("get", "/api/courses/{id}/sessions"),
    ("put", "/api/courses/{id}/policy"),
    ("post", "/api/attendance"),
    ("post", "/api/sessions/{id}/attendance"),
    (
        "post",
        "/api/sessions/{id}/attendance/{student_id}/correction",
    ),
    ("post", "/api/sessions/{id}/close"),
    ("get", "/api/sessions/{id}"),
    ("get", "/api/health"),
];

#[tokio::test]
async fn the_openapi_document_is_public_and_covers_every_route() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, "/api/openapi.json", None)
        .send()
        .await
        .unwrap();
    let doc = expect_json(response, StatusCode::OK).await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "OpenAPI 3: {}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].as_str().is_some());
    let mut missing = Vec::new();
    for (method, path) in ROUTES {
        if doc["paths"][path][method].is_null() {
            missing.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    assert!(missing.is_empty(), "undocumented routes: {missing:?}");
    // Protected routes declare the bearer scheme; login and health do not need it.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some("bearer")
    );
    assert!(!doc["paths"]["/api/attendance"]["post"]["security"].is_null());
    assert!(doc["paths"]["/api/health"]["get"]["security"].is_null());
    // Request bodies are described.
    assert!(!doc["paths"]["/api/attendance"]["post"]["requestBody"].is_null());
}

#[tokio::test]
async fn the_docs_page_is_served_without_a_token() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, "/api/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.unwrap();
    assert!(html.to_lowercase().contains("<html"), "{html}");
    // The page's assets are served by the app itself (nothing fetched at build time).
    let initializer = app
        .request(Method::GET, "/api/docs/swagger-initializer.js", None)
        .send()
        .await
        .unwrap();
    assert_eq!(initializer.status(), StatusCode::OK);
    let script = initializer.text().await.unwrap();
    assert!(script.contains("/api/openapi.json"), "{script}");
}

#[tokio::test]
async fn health_is_public_and_reports_database_and_nats() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, "/api/health", None)
        .send()
        .await
        .unwrap();
    // Anyone learns the status; only an administrator the details (issue 23).
    let public = expect_json(response, StatusCode::OK).await;
    assert_eq!(public, serde_json::json!({"status": "ok"}));
    let response = app
        .request(Method::GET, "/api/health", Some(&app.admin))
        .send()
        .await
        .unwrap();
    let health = expect_json(response, StatusCode::OK).await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["database"]["ok"], true, "{health}");
    assert_eq!(health["nats"]["ok"], true, "{health}");
    assert!(health["database"]["latency_ms"].is_u64(), "{health}");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, "/api/health", None)
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("x-request-id").is_some());
    let response = app
        .request(Method::GET, "/api/health", None)
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap()),
        Some("trace-me-123")
    );
}

/// Every route in the OpenAPI document except login and health refuses a request without a
/// valid token, whatever its method: new routes cannot forget authentication.
#[tokio::test]
async fn every_documented_route_but_login_and_health_needs_a_token() {
    let app = TestApp::spawn().await;
    let openapi = expect_json(
        app.request(reqwest::Method::GET, "/api/openapi.json", None)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    // The calendar feed is fetched by calendar apps: its secret is the token in its path.
    let public = ["/api/auth/login", "/api/health", "/api/calendar/ics/{file}"];
    let mut checked = 0;
    for (path, item) in openapi["paths"].as_object().unwrap() {
        if public.contains(&path.as_str()) {
            continue;
        }
        let concrete: String = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "X1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for token in [None, Some("not-a-token")] {
                let response = app
                    .request(method.clone(), &concrete, token)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    response.status(),
                    StatusCode::UNAUTHORIZED,
                    "{method} {concrete} with {token:?}"
                );
                let kind = response
                    .headers()
                    .get("content-type")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                assert_eq!(kind, "application/problem+json", "{method} {concrete}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} routes documented");
}

/// Free text goes into the events, which are never erased: the API says so where it is typed.
#[tokio::test]
async fn free_text_fields_warn_that_they_are_kept_in_the_history() {
    let app = TestApp::spawn().await;
    let openapi = expect_json(
        app.request(reqwest::Method::GET, "/api/openapi.json", None)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let schemas = &openapi["components"]["schemas"];
    for (schema, field) in [
        ("CorrectionBody", "reason"),
        ("RecordBody", "remark"),
        ("RollCallRow", "remark"),
        ("CancelBody", "reason"),
    ] {
        let description = schemas[schema]["properties"][field]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            description.contains("never erased"),
            "{schema}.{field}: {description:?}"
        );
    }
}
