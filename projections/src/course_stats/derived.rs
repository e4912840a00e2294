//! Figures derived from a course's statistics document, with the course's current policy.

use super::CourseStats;
use chrono::NaiveDate;
use domain::{Status, Tally};
use serde::Serialize;
use std::cmp::Ordering;

/// One student's figures in a course.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudentFigures {
    /// Student number.
    pub student_id: String,
    /// Counts per status over the sessions the student was enrolled in.
    #[serde(flatten)]
    pub tally: Tally,
    /// Attendance rate in percent; null with no counted mark.
    pub rate: Option<f64>,
    /// Below the policy's threshold.
    pub at_risk: bool,
    /// Last day present or late.
    pub last_attended: Option<NaiveDate>,
    /// Absences in a row, counting back from the latest marked session.
    pub absence_streak: u32,
    /// Whether enrolled today.
    pub enrolled: bool,
}

/// One session's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionFigures {
    /// Session id.
    pub session_id: String,
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// Cancelled sessions count for nothing.
    pub cancelled: bool,
    /// Attendance taken.
    pub taken: bool,
    /// Counts per status.
    #[serde(flatten)]
    pub tally: Tally,
}

impl CourseStats {
    /// The course's day of an instant: its local date in the course's zone.
    pub fn day_of(&self, at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
        self.time_zone.day_of(at)
    }

    /// Sessions that count (not cancelled), by start time.
    fn counted_sessions(&self) -> Vec<(&String, &super::SessionInfo)> {
        let mut sessions: Vec<_> = self.sessions.iter().filter(|(_, s)| !s.cancelled).collect();
        sessions.sort_by_key(|(id, s)| (s.starts_at, *id));
        sessions
    }

    /// The one definition of a mark that counts, used by every figure, route and report: its
    /// session is not cancelled and the student was enrolled on the session's local day (so a
    /// past-dated unenrolment or a roster amendment takes it out, and a reschedule moves it to
    /// its new day).
    pub fn counts(&self, student: &str, session: &super::SessionInfo) -> bool {
        !session.cancelled && self.is_enrolled_on(student, self.day_of(session.starts_at))
    }

    /// [`CourseStats::counts`] by session id (an unknown session counts for nothing).
    pub fn counts_in(&self, student: &str, session_id: &str) -> bool {
        self.sessions
            .get(session_id)
            .is_some_and(|session| self.counts(student, session))
    }

    /// Whether a student was enrolled on a day.
    pub fn is_enrolled_on(&self, student: &str, day: NaiveDate) -> bool {
        self.enrollments
            .get(student)
            .is_some_and(|periods| periods.iter().any(|p| p.covers(day)))
    }

    /// The figures of one student.
    pub fn student(&self, student: &str, today: NaiveDate) -> StudentFigures {
        let marks = self.marks.get(student);
        let history: Vec<(NaiveDate, Option<Status>)> = self
            .counted_sessions()
            .into_iter()
            .filter(|(_, s)| self.counts(student, s))
            .map(|(id, s)| {
                (
                    self.day_of(s.starts_at),
                    marks.and_then(|m| m.get(id)).copied(),
                )
            })
            .collect();
        let tally = Tally::over_sessions(history.iter().copied(), |_| true);
        let rate = tally.rate(&self.policy);
        let last_attended = history
            .iter()
            .filter(|(_, s)| matches!(s, Some(Status::Present | Status::Late)))
            .map(|(day, _)| *day)
            .max();
        let absence_streak = history
            .iter()
            .rev()
            .filter_map(|(_, s)| *s)
            .take_while(|s| *s == Status::Absent)
            .count() as u32;
        StudentFigures {
            student_id: student.to_string(),
            tally,
            rate,
            at_risk: self.policy.is_at_risk(rate),
            last_attended,
            absence_streak,
            enrolled: self.is_enrolled_on(student, today),
        }
    }

    /// The figures of every student ever enrolled, by student number.
    pub fn students(&self, today: NaiveDate) -> Vec<StudentFigures> {
        self.enrollments
            .keys()
            .map(|student| self.student(student, today))
            .collect()
    }

    /// The course's at-risk list, the one every answer and report uses: the students whose
    /// rate is below `threshold` (the policy's when none is given), riskiest first.
    pub fn at_risk(&self, today: NaiveDate, threshold: Option<f64>) -> Vec<StudentFigures> {
        let threshold = threshold.unwrap_or(self.policy.at_risk_below);
        let mut rows: Vec<_> = self
            .students(today)
            .into_iter()
            .filter(|f| f.rate.is_some_and(|rate| rate < threshold))
            .collect();
        rows.sort_by(|a, b| riskiest_first((a.rate, &a.student_id), (b.rate, &b.student_id)));
        rows
    }

    /// The figures of every session, by start time (cancelled ones included, flagged).
    pub fn session_figures(&self) -> Vec<SessionFigures> {
        let mut rows: Vec<_> = self
            .sessions
            .iter()
            .map(|(id, s)| {
                let day = self.day_of(s.starts_at);
                let mut tally = Tally::default();
                // Only students enrolled that day count, as in the student figures.
                for (student, marks) in &self.marks {
                    if let Some(status) =
                        marks.get(id).filter(|_| self.is_enrolled_on(student, day))
                    {
                        tally.add(*status);
                    }
                }
                SessionFigures {
                    session_id: id.clone(),
                    title: s.title.clone(),
                    starts_at: s.starts_at,
                    cancelled: s.cancelled,
                    taken: self.registers.get(id).is_some_and(|r| r.taken),
                    tally,
                }
            })
            .collect();
        rows.sort_by(|a, b| (a.starts_at, &a.session_id).cmp(&(b.starts_at, &b.session_id)));
        rows
    }
}

/// The at-risk order: the lowest rate first, ties by the key (the student number, or the
/// course and the student number when a list spans courses). A missing rate sorts last.
pub fn riskiest_first<K: Ord>(a: (Option<f64>, K), b: (Option<f64>, K)) -> Ordering {
    let rate = |r: Option<f64>| r.unwrap_or(f64::INFINITY);
    rate(a.0).total_cmp(&rate(b.0)).then_with(|| a.1.cmp(&b.1))
}
