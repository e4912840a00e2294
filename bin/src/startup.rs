//! Builds the running application; `attendance serve` and the tests use the same builder
//! (tests with port 0 and a fresh database).

use crate::config::{Connections, RelaySettings, ServeConfig};
use crate::projectors;
use crate::readiness::Readiness;
use crate::relay::Relay;
use anyhow::Context;
use api::auth::jwt::JwtKeys;
use api::auth::{secret, users};
use api::{ApiConfig, AppState, Monitor};
use projections::consumer::ConsumerConfig;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A bound, ready-to-run server, with its relay unless disabled.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    pool: PgPool,
    relay: Option<Arc<Relay>>,
    projectors: Vec<&'static str>,
    nats: async_nats::Client,
    consumers: ConsumerConfig,
    readiness: Readiness,
    scheduler: Option<Scheduler>,
    live: web::live::Hub,
    /// The early warning's process manager runs beside the projectors.
    warnings: Option<AppState>,
    notifier: Option<crate::notify::Notifier>,
}

/// Connects to Postgres (creating and migrating the database) with the configured pool.
pub async fn database(connections: &Connections) -> anyhow::Result<PgPool> {
    event_store::db::prepare(&connections.database_url, connections.pool_settings())
        .await
        .context("preparing the database (is Postgres running? see DATABASE_URL)")
}

/// Connects to NATS in the background: the API starts even while NATS is down, and
/// `/api/health` reports it.
pub async fn nats(connections: &Connections) -> anyhow::Result<async_nats::Client> {
    crate::nats_url::check(&connections.nats_url)?;
    let mut options = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2))
        .name("attendance");
    if let (Some(user), Some(password)) = (&connections.nats_user, &connections.nats_password) {
        options = options.user_and_password(user.clone(), password.expose().to_string());
    }
    // Several servers of a cluster, comma-separated: the client picks one and fails over.
    let servers: Vec<&str> = connections
        .nats_url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    options
        .connect(servers)
        .await
        .context("configuring the NATS connection")
}

