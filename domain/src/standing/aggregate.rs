//! The standing's state and decisions.

use super::commands::StandingCommand;
use super::errors::StandingError;
use super::events::{Cause, Figures, StandingEvent};
use crate::{Actor, CourseId, StudentId};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

/// A student's standing in one course, as its recorded crossings leave it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// The course and student, once anything was recorded.
    owner: Option<(CourseId, StudentId)>,
    /// Whether the last crossing left the student at risk.
    at_risk: bool,
    /// Whether the absence streak is reached (and not ended since).
    streak_reached: bool,
    /// The position of the cause of the last recorded event (0 before any).
    last_cause: i64,
    /// The figures of the last recorded event.
    last: Option<Figures>,
}

type Decision = Result<Vec<StandingEvent>, StandingError>;

impl Standing {
    /// Whether the student is at risk, as recorded.
    pub fn at_risk(&self) -> bool {
        self.at_risk
    }

    /// Whether the absence streak is reached, as recorded.
    pub fn streak_reached(&self) -> bool {
        self.streak_reached
    }

    /// The position of the last cause recorded.
    pub fn last_cause(&self) -> i64 {
        self.last_cause
    }

    /// The figures last recorded.
    pub fn last_figures(&self) -> Option<&Figures> {
        self.last.as_ref()
    }

    /// The events a command causes.
    pub fn decide(&self, command: StandingCommand) -> Decision {
        match command {
            StandingCommand::Evaluate {
                course_id,
                student_id,
                figures,
                cause,
                by,
                at,
            } => self.evaluate(course_id, student_id, figures, cause, by, at),
        }
    }

    fn evaluate(
        &self,
        course_id: CourseId,
        student_id: StudentId,
        figures: Figures,
        cause: Cause,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Decision {
        if let Some((course, student)) = &self.owner
            && (course != &course_id || student != &student_id)
        {
            return Err(StandingError::WrongStanding {
                course_id: course.clone(),
                student_id: student.clone(),
            });
        }
        // Seen already, or older than what is recorded: a redelivery, a replay, a second
        // process, or an evaluation overtaken by a later one.
        if cause.position <= self.last_cause {
            return Ok(Vec::new());
        }
        let mut events = Vec::new();
        let event = |make: fn(
            CourseId,
            StudentId,
            Figures,
            Cause,
            Actor,
            DateTime<Utc>,
        ) -> StandingEvent| {
            make(
                course_id.clone(),
                student_id.clone(),
                figures,
                cause.clone(),
                by.clone(),
                at,
            )
        };
        match (self.at_risk, figures.at_risk()) {
            (false, true) => events.push(event(at_risk)),
            (true, false) => events.push(event(recovered)),
            _ => {}
        }
        match (self.streak_reached, figures.streak_reached()) {
            (false, true) => events.push(event(streak_reached)),
            (true, false) => events.push(event(streak_ended)),
            _ => {}
        }
        Ok(events)
    }
}

fn at_risk(
    course_id: CourseId,
    student_id: StudentId,
    figures: Figures,
    cause: Cause,
    by: Actor,
    at: DateTime<Utc>,
) -> StandingEvent {
    StandingEvent::StudentAtRisk {
        course_id,
        student_id,
        figures,
        cause,
        by,
        at,
    }
}

fn recovered(
    course_id: CourseId,
    student_id: StudentId,
    figures: Figures,
    cause: Cause,
    by: Actor,
    at: DateTime<Utc>,
) -> StandingEvent {
    StandingEvent::StudentRecovered {
        course_id,
        student_id,
        figures,
        cause,
        by,
        at,
    }
}

fn streak_reached(
    course_id: CourseId,
    student_id: StudentId,
    figures: Figures,
    cause: Cause,
    by: Actor,
    at: DateTime<Utc>,
) -> StandingEvent {
    StandingEvent::AbsenceStreakReached {
        course_id,
        student_id,
        figures,
        cause,
        by,
        at,
    }
}

fn streak_ended(
    course_id: CourseId,
    student_id: StudentId,
    figures: Figures,
    cause: Cause,
    by: Actor,
    at: DateTime<Utc>,
) -> StandingEvent {
    StandingEvent::AbsenceStreakEnded {
        course_id,
        student_id,
        figures,
        cause,
        by,
        at,
    }
}

impl crate::Decide for Standing {
    fn decide(&self, command: StandingCommand) -> Decision {
        Standing::decide(self, command)
    }
}

impl Aggregate for Standing {
    const TYPE: &'static str = "standing";
    type Command = StandingCommand;
    type Event = StandingEvent;
    type Error = StandingError;
    type Services = ();

    async fn handle(
        &mut self,
        command: StandingCommand,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), StandingError> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: StandingEvent) {
        let (course, student, figures, cause, _) = event.parts();
        self.owner = Some((course.clone(), student.clone()));
        self.last_cause = self.last_cause.max(cause.position);
        self.last = Some(*figures);
        match event {
            StandingEvent::StudentAtRisk { .. } => self.at_risk = true,
            StandingEvent::StudentRecovered { .. } => self.at_risk = false,
            StandingEvent::AbsenceStreakReached { .. } => self.streak_reached = true,
            StandingEvent::AbsenceStreakEnded { .. } => self.streak_reached = false,
        }
    }
}
