//! Self check-in pages, over the same use cases as the JSON API (`api::app::check_in`):
//!
//! - `GET /sessions/{id}/check-in` (the course's staff): the form to open check-in, or, while
//!   it is open, the full-screen projector page (the QR code and the short code, renewed
//!   every 15 s by `static/check_in.js`, or by a meta refresh without scripts; how many have
//!   checked in). `POST` opens, `POST /sessions/{id}/check-in/close` closes.
//! - `GET /check-in[/{session}[/{code}]]` (a signed-in student, phone-sized): type the code
//!   (or arrive from the QR code with it filled in) and confirm; `POST /check-in` checks in
//!   and says what happened, with a message of its own for each refusal.

use crate::error::{PageError, uuid_like};
use crate::form::Fields;
use crate::i18n::Catalogue;
use crate::pages::register::staff_session;
use crate::session::SignedIn;
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::app::AppError;
use api::app::check_in::{self, OpenRequest};
use api::app::courses::api_meta;
use api::auth::rate::client_address;
use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::{Duration, Utc};
use domain::{SessionId, Status};
use std::net::SocketAddr;

/// The check-in pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/check-in", get(show).post(open))
        .route("/sessions/{id}/check-in/close", post(close))
        .route("/check-in", get(student).post(submit))
        .route("/check-in/{session}", get(student_session))
        .route("/check-in/{session}/{code}", get(student_code))
}

#[derive(Template)]
#[template(path = "check_in_open.html")]
struct OpenPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    session_id: String,
    title: String,
    course: String,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "check_in_projector.html")]
struct ProjectorPage {
    t: &'static Catalogue,
    csrf: String,
    session_id: String,
    title: String,
    course: String,
    /// The code's first and last three digits, shown apart.
    code: (String, String),
    seconds_left: i64,
    qr_svg: String,
    url: String,
    checked_in: usize,
    roster: usize,
    until: String,
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let ctx = staff_session(&state, &page, &id, false).await?;
    let url = &state.config().public_url;
    let (stores, pool) = (state.stores(), state.pool());
    match check_in::current_code(stores, pool, &page.user, &ctx, url, Utc::now()).await {
        Ok(shown) => html(&ProjectorPage {
            t: page.t,
            csrf: page.csrf.clone(),
            session_id: ctx.session_id.to_string(),
            title: ctx.session.title.clone(),
            course: ctx.course_id.to_string(),
            code: (shown.code[..3].to_string(), shown.code[3..].to_string()),
            seconds_left: shown.seconds_left,
            qr_svg: shown.qr_svg,
            url: shown.url,
            checked_in: shown.checked_in,
            roster: shown.roster,
            until: ctx
                .course
                .time_zone
                .show(shown.window.closes_at)
                .format("%H:%M")
                .to_string(),
        }),
        Err(AppError::Conflict { .. }) => html(&open_page(&page, &ctx, None)),
        Err(other) => Err(page.fail(other)),
    }
}

fn open_page(
    page: &SignedIn,
    ctx: &api::app::register::SessionContext,
    problem: Option<String>,
) -> OpenPage {
    OpenPage {
        t: page.t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        session_id: ctx.session_id.to_string(),
        title: ctx.session.title.clone(),
        course: ctx.course_id.to_string(),
        problem,
    }
}

async fn open(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let ctx = staff_session(&state, &page, &id, true).await?;
    let now = Utc::now();
    let number = |name: &str| form.text(name).trim().parse::<u32>();
    let minutes = number("minutes").ok().filter(|m| (1..=600).contains(m));
    let late = match form.text("late_after").trim() {
        "" => Ok(None),
        text => text.parse::<u32>().map(Some),
    };
    let (Some(minutes), Ok(late_after_minutes)) = (minutes, late) else {
        let problem = Some(page.t.check_in_bad_numbers.to_string());
        return html_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &open_page(&page, &ctx, problem),
        );
    };
    let networks = form
        .text("networks")
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    let ask = OpenRequest {
        opens_at: None,
        closes_at: Some(now + Duration::minutes(i64::from(minutes))),
        late_after_minutes,
        networks,
    };
    let meta = api_meta(&page.user, uuid_like(), &ctx.course_id);
    let (stores, pool) = (state.stores(), state.pool());
    match check_in::open(stores, pool, &page.user, &meta, &ctx, ask, now).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/sessions/{}/check-in", ctx.session_id)).into_response())
        }
        Err(error) => {
            let problem = Some(crate::error::refusal(page.t, error));
            html_with(StatusCode::CONFLICT, &open_page(&page, &ctx, problem))
        }
    }
}

async fn close(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let ctx = staff_session(&state, &page, &id, true).await?;
    let meta = api_meta(&page.user, uuid_like(), &ctx.course_id);
    check_in::close(state.stores(), &page.user, &meta, &ctx, Utc::now())
        .await
        .map_err(|e| page.fail(e))?;
    Ok(Redirect::to(&format!("/sessions/{}", ctx.session_id)).into_response())
}

