//! Register views: each session's roster with every student's current status, how and by
//! whom it was taken, when, and whether (and why) it was corrected. One pure fold
//! ([`apply`]) per session, stored as one document per session plus one searchable row per
//! mark (`rm_attendance_records`).

pub mod store;
#[cfg(test)]
mod tests;

use crate::event::{DomainEvent, ProjectedEvent};
use crate::projector::Changes;
use chrono::{DateTime, Utc};
use domain::course::CourseEvent;
use domain::register::RegisterEvent;
use domain::{Method, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One student's line of a register.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegisterRow {
    /// Current status, none while unmarked.
    pub status: Option<Status>,
    /// How the current status was taken.
    pub method: Option<Method>,
    /// Who set it (user id).
    pub recorded_by: Option<String>,
    /// When it was set.
    pub recorded_at: Option<DateTime<Utc>>,
    /// The remark given with the first mark.
    pub remark: Option<String>,
    /// Whether it was corrected.
    pub corrected: bool,
    /// The reason of the latest correction.
    pub correction_reason: Option<String>,
    /// Why the row of a scanned sheet is held for review, while it is.
    #[serde(default)]
    pub held_for_review: Option<String>,
    /// Taken off the roster by an amendment: the line is kept (its record row too) with no
    /// status, so that nothing counts it and no reader shows it.
    #[serde(default)]
    pub removed: bool,
}

/// The view of one session's register.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
// Documents written before a field was added read it as its default.
#[serde(default)]
pub struct RegisterView {
    /// Session id.
    pub session_id: String,
    /// Course code.
    pub course_id: String,
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: Option<DateTime<Utc>>,
    /// Length in minutes.
    pub duration_minutes: u32,
    /// Whether cancelled.
    pub cancelled: bool,
    /// Whether the register was opened.
    pub opened: bool,
    /// Whether it was closed.
    pub closed: bool,
    /// The register's version (its last sequence).
    pub version: i64,
    /// Roster rows by student number (empty until opened).
    pub rows: BTreeMap<String, RegisterRow>,
    /// Global position of the last event applied.
    pub position: i64,
    /// What changed since the view was loaded or saved (not stored).
    #[serde(skip)]
    pub changes: Changes,
}

/// The session an event concerns, if it concerns one.
pub fn session_of(event: &ProjectedEvent) -> Option<String> {
    match &event.event {
        DomainEvent::Register(_) => Some(event.aggregate_id.clone()),
        DomainEvent::Course(CourseEvent::SessionScheduled { session_id, .. })
        | DomainEvent::Course(CourseEvent::SessionCancelled { session_id, .. })
        | DomainEvent::Course(CourseEvent::SessionRescheduled { session_id, .. })
        | DomainEvent::Course(CourseEvent::SessionRestored { session_id, .. })
        | DomainEvent::Course(CourseEvent::SessionRenamed { session_id, .. }) => {
            Some(session_id.to_string())
        }
        DomainEvent::Course(_) | DomainEvent::Standing(_) => None,
    }
}

/// Applies one event to the view of its session.
pub fn apply(view: &mut RegisterView, event: &ProjectedEvent) {
    view.position = view.position.max(event.position);
    match &event.event {
        DomainEvent::Course(CourseEvent::SessionScheduled {
            session_id,
            title,
            starts_at,
            duration_minutes,
            ..
        }) => {
            view.session_id = session_id.to_string();
            view.course_id = event.course_id.clone();
            view.title = title.clone();
            view.starts_at = Some(*starts_at);
            view.duration_minutes = *duration_minutes;
        }
        DomainEvent::Course(CourseEvent::SessionCancelled { .. }) => view.cancelled = true,
        DomainEvent::Course(CourseEvent::SessionRestored { .. }) => view.cancelled = false,
        DomainEvent::Course(CourseEvent::SessionRescheduled {
            starts_at,
            duration_minutes,
            ..
        }) => {
            view.starts_at = Some(*starts_at);
            view.duration_minutes = *duration_minutes;
        }
        DomainEvent::Course(CourseEvent::SessionRenamed { title, .. }) => {
            view.title = title.clone()
        }
        DomainEvent::Course(_) | DomainEvent::Standing(_) => {}
        DomainEvent::Register(e) => {
            view.version = view.version.max(event.sequence);
            apply_register(view, e);
        }
    }
    note_changes(&mut view.changes, &event.event);
}

