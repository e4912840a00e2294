//! `GET /sessions/{id}/sheet.pdf`: the session's printable bubble sheet, for the course's
//! staff, from the same use case as `GET /api/sessions/{id}/sheet.pdf` (its roster and
//! names, `app::sheets`), rendered off the async threads.

use crate::error::PageError;
use crate::pages::register::staff_session;
use crate::session::SignedIn;
use api::AppState;
use api::app::AppError;
use api::app::sheets::sheet_info;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The sheet's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/sessions/{id}/sheet.pdf", get(sheet))
}

async fn sheet(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let ctx = staff_session(&state, &page, &id, false).await?;
    let info = sheet_info(&state, &ctx).await.map_err(|e| page.fail(e))?;
    let (pdf, _) = tokio::task::spawn_blocking(move || sheets::generate::sheet_pdf(&info))
        .await
        .map_err(|e| page.fail(AppError::internal(e)))?
        .map_err(|e| page.fail(AppError::internal(e)))?;
    let name = format!("attachment; filename=\"sheet-{}.pdf\"", ctx.session_id);
    let disposition = HeaderValue::from_str(&name).map_err(|e| page.fail(AppError::internal(e)))?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        pdf,
    )
        .into_response())
}
