//! `GET /account/password` and `POST /account/password`: a signed-in person changes their
//! own password (the current one, the new one twice), with the policy's rule next to the
//! field in their language. The only page, with signing out, open to an account that must
//! replace a one-time password (every other page sends it here). The same use case as
//! `POST /api/auth/password` ([`api::auth::account::change_own_password`]): every earlier
//! token stops working, so the browser gets a fresh session cookie.

use crate::error::PageError;
use crate::form::Fields;
use crate::i18n::Catalogue;
use crate::session::{OwnAccount, PASSWORD_PAGE, SESSION_COOKIE, set_cookie};
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::auth::account::change_own_password;
use api::auth::password::weakness;
use api::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

/// The own-account routes.
pub fn routes() -> Router<AppState> {
    Router::new().route(PASSWORD_PAGE, get(show).post(change))
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    must_change: bool,
    changed: bool,
    /// The fields: name, label, `autocomplete`.
    fields: [(&'static str, &'static str, &'static str); 3],
    /// The problem and the field it is about (`form` for the whole form).
    problem: Option<(&'static str, String)>,
}

impl PasswordPage {
    fn new(page: &OwnAccount, problem: Option<(&'static str, String)>) -> Self {
        let t = page.t;
        PasswordPage {
            t,
            nav: Nav::own(page),
            csrf: page.csrf.clone(),
            must_change: page.session.must_change_password,
            changed: false,
            fields: [
                (
                    "current_password",
                    t.account.current_password,
                    "current-password",
                ),
                ("new_password", t.account.new_password, "new-password"),
                ("repeat_password", t.account.repeat_password, "new-password"),
            ],
            problem,
        }
    }

    fn problem_of(&self, field: &str) -> Option<&String> {
        self.problem
            .as_ref()
            .filter(|(f, _)| *f == field)
            .map(|(_, p)| p)
    }
}

/// `?done=changed` after a change.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn show(page: OwnAccount, Query(done): Query<Done>) -> Result<Response, PageError> {
    let mut view = PasswordPage::new(&page, None);
    view.changed = done.done.as_deref() == Some("changed") && !view.must_change;
    html(&view)
}

/// What is wrong with the form before the current password is checked, and its field.
fn precheck(
    t: &'static Catalogue,
    username: &str,
    form: &Fields,
) -> Option<(&'static str, String)> {
    let current = form.get("current_password").unwrap_or("");
    let new = form.get("new_password").unwrap_or("");
    if current.is_empty() {
        return Some(("current_password", t.account.wrong_password.to_string()));
    }
    if let Some(rule) = weakness(new, username) {
        let said = t.account.weakness(rule, |n| crate::format::number(t, n));
        return Some(("new_password", said));
    }
    if form.get("repeat_password").unwrap_or("") != new {
        return Some(("repeat_password", t.account.repeat_differs.to_string()));
    }
    if new == current {
        return Some(("new_password", t.account.must_differ.to_string()));
    }
    None
}

async fn change(
    State(state): State<AppState>,
    page: OwnAccount,
    form: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form)?;
    let t = page.t;
    let problem = match precheck(t, &page.session.user.username, &form) {
        Some(problem) => problem,
        None => {
            let current = form.get("current_password").unwrap_or("").to_string();
            let new = form.get("new_password").unwrap_or("").to_string();
            match change_own_password(&state, &page.session, current, new).await {
                Ok((token, _)) => return Ok(signed_in_again(&state, &token)),
                Err(ApiError::Invalid {
                    code: "wrong_password",
                    ..
                }) => ("current_password", t.account.wrong_password.to_string()),
                Err(ApiError::TooManyAttempts { .. }) => ("form", t.too_many_attempts.to_string()),
                Err(other) => return Err(PageError::from(other).in_language(t)),
            }
        }
    };
    let status = if problem.0 == "form" {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with(status, &PasswordPage::new(&page, Some(problem)))
}

/// The answer to a change: the fresh token in the session cookie (the old one no longer
/// works), then the page saying it is done.
fn signed_in_again(state: &AppState, token: &str) -> Response {
    let ttl = state.jwt().ttl().as_secs();
    let mut response = Redirect::to(&format!("{PASSWORD_PAGE}?done=changed")).into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(SESSION_COOKIE, token, ttl));
    response
}
