//! Register state, the decision per command, and how events change the state.

use super::writers::{self, Outcome, Reading, Writer};
use super::{HeldMark, RegisterCommand, RegisterError, RegisterEvent, RollCallMark, RowProblem};
use crate::{Actor, CourseId, Method, SessionId, Status, StudentId};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A student's current mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Current status.
    pub status: Status,
    /// How the current status was taken.
    pub method: Method,
    /// Who set the current status.
    pub by: Actor,
    /// When the current status was set.
    pub at: DateTime<Utc>,
    /// The latest remark, if any.
    pub remark: Option<String>,
    /// Whether the mark was ever corrected.
    pub corrected: bool,
    /// Who set the current status, as the rule between writers ranks them
    /// ([`super::writers`]).
    #[serde(default)]
    pub writer: Writer,
    /// Why the current status was set: the latest correction's reason.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The `Register` aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Register {
    /// The session, once opened.
    pub session_id: Option<SessionId>,
    /// The session's course, once opened.
    pub course_id: Option<CourseId>,
    /// The session's start, once opened.
    pub starts_at: Option<DateTime<Utc>>,
    /// The roster with each student's mark (`None` while unmarked).
    pub roster: BTreeMap<StudentId, Option<Mark>>,
    /// Whether the register was closed.
    pub closed: bool,
    /// Sheet rows held for review, by student.
    #[serde(default)]
    pub held: BTreeMap<StudentId, HeldMark>,
    /// SHA-256 of every sheet page imported.
    #[serde(default)]
    pub sheets: BTreeSet<String>,
    /// Students taken off the roster by an amendment.
    #[serde(default)]
    pub removed: BTreeSet<StudentId>,
    /// Whether a person ever reopened the register (the scheduler then leaves it alone).
    #[serde(default)]
    pub reopened: bool,
    /// The check-in window as last opened (registers stored before check-in have none).
    #[serde(default)]
    pub check_in: Option<super::CheckInWindow>,
}

pub(super) type Decision = Result<Vec<RegisterEvent>, RegisterError>;

impl Register {
    /// Whether the register has been opened.
    pub fn is_open(&self) -> bool {
        self.session_id.is_some()
    }

    /// The current status of a student, if marked.
    pub fn status_of(&self, student: &StudentId) -> Option<Status> {
        self.roster
            .get(student)
            .and_then(|mark| mark.as_ref())
            .map(|mark| mark.status)
    }

