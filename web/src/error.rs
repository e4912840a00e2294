//! Error pages: every failure a page meets becomes an HTML page with the right status and a
//! message from the catalogue. A business refusal says what was refused (its detail names
//! no internals); an unexpected failure is logged and shown only as a reference number.

use crate::i18n::Catalogue as Labels;
use crate::i18n::{Catalogue, EN};
use crate::templates::ErrorPage;
use api::app::AppError;
use api::error::ApiError;
use askama::Template;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

/// What went wrong, as the person is told.
#[derive(Debug)]
enum Kind {
    Forbidden,
    NotFound,
    Refused(String),
    BadForm(String),
    Said(&'static str),
    Csrf,
    Unavailable,
    Internal,
}

/// A failed page: rendered as an error page in the request's language.
#[derive(Debug)]
pub struct PageError {
    kind: Kind,
    t: &'static Catalogue,
}

impl PageError {
    fn new(kind: Kind) -> Self {
        PageError { kind, t: &EN }
    }

    /// The same error, told in the language `t`.
    pub fn in_language(mut self, t: &'static Catalogue) -> Self {
        self.t = t;
        self
    }

    /// A form refused for its missing or foreign token, or a cross-site request.
    pub fn csrf() -> Self {
        PageError::new(Kind::Csrf)
    }

    /// A page the caller may not see (answered like one that does not exist).
    pub fn not_found() -> Self {
        PageError::new(Kind::NotFound)
    }

    /// A page the caller's role does not allow.
    pub fn forbidden() -> Self {
        PageError::new(Kind::Forbidden)
    }

    /// Nothing to show, with a message of the catalogue saying why (404).
    pub fn said(message: &'static str) -> Self {
        PageError::new(Kind::Said(message))
    }

    /// A form that cannot be read at all.
    pub fn bad_form(detail: String) -> Self {
        PageError::new(Kind::BadForm(detail))
    }

    fn status(&self) -> StatusCode {
        match self.kind {
            Kind::Forbidden | Kind::Csrf => StatusCode::FORBIDDEN,
            Kind::NotFound | Kind::Said(_) => StatusCode::NOT_FOUND,
            Kind::Refused(_) => StatusCode::CONFLICT,
            Kind::BadForm(_) => StatusCode::BAD_REQUEST,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self) -> String {
        let t = self.t;
        match &self.kind {
            Kind::Forbidden => t.forbidden.to_string(),
            Kind::NotFound => t.not_found.to_string(),
            Kind::Said(message) => message.to_string(),
            Kind::Refused(detail) | Kind::BadForm(detail) => format!("{}: {detail}", t.refused),
            Kind::Csrf => t.csrf_refused.to_string(),
            Kind::Unavailable => t.unavailable.to_string(),
            Kind::Internal => t.internal.to_string(),
        }
    }
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        PageError::new(match error {
            AppError::Forbidden(_) => Kind::Forbidden,
            AppError::NotFound(_) | AppError::Unknown { .. } => Kind::NotFound,
            AppError::Invalid { detail, .. }
            | AppError::Conflict { detail, .. }
            | AppError::TooMany { detail, .. } => Kind::Refused(detail),
            AppError::Unavailable { .. } => Kind::Unavailable,
            AppError::Internal(cause) => {
                tracing::error!(%cause, "page failed");
                Kind::Internal
            }
        })
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError::new(match error {
            ApiError::Forbidden(_) | ApiError::Unauthorized(_) => Kind::Forbidden,
            ApiError::NotFound(_) | ApiError::Unknown { .. } => Kind::NotFound,
            ApiError::Unavailable { .. } => Kind::Unavailable,
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "page failed");
                Kind::Internal
            }
            other => Kind::Refused(other.to_string()),
        })
    }
}

impl From<sqlx::Error> for PageError {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> Self {
        AppError::internal(error).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            t: self.t,
            nav: None,
            message: self.message(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>Error</p>".to_string());
        (
            self.status(),
            [
                (CONTENT_TYPE, "text/html; charset=utf-8"),
                (CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response()
    }
}

/// Unknown paths outside `/api`: a browser (asking for HTML) gets the not-found page in its
/// language; any other client a bare 404, which the API's middleware answers as a problem
/// document.
pub async fn not_found(headers: axum::http::HeaderMap) -> Response {
    let html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if html {
        PageError::not_found()
            .in_language(crate::i18n::choose(&headers))
            .into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// A request id for commands sent from a page.
pub fn uuid_like() -> String {
    format!("web-{}", crate::session::random_token())
}

/// The message for a refused command: its detail and the rows it names, then that nothing
/// of it was recorded. Unexpected failures say only that.
pub fn refusal(t: &'static Labels, error: AppError) -> String {
    format!("{} {}", refused_because(t, error), t.nothing_recorded)
}

/// What refused a command, without saying what was recorded.
pub fn refused_because(t: &'static Labels, error: AppError) -> String {
    match error {
        AppError::Conflict { detail, errors, .. } | AppError::Invalid { detail, errors, .. } => {
            let rows: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.detail))
                .collect();
            let rows = if rows.is_empty() {
                String::new()
            } else {
                format!(" ({})", rows.join("; "))
            };
            format!("{}: {detail}{rows}.", t.refused)
        }
        AppError::Unavailable { .. } => t.unavailable.to_string(),
        other => {
            tracing::error!(error = %other, "a page's command failed");
            t.internal.to_string()
        }
    }
}
