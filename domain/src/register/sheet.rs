//! What a scanned sheet page and a review of its held rows do to a register.
//!
//! Each row follows the rule between writers ([`super::writers`]): a sheet records what
//! nobody recorded, re-reads its own marks (and the close's defaults), lets an empty row
//! replace nothing, and never changes a person's mark: a row that differs from one is held
//! for review with both values. A review decision is a person's: replacing the mark is a
//! correction by the reviewer, keeping it clears the hold.

use super::aggregate::Decision;
use super::writers::{self, Outcome, Reading, Writer};
use super::{
    HeldConflict, HeldKind, HeldMark, Mark, Register, RegisterError, RegisterEvent, SheetCounts,
    SheetRead, SheetRow,
};
use crate::{Actor, Method, Status, StudentId};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Reason of a correction made by a sheet whose reading differs from the sheet's own mark.
pub const SHEET_RESCAN_REASON: &str = "sheet re-scan";
/// Reason of a correction made by a sheet over the close's default.
pub const SHEET_IMPORT_REASON: &str = "paper sheet import";
/// Reason of a correction made by deciding a held mark, when the reviewer gives none.
pub const REVIEW_REASON: &str = "review of a held sheet mark";

/// What importing one row of a sheet does to the register.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    /// Nothing was recorded: the row's status is recorded.
    Record(Status),
    /// The register already says what the row says.
    Agree,
    /// An empty row over a mark: the mark (this status) stands.
    Keep(Status),
    /// The sheet's own earlier mark, or the close's default, is corrected.
    Replace {
        /// The status before.
        from: Status,
        /// The row's status.
        to: Status,
        /// The correction's reason.
        reason: &'static str,
    },
    /// Bubbles that cannot be read with certainty: held for review, nothing recorded.
    HeldUnclear(HeldMark),
    /// A person's mark that the row contradicts: it stands, and the row is held for review.
    HeldConflict(HeldMark),
}

impl Register {
    /// What importing `row` does to this register. The import and the offline preview
    /// (`attendance sheet read --session`) both ask this, so they cannot differ.
    pub fn sheet_row_outcome(&self, row: &SheetRow) -> RowOutcome {
        let student_id = row.student_id.clone();
        let reading = match &row.read {
            SheetRead::Held { reason, candidates } => {
                return RowOutcome::HeldUnclear(HeldMark {
                    student_id,
                    reason: reason.clone(),
                    candidates: candidates.clone(),
                    kind: HeldKind::Unclear,
                    conflict: None,
                });
            }
            // A sheet has no absent bubble: absent is an empty row, a student who wrote nothing.
            SheetRead::Mark(Status::Absent) => Reading::Nothing,
            SheetRead::Mark(status) => Reading::Saw(*status),
        };
        let current = self.roster.get(&student_id).and_then(Option::as_ref);
        match writers::outcome(Writer::Sheet, reading, current) {
            Outcome::Record(status) => RowOutcome::Record(status),
            Outcome::Agree => RowOutcome::Agree,
            Outcome::Keep(mark) => RowOutcome::Keep(mark.status),
            Outcome::Replace(mark, to) => RowOutcome::Replace {
                from: mark.status,
                to,
                reason: if mark.writer == Writer::Sheet {
                    SHEET_RESCAN_REASON
                } else {
                    SHEET_IMPORT_REASON
                },
            },
            Outcome::Conflict(mark) => {
                RowOutcome::HeldConflict(held_conflict(student_id, reading.status(), mark))
            }
        }
    }

