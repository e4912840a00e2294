//! Shared application state handed to every handler.

use crate::app::breaker::{BreakerConfig, CircuitBreaker};
use crate::app::store::Stores;
use crate::auth::jwt::JwtKeys;
use crate::auth::users::AccountCache;
use domain::{CourseId, SessionId};
use projections::reports::registry::Registry;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Limits and switches of the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest accepted JSON body in bytes.
    pub body_limit: usize,
    /// Largest accepted sheet upload (the PDF) in bytes.
    pub sheet_upload_limit: usize,
    /// The breaker guarding the sheet import's writes to the store.
    pub import_breaker: BreakerConfig,
    /// The URL clients reach the server at (the OpenAPI document's `servers`), without a
    /// trailing slash.
    pub public_url: String,
    /// Bounds on hashing, heavy work, request time and login rate.
    pub limits: crate::limits::LimitConfig,
    /// The institution's time zone: the zone of a course created without one.
    pub time_zone: domain::Zone,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            body_limit: 256 * 1024,
            sheet_upload_limit: 32 * 1024 * 1024,
            import_breaker: BreakerConfig::default(),
            public_url: "http://127.0.0.1:8080".to_string(),
            limits: crate::limits::LimitConfig::default(),
            time_zone: domain::Zone::UTC,
        }
    }
}

/// What `/api/health` and `/api/metrics` watch besides the database and NATS.
#[derive(Debug, Clone, Default)]
pub struct Monitor {
    /// The relay checkpoint (stream name) whose lag is reported.
    pub relay_checkpoint: Option<String>,
    /// Circuit breakers whose state is reported.
    pub breakers: Vec<Arc<CircuitBreaker>>,
    /// Projectors whose freshness and lag are reported.
    pub projectors: Vec<&'static str>,
}

/// Everything the handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    pool: PgPool,
    stores: Stores,
    jwt: JwtKeys,
    nats: Option<async_nats::Client>,
    config: ApiConfig,
    monitor: Monitor,
    reports: Registry,
    import_breaker: Arc<CircuitBreaker>,
    limits: crate::limits::Limits,
    /// The accounts of recent callers, dropped on every change.
    accounts: Arc<AccountCache>,
    /// The course of each session seen (a session never changes course).
    session_courses: Mutex<HashMap<SessionId, CourseId>>,
}

impl AppState {
    /// Builds the state from its parts, and starts listening for account changes (see
    /// [`AccountCache`]) when called inside a Tokio runtime.
    pub fn new(
        pool: PgPool,
        jwt: JwtKeys,
        nats: Option<async_nats::Client>,
        config: ApiConfig,
        monitor: Monitor,
        reports: Registry,
    ) -> Self {
        let stores = Stores::new(&pool);
        let import_breaker = Arc::new(CircuitBreaker::new("sheet_import", config.import_breaker));
        let accounts = Arc::new(AccountCache::new());
        accounts.spawn_listener(&pool);
        AppState(Arc::new(Inner {
            limits: crate::limits::Limits::new(config.limits.clone()),
            import_breaker,
            accounts,
            session_courses: Mutex::new(HashMap::new()),
            pool,
            stores,
            jwt,
            nats,
            config,
            monitor,
            reports,
        }))
    }

    /// The report formats.
    pub fn reports(&self) -> &Registry {
        &self.0.reports
    }

    /// The course of a session, if this process has seen it before.
    pub fn known_course_of(&self, session: &SessionId) -> Option<CourseId> {
        self.lock_courses().get(session).cloned()
    }

    /// Remembers the course of a session.
    pub fn remember_course_of(&self, session: SessionId, course: CourseId) {
        let mut known = self.lock_courses();
        // Bounded: forget everything rather than grow without limit.
        if known.len() >= 100_000 {
            known.clear();
        }
        known.insert(session, course);
    }

    fn lock_courses(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, CourseId>> {
        self.0
            .session_courses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The accounts of recent callers: change an account only together with
    /// [`AccountCache::forget`] (other processes hear of it from the database).
    pub fn accounts(&self) -> &AccountCache {
        &self.0.accounts
    }

    /// The breaker guarding the sheet import's writes.
    pub fn import_breaker(&self) -> &CircuitBreaker {
        &self.0.import_breaker
    }

    /// Every breaker whose state is reported: the monitored ones and the import's.
    pub fn breakers(&self) -> Vec<Arc<CircuitBreaker>> {
        let mut all = self.0.monitor.breakers.clone();
        all.push(self.0.import_breaker.clone());
        all
    }

    /// What health and metrics report.
    pub fn monitor(&self) -> &Monitor {
        &self.0.monitor
    }

    /// The database pool.
    pub fn pool(&self) -> &PgPool {
        &self.0.pool
    }

    /// The event stores.
    pub fn stores(&self) -> &Stores {
        &self.0.stores
    }

    /// The token keys.
    pub fn jwt(&self) -> &JwtKeys {
        &self.0.jwt
    }

    /// The NATS connection, when configured.
    pub fn nats(&self) -> Option<&async_nats::Client> {
        self.0.nats.as_ref()
    }

    /// The gates and rates bounding expensive work.
    pub fn limits(&self) -> &crate::limits::Limits {
        &self.0.limits
    }

    /// API limits.
    pub fn config(&self) -> &ApiConfig {
        &self.0.config
    }
}
