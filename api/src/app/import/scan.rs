//! The reading side of an import: OMR of every page on a blocking thread, the session and
//! sheet layout each page names, and the register rows a page becomes.

use super::report::{PageProblem, RowReport, problem};
use crate::app::error::AppError;
use crate::app::register::{SessionContext, load_session};
use crate::app::sheets::sheet_info;
use crate::auth::CurrentUser;
use crate::state::AppState;
use domain::register::{SheetCounts, SheetRead, SheetRow};
use domain::{SessionId, Status, StudentId};
use sheets::document::{Options, read_files};
use sheets::input::{InputError, Limits};
use sheets::omr::{self, BubbleDecision, RowDecision, Thresholds};
use sheets::{Layout, QrPayload};

/// Resolution pages are read at when they have to be rasterized (vector pages).
pub const WORK_DPI: f32 = 150.0;

/// A page after OMR, before anything is written.
pub(super) struct Scanned {
    pub(super) sha256: Option<String>,
    pub(super) read: Result<Read, PageProblem>,
    pub(super) png: Option<Vec<u8>>,
}

/// The parts of an OMR reading the import needs.
pub(super) struct Read {
    pub(super) qr: QrPayload,
    pub(super) upside_down: bool,
    pub(super) rotation_deg: f32,
    pub(super) rows: Vec<omr::RowRead>,
}

/// Reads every page of an upload's files, PDFs and photos (blocking: call from a blocking
/// thread), keeping of each page only what the import needs and its checked PNG.
pub(super) fn scan(files: &[Vec<u8>]) -> Result<Vec<Scanned>, InputError> {
    let files: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let mut pages = Vec::new();
    let options = Options {
        dpi: WORK_DPI,
        pictures: true,
        ..Options::default()
    };
    read_files(
        &files,
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

/// A document that cannot be read at all: 422 naming the file.
pub(super) fn input_error(e: InputError) -> AppError {
    let code = match e {
        InputError::NotPdf => "not_a_pdf",
        InputError::Damaged(_) => "damaged_pdf",
        InputError::Encrypted => "encrypted_pdf",
        InputError::NoPages => "empty_pdf",
        InputError::TooManyPages { .. } => "too_many_pages",
    };
    // Photos are read too: a file of no known kind is more than "not a PDF".
    let detail = match e {
        InputError::NotPdf => "the file is not a PDF, a JPEG or a PNG".to_string(),
        _ => e.to_string(),
    };
    AppError::Invalid {
        code,
        detail: format!("file: {detail}"),
        errors: vec![crate::app::error::FieldProblem {
            field: "file".into(),
            detail,
            code: Some(code.into()),
        }],
    }
}

/// A session as the import sees it: its context and the layout of its sheet.
pub(super) type Resolved = Result<(SessionContext, Layout), PageProblem>;

pub(super) async fn resolve(
    state: &AppState,
    user: &CurrentUser,
    qr: &QrPayload,
) -> Result<Resolved, AppError> {
    let Ok(id) = SessionId::parse(qr.session_id.clone()) else {
        return Ok(Err(problem(
            "foreign_qr",
            "the QR code names no valid session",
        )));
    };
    let ctx = match load_session(state, id).await {
        Ok(ctx) => ctx,
        Err(AppError::NotFound(detail)) => return Ok(Err(problem("unknown_session", detail))),
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
pub(super) fn rows_of(
    layout: &Layout,
    read: &Read,
) -> Result<(Vec<SheetRow>, Vec<RowReport>, SheetCounts), PageProblem> {
    sheet_rows(layout, &read.qr, &read.rows)
}

/// The register rows of a page read by OMR (`qr` and `read` from the page), with a report
/// per row and what the rows said, or why the page does not fit the session's sheet
/// (`layout`). The import and `attendance sheet read --session` both use it.
#[allow(clippy::type_complexity)]
pub fn sheet_rows(
    layout: &Layout,
    qr: &QrPayload,
    read: &[omr::RowRead],
) -> Result<(Vec<SheetRow>, Vec<RowReport>, SheetCounts), PageProblem> {
    let page = layout
        .page(qr.page)
        .filter(|p| p.qr == *qr)
        .ok_or_else(|| {
            problem(
                "roster_changed",
                format!(
                    "page {} of session {} does not match the session's sheet any more (the roster \
                     changed since it was printed); print a new sheet",
                    qr.page, qr.session_id
                ),
            )
        })?;
    let mut rows = Vec::with_capacity(page.rows.len());
    let mut reports = Vec::with_capacity(page.rows.len());
    let mut counts = SheetCounts::default();
    for (layout_row, row) in page.rows.iter().zip(read) {
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
            outcome: None,
            reason,
            conflict: None,
            fills: row.bubbles.iter().map(|b| b.fill).collect(),
            confidence: row.confidence,
            ring_offsets_pt: row
                .bubbles
                .iter()
                .map(|b| b.ring_offset_pt.map(|(x, y)| [x, y]))
                .collect(),
        });
        rows.push(SheetRow {
            student_id,
            read: sheet_read,
        });
    }
    Ok((rows, reports, counts))
}

/// Reads the upload on a blocking thread; a panic in a decoder is a damaged file, not a 500.
pub(super) async fn read_upload(files: Vec<Vec<u8>>) -> Result<Vec<Scanned>, AppError> {
    tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(|| scan(&files))
            .map_err(|_| InputError::Damaged("the file could not be read".into()))
    })
    .await
    .map_err(AppError::internal)?
    .and_then(|r| r)
    .map_err(input_error)
}
