//! Who is asking, for the pages: the token kept in a `__Host-` cookie (HttpOnly, Secure,
//! SameSite=Lax), checked by the same code as the JSON API's bearer token
//! ([`api::auth::user_of_token`]), and the per-form CSRF token derived from it.

use crate::error::PageError;
use crate::i18n::{self, Catalogue};
use api::AppState;
use api::auth::{CurrentUser, Session};
use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

/// The cookie holding the signed-in token.
pub const SESSION_COOKIE: &str = "__Host-attendance";
/// The cookie holding the sign-in form's token, before anyone is signed in.
pub const SIGN_IN_COOKIE: &str = "__Host-attendance-signin";
/// The form field every unsafe request carries.
pub const CSRF_FIELD: &str = "csrf";

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value for a `__Host-` cookie (`max_age` 0 removes it).
pub fn set_cookie(name: &str, value: &str, max_age: u64) -> HeaderValue {
    let text = format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    HeaderValue::from_str(&text).expect("cookie values are tokens")
}

/// The form token of a signed-in browser: a digest of its session token, so a page of
/// another site, which cannot read the HttpOnly cookie, cannot know it.
pub fn form_token(session_token: &str) -> String {
    let digest = Sha256::digest(format!("csrf\0{session_token}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A fresh random token for the sign-in form.
pub fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The page where an account that must change its password is sent from every other page.
pub const PASSWORD_PAGE: &str = "/account/password";

/// A request to a page: its language, and who is signed in (if anyone).
pub struct Visitor {
    /// The labels in the request's language.
    pub t: &'static Catalogue,
    /// The signed-in account's session, if the cookie holds a valid token (also one that
    /// must change its password first: see [`Session::must_change_password`]).
    pub session: Option<Session>,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let t = i18n::choose(&parts.headers);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(Visitor { t, session: None });
        };
        match api::auth::session_of_token(state, token).await {
            Ok(session) => Ok(Visitor {
                t,
                session: Some(session),
            }),
            Err(api::error::ApiError::Unauthorized(_)) => Ok(Visitor { t, session: None }),
            Err(other) => Err(PageError::from(other).in_language(t)),
        }
    }
}

/// A request from a signed-in account, also one that must change its password first: only
/// for its own password page and signing out. Anyone else is sent to the sign-in page.
pub struct OwnAccount {
    /// The labels in the request's language.
    pub t: &'static Catalogue,
    /// The account's session (its token and whether it must change its password).
    pub session: Session,
    /// The form token every form of the page carries.
    pub csrf: String,
}

impl OwnAccount {
    /// Refuses a form whose token is not this session's.
    pub fn check_form(&self, form: &crate::form::Fields) -> Result<(), PageError> {
        check_token(self.t, &self.csrf, form)
    }
}

fn check_token(
    t: &'static Catalogue,
    csrf: &str,
    form: &crate::form::Fields,
) -> Result<(), PageError> {
    if form.get(CSRF_FIELD) == Some(csrf) {
        Ok(())
    } else {
        Err(PageError::csrf().in_language(t))
    }
}

/// A request from a signed-in account; anyone else is sent to the sign-in page, and an
/// account that must change its password first to [`PASSWORD_PAGE`].
pub struct SignedIn {
    /// The labels in the request's language.
    pub t: &'static Catalogue,
    /// The account.
    pub user: CurrentUser,
    /// The form token every form of the page carries.
    pub csrf: String,
}

impl SignedIn {
    /// Refuses a form whose token is not this session's.
    pub fn check_form(&self, form: &crate::form::Fields) -> Result<(), PageError> {
        check_token(self.t, &self.csrf, form)
    }

    /// An error page in this request's language.
    pub fn fail(&self, error: impl Into<PageError>) -> PageError {
        error.into().in_language(self.t)
    }
}

/// The answer to a page asked for without a session: the sign-in page, then back here.
pub struct ToSignIn(String);

impl IntoResponse for ToSignIn {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/sign-in?next={}", self.0)).into_response()
    }
}

impl FromRequestParts<AppState> for OwnAccount {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let visitor = Visitor::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match visitor.session {
            Some(session) => Ok(OwnAccount {
                t: visitor.t,
                csrf: form_token(&session.token),
                session,
            }),
            None => {
                let mut response =
                    ToSignIn(crate::form::next_path(parts.uri.path())).into_response();
                // A stale cookie is dropped rather than sent again and again.
                response
                    .headers_mut()
                    .append(SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0));
                Err(response)
            }
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let own = OwnAccount::from_request_parts(parts, state).await?;
        if own.session.must_change_password {
            return Err(Redirect::to(PASSWORD_PAGE).into_response());
        }
        Ok(SignedIn {
            t: own.t,
            user: own.session.user,
            csrf: own.csrf,
        })
    }
}
