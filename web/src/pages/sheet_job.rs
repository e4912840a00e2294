//! A sheet import as its uploader (or an administrator) sees it: `GET /sheets/{job}` (its
//! state, what each page gave, the picture of each page) and `GET /sheets/{job}/pages/{n}.png`
//! (a page as read, each bubble outlined by what was seen). Visibility is the job's, from
//! the same use case as `GET /api/sheets/{job_id}` ([`api::app::import::load_job`]).
//!
//! `GET /sheets/uploads/{id}` watches an upload while it is read (pages read so far, from
//! `app::import::uploads`, so any `serve` process can answer): it reloads itself (a plain
//! `<meta http-equiv="refresh">`, and a link) until the job is stored, then leads to it. The
//! job page links back to each session's sheets to decide the rows that wait.

use crate::error::PageError;
use crate::format::number;
use crate::i18n::Catalogue;
use crate::session::SignedIn;
use crate::templates::{Nav, html};
use api::AppState;
use api::app::import::{self, PageReport, SheetJob};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use uuid::Uuid;

/// The job pages' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sheets/{job}", get(show))
        .route("/sheets/uploads/{id}", get(watch))
        .route("/sheets/{job}/pages/{file}", get(picture))
}

/// One page of the upload as the job page shows it.
pub struct PageLine {
    number: u32,
    /// "sheet page 1 of 2", once its QR code was read.
    sheet_page: Option<String>,
    recorded: String,
    held: String,
    held_conflict: String,
    problem: Option<&'static str>,
    already: bool,
    picture: Option<String>,
    /// The picture's text alternative and its link's name.
    alt: String,
    open: String,
}

#[derive(Template)]
#[template(path = "sheet_job.html")]
struct JobPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    progress: String,
    recorded: String,
    held: String,
    held_conflict: String,
    errors: String,
    sessions: Vec<String>,
    pages: Vec<PageLine>,
}

async fn load(state: &AppState, page: &SignedIn, job: &str) -> Result<SheetJob, PageError> {
    let missing = || PageError::not_found().in_language(page.t);
    let id = Uuid::parse_str(job).map_err(|_| missing())?;
    import::load_job(state, &page.user, id)
        .await
        .map_err(|e| page.fail(e))
}

fn line(t: &'static Catalogue, job: &str, report: &PageReport) -> PageLine {
    let n = report.page.to_string();
    PageLine {
        number: report.page,
        sheet_page: report.sheet_page.zip(report.sheet_pages).map(|(p, of)| {
            t.sheets
                .sheet_page
                .replace("{n}", &number(t, p))
                .replace("{of}", &number(t, of))
        }),
        recorded: number(t, report.marks_recorded + report.corrections),
        held: number(t, report.held_for_review),
        held_conflict: number(t, report.held_conflict),
        problem: report.error.as_ref().map(|e| t.sheets.problem(&e.code)),
        already: report.already_imported,
        picture: report
            .image
            .as_ref()
            .map(|_| format!("/sheets/{job}/pages/{n}.png")),
        alt: t
            .sheets
            .picture_of_page
            .replace("{n}", &number(t, report.page)),
        open: t
            .sheets
            .open_picture
            .replace("{n}", &number(t, report.page)),
    }
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Path(job): Path<String>,
) -> Result<Response, PageError> {
    let found = load(&state, &page, &job).await?;
    let t = page.t;
    let read = found
        .page_results
        .iter()
        .filter(|p| p.error.is_none())
        .count();
    html(&JobPage {
        t,
        nav: Nav::of(&page),
        progress: t
            .sheets
            .pages_read
            .replace("{read}", &number(t, read))
            .replace("{pages}", &number(t, found.pages)),
        recorded: number(t, found.marks_recorded),
        held: number(t, found.held_for_review),
        held_conflict: number(t, found.held_conflict),
        errors: number(t, found.page_errors),
        pages: found
            .page_results
            .iter()
            .map(|p| line(t, &found.job_id, p))
            .collect(),
        sessions: found.sessions,
    })
}

async fn picture(
    State(state): State<AppState>,
    page: SignedIn,
    Path((job, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let missing = || PageError::not_found().in_language(page.t);
    let number: i32 = file
        .strip_suffix(".png")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n >= 1)
        .ok_or_else(missing)?;
    // Visibility follows the job's.
    let found = load(&state, &page, &job).await?;
    let id = Uuid::parse_str(&found.job_id).map_err(|_| missing())?;
    let png = import::page_png(&state, id, number)
        .await
        .map_err(|e| page.fail(e))?
        .ok_or_else(missing)?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("image/png")),
            (CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        png,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "sheet_upload.html")]
struct UploadPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    /// How far the import is, or why it stopped.
    progress: String,
    failed: Option<String>,
    href: String,
}

/// An upload being read: how far it is, the page reloading itself (a plain
/// `<meta http-equiv="refresh">`, and a link) until the job is there, then the job.
async fn watch(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let t = page.t;
    let id = Uuid::parse_str(&id).map_err(|_| PageError::not_found().in_language(t))?;
    let upload = import::uploads::load(&state, &page.user, id)
        .await
        .map_err(|e| page.fail(e))?;
    if let Some(job) = upload.job_id {
        return Ok(Redirect::to(&format!("/sheets/{job}")).into_response());
    }
    let progress = match upload.pages {
        None => t.sheets.opening.to_string(),
        Some(pages) => t
            .sheets
            .pages_read
            .replace("{read}", &number(t, upload.done))
            .replace("{pages}", &number(t, pages)),
    };
    html(&UploadPage {
        t,
        nav: Nav::of(&page),
        progress,
        failed: upload.failed,
        href: format!("/sheets/uploads/{id}"),
    })
}
