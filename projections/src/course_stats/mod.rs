//! Course statistics: per student counts, rate (per the course policy), at-risk flag, last
//! attended day and absence streak; per session counts. One pure fold ([`apply`]) over a
//! course's events, stored as one document per course; the figures are derived from the
//! document when read ([`derived`]), so a policy change applies to past sessions at once.

pub mod derived;
pub mod store;
#[cfg(test)]
mod tests;

use crate::event::{DomainEvent, ProjectedEvent};
use crate::projector::Changes;
use chrono::{DateTime, Utc};
use domain::course::{CourseEvent, EnrollmentPeriod};
use domain::register::RegisterEvent;
use domain::{AttendancePolicy, Status, Zone};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the statistics remember about a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Cancelled sessions do not count.
    pub cancelled: bool,
}

/// What the statistics remember about a session's register. Kept apart from
/// [`SessionInfo`] (which course events fill) so that the fold gives the same document
/// whichever of a course's and a register's events arrives first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RegisterState {
    /// Whether the register was opened (attendance taken).
    pub taken: bool,
    /// Whether the register was closed.
    pub closed: bool,
}

/// What the course lists filter on (`rm_courses`): the catalogue data beside the name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Catalogue {
    /// Department.
    pub department: Option<String>,
    /// Semester label.
    pub semester: Option<String>,
    /// User ids of the assigned teachers.
    pub teachers: BTreeSet<String>,
    /// Whether the course is archived.
    pub archived: bool,
}

/// The statistics document of one course.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
// Documents written before a field was added read it as its default.
#[serde(default)]
pub struct CourseStats {
    /// Course code.
    pub course_id: String,
    /// Course name.
    pub name: String,
    /// Attendance policy.
    pub policy: AttendancePolicy,
    /// Enrolment periods per student.
    pub enrollments: BTreeMap<String, Vec<EnrollmentPeriod>>,
    /// Sessions by id.
    pub sessions: BTreeMap<String, SessionInfo>,
    /// Register state by session id.
    pub registers: BTreeMap<String, RegisterState>,
    /// Department, semester, teachers, archived (documents written before it was added read
    /// it empty until the migration `0014` filled it in).
    pub catalogue: Catalogue,
    /// The zone the course's days are counted in.
    pub time_zone: Zone,
    /// Current status per student per session.
    pub marks: BTreeMap<String, BTreeMap<String, Status>>,
    /// Global position of the last event applied.
    pub position: i64,
    /// What changed since the document was loaded or saved (not stored).
    #[serde(skip)]
    pub changes: Changes,
}

/// Applies one event of the course to its statistics.
pub fn apply(model: &mut CourseStats, event: &ProjectedEvent) {
    model.position = model.position.max(event.position);
    match &event.event {
        DomainEvent::Course(e) => {
            // Enrolments, sessions and the policy: every student's figures may change.
            model.changes.everything();
            if !apply_catalogue(&mut model.catalogue, e) {
                apply_course(model, e);
            }
        }
        DomainEvent::Register(e) => apply_register(model, &event.aggregate_id, e),
        DomainEvent::Standing(_) => {}
    }
}

/// Applies what the course lists read; true when the event concerns nothing else.
fn apply_catalogue(catalogue: &mut Catalogue, event: &CourseEvent) -> bool {
    match event {
        CourseEvent::CourseCreated { details, .. } | CourseEvent::CourseUpdated { details, .. } => {
            catalogue.department = details.department.clone();
            catalogue.semester = details.semester.clone();
            false
        }
        CourseEvent::TeacherAssigned { teacher, .. } => {
            catalogue.teachers.insert(teacher.to_string());
            true
        }
        CourseEvent::TeacherUnassigned { teacher, .. } => {
            catalogue.teachers.remove(teacher.as_str());
            true
        }
        CourseEvent::CourseArchived { .. } => {
            catalogue.archived = true;
            true
        }
        CourseEvent::CourseRestored { .. } => {
            catalogue.archived = false;
            true
        }
        _ => false,
    }
}

