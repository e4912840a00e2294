//! Sheet import: a scanned PDF read page by page (OMR, on a blocking thread), each page
//! written to its session's register as one command through the import circuit breaker,
//! and the job stored with a checked PNG per page.
//!
//! - A page's command is atomic: its marks, its held rows and its `SheetImported` event are
//!   written together or not at all. The same page image (SHA-256 of its pixels) is imported
//!   once, so uploading a file again after a failure records only what is missing.
//! - While the store is failing the breaker opens: uploads are refused at once with 503 and
//!   Retry-After, before the PDF is read.
//! - A page that is not a sheet, whose QR code cannot be read, whose session the caller does
//!   not teach or whose roster changed since printing is reported, and nothing is recorded
//!   for it; the other pages are imported.

use crate::auth::CurrentUser;
use crate::breaker::{BreakerSnapshot, BreakerState};
use crate::error::ApiError;
use crate::routes::sessions::on_register;
use crate::routes::sheets::sheet_info;
use crate::routes::{SessionContext, load_session};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use domain::register::{RegisterCommand, RegisterEvent, SheetCounts, SheetRead, SheetRow};
use domain::{Role, SessionId, Status, StudentId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sheets::document::{Options, read_pages};
use sheets::input::{InputError, Limits};
use sheets::omr::{self, BubbleDecision, RowDecision, Thresholds};
use sheets::{Layout, QrPayload};
use std::collections::HashMap;
use std::time::Duration;
use utoipa::ToSchema;
use uuid::Uuid;

/// Resolution pages are read at when they have to be rasterized (vector pages).
pub const WORK_DPI: f32 = 150.0;

/// Counts of rows read, by status.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    /// Rows read as present.
    pub present: u32,
    /// Rows read as late.
    pub late: u32,
    /// Rows read as excused.
    pub excused: u32,
    /// Empty rows (absent).
    pub absent: u32,
    /// Rows held for review.
    pub held: u32,
}

impl From<SheetCounts> for Totals {
    fn from(c: SheetCounts) -> Self {
        Totals {
            present: c.present,
            late: c.late,
            excused: c.excused,
            absent: c.absent,
            held: c.held,
        }
    }
}

/// What was read on one row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowReport {
    /// Row on the page, from 1.
    pub row: u32,
    /// The student printed on it.
    pub student_id: String,
    /// `present`, `late`, `excused`, `absent` (empty row) or `held`.
    pub decision: String,
    /// Why the row was held.
    pub reason: Option<String>,
    /// Fill of the present, late and excused bubbles (0 empty .. 1 solid).
    pub fills: Vec<f32>,
    /// How sure the reading is (0..1).
    pub confidence: f32,
}

/// Why a page was not imported.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageProblem {
    /// Stable code: `unreadable_page`, `not_a_sheet`, `unreadable_qr`, `foreign_qr`,
    /// `unknown_session`, `forbidden`, `session_cancelled`, `roster_changed`, `refused`.
    pub code: String,
    /// What is wrong, for a person.
    pub detail: String,
}

/// One page of the upload.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageReport {
    /// Page in the uploaded file, from 1.
    pub page: u32,
    /// SHA-256 of the page image's pixels.
    pub sha256: Option<String>,
    /// The QR code's text.
    pub qr: Option<String>,
    /// The session it belongs to.
    pub session_id: Option<String>,
    /// Its page number on the session's sheet.
    pub sheet_page: Option<u32>,
    /// Pages of the session's sheet.
    pub sheet_pages: Option<u32>,
    /// Whether the page was scanned upside down.
    pub upside_down: Option<bool>,
    /// Skew found, in degrees.
    pub rotation_deg: Option<f32>,
    /// Rows read.
    pub rows_read: u32,
    /// Marks recorded for the first time.
    pub marks_recorded: u32,
    /// Marks changed (re-scan or a sheet that differs from an earlier mark).
    pub corrections: u32,
    /// Rows held for review.
    pub held_for_review: u32,
    /// The same page had been imported before: nothing recorded again.
    pub already_imported: bool,
    /// What the rows said.
    pub counts: Totals,
    /// Row by row.
    pub rows: Vec<RowReport>,
    /// Why nothing was recorded for the page.
    pub error: Option<PageProblem>,
    /// Where the checked image of the page is.
    pub image: Option<String>,
}

