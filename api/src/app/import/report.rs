//! What an import answers and stores: per page and per job.

use crate::app::breaker::BreakerSnapshot;
use chrono::{DateTime, Utc};
use domain::register::{HeldConflict, HeldKind, RegisterEvent, SheetCounts};
use domain::{Method, Status};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

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
    /// Rows held for review: bubbles that could not be read with certainty.
    pub held: u32,
    /// Rows held for review because they differ from a mark a person set, which stands
    /// (also counted under the status read).
    #[serde(default)]
    pub held_conflict: u32,
}

impl From<SheetCounts> for Totals {
    fn from(c: SheetCounts) -> Self {
        Totals {
            present: c.present,
            late: c.late,
            excused: c.excused,
            absent: c.absent,
            held: c.held,
            held_conflict: c.held_conflict,
        }
    }
}

/// A sheet row that differs from a mark a person set: both values, and who set the
/// register's, when and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConflictView {
    /// What the sheet says.
    #[schema(value_type = String, example = "late")]
    pub sheet: Status,
    /// What the register says; it stands until a review replaces it.
    #[schema(value_type = String, example = "present")]
    pub register: Status,
    /// How the register's value was taken: `manual`, `bulk`, `sheet` (a review decision).
    #[schema(value_type = String, example = "manual")]
    pub method: Method,
    /// Who set it (user id).
    pub set_by: String,
    /// Their username, when the account still exists.
    pub set_by_username: Option<String>,
    /// When.
    pub set_at: DateTime<Utc>,
    /// Why: the correction's reason or the mark's remark.
    pub why: Option<String>,
    /// All of it for a person: "the sheet says late; the register says present, set by ada
    /// at 2026-09-07 09:12 UTC (manual)".
    pub summary: String,
}

impl ConflictView {
    /// The view of a held conflict, naming the user from `names` (user id to username).
    pub fn new(conflict: &HeldConflict, names: &HashMap<String, String>) -> Self {
        let set_by = conflict.set_by.user_id.to_string();
        let username = names.get(&set_by).cloned();
        ConflictView {
            sheet: conflict.sheet,
            register: conflict.register,
            method: conflict.method,
            summary: conflict.describe(username.as_deref().unwrap_or(&set_by)),
            set_by,
            set_by_username: username,
            set_at: conflict.set_at,
            why: conflict.why.clone(),
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
    /// What the import did with it: `recorded`, `corrected` (a re-scan of the sheet's own
    /// mark, or over the close's default), `unchanged` (the register agrees, or an empty row
    /// over a mark), `held` (unclear bubbles), `held_conflict` (differs from a person's
    /// mark, which stands) or `already_imported`. Absent from jobs stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Why the row was held.
    pub reason: Option<String>,
    /// For `held_conflict`: both values and who set the register's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictView>,
    /// Fill of the present, late and excused bubbles (0 empty .. 1 solid).
    pub fills: Vec<f32>,
    /// How sure the reading is (0..1).
    pub confidence: f32,
    /// Where each bubble's printed ring was seen, from where the page's map puts it (`[x, y]`
    /// in points, y up), or null where it was not seen (the row is then held). Absent from
    /// jobs stored before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ring_offsets_pt: Vec<Option<[f32; 2]>>,
}

/// Why a page was not imported.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageProblem {
    /// Stable code: `unreadable_page`, `unreadable_photo`, `not_a_sheet`, `unreadable_qr`,
    /// `foreign_qr`, `distorted_page` (a photo too tilted or a page curled: retake it),
    /// `misplaced_rows` (rows not where the sheet prints them), `unknown_session`,
    /// `forbidden`, `session_cancelled`, `roster_changed`, `refused`.
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
    /// Rows held for review: unclear bubbles.
    pub held_for_review: u32,
    /// Rows held for review because they differ from a mark a person set.
    #[serde(default)]
    pub held_conflict: u32,
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
    /// Rows held for review (unclear bubbles), over all pages.
    pub held_for_review: u32,
    /// Rows held for review because they differ from a mark a person set, over all pages.
    #[serde(default)]
    pub held_conflict: u32,
    /// Pages not imported.
    pub page_errors: u32,
    /// What the rows of the pages read said.
    pub totals: Totals,
    /// Page by page.
    pub page_results: Vec<PageReport>,
    /// The import breaker after the job.
    pub breaker: BreakerSnapshot,
}

/// A page problem.
pub(super) fn problem(code: &str, detail: impl Into<String>) -> PageProblem {
    PageProblem {
        code: code.to_string(),
        detail: detail.into(),
    }
}

impl PageReport {
    /// A page of the upload, nothing read yet.
    pub(super) fn new(page: u32, sha256: Option<String>) -> Self {
        PageReport {
            page,
            sha256,
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
            held_conflict: 0,
            already_imported: false,
            counts: Totals::default(),
            rows: Vec::new(),
            error: None,
            image: None,
        }
    }