    pub(super) fn import_sheet(
        &self,
        sha256: String,
        page: u32,
        pages: u32,
        rows: Vec<SheetRow>,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Decision {
        if self.sheets.contains(&sha256) {
            return Ok(Vec::new());
        }
        let mut seen = BTreeSet::new();
        let mut events = Vec::new();
        let mut held = Vec::new();
        let mut counts = SheetCounts::default();
        for row in rows {
            if !self.roster.contains_key(&row.student_id) {
                return Err(RegisterError::NotOnRoster(row.student_id));
            }
            if !seen.insert(row.student_id.clone()) {
                return Err(RegisterError::DuplicateRow(row.student_id));
            }
            if let SheetRead::Mark(status) = row.read {
                counts.count(status);
            }
            let student_id = row.student_id.clone();
            match self.sheet_row_outcome(&row) {
                RowOutcome::Record(status) => events.push(RegisterEvent::AttendanceRecorded {
                    student_id,
                    status,
                    method: Method::Sheet,
                    remark: None,
                    by: by.clone(),
                    at,
                }),
                RowOutcome::Agree | RowOutcome::Keep(_) => {}
                RowOutcome::Replace { from, to, reason } => {
                    events.push(RegisterEvent::AttendanceCorrected {
                        student_id,
                        old_status: from,
                        new_status: to,
                        reason: reason.to_string(),
                        method: Method::Sheet,
                        by: by.clone(),
                        at,
                    })
                }
                RowOutcome::HeldUnclear(mark) => {
                    counts.held += 1;
                    held.push(mark);
                }
                RowOutcome::HeldConflict(mark) => {
                    counts.held_conflict += 1;
                    held.push(mark);
                }
            }
        }
        if !held.is_empty() {
            events.push(RegisterEvent::MarksHeldForReview {
                sheet_sha256: sha256.clone(),
                page,
                held,
                by: by.clone(),
                at,
            });
        }
        events.push(RegisterEvent::SheetImported {
            sha256,
            page,
            pages,
            counts,
            by,
            at,
        });
        Ok(events)
    }

    /// A held row decided as `status`: recorded when unmarked, corrected by the reviewer
    /// (with `reason`, or [`REVIEW_REASON`]) when different, kept when equal.
    pub(super) fn resolve_review(
        &self,
        student_id: StudentId,
        status: Status,
        reason: Option<String>,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Decision {
        if !self.held.contains_key(&student_id) {
            return Err(RegisterError::NothingToReview(student_id));
        }
        let reason = match reason {
            Some(reason) if reason.trim().is_empty() => return Err(RegisterError::ReasonRequired),
            Some(reason) => reason,
            None => REVIEW_REASON.to_string(),
        };
        let mut events = Vec::new();
        match self.status_of(&student_id) {
            None => events.push(RegisterEvent::AttendanceRecorded {
                student_id: student_id.clone(),
                status,
                method: Method::Sheet,
                remark: None,
                by: by.clone(),
                at,
            }),
            Some(current) if current == status => {}
            Some(current) => events.push(RegisterEvent::AttendanceCorrected {
                student_id: student_id.clone(),
                old_status: current,
                new_status: status,
                reason,
                method: Method::Sheet,
                by: by.clone(),
                at,
            }),
        }
        events.push(RegisterEvent::ReviewResolved {
            student_id,
            status,
            by,
            at,
        });
        Ok(events)
    }

    /// A held row decided by keeping the register's mark: only the hold is cleared.
    pub(super) fn keep_held_mark(
        &self,
        student_id: StudentId,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Decision {
        if !self.held.contains_key(&student_id) {
            return Err(RegisterError::NothingToReview(student_id));
        }
        let Some(status) = self.status_of(&student_id) else {
            return Err(RegisterError::NothingToKeep(student_id));
        };
        Ok(vec![RegisterEvent::ReviewResolved {
            student_id,
            status,
            by,
            at,
        }])
    }
}

/// The hold of a row whose reading (`sheet`) differs from a person's `mark`, saying both
/// values and who set the register's, when and why.
fn held_conflict(student_id: StudentId, sheet: Status, mark: &Mark) -> HeldMark {
    let conflict = HeldConflict {
        sheet,
        register: mark.status,
        method: mark.method,
        set_by: mark.by.clone(),
        set_at: mark.at,
        why: mark.reason.clone().or_else(|| mark.remark.clone()),
    };
    HeldMark {
        student_id,
        // Events hold user ids, never names: readers name the user when they show it.
        reason: conflict.describe(conflict.set_by.user_id.as_str()),
        candidates: vec![sheet],
        kind: HeldKind::Conflict,
        conflict: Some(conflict),
    }
}