/// An import job.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SheetJob {
    /// Job id.
    pub job_id: String,
    /// When it ran.
    pub created_at: DateTime<Utc>,
    /// Who uploaded (user id).
    pub created_by: String,
    /// SHA-256 of the uploaded file.
    pub file_sha256: String,
    /// Pages in the file.
    pub pages: u32,
    /// Sessions found, in order of first appearance.
    pub sessions: Vec<String>,
    /// Marks recorded or corrected, over all pages.
    pub marks_recorded: u32,
    /// Rows held for review, over all pages.
    pub held_for_review: u32,
    /// Pages not imported.
    pub page_errors: u32,
    /// What the rows of the pages read said.
    pub totals: Totals,
    /// Page by page.
    pub page_results: Vec<PageReport>,
    /// The import breaker after the job.
    pub breaker: BreakerSnapshot,
}

/// 503 with Retry-After while the import breaker is open.
pub fn refuse_while_open(state: &AppState) -> Result<(), ApiError> {
    let snapshot = state.import_breaker().snapshot();
    match (snapshot.state, snapshot.retry_after_secs) {
        (BreakerState::Open, Some(secs)) if secs > 0.0 => Err(ApiError::Unavailable {
            detail: "sheet imports are paused: the attendance store failed repeatedly; retry later"
                .into(),
            retry_after: Duration::from_secs_f64(secs.ceil().max(1.0)),
        }),
        _ => Ok(()),
    }
}

/// A page after OMR, before anything is written.
struct Scanned {
    sha256: Option<String>,
    read: Result<Read, PageProblem>,
    png: Option<Vec<u8>>,
}

/// The parts of an OMR reading the import needs.
struct Read {
    qr: QrPayload,
    upside_down: bool,
    rotation_deg: f32,
    rows: Vec<omr::RowRead>,
}

fn problem(code: &str, detail: impl Into<String>) -> PageProblem {
    PageProblem {
        code: code.to_string(),
        detail: detail.into(),
    }
}

