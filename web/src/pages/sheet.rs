//! A session's paper sheets, for the course's staff: `GET /sessions/{id}/sheet.pdf` (the
//! printable bubble sheet), `GET /sessions/{id}/sheets` (print, upload a scan, the latest
//! imports, the rows held for a person's decision) and `POST /sessions/{id}/sheets` (a
//! multipart upload: the form token and the files). The same use cases as the JSON routes
//! (`app::sheets`, `app::import`): a sheet never replaces what a person recorded; such rows
//! wait here for a decision ([`super::review`]).

use crate::error::{PageError, refused_because, uuid_like};
use crate::i18n::Catalogue;
use crate::pages::register::staff_session;
use crate::session::{CSRF_FIELD, SignedIn};
use crate::templates::{Nav, html, html_with};
use api::AppState;
use api::app::AppError;
use api::app::import::{self, SheetJob};
use api::app::register::SessionContext;
use api::app::sheets::{HeldRow, review_queue, sheet_info};
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

/// The sheet pages' routes (the upload reads its own limit, `sheet_upload_limit`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sessions/{id}/sheet.pdf", get(sheet))
        .route(
            "/sessions/{id}/sheets",
            get(show).post(upload).layer(DefaultBodyLimit::disable()),
        )
}

async fn sheet(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let ctx = staff_session(&state, &page, &id, false).await?;
    let info = sheet_info(&state, &ctx).await.map_err(|e| page.fail(e))?;
    let (pdf, _) = tokio::task::spawn_blocking(move || sheets::generate::sheet_pdf(&info))
        .await
        .map_err(|e| page.fail(AppError::internal(e)))?
        .map_err(|e| page.fail(AppError::internal(e)))?;
    let name = format!("attachment; filename=\"sheet-{}.pdf\"", ctx.session_id);
    let disposition = HeaderValue::from_str(&name).map_err(|e| page.fail(AppError::internal(e)))?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        pdf,
    )
        .into_response())
}

/// An import as the list shows it.
pub struct JobLine {
    id: String,
    when: String,
    pages: String,
    recorded: String,
    held: String,
    errors: String,
}

/// A held row as the page shows it.
pub struct Held {
    student: String,
    name: String,
    /// Why, in the page's language.
    why: String,
    /// What the sheet reads (a conflict's one value, or the unclear row's candidates).
    sheet: String,
    /// The register's status label, if marked.
    recorded: Option<&'static str>,
    /// For a conflict: the sheet's status to accept.
    accept: Option<&'static str>,
    /// The statuses offered for an unclear row: stored name, label, whether read.
    choices: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "sheets.html")]
struct SheetsPage {
    t: &'static Catalogue,
    nav: Option<Nav>,
    csrf: String,
    session_id: String,
    course: String,
    title: String,
    starts: String,
    jobs: Vec<JobLine>,
    held: Vec<Held>,
    notice: Option<&'static str>,
    problem: Option<String>,
}

/// `?done=decided` after a decision.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    let ctx = staff_session(&state, &page, &id, false).await?;
    let mut view = render(&state, &page, &ctx, None).await?;
    if done.done.as_deref() == Some("decided") {
        view.notice = Some(page.t.sheets.decided);
    }
    html(&view)
}

async fn render(
    state: &AppState,
    page: &SignedIn,
    ctx: &SessionContext,
    problem: Option<String>,
) -> Result<SheetsPage, PageError> {
    let t = page.t;
    let zone = &ctx.course.time_zone;
    let queue = review_queue(state, &page.user, ctx.session_id.clone())
        .await
        .map_err(|e| page.fail(e))?;
    let jobs = import::jobs_of_session(state, &page.user, ctx.session_id.as_str())
        .await
        .map_err(|e| page.fail(e))?;
    Ok(SheetsPage {
        t,
        nav: Nav::of(page),
        csrf: page.csrf.clone(),
        session_id: ctx.session_id.to_string(),
        course: ctx.course_id.to_string(),
        title: ctx.session.title.clone(),
        starts: crate::format::when(t, zone, ctx.session.starts_at),
        jobs: jobs.iter().map(|j| job_line(t, zone, j)).collect(),
        held: queue
            .held
            .into_iter()
            .map(|row| held(t, zone, row))
            .collect(),
        notice: None,
        problem,
    })
}