    /// Decides which events a command causes, without changing anything.
    pub fn decide(&self, command: RegisterCommand) -> Decision {
        match command {
            RegisterCommand::OpenRegister {
                session_id,
                course_id,
                starts_at,
                roster,
                by,
                at,
            } => {
                if self.is_open() {
                    return Err(RegisterError::AlreadyOpened);
                }
                let roster: BTreeSet<_> = roster.into_iter().collect();
                let roster = roster.into_iter().collect();
                Ok(vec![RegisterEvent::RegisterOpened {
                    session_id,
                    course_id,
                    starts_at,
                    roster,
                    by,
                    at,
                }])
            }
            // Nobody opened check-in on a register nobody opened either.
            RegisterCommand::CheckIn { .. } if !self.is_open() => {
                Err(RegisterError::CheckInNotOpen)
            }
            _ if !self.is_open() => Err(RegisterError::NotOpened),
            RegisterCommand::RecordAttendance {
                student_id,
                status,
                method,
                remark,
                by,
                at,
            } => {
                let event = self.record(student_id, status, method, remark, &by, at)?;
                Ok(event.into_iter().collect())
            }
            RegisterCommand::RecordRollCall {
                marks,
                only_unmarked,
                by,
                at,
            } => self.roll_call(marks, only_unmarked, &by, at),
            RegisterCommand::CorrectAttendance {
                student_id,
                status,
                reason,
                method,
                by,
                at,
            } => self.correct(student_id, status, reason, method, by, at),
            RegisterCommand::CloseRegister { by, at } => Ok(self.close(by, at)),
            RegisterCommand::CloseRegisterOnSchedule { by, at } => {
                // A register someone reopened stays open until a person closes it again.
                if self.reopened {
                    return Ok(Vec::new());
                }
                Ok(self.close(by, at))
            }
            RegisterCommand::AmendRoster {
                roster,
                reason,
                by,
                at,
            } => Ok(self.amend_roster(roster, reason, by, at)),
            RegisterCommand::ReopenRegister { reason, by, at } => self.reopen(reason, by, at),
            RegisterCommand::ImportSheetPage {
                sha256,
                page,
                pages,
                rows,
                by,
                at,
            } => self.import_sheet(sha256, page, pages, rows, by, at),
            RegisterCommand::ResolveReview {
                student_id,
                status,
                reason,
                by,
                at,
            } => self.resolve_review(student_id, status, reason, by, at),
            RegisterCommand::KeepHeldMark { student_id, by, at } => {
                self.keep_held_mark(student_id, by, at)
            }
            RegisterCommand::OpenCheckIn {
                window_id,
                opens_at,
                closes_at,
                late_after_minutes,
                networks,
                by,
                at,
            } => self.open_check_in(
                window_id,
                opens_at,
                closes_at,
                late_after_minutes,
                networks,
                by,
                at,
            ),
            RegisterCommand::CloseCheckIn { by, at } => Ok(self.close_check_in(by, at)),
            RegisterCommand::CheckIn {
                student_id,
                window_id,
                address,
                by,
                at,
            } => self.check_in(student_id, window_id, address, by, at),
        }
    }