/// Reads every page of a PDF (blocking: call from a blocking thread), keeping of each page
/// only what the import needs and its checked PNG.
fn scan(pdf: &[u8]) -> Result<Vec<Scanned>, InputError> {
    let mut pages = Vec::new();
    let options = Options {
        dpi: WORK_DPI,
        pictures: true,
        ..Options::default()
    };
    read_pages(
        pdf,
        Limits::default(),
        options,
        &Thresholds::default(),
        |page| {
            let scanned = match page.read {
                Ok(read) => Scanned {
                    sha256: page.sha256,
                    png: page.picture,
                    read: Ok(Read {
                        qr: read.qr,
                        upside_down: read.upside_down,
                        rotation_deg: read.rotation_deg,
                        rows: read.rows,
                    }),
                },
                Err(e) => Scanned {
                    sha256: page.sha256,
                    png: None,
                    read: Err(problem(e.code, e.detail)),
                },
            };
            pages.push(scanned);
        },
    )?;
    Ok(pages)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn input_error(e: InputError) -> ApiError {
    let code = match e {
        InputError::NotPdf => "not_a_pdf",
        InputError::Damaged(_) => "damaged_pdf",
        InputError::Encrypted => "encrypted_pdf",
        InputError::NoPages => "empty_pdf",
        InputError::TooManyPages { .. } => "too_many_pages",
    };
    ApiError::Invalid {
        code,
        detail: format!("file: {e}"),
        errors: vec![crate::error::FieldProblem {
            field: "file".into(),
            detail: e.to_string(),
            code: Some(code.into()),
        }],
    }
}

/// A session as the import sees it: its context and the layout of its sheet.
type Resolved = Result<(SessionContext, Layout), PageProblem>;

async fn resolve(
    state: &AppState,
    user: &CurrentUser,
    qr: &QrPayload,
) -> Result<Resolved, ApiError> {
    let Ok(id) = SessionId::parse(qr.session_id.clone()) else {
        return Ok(Err(problem(
            "foreign_qr",
            "the QR code names no valid session",
        )));
    };
    let ctx = match load_session(state, id).await {
        Ok(ctx) => ctx,
        Err(ApiError::NotFound(detail)) => return Ok(Err(problem("unknown_session", detail))),
        Err(e) => return Err(e),
    };
    if !user.is_course_staff(&ctx.course) {
        return Ok(Err(problem(
            "forbidden",
            format!(
                "you may not record attendance for session {} (course {})",
                ctx.session_id, ctx.course_id
            ),
        )));
    }
    if ctx.session.cancelled {
        return Ok(Err(problem(
            "session_cancelled",
            format!("session {} is cancelled", ctx.session_id),
        )));
    }
    let info = sheet_info(state, &ctx).await?;
    let layout = sheets::generate::layout_of(&info);
    Ok(Ok((ctx, layout)))
}

/// The register rows of a page, or why the page does not fit the session's sheet.
#[allow(clippy::type_complexity)]
fn rows_of(
    layout: &Layout,
    read: &Read,
) -> Result<(Vec<SheetRow>, Vec<RowReport>, SheetCounts), PageProblem> {
    let page = layout
        .page(read.qr.page)
        .filter(|p| p.qr == read.qr)
        .ok_or_else(|| {
            problem(
                "roster_changed",
                format!(
                    "page {} of session {} does not match the session's sheet any more (the roster \
                     changed since it was printed); print a new sheet",
                    read.qr.page, read.qr.session_id
                ),
            )
        })?;
    let mut rows = Vec::with_capacity(page.rows.len());
    let mut reports = Vec::with_capacity(page.rows.len());
    let mut counts = SheetCounts::default();
    for (layout_row, row) in page.rows.iter().zip(&read.rows) {
        let student_id = StudentId::parse(layout_row.student_id.clone())
            .map_err(|e| problem("refused", e.to_string()))?;
        let (sheet_read, decision, reason) = match &row.decision {
            RowDecision::Mark(status) => {
                counts.count(*status);
                (SheetRead::Mark(*status), status.as_str(), None)
            }
            RowDecision::Absent => {
                counts.count(Status::Absent);
                (SheetRead::Mark(Status::Absent), "absent", None)
            }
            RowDecision::Held(why) => {
                counts.held += 1;
                let candidates = row
                    .bubbles
                    .iter()
                    .filter(|b| b.decision != BubbleDecision::Empty)
                    .map(|b| b.status)
                    .collect();
                let reason = why.to_string();
                (
                    SheetRead::Held {
                        reason: reason.clone(),
                        candidates,
                    },
                    "held",
                    Some(reason),
                )
            }
        };
        reports.push(RowReport {
            row: layout_row.row,
            student_id: layout_row.student_id.clone(),
            decision: decision.to_string(),
            reason,
            fills: row.bubbles.iter().map(|b| b.fill).collect(),
            confidence: row.confidence,
        });
        rows.push(SheetRow {
            student_id,
            read: sheet_read,
        });
    }
    Ok((rows, reports, counts))
}

/// Whether a failure means the store is failing (counted by the breaker).
fn store_failed(e: &ApiError) -> bool {
    matches!(e, ApiError::Unavailable { .. } | ApiError::Internal(_))
}

/// Runs an import to its end and stores the job.
pub async fn run(
    state: AppState,
    user: CurrentUser,
    request_id: String,
    pdf: Vec<u8>,
) -> Result<SheetJob, ApiError> {
    let file_sha256 = hex(&Sha256::digest(&pdf));
    let scanned = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(|| scan(&pdf))
            .map_err(|_| InputError::Damaged("the file could not be read".into()))
    })
    .await
    .map_err(ApiError::internal)?
    .and_then(|r| r)
    .map_err(input_error)?;

    let job_id = Uuid::now_v7();
    let breaker = state.import_breaker();
    let mut sessions: Vec<String> = Vec::new();
    let mut resolved: HashMap<String, Resolved> = HashMap::new();
    let mut reports = Vec::with_capacity(scanned.len());
    let mut images = Vec::new();
    let mut written = 0usize;
    let total = scanned.len();
    for (index, page) in scanned.into_iter().enumerate() {
        let number = index as u32 + 1;
        let mut report = PageReport {
            page: number,
            sha256: page.sha256.clone(),
            qr: None,
            session_id: None,
            sheet_page: None,
            sheet_pages: None,
            upside_down: None,
            rotation_deg: None,
            rows_read: 0,
            marks_recorded: 0,
            corrections: 0,
            held_for_review: 0,
            already_imported: false,
            counts: Totals::default(),
            rows: Vec::new(),
            error: None,
            image: None,
        };
        if let Some(png) = page.png {
            report.image = Some(format!("/api/sheets/{job_id}/pages/{number}.png"));
            images.push((number as i32, png));
        }
        let read = match page.read {
            Ok(read) => read,
            Err(e) => {
                report.error = Some(e);
                reports.push(report);
                continue;
            }
        };
        report.qr = Some(read.qr.to_string());
        report.session_id = Some(read.qr.session_id.clone());
        report.sheet_page = Some(read.qr.page);
        report.sheet_pages = Some(read.qr.pages);
        report.upside_down = Some(read.upside_down);
        report.rotation_deg = Some(read.rotation_deg);
        if !sessions.contains(&read.qr.session_id) {
            sessions.push(read.qr.session_id.clone());
        }
        // Everything that touches the store goes through the breaker.
        let outcome = guarded(&state, async {
            if !resolved.contains_key(&read.qr.session_id) {
                let r = resolve(&state, &user, &read.qr).await?;
                resolved.insert(read.qr.session_id.clone(), r);
            }
            let (ctx, layout) = match &resolved[&read.qr.session_id] {
                Ok(found) => found,
                Err(e) => return Ok(Err(e.clone())),
            };
            let (rows, row_reports, counts) = match rows_of(layout, &read) {
                Ok(rows) => rows,
                Err(e) => return Ok(Err(e)),
            };
            let command = RegisterCommand::ImportSheetPage {
                sha256: page.sha256.clone().unwrap_or_default(),
                page: read.qr.page,
                pages: read.qr.pages,
                rows,
                by: user.actor(),
                at: Utc::now(),
            };
            let meta_request = format!("{request_id}/page-{number}");
            match on_register(&state, &user, meta_request, ctx, command).await {
                Ok(done) => Ok(Ok((done.events, row_reports, counts))),
                Err(e) if store_failed(&e) => Err(e),
                Err(e) => Ok(Err(problem("refused", e.to_string()))),
            }
        })
        .await;
        match outcome {
            Ok(Ok((events, row_reports, counts))) => {
                written += 1;
                report.rows_read = row_reports.len() as u32;
                report.rows = row_reports;
                report.already_imported = events.is_empty();
                for event in &events {
                    match event {
                        RegisterEvent::AttendanceRecorded { .. } => report.marks_recorded += 1,
                        RegisterEvent::AttendanceCorrected { .. } => report.corrections += 1,
                        _ => {}
                    }
                }
                report.held_for_review = counts.held;
                report.counts = counts.into();
            }
            Ok(Err(e)) => report.error = Some(e),
            Err(e) => {
                let retry_after = match &e {
                    ApiError::Unavailable { retry_after, .. } => *retry_after,
                    _ => Duration::from_secs(5),
                };
                tracing::warn!(job = %job_id, page = number, error = %e, "sheet import stopped: store failing");
                return Err(ApiError::Unavailable {
                    detail: format!(
                        "the attendance store is unavailable: {written} of {} pages were recorded \
                         before it failed. Upload the same file again later; pages already \
                         imported are not recorded twice",
                        total
                    ),
                    retry_after,
                });
            }
        }
        reports.push(report);
    }

    let mut totals = SheetCounts::default();
    for r in &reports {
        totals.add(&SheetCounts {
            present: r.counts.present,
            late: r.counts.late,
            excused: r.counts.excused,
            absent: r.counts.absent,
            held: r.counts.held,
        });
    }
    let job = SheetJob {
        job_id: job_id.to_string(),
        created_at: Utc::now(),
        created_by: user.id.to_string(),
        file_sha256,
        pages: reports.len() as u32,
        sessions,
        marks_recorded: reports
            .iter()
            .map(|r| r.marks_recorded + r.corrections)
            .sum(),
        held_for_review: reports.iter().map(|r| r.held_for_review).sum(),
        page_errors: reports.iter().filter(|r| r.error.is_some()).count() as u32,
        totals: totals.into(),
        page_results: reports,
        breaker: breaker.snapshot(),
    };
    store_job(&state, &job, job_id, images).await?;
    tracing::info!(
        job = %job.job_id,
        pages = job.pages,
        recorded = job.marks_recorded,
        held = job.held_for_review,
        errors = job.page_errors,
        "sheet import done"
    );
    Ok(job)
}