    /// Fills in what the page's command wrote, row by row; `names` names the users who set
    /// the marks a row conflicts with.
    pub(super) fn recorded(
        &mut self,
        events: &[RegisterEvent],
        mut rows: Vec<RowReport>,
        mut counts: SheetCounts,
        names: &HashMap<String, String>,
    ) {
        self.already_imported = events.is_empty();
        let mut outcomes = HashMap::new();
        for event in events {
            match event {
                RegisterEvent::AttendanceRecorded { student_id, .. } => {
                    self.marks_recorded += 1;
                    outcomes.insert(student_id.as_str(), ("recorded", None));
                }
                RegisterEvent::AttendanceCorrected { student_id, .. } => {
                    self.corrections += 1;
                    outcomes.insert(student_id.as_str(), ("corrected", None));
                }
                RegisterEvent::MarksHeldForReview { held, .. } => {
                    for mark in held {
                        let outcome = match mark.kind {
                            HeldKind::Unclear => "held",
                            HeldKind::Conflict => "held_conflict",
                        };
                        outcomes
                            .insert(mark.student_id.as_str(), (outcome, mark.conflict.as_ref()));
                    }
                }
                // The register's own count of what the page did.
                RegisterEvent::SheetImported { counts: stored, .. } => counts = *stored,
                _ => {}
            }
        }
        let unchanged = if self.already_imported {
            "already_imported"
        } else {
            "unchanged"
        };
        for row in &mut rows {
            let (outcome, conflict) = outcomes
                .get(row.student_id.as_str())
                .copied()
                .unwrap_or((unchanged, None));
            row.outcome = Some(outcome.to_string());
            if let Some(conflict) = conflict {
                let view = ConflictView::new(conflict, names);
                row.reason = Some(view.summary.clone());
                row.conflict = Some(view);
            }
        }
        self.rows_read = rows.len() as u32;
        self.rows = rows;
        self.held_for_review = counts.held;
        self.held_conflict = counts.held_conflict;
        self.counts = counts.into();
    }
}

impl SheetJob {
    /// The job of an import, its totals summed over the pages.
    pub(super) fn new(
        id: Uuid,
        created_by: String,
        file_sha256: String,
        sessions: Vec<String>,
        pages: Vec<PageReport>,
        breaker: BreakerSnapshot,
    ) -> Self {
        let mut totals = Totals::default();
        for p in &pages {
            totals.present += p.counts.present;
            totals.late += p.counts.late;
            totals.excused += p.counts.excused;
            totals.absent += p.counts.absent;
            totals.held += p.counts.held;
            totals.held_conflict += p.counts.held_conflict;
        }
        SheetJob {
            job_id: id.to_string(),
            created_at: Utc::now(),
            created_by,
            file_sha256,
            pages: pages.len() as u32,
            sessions,
            marks_recorded: pages.iter().map(|r| r.marks_recorded + r.corrections).sum(),
            held_for_review: pages.iter().map(|r| r.held_for_review).sum(),
            held_conflict: pages.iter().map(|r| r.held_conflict).sum(),
            page_errors: pages.iter().filter(|r| r.error.is_some()).count() as u32,
            totals,
            page_results: pages,
            breaker,
        }
    }
}
