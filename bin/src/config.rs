//! Configuration from flags and environment, with defaults that work on a machine with
//! Postgres and NATS on localhost. Secrets have no defaults and are never printed.

use clap::Args;
use clap::builder::BoolishValueParser;
use std::net::SocketAddr;
use std::time::Duration;

/// A secret from a flag or the environment: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Secret(value.to_string()))
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

/// The database URL `serve` uses when none is configured.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/attendance";
/// The NATS URL `serve` uses when none is configured.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// Where the database and the broker are.
#[derive(Debug, Clone, Args)]
pub struct Connections {
    /// Postgres URL; the database is created if it does not exist.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL
    )]
    pub database_url: String,
    /// Largest number of database connections.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    pub database_max_connections: u32,
    /// Seconds to wait for a database connection before answering 503.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_SECS", default_value_t = 2)]
    pub database_acquire_timeout_secs: u64,
    /// NATS URL.
    #[arg(long, env = "NATS_URL", default_value = DEFAULT_NATS_URL)]
    pub nats_url: String,
    /// NATS user (for servers with authentication, e.g. the repo's nats.conf).
    #[arg(long, env = "NATS_USER")]
    pub nats_user: Option<String>,
    /// NATS password.
    #[arg(long, env = "NATS_PASSWORD", hide_env_values = true)]
    pub nats_password: Option<Secret>,
}

impl Connections {
    /// Pool settings from the flags.
    pub fn pool_settings(&self) -> event_store::db::PoolSettings {
        event_store::db::PoolSettings {
            max_connections: self.database_max_connections,
            acquire_timeout: Duration::from_secs(self.database_acquire_timeout_secs.max(1)),
        }
    }
}

/// Settings of `attendance serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Database and broker.
    #[command(flatten)]
    pub connections: Connections,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "ATTENDANCE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The URL clients reach the API at, e.g. behind a proxy (the OpenAPI document's
    /// `servers`). Unset: `http://` and the address listened on.
    #[arg(long, env = "ATTENDANCE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// HS256 signing secret (at least 32 bytes). Unset: a random secret is generated once
    /// and kept in the database.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,
    /// Where a generated JWT secret is kept (mode 0600) when `JWT_SECRET` is unset. Several
    /// `serve` processes on different machines need `JWT_SECRET` (or the same file).
    #[arg(long, env = "JWT_KEY_FILE", default_value = "attendance-jwt.key")]
    pub jwt_key_file: std::path::PathBuf,
    /// Token lifetime in seconds.
    #[arg(long, env = "JWT_TTL_SECS", default_value_t = 86_400)]
    pub jwt_ttl_secs: u64,
    /// Password of the `admin` account created at the first start (when there is no user).
    /// Unset: a random one is generated and printed once to the log.
    #[arg(long, env = "ATTENDANCE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,
    /// Largest accepted JSON body, in bytes.
    #[arg(long, env = "ATTENDANCE_BODY_LIMIT", default_value_t = 256 * 1024)]
    pub body_limit: usize,
    /// Largest sheet upload (the scanned PDF) in bytes.
    #[arg(long, env = "ATTENDANCE_SHEET_UPLOAD_LIMIT", default_value_t = 32 * 1024 * 1024)]
    pub sheet_upload_limit: usize,
    /// Consecutive store failures that open the sheet import's circuit breaker.
    #[arg(long, env = "IMPORT_BREAKER_FAILURES", default_value_t = 3)]
    pub import_breaker_failures: u32,
    /// Seconds the import breaker stays open before a trial.
    #[arg(long, env = "IMPORT_BREAKER_OPEN_SECS", default_value_t = 15.0)]
    pub import_breaker_open_secs: f64,
    /// Successful trials that close the import breaker.
    #[arg(long, env = "IMPORT_BREAKER_SUCCESSES", default_value_t = 2)]
    pub import_breaker_successes: u32,
    /// The relay to NATS.
    #[command(flatten)]
    pub relay: RelaySettings,
    /// Bounds on hashing, heavy work, request time and the login rate.
    #[command(flatten)]
    pub limits: crate::limit_settings::LimitSettings,
    // Switches read from the environment accept what people write there: 1/0, true/false,
    // yes/no, on/off (clap's default for a flag takes only true/false).
    /// Do not run the relay in this process (run `attendance relay` elsewhere).
    #[arg(long, env = "ATTENDANCE_NO_RELAY", value_parser = BoolishValueParser::new())]
    pub no_relay: bool,
    /// Do not run the projectors in this process (run `attendance project` elsewhere).
    #[arg(long, env = "ATTENDANCE_NO_PROJECTORS", value_parser = BoolishValueParser::new())]
    pub no_projectors: bool,
    /// Do not run the scheduler (the automatic close of registers) in this process. Several
    /// processes may run it: one leads at a time.
    #[arg(long, env = "ATTENDANCE_NO_SCHEDULER", value_parser = BoolishValueParser::new())]
    pub no_scheduler: bool,
    /// Seconds between the scheduler's rounds (a register closes at most this late).
    #[arg(long, env = "ATTENDANCE_SCHEDULER_EVERY_SECS", default_value_t = 60.0)]
    pub scheduler_every_secs: f64,
    /// Report configuration file (default: the one built in, `projections/config/reports.toml`).
    #[arg(long, env = "REPORTS_CONFIG")]
    pub reports_config: Option<std::path::PathBuf>,
    /// The institution's IANA time zone (e.g. `Europe/Berlin`): new courses count their days
    /// in it unless given another. An unknown name refuses to start.
    #[arg(long, env = "ATTENDANCE_TIMEZONE", default_value = "UTC", value_parser = time_zone)]
    pub timezone: domain::Zone,
    /// The early warning's e-mails.
    #[command(flatten)]
    pub notify: NotifySettings,
}

