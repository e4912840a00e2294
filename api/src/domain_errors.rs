//! How the domain's business-rule errors map to HTTP problems.

use crate::error::{ApiError, FieldProblem};
use domain::course::CourseError;
use domain::register::RegisterError;

impl From<CourseError> for ApiError {
    fn from(error: CourseError) -> Self {
        let detail = error.to_string();
        match error {
            CourseError::NotFound | CourseError::SessionNotFound(_) => ApiError::NotFound(detail),
            CourseError::NameRequired => ApiError::invalid("name", detail),
            CourseError::TitleRequired => ApiError::invalid("title", detail),
            CourseError::InvalidDuration => ApiError::invalid("duration_minutes", detail),
            CourseError::InvalidPolicy(_) => ApiError::invalid("policy", detail),
            CourseError::AlreadyExists => ApiError::conflict("course_exists", detail),
            CourseError::TeacherNotAssigned(_) => {
                ApiError::conflict("teacher_not_assigned", detail)
            }
            CourseError::NotEnrolled(_) => ApiError::conflict("not_enrolled", detail),
            CourseError::EnrollmentOverlaps(_) => ApiError::conflict("enrollment_overlaps", detail),
            CourseError::SessionExists(_) => ApiError::conflict("session_exists", detail),
            CourseError::SessionCancelled(_) => ApiError::conflict("session_cancelled", detail),
        }
    }
}

/// The stable code of a register rule.
pub fn register_code(error: &RegisterError) -> &'static str {
    match error {
        RegisterError::NotOpened => "register_not_open",
        RegisterError::AlreadyOpened => "register_already_open",
        RegisterError::NotOnRoster(_) => "not_on_roster",
        RegisterError::CorrectionRequired { .. } => "correction_required",
        RegisterError::ReasonRequired => "reason_required",
        RegisterError::NotMarked(_) => "not_marked",
        RegisterError::Closed => "register_closed",
        RegisterError::EmptyRollCall => "empty_roll_call",
        RegisterError::DuplicateRow(_) => "duplicate_row",
        RegisterError::RollCallRefused(_) => "roll_call_refused",
        RegisterError::NothingToReview(_) => "nothing_to_review",
        RegisterError::NothingToKeep(_) => "nothing_to_keep",
    }
}

impl From<RegisterError> for ApiError {
    fn from(error: RegisterError) -> Self {
        let detail = error.to_string();
        let code = register_code(&error);
        match error {
            RegisterError::ReasonRequired => ApiError::invalid("reason", detail),
            RegisterError::EmptyRollCall => ApiError::invalid("marks", detail),
            RegisterError::RollCallRefused(rows) => ApiError::Invalid {
                code,
                detail,
                errors: rows
                    .into_iter()
                    .map(|row| FieldProblem {
                        field: format!("marks[{}]", row.index),
                        detail: row.problem.to_string(),
                        code: Some(register_code(&row.problem).to_string()),
                    })
                    .collect(),
            },
            RegisterError::NothingToReview(_) => ApiError::NotFound(detail),
            _ => ApiError::conflict(code, detail),
        }
    }
}
