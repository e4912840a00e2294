//! `POST /sessions/{id}/review/{student}`: a person decides a row of a scanned sheet held
//! for review: accept a status (the sheet's reading, or another) or keep what a person
//! recorded. The same use case as `POST /api/sessions/{id}/review/{student_id}`
//! ([`api::app::sheets::decide`]); the course's staff only.

use crate::error::{PageError, uuid_like};
use crate::form::Fields;
use crate::pages::register::staff_session;
use crate::session::SignedIn;
use api::AppState;
use api::app::sheets::{Decision, decide};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use domain::{Status, StudentId};

/// The decision's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/sessions/{id}/review/{student}", post(decide_row))
}

async fn decide_row(
    State(state): State<AppState>,
    page: SignedIn,
    Path((id, student)): Path<(String, String)>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let ctx = staff_session(&state, &page, &id, true).await?;
    let missing = || PageError::not_found().in_language(page.t);
    let student = StudentId::parse(student).map_err(|_| missing())?;
    let decision = if form.get("keep") == Some("yes") {
        Decision::Keep
    } else {
        let value = form.text("status");
        let status = Status::ALL.into_iter().find(|s| s.as_str() == value);
        let status = status
            .ok_or_else(|| PageError::bad_form(page.t.status.to_string()).in_language(page.t))?;
        Decision::Status {
            status,
            reason: None,
        }
    };
    let session = ctx.session_id.clone();
    decide(&state, &page.user, uuid_like(), session, student, decision)
        .await
        .map_err(|e| page.fail(e))?;
    let back = format!("/sessions/{}/sheets?done=decided", ctx.session_id);
    Ok(Redirect::to(&back).into_response())
}
