//! `attendance notify`: the early warning's notifier alone, without the API (the notifier
//! itself is `notify.rs`, which `serve` also runs when `SMTP_HOST` is set).

use crate::config::NotifySettings;
use tokio::sync::watch;

/// Runs the notifier alone until Ctrl-C or SIGTERM (`attendance notify`).
pub async fn run_alone(
    connections: &crate::config::Connections,
    settings: NotifySettings,
    time_zone: domain::Zone,
) -> anyhow::Result<()> {
    let pool = crate::startup::database(connections).await?;
    let state = crate::notify::offline_state(pool, time_zone)?;
    let breaker = crate::notify::breaker_for(&settings);
    let notifier = crate::notify::Notifier::new(state, settings, breaker)?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(notifier.run(stopped));
    crate::startup::shutdown_signal().await;
    let _ = stop.send(true);
    task.await?;
    Ok(())
}
