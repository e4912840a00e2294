//! Workloads without HTTP: rebuilding the read models against a raw ordered scan, and
//! rendering a course report in every format.

use super::{BenchArgs, Figures, step};
use futures::TryStreamExt;
use projections::course_stats::store::CourseStatsProjection;
use projections::projector;
use projections::register_views::store::RegisterViewsProjection;
use projections::reports::config::ReportConfig;
use projections::reports::registry::Registry;
use sqlx::PgPool;
use std::time::Instant;

/// Workload 4: rebuild every read model; the ceiling is `COPY` of the ordered event table.
pub async fn rebuild(pool: &PgPool, figures: &mut Figures) -> anyhow::Result<()> {
    let bar = step("4 rebuild of all read models", None);
    // The live projectors may still be applying the roll calls; a rebuild waits for their
    // lock, so let them finish first rather than time the wait.
    let settle = Instant::now();
    while settle.elapsed() < std::time::Duration::from_secs(120)
        && !super::server::projectors_caught_up(pool).await?
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    let a = projector::rebuild::<CourseStatsProjection>(pool, |_, _| {}).await?;
    let b = projector::rebuild::<RegisterViewsProjection>(pool, |_, _| {}).await?;
    let elapsed = started.elapsed().as_secs_f64();
    figures.rebuild_events = a.events;
    figures.rebuild_events_per_sec = (a.events + b.events) as f64 / elapsed;
    let started = Instant::now();
    let mut conn = pool.acquire().await?;
    let mut copy = conn
        .copy_out_raw("COPY (SELECT * FROM events ORDER BY tx_id, global_position) TO STDOUT")
        .await?;
    while copy.try_next().await?.is_some() {}
    figures.raw_scan_rows_per_sec = a.events as f64 / started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok(())
}

/// Workload 5: render the course report in each format (median of three).
pub fn reports(args: &BenchArgs, figures: &mut Figures) -> anyhow::Result<()> {
    let bar = step("5 course reports", None);
    let report = projections::reports::sample::course_report(args.students, args.sessions);
    let registry = Registry::from_config(&ReportConfig::embedded())?;
    for name in registry.available() {
        let format = registry.get(Some(&name))?;
        let mut times = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            if let Err(error) = format.render_course(&report) {
                eprintln!("{name}: {error}");
                times.push(f64::NAN);
                continue;
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        figures.report_ms.push((name, times[1]));
    }
    bar.finish_and_clear();
    Ok(())
}