/// Reads `ATTENDANCE_TIMEZONE` / `--timezone`, naming the setting when the zone is unknown.
pub fn time_zone(name: &str) -> Result<domain::Zone, String> {
    domain::Zone::parse(name).map_err(|e| format!("ATTENDANCE_TIMEZONE: {e}"))
}

/// The URL clients reach the server at: the configured one without its trailing slash, or
/// one made from the address bound (an unspecified address such as `0.0.0.0` becomes
/// `localhost`, which at least works on the machine itself).
pub fn public_url(configured: Option<&str>, bound: SocketAddr) -> anyhow::Result<String> {
    match configured {
        Some(url) => {
            let url = url.trim().trim_end_matches('/');
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                    Ok(url.to_string())
                }
                _ => anyhow::bail!(
                    "ATTENDANCE_PUBLIC_URL must be an http:// or https:// URL, got {url:?}"
                ),
            }
        }
        None if bound.ip().is_unspecified() => Ok(format!("http://localhost:{}", bound.port())),
        None => Ok(format!("http://{bound}")),
    }
}

/// The report registry from a configuration file, or from the built-in configuration.
pub fn report_registry(
    path: Option<&std::path::Path>,
) -> anyhow::Result<projections::reports::registry::Registry> {
    use projections::reports::config::ReportConfig;
    let config = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            ReportConfig::parse(&text)?
        }
        None => ReportConfig::embedded(),
    };
    Ok(projections::reports::registry::Registry::from_config(
        &config,
    )?)
}

/// Settings of the relay (in `serve` and `attendance relay`).
#[derive(Debug, Clone, Args)]
pub struct RelaySettings {
    /// First token(s) of every event subject: `<prefix>.v1.<course>.<aggregate>.<event>`.
    #[arg(long, env = "ATTENDANCE_SUBJECT_PREFIX", default_value = "attendance")]
    pub subject_prefix: String,
    /// JetStream stream holding the events (created if missing).
    #[arg(long, env = "ATTENDANCE_STREAM", default_value = "ATTENDANCE")]
    pub stream: String,
    /// Replicas of the stream (3 on a NATS cluster of 3); an existing stream with another
    /// count is updated in place.
    #[arg(long, env = "ATTENDANCE_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,
    /// Events published per relay step.
    #[arg(long, env = "RELAY_BATCH_SIZE", default_value_t = 1000)]
    pub relay_batch_size: i64,
    /// Consecutive publish failures that open the relay's circuit breaker.
    #[arg(long, env = "BREAKER_FAILURE_THRESHOLD", default_value_t = 3)]
    pub breaker_failures: u32,
    /// Seconds the breaker stays open before a trial.
    #[arg(long, env = "BREAKER_OPEN_SECS", default_value_t = 15)]
    pub breaker_open_secs: u64,
    /// Successful trials that close the breaker.
    #[arg(long, env = "BREAKER_SUCCESS_THRESHOLD", default_value_t = 2)]
    pub breaker_successes: u32,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            subject_prefix: "attendance".into(),
            stream: "ATTENDANCE".into(),
            stream_replicas: 1,
            relay_batch_size: 1000,
            breaker_failures: 3,
            breaker_open_secs: 15,
            breaker_successes: 2,
        }
    }
}

