//! Scheduling a term: one course command for a whole timetable, all sessions or none.
//! Called by the JSON route and the `attendance schedule` command alike.

use crate::app::error::AppError;
use crate::app::store::{self, CommandMeta, Committed, Stores};
use domain::SessionId;
use domain::course::{Course, CourseCommand, Timetable};

/// A term put on the calendar: the course after it and the new sessions' ids in date order.
pub struct TermScheduled {
    /// The course after the command.
    pub committed: Committed<Course>,
    /// The new sessions, in date order.
    pub session_ids: Vec<SessionId>,
}

/// Schedules every session of `timetable` in the course's zone, in one command. The ids are
/// chosen for the course as it is when the command is decided (a retry after a concurrent
/// change counts again).
pub async fn schedule_term(
    stores: &Stores,
    meta: &CommandMeta,
    timetable: Timetable,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<TermScheduled, AppError> {
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
    })
}

fn new_session_id() -> SessionId {
    SessionId::parse(uuid::Uuid::now_v7().simple().to_string())
        .expect("a 32-hex-digit uuid is a valid session id")
}
