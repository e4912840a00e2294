//! Login attempts per client address: a token bucket per address, refilled at the
//! configured rate per minute and holding at most that many attempts.
//!
//! The address is the connection's peer, or, only when a trusted proxy header is
//! configured, the last address that header names (the one the proxy itself added): a
//! client cannot pick its own bucket by sending the header.

use axum::http::HeaderMap;
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
            .filter_map(named_address)
            .next_back();
        if named.is_some() {
            return named;
        }
    }
    peer.map(|p| p.ip())
}

/// The address one element of the header names: a bare address (`X-Forwarded-For`), or the
/// `for=` parameter of an RFC 7239 `Forwarded` element (`for="[2001:db8::1]:4711"`).
fn named_address(element: &str) -> Option<IpAddr> {
    let element = element.trim();
    if let Ok(address) = element.parse() {
        return Some(address);
    }
    let value = element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then_some(value.trim())
    })?;
    let value = value.trim_matches('"');
    if let Some(v6) = value.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    let host = value.rsplit_once(':').map_or(value, |(host, _port)| host);
    host.parse().ok().or_else(|| value.parse().ok())
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
    fn a_forwarded_header_names_its_for_address() {
        assert_eq!(
            named_address("for=192.0.2.60;proto=http"),
            Some(IpAddr::from([192, 0, 2, 60]))
        );
        assert_eq!(
            named_address("For=\"192.0.2.61:4711\""),
            Some(IpAddr::from([192, 0, 2, 61]))
        );
        assert_eq!(
            named_address("for=\"[2001:db8::1]:4711\""),
            "2001:db8::1".parse().ok()
        );
        assert_eq!(named_address("for=unknown"), None);
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
