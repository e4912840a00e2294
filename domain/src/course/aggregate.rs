//! Course state, the decision per command, and how events change the state.

use super::{CourseCommand, CourseError, CourseEvent};
use crate::ids::CourseId;
use crate::{AttendancePolicy, SessionId, StudentId, UserId, Zone};
use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Catalogue data of a course.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CourseDetails {
    /// Display name, e.g. "Introduction to Programming".
    pub name: String,
    /// Owning department.
    pub department: Option<String>,
    /// Credit points.
    pub credits: Option<u32>,
    /// Semester label, e.g. "2026-fall".
    pub semester: Option<String>,
}

/// One stretch of time a student is enrolled: from `from` (inclusive) to `until`
/// (exclusive, open-ended while `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentPeriod {
    /// First enrolled day.
    pub from: NaiveDate,
    /// First day no longer enrolled.
    pub until: Option<NaiveDate>,
}

impl EnrollmentPeriod {
    /// Whether the period covers a day.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|until| day < until)
    }
}

/// A session on the course's calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledSession {
    /// Title.
    pub title: String,
    /// Start time.
    pub starts_at: DateTime<Utc>,
    /// Length in minutes.
    pub duration_minutes: u32,
    /// Whether it was cancelled.
    pub cancelled: bool,
}

/// The `Course` aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Course {
    /// The course code, once created.
    pub id: Option<CourseId>,
    /// Catalogue data.
    pub details: CourseDetails,
    /// Assigned teachers.
    pub teachers: BTreeSet<UserId>,
    /// Enrolment periods per student, oldest first.
    pub enrollments: BTreeMap<StudentId, Vec<EnrollmentPeriod>>,
    /// Sessions by id.
    pub sessions: BTreeMap<SessionId, ScheduledSession>,
    /// The attendance policy.
    pub policy: AttendancePolicy,
    /// The zone its days are counted in (UTC for courses created before zones existed).
    #[serde(default)]
    pub time_zone: Zone,
    /// Whether the course is archived (false for courses stored before archiving existed).
    #[serde(default)]
    pub archived: bool,
}

impl Course {
    /// Whether the course has been created.
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    /// Whether a user teaches this course.
    pub fn is_taught_by(&self, user: &UserId) -> bool {
        self.teachers.contains(user)
    }

    /// Whether a student is enrolled on a day.
    pub fn is_enrolled_on(&self, student: &StudentId, day: NaiveDate) -> bool {
        self.enrollments
            .get(student)
            .is_some_and(|periods| periods.iter().any(|p| p.covers(day)))
    }

