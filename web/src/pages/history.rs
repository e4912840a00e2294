//! A mark's history, `GET /sessions/{id}/students/{student}`: every value the student's
//! mark has had, with who set it, when, how and why (the course's staff, and the student
//! themself); and, for staff, `POST` the same path to correct the mark with a reason.

use crate::error::PageError;
use crate::error::{refusal, uuid_like};
use crate::form::Fields;
use crate::i18n::Catalogue;
use crate::pages::register::statuses;
use crate::session::SignedIn;
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::app::register::{self, SessionContext, load_session, load_session_to_write};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use domain::register::RegisterCommand;
use domain::{Method, SessionId, Status, StudentId};
use event_store::outbox::StoredEvent;
use serde_json::Value;

/// The history's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/sessions/{id}/students/{student}", get(show).post(correct))
}

/// One value the mark had.
pub struct Entry {
    /// When it was taken, `2026-09-07 09:05:12`.
    pub at: String,
    /// The status, as a label.
    pub status: &'static str,
    /// The status before, for corrections.
    pub previous: Option<&'static str>,
    /// Who (username, or the user id if the account is gone).
    pub by: String,
    /// How: manual, bulk, sheet, close.
    pub how: String,
    /// Why (corrections).
    pub why: String,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    session_id: String,
    title: String,
    student: String,
    name: String,
    entries: Vec<Entry>,
    staff: bool,
    statuses: [(&'static str, &'static str); 4],
    problem: Option<String>,
    reason: String,
}

/// The session and student, if the caller may read this mark: staff of the course, or
/// the student. Anyone else gets the page of a mark that does not exist.
async fn readable(
    state: &AppState,
    page: &SignedIn,
    id: &str,
    student: &str,
    to_write: bool,
) -> Result<(SessionContext, StudentId), PageError> {
    let missing = || PageError::not_found().in_language(page.t);
    let session = SessionId::parse(id.to_string()).map_err(|_| missing())?;
    let student = StudentId::parse(student.to_string()).map_err(|_| missing())?;
    let ctx = if to_write {
        load_session_to_write(state, session).await
    } else {
        load_session(state, session).await
    };
    let ctx = ctx.map_err(|e| page.fail(e))?;
    let staff = page.user.is_course_staff(&ctx.course);
    // Students read their own mark; only staff correct it.
    let allowed = staff || (page.user.is_student(&student) && !to_write);
    if !allowed {
        return Err(missing());
    }
    Ok((ctx, student))
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Path((id, student)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (ctx, student) = readable(&state, &page, &id, &student, false).await?;
    html(&history_page(&state, &page, &ctx, &student, None, String::new()).await?)
}

async fn history_page(
    state: &AppState,
    page: &SignedIn,
    ctx: &SessionContext,
    student: &StudentId,
    problem: Option<String>,
    reason: String,
) -> Result<HistoryPage, PageError> {
    let stored = projections::audit::register_events(state.pool(), ctx.session_id.as_str())
        .await
        .map_err(|e| page.fail(e))?;
    let zone = &ctx.course.time_zone;
    let entries = entries(state, page.t, zone, &stored, student.as_str())
        .await
        .map_err(|e| page.fail(e))?;
    let names = projections::students::names(state.pool(), vec![student.to_string()])
        .await
        .map_err(|e| page.fail(e))?;
    Ok(HistoryPage {
        t: page.t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        session_id: ctx.session_id.to_string(),
        title: ctx.session.title.clone(),
        student: student.to_string(),
        name: names
            .get(student.as_str())
            .cloned()
            .flatten()
            .unwrap_or_else(|| student.to_string()),
        entries,
        staff: page.user.is_course_staff(&ctx.course),
        statuses: statuses(page.t),
        problem,
        reason,
    })
}

/// The student's entries among a register's events, oldest first, with usernames.
async fn entries(
    state: &AppState,
    t: &'static Catalogue,
    zone: &domain::Zone,
    events: &[StoredEvent],
    student: &str,
) -> Result<Vec<Entry>, sqlx::Error> {
    let mut ids: Vec<String> = events
        .iter()
        .filter_map(|e| e.meta("user_id").map(str::to_string))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let usernames = api::auth::users::usernames(state.pool(), &ids).await?;
    Ok(events
        .iter()
        .filter_map(|event| {
            let data = event.payload.get(&event.event_type)?;
            let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_string);
            let mine = text("student_id").as_deref() == Some(student);
            let (status, previous, how) = match event.event_type.as_str() {
                "AttendanceRecorded" if mine => (text("status")?, None, text("method")),
                "AttendanceCorrected" if mine => {
                    (text("new_status")?, text("old_status"), text("method"))
                }
                "RegisterClosed" => {
                    let defaulted = data.get("defaulted_absent")?.as_array()?;
                    defaulted.iter().any(|s| s == student).then_some(())?;
                    ("absent".to_string(), None, Some("close".to_string()))
                }
                _ => return None,
            };
            let user = event.meta("user_id").unwrap_or_default();
            Some(Entry {
                at: crate::format::when(t, zone, at_of(text("at"), event.recorded_at)),
                status: t.status_label(&status),
                previous: previous.map(|p| t.status_label(&p)),
                by: usernames
                    .get(user)
                    .cloned()
                    .unwrap_or_else(|| user.to_string()),
                how: how.unwrap_or_default(),
                why: text("reason").unwrap_or_default(),
            })
        })
        .collect())
}

async fn correct(
    State(state): State<AppState>,
    page: SignedIn,
    Path((id, student)): Path<(String, String)>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let (ctx, student) = readable(&state, &page, &id, &student, true).await?;
    let reason = form.text("reason");
    let status = Status::ALL
        .into_iter()
        .find(|s| Some(s.as_str()) == form.get("status"));
    let problem = match status.filter(|_| !reason.is_empty() && reason.len() <= 500) {
        None => format!("{}. {}", page.t.reason_needed, page.t.nothing_recorded),
        Some(status) => {
            let command = RegisterCommand::CorrectAttendance {
                student_id: student.clone(),
                status,
                reason: reason.clone(),
                method: Method::Manual,
                by: page.user.actor(),
                at: Utc::now(),
            };
            match register::execute(&state, &page.user, uuid_like(), &ctx, command).await {
                Ok(_) => {
                    let back = format!("/sessions/{}/students/{}", ctx.session_id, student);
                    return Ok(Redirect::to(&back).into_response());
                }
                Err(error) => refusal(page.t, error),
            }
        }
    };
    let view = history_page(&state, &page, &ctx, &student, Some(problem), reason).await?;
    html_with(StatusCode::CONFLICT, &view)
}

/// When a mark was taken: the instant the event names, else when it was stored.
fn at_of(named: Option<String>, recorded_at: DateTime<Utc>) -> DateTime<Utc> {
    named
        .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
        .map_or(recorded_at, |at| at.with_timezone(&Utc))
}