/// Runs a store operation through the import breaker: refused at once while it is open;
/// an unavailable or failing store counts as a failure, anything else as a success.
async fn guarded<T>(
    state: &AppState,
    call: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let breaker = state.import_breaker();
    if let Err(rejected) = breaker.try_acquire() {
        return Err(ApiError::Unavailable {
            detail: "sheet imports are paused: the attendance store failed repeatedly".into(),
            retry_after: rejected.retry_after.max(Duration::from_secs(1)),
        });
    }
    let result = call.await;
    match &result {
        Err(e) if store_failed(e) => breaker.record_failure(),
        _ => breaker.record_success(),
    }
    result
}

async fn store_job(
    state: &AppState,
    job: &SheetJob,
    id: Uuid,
    images: Vec<(i32, Vec<u8>)>,
) -> Result<(), ApiError> {
    let report = serde_json::to_value(job).map_err(ApiError::internal)?;
    let mut tx = state.pool().begin().await?;
    sqlx::query(
        "INSERT INTO sheet_jobs (id, created_by, created_at, file_sha256, report) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(&job.created_by)
    .bind(job.created_at)
    .bind(&job.file_sha256)
    .bind(report)
    .execute(&mut *tx)
    .await?;
    for (page, png) in images {
        sqlx::query("INSERT INTO sheet_job_pages (job_id, page, png) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(page)
            .bind(png)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A job, visible to administrators and to whoever uploaded it.
pub async fn load_job(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<SheetJob, ApiError> {
    let row: Option<(String, serde_json::Value)> =
        sqlx::query_as("SELECT created_by, report FROM sheet_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(state.pool())
            .await?;
    let not_found = || ApiError::NotFound(format!("sheet import job {id} does not exist"));
    let (owner, report) = row.ok_or_else(not_found)?;
    if user.role != Role::Admin && owner != user.id.to_string() {
        return Err(not_found());
    }
    serde_json::from_value(report).map_err(ApiError::internal)
}

/// The checked PNG of a job's page.
pub async fn page_png(state: &AppState, id: Uuid, page: i32) -> Result<Option<Vec<u8>>, ApiError> {
    Ok(
        sqlx::query_scalar("SELECT png FROM sheet_job_pages WHERE job_id = $1 AND page = $2")
            .bind(id)
            .bind(page)
            .fetch_optional(state.pool())
            .await?,
    )
}
