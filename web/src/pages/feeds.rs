//! `GET /calendar/feeds`: a signed-in person's calendar feeds (secret addresses a calendar
//! app subscribes to); `POST /calendar/feeds` creates one (their own sessions, or one course
//! they may read; its address is shown on the answer, this once); `POST
//! /calendar/feeds/{id}/revoke` revokes one. The same use cases as `/api/calendar/feeds`
//! ([`api::app::feeds`]).

use crate::error::{PageError, refused_because};
use crate::form::Fields;
use crate::format::when;
use crate::i18n::Catalogue;
use crate::session::SignedIn;
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::app::access::visible_courses;
use api::app::feeds;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::{CourseId, Role};
use serde::Deserialize;

/// The feeds' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/calendar/feeds", get(show).post(create))
        .route("/calendar/feeds/{id}/revoke", post(revoke))
}

/// A feed as listed.
pub struct FeedLine {
    id: String,
    lists: String,
    created: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "feeds.html")]
struct FeedsPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    feeds: Vec<FeedLine>,
    /// The courses a feed may list: code and name.
    courses: Vec<(String, String)>,
    /// Whether "my sessions" is offered (not to administrators).
    own: bool,
    /// A feed's address just created, shown this once.
    url: Option<String>,
    notice: Option<&'static str>,
    problem: Option<String>,
}

/// `?done=revoked` after revoking.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn page_of(state: &AppState, page: &SignedIn) -> Result<FeedsPage, PageError> {
    let t = page.t;
    let zone = &state.config().time_zone;
    let listed = feeds::list(state, &page.user)
        .await
        .map_err(|e| page.fail(e))?;
    let courses = visible_courses(state, &page.user)
        .await
        .map_err(|e| page.fail(e))?
        .into_iter()
        .filter_map(|(c, _)| Some((c.id.as_ref()?.to_string(), c.details.name.clone())))
        .collect();
    Ok(FeedsPage {
        t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        feeds: listed
            .into_iter()
            .map(|f| FeedLine {
                lists: f
                    .course_id
                    .map_or_else(|| t.calendar.my_sessions.to_string(), |c| c.to_string()),
                created: when(t, zone, f.created_at),
                active: f.revoked_at.is_none(),
                id: f.id,
            })
            .collect(),
        courses,
        own: page.user.role != Role::Admin,
        url: None,
        notice: None,
        problem: None,
    })
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let mut view = page_of(&state, &page).await?;
    if done.done.as_deref() == Some("revoked") {
        view.notice = Some(page.t.calendar.feed_revoked);
    }
    html(&view)
}

async fn create(
    State(state): State<AppState>,
    page: SignedIn,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let t = page.t;
    let course = match form.text("course").as_str() {
        "" => None,
        code => Some(
            CourseId::parse(code.to_string()).map_err(|_| PageError::not_found().in_language(t))?,
        ),
    };
    if course.is_none() && page.user.role == Role::Admin {
        let mut view = page_of(&state, &page).await?;
        view.problem = Some(t.calendar.admin_names_course.to_string());
        return html_with(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    match feeds::create(&state, &page.user, course).await {
        Ok(created) => {
            let mut view = page_of(&state, &page).await?;
            let base = &state.config().public_url;
            view.url = Some(format!("{base}/api/calendar/ics/{}.ics", created.token));
            html_with(StatusCode::CREATED, &view)
        }
        Err(e) => {
            let mut view = page_of(&state, &page).await?;
            view.problem = Some(refused_because(t, e));
            html_with(StatusCode::UNPROCESSABLE_ENTITY, &view)
        }
    }
}

async fn revoke(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    feeds::revoke(&state, &page.user, &id)
        .await
        .map_err(|e| page.fail(e))?;
    Ok(Redirect::to("/calendar/feeds?done=revoked").into_response())
}
