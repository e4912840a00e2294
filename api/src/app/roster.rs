//! Registers that follow the roster: after a course change that can change who belongs to a
//! session (a back-dated enrolment or unenrolment, a session moved to another day), every
//! opened register of the sessions concerned is amended to the course's roster for the
//! session's local day: one `RosterAmended` event per register that changes, naming who was
//! added and who removed. Called after the course command has committed; a register whose
//! roster already agrees is left alone, so running it again is harmless.

use crate::app::error::AppError;
use crate::app::store::{self, CommandMeta, Stores};
use chrono::{DateTime, NaiveDate, Utc};
use domain::SessionId;
use domain::course::Course;
use domain::register::{Register, RegisterCommand};

/// The sessions of a course whose local day is on or after `from` (an enrolment change from
/// that day can change their rosters).
pub fn sessions_from(course: &Course, from: NaiveDate) -> Vec<SessionId> {
    course
        .sessions
        .iter()
        .filter(|(_, s)| course.day_of(s.starts_at) >= from)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Amends the opened registers of `sessions` to the course's rosters; answers the global
/// position of the last amendment written (0 when none was needed).
pub async fn follow(
    stores: &Stores,
    meta: &CommandMeta,
    course: &Course,
    sessions: &[SessionId],
    reason: &str,
    at: DateTime<Utc>,
) -> Result<i64, AppError> {
    let mut position = 0;
    for session_id in sessions {
        let Some(session) = course.sessions.get(session_id) else {
            continue;
        };
        let wanted = course.roster_on(course.day_of(session.starts_at));
        let (register, _) = store::load(&stores.registers, session_id.as_str()).await?;
        if !register.is_open() || register.roster.keys().eq(wanted.iter()) {
            continue;
        }
        let done = store::execute(
            &stores.registers,
            session_id.as_str(),
            meta,
            |register: &Register| {
                if !register.is_open() {
                    return Ok(Vec::new());
                }
                Ok(vec![RegisterCommand::AmendRoster {
                    roster: wanted.clone(),
                    reason: reason.to_string(),
                    by: meta.actor.clone(),
                    at,
                }])
            },
        )
        .await?;
        position = position.max(done.position);
    }
    Ok(position)
}

/// After a committed course command: when it changed something, amends the opened registers
/// of `sessions`; answers the global position that covers the command and the amendments.
pub async fn after_course_change(
    state: &crate::state::AppState,
    user: &crate::app::access::CurrentUser,
    request_id: String,
    done: &store::Committed<Course>,
    sessions: &[SessionId],
    reason: &str,
) -> Result<i64, AppError> {
    if !done.changed() {
        return Ok(done.position);
    }
    let course_id = done
        .aggregate
        .id
        .clone()
        .ok_or_else(|| AppError::internal("a committed course has an id"))?;
    let meta = crate::app::courses::api_meta(user, request_id, &course_id);
    let amended = follow(
        state.stores(),
        &meta,
        &done.aggregate,
        sessions,
        reason,
        Utc::now(),
    )
    .await?;
    Ok(done.position.max(amended))
}
