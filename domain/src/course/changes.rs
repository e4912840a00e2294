//! Decisions about sessions already on the calendar: move, restore, rename. Each change is
//! an event naming who and why; asking for what already is changes nothing.

use super::{Course, CourseError, CourseEvent, ScheduledSession};
use crate::{Actor, SessionId};
use chrono::{DateTime, Utc};

/// Why a change was asked: required, trimmed.
fn reason_of(reason: &str) -> Result<String, CourseError> {
    match reason.trim() {
        "" => Err(CourseError::ReasonRequired),
        reason => Ok(reason.to_string()),
    }
}

impl Course {
    fn session(&self, session_id: &SessionId) -> Result<&ScheduledSession, CourseError> {
        self.sessions
            .get(session_id)
            .ok_or_else(|| CourseError::SessionNotFound(session_id.clone()))
    }

    /// A session moves to a new start and/or length; a cancelled one must be restored first.
    pub(super) fn reschedule(
        &self,
        session_id: SessionId,
        starts_at: Option<DateTime<Utc>>,
        duration_minutes: Option<u32>,
        reason: &str,
        (by, at): (Actor, DateTime<Utc>),
    ) -> Result<Vec<CourseEvent>, CourseError> {
        let session = self.session(&session_id)?;
        if session.cancelled {
            return Err(CourseError::SessionCancelled(session_id));
        }
        let reason = reason_of(reason)?;
        let duration_minutes = duration_minutes.unwrap_or(session.duration_minutes);
        if !(1..=1440).contains(&duration_minutes) {
            return Err(CourseError::InvalidDuration);
        }
        let starts_at = starts_at.unwrap_or(session.starts_at);
        if starts_at == session.starts_at && duration_minutes == session.duration_minutes {
            return Ok(Vec::new());
        }
        Ok(vec![CourseEvent::SessionRescheduled {
            session_id,
            starts_at,
            duration_minutes,
            reason,
            by,
            at,
        }])
    }

    /// A cancelled session comes back; one that is not cancelled stays as it is.
    pub(super) fn restore(
        &self,
        session_id: SessionId,
        reason: &str,
        (by, at): (Actor, DateTime<Utc>),
    ) -> Result<Vec<CourseEvent>, CourseError> {
        if !self.session(&session_id)?.cancelled {
            return Ok(Vec::new());
        }
        let reason = reason_of(reason)?;
        Ok(vec![CourseEvent::SessionRestored {
            session_id,
            reason,
            by,
            at,
        }])
    }

    /// A session gets a new, non-empty title.
    pub(super) fn rename(
        &self,
        session_id: SessionId,
        title: &str,
        reason: Option<String>,
        (by, at): (Actor, DateTime<Utc>),
    ) -> Result<Vec<CourseEvent>, CourseError> {
        let session = self.session(&session_id)?;
        let title = title.trim();
        if title.is_empty() {
            return Err(CourseError::TitleRequired);
        }
        if title == session.title {
            return Ok(Vec::new());
        }
        Ok(vec![CourseEvent::SessionRenamed {
            session_id,
            title: title.to_string(),
            reason: reason.filter(|r| !r.trim().is_empty()),
            by,
            at,
        }])
    }

    /// How a session-change event changes the state.
    pub(super) fn apply_change(&mut self, event: CourseEvent) {
        let session_id = match &event {
            CourseEvent::SessionRescheduled { session_id, .. }
            | CourseEvent::SessionRestored { session_id, .. }
            | CourseEvent::SessionRenamed { session_id, .. } => session_id.clone(),
            _ => return,
        };
        let Some(session) = self.sessions.get_mut(&session_id) else {
            return;
        };
        match event {
            CourseEvent::SessionRescheduled {
                starts_at,
                duration_minutes,
                ..
            } => {
                session.starts_at = starts_at;
                session.duration_minutes = duration_minutes;
            }
            CourseEvent::SessionRestored { .. } => session.cancelled = false,
            CourseEvent::SessionRenamed { title, .. } => session.title = title,
            _ => {}
        }
    }
}
