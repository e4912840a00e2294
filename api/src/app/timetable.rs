//! Scheduling a term: one course command for a whole timetable, all sessions or none, the
//! institution's closed days skipped. Called by the JSON route and the `attendance schedule`
//! command alike.

use crate::app::closures;
use crate::app::error::AppError;
use crate::app::store::{self, CommandMeta, Committed, Stores};
use chrono::{Datelike, NaiveDate};
use domain::SessionId;
use domain::course::{Course, CourseCommand, Timetable};
use sqlx::PgPool;

/// A term put on the calendar: the course after it and the new sessions' ids in date order.
pub struct TermScheduled {
    /// The course after the command.
    pub committed: Committed<Course>,
    /// The new sessions, in date order.
    pub session_ids: Vec<SessionId>,
    /// Class days left out because the institution is closed then.
    pub closed_days: Vec<NaiveDate>,
}

/// Schedules every session of `timetable` in the course's zone, in one command, except on
/// the institution's closed days (added to the timetable's own skipped dates). The ids are
/// chosen for the course as it is when the command is decided (a retry after a concurrent
/// change counts again).
pub async fn schedule_term(
    stores: &Stores,
    pool: &PgPool,
    meta: &CommandMeta,
    mut timetable: Timetable,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<TermScheduled, AppError> {
    let closed_days: Vec<NaiveDate> = closures::days(pool, timetable.first, timetable.last)
        .await?
        .into_iter()
        .filter(|day| timetable.weekdays.contains(&day.weekday()) && !timetable.skip.contains(day))
        .collect();
    timetable.skip.extend(closed_days.iter().copied());
    let mut session_ids = Vec::new();
    let committed = store::execute(
        &stores.courses,
        meta.course_id.as_str(),
        meta,
        |course: &Course| {
            let count = timetable.sessions(course.time_zone)?.len();
            session_ids = (0..count).map(|_| new_session_id()).collect();
            Ok(vec![CourseCommand::ScheduleTerm {
                timetable: timetable.clone(),
                session_ids: session_ids.clone(),
                by: meta.actor.clone(),
                at,
            }])
        },
    )
    .await?;
    Ok(TermScheduled {
        committed,
        session_ids,
        closed_days,
    })
}

fn new_session_id() -> SessionId {
    SessionId::parse(uuid::Uuid::now_v7().simple().to_string())
        .expect("a 32-hex-digit uuid is a valid session id")
}
