//! The projectors this build knows, by name: running them from JetStream (`serve`,
//! `attendance project`) and rebuilding them from the event store (`attendance rebuild`).

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use projections::consumer::{self, ConsumerConfig};
use projections::course_stats::store::CourseStatsProjection;
use projections::projector::{self, Projection, Rebuilt};
use projections::register_views::store::RegisterViewsProjection;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Every projector's name.
pub const ALL: [&str; 2] = [CourseStatsProjection::NAME, RegisterViewsProjection::NAME];

/// Checks names given with `--only` / `--projection`; none means all.
pub fn select(names: &[String]) -> anyhow::Result<Vec<&'static str>> {
    if names.is_empty() {
        return Ok(ALL.to_vec());
    }
    names
        .iter()
        .map(|name| match ALL.iter().find(|known| *known == name) {
            Some(known) => Ok(*known),
            None => bail!("unknown projector {name:?}; known: {}", ALL.join(", ")),
        })
        .collect()
}

/// Starts the named projectors as tasks.
pub fn spawn(
    names: &[&'static str],
    pool: &PgPool,
    client: &async_nats::Client,
    config: &ConsumerConfig,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let start = |name: &str| {
        let (pool, client, config, shutdown) = (
            pool.clone(),
            client.clone(),
            config.clone(),
            shutdown.clone(),
        );
        match name {
            CourseStatsProjection::NAME => tokio::spawn(consumer::run::<CourseStatsProjection>(
                pool, client, config, shutdown,
            )),
            _ => tokio::spawn(consumer::run::<RegisterViewsProjection>(
                pool, client, config, shutdown,
            )),
        }
    };
    names.iter().map(|name| start(name)).collect()
}

/// Rebuilds one projector from the event store, with a progress bar on stderr.
pub async fn rebuild(name: &str, pool: &PgPool) -> anyhow::Result<Rebuilt> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>15} [{bar:40}] {pos}/{len} events {per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let rebuilt = match name {
        CourseStatsProjection::NAME => {
            projector::rebuild::<CourseStatsProjection>(pool, progress).await?
        }
        RegisterViewsProjection::NAME => {
            projector::rebuild::<RegisterViewsProjection>(pool, progress).await?
        }
        other => bail!("unknown projector {other:?}"),
    };
    bar.finish_and_clear();
    Ok(rebuilt)
}