fn job_line(t: &'static Catalogue, zone: &domain::Zone, job: &SheetJob) -> JobLine {
    let n = |v: u32| crate::format::number(t, v);
    JobLine {
        id: job.job_id.clone(),
        when: crate::format::when(t, zone, job.created_at),
        pages: n(job.pages),
        recorded: n(job.marks_recorded),
        held: n(job.held_for_review + job.held_conflict),
        errors: n(job.page_errors),
    }
}

fn held(t: &'static Catalogue, zone: &domain::Zone, row: HeldRow) -> Held {
    let label = |s: domain::Status| t.status_label(s.as_str());
    let (why, sheet, accept) = match &row.conflict {
        Some(c) => {
            let who = c
                .set_by_username
                .clone()
                .unwrap_or_else(|| c.set_by.clone());
            let why = t
                .sheets
                .conflict
                .replace("{sheet}", label(c.sheet))
                .replace("{register}", label(c.register))
                .replace("{who}", &who)
                .replace("{when}", &crate::format::when(t, zone, c.set_at));
            (why, label(c.sheet).to_string(), Some(c.sheet.as_str()))
        }
        None => {
            let read: Vec<&str> = row.candidates.iter().map(|s| label(*s)).collect();
            (t.sheets.unclear.to_string(), read.join(" / "), None)
        }
    };
    let choices = match accept {
        Some(_) => Vec::new(),
        None => super::register::statuses(t)
            .into_iter()
            .map(|(value, name)| {
                let read = row.candidates.iter().any(|s| s.as_str() == value);
                (value, name, read)
            })
            .collect(),
    };
    Held {
        name: row.name.unwrap_or_else(|| row.student_id.clone()),
        student: row.student_id,
        why,
        sheet,
        recorded: row.current_status.map(label),
        accept,
        choices,
    }
}

/// The upload: the form token and the `file` parts, in order (at most `limit` bytes).
struct Upload {
    csrf: Option<String>,
    files: Vec<Vec<u8>>,
}

/// Reads the upload, or the reason to refuse it, in the page's language.
async fn read_upload(
    t: &'static Catalogue,
    mut multipart: Multipart,
    limit: usize,
) -> Result<Upload, &'static str> {
    let mut upload = Upload {
        csrf: None,
        files: Vec::new(),
    };
    let mut total = 0;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        match field.name() {
            Some(CSRF_FIELD) => upload.csrf = field.text().await.ok(),
            Some("file") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| t.sheets.too_large)? {
                    total += chunk.len();
                    if total > limit {
                        return Err(t.sheets.too_large);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if !bytes.is_empty() {
                    upload.files.push(bytes);
                }
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// Imports the uploaded scan through the same use case as `POST /api/sheets` (each page
/// into the session its QR code names, only if the uploader teaches it) in the background,
/// and sends the browser to the page that watches it.
async fn upload(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let ctx = staff_session(&state, &page, &id, false).await?;
    let t = page.t;
    let limit = state.config().sheet_upload_limit;
    let upload = match read_upload(t, multipart, limit).await {
        Ok(upload) => upload,
        Err(problem) => return again(&state, &page, &ctx, problem.to_string()).await,
    };
    if upload.csrf.as_deref() != Some(page.csrf.as_str()) {
        return Err(PageError::csrf().in_language(t));
    }
    if upload.files.is_empty() {
        return again(&state, &page, &ctx, t.sheets.empty_upload.to_string()).await;
    }
    if let Err(e) = import::refuse_while_open(&state) {
        return again(&state, &page, &ctx, refused_because(t, e)).await;
    }
    let watched = import::uploads::start(&state, &page.user)
        .await
        .map_err(|e| page.fail(e))?;
    // The import runs to its end even if the browser goes away; the page watches it.
    let run = import::run_watched(state, page.user, uuid_like(), upload.files, watched);
    tokio::spawn(run);
    Ok(Redirect::to(&format!("/sheets/uploads/{watched}")).into_response())
}

/// The sheet page again, with why the upload was refused.
async fn again(
    state: &AppState,
    page: &SignedIn,
    ctx: &SessionContext,
    problem: String,
) -> Result<Response, PageError> {
    let view = render(state, page, ctx, Some(problem)).await?;
    html_with(StatusCode::UNPROCESSABLE_ENTITY, &view)
}
