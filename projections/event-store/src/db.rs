//! Connecting to Postgres, creating the database if needed, and applying migrations.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;
use std::time::Duration;

/// Why the database could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL does not parse.
    #[error("invalid database URL: {0}")]
    BadUrl(#[source] sqlx::Error),
    /// Postgres refused or could not be reached.
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How many connections the pool may hold and how long to wait for one.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Maximum open connections.
    pub max_connections: u32,
    /// How long a caller waits for a free connection (or for Postgres) before failing.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 20,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// Creates the database named in `url` when it does not exist yet.
pub async fn create_database_if_missing(url: &str) -> Result<(), DbError> {
    let options = PgConnectOptions::from_str(url).map_err(DbError::BadUrl)?;
    let name = options.get_database().unwrap_or("postgres").to_string();
    let mut admin = options.database("postgres").connect().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let quoted = name.replace('"', "\"\"");
        match sqlx::query(&format!("CREATE DATABASE \"{quoted}\""))
            .execute(&mut admin)
            .await
        {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another process created it between the check and now: duplicate_database, or
            // the catalogue's unique index when both inserted at the same moment.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
            Err(e) => return Err(e.into()),
        }
    }
    admin.close().await?;
    Ok(())
}

/// Opens a pool on an existing database.
pub async fn connect(url: &str, settings: PoolSettings) -> Result<PgPool, DbError> {
    let options = PgConnectOptions::from_str(url).map_err(DbError::BadUrl)?;
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await?)
}

/// Applies every pending migration.
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// Creates the database if needed, connects and migrates: what `serve` and `migrate` do.
pub async fn prepare(url: &str, settings: PoolSettings) -> Result<PgPool, DbError> {
    create_database_if_missing(url).await?;
    let pool = connect(url, settings).await?;
    migrate(&pool).await?;
    Ok(pool)
}
