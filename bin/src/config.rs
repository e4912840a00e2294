//! Configuration from flags and environment, with defaults that work on a machine with
//! Postgres and NATS on localhost. Secrets have no defaults and are never printed.

use clap::Args;
use std::net::SocketAddr;
use std::time::Duration;

/// Where the database and the broker are.
#[derive(Debug, Clone, Args)]
pub struct Connections {
    /// Postgres URL; the database is created if it does not exist.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/attendance"
    )]
    pub database_url: String,
    /// Largest number of database connections.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 20)]
    pub database_max_connections: u32,
    /// Seconds to wait for a database connection before answering 503.
    #[arg(long, env = "DATABASE_ACQUIRE_TIMEOUT_SECS", default_value_t = 2)]
    pub database_acquire_timeout_secs: u64,
    /// NATS URL.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// NATS user (for servers with authentication, e.g. the repo's nats.conf).
    #[arg(long, env = "NATS_USER")]
    pub nats_user: Option<String>,
    /// NATS password.
    #[arg(long, env = "NATS_PASSWORD", hide_env_values = true)]
    pub nats_password: Option<String>,
}

impl Connections {
    /// Pool settings from the flags.
    pub fn pool_settings(&self) -> projections::db::PoolSettings {
        projections::db::PoolSettings {
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
    /// HS256 signing secret (at least 32 bytes). Unset: a random secret is generated once
    /// and kept in the database.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Token lifetime in seconds.
    #[arg(long, env = "JWT_TTL_SECS", default_value_t = 86_400)]
    pub jwt_ttl_secs: u64,
    /// Password of the `admin` account created at the first start (when there is no user).
    /// Unset: a random one is generated and printed once to the log.
    #[arg(long, env = "ATTENDANCE_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Largest accepted JSON body, in bytes.
    #[arg(long, env = "ATTENDANCE_BODY_LIMIT", default_value_t = 256 * 1024)]
    pub body_limit: usize,
}
