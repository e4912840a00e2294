//! Makes every error response a problem document, including those axum produces itself
//! (unknown route, wrong method, extractor rejections).

use crate::error::{ApiError, Problem};
use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Rewrites plain-text error responses as `application/problem+json`.
pub async fn fallback(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // The web pages answer their errors as HTML pages of their own.
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json")
                || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this method is not allowed on this route",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            "headers_too_large",
            "the request headers are larger than 32 KiB",
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        s if s.is_server_error() => (
            "internal",
            "an unexpected error occurred; it has been logged",
        ),
        _ => (
            "bad_request",
            status.canonical_reason().unwrap_or("bad request"),
        ),
    };
    let problem = Problem {
        kind: format!("/problems/{code}"),
        title: crate::catalogue::problem_type(code)
            .map_or_else(|| status.canonical_reason().unwrap_or("Error"), |p| p.title)
            .to_string(),
        status: status.as_u16(),
        detail: detail.to_string(),
        code: code.to_string(),
        errors: Vec::new(),
    };
    let mut rewritten = (status, Json(problem)).into_response();
    rewritten.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    rewritten
}

/// Answers unknown routes. A path that only differs from a route by a trailing slash names
/// the route, since `/api/students/` for `/api/students` is the usual slip.
pub async fn not_found(uri: Uri) -> ApiError {
    let path = uri.path();
    match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => ApiError::NotFound(format!(
            "no such route: {path}; routes have no trailing slash, use {trimmed}"
        )),
        _ => ApiError::NotFound("no such route".to_string()),
    }
}
