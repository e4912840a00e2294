//! A session's register as a roll call: `GET /sessions/{id}` shows every student on the
//! roster with one status control each; `POST /sessions/{id}` records what was entered as
//! one all-or-nothing roll call (new marks) plus one correction per changed mark (each with
//! its reason); `POST /sessions/{id}/close` closes the register. A refused form is shown
//! again with what was entered and why nothing was recorded. Staff of the course only:
//! anyone else gets the page of a session that does not exist, as from the JSON API.

use crate::error::{PageError, refusal, uuid_like};
use crate::form::Fields;
use crate::i18n::Catalogue;
use crate::pages::roll_call::{Entered, apply, plan, was_of};
use crate::session::SignedIn;
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::app::register::{self, SessionContext, load_session, load_session_to_write};
use api::app::store;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use domain::register::{Register, RegisterCommand};
use domain::{SessionId, Status, StudentId};
use serde::Deserialize;

/// The register's routes (the mark history's are in `history`, which uses this page's
/// status list).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}", get(show).post(submit))
        .route("/sessions/{id}/close", post(close))
}

/// One student's line of the roll call.
pub struct Line {
    /// Student number.
    pub id: String,
    /// Name (the number once erased).
    pub name: String,
    /// The status when the page was rendered, or empty.
    pub was: &'static str,
    /// The status shown selected.
    pub chosen: String,
    /// The reason entered for a changed mark.
    pub reason: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    session_id: String,
    course: String,
    title: String,
    starts: String,
    state: &'static str,
    cancelled: bool,
    closed: bool,
    unmarked: String,
    rest_present: bool,
    lines: Vec<Line>,
    notice: Option<String>,
    problem: Option<String>,
    statuses: [(&'static str, &'static str); 4],
}

/// `?done=saved|closed` after a successful form.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The session the caller may manage, or the page of a session that does not exist.
pub async fn staff_session(
    state: &AppState,
    page: &SignedIn,
    id: &str,
    to_write: bool,
) -> Result<SessionContext, PageError> {
    let id =
        SessionId::parse(id.to_string()).map_err(|_| PageError::not_found().in_language(page.t))?;
    let ctx = if to_write {
        load_session_to_write(state, id).await
    } else {
        load_session(state, id).await
    };
    let ctx = ctx.map_err(|e| page.fail(e))?;
    page.user
        .require_course_staff(&ctx.course)
        .map_err(|_| PageError::not_found().in_language(page.t))?;
    Ok(ctx)
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let ctx = staff_session(&state, &page, &id, false).await?;
    let notice = match done.done.as_deref() {
        Some("saved") => Some(page.t.saved.to_string()),
        Some("closed") => Some(page.t.closed_done.to_string()),
        _ => None,
    };
    let view = render(&state, &page, &ctx, None, notice, None).await?;
    html(&view)
}

async fn render(
    state: &AppState,
    page: &SignedIn,
    ctx: &SessionContext,
    entered: Option<&Entered>,
    notice: Option<String>,
    problem: Option<String>,
) -> Result<RegisterPage, PageError> {
    let t = page.t;
    let (register, _) = store::load(&state.stores().registers, ctx.session_id.as_str())
        .await
        .map_err(|e| page.fail(e))?;
    let roster: Vec<(StudentId, Option<Status>)> = if register.is_open() {
        register
            .roster
            .iter()
            .map(|(s, m)| (s.clone(), m.as_ref().map(|m| m.status)))
            .collect()
    } else {
        let day = ctx.course.day_of(ctx.session.starts_at);
        ctx.course
            .roster_on(day)
            .into_iter()
            .map(|s| (s, None))
            .collect()
    };
    let ids = roster.iter().map(|(s, _)| s.to_string()).collect();
    let names = projections::students::names(state.pool(), ids)
        .await
        .map_err(|e| page.fail(e))?;
    let lines: Vec<Line> = roster
        .into_iter()
        .map(|(student, status)| {
            let id = student.to_string();
            let name = names
                .get(&id)
                .cloned()
                .flatten()
                .unwrap_or_else(|| id.clone());
            let was = status.map_or("", Status::as_str);
            let (was, chosen, reason) = match entered {
                Some(e) => (
                    was_of(e.was.get(&id).map(String::as_str).unwrap_or(was)),
                    e.chosen.get(&id).cloned().unwrap_or_default(),
                    e.reasons.get(&id).cloned().unwrap_or_default(),
                ),
                None => (was, was.to_string(), String::new()),
            };
            Line {
                id,
                name,
                was,
                chosen,
                reason,
            }
        })
        .collect();
    let unmarked = lines.iter().filter(|l| l.chosen.is_empty()).count();
    Ok(RegisterPage {
        t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        session_id: ctx.session_id.to_string(),
        course: ctx.course_id.to_string(),
        title: ctx.session.title.clone(),
        starts: crate::format::when(t, &ctx.course.time_zone, ctx.session.starts_at),
        state: state_label(t, ctx.session.cancelled, &register),
        cancelled: ctx.session.cancelled,
        closed: register.closed,
        unmarked: crate::format::number(t, unmarked),
        rest_present: entered.is_some_and(|e| e.rest_present),
        lines,
        notice,
        problem,
        statuses: statuses(t),
    })
}

/// The statuses as the controls offer them: stored name and label.
pub fn statuses(t: &'static Catalogue) -> [(&'static str, &'static str); 4] {
    [
        ("present", t.present),
        ("late", t.late),
        ("excused", t.excused),
        ("absent", t.absent),
    ]
}

fn state_label(t: &'static Catalogue, cancelled: bool, register: &Register) -> &'static str {
    match (cancelled, register.is_open(), register.closed) {
        (true, _, _) => t.state_cancelled,
        (_, false, _) => t.state_not_open,
        (_, _, true) => t.state_closed,
        _ => t.state_open,
    }
}

async fn submit(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let ctx = staff_session(&state, &page, &id, true).await?;
    let entered = Entered::read(&form);
    let t = page.t;
    let problem = match plan(&entered) {
        Err(bad) => format!("{}: {bad}", t.refused),
        Ok(plan) if !plan.missing_reasons.is_empty() => {
            let who = plan.missing_reasons.join(", ");
            format!("{} ({who}). {}", t.reason_needed, t.nothing_recorded)
        }
        Ok(plan) => match apply(&state, &page, &ctx, plan).await {
            Ok(()) => {
                let done = format!("/sessions/{}?done=saved", ctx.session_id);
                return Ok(Redirect::to(&done).into_response());
            }
            Err(problem) => problem,
        },
    };
    let view = render(&state, &page, &ctx, Some(&entered), None, Some(problem)).await?;
    html_with(StatusCode::CONFLICT, &view)
}

async fn close(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let ctx = staff_session(&state, &page, &id, false).await?;
    let command = RegisterCommand::CloseRegister {
        by: page.user.actor(),
        at: Utc::now(),
    };
    if let Err(error) = register::execute(&state, &page.user, uuid_like(), &ctx, command).await {
        let view = render(
            &state,
            &page,
            &ctx,
            None,
            None,
            Some(refusal(page.t, error)),
        )
        .await?;
        return html_with(StatusCode::CONFLICT, &view);
    }
    Ok(Redirect::to(&format!("/sessions/{}?done=closed", ctx.session_id)).into_response())
}