    /// The course's day of an instant: the local date in the course's zone.
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        self.time_zone.day_of(at)
    }

    /// Whether a student has ever been enrolled.
    pub fn has_ever_enrolled(&self, student: &StudentId) -> bool {
        self.enrollments.contains_key(student)
    }

    /// The students enrolled on a day, in id order: a session's roster.
    pub fn roster_on(&self, day: NaiveDate) -> Vec<StudentId> {
        self.enrollments
            .iter()
            .filter(|(_, periods)| periods.iter().any(|p| p.covers(day)))
            .map(|(student, _)| student.clone())
            .collect()
    }

    /// Decides which events a command causes, without changing anything.
    pub fn decide(&self, command: CourseCommand) -> Result<Vec<CourseEvent>, CourseError> {
        match command {
            CourseCommand::CreateCourse {
                course_id,
                details,
                time_zone,
                by,
                at,
            } => self.create(course_id, details, time_zone, by, at),
            _ if !self.exists() => Err(CourseError::NotFound),
            CourseCommand::UpdateCourse { details, by, at } => {
                check_details(&details)?;
                Ok(changed(
                    self.details != details,
                    CourseEvent::CourseUpdated { details, by, at },
                ))
            }
            CourseCommand::AssignTeacher { teacher, by, at } => Ok(changed(
                !self.is_taught_by(&teacher),
                CourseEvent::TeacherAssigned { teacher, by, at },
            )),
            CourseCommand::UnassignTeacher { teacher, by, at } => {
                if !self.is_taught_by(&teacher) {
                    return Err(CourseError::TeacherNotAssigned(teacher));
                }
                Ok(vec![CourseEvent::TeacherUnassigned { teacher, by, at }])
            }
            CourseCommand::EnrollStudent {
                student_id,
                effective_from,
                by,
                at,
            } => self.enroll(student_id, effective_from, by, at),
            CourseCommand::UnenrollStudent {
                student_id,
                effective_from,
                by,
                at,
            } => self.unenroll(student_id, effective_from, by, at),
            CourseCommand::ScheduleSession {
                session_id,
                title,
                starts_at,
                duration_minutes,
                by,
                at,
            } => {
                self.refuse_if_archived()?;
                self.schedule(session_id, title, starts_at, duration_minutes, by, at)
            }
            CourseCommand::ScheduleTerm {
                timetable,
                session_ids,
                by,
                at,
            } => {
                self.refuse_if_archived()?;
                self.schedule_term(&timetable, session_ids, by, at)
            }
            CourseCommand::CancelSession {
                session_id,
                reason,
                by,
                at,
            } => self.cancel(session_id, reason, by, at),
            CourseCommand::RescheduleSession {
                session_id,
                starts_at,
                duration_minutes,
                reason,
                by,
                at,
            } => self.reschedule(session_id, starts_at, duration_minutes, &reason, (by, at)),
            CourseCommand::RestoreSession {
                session_id,
                reason,
                by,
                at,
            } => self.restore(session_id, &reason, (by, at)),
            CourseCommand::RenameSession {
                session_id,
                title,
                reason,
                by,
                at,
            } => self.rename(session_id, &title, reason, (by, at)),
            CourseCommand::SetTimeZone { time_zone, by, at } => Ok(changed(
                self.time_zone != time_zone,
                CourseEvent::TimeZoneChanged { time_zone, by, at },
            )),
            CourseCommand::SetPolicy { policy, by, at } => {
                policy.validate()?;
                Ok(changed(
                    self.policy != policy,
                    CourseEvent::AttendancePolicyChanged { policy, by, at },
                ))
            }
            CourseCommand::ArchiveCourse { reason, by, at } => Ok(changed(
                !self.archived,
                CourseEvent::CourseArchived { reason, by, at },
            )),
            CourseCommand::RestoreCourse { by, at } => Ok(changed(
                self.archived,
                CourseEvent::CourseRestored { by, at },
            )),
        }
    }

    /// An archived course takes no new sessions.
    fn refuse_if_archived(&self) -> Result<(), CourseError> {
        if self.archived {
            return Err(CourseError::Archived);
        }
        Ok(())
    }

    fn create(
        &self,
        course_id: CourseId,
        details: CourseDetails,
        time_zone: Zone,
        by: crate::Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<CourseEvent>, CourseError> {
        if self.exists() {
            return Err(CourseError::AlreadyExists);
        }
        check_details(&details)?;
        let created = CourseEvent::CourseCreated {
            course_id,
            details,
            by: by.clone(),
            at,
        };
        // A course without a zone event counts its days in UTC (as every course did before
        // zones existed), so only another zone needs saying.
        let mut events = vec![created];
        if !time_zone.is_utc() {
            events.push(CourseEvent::TimeZoneChanged { time_zone, by, at });
        }
        Ok(events)
    }

    fn enroll(
        &self,
        student_id: StudentId,
        effective_from: NaiveDate,
        by: crate::Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<CourseEvent>, CourseError> {
        let periods = self.enrollments.get(&student_id);
        match periods.and_then(|periods| periods.last()) {
            // Enrolled from an earlier date than recorded: the enrolment starts earlier,
            // unless that reaches back into the previous enrolment.
            Some(period) if period.until.is_none() && effective_from < period.from => {
                let previous = periods.and_then(|p| p.iter().rev().nth(1));
                if previous.is_some_and(|p| p.until.is_some_and(|until| effective_from < until)) {
                    return Err(CourseError::EnrollmentOverlaps(student_id));
                }
                Ok(vec![CourseEvent::EnrollmentBackdated {
                    student_id,
                    effective_from,
                    by,
                    at,
                }])
            }
            // Already enrolled from that date or earlier: enrolling again changes nothing.
            Some(period) if period.until.is_none() => Ok(Vec::new()),
            Some(period) if period.until.is_some_and(|until| effective_from < until) => {
                Err(CourseError::EnrollmentOverlaps(student_id))
            }
            _ => Ok(vec![CourseEvent::StudentEnrolled {
                student_id,
                effective_from,
                by,
                at,
            }]),
        }
    }

    fn unenroll(
        &self,
        student_id: StudentId,
        effective_from: NaiveDate,
        by: crate::Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<CourseEvent>, CourseError> {
        let open = self
            .enrollments
            .get(&student_id)
            .and_then(|periods| periods.last())
            .filter(|period| period.until.is_none());
        match open {
            None => Err(CourseError::NotEnrolled(student_id)),
            Some(period) if effective_from <= period.from => {
                Err(CourseError::NotEnrolled(student_id))
            }
            Some(_) => Ok(vec![CourseEvent::StudentUnenrolled {
                student_id,
                effective_from,
                by,
                at,
            }]),
        }
    }

    fn schedule(
        &self,
        session_id: SessionId,
        title: String,
        starts_at: DateTime<Utc>,
        duration_minutes: u32,
        by: crate::Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<CourseEvent>, CourseError> {
        if self.sessions.contains_key(&session_id) {
            return Err(CourseError::SessionExists(session_id));
        }
        if title.trim().is_empty() {
            return Err(CourseError::TitleRequired);
        }
        if !(1..=1440).contains(&duration_minutes) {
            return Err(CourseError::InvalidDuration);
        }
        Ok(vec![CourseEvent::SessionScheduled {
            session_id,
            title,
            starts_at,
            duration_minutes,
            by,
            at,
        }])
    }

    /// Every session of a timetable, each checked as a single session would be; one refusal
    /// refuses them all.
    fn schedule_term(
        &self,
        timetable: &super::Timetable,
        session_ids: Vec<SessionId>,
        by: crate::Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<CourseEvent>, CourseError> {
        let planned = timetable.sessions(self.time_zone)?;
        if planned.len() != session_ids.len() {
            return Err(CourseError::SessionIdsMismatch {
                expected: planned.len(),
                given: session_ids.len(),
            });
        }
        let mut seen = BTreeSet::new();
        let mut events = Vec::with_capacity(planned.len());
        for (session, id) in planned.into_iter().zip(session_ids) {
            if !seen.insert(id.clone()) {
                return Err(CourseError::SessionExists(id));
            }
            let by = by.clone();
            let duration = timetable.duration_minutes;
            events.extend(self.schedule(id, session.title, session.starts_at, duration, by, at)?);
        }
        Ok(events)
    }

    fn cancel(
        &self,
        session_id: SessionId,
        reason: Option<String>,
        by: crate::Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<CourseEvent>, CourseError> {
        match self.sessions.get(&session_id) {
            None => Err(CourseError::SessionNotFound(session_id)),
            Some(session) => Ok(changed(
                !session.cancelled,
                CourseEvent::SessionCancelled {
                    session_id,
                    reason,
                    by,
                    at,
                },
            )),
        }
    }
}

/// One event when something changes, none when the command repeats the current state.
fn changed(differs: bool, event: CourseEvent) -> Vec<CourseEvent> {
    if differs { vec![event] } else { Vec::new() }
}

fn check_details(details: &CourseDetails) -> Result<(), CourseError> {
    if details.name.trim().is_empty() {
        return Err(CourseError::NameRequired);
    }
    Ok(())
}

impl crate::Decide for Course {
    fn decide(&self, command: CourseCommand) -> Result<Vec<CourseEvent>, CourseError> {
        Course::decide(self, command)
    }
}

impl Aggregate for Course {
    const TYPE: &'static str = "course";
    type Command = CourseCommand;
    type Event = CourseEvent;
    type Error = CourseError;
    type Services = ();

    async fn handle(
        &mut self,
        command: CourseCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), CourseError> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: CourseEvent) {
        match event {
            CourseEvent::CourseCreated {
                course_id, details, ..
            } => {
                self.id = Some(course_id);
                self.details = details;
            }
            CourseEvent::CourseUpdated { details, .. } => self.details = details,
            CourseEvent::TeacherAssigned { teacher, .. } => {
                self.teachers.insert(teacher);
            }
            CourseEvent::TeacherUnassigned { teacher, .. } => {
                self.teachers.remove(&teacher);
            }
            CourseEvent::StudentEnrolled {
                student_id,
                effective_from,
                ..
            } => {
                let periods = self.enrollments.entry(student_id).or_default();
                periods.push(EnrollmentPeriod {
                    from: effective_from,
                    until: None,
                });
            }
            CourseEvent::EnrollmentBackdated {
                student_id,
                effective_from,
                ..
            } => {
                if let Some(open) = self
                    .enrollments
                    .get_mut(&student_id)
                    .and_then(|periods| periods.last_mut())
                {
                    open.from = effective_from;
                }
            }
            CourseEvent::StudentUnenrolled {
                student_id,
                effective_from,
                ..
            } => {
                if let Some(open) = self
                    .enrollments
                    .get_mut(&student_id)
                    .and_then(|periods| periods.last_mut())
                {
                    open.until = Some(effective_from);
                }
            }
            CourseEvent::SessionScheduled {
                session_id,
                title,
                starts_at,
                duration_minutes,
                ..
            } => {
                let session = ScheduledSession {
                    title,
                    starts_at,
                    duration_minutes,
                    cancelled: false,
                };
                self.sessions.insert(session_id, session);
            }
            CourseEvent::SessionCancelled { session_id, .. } => {
                if let Some(session) = self.sessions.get_mut(&session_id) {
                    session.cancelled = true;
                }
            }
            CourseEvent::AttendancePolicyChanged { policy, .. } => self.policy = policy,
            CourseEvent::TimeZoneChanged { time_zone, .. } => self.time_zone = time_zone,
            CourseEvent::CourseArchived { .. } => self.archived = true,
            CourseEvent::CourseRestored { .. } => self.archived = false,
            change @ (CourseEvent::SessionRescheduled { .. }
            | CourseEvent::SessionRestored { .. }
            | CourseEvent::SessionRenamed { .. }) => self.apply_change(change),
        }
    }
}