/// Which lines of the view an event changes: the session's own (the head, which every line
/// repeats) or some students'.
fn note_changes(changes: &mut Changes, event: &DomainEvent) {
    let register = match event {
        DomainEvent::Course(_) => return changes.everything(),
        DomainEvent::Standing(_) => return,
        DomainEvent::Register(e) => e,
    };
    match register {
        RegisterEvent::RegisterOpened { .. } => changes.everything(),
        RegisterEvent::AttendanceRecorded { student_id, .. }
        | RegisterEvent::AttendanceCorrected { student_id, .. }
        | RegisterEvent::ReviewResolved { student_id, .. } => changes.part(student_id.as_str()),
        RegisterEvent::MarksHeldForReview { held, .. } => {
            for mark in held {
                changes.part(mark.student_id.as_str());
            }
        }
        RegisterEvent::RegisterClosed {
            defaulted_absent, ..
        } => {
            for student in defaulted_absent {
                changes.part(student.as_str());
            }
        }
        RegisterEvent::SheetImported { .. }
        | RegisterEvent::RegisterReopened { .. }
        | RegisterEvent::CheckInOpened { .. }
        | RegisterEvent::CheckInClosed { .. } => {}
        RegisterEvent::RosterAmended { added, removed, .. } => {
            for student in added.iter().chain(removed) {
                changes.part(student.as_str());
            }
        }
    }
}

fn apply_register(view: &mut RegisterView, event: &RegisterEvent) {
    match event {
        RegisterEvent::RegisterOpened {
            session_id,
            course_id,
            roster,
            ..
        } => {
            view.session_id = session_id.to_string();
            view.course_id = course_id.to_string();
            view.opened = true;
            for student in roster {
                view.rows.entry(student.to_string()).or_default();
            }
        }
        RegisterEvent::AttendanceRecorded {
            student_id,
            status,
            method,
            remark,
            by,
            at,
        } => {
            let row = view.rows.entry(student_id.to_string()).or_default();
            *row = RegisterRow {
                status: Some(*status),
                method: Some(*method),
                recorded_by: Some(by.user_id.to_string()),
                recorded_at: Some(*at),
                remark: remark.clone(),
                corrected: false,
                correction_reason: None,
                held_for_review: None,
                removed: false,
            };
        }
        RegisterEvent::AttendanceCorrected {
            student_id,
            new_status,
            reason,
            method,
            by,
            at,
            ..
        } => {
            let row = view.rows.entry(student_id.to_string()).or_default();
            row.status = Some(*new_status);
            row.method = Some(*method);
            row.recorded_by = Some(by.user_id.to_string());
            row.recorded_at = Some(*at);
            row.corrected = true;
            row.correction_reason = Some(reason.clone());
            row.held_for_review = None;
        }
        RegisterEvent::MarksHeldForReview { held, .. } => {
            for mark in held {
                let row = view.rows.entry(mark.student_id.to_string()).or_default();
                row.held_for_review = Some(mark.reason.clone());
            }
        }
        RegisterEvent::ReviewResolved { student_id, .. } => {
            if let Some(row) = view.rows.get_mut(student_id.as_str()) {
                row.held_for_review = None;
            }
        }
        RegisterEvent::SheetImported { .. }
        | RegisterEvent::CheckInOpened { .. }
        | RegisterEvent::CheckInClosed { .. } => {}
        RegisterEvent::RegisterReopened { .. } => view.closed = false,
        RegisterEvent::RosterAmended { added, removed, .. } => {
            for student in removed {
                view.rows.insert(
                    student.to_string(),
                    RegisterRow {
                        removed: true,
                        ..RegisterRow::default()
                    },
                );
            }
            for student in added {
                view.rows
                    .insert(student.to_string(), RegisterRow::default());
            }
        }
        RegisterEvent::RegisterClosed {
            defaulted_absent,
            by,
            at,
        } => {
            view.closed = true;
            for student in defaulted_absent {
                let row = view.rows.entry(student.to_string()).or_default();
                row.status = Some(Status::Absent);
                row.method = Some(Method::Close);
                row.recorded_by = Some(by.user_id.to_string());
                row.recorded_at = Some(*at);
            }
        }
    }
}
