//! Authentication (JWT bearer tokens, argon2id passwords, login throttling) and the
//! authorization rules every route applies.

pub mod caller;
pub mod jwt;
pub mod password;
pub mod rate;
pub mod secret;
pub mod throttle;
pub mod username;
pub mod users;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::course::Course;
use domain::{Actor, Role, StudentId, UserId};

/// The authenticated caller, as its account stands now rather than as the token says, so
/// that a disabled or deleted account is refused at once even with a valid token. The
/// account comes from [`users::AccountCache`], which is dropped on every change (and read
/// from the database while changes could go unheard).
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

/// The bearer token of a request, if it has one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthorized("missing bearer token"))?;
        let claims = state
            .jwt()
            .verify(token)
            .ok_or(ApiError::Unauthorized("invalid or expired token"))?;
        let user = state
            .accounts()
            .active(state.pool(), &claims.sub)
            .await?
            .ok_or(ApiError::Unauthorized(
                "the account no longer exists or is disabled",
            ))?;
        if user.tokens_valid_after.is_some_and(|t| claims.iat < t) {
            return Err(ApiError::Unauthorized(
                "the token was issued before the password changed",
            ));
        }
        Ok(CurrentUser {
            id: user.id,
            username: user.username,
            role: user.role,
            student_id: user.student_id,
        })
    }
}

impl CurrentUser {
    /// The actor recorded in events.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id.clone(),
            role: self.role,
        }
    }

    /// Only administrators pass.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(ApiError::Forbidden("only administrators may do this")),
        }
    }

    /// Administrators and the course's teachers may manage its attendance.
    pub fn require_course_staff(&self, course: &Course) -> Result<(), ApiError> {
        if self.is_course_staff(course) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
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
    pub fn require_course_reader(&self, course: &Course) -> Result<(), ApiError> {
        let enrolled = self
            .student_id
            .as_ref()
            .is_some_and(|student| course.has_ever_enrolled(student));
        if self.is_course_staff(course) || (self.role == Role::Student && enrolled) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("you may not read this course"))
        }
    }

    /// Whether the caller is this student.
    pub fn is_student(&self, student: &StudentId) -> bool {
        self.role == Role::Student && self.student_id.as_ref() == Some(student)
    }
}
