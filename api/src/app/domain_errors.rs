//! How the domain's business-rule errors become the use cases' errors (and so, in one
//! place, problems).

use crate::app::error::{AppError, FieldProblem};
use domain::course::CourseError;
use domain::register::RegisterError;
use domain::standing::StandingError;

impl From<StandingError> for AppError {
    fn from(error: StandingError) -> Self {
        // Only the process manager evaluates, and it names the standing it evaluates.
        AppError::internal(error)
    }
}

impl From<CourseError> for AppError {
    fn from(error: CourseError) -> Self {
        let detail = error.to_string();
        match error {
            CourseError::NotFound | CourseError::SessionNotFound(_) => AppError::NotFound(detail),
            CourseError::NameRequired => AppError::invalid("name", detail),
            CourseError::TitleRequired => AppError::invalid("title", detail),
            CourseError::InvalidDuration => AppError::invalid("duration_minutes", detail),
            CourseError::InvalidPolicy(_) => AppError::invalid("policy", detail),
            CourseError::ReasonRequired => AppError::invalid("reason", detail),
            CourseError::EmptyTimetable => AppError::invalid("weekdays", detail),
            CourseError::TermEndsBeforeItStarts => AppError::invalid("last_date", detail),
            CourseError::TimetableTooLong => AppError::invalid("last_date", detail),
            CourseError::SessionIdsMismatch { .. } => AppError::conflict("course_changed", detail),
            CourseError::AlreadyExists => AppError::conflict("course_exists", detail),
            CourseError::TeacherNotAssigned(_) => {
                AppError::conflict("teacher_not_assigned", detail)
            }
            CourseError::NotEnrolled(_) => AppError::conflict("not_enrolled", detail),
            CourseError::EnrollmentOverlaps(_) => AppError::conflict("enrollment_overlaps", detail),
            CourseError::SessionExists(_) => AppError::conflict("session_exists", detail),
            CourseError::SessionCancelled(_) => AppError::conflict("session_cancelled", detail),
            CourseError::Archived => AppError::conflict("course_archived", detail),
        }
    }
}

/// The stable code of a register rule.
pub fn register_code(error: &RegisterError) -> &'static str {
    match error {
        RegisterError::NotOpened => "register_not_open",
        RegisterError::AlreadyOpened => "register_already_open",
        RegisterError::NotOnRoster(_) => "not_on_roster",
        RegisterError::RemovedFromRoster(_) => "removed_from_roster",
        RegisterError::CorrectionRequired { .. } => "correction_required",
        RegisterError::ReasonRequired => "reason_required",
        RegisterError::NotMarked(_) => "not_marked",
        RegisterError::Closed => "register_closed",
        RegisterError::EmptyRollCall => "empty_roll_call",
        RegisterError::DuplicateRow(_) => "duplicate_row",
        RegisterError::RollCallRefused(_) => "roll_call_refused",
        RegisterError::NothingToReview(_) => "nothing_to_review",
        RegisterError::NothingToKeep(_) => "nothing_to_keep",
        RegisterError::CheckInAlreadyOpen => "check_in_already_open",
        RegisterError::InvalidCheckIn { .. } => "invalid_field",
        RegisterError::CheckInNotOpen => "check_in_not_open",
        RegisterError::CheckInNotYetOpen(_) => "check_in_not_yet_open",
        RegisterError::CheckInClosed => "check_in_closed",
        RegisterError::NetworkNotAllowed => "check_in_network",
        RegisterError::MarkedByStaff { .. } => "marked_by_staff",
    }
}

impl From<RegisterError> for AppError {
    fn from(error: RegisterError) -> Self {
        let detail = error.to_string();
        let code = register_code(&error);
        match error {
            RegisterError::ReasonRequired => AppError::invalid("reason", detail),
            RegisterError::EmptyRollCall => AppError::invalid("marks", detail),
            RegisterError::RollCallRefused(rows) => AppError::Invalid {
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
            RegisterError::NothingToReview(_) => AppError::NotFound(detail),
            RegisterError::InvalidCheckIn { field, detail } => AppError::invalid(field, detail),
            _ => AppError::conflict(code, detail),
        }
    }
}
