//! What the district measures after its burst: how long the read models and the early warning
//! take to be current,
//! a rebuild of both and `replay --verify`, the server's memory after every course's
//! statistics and reports, and the size of the event table.

use super::setup::{District, counter, course_code};
use super::{CatchUp, Offline, Plan, Reads, Storage};
use crate::bench::server::{Server, projectors_caught_up};
use crate::bench::step;
use anyhow::Context;
use event_store::outbox;
use projections::course_stats::store::CourseStatsProjection;
use projections::projector;
use projections::register_views::store::RegisterViewsProjection;
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// How often the catch-up is asked about.
const POLL: Duration = Duration::from_millis(100);
/// When the catch-up is given up on.
const GIVE_UP: Duration = Duration::from_secs(15 * 60);
/// Courses whose PDF report is read as well.
const PDF_COURSES: usize = 5;

/// Whether the relay's checkpoint covers every stored event (`false` before it has one).
///
/// Compares the last event in commit order with the checkpoint: a backward step on the
/// `(tx_id, global_position)` index. `NOT EXISTS` an event after the checkpoint is planned as
/// a sequential scan, which reads the whole table every poll once nothing is left.
async fn relay_current(pool: &PgPool, relay: &str) -> anyhow::Result<bool> {
    let current: Option<bool> = sqlx::query_scalar(
        "SELECT COALESCE((SELECT (e.tx_id, e.global_position) <= (c.tx_id, c.position)
                            FROM events e ORDER BY e.tx_id DESC, e.global_position DESC LIMIT 1),
                         true)
           FROM relay_checkpoints c WHERE c.name = $1",
    )
    .bind(relay)
    .fetch_optional(pool)
    .await?;
    Ok(current.unwrap_or(false))
}

/// Where the relay and the slower projector stand, for the progress line.
async fn positions(pool: &PgPool, relay: &str) -> anyhow::Result<String> {
    let (last, published, applied): (Option<i64>, Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT max(global_position) FROM events),
                (SELECT position FROM relay_checkpoints WHERE name = $1),
                (SELECT min(position) FROM projector_state)",
    )
    .bind(relay)
    .fetch_one(pool)
    .await?;
    let at = |p: Option<i64>| p.unwrap_or(0);
    Ok(format!(
        "relay at {}, projectors at {} of {}",
        at(published),
        at(applied),
        at(last)
    ))
}

/// Row 2: from the end of the burst, polled every 100 ms for up to 15 minutes, until the
/// relay has published every event and both projectors have applied the last one.
pub async fn catch_up(server: &Server, plan: &Plan) -> anyhow::Result<CatchUp> {
    let relay = server
        .stream_name()
        .context("the district needs its own server")?;
    let pool = &server.pool;
    let bar = step(&format!("2 read models current ({})", plan.name), None);
    let started = Instant::now();
    let mut current = CatchUp::default();
    while started.elapsed() < GIVE_UP {
        let elapsed = started.elapsed().as_secs_f64();
        if current.relay_secs.is_none() && relay_current(pool, relay).await? {
            current.relay_secs = Some(elapsed);
        }
        if current.projectors_secs.is_none() && projectors_caught_up(pool).await? {
            current.projectors_secs = Some(elapsed);
        }
        // The process manager idle once the relay has published everything: it has
        // evaluated every event (its crossings, relayed in turn, make it busy again).
        if current.relay_secs.is_some()
            && current.warnings_secs.is_none()
            && matches!(server.warnings_idle().await, Ok(true))
            && relay_current(pool, relay).await?
        {
            current.warnings_secs = Some(elapsed);
        }
        if current.relay_secs.is_some()
            && current.projectors_secs.is_some()
            && current.warnings_secs.is_some()
        {
            break;
        }
        bar.set_message(format!(
            "2 read models current ({}): {}",
            plan.name,
            positions(pool, relay).await?
        ));
        tokio::time::sleep(POLL).await;
    }
    if current.relay_secs.is_none() {
        current.relay_pending = outbox::lag(pool, relay).await?.pending;
    }
    current.crossings =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'standing'")
            .fetch_one(pool)
            .await?;
    current.rss_mib = server.rss_mib();
    bar.finish_and_clear();
    Ok(current)
}

/// Rows 3 and 4: rebuild both read models, then `replay --verify`.
pub async fn offline(pool: &PgPool, plan: &Plan) -> anyhow::Result<Offline> {
    let bar = counter(&format!("3 rebuild course_stats ({})", plan.name), 0);
    let progress = |bar: &indicatif::ProgressBar| {
        let bar = bar.clone();
        move |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let started = Instant::now();
    let a = projector::rebuild::<CourseStatsProjection>(pool, progress(&bar)).await?;
    bar.set_message(format!("3 rebuild register_views ({})", plan.name));
    let b = projector::rebuild::<RegisterViewsProjection>(pool, progress(&bar)).await?;
    let rebuild_secs = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    // `verify_report` draws a progress bar of its own.
    let started = Instant::now();
    let verify = crate::replay::verify_report(pool).await?;
    Ok(Offline {
        rebuild_secs,
        rebuild_events_per_sec: (a.events + b.events) as f64 / rebuild_secs,
        verify_secs: started.elapsed().as_secs_f64(),
        verify,
    })
}

/// Row 5: every course's statistics and XLSX report, and five PDF reports, one after another
/// as a registrar would ask for them; then the server's memory.
pub async fn reads(server: &Server, plan: &Plan, district: &District) -> anyhow::Result<Reads> {
    let mut paths = Vec::new();
    for c in 0..district.rosters.len() {
        let code = course_code(c);
        paths.push(format!("/api/courses/{code}/statistics"));
        paths.push(format!("/api/reports/course/{code}?format=xlsx"));
        if c < PDF_COURSES {
            paths.push(format!("/api/reports/course/{code}?format=pdf"));
        }
    }
    let bar = counter(
        &format!("5 statistics and reports ({})", plan.name),
        paths.len(),
    );
    let mut reads = Reads {
        requests: paths.len(),
        ..Reads::default()
    };
    let started = Instant::now();
    for path in &paths {
        let response = server
            .http
            .get(format!("{}{path}", server.url))
            .bearer_auth(&server.token)
            .send()
            .await?;
        let ok = response.status().is_success();
        // Read to the end: the server has rendered the whole body either way.
        response.bytes().await?;
        if !ok {
            reads.errors += 1;
        }
        bar.inc(1);
    }
    reads.secs = started.elapsed().as_secs_f64();
    reads.rss_mib = server.rss_mib();
    reads.peak_rss_mib = server.peak_rss_mib();
    bar.finish_and_clear();
    Ok(reads)
}

/// Row 6: rows and bytes of the event table.
pub async fn storage(pool: &PgPool) -> anyhow::Result<Storage> {
    let (events, total_bytes, heap_bytes, index_bytes, toast_bytes) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM events),
                pg_total_relation_size('events'),
                pg_relation_size('events'),
                pg_indexes_size('events'),
                (SELECT COALESCE(pg_total_relation_size(NULLIF(reltoastrelid, 0)), 0)
                   FROM pg_class WHERE oid = 'events'::regclass)",
    )
    .fetch_one(pool)
    .await?;
    Ok(Storage {
        events,
        total_bytes,
        heap_bytes,
        index_bytes,
        toast_bytes,
    })
}
