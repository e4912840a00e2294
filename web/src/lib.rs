//! The attendance system's web pages, served by `attendance serve` at `/` beside the JSON
//! API (which stays under `/api`). Server-rendered HTML (askama templates in `templates/`)
//! that works as plain forms; a little script of our own (`static/app.js`) makes the roll
//! call faster by keyboard. Every page is a leaf: it reads who is asking ([`session`]),
//! authorizes and acts through the same application layer as the JSON API (`api::app`:
//! `access`, `courses`, `register`, ...), and renders labels from the catalogue ([`i18n`]).
//!
//! - [`session`]: the `__Host-` session cookie, the per-form token; [`guard`]: cross-site
//!   requests refused, the pages' content policy; [`form`]: reading forms.
//! - [`pages`]: one module per area (sign-in, home, register, history, course, admin).
//! - [`live`]: the process's one subscription to the event stream, fanned out to open pages.
//! - [`error`]: error pages that never show internals; [`assets`]: embedded static files.

pub mod assets;
pub mod error;
pub mod form;
pub mod format;
pub mod guard;
pub mod i18n;
pub mod live;
pub mod pages;
pub mod session;
pub mod templates;

use api::AppState;
use axum::middleware;
use axum::routing::{get, post};
use axum::{Extension, Router};

/// The pages, to be served beside the JSON API (see `api::router_with`), with the answer
/// to unknown paths outside `/api`; `live` is the process's feed of changes that open
/// pages listen to (started by the caller, see [`live::Hub::run`]).
pub fn pages(live: live::Hub) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home::show))
        .route(
            "/sign-in",
            get(pages::sign_in::show).post(pages::sign_in::submit),
        )
        .route("/sign-out", post(pages::sign_in::sign_out))
        .route("/static/{file}", get(assets::serve))
        .merge(pages::account::routes())
        .merge(pages::register::routes())
        .merge(pages::history::routes())
        .merge(pages::course::routes())
        .merge(pages::admin::routes())
        .merge(pages::students::routes())
        .merge(pages::live::routes())
        .merge(pages::reports::routes())
        .merge(pages::health::routes())
        .merge(pages::policy::routes())
        .merge(pages::users::routes())
        .merge(pages::sheet::routes())
        .merge(pages::warnings::routes())
        .merge(pages::sheet_job::routes())
        .merge(pages::review::routes())
        .merge(pages::closures::routes())
        .merge(pages::feeds::routes())
        .merge(pages::check_in::routes())
        .fallback(error::not_found)
        .layer(Extension(live))
        .layer(middleware::from_fn(guard::protect))
        // A 500-student roll call is ~250 KB of HTML and ~20 KB gzipped.
        .layer(tower_http::compression::CompressionLayer::new())
}
