//! A register that follows the roster: amendments when enrolments change after it opened,
//! and reopening a closed register. A removed student cannot be marked any more.

use super::aggregate::Decision;
use super::{Register, RegisterError, RegisterEvent};
use crate::{Actor, StudentId};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

impl Register {
    /// Why a student not on the roster cannot be marked: removed by an amendment, or never
    /// on it.
    pub(super) fn not_on_roster(&self, student_id: StudentId) -> RegisterError {
        if self.removed.contains(&student_id) {
            RegisterError::RemovedFromRoster(student_id)
        } else {
            RegisterError::NotOnRoster(student_id)
        }
    }

    /// The roster becomes `wanted`: one event naming who was added and who removed, none
    /// when it already is.
    pub(super) fn amend_roster(
        &self,
        wanted: Vec<StudentId>,
        reason: String,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Vec<RegisterEvent> {
        let wanted: BTreeSet<StudentId> = wanted.into_iter().collect();
        let added: Vec<_> = wanted
            .iter()
            .filter(|s| !self.roster.contains_key(*s))
            .cloned()
            .collect();
        let removed: Vec<_> = self
            .roster
            .keys()
            .filter(|s| !wanted.contains(*s))
            .cloned()
            .collect();
        if added.is_empty() && removed.is_empty() {
            return Vec::new();
        }
        vec![RegisterEvent::RosterAmended {
            added,
            removed,
            reason,
            by,
            at,
        }]
    }

    /// A closed register opens again for marks; an open one stays as it is.
    pub(super) fn reopen(&self, reason: String, by: Actor, at: DateTime<Utc>) -> Decision {
        if !self.closed {
            return Ok(Vec::new());
        }
        if reason.trim().is_empty() {
            return Err(RegisterError::ReasonRequired);
        }
        Ok(vec![RegisterEvent::RegisterReopened {
            reason: reason.trim().to_string(),
            by,
            at,
        }])
    }

    /// How an amendment or a reopening changes the state.
    pub(super) fn apply_roster(&mut self, event: RegisterEvent) {
        match event {
            RegisterEvent::RosterAmended { added, removed, .. } => {
                for student in removed {
                    self.roster.remove(&student);
                    self.held.remove(&student);
                    self.removed.insert(student);
                }
                for student in added {
                    self.removed.remove(&student);
                    self.roster.insert(student, None);
                }
            }
            RegisterEvent::RegisterReopened { .. } => {
                self.closed = false;
                self.reopened = true;
            }
            _ => {}
        }
    }
}
