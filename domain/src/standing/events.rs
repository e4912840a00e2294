//! Facts about a student's standing. Stored names are frozen: see
//! [`StandingEvent::event_type`].

use crate::{Actor, CourseId, StudentId};
use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// A student's figures in a course as of one event, with the policy lines they were
/// measured against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Attendance rate in percent (null with no counted mark).
    pub rate: Option<f64>,
    /// The policy's at-risk threshold: at risk strictly below it.
    pub at_risk_below: f64,
    /// Marks counted in the rate.
    pub sessions_counted: u32,
    /// Absences in a row, counting back from the latest marked session.
    pub absence_streak: u32,
    /// The policy's streak that warns.
    pub streak_of: u32,
}

impl Figures {
    /// Whether the rate is below the threshold.
    pub fn at_risk(&self) -> bool {
        self.rate.is_some_and(|rate| rate < self.at_risk_below)
    }

    /// Whether the streak has reached the policy's.
    pub fn streak_reached(&self) -> bool {
        self.streak_of > 0 && self.absence_streak >= self.streak_of
    }
}

/// What made the figures change: the event at a global position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    /// The event's global position (evaluations are ordered by it).
    pub position: i64,
    /// The event's type, e.g. `AttendanceRecorded`.
    pub event_type: String,
    /// The event's aggregate (a session id or a course code).
    pub aggregate_id: String,
}

/// Something that happened to a student's standing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StandingEvent {
    /// The student's rate fell below the course's threshold.
    StudentAtRisk {
        /// The course.
        course_id: CourseId,
        /// The student.
        student_id: StudentId,
        /// The figures that crossed.
        figures: Figures,
        /// The event that made them cross.
        cause: Cause,
        /// Who (the system).
        by: Actor,
        /// When the cause was stored.
        at: DateTime<Utc>,
    },
    /// The student's rate came back to the threshold or above (or no mark counts any more).
    StudentRecovered {
        /// The course.
        course_id: CourseId,
        /// The student.
        student_id: StudentId,
        /// The figures that crossed.
        figures: Figures,
        /// The event that made them cross.
        cause: Cause,
        /// Who (the system).
        by: Actor,
        /// When the cause was stored.
        at: DateTime<Utc>,
    },
    /// The student's absences in a row reached the policy's streak.
    AbsenceStreakReached {
        /// The course.
        course_id: CourseId,
        /// The student.
        student_id: StudentId,
        /// The figures that crossed.
        figures: Figures,
        /// The event that made them cross.
        cause: Cause,
        /// Who (the system).
        by: Actor,
        /// When the cause was stored.
        at: DateTime<Utc>,
    },
    /// A reached streak broke (a mark other than absent, a correction, a policy change):
    /// reaching it again is a new crossing. Nobody is notified of it.
    AbsenceStreakEnded {
        /// The course.
        course_id: CourseId,
        /// The student.
        student_id: StudentId,
        /// The figures after.
        figures: Figures,
        /// The event that broke it.
        cause: Cause,
        /// Who (the system).
        by: Actor,
        /// When the cause was stored.
        at: DateTime<Utc>,
    },
}

impl StandingEvent {
    /// The figures and cause every standing event carries.
    pub fn parts(&self) -> (&CourseId, &StudentId, &Figures, &Cause, DateTime<Utc>) {
        match self {
            StandingEvent::StudentAtRisk {
                course_id,
                student_id,
                figures,
                cause,
                at,
                ..
            }
            | StandingEvent::StudentRecovered {
                course_id,
                student_id,
                figures,
                cause,
                at,
                ..
            }
            | StandingEvent::AbsenceStreakReached {
                course_id,
                student_id,
                figures,
                cause,
                at,
                ..
            }
            | StandingEvent::AbsenceStreakEnded {
                course_id,
                student_id,
                figures,
                cause,
                at,
                ..
            } => (course_id, student_id, figures, cause, *at),
        }
    }
}

impl DomainEvent for StandingEvent {
    // Written by hand so that renaming a variant never renames stored history.
    fn event_type(&self) -> String {
        match self {
            StandingEvent::StudentAtRisk { .. } => "StudentAtRisk",
            StandingEvent::StudentRecovered { .. } => "StudentRecovered",
            StandingEvent::AbsenceStreakReached { .. } => "AbsenceStreakReached",
            StandingEvent::AbsenceStreakEnded { .. } => "AbsenceStreakEnded",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_string()
    }
}
