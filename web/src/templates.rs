//! What every page shares: the navigation bar of the signed-in account, the error page, and
//! rendering a template as an HTML answer.

use crate::error::PageError;
use crate::i18n::Catalogue;
use crate::session::{OwnAccount, SignedIn};
use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use domain::Role;

/// The navigation bar: who is signed in, the sign-out form, the links their role may use.
pub struct Nav {
    /// The account's username.
    pub username: String,
    /// The form token for the sign-out form.
    pub csrf: String,
    /// Whether the administration links show.
    pub admin: bool,
    /// Whether the staff's links show (the early warning's page).
    pub staff: bool,
    /// Whether the account must change its password first (only that page and signing
    /// out are open to it, so no other link shows).
    pub limited: bool,
}

impl Nav {
    /// The bar for a signed-in request.
    pub fn of(page: &SignedIn) -> Option<Nav> {
        Some(Nav {
            username: page.user.username.clone(),
            csrf: page.csrf.clone(),
            admin: page.user.role == Role::Admin,
            staff: page.user.role != Role::Student,
            limited: false,
        })
    }

    /// The bar for the own-account pages, also open to an account that must change its
    /// password first.
    pub fn own(page: &OwnAccount) -> Option<Nav> {
        let limited = page.session.must_change_password;
        Some(Nav {
            username: page.session.user.username.clone(),
            csrf: page.csrf.clone(),
            admin: page.session.user.role == Role::Admin && !limited,
            staff: page.session.user.role != Role::Student && !limited,
            limited,
        })
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Labels.
    pub t: &'static Catalogue,
    /// No navigation: the failure may be that nobody is signed in.
    pub nav: Option<Nav>,
    /// What went wrong, as the person is told.
    pub message: String,
}

/// Renders a page as a `text/html` answer that is never cached (it holds personal data).
pub fn html(page: &impl Template) -> Result<Response, PageError> {
    html_with(axum::http::StatusCode::OK, page)
}

/// Renders a page with a status of its own (a form shown again after a refusal).
pub fn html_with(
    status: axum::http::StatusCode,
    page: &impl Template,
) -> Result<Response, PageError> {
    let body = page.render()?;
    Ok((
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}