    /// One first mark: `None` when it repeats the current status.
    fn record(
        &self,
        student_id: StudentId,
        status: Status,
        method: Method,
        remark: Option<String>,
        by: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Option<RegisterEvent>, RegisterError> {
        let Some(mark) = self.roster.get(&student_id) else {
            return Err(self.not_on_roster(student_id));
        };
        match mark {
            Some(mark) if mark.status == status => Ok(None),
            _ if self.closed => Err(RegisterError::Closed),
            Some(mark) => Err(RegisterError::CorrectionRequired {
                student_id,
                current: mark.status,
            }),
            None => Ok(Some(RegisterEvent::AttendanceRecorded {
                student_id,
                status,
                method,
                remark,
                by: by.clone(),
                at,
            })),
        }
    }

    fn roll_call(
        &self,
        marks: Vec<RollCallMark>,
        only_unmarked: bool,
        by: &Actor,
        at: DateTime<Utc>,
    ) -> Decision {
        if marks.is_empty() {
            return Err(RegisterError::EmptyRollCall);
        }
        let mut seen = BTreeSet::new();
        let mut events = Vec::new();
        let mut problems = Vec::new();
        for (index, row) in marks.into_iter().enumerate() {
            let student_id = row.student_id;
            if !seen.insert(student_id.clone()) {
                let problem = RegisterError::DuplicateRow(student_id.clone());
                problems.push(RowProblem {
                    index,
                    student_id,
                    problem,
                });
                continue;
            }
            if only_unmarked && self.status_of(&student_id).is_some() {
                continue;
            }
            match self.record(
                student_id.clone(),
                row.status,
                Method::Bulk,
                row.remark,
                by,
                at,
            ) {
                Ok(event) => events.extend(event),
                Err(problem) => problems.push(RowProblem {
                    index,
                    student_id,
                    problem,
                }),
            }
        }
        if problems.is_empty() {
            Ok(events)
        } else {
            Err(RegisterError::RollCallRefused(problems))
        }
    }

    fn correct(
        &self,
        student_id: StudentId,
        new_status: Status,
        reason: String,
        method: Method,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Decision {
        let Some(mark) = self.roster.get(&student_id) else {
            return Err(self.not_on_roster(student_id));
        };
        if reason.trim().is_empty() {
            return Err(RegisterError::ReasonRequired);
        }
        match mark {
            None => Err(RegisterError::NotMarked(student_id)),
            Some(mark) if mark.status == new_status => Ok(Vec::new()),
            Some(mark) => Ok(vec![RegisterEvent::AttendanceCorrected {
                student_id,
                old_status: mark.status,
                new_status,
                reason,
                method,
                by,
                at,
            }]),
        }
    }

    fn close(&self, by: Actor, at: DateTime<Utc>) -> Vec<RegisterEvent> {
        if self.closed {
            return Vec::new();
        }
        // The close is an automatic writer: it records absent only where nothing is recorded.
        let defaulted_absent = self
            .roster
            .iter()
            .filter(|(_, mark)| {
                let outcome =
                    writers::outcome(Writer::CloseDefault, Reading::Nothing, mark.as_ref());
                matches!(outcome, Outcome::Record(_))
            })
            .map(|(student, _)| student.clone())
            .collect();
        vec![RegisterEvent::RegisterClosed {
            defaulted_absent,
            by,
            at,
        }]
    }
}

impl crate::Decide for Register {
    fn decide(&self, command: RegisterCommand) -> Result<Vec<RegisterEvent>, RegisterError> {
        Register::decide(self, command)
    }
}

impl Aggregate for Register {
    const TYPE: &'static str = "register";
    type Command = RegisterCommand;
    type Event = RegisterEvent;
    type Error = RegisterError;
    type Services = ();

    async fn handle(
        &mut self,
        command: RegisterCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), RegisterError> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: RegisterEvent) {
        match event {
            RegisterEvent::RegisterOpened {
                session_id,
                course_id,
                starts_at,
                roster,
                ..
            } => {
                self.session_id = Some(session_id);
                self.course_id = Some(course_id);
                self.starts_at = Some(starts_at);
                self.roster = roster.into_iter().map(|student| (student, None)).collect();
            }
            RegisterEvent::AttendanceRecorded {
                student_id,
                status,
                method,
                remark,
                by,
                at,
            } => {
                let mark = Mark {
                    status,
                    method,
                    by,
                    at,
                    remark,
                    corrected: false,
                    writer: Writer::of(method),
                    reason: None,
                };
                self.held.remove(&student_id);
                self.roster.insert(student_id, Some(mark));
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
                self.held.remove(&student_id);
                if let Some(Some(mark)) = self.roster.get_mut(&student_id) {
                    *mark = Mark {
                        status: new_status,
                        method,
                        by,
                        at,
                        remark: mark.remark.take(),
                        corrected: true,
                        writer: Writer::of(method),
                        reason: Some(reason),
                    };
                }
            }
            RegisterEvent::MarksHeldForReview { held, .. } => {
                for mark in held {
                    self.held.insert(mark.student_id.clone(), mark);
                }
            }
            RegisterEvent::SheetImported { sha256, .. } => {
                self.sheets.insert(sha256);
            }
            RegisterEvent::ReviewResolved { student_id, .. } => {
                self.held.remove(&student_id);
                // Whatever the mark's events say, a person decided it.
                if let Some(Some(mark)) = self.roster.get_mut(&student_id) {
                    mark.writer = Writer::Person;
                }
            }
            change @ (RegisterEvent::RosterAmended { .. }
            | RegisterEvent::RegisterReopened { .. }) => self.apply_roster(change),
            window
            @ (RegisterEvent::CheckInOpened { .. } | RegisterEvent::CheckInClosed { .. }) => {
                self.apply_check_in(window)
            }
            RegisterEvent::RegisterClosed {
                defaulted_absent,
                by,
                at,
            } => {
                self.closed = true;
                for student in defaulted_absent {
                    let mark = Mark {
                        status: Status::Absent,
                        method: Method::Close,
                        by: by.clone(),
                        at,
                        remark: None,
                        corrected: false,
                        writer: Writer::CloseDefault,
                        reason: None,
                    };
                    self.roster.insert(student, Some(mark));
                }
            }
        }
    }
}
