//! A term's timetable: which weekdays, at what local time, from which date to which, and
//! which dates to skip; expanded into the sessions it means in the course's zone.

use super::CourseError;
use crate::Zone;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use std::collections::BTreeSet;

/// The most sessions one timetable may create (a year of daily classes, twice over).
pub const MAX_SESSIONS: usize = 730;

/// The most days from a timetable's first date to its last.
pub const MAX_DAYS: i64 = 400;

/// A term's timetable, in the course's local time.
#[derive(Debug, Clone, PartialEq)]
pub struct Timetable {
    /// The weekdays classes are held on.
    pub weekdays: Vec<Weekday>,
    /// The local start time.
    pub at: NaiveTime,
    /// Length in minutes.
    pub duration_minutes: u32,
    /// The first date of the term.
    pub first: NaiveDate,
    /// The last date of the term (included).
    pub last: NaiveDate,
    /// Titles: `{n}` is replaced by the session's number, 1 for the first.
    pub title_pattern: String,
    /// Dates with no class (holidays).
    pub skip: BTreeSet<NaiveDate>,
}

/// One session a timetable means.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedSession {
    /// Its title, from the pattern.
    pub title: String,
    /// Its local date.
    pub date: NaiveDate,
    /// Its start instant.
    pub starts_at: DateTime<Utc>,
}

impl Timetable {
    /// The sessions of the timetable in `zone`, in date order; refused when the timetable
    /// is empty or out of bounds. The same wall-clock time every week: across a DST change
    /// the UTC instant moves and the local time does not.
    pub fn sessions(&self, zone: Zone) -> Result<Vec<PlannedSession>, CourseError> {
        self.check()?;
        let planned: Vec<PlannedSession> = self
            .first
            .iter_days()
            .take_while(|day| *day <= self.last)
            .filter(|day| self.weekdays.contains(&day.weekday()) && !self.skip.contains(day))
            .enumerate()
            .map(|(i, date)| PlannedSession {
                title: self.title_pattern.replace("{n}", &(i + 1).to_string()),
                date,
                starts_at: zone.instant(date.and_time(self.at)),
            })
            .collect();
        if planned.is_empty() {
            return Err(CourseError::EmptyTimetable);
        }
        if planned.len() > MAX_SESSIONS {
            return Err(CourseError::TimetableTooLong);
        }
        Ok(planned)
    }

    fn check(&self) -> Result<(), CourseError> {
        if self.weekdays.is_empty() {
            return Err(CourseError::EmptyTimetable);
        }
        if self.last < self.first {
            return Err(CourseError::TermEndsBeforeItStarts);
        }
        if (self.last - self.first).num_days() > MAX_DAYS {
            return Err(CourseError::TimetableTooLong);
        }
        if self.title_pattern.trim().is_empty() {
            return Err(CourseError::TitleRequired);
        }
        if !(1..=1440).contains(&self.duration_minutes) {
            return Err(CourseError::InvalidDuration);
        }
        Ok(())
    }
}
