//! Sheet import: an upload of scanned PDFs and phone photos (JPEG, PNG; one page each) read
//! page by page (OMR, on a blocking thread), each page
//! written to its session's register as one command through the import circuit breaker,
//! and the job stored with a checked PNG per page.
//!
//! - What a page may do to each row is the register's to decide (a sheet never changes a
//!   mark a person set: such a row is held as a conflict); the report says it row by row.
//! - A page's command is atomic: its marks, its held rows and its `SheetImported` event are
//!   written together or not at all. The same page image (SHA-256 of its pixels) is imported
//!   once, so uploading a file again after a failure records only what is missing.
//! - While the store is failing the breaker opens: uploads are refused at once with 503 and
//!   Retry-After, before the PDF is read.
//! - A page that is not a sheet, whose QR code cannot be read, whose session the caller does
//!   not teach or whose roster changed since printing is reported, and nothing is recorded
//!   for it; the other pages are imported.

mod jobs;
pub mod report;
mod scan;
pub mod uploads;

pub use jobs::{jobs_of_session, load_job, page_png};
pub use report::{ConflictView, PageProblem, PageReport, RowReport, SheetJob, Totals};
pub use scan::{WORK_DPI, sheet_rows};

use crate::app::breaker::BreakerState;
use crate::app::error::AppError;
use crate::app::register;
use crate::auth::CurrentUser;
use crate::auth::users::usernames;
use crate::state::AppState;
use chrono::Utc;
use domain::register::{RegisterCommand, RegisterEvent, SheetCounts};
use report::problem;
use scan::{Read, Resolved, Scanned, read_upload, resolve, rows_of};
use std::collections::HashMap;
use std::time::Duration;
use uploads::Step;
use uuid::Uuid;

/// 503 with Retry-After while the import breaker is open.
pub fn refuse_while_open(state: &AppState) -> Result<(), AppError> {
    let snapshot = state.import_breaker().snapshot();
    match (snapshot.state, snapshot.retry_after_secs) {
        (BreakerState::Open, Some(secs)) if secs > 0.0 => Err(AppError::Unavailable {
            detail: "sheet imports are paused: the attendance store failed repeatedly; retry later"
                .into(),
            retry_after: Duration::from_secs_f64(secs.ceil().max(1.0)),
        }),
        _ => Ok(()),
    }
}

/// Whether a failure means the store is failing (counted by the breaker).
fn store_failed(e: &AppError) -> bool {
    matches!(e, AppError::Unavailable { .. } | AppError::Internal(_))
}

/// What a page's command wrote: its events, its rows as read, their counts.
type Written = (Vec<RegisterEvent>, Vec<RowReport>, SheetCounts);

/// One import in progress.
struct Import<'a> {
    state: &'a AppState,
    user: &'a CurrentUser,
    request_id: &'a str,
    job_id: Uuid,
    /// Each session named by a page, resolved once.
    resolved: HashMap<String, Resolved>,
    /// Sessions in order of first appearance.
    sessions: Vec<String>,
    /// Pages' checked pictures, by page.
    images: Vec<(i32, Vec<u8>)>,
}

impl Import<'_> {
    /// Reports one page, writing it to its register when it can be.
    async fn page(&mut self, number: u32, page: Scanned) -> Result<PageReport, AppError> {
        let mut report = PageReport::new(number, page.sha256.clone());
        if let Some(png) = page.png {
            report.image = Some(format!("/api/sheets/{}/pages/{number}.png", self.job_id));
            self.images.push((number as i32, png));
        }
        let read = match page.read {
            Ok(read) => read,
            Err(e) => {
                report.error = Some(e);
                return Ok(report);
            }
        };
        report.qr = Some(read.qr.to_string());
        report.session_id = Some(read.qr.session_id.clone());
        report.sheet_page = Some(read.qr.page);
        report.sheet_pages = Some(read.qr.pages);
        report.upside_down = Some(read.upside_down);
        report.rotation_deg = Some(read.rotation_deg);
        if !self.sessions.contains(&read.qr.session_id) {
            self.sessions.push(read.qr.session_id.clone());
        }
        let sha256 = page.sha256.unwrap_or_default();
        // Everything that touches the store goes through the breaker.
        let state = self.state;
        match guarded(state, self.write(number, &read, sha256)).await? {
            Ok((events, rows, counts)) => {
                let names = setters(state, &events).await;
                report.recorded(&events, rows, counts, &names);
            }
            Err(problem) => report.error = Some(problem),
        }
        Ok(report)
    }

    /// The page's command: `Ok(Err(..))` when the page cannot be recorded, `Err` when the
    /// store failed.
    async fn write(
        &mut self,
        number: u32,
        read: &Read,
        sha256: String,
    ) -> Result<Result<Written, PageProblem>, AppError> {
        let session = &read.qr.session_id;
        if !self.resolved.contains_key(session) {
            let found = resolve(self.state, self.user, &read.qr).await?;
            self.resolved.insert(session.clone(), found);
        }
        let (ctx, layout) = match &self.resolved[session] {
            Ok(found) => found,
            Err(e) => return Ok(Err(e.clone())),
        };
        let (rows, row_reports, counts) = match rows_of(layout, read) {
            Ok(rows) => rows,
            Err(e) => return Ok(Err(e)),
        };
        let command = RegisterCommand::ImportSheetPage {
            sha256,
            page: read.qr.page,
            pages: read.qr.pages,
            rows,
            by: self.user.actor(),
            at: Utc::now(),
        };
        let request = format!("{}/page-{number}", self.request_id);
        match register::execute(self.state, self.user, request, ctx, command).await {
            Ok(done) => Ok(Ok((done.events, row_reports, counts))),
            Err(e) if store_failed(&e) => Err(e),
            Err(e) => Ok(Err(problem("refused", e.to_string()))),
        }
    }
}

