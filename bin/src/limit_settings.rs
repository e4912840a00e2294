//! Settings of the limits that keep `serve` standing under a burst: hashing and heavy-work
//! concurrency with their queues, the request time limit, and the login rate per address.

use clap::Args;
use std::time::Duration;

/// Limits of `attendance serve` (see `api::limits`).
#[derive(Debug, Clone, Args)]
pub struct LimitSettings {
    /// Password hashes computed at once (default: the number of cores).
    #[arg(long, env = "ATTENDANCE_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,
    /// Logins waiting for a hash before the next is refused with 503.
    #[arg(long, env = "ATTENDANCE_HASH_QUEUE", default_value_t = 16)]
    pub hash_queue: usize,
    /// Reports, sheet imports and `as_of` folds run at once (default: half the cores, at
    /// least 1).
    #[arg(long, env = "ATTENDANCE_HEAVY_CONCURRENCY")]
    pub heavy_concurrency: Option<usize>,
    /// Heavy requests waiting before the next is refused with 503.
    #[arg(long, env = "ATTENDANCE_HEAVY_QUEUE", default_value_t = 8)]
    pub heavy_queue: usize,
    /// Longest a request may take, in seconds, before it is answered 503.
    #[arg(long, env = "ATTENDANCE_REQUEST_TIMEOUT_SECS", default_value_t = 120)]
    pub request_timeout_secs: u64,
    /// Login attempts per minute from one client address (also the burst allowed).
    #[arg(long, env = "ATTENDANCE_LOGIN_PER_MINUTE", default_value_t = 20)]
    pub login_per_minute: u32,
    /// Header in which a trusted reverse proxy passes the client's address (e.g.
    /// `X-Forwarded-For`). Set it only when every request comes through that proxy.
    #[arg(long, env = "ATTENDANCE_TRUSTED_PROXY_HEADER")]
    pub trusted_proxy_header: Option<String>,
    /// Wrong self check-in codes one student may give in a minute before being answered 429.
    #[arg(
        long,
        env = "ATTENDANCE_CHECK_IN_FAILURES_PER_MINUTE",
        default_value_t = 5
    )]
    pub check_in_failures_per_minute: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            hash_concurrency: None,
            hash_queue: 16,
            heavy_concurrency: None,
            heavy_queue: 8,
            request_timeout_secs: 120,
            login_per_minute: 20,
            trusted_proxy_header: None,
            check_in_failures_per_minute: 5,
        }
    }
}

impl LimitSettings {
    /// The API's limits from these settings.
    pub fn api_limits(&self) -> api::limits::LimitConfig {
        let defaults = api::limits::LimitConfig::default();
        api::limits::LimitConfig {
            hash_concurrency: self.hash_concurrency.unwrap_or(defaults.hash_concurrency),
            hash_queue: self.hash_queue,
            heavy_concurrency: self.heavy_concurrency.unwrap_or(defaults.heavy_concurrency),
            heavy_queue: self.heavy_queue,
            queue_wait: defaults.queue_wait,
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            login_per_minute: self.login_per_minute.max(1),
            trusted_proxy_header: self
                .trusted_proxy_header
                .as_ref()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
            check_in_failures_per_minute: self.check_in_failures_per_minute.max(1),
        }
    }
}
