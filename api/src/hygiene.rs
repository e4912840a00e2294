//! Response and log hygiene: security headers on every answer (a stricter content policy
//! on the API docs page, the one HTML the server serves), and request logs that name the
//! path without its query string (which may carry what a client should not have put there).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Span;

/// The docs page loads its scripts and styles from the server itself (some inline).
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/// Everything else is data: nothing to run, nothing to frame.
const DATA_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Middleware: adds `nosniff`, no framing, no referrer and a content security policy.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let docs = request.uri().path().starts_with("/api/docs");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let policy = if docs { DOCS_POLICY } else { DATA_POLICY };
    let set = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, policy),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in set {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// Largest total size of a request's header names and values, in bytes. The HTTP server
/// itself refuses only far larger headers, and with a bare status.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Middleware (inside the problem layer, which makes the answer a problem document):
/// headers larger than [`MAX_HEADER_BYTES`] are answered 431.
pub async fn limit_headers(request: Request, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.into_response();
    }
    next.run(request).await
}

/// The span of one request in the logs: method and path, never the query string.
pub fn request_span(request: &Request) -> Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}

/// How a failed answer is logged: a 503 or 504 is the server refusing work it has no room or
/// time for (a gate full, a dependency down), which the operator watches as a warning; any
/// other 5xx is a fault and an error.
pub fn log_failure(
    class: tower_http::classify::ServerErrorsFailureClass,
    latency: std::time::Duration,
    _span: &Span,
) {
    use tower_http::classify::ServerErrorsFailureClass::StatusCode as Status;
    let latency = latency.as_millis();
    match class {
        Status(code)
            if code == StatusCode::SERVICE_UNAVAILABLE || code == StatusCode::GATEWAY_TIMEOUT =>
        {
            tracing::warn!(status = code.as_u16(), latency_ms = latency, "refused")
        }
        other => tracing::error!(classification = %other, latency_ms = latency, "response failed"),
    }
}
