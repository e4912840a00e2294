//! The institution's non-teaching days (holidays, closures): kept per institution, skipped by
//! every new term timetable, and, once declared, the sessions that fall on them cancelled
//! with the closure's reason (each cancellation an event of its course, by the admin who
//! declared it). Declaring first as a dry run shows which sessions would be cancelled.
//!
//! A day is the local date of a session's start in its course's zone, as everywhere else.

use crate::app::access::CurrentUser;
use crate::app::courses::api_meta;
use crate::app::error::AppError;
use crate::app::store;
use crate::state::AppState;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::course::{Course, CourseCommand};
use domain::{CourseId, SessionId};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The most days one declaration may cover (a long summer break fits).
pub const MAX_DAYS: i64 = 120;

/// A declared non-teaching day.
#[derive(Debug, Clone, PartialEq)]
pub struct Closure {
    /// The day.
    pub day: NaiveDate,
    /// Why the institution is closed.
    pub reason: String,
    /// The administrator who declared it.
    pub created_by: String,
    /// When it was declared.
    pub created_at: DateTime<Utc>,
}

/// A session that falls on a closed day.
#[derive(Debug, Clone)]
pub struct OnClosedDay {
    /// Its course.
    pub course: Arc<Course>,
    /// Its course's code.
    pub course_id: CourseId,
    /// The session.
    pub session_id: SessionId,
    /// Its day in the course's zone.
    pub day: NaiveDate,
}

/// What a declaration did (or, as a dry run, would do).
#[derive(Debug)]
pub struct Declared {
    /// The days declared that were not closed before.
    pub new_days: Vec<NaiveDate>,
    /// The sessions on those days that were (or would be) cancelled.
    pub sessions: Vec<OnClosedDay>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The global position covering the cancellations (0 when nothing was cancelled).
    pub position: i64,
}

/// The declared days between two dates (inclusive), oldest first.
pub async fn list(pool: &PgPool, from: NaiveDate, to: NaiveDate) -> Result<Vec<Closure>, AppError> {
    let rows: Vec<(NaiveDate, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT day, reason, created_by, created_at FROM calendar_closures \
         WHERE day BETWEEN $1 AND $2 ORDER BY day",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(day, reason, created_by, created_at)| Closure {
            day,
            reason,
            created_by,
            created_at,
        })
        .collect())
}

/// The closed days between two dates (inclusive): the days a new timetable skips.
pub async fn days(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeSet<NaiveDate>, AppError> {
    Ok(list(pool, from, to)
        .await?
        .into_iter()
        .map(|c| c.day)
        .collect())
}

/// Declares the days `from..=to` closed for `reason` and cancels the sessions on them, or
/// with `dry_run` only says which sessions that would cancel. Administrators only. Declaring
/// a day again changes nothing; sessions still on it (a retry after a failure) are cancelled.
pub async fn declare(
    state: &AppState,
    user: &CurrentUser,
    request_id: String,
    (from, to): (NaiveDate, NaiveDate),
    reason: &str,
    dry_run: bool,
) -> Result<Declared, AppError> {
    user.require_admin()?;
    let span = (to - from).num_days();
    if !(0..MAX_DAYS).contains(&span) {
        return Err(AppError::invalid(
            "until",
            format!("must be on or after date, and cover at most {MAX_DAYS} days"),
        ));
    }
    let days: BTreeSet<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let sessions = sessions_on(state, &days).await?;
    let known = self::days(state.pool(), from, to).await?;
    let new_days: Vec<NaiveDate> = days.difference(&known).copied().collect();
    if dry_run {
        return Ok(Declared {
            new_days,
            sessions,
            dry_run,
            position: 0,
        });
    }
    let mut tx = state.pool().begin().await?;
    for day in &new_days {
        sqlx::query(
            "INSERT INTO calendar_closures (day, reason, created_by) VALUES ($1, $2, $3) \
             ON CONFLICT (day) DO NOTHING",
        )
        .bind(day)
        .bind(reason)
        .bind(user.id.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let position = cancel(state, user, request_id, &sessions, reason).await?;
    Ok(Declared {
        new_days,
        sessions,
        dry_run,
        position,
    })
}

/// Removes a declared day (administrators only); whether it was declared. Sessions cancelled
/// for it stay cancelled: each is restored on its own, if at all.
pub async fn remove(
    state: &AppState,
    user: &CurrentUser,
    day: NaiveDate,
) -> Result<bool, AppError> {
    user.require_admin()?;
    let removed = sqlx::query("DELETE FROM calendar_closures WHERE day = $1")
        .bind(day)
        .execute(state.pool())
        .await?;
    Ok(removed.rows_affected() > 0)
}

/// The sessions not cancelled whose day (in their course's zone) is one of `days`.
async fn sessions_on(
    state: &AppState,
    days: &BTreeSet<NaiveDate>,
) -> Result<Vec<OnClosedDay>, AppError> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(Vec::new());
    };
    // Every zone's local day lies within 14 hours of the UTC day.
    let earliest = first
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        - Duration::hours(14);
    let latest = last
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        + Duration::hours(38);
    let mut found = Vec::new();
    for course_id in event_store::event_log::course_ids(state.pool()).await? {
        let (course, _) = store::load(&state.stores().courses, course_id.as_str()).await?;
        if !course.exists() {
            continue;
        }
        for (session_id, session) in &course.sessions {
            if session.cancelled || session.starts_at < earliest || session.starts_at > latest {
                continue;
            }
            let day = course.day_of(session.starts_at);
            if days.contains(&day) {
                found.push(OnClosedDay {
                    course: course.clone(),
                    course_id: course_id.clone(),
                    session_id: session_id.clone(),
                    day,
                });
            }
        }
    }
    found.sort_by_key(|s| {
        (
            s.course.sessions[&s.session_id].starts_at,
            s.session_id.clone(),
        )
    });
    Ok(found)
}

/// Cancels the sessions, one command per course (all of a course's sessions or none).
async fn cancel(
    state: &AppState,
    user: &CurrentUser,
    request_id: String,
    sessions: &[OnClosedDay],
    reason: &str,
) -> Result<i64, AppError> {
    let mut by_course: BTreeMap<&CourseId, Vec<&SessionId>> = BTreeMap::new();
    for session in sessions {
        by_course
            .entry(&session.course_id)
            .or_default()
            .push(&session.session_id);
    }
    let mut position = 0;
    let at = Utc::now();
    for (course_id, ids) in by_course {
        let meta = api_meta(user, request_id.clone(), course_id);
        let reason = format!("closure: {reason}");
        let done = store::execute(
            &state.stores().courses,
            course_id.as_str(),
            &meta,
            |course: &Course| {
                // Only those still scheduled: a retry or a concurrent cancel changes nothing.
                Ok(ids
                    .iter()
                    .filter(|id| course.sessions.get(**id).is_some_and(|s| !s.cancelled))
                    .map(|id| CourseCommand::CancelSession {
                        session_id: (*id).clone(),
                        reason: Some(reason.clone()),
                        by: user.actor(),
                        at,
                    })
                    .collect())
            },
        )
        .await?;
        position = position.max(done.position);
    }
    Ok(position)
}
