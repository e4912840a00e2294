//! What a scanned sheet page and a review of its held rows do to a register.

use super::aggregate::Decision;
use super::{HeldMark, Register, RegisterError, RegisterEvent, SheetCounts, SheetRead, SheetRow};
use crate::{Actor, Method, Status, StudentId};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Reason of a correction made by a sheet whose reading differs from the mark.
pub const SHEET_RESCAN_REASON: &str = "sheet re-scan";
/// Reason of a correction made by a sheet over a mark taken another way.
pub const SHEET_IMPORT_REASON: &str = "paper sheet import";
/// Reason of a correction made by deciding a held mark.
pub const REVIEW_REASON: &str = "review of a held sheet mark";

impl Register {
    /// A student's mark set to `status` by a sheet or a review: recorded when unmarked,
    /// corrected when different (with `reason`, or [`SHEET_RESCAN_REASON`] when the mark
    /// came from a sheet), nothing when equal.
    fn set_from_sheet(
        &self,
        student_id: &StudentId,
        status: Status,
        reason: &str,
        by: &Actor,
        at: DateTime<Utc>,
    ) -> Option<RegisterEvent> {
        match self.roster.get(student_id).and_then(|m| m.as_ref()) {
            None => Some(RegisterEvent::AttendanceRecorded {
                student_id: student_id.clone(),
                status,
                method: Method::Sheet,
                remark: None,
                by: by.clone(),
                at,
            }),
            Some(mark) if mark.status == status => None,
            Some(mark) => Some(RegisterEvent::AttendanceCorrected {
                student_id: student_id.clone(),
                old_status: mark.status,
                new_status: status,
                reason: if mark.method == Method::Sheet && reason == SHEET_IMPORT_REASON {
                    SHEET_RESCAN_REASON.to_string()
                } else {
                    reason.to_string()
                },
                method: Method::Sheet,
                by: by.clone(),
                at,
            }),
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
            match row.read {
                SheetRead::Mark(status) => {
                    counts.count(status);
                    events.extend(self.set_from_sheet(
                        &row.student_id,
                        status,
                        SHEET_IMPORT_REASON,
                        &by,
                        at,
                    ));
                }
                SheetRead::Held { reason, candidates } => {
                    counts.held += 1;
                    held.push(HeldMark {
                        student_id: row.student_id,
                        reason,
                        candidates,
                    });
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

    pub(super) fn resolve_review(
        &self,
        student_id: StudentId,
        status: Status,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Decision {
        if !self.held.contains_key(&student_id) {
            return Err(RegisterError::NothingToReview(student_id));
        }
        let mut events: Vec<RegisterEvent> = self
            .set_from_sheet(&student_id, status, REVIEW_REASON, &by, at)
            .into_iter()
            .collect();
        events.push(RegisterEvent::ReviewResolved {
            student_id,
            status,
            by,
            at,
        });
        Ok(events)
    }
}
