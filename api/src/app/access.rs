//! Authorization, in one place: who may do what to which course, session and student. The
//! JSON routes, the CLI and the web pages ask here; nothing else decides access.
//!
//! - Administrators may do everything.
//! - Teachers manage the attendance of the courses they teach, and read their students.
//! - Students read the courses they were ever enrolled in, and their own records.

use crate::app::error::AppError;
use crate::app::store;
use crate::state::AppState;
use domain::course::Course;
use domain::{Actor, Role, StudentId, UserId};
use std::sync::Arc;

/// The authenticated caller, as its account stands now rather than as the token says, so
/// that a disabled or deleted account is refused at once even with a valid token. The
/// account comes from [`crate::auth::users::AccountCache`], which is dropped on every change
/// (and read from the database while changes could go unheard).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// User id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Current role.
    pub role: Role,
    /// The linked student number, for students.
    pub student_id: Option<StudentId>,
}

impl CurrentUser {
    /// The scheduler acting on its own (`Actor::system()`, an administrator's rights): only
    /// for work a policy asked for in advance, such as the automatic close of registers.
    pub fn system() -> CurrentUser {
        let actor = Actor::system();
        CurrentUser {
            id: actor.user_id,
            username: Actor::SYSTEM_ID.to_string(),
            role: actor.role,
            student_id: None,
        }
    }

    /// The actor recorded in events.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id.clone(),
            role: self.role,
        }
    }

    /// Only administrators pass.
    pub fn require_admin(&self) -> Result<(), AppError> {
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(AppError::Forbidden("only administrators may do this")),
        }
    }

    /// Administrators and the course's teachers may manage its attendance.
    pub fn require_course_staff(&self, course: &Course) -> Result<(), AppError> {
        if self.is_course_staff(course) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "only administrators and this course's teachers may do this",
            ))
        }
    }

    /// Whether the caller is an administrator or a teacher of the course.
    pub fn is_course_staff(&self, course: &Course) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Teacher => course.is_taught_by(&self.id),
            Role::Student => false,
        }
    }

    /// Staff, and students who have ever been enrolled, may read a course.
    pub fn require_course_reader(&self, course: &Course) -> Result<(), AppError> {
        let enrolled = self
            .student_id
            .as_ref()
            .is_some_and(|student| course.has_ever_enrolled(student));
        if self.is_course_staff(course) || (self.role == Role::Student && enrolled) {
            Ok(())
        } else {
            Err(AppError::Forbidden("you may not read this course"))
        }
    }

    /// Whether the caller is this student.
    pub fn is_student(&self, student: &StudentId) -> bool {
        self.role == Role::Student && self.student_id.as_ref() == Some(student)
    }
}

/// The courses the caller may read: all for admins, taught ones for teachers, ever
/// enrolled ones for students.
pub async fn visible_courses(
    state: &AppState,
    user: &CurrentUser,
) -> Result<Vec<(Arc<Course>, u64)>, AppError> {
    let mut visible = Vec::new();
    for id in event_store::event_log::course_ids(state.pool()).await? {
        let (course, version) = store::load(&state.stores().courses, id.as_str()).await?;
        if user.require_course_reader(&course).is_ok() {
            visible.push((course, version));
        }
    }
    Ok(visible)
}

/// Whether the caller may read this student's records: admins, the student, and teachers
/// of a course the student was ever enrolled in.
pub async fn require_student_reader(
    state: &AppState,
    user: &CurrentUser,
    id: &StudentId,
) -> Result<(), AppError> {
    let allowed = match user.role {
        Role::Admin => true,
        Role::Student => user.is_student(id),
        Role::Teacher => visible_courses(state, user)
            .await?
            .iter()
            .any(|(c, _)| c.has_ever_enrolled(id)),
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "you may not read this student's records",
        ))
    }
}