/// Runs an import to its end and stores the job.
pub async fn run(
    state: AppState,
    user: CurrentUser,
    request_id: String,
    files: Vec<Vec<u8>>,
) -> Result<SheetJob, AppError> {
    run_noting(state, user, request_id, files, None).await
}

/// [`run`] for an upload a page watches ([`uploads::start`]): how far it is is noted as it
/// goes, then the job it became or why it failed.
pub async fn run_watched(
    state: AppState,
    user: CurrentUser,
    request_id: String,
    files: Vec<Vec<u8>>,
    upload: Uuid,
) {
    let ran = run_noting(state.clone(), user, request_id, files, Some(upload)).await;
    let step = match ran {
        Ok(job) => match Uuid::parse_str(&job.job_id) {
            Ok(id) => Step::Job(id),
            Err(e) => Step::Failed(AppError::internal(e).to_string()),
        },
        Err(e) => {
            tracing::warn!(upload = %upload, error = %e, "sheet upload failed");
            Step::Failed(e.to_string())
        }
    };
    uploads::note(&state, upload, step).await;
}

async fn run_noting(
    state: AppState,
    user: CurrentUser,
    request_id: String,
    files: Vec<Vec<u8>>,
    upload: Option<Uuid>,
) -> Result<SheetJob, AppError> {
    let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let file_sha256 = sheets::document::upload_sha256(&refs);
    let scanned = read_upload(files).await?;
    let total = scanned.len();
    if let Some(id) = upload {
        uploads::note(&state, id, Step::Pages(total)).await;
    }
    let mut import = Import {
        state: &state,
        user: &user,
        request_id: &request_id,
        job_id: Uuid::now_v7(),
        resolved: HashMap::new(),
        sessions: Vec::new(),
        images: Vec::new(),
    };
    let mut reports = Vec::with_capacity(total);
    for (index, page) in scanned.into_iter().enumerate() {
        match import.page(index as u32 + 1, page).await {
            Ok(report) => {
                reports.push(report);
                if let Some(id) = upload {
                    uploads::note(&state, id, Step::Done(index + 1)).await;
                }
            }
            Err(e) => return Err(stopped(e, &reports, total, import.job_id)),
        }
    }
    let (job_id, images) = (import.job_id, std::mem::take(&mut import.images));
    let snapshot = state.import_breaker().snapshot();
    let job = SheetJob::new(
        job_id,
        user.id.to_string(),
        file_sha256,
        import.sessions,
        reports,
        snapshot,
    );
    jobs::store_job(&state, &job, job_id, images).await?;
    tracing::info!(
        job = %job.job_id,
        pages = job.pages,
        recorded = job.marks_recorded,
        held = job.held_for_review,
        held_conflict = job.held_conflict,
        errors = job.page_errors,
        "sheet import done"
    );
    Ok(job)
}

/// The usernames of the people whose marks a page's rows conflict with. The page is written
/// by now: if they cannot be read, the report names them by user id.
async fn setters(state: &AppState, events: &[RegisterEvent]) -> HashMap<String, String> {
    let ids: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            RegisterEvent::MarksHeldForReview { held, .. } => Some(held),
            _ => None,
        })
        .flatten()
        .filter_map(|mark| mark.conflict.as_ref())
        .map(|c| c.set_by.user_id.to_string())
        .collect();
    if ids.is_empty() {
        return HashMap::new();
    }
    usernames(state.pool(), &ids).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "naming the users of held conflicts");
        HashMap::new()
    })
}

/// The 503 of an import stopped by a failing store, saying how far it got.
fn stopped(error: AppError, done: &[PageReport], total: usize, job_id: Uuid) -> AppError {
    let retry_after = match &error {
        AppError::Unavailable { retry_after, .. } => *retry_after,
        _ => Duration::from_secs(5),
    };
    let written = done
        .iter()
        .filter(|r| r.error.is_none() && r.qr.is_some())
        .count();
    tracing::warn!(job = %job_id, page = done.len() + 1, %error, "sheet import stopped: store failing");
    AppError::Unavailable {
        detail: format!(
            "the attendance store is unavailable: {written} of {total} pages were recorded \
             before it failed. Upload the same file again later; pages already imported are \
             not recorded twice"
        ),
        retry_after,
    }
}

/// Runs a store operation through the import breaker: refused at once while it is open;
/// an unavailable or failing store counts as a failure, anything else as a success.
async fn guarded<T>(
    state: &AppState,
    call: impl Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let breaker = state.import_breaker();
    let permit = breaker
        .try_acquire()
        .map_err(|rejected| AppError::Unavailable {
            detail: "sheet imports are paused: the attendance store failed repeatedly".into(),
            retry_after: rejected.retry_after.max(Duration::from_secs(1)),
        })?;
    // Dropped with the future (a client that went away mid-write), the permit counts a
    // failure instead of leaving a half-open trial marked as running.
    let result = call.await;
    match &result {
        Err(e) if store_failed(e) => permit.failed(),
        _ => permit.succeeded(),
    }
    result
}
