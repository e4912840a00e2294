//! What every page answer and every unsafe page request goes through: cross-site requests
//! refused by `Sec-Fetch-Site` and `Origin` (the per-form token is checked by each form's
//! handler, see [`crate::session::SignedIn::check_form`]), and the pages' content policy.

use crate::error::PageError;
use crate::i18n;
use axum::extract::Request;
use axum::http::header::{CONTENT_SECURITY_POLICY, HOST, ORIGIN, REFERRER_POLICY};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Scripts, styles and images come from this server only, and forms post only to it.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// Whether an unsafe request comes from another site: its browser says so in
/// `Sec-Fetch-Site` (browsers that send it are believed), or else its `Origin` names another
/// host than the one it was sent to (`null` included).
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = fetch_site {
        return !matches!(site, "same-origin" | "none");
    }
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    match origin {
        None => false,
        Some(origin) => {
            let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
            host.is_none_or(|host| origin_host != host)
        }
    }
}

/// Middleware for the pages: refuses cross-site unsafe requests, sets the content policy.
pub async fn protect(request: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*request.method(), Method::GET | Method::HEAD);
    if unsafe_method && is_cross_site(request.headers()) {
        let t = i18n::choose(request.headers());
        tracing::warn!(path = request.uri().path(), "cross-site form refused");
        return PageError::csrf().in_language(t).into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    // The pages' own forms then carry their origin (with `no-referrer` it is `null`).
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::is_cross_site;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_form_from_another_site_is_cross_site() {
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(is_cross_site(&headers(&[
            ("host", "a.example"),
            ("origin", "https://b.example")
        ])));
        assert!(is_cross_site(&headers(&[
            ("host", "a.example"),
            ("origin", "null")
        ])));
    }

    #[test]
    fn a_form_of_this_site_or_without_browser_headers_is_not() {
        assert!(!is_cross_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!is_cross_site(&headers(&[
            ("host", "a.example"),
            ("origin", "http://a.example")
        ])));
        assert!(!is_cross_site(&headers(&[])));
    }
}