fn apply_course(model: &mut CourseStats, event: &CourseEvent) {
    match event {
        CourseEvent::CourseCreated {
            course_id, details, ..
        } => {
            model.course_id = course_id.to_string();
            model.name = details.name.clone();
        }
        CourseEvent::CourseUpdated { details, .. } => model.name = details.name.clone(),
        CourseEvent::TeacherAssigned { .. }
        | CourseEvent::TeacherUnassigned { .. }
        | CourseEvent::CourseArchived { .. }
        | CourseEvent::CourseRestored { .. } => {}
        CourseEvent::StudentEnrolled {
            student_id,
            effective_from,
            ..
        } => {
            let periods = model.enrollments.entry(student_id.to_string()).or_default();
            periods.push(EnrollmentPeriod {
                from: *effective_from,
                until: None,
            });
        }
        CourseEvent::EnrollmentBackdated {
            student_id,
            effective_from,
            ..
        } => {
            if let Some(open) = model
                .enrollments
                .get_mut(student_id.as_str())
                .and_then(|p| p.last_mut())
            {
                open.from = *effective_from;
            }
        }
        CourseEvent::StudentUnenrolled {
            student_id,
            effective_from,
            ..
        } => {
            if let Some(open) = model
                .enrollments
                .get_mut(student_id.as_str())
                .and_then(|p| p.last_mut())
            {
                open.until = Some(*effective_from);
            }
        }
        CourseEvent::SessionScheduled {
            session_id,
            title,
            starts_at,
            ..
        } => {
            let info = SessionInfo {
                title: title.clone(),
                starts_at: *starts_at,
                cancelled: false,
            };
            model.sessions.insert(session_id.to_string(), info);
        }
        CourseEvent::SessionCancelled { session_id, .. } => {
            if let Some(session) = model.sessions.get_mut(session_id.as_str()) {
                session.cancelled = true;
            }
        }
        CourseEvent::AttendancePolicyChanged { policy, .. } => model.policy = *policy,
        CourseEvent::TimeZoneChanged { time_zone, .. } => model.time_zone = *time_zone,
        CourseEvent::SessionRescheduled {
            session_id,
            starts_at,
            ..
        } => {
            if let Some(session) = model.sessions.get_mut(session_id.as_str()) {
                session.starts_at = *starts_at;
            }
        }
        CourseEvent::SessionRestored { session_id, .. } => {
            if let Some(session) = model.sessions.get_mut(session_id.as_str()) {
                session.cancelled = false;
            }
        }
        CourseEvent::SessionRenamed {
            session_id, title, ..
        } => {
            if let Some(session) = model.sessions.get_mut(session_id.as_str()) {
                session.title = title.clone();
            }
        }
    }
}

fn apply_register(model: &mut CourseStats, session: &str, event: &RegisterEvent) {
    let mut mark = |student: &str, status: Status| {
        model.changes.part(student);
        model
            .marks
            .entry(student.to_string())
            .or_default()
            .insert(session.to_string(), status);
    };
    match event {
        RegisterEvent::RegisterOpened { .. }
        | RegisterEvent::MarksHeldForReview { .. }
        | RegisterEvent::SheetImported { .. }
        | RegisterEvent::CheckInOpened { .. }
        | RegisterEvent::CheckInClosed { .. }
        | RegisterEvent::ReviewResolved { .. } => {}
        RegisterEvent::AttendanceRecorded {
            student_id, status, ..
        } => mark(student_id.as_str(), *status),
        RegisterEvent::AttendanceCorrected {
            student_id,
            new_status,
            ..
        } => mark(student_id.as_str(), *new_status),
        RegisterEvent::RegisterClosed {
            defaulted_absent, ..
        } => {
            for student in defaulted_absent {
                mark(student.as_str(), Status::Absent);
            }
        }
        RegisterEvent::RosterAmended { removed, .. } => {
            // A removed student's mark stops counting (it stays in the history).
            for student in removed {
                model.changes.part(student.as_str());
                if let Some(marks) = model.marks.get_mut(student.as_str()) {
                    marks.remove(session);
                }
            }
        }
        RegisterEvent::RegisterReopened { .. } => {}
    }
    let register = model.registers.entry(session.to_string()).or_default();
    let before = *register;
    register.taken = true;
    register.closed = match event {
        RegisterEvent::RegisterClosed { .. } => true,
        RegisterEvent::RegisterReopened { .. } => false,
        _ => register.closed,
    };
    // The register's state is in the head; no student's figures depend on it.
    if *register != before {
        model.changes.head();
    }
}
