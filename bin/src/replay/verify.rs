//! `attendance replay --verify`: every read model refolded in memory from the whole history
//! and compared, document by document, with the stored one.

use super::{PAGE, progress};
use anyhow::Context;
use projections::audit::{self, Filter};
use projections::course_stats::store::CourseStatsProjection;
use projections::event::ProjectedEvent;
use projections::projector::{self, Projection};
use projections::register_views::store::RegisterViewsProjection;
use serde_json::Value;
use sqlx::PgPool;
use std::collections::BTreeMap;

/// What `--verify` found for one read model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProjectionCheck {
    /// The projector's name.
    pub name: &'static str,
    /// Documents compared: those stored and those refolded from history.
    pub documents: usize,
    /// Whether every stored document equals its refolded one.
    pub identical: bool,
    /// Where they differ, one line each (ten per document at most, then a count).
    pub differences: Vec<String>,
}

/// What `--verify` found, per read model.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyReport {
    /// One entry per read model, course statistics first.
    pub projections: Vec<ProjectionCheck>,
}

impl VerifyReport {
    /// Whether every read model equals the one refolded from history.
    pub fn identical(&self) -> bool {
        self.projections.iter().all(|p| p.identical)
    }
}

/// `--verify` on the command line: the report printed, `Ok(false)` on a difference.
pub async fn verify(pool: &PgPool) -> anyhow::Result<bool> {
    let report = verify_report(pool).await?;
    for check in &report.projections {
        for line in &check.differences {
            println!("{line}");
        }
        println!(
            "{}: {} documents, {}",
            check.name,
            check.documents,
            if check.identical {
                "identical"
            } else {
                "DIFFERENT"
            }
        );
    }
    Ok(report.identical())
}

/// Folds the whole history in memory and compares each read model with the stored one,
/// printing nothing (a progress bar on stderr only).
pub async fn verify_report(pool: &PgPool) -> anyhow::Result<VerifyReport> {
    let mut filter = Filter {
        limit: PAGE,
        ..Filter::default()
    };
    let bar = progress(audit::count(pool, &filter).await? as u64);
    let mut stats = BTreeMap::new();
    let mut views = BTreeMap::new();
    loop {
        let (events, next) = audit::page(pool, &filter).await?;
        for stored in &events {
            let event = ProjectedEvent::from_stored(stored).context("reading an event")?;
            projector::fold::<CourseStatsProjection>(&mut stats, &event);
            projector::fold::<RegisterViewsProjection>(&mut views, &event);
        }
        bar.inc(events.len() as u64);
        if (events.len() as i64) < PAGE {
            break;
        }
        filter.after = next;
    }
    bar.finish_and_clear();
    let projections = vec![
        compare::<CourseStatsProjection>(pool, &stats).await?,
        compare::<RegisterViewsProjection>(pool, &views).await?,
    ];
    Ok(VerifyReport { projections })
}

async fn compare<P: Projection>(
    pool: &PgPool,
    expected: &BTreeMap<String, P::Model>,
) -> anyhow::Result<ProjectionCheck>
where
    P::Model: PartialEq,
{
    let mut conn = pool.acquire().await?;
    let mut keys = P::keys(&mut conn).await?;
    keys.extend(expected.keys().cloned());
    keys.sort();
    keys.dedup();
    let stored = P::load(&mut conn, &keys).await?;
    let (mut identical, mut differences) = (true, Vec::new());
    for key in &keys {
        let (want, have) = (expected.get(key), stored.get(key));
        if want != have {
            identical = false;
            let value = |doc: Option<&P::Model>| {
                doc.map(|d| serde_json::to_value(d).unwrap_or_default())
                    .unwrap_or_default()
            };
            let mut paths = Vec::new();
            json_diff(&value(want), &value(have), String::new(), &mut paths);
            for (path, from_history, stored) in paths.iter().take(10) {
                differences.push(format!(
                    "{} {key}{path}: history {from_history}, stored {stored}",
                    P::NAME
                ));
            }
            if paths.len() > 10 {
                differences.push(format!(
                    "{} {key}: … {} more differences",
                    P::NAME,
                    paths.len() - 10
                ));
            }
        }
    }
    Ok(ProjectionCheck {
        name: P::NAME,
        documents: keys.len(),
        identical,
        differences,
    })
}

/// The paths where two JSON documents differ, with both values (shortened).
fn json_diff(a: &Value, b: &Value, path: String, out: &mut Vec<(String, String, String)>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<_> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let (l, r) = (
                    x.get(key).unwrap_or(&Value::Null),
                    y.get(key).unwrap_or(&Value::Null),
                );
                json_diff(l, r, format!("{path}.{key}"), out);
            }
        }
        (l, r) if l != r => {
            let short = |v: &Value| v.to_string().chars().take(80).collect::<String>();
            out.push((path, short(l), short(r)));
        }
        _ => {}
    }
}
