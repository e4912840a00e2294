//! The automatic close of registers: a course whose policy sets `close_after_minutes` has
//! each register closed that long after its session ends, the students still unmarked
//! becoming absent, by the actor `system`.
//!
//! One leader at a time across every process on the database (a transaction-scoped advisory
//! lock taken for each round; a process that does not get it skips the round). A round
//! looks at every session already due, however late, so a stopped scheduler catches up; the
//! register's own rule (`CloseRegisterOnSchedule`) makes a close that already happened, or
//! that a person undid by reopening, change nothing, so a restart or two leaders in a row
//! never close twice.

use crate::app::access::CurrentUser;
use crate::app::error::AppError;
use crate::app::register::{self, SessionContext};
use crate::app::store::{self, CommandMeta, Source};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use domain::register::RegisterCommand;
use domain::{Actor, SessionId};
use std::collections::HashSet;
use std::sync::Mutex;

/// The advisory-lock name of the scheduler's leader.
const LEADER_LOCK: &str = "attendance:auto-close";

/// The scheduler's memory: sessions whose automatic close is settled for good (closed, by
/// anyone, or reopened by a person), so that later rounds do not look at them again.
#[derive(Debug, Default)]
pub struct AutoClose {
    settled: Mutex<HashSet<SessionId>>,
}

/// What one round did.
#[derive(Debug, Default)]
pub struct Round {
    /// Whether this process led the round (otherwise it did nothing).
    pub leader: bool,
    /// Registers closed, each with the number of students defaulted absent.
    pub closed: Vec<(SessionId, usize)>,
    /// Registers that could not be closed this time (the store failed); tried next round.
    pub failed: usize,
}

impl AutoClose {
    /// A scheduler that knows nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Closes every register due by `now`, if this process is the leader.
    pub async fn round(&self, state: &AppState, now: DateTime<Utc>) -> Result<Round, AppError> {
        let mut leadership = state.pool().begin().await?;
        let leader: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext($1))")
            .bind(LEADER_LOCK)
            .fetch_one(&mut *leadership)
            .await?;
        if !leader {
            return Ok(Round::default());
        }
        let mut round = Round {
            leader: true,
            ..Round::default()
        };
        let due = self.due(state, now).await?;
        let ids: Vec<String> = due.iter().map(|c| c.session_id.to_string()).collect();
        let closed = projections::register_views::store::closed_among(state.pool(), &ids).await?;
        let closed: HashSet<String> = closed.into_iter().collect();
        let system = CurrentUser::system();
        for ctx in due {
            if closed.contains(ctx.session_id.as_str()) {
                self.settle(&ctx.session_id);
                continue;
            }
            let meta = CommandMeta {
                actor: system.actor(),
                request_id: format!("auto-close-{}", ctx.session_id),
                source: Source::Scheduler,
                course_id: ctx.course_id.clone(),
            };
            let command = RegisterCommand::CloseRegisterOnSchedule {
                by: Actor::system(),
                at: now,
            };
            match register::execute_with(state, &system, &meta, &ctx, vec![command]).await {
                Ok(done) => {
                    if done.changed() {
                        let absent = defaulted_absent(&done.events);
                        round.closed.push((ctx.session_id.clone(), absent));
                    }
                    self.settle(&ctx.session_id);
                }
                // Cancelled or deleted meanwhile: nothing to close, now or later.
                Err(refusal) if refusal.is_refusal() => {
                    tracing::info!(session = %ctx.session_id, %refusal, "not closed on schedule");
                    self.settle(&ctx.session_id);
                }
                Err(error) => {
                    tracing::warn!(session = %ctx.session_id, %error, "closing on schedule failed; trying again next round");
                    round.failed += 1;
                }
            }
        }
        leadership.commit().await?;
        Ok(round)
    }

    fn settle(&self, session: &SessionId) {
        self.settled
            .lock()
            .expect("the settled set is never poisoned")
            .insert(session.clone());
    }

    /// Every session of a course with an automatic close whose time has come, not cancelled
    /// and not settled, oldest first.
    async fn due(
        &self,
        state: &AppState,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionContext>, AppError> {
        let mut due = Vec::new();
        for course_id in event_store::event_log::course_ids(state.pool()).await? {
            let (course, course_version) =
                store::current(&state.stores().courses, course_id.as_str()).await?;
            if !course.exists() || course.policy.close_after_minutes.is_none() {
                continue;
            }
            let settled = self
                .settled
                .lock()
                .expect("the settled set is never poisoned");
            for (session_id, session) in &course.sessions {
                let ends =
                    session.starts_at + Duration::minutes(i64::from(session.duration_minutes));
                let is_due = course.policy.closes_at(ends).is_some_and(|at| at <= now);
                if is_due && !session.cancelled && !settled.contains(session_id) {
                    due.push(SessionContext {
                        session_id: session_id.clone(),
                        course: course.clone(),
                        course_version,
                        course_id: course_id.clone(),
                        session: session.clone(),
                    });
                }
            }
        }
        due.sort_by_key(|ctx| ctx.session.starts_at);
        Ok(due)
    }
}

fn defaulted_absent(events: &[domain::register::RegisterEvent]) -> usize {
    events
        .iter()
        .map(|event| match event {
            domain::register::RegisterEvent::RegisterClosed {
                defaulted_absent, ..
            } => defaulted_absent.len(),
            _ => 0,
        })
        .sum()
}