impl Application {
    /// Prepares the database, secrets and first admin, and binds the listener.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Self> {
        if let Some(secret) = &config.jwt_secret
            && secret.expose().len() < api::auth::jwt::MIN_SECRET_LEN
        {
            anyhow::bail!(
                "JWT_SECRET must be at least {} bytes",
                api::auth::jwt::MIN_SECRET_LEN
            );
        }
        let relay_config = config.relay.relay_config()?;
        let reports = crate::config::report_registry(config.reports_config.as_deref())?;
        let pool = database(&config.connections).await?;
        let secret = secret::resolve(
            &pool,
            config.jwt_secret.as_ref().map(|s| s.expose().to_string()),
            &config.jwt_key_file,
        )
        .await?;
        let jwt = JwtKeys::new(&secret, Duration::from_secs(config.jwt_ttl_secs))
            .map_err(anyhow::Error::msg)?;
        if let Some(password) = users::ensure_first_admin(
            &pool,
            config
                .admin_password
                .as_ref()
                .map(|p| p.expose().to_string()),
        )
        .await?
        {
            // Shown once, on purpose: this is how the first administrator gets in.
            tracing::warn!(
                "created the first administrator: username `admin`, password `{password}` (shown only once; change it)"
            );
        }
        let nats = nats(&config.connections).await?;
        let relay = (!config.no_relay)
            .then(|| Arc::new(Relay::new(pool.clone(), nats.clone(), relay_config)));
        let projectors = if config.no_projectors {
            Vec::new()
        } else {
            projectors::ALL.to_vec()
        };
        let smtp_breaker = config
            .notify
            .smtp_host
            .is_some()
            .then(|| crate::notify::breaker_for(&config.notify));
        let monitor = Monitor {
            relay_checkpoint: Some(config.relay.stream.clone()),
            breakers: relay
                .iter()
                .map(|r| r.breaker())
                .chain(smtp_breaker.clone())
                .collect(),
            projectors: projectors::ALL.to_vec(),
        };
        let consumers = ConsumerConfig {
            stream: config.relay.stream.clone(),
            subject_prefix: config.relay.subject_prefix.clone(),
        };
        // Bound before the router is built: with port 0 the public URL names the port chosen.
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let public_url = crate::config::public_url(
            config.public_url.as_deref(),
            listener.local_addr().context("reading the address bound")?,
        )?;
        let api_config = ApiConfig {
            public_url,
            body_limit: config.body_limit,
            sheet_upload_limit: config.sheet_upload_limit,
            import_breaker: api::app::breaker::BreakerConfig {
                failure_threshold: config.import_breaker_failures.max(1),
                open_for: Duration::from_secs_f64(config.import_breaker_open_secs.max(0.0)),
                success_threshold: config.import_breaker_successes.max(1),
            },
            limits: config.limits.api_limits(),
            time_zone: config.timezone,
        };
        let readiness = Readiness::default();
        let state = AppState::new(
            pool.clone(),
            jwt,
            Some(nats.clone()),
            api_config,
            monitor,
            reports,
        );
        let warnings = (!config.no_projectors).then(|| state.clone());
        let notifier = match smtp_breaker {
            Some(breaker) => Some(crate::notify::Notifier::new(
                state.clone(),
                config.notify.clone(),
                breaker,
            )?),
            None => None,
        };
        let scheduler = (!config.no_scheduler).then(|| Scheduler {
            state: state.clone(),
            every: Duration::from_secs_f64(config.scheduler_every_secs.clamp(0.1, 3600.0)),
        });
        // One subscription to the stream per process, shared by every open page.
        let live = web::live::Hub::new();
        // The JSON API under /api and the web pages beside it, one application.
        let router =
            api::router_with(state, web::pages(live.clone())).merge(readiness.router(pool.clone()));
        Ok(Application {
            listener,
            router,
            pool,
            relay,
            projectors,
            nats,
            consumers,
            readiness,
            scheduler,
            live,
            warnings,
            notifier,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The database pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The readiness `/api/ready` reports (draining on a stop).
    pub fn readiness(&self) -> Readiness {
        self.readiness.clone()
    }

    /// The relay running inside this process, if any.
    pub fn relay(&self) -> Option<Arc<Relay>> {
        self.relay.clone()
    }

    /// Serves (and relays) until `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), "listening");
        let (stop, stopped) = watch::channel(false);
        let mut tasks = projectors::spawn(
            &self.projectors,
            &self.pool,
            &self.nats,
            &self.consumers,
            &stopped,
        );
        tasks.push(tokio::spawn(housekeeping(
            self.pool.clone(),
            stopped.clone(),
        )));
        if let Some(state) = self.warnings {
            tasks.push(tokio::spawn(crate::warnings::run(
                state,
                self.nats.clone(),
                self.consumers.clone(),
                stopped.clone(),
            )));
        }
        if let Some(notifier) = self.notifier {
            tasks.push(tokio::spawn(notifier.run(stopped.clone())));
        }
        if let Some(scheduler) = self.scheduler {
            tasks.push(tokio::spawn(scheduler.run(stopped.clone())));
        }
        let source = web::live::Source {
            stream: self.consumers.stream.clone(),
            subject_prefix: self.consumers.subject_prefix.clone(),
        };
        tasks.push(tokio::spawn(self.live.run(
            self.nats.clone(),
            source,
            stopped.clone(),
        )));
        tasks.extend(self.relay.map(|relay| tokio::spawn(relay.run(stopped))));
        // The peer address feeds the login rate per client address.
        let router = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        let _ = stop.send(true);
        for task in tasks {
            let _ = task.await;
        }
        Ok(served?)
    }
}

/// The scheduler: closes registers on their courses' policy (see [`api::app::auto_close`]).
struct Scheduler {
    state: AppState,
    every: Duration,
}

impl Scheduler {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let auto_close = api::app::auto_close::AutoClose::new();
        while !*shutdown.borrow() {
            match auto_close.round(&self.state, chrono::Utc::now()).await {
                Ok(round) if !round.closed.is_empty() => {
                    let absent: usize = round.closed.iter().map(|(_, n)| n).sum();
                    tracing::info!(
                        registers = round.closed.len(),
                        defaulted_absent = absent,
                        failed = round.failed,
                        "closed registers on schedule"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the scheduler's round failed; trying again"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// Every hour, removes what the API keeps only for a while (see [`api::housekeeping`]).
async fn housekeeping(pool: PgPool, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        match api::housekeeping(&pool).await {
            Ok((keys, throttles)) if keys + throttles > 0 => {
                tracing::info!(keys, throttles, "housekeeping removed expired rows")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "housekeeping failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The projectors named (all when none is) and whether the early warning is among them
/// (`warnings`, or no name at all).
fn with_warnings(only: &[String]) -> anyhow::Result<(Vec<&'static str>, bool)> {
    let warnings = only.is_empty() || only.iter().any(|n| n == "warnings");
    let rest: Vec<String> = only.iter().filter(|n| *n != "warnings").cloned().collect();
    let names = if !only.is_empty() && rest.is_empty() {
        Vec::new()
    } else {
        projectors::select(&rest)?
    };
    Ok((names, warnings))
}

/// Runs projectors alone until Ctrl-C or SIGTERM (`attendance project`), and the early
/// warning's process manager with them (one process leads it), unless `--only` leaves it
/// out.
pub async fn run_projectors(
    connections: &Connections,
    settings: &RelaySettings,
    only: &[String],
) -> anyhow::Result<()> {
    let (names, warnings) = with_warnings(only)?;
    settings.relay_config()?;
    let pool = database(connections).await?;
    let client = nats(connections).await?;
    let config = ConsumerConfig {
        stream: settings.stream.clone(),
        subject_prefix: settings.subject_prefix.clone(),
    };
    let (stop, stopped) = watch::channel(false);
    let mut tasks = projectors::spawn(&names, &pool, &client, &config, &stopped);
    if warnings {
        let state = crate::notify::offline_state(pool.clone(), domain::Zone::UTC)?;
        tasks.push(tokio::spawn(crate::warnings::run(
            state,
            client.clone(),
            config.clone(),
            stopped.clone(),
        )));
    }
    tracing::info!(projectors = ?names, warnings, "projecting");
    shutdown_signal().await;
    let _ = stop.send(true);
    for task in tasks {
        task.await?;
    }
    Ok(())
}

/// Rebuilds projectors from the event store, printing events/s (`attendance rebuild`), and
/// replays the early warning's evaluations over it (`warnings`: only crossings never
/// recorded are stored, so a rebuild stores none twice).
pub async fn rebuild(connections: &Connections, only: &[String]) -> anyhow::Result<()> {
    let (names, warnings) = with_warnings(only)?;
    let pool = database(connections).await?;
    for name in names {
        let rebuilt = projectors::rebuild(name, &pool).await?;
        println!(
            "{name}: {} events, {} documents in {:.2} s ({:.0} events/s)",
            rebuilt.events,
            rebuilt.documents,
            rebuilt.elapsed.as_secs_f64(),
            rebuilt.events_per_sec()
        );
    }
    if warnings {
        let state = crate::notify::offline_state(pool, domain::Zone::UTC)?;
        let replayed = api::app::warnings::evaluate::replay(&state).await?;
        println!(
            "warnings: {} events evaluated, {} standing events stored",
            replayed.events, replayed.stored
        );
    }
    Ok(())
}

/// Runs the relay alone until Ctrl-C or SIGTERM (`attendance relay`).
pub async fn run_relay(connections: &Connections, settings: &RelaySettings) -> anyhow::Result<()> {
    let config = settings.relay_config()?;
    let pool = database(connections).await?;
    let relay = Arc::new(Relay::new(pool, nats(connections).await?, config));
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(relay.run(stopped));
    shutdown_signal().await;
    let _ = stop.send(true);
    task.await?;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