fn is_token(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl RelaySettings {
    /// Checks names and builds the relay configuration.
    pub fn relay_config(&self) -> anyhow::Result<crate::relay::RelayConfig> {
        if !self.subject_prefix.split('.').all(is_token) {
            anyhow::bail!(
                "--subject-prefix must be dot-separated tokens of [A-Za-z0-9_-] (no wildcards)"
            );
        }
        if !is_token(&self.stream) {
            anyhow::bail!("--stream may only contain [A-Za-z0-9_-]");
        }
        if !(1..=10_000).contains(&self.relay_batch_size)
            || self.breaker_failures == 0
            || self.breaker_successes == 0
        {
            anyhow::bail!("relay batch size must be 1-10000 and breaker thresholds at least 1");
        }
        if !(1..=5).contains(&self.stream_replicas) {
            anyhow::bail!("ATTENDANCE_STREAM_REPLICAS must be 1 to 5 (JetStream's limit)");
        }
        Ok(crate::relay::RelayConfig {
            subject_prefix: self.subject_prefix.clone(),
            stream: self.stream.clone(),
            replicas: self.stream_replicas,
            batch: self.relay_batch_size,
            breaker: api::app::breaker::BreakerConfig {
                failure_threshold: self.breaker_failures,
                open_for: Duration::from_secs(self.breaker_open_secs),
                success_threshold: self.breaker_successes,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::public_url;
    use crate::cli::Cli;
    use clap::Parser;

    #[test]
    fn the_public_url_defaults_to_the_address_listened_on() {
        let bound = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(public_url(None, bound).unwrap(), "http://127.0.0.1:8080");
        let any = "0.0.0.0:9000".parse().unwrap();
        assert_eq!(public_url(None, any).unwrap(), "http://localhost:9000");
        let v6 = "[::1]:8080".parse().unwrap();
        assert_eq!(public_url(None, v6).unwrap(), "http://[::1]:8080");
    }

    #[test]
    fn a_configured_public_url_is_kept_without_its_trailing_slash() {
        let bound = "127.0.0.1:8080".parse().unwrap();
        let url = public_url(Some("https://attendance.example.edu/"), bound).unwrap();
        assert_eq!(url, "https://attendance.example.edu");
        for bad in [
            "attendance.example.edu",
            "ftp://x",
            "https://",
            "http://a b",
        ] {
            assert!(public_url(Some(bad), bound).is_err(), "{bad}");
        }
    }

    #[test]
    fn switches_in_the_environment_accept_1_0_true_false_yes_no() {
        let serve = |value: &str| {
            // SAFETY: nextest runs each test in a process of its own, and nothing else in
            // this crate's tests reads these two variables.
            unsafe {
                std::env::set_var("ATTENDANCE_NO_RELAY", value);
                std::env::set_var("ATTENDANCE_NO_PROJECTORS", value);
            }
            let parsed = Cli::try_parse_from(["attendance", "serve"]);
            match parsed.map_err(|e| e.to_string())?.command {
                crate::cli::Command::Serve(args) => {
                    Ok((args.config.no_relay, args.config.no_projectors))
                }
                _ => Err("not serve".to_string()),
            }
        };
        for value in ["1", "true", "yes", "TRUE", "on"] {
            assert_eq!(serve(value), Ok((true, true)), "{value}");
        }
        for value in ["0", "false", "no", "off"] {
            assert_eq!(serve(value), Ok((false, false)), "{value}");
        }
        assert!(serve("maybe").is_err());
    }

    #[test]
    fn the_time_zone_defaults_to_utc_and_an_unknown_one_refuses_to_start() {
        let serve = |args: &[&str]| {
            let parsed = Cli::try_parse_from([&["attendance", "serve"], args].concat());
            match parsed.map_err(|e| e.to_string())?.command {
                crate::cli::Command::Serve(args) => Ok(args.config.timezone),
                _ => Err("not serve".to_string()),
            }
        };
        assert_eq!(serve(&[]), Ok(domain::Zone::UTC));
        let chicago = serve(&["--timezone", "America/Chicago"]).unwrap();
        assert_eq!(chicago.name(), "America/Chicago");
        let refused = serve(&["--timezone", "Mars/Olympus"]).unwrap_err();
        assert!(refused.contains("ATTENDANCE_TIMEZONE"), "{refused}");
        assert!(
            refused.contains("\"Mars/Olympus\" is not an IANA time zone"),
            "{refused}"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let cli = Cli::try_parse_from([
            "attendance",
            "serve",
            "--jwt-secret",
            "a-jwt-secret-that-is-long-enough-0123456789",
            "--admin-password",
            "an-admin-password",
            "--nats-password",
            "a-nats-password",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        for secret in [
            "a-jwt-secret-that-is-long-enough",
            "an-admin-password",
            "a-nats-password",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
        assert!(shown.contains("<redacted>"));
    }
}

/// Settings of the early warning's e-mails (the notifier, in `serve` when `SMTP_HOST` is
/// set, or alone as `attendance notify`). The password is never printed.
#[derive(Debug, Clone, Args)]
pub struct NotifySettings {
    /// The SMTP server; unset: `serve` sends no e-mail (the outbox waits).
    #[arg(long, env = "SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// Its port (587 for STARTTLS; 25 or another for a local relay).
    #[arg(long, env = "SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// `starttls` (required TLS upgrade, the default) or `plain` (no TLS: a local relay only).
    #[arg(long, env = "SMTP_TLS", value_enum, default_value = "starttls")]
    pub smtp_tls: TlsMode,
    /// User name for SMTP authentication (with `SMTP_PASSWORD`).
    #[arg(long, env = "SMTP_USER")]
    pub smtp_user: Option<String>,
    /// Password for SMTP authentication.
    #[arg(long, env = "SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<Secret>,
    /// The sender address, e.g. `Attendance <attendance@school.example>`.
    #[arg(long, env = "SMTP_FROM", default_value = "attendance@localhost")]
    pub smtp_from: String,
    /// Milliseconds between the notifier's rounds.
    #[arg(long, env = "NOTIFY_EVERY_MS", default_value_t = 5_000)]
    pub every_ms: u64,
    /// The first retry's delay in milliseconds after a failed send (doubling, at most
    /// `NOTIFY_RETRY_MAX_SECS`).
    #[arg(long, env = "NOTIFY_RETRY_BASE_MS", default_value_t = 5_000)]
    pub retry_base_ms: u64,
    /// The longest delay between two tries of a message, in seconds.
    #[arg(long, env = "NOTIFY_RETRY_MAX_SECS", default_value_t = 900)]
    pub retry_max_secs: u64,
    /// Milliseconds the SMTP breaker stays open after 3 failures in a row.
    #[arg(long, env = "NOTIFY_BREAKER_OPEN_MS", default_value_t = 15_000)]
    pub breaker_open_ms: u64,
    /// Whether teachers get a daily digest (students newly at risk, registers not taken).
    #[arg(long, env = "NOTIFY_DIGESTS", default_value_t = true, action = clap::ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub digests: bool,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: TlsMode::Starttls,
            smtp_user: None,
            smtp_password: None,
            smtp_from: "attendance@localhost".to_string(),
            every_ms: 5_000,
            retry_base_ms: 5_000,
            retry_max_secs: 900,
            breaker_open_ms: 15_000,
            digests: true,
        }
    }
}

impl NotifySettings {
    /// The pause between rounds.
    pub fn every(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.every_ms.clamp(10, 3_600_000))
    }

    /// The delay before the next try of a message that failed `attempts` times.
    pub fn retry_after(&self, attempts: i32) -> std::time::Duration {
        let doubled = self
            .retry_base_ms
            .saturating_mul(1u64 << attempts.clamp(1, 20).saturating_sub(1) as u32);
        std::time::Duration::from_millis(doubled.min(self.retry_max_secs.saturating_mul(1000)))
    }

    /// The SMTP breaker's settings.
    pub fn breaker(&self) -> api::app::breaker::BreakerConfig {
        api::app::breaker::BreakerConfig {
            failure_threshold: 3,
            open_for: std::time::Duration::from_millis(self.breaker_open_ms),
            success_threshold: 1,
        }
    }
}

/// How a message reaches the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    /// STARTTLS, required (the default).
    Starttls,
    /// No TLS: only for a relay on the same machine or network.
    Plain,
}
