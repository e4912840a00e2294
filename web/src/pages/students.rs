//! `GET /admin/students?q=&department=&level=&page=`: the students, searched by number or
//! name and filtered by department and level, a page at a time (administrators only). The
//! same use case as `GET /api/students?q=...` ([`api::app::students::page`]).

use crate::error::PageError;
use crate::format::number;
use crate::i18n::Catalogue;
use crate::pages::admin::admin;
use crate::session::SignedIn;
use crate::templates::{Nav, html};
use api::AppState;
use api::app::students::{StudentFilter, StudentView, page as students_page};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

/// Students on one page of the list.
const PER_PAGE: i64 = 50;

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
    department: String,
    level: String,
    students: Vec<StudentView>,
    /// "Students 1 to 50 of 120", in the page's language.
    showing: String,
    /// The links to the previous and next pages (with the same search), if any.
    previous: Option<String>,
    next: Option<String>,
}

/// The search as sent.
#[derive(Deserialize)]
struct Search {
    q: Option<String>,
    department: Option<String>,
    level: Option<String>,
    page: Option<i64>,
}

/// A field of the search, trimmed and bounded.
fn text(value: Option<String>) -> String {
    value.unwrap_or_default().trim().chars().take(100).collect()
}

fn some(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

async fn students(
    State(state): State<AppState>,
    page: SignedIn,
    Query(query): Query<Search>,
) -> Result<Response, PageError> {
    admin(&page)?;
    let t = page.t;
    let (q, department, level) = (text(query.q), text(query.department), text(query.level));
    let number_of_page = query.page.unwrap_or(1).clamp(1, 100_000);
    let filter = StudentFilter {
        q: some(&q),
        department: some(&department),
        level: some(&level),
        among: None,
    };
    let offset = (number_of_page - 1) * PER_PAGE;
    let (students, total) = students_page(state.pool(), &filter, PER_PAGE, offset)
        .await
        .map_err(|e| page.fail(e))?;
    let link = |to: i64| {
        let query = serde_urlencoded::to_string([
            ("q", q.as_str()),
            ("department", department.as_str()),
            ("level", level.as_str()),
            ("page", &to.to_string()),
        ])
        .unwrap_or_default();
        format!("/admin/students?{query}")
    };
    let shown = students.len() as i64;
    let showing = t
        .search_labels
        .showing
        .replace(
            "{from}",
            &number(t, if shown == 0 { 0 } else { offset + 1 }),
        )
        .replace("{to}", &number(t, offset + shown))
        .replace("{total}", &number(t, total));
    html(&StudentsPage {
        t,
        nav: Nav::of(&page),
        previous: (number_of_page > 1).then(|| link(number_of_page - 1)),
        next: (offset + shown < total).then(|| link(number_of_page + 1)),
        q,
        department,
        level,
        students,
        showing,
    })
}
