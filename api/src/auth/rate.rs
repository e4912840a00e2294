//! Login attempts per client address: a token bucket per address, refilled at the
//! configured rate per minute and holding at most that many attempts.
//!
//! The address is the connection's peer, or, only when a trusted proxy header is
//! configured, the last address that header names (the one the proxy itself added): a
//! client cannot pick its own bucket by sending the header.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept at most; past it, full buckets (idle clients) are forgotten.
const MAX_CLIENTS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per client address.
#[derive(Debug)]
pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// `n` attempts a minute, and a burst of `n` (at least 1).
    pub fn per_minute(n: u32) -> Self {
        let n = f64::from(n.max(1));
        RateLimiter {
            per_sec: n / 60.0,
            burst: n,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for a client at `now`, or says how long until it may try again.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            let (per_sec, burst) = (self.per_sec, self.burst);
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec < burst);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * self.per_sec;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_sec;
            Err(Duration::from_secs_f64(wait.ceil().max(1.0)))
        }
    }
}

/// The client's address: the trusted proxy header's last address when one is configured,
/// else the connection's peer address.
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trusted_header: Option<&str>,
) -> Option<IpAddr> {
    if let Some(name) = trusted_header {
        let named = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back();
        if named.is_some() {
            return named;
        }
    }
    peer.map(|p| p.ip())
}

/// Middleware: `POST /api/auth/login` beyond the client's rate is answered 429 with
/// `Retry-After`, before any database work or hashing.
pub async fn limit_logins(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The web pages' sign-in form spends the same budget as the JSON login.
    let path = request.uri().path();
    if request.method() != Method::POST || !matches!(path, "/api/auth/login" | "/sign-in") {
        return next.run(request).await;
    }
    let limits = state.limits();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let header = limits.config.trusted_proxy_header.as_deref();
    let client =
        client_address(request.headers(), peer, header).unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match limits.logins.take(client, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => ApiError::TooManyAttempts { retry_after }.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn a_client_past_its_burst_waits_while_another_client_does_not() {
        let limiter = RateLimiter::per_minute(3);
        let now = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take(ip(1), now).is_ok());
        }
        assert_eq!(limiter.take(ip(1), now), Err(Duration::from_secs(20)));
        assert!(limiter.take(ip(2), now).is_ok());
        assert!(limiter.take(ip(1), now + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn the_proxy_header_counts_only_when_it_is_trusted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 10.0.0.9".parse().unwrap());
        let peer = Some(SocketAddr::from(([127, 0, 0, 1], 4000)));
        assert_eq!(
            client_address(&headers, peer, None),
            Some(IpAddr::from([127, 0, 0, 1]))
        );
        assert_eq!(
            client_address(&headers, peer, Some("x-forwarded-for")),
            Some(ip(9))
        );
    }
}
