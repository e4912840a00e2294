//! The one error type of the use cases: what went wrong, in the application's terms. It
//! knows no HTTP; the JSON routes turn it into a problem document in one place
//! (`impl From<AppError> for crate::error::ApiError`), the CLI prints it.

use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// One invalid field (or row) of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// Where: a JSON path such as `marks[2].status`, or a parameter name.
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
    /// A stable code for this row's problem, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// Why a use case did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is invalid: a field is missing, malformed or out of range.
    #[error("{detail}")]
    Invalid {
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        detail: String,
        /// Offending fields.
        errors: Vec<FieldProblem>,
    },
    /// No such thing (or not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// Something the request names (a student in a mark) does not exist; the code says
    /// which thing to create or fix.
    #[error("{detail}")]
    Unknown {
        /// Stable code, e.g. `student_not_found`.
        code: &'static str,
        /// What is missing.
        detail: String,
    },
    /// The caller's role or ownership does not allow this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A business rule refused the command, or a write conflicted.
    #[error("{detail}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        detail: String,
        /// Rows involved, if any.
        errors: Vec<FieldProblem>,
    },
    /// The caller tried too often; they may try again after `retry_after`.
    #[error("{detail}")]
    TooMany {
        /// Stable code.
        code: &'static str,
        /// What was refused.
        detail: String,
        /// When to retry.
        retry_after: Duration,
    },
    /// A dependency (the database) is unavailable; try again later.
    #[error("{detail}")]
    Unavailable {
        /// What is down.
        detail: String,
        /// When to retry.
        retry_after: Duration,
    },
    /// An unexpected failure: logged where it is answered, never shown.
    #[error("internal error")]
    Internal(String),
}

/// How long clients should wait after the database was unreachable.
pub const DATABASE_RETRY_AFTER: Duration = Duration::from_secs(2);

impl AppError {
    /// One invalid field.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        AppError::Invalid {
            code: "invalid_field",
            detail: format!("{field}: {detail}"),
            errors: vec![FieldProblem {
                field: field.to_string(),
                detail,
                code: None,
            }],
        }
    }

    /// A refused business rule.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// An unexpected failure whose cause is logged, not shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        AppError::Internal(cause.to_string())
    }

    /// Whether the command was refused (by a rule, a role or a missing thing), rather than
    /// the store failing.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            AppError::Invalid { .. }
                | AppError::Conflict { .. }
                | AppError::Forbidden(_)
                | AppError::NotFound(_)
                | AppError::Unknown { .. }
                | AppError::TooMany { .. }
        )
    }

    /// Whether the store failed (unavailable or an unexpected error).
    pub fn is_store_failure(&self) -> bool {
        matches!(self, AppError::Unavailable { .. } | AppError::Internal(_))
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolClosed => AppError::Unavailable {
                detail: "the database is unavailable".to_string(),
                retry_after: DATABASE_RETRY_AFTER,
            },
            other => AppError::internal(other),
        }
    }
}