#[derive(Template)]
#[template(path = "check_in_student.html")]
struct StudentPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    /// Today's sessions of the student: id and "course · title · time".
    sessions: Vec<(String, String)>,
    chosen: String,
    code: String,
    /// What happened: a success (`true`) or a refusal, and the message.
    outcome: Option<(bool, String)>,
}

async fn student(state: State<AppState>, page: SignedIn) -> Result<Response, PageError> {
    student_page(state, page, String::new(), String::new()).await
}

async fn student_session(
    state: State<AppState>,
    page: SignedIn,
    Path(session): Path<String>,
) -> Result<Response, PageError> {
    student_page(state, page, session, String::new()).await
}

async fn student_code(
    state: State<AppState>,
    page: SignedIn,
    Path((session, code)): Path<(String, String)>,
) -> Result<Response, PageError> {
    student_page(state, page, session, code).await
}

async fn student_page(
    State(state): State<AppState>,
    page: SignedIn,
    chosen: String,
    code: String,
) -> Result<Response, PageError> {
    let view = student_view(&state, &page, chosen, code, None).await?;
    html(&view)
}

async fn student_view(
    state: &AppState,
    page: &SignedIn,
    chosen: String,
    code: String,
    outcome: Option<(bool, String)>,
) -> Result<StudentPage, PageError> {
    if page.user.student_id.is_none() {
        return Err(PageError::forbidden().in_language(page.t));
    }
    let today = Utc::now().date_naive();
    let listed = api::app::whats_on::sessions_of(state, &page.user, today, today)
        .await
        .map_err(|e| page.fail(e))?;
    let mut sessions: Vec<(String, String)> = listed
        .iter()
        .map(|l| {
            let session = &l.course.sessions[&l.session_id];
            let at = l.course.time_zone.show(session.starts_at).format("%H:%M");
            let course = l
                .course
                .id
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default();
            (
                l.session_id.to_string(),
                format!("{course} · {} · {at}", session.title),
            )
        })
        .collect();
    if !chosen.is_empty() && !sessions.iter().any(|(id, _)| *id == chosen) {
        sessions.insert(0, (chosen.clone(), chosen.clone()));
    }
    Ok(StudentPage {
        t: page.t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        sessions,
        chosen,
        code: code.chars().filter(char::is_ascii_digit).take(6).collect(),
        outcome,
    })
}

async fn submit(
    State(state): State<AppState>,
    page: SignedIn,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let t = page.t;
    let chosen = form.text("session");
    let code = form.text("code");
    let Ok(session) = SessionId::parse(chosen.trim().to_string()) else {
        let outcome = Some((false, t.check_in_choose_session.to_string()));
        let view = student_view(&state, &page, chosen, code, outcome).await?;
        return html_with(StatusCode::UNPROCESSABLE_ENTITY, &view);
    };
    let trusted = state.limits().config.trusted_proxy_header.as_deref();
    let address = client_address(&headers, peer.map(|Extension(ConnectInfo(a))| a), trusted);
    let done = check_in::check_in(&state, &page.user, uuid_like(), session, &code, address).await;
    let (status, outcome) = match done {
        Ok(done) if !done.recorded => (StatusCode::OK, (true, t.check_in_already.to_string())),
        Ok(done) if done.status == Status::Late => {
            (StatusCode::OK, (true, t.check_in_done_late.to_string()))
        }
        Ok(_) => (StatusCode::OK, (true, t.check_in_done_present.to_string())),
        Err(error) => refused(t, error)?,
    };
    let code = if outcome.0 { String::new() } else { code };
    let view = student_view(&state, &page, chosen, code, Some(outcome)).await?;
    html_with(status, &view)
}

/// A refusal as the student is told it, in their language.
fn refused(
    t: &'static Catalogue,
    error: AppError,
) -> Result<(StatusCode, (bool, String)), PageError> {
    let (status, message) = match &error {
        AppError::TooMany { .. } => (StatusCode::TOO_MANY_REQUESTS, t.check_in_attempts),
        AppError::Invalid { code, .. } | AppError::Conflict { code, .. } => {
            let message = match *code {
                "check_in_code_wrong" => t.check_in_wrong,
                "check_in_code_expired" => t.check_in_expired,
                "check_in_not_open" => t.check_in_not_open,
                "check_in_not_yet_open" => t.check_in_not_yet_open,
                "check_in_closed" => t.check_in_closed,
                "check_in_network" => t.check_in_network,
                "marked_by_staff" => t.check_in_marked_by_staff,
                "not_on_roster" | "removed_from_roster" => t.check_in_not_on_roster,
                _ => {
                    return Ok((
                        StatusCode::CONFLICT,
                        (false, crate::error::refusal(t, error)),
                    ));
                }
            };
            (StatusCode::CONFLICT, message)
        }
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, t.check_in_wrong),
        _ => return Err(PageError::from(error).in_language(t)),
    };
    Ok((status, (false, message.to_string())))
}
