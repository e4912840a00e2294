//! The institution's closed days, for administrators: `GET /admin/calendar` (the days
//! declared, a form to declare more), `POST /admin/calendar/closures` (`action=preview`
//! shows which sessions a declaration would cancel and writes nothing; `action=declare`
//! declares the days and cancels those sessions) and `POST /admin/calendar/closures/{day}/free`
//! (the day is open again). The same use cases as the JSON routes ([`api::app::closures`]).

use crate::error::{PageError, refused_because, uuid_like};
use crate::form::Fields;
use crate::format::{day, number, when};
use crate::i18n::Catalogue;
use crate::pages::admin::admin;
use crate::session::SignedIn;
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::app::closures::{self, Declared};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Duration, NaiveDate, Utc};
use serde::Deserialize;

/// The closed days' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar", get(show))
        .route("/admin/calendar/closures", post(declare))
        .route("/admin/calendar/closures/{day}/free", post(free))
}

/// A declared day as listed.
pub struct DayLine {
    value: String,
    day: String,
    reason: String,
}

/// What a dry run would cancel: its heading, and each session's course, title and start.
type Preview = (String, Vec<(String, String, String)>);

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    days: Vec<DayLine>,
    /// The declaration form as entered: first day, last day, reason.
    entered: (String, String, String),
    /// A preview: what it would cancel (course, title, when).
    preview: Option<Preview>,
    notice: Option<String>,
    problem: Option<(&'static str, String)>,
}

impl CalendarPage {
    fn problem_of(&self, field: &str) -> Option<&String> {
        self.problem
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, p)| p)
    }
}

/// `?done=` after a form.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
    n: Option<usize>,
}

async fn page_of(state: &AppState, page: &SignedIn) -> Result<CalendarPage, PageError> {
    let t = page.t;
    let today = Utc::now().date_naive();
    let from = today - Duration::days(60);
    let to = today + Duration::days(730);
    let listed = closures::list(state.pool(), from, to)
        .await
        .map_err(|e| page.fail(e))?;
    Ok(CalendarPage {
        t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        days: listed
            .into_iter()
            .map(|c| DayLine {
                value: c.day.to_string(),
                day: day(t, c.day),
                reason: c.reason,
            })
            .collect(),
        entered: Default::default(),
        preview: None,
        notice: None,
        problem: None,
    })
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    admin(&page)?;
    let t = page.t;
    let mut view = page_of(&state, &page).await?;
    view.notice = match done.done.as_deref() {
        Some("declared") => Some(
            t.calendar
                .declared
                .replace("{n}", &number(t, done.n.unwrap_or(0))),
        ),
        Some("freed") => Some(t.calendar.day_freed.to_string()),
        _ => None,
    };
    html(&view)
}

/// The form's days and reason, or the problem and its field.
fn checked(
    t: &'static Catalogue,
    form: &Fields,
) -> Result<(NaiveDate, NaiveDate, String), (&'static str, String)> {
    let date = |field: &'static str, text: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| (field, t.calendar.date_invalid.to_string()))
    };
    let from = date("from", &form.text("from"))?;
    let until = match form.text("until").as_str() {
        "" => from,
        text => date("until", text)?,
    };
    if !(0..closures::MAX_DAYS).contains(&(until - from).num_days()) {
        return Err(("until", t.calendar.span_invalid.to_string()));
    }
    let reason = form.text("reason");
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(("reason", t.calendar.reason_needed.to_string()));
    }
    Ok((from, until, reason))
}

async fn declare(
    State(state): State<AppState>,
    page: SignedIn,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let t = page.t;
    let dry_run = form.get("action") != Some("declare");
    let mut view = page_of(&state, &page).await?;
    view.entered = (form.text("from"), form.text("until"), form.text("reason"));
    let (from, until, reason) = match checked(t, &form) {
        Ok(found) => found,
        Err(problem) => {
            view.problem = Some(problem);
            return html_with(StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
    };
    let request = uuid_like();
    match closures::declare(&state, &page.user, request, (from, until), &reason, dry_run).await {
        Ok(done) if dry_run => {
            view.preview = Some(preview(t, &done));
            html(&view)
        }
        Ok(done) => {
            let to = format!("/admin/calendar?done=declared&n={}", done.sessions.len());
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            view.problem = Some(("form", refused_because(t, e)));
            html_with(StatusCode::CONFLICT, &view)
        }
    }
}

/// What a dry run would cancel, said in the page's language.
fn preview(t: &'static Catalogue, done: &Declared) -> Preview {
    let heading = if done.sessions.is_empty() {
        t.calendar.cancels_none.to_string()
    } else {
        t.calendar
            .would_cancel
            .replace("{n}", &number(t, done.sessions.len()))
    };
    let sessions = done
        .sessions
        .iter()
        .map(|s| {
            let scheduled = s.course.sessions.get(&s.session_id);
            let title = scheduled.map(|x| x.title.clone()).unwrap_or_default();
            let at = scheduled
                .map(|x| when(t, &s.course.time_zone, x.starts_at))
                .unwrap_or_else(|| day(t, s.day));
            (s.course_id.to_string(), title, at)
        })
        .collect();
    (heading, sessions)
}

async fn free(
    State(state): State<AppState>,
    page: SignedIn,
    Path(value): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    admin(&page)?;
    let missing = || PageError::not_found().in_language(page.t);
    let date = NaiveDate::parse_from_str(&value, "%Y-%m-%d").map_err(|_| missing())?;
    if !closures::remove(&state, &page.user, date)
        .await
        .map_err(|e| page.fail(e))?
    {
        return Err(missing());
    }
    Ok(Redirect::to("/admin/calendar?done=freed").into_response())
}
