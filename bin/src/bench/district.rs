//! `attendance bench --district`: a district-size term (4,000 students in 80 courses of 200,
//! 45 sessions each, 720,000 marks) and the same with an eighth of the courses, each on a
//! fresh `attendance serve`, to show which costs grow faster than the history does.
//!
//! Per size: students created over HTTP, courses set up through the write side, every
//! session's roll call over HTTP, then how long the read models and the early warning take to
//! be current, a rebuild of both read models, `replay --verify`, the server's memory after every course's statistics and
//! reports, and the event table's size. Then, in the same run, the large size's cost per event
//! over the small one's (1.0 is linear).

mod after;
mod figures;
mod setup;
mod table;

pub use figures::{Burst, CatchUp, District, Offline, Ratios, Reads, SizeFigures, Storage};

use super::BenchArgs;
use super::server::Server;
use anyhow::{anyhow, bail};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// Courses at full size (scale 1.0).
const FULL_COURSES: usize = 80;
/// The small size has this many times fewer courses (and students).
const SMALL_DIVISOR: usize = 8;
/// Students in each course.
pub const ROSTER: usize = 200;
/// Courses each student takes (at full density).
const COURSES_PER_STUDENT: usize = 4;

/// One size of the district.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Plan {
    /// `small` or `full`.
    pub name: &'static str,
    /// Courses of [`ROSTER`] students.
    pub courses: usize,
    /// Students; each takes `courses * ROSTER / students` courses.
    pub students: usize,
}

impl Plan {
    fn new(name: &'static str, courses: usize) -> Plan {
        // Derived from the course count so that every student takes the same number of
        // courses; a course of 200 needs 200 students even at the smallest scales.
        let students = (courses * ROSTER / COURSES_PER_STUDENT).max(ROSTER);
        Plan {
            name,
            courses,
            students,
        }
    }

    /// The full and the small size at a scale (never fewer than 2 courses).
    fn both(scale: f64) -> [Plan; 2] {
        let courses = |n: usize| ((n as f64 * scale).round() as usize).max(2);
        [
            Plan::new("small", courses(FULL_COURSES / SMALL_DIVISOR)),
            Plan::new("full", courses(FULL_COURSES)),
        ]
    }
}

/// Runs both sizes and prints the table (or JSON); fails if `replay --verify` found a
/// difference.
pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if args.url.is_some() {
        bail!("--district starts servers of its own and cannot use --url");
    }
    let scale = args.district_scale;
    if !(scale.is_finite() && scale > 0.0) {
        bail!("--district-scale must be a positive number, not {scale}");
    }
    let [small, full] = Plan::both(scale);
    let small = one_size(args, small).await?;
    let full = one_size(args, full).await?;
    let district = District {
        clients: args.clients,
        scale,
        ratios: Ratios::of(&small, &full),
        small,
        full,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&district)?);
    } else {
        print!("{}", table::table(&district));
    }
    for size in [&district.small, &district.full] {
        if !size.offline.verify.identical() {
            bail!(
                "replay --verify found differences at the {} size",
                size.plan.name
            );
        }
    }
    Ok(())
}

/// One size on a server of its own, removed afterwards whatever happened (Ctrl-C included).
async fn one_size(args: &BenchArgs, plan: Plan) -> anyhow::Result<SizeFigures> {
    let server = Server::start(args).await?;
    let outcome = tokio::select! {
        outcome = measure(&server, args, plan) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    server.stop().await;
    outcome
}

async fn measure(server: &Server, args: &BenchArgs, plan: Plan) -> anyhow::Result<SizeFigures> {
    let started = Instant::now();
    let district = Arc::new(setup::load(server, args, &plan).await?);
    let load_secs = started.elapsed().as_secs_f64();
    let burst = setup::burst(server, args, &plan, &district).await?;
    let current = after::catch_up(server, &plan).await?;
    let offline = after::offline(&server.pool, &plan).await?;
    let reads = after::reads(server, &plan, &district).await?;
    let storage = after::storage(&server.pool).await?;
    Ok(SizeFigures {
        plan,
        sessions: district.sessions.len(),
        load_secs,
        burst,
        current,
        offline,
        reads,
        storage,
    })
}
