//! `GET /admin/students?q=`: the students, searched by number or name (administrators only).

use crate::error::PageError;
use crate::i18n::Catalogue;
use crate::pages::admin::admin;
use crate::session::SignedIn;
use crate::templates::{Nav, html};
use api::AppState;
use api::app::students::{StudentView, search};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

/// The students list's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/students", get(students))
}

#[derive(Template)]
#[template(path = "admin_students.html")]
struct StudentsPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    q: String,
    students: Vec<StudentView>,
}

/// `?q=` of the students list.
#[derive(Deserialize)]
struct Search {
    q: Option<String>,
}

async fn students(
    State(state): State<AppState>,
    page: SignedIn,
    Query(query): Query<Search>,
) -> Result<Response, PageError> {
    admin(&page)?;
    let q: String = query
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(100)
        .collect();
    let students = search(state.pool(), &q, 200)
        .await
        .map_err(|e| page.fail(e))?;
    html(&StudentsPage {
        t: page.t,
        nav: Nav::of(&page),
        q,
        students,
    })
}
