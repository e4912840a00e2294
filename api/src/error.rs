//! The one error type of the API, rendered as `application/problem+json`.
//!
//! Every variant documents its HTTP status. Internal failures are logged with `tracing`
//! and answered with a generic 500 that never shows internals.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

use crate::app::error::AppError;
pub use crate::app::error::FieldProblem;

/// An RFC 9457 problem document with a stable `code`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` style, stable per code).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for a person.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    /// The invalid fields or rows, when the input was at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// Everything a handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a path or query parameter is malformed.
    #[error("{detail}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        detail: String,
        /// Offending parameters.
        errors: Vec<FieldProblem>,
    },
    /// 422: the body is well-formed JSON but a field is missing, unknown or invalid.
    #[error("{detail}")]
    Invalid {
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        detail: String,
        /// Offending fields.
        errors: Vec<FieldProblem>,
    },
    /// 401: no, malformed, expired or revoked credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: authenticated, but the role or ownership does not allow this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 403: the account signed in with a one-time password and must set its own first
    /// (`POST /api/auth/password`).
    #[error(
        "set a new password first (POST /api/auth/password): this account signed in with a one-time password"
    )]
    PasswordChangeRequired,
    /// 404: no such resource (or not visible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// 404 with a code of its own: something the request names (a student in a mark) does
    /// not exist, so the client learns which thing to create or fix.
    #[error("{detail}")]
    Unknown {
        /// Stable code, e.g. `student_not_found`.
        code: &'static str,
        /// What is missing.
        detail: String,
    },
    /// 409: a business rule refused the command, or a write conflicted.
    #[error("{detail}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        detail: String,
        /// Rows involved, if any.
        errors: Vec<FieldProblem>,
    },
    /// 413: the body is larger than allowed.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not JSON.
    #[error("expected a body with content type application/json")]
    UnsupportedMediaType,
    /// 429: too many failed logins for this username.
    #[error("too many failed logins; try again later")]
    TooManyAttempts {
        /// When to retry.
        retry_after: Duration,
    },
    /// 429: the caller tried too often (wrong check-in codes); `code` says what.
    #[error("{detail}")]
    Throttled {
        /// Stable code.
        code: &'static str,
        /// What was refused.
        detail: String,
        /// When to retry.
        retry_after: Duration,
    },
    /// 503: a dependency (the database) is unavailable.
    #[error("{detail}")]
    Unavailable {
        /// What is down.
        detail: String,
        /// When to retry.
        retry_after: Duration,
    },
    /// 500: an unexpected failure; logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 422 for one invalid field.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        ApiError::Invalid {
            code: "invalid_field",
            detail: format!("{field}: {detail}"),
            errors: vec![FieldProblem {
                field: field.to_string(),
                detail,
                code: None,
            }],
        }
    }

    /// A 400 for one malformed path or query parameter.
    pub fn bad_param(name: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        ApiError::BadRequest {
            code: "invalid_parameter",
            detail: format!("{name}: {detail}"),
            errors: vec![FieldProblem {
                field: name.to_string(),
                detail,
                code: None,
            }],
        }
    }

    /// A 409 for a refused business rule.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A 500 whose cause is logged, not shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code, "Bad request"),
            ApiError::Invalid { code, .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, code, "Invalid input")
            }
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::PasswordChangeRequired => (
                StatusCode::FORBIDDEN,
                "password_change_required",
                "Password change required",
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ApiError::Unknown { code, .. } => (StatusCode::NOT_FOUND, code, "Not found"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code, "Conflict"),
            ApiError::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            ApiError::TooManyAttempts { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "Too many attempts",
            ),
            ApiError::Throttled { code, .. } => {
                (StatusCode::TOO_MANY_REQUESTS, code, "Too many attempts")
            }
            ApiError::Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::TooManyAttempts { retry_after }
            | ApiError::Throttled { retry_after, .. }
            | ApiError::Unavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The problem document this error renders as.
    pub fn problem(&self) -> Problem {
        let (status, code, generic_title) = self.parts();
        // The catalogue's title names the problem type; the variant's is for codes not (yet)
        // catalogued.
        let title = crate::catalogue::problem_type(code).map_or(generic_title, |p| p.title);
        let errors = match self {
            ApiError::BadRequest { errors, .. }
            | ApiError::Invalid { errors, .. }
            | ApiError::Conflict { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        let detail = match self {
            ApiError::Internal(_) => "an unexpected error occurred; it has been logged".to_string(),
            other => other.to_string(),
        };
        Problem {
            kind: format!("/problems/{code}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            code: code.to_string(),
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(%cause, "request failed"),
            ApiError::Unavailable { detail, .. } => {
                tracing::warn!(%detail, "dependency unavailable")
            }
            _ => {}
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(after) = self.retry_after() {
            let secs = after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&secs) {
                headers.insert(header::RETRY_AFTER, value);
            }
        }
        if matches!(self, ApiError::Unauthorized(_)) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub use crate::app::error::DATABASE_RETRY_AFTER;

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}

/// The use cases' errors as problems: the one place that gives each an HTTP status.
impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid {
                code,
                detail,
                errors,
            } => ApiError::Invalid {
                code,
                detail,
                errors,
            },
            AppError::NotFound(detail) => ApiError::NotFound(detail),
            AppError::Unknown { code, detail } => ApiError::Unknown { code, detail },
            AppError::Forbidden(detail) => ApiError::Forbidden(detail),
            AppError::Conflict {
                code,
                detail,
                errors,
            } => ApiError::Conflict {
                code,
                detail,
                errors,
            },
            AppError::TooMany {
                code,
                detail,
                retry_after,
            } => ApiError::Throttled {
                code,
                detail,
                retry_after,
            },
            AppError::Unavailable {
                detail,
                retry_after,
            } => ApiError::Unavailable {
                detail,
                retry_after,
            },
            AppError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}
