//! The request id: a client's `X-Request-Id` is kept only when it is at most
//! [`MAX_LEN`] visible ASCII characters; any other is dropped, so that the request-id layer
//! generates one. The id is stored with every event a command writes and published with
//! it, so an unbounded header would be written into the append-only store again and again.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// Longest client request id kept.
pub const MAX_LEN: usize = 64;

/// The header.
pub const HEADER: &str = "x-request-id";

/// Whether a client's request id may be kept: 1 to 64 visible ASCII characters.
pub fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=MAX_LEN).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic)
}

/// Middleware (outside the request-id layer): drops every unacceptable client id.
pub async fn sanitize(mut request: Request, next: Next) -> Response {
    let headers = request.headers_mut();
    let values: Vec<&HeaderValue> = headers.get_all(HEADER).iter().collect();
    if values.len() > 1 || values.first().is_some_and(|v| !acceptable(v)) {
        headers.remove(HEADER);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_visible_ascii_ids_are_acceptable() {
        let ok = |s: &str| acceptable(&HeaderValue::from_str(s).unwrap());
        assert!(ok("7f9c3a52-5d7e-4c1e-9f43-0b6f3c1d2e11"));
        assert!(ok(&"a".repeat(64)));
        assert!(!ok(&"a".repeat(65)));
        assert!(!ok("with space"));
        assert!(!ok(""));
        assert!(!acceptable(
            &HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()
        ));
    }
}
