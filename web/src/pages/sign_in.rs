//! `GET /sign-in`, `POST /sign-in` and `POST /sign-out`: the same accounts and the same
//! checks as the JSON login ([`api::auth::sign_in`]); the token goes into an HttpOnly
//! `__Host-` cookie, and signing out revokes it.

use crate::error::PageError;
use crate::form::{Fields, next_path};
use crate::i18n::Catalogue;
use crate::session::{
    self, CSRF_FIELD, OwnAccount, PASSWORD_PAGE, SESSION_COOKIE, SIGN_IN_COOKIE, Visitor,
    set_cookie,
};
use crate::templates::{Nav, html_with};
use api::AppState;
use api::error::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The sign-in page.
#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    next: String,
    username: String,
    message: Option<&'static str>,
}

/// Where to go after signing in.
#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// The form, with a fresh form token in its own cookie (double submit: a page of another
/// site can neither read the cookie nor set it).
pub async fn show(visitor: Visitor, Query(q): Query<Next>) -> Result<Response, PageError> {
    let next = next_path(q.next.as_deref().unwrap_or("/"));
    if visitor.session.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    form(visitor.t, next, String::new(), None, StatusCode::OK)
}

fn form(
    t: &'static Catalogue,
    next: String,
    username: String,
    message: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let csrf = session::random_token();
    let page = SignInPage {
        t,
        nav: None,
        csrf: csrf.clone(),
        next,
        username,
        message,
    };
    let mut response = html_with(status, &page)?;
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(SIGN_IN_COOKIE, &csrf, 3600));
    Ok(response)
}

/// Checks the credentials; on success sets the session cookie and goes on to `next`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    visitor: Visitor,
    form_fields: Fields,
) -> Result<Response, PageError> {
    let t = visitor.t;
    let expected = session::cookie(&headers, SIGN_IN_COOKIE);
    if expected.is_none() || form_fields.get(CSRF_FIELD) != expected {
        return Err(PageError::csrf().in_language(t));
    }
    let next = next_path(form_fields.get("next").unwrap_or("/"));
    let username = form_fields.text("username");
    let password = form_fields.get("password").unwrap_or("").to_string();
    let refused = |message| {
        form(
            t,
            next.clone(),
            username.clone(),
            Some(message),
            StatusCode::UNAUTHORIZED,
        )
    };
    match api::auth::sign_in::sign_in(&state, &username, password).await {
        Ok((token, user)) => {
            let ttl = state.jwt().ttl().as_secs();
            // A one-time password (a reset, an import) may only be replaced.
            let next = if user.must_change_password {
                PASSWORD_PAGE
            } else {
                next.as_str()
            };
            let mut response = Redirect::to(next).into_response();
            let cookies = response.headers_mut();
            cookies.append(SET_COOKIE, set_cookie(SESSION_COOKIE, &token, ttl));
            cookies.append(SET_COOKIE, set_cookie(SIGN_IN_COOKIE, "", 0));
            Ok(response)
        }
        Err(ApiError::Unauthorized(_)) => refused(t.wrong_credentials),
        Err(ApiError::TooManyAttempts { .. }) => refused(t.too_many_attempts),
        Err(other) => Err(PageError::from(other).in_language(t)),
    }
}

/// Revokes the session's token and removes the cookie (also for an account that must
/// change its password first).
pub async fn sign_out(
    State(state): State<AppState>,
    page: OwnAccount,
    form_fields: Fields,
) -> Result<Response, PageError> {
    page.check_form(&form_fields)?;
    api::auth::account::sign_out(&state, &page.session)
        .await
        .map_err(|e| PageError::from(e).in_language(page.t))?;
    let mut response = Redirect::to("/sign-in").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0));
    Ok(response)
}
