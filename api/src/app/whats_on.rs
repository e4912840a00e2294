//! "What's on": a person's sessions across their courses between two days (a teacher's
//! courses, a student's enrolments on each session's day, every course for an admin), days
//! counted in each course's zone. Used by `GET /api/me/sessions` and the calendar feeds.

use crate::app::access::{CurrentUser, visible_courses};
use crate::app::error::AppError;
use crate::state::AppState;
use chrono::NaiveDate;
use domain::course::Course;
use domain::{Role, SessionId};
use std::sync::Arc;

/// One session of the person's, with its course.
pub struct Listed {
    /// The course.
    pub course: Arc<Course>,
    /// The session.
    pub session_id: SessionId,
}

/// The user's sessions whose day is within `from..=to`, by start.
pub async fn sessions_of(
    state: &AppState,
    user: &CurrentUser,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Listed>, AppError> {
    let mut listed = Vec::new();
    for (course, _) in visible_courses(state, user).await? {
        for (id, session) in &course.sessions {
            let day = course.day_of(session.starts_at);
            let mine = match &user.student_id {
                Some(student) if user.role == Role::Student => course.is_enrolled_on(student, day),
                _ => true,
            };
            if day >= from && day <= to && mine {
                listed.push(Listed {
                    course: course.clone(),
                    session_id: id.clone(),
                });
            }
        }
    }
    listed.sort_by(|a, b| {
        let start = |l: &Listed| l.course.sessions[&l.session_id].starts_at;
        (start(a), &a.session_id).cmp(&(start(b), &b.session_id))
    });
    Ok(listed)
}
