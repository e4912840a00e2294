//! The data of each report, built from the read models (never from a scan of the event
//! store), or from a fold of the history up to a time for `as_of` reports.

use crate::course_stats::CourseStats;
use crate::course_stats::derived::riskiest_first;
use crate::register_views::RegisterView;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use domain::{Status, Tally};
use serde::Serialize;
use std::collections::HashMap;

/// The single letter of a status in a matrix: P, L, E, A.
pub fn letter(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Present) => "P",
        Some(Status::Late) => "L",
        Some(Status::Excused) => "E",
        Some(Status::Absent) => "A",
        None => "",
    }
}

/// A session column of a course report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportSession {
    /// Session id.
    pub session_id: String,
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Start on the course's wall clock (what the columns show).
    pub local_start: NaiveDateTime,
}

/// A student row of a course report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CourseReportRow {
    /// Student number.
    pub student_id: String,
    /// Name (none once erased).
    pub name: Option<String>,
    /// Status per session column (none: unmarked or not enrolled).
    pub statuses: Vec<Option<Status>>,
    /// Counts.
    pub tally: Tally,
    /// Rate in percent.
    pub rate: Option<f64>,
    /// Below the threshold.
    pub at_risk: bool,
}

/// A course's matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CourseReport {
    /// Course code.
    pub course_id: String,
    /// Course name.
    pub course_name: String,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// The time the register is shown as of, if not now.
    pub as_of: Option<DateTime<Utc>>,
    /// At-risk threshold used.
    pub threshold: f64,
    /// Session columns by start (cancelled sessions left out).
    pub sessions: Vec<ReportSession>,
    /// Student rows by student number.
    pub students: Vec<CourseReportRow>,
    /// Counts per session column.
    pub session_totals: Vec<Tally>,
}

/// One session line of a student report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudentReportRow {
    /// Session day.
    pub date: NaiveDate,
    /// Session start.
    pub starts_at: DateTime<Utc>,
    /// Title.
    pub title: String,
    /// Status (none while unmarked).
    pub status: Option<Status>,
    /// When the current status was set.
    pub recorded_at: Option<DateTime<Utc>>,
    /// Who set it (username when known, else user id).
    pub recorded_by: Option<String>,
    /// Whether it was corrected.
    pub corrected: bool,
    /// Why, if corrected.
    pub correction_reason: Option<String>,
}

/// One student's attendance in one course.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StudentReport {
    /// Student number.
    pub student_id: String,
    /// Name (none once erased).
    pub name: Option<String>,
    /// Course code.
    pub course_id: String,
    /// Course name.
    pub course_name: String,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// The time the register is shown as of, if not now.
    pub as_of: Option<DateTime<Utc>>,
    /// Counts.
    pub tally: Tally,
    /// Rate in percent.
    pub rate: Option<f64>,
    /// Below the threshold.
    pub at_risk: bool,
    /// One line per session the student was enrolled in, by start.
    pub rows: Vec<StudentReportRow>,
}

/// How serious a low rate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Below 50 %.
    Critical,
    /// Below 60 %.
    High,
    /// Below the threshold.
    Moderate,
}

impl RiskLevel {
    /// The level of a rate below the threshold.
    pub fn of(rate: f64) -> RiskLevel {
        if rate < 50.0 {
            RiskLevel::Critical
        } else if rate < 60.0 {
            RiskLevel::High
        } else {
            RiskLevel::Moderate
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Critical => "critical",
            RiskLevel::High => "high",
            RiskLevel::Moderate => "moderate",
        }
    }
}

/// One at-risk line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AtRiskRow {
    /// Course code.
    pub course_id: String,
    /// Student number.
    pub student_id: String,
    /// Name.
    pub name: Option<String>,
    /// Counts.
    pub tally: Tally,
    /// Rate in percent.
    pub rate: f64,
    /// Level.
    pub level: RiskLevel,
}

/// Students below a threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AtRiskReport {
    /// The course, or none for all the caller's courses.
    pub course_id: Option<String>,
    /// Threshold in percent.
    pub threshold: f64,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// The time the register is shown as of, if not now.
    pub as_of: Option<DateTime<Utc>>,
    /// Lines, lowest rate first.
    pub rows: Vec<AtRiskRow>,
}

/// Builds a course report from the course's statistics.
pub fn course_report(
    stats: &CourseStats,
    names: &HashMap<String, Option<String>>,
    generated_at: DateTime<Utc>,
    as_of: Option<DateTime<Utc>>,
) -> CourseReport {
    let today = stats.day_of(as_of.unwrap_or(generated_at));
    let figures = stats.session_figures();
    let columns: Vec<_> = figures.iter().filter(|s| !s.cancelled).collect();
    let sessions = columns
        .iter()
        .map(|s| ReportSession {
            session_id: s.session_id.clone(),
            title: s.title.clone(),
            starts_at: s.starts_at,
            local_start: stats.time_zone.show(s.starts_at).naive_local(),
        })
        .collect();
    let session_totals = columns.iter().map(|s| s.tally).collect();
    let students = stats
        .students(today)
        .into_iter()
        .map(|f| {
            let marks = stats.marks.get(&f.student_id);
            // A mark counts (and shows) only on days the student was enrolled.
            let statuses = columns
                .iter()
                .map(|c| {
                    let enrolled = stats.is_enrolled_on(&f.student_id, stats.day_of(c.starts_at));
                    marks
                        .and_then(|m| m.get(&c.session_id))
                        .copied()
                        .filter(|_| enrolled)
                })
                .collect();
            CourseReportRow {
                name: names.get(&f.student_id).cloned().flatten(),
                student_id: f.student_id,
                statuses,
                tally: f.tally,
                rate: f.rate,
                at_risk: f.at_risk,
            }
        })
        .collect();
    CourseReport {
        course_id: stats.course_id.clone(),
        course_name: stats.name.clone(),
        generated_at,
        as_of,
        threshold: stats.policy.at_risk_below,
        sessions,
        students,
        session_totals,
    }
}

/// Builds a student report from the course's statistics and its register views.
pub fn student_report(
    stats: &CourseStats,
    views: &[RegisterView],
    student_id: &str,
    name: Option<String>,
    usernames: &HashMap<String, String>,
    generated_at: DateTime<Utc>,
    as_of: Option<DateTime<Utc>>,
) -> StudentReport {
    let figures = stats.student(student_id, stats.day_of(as_of.unwrap_or(generated_at)));
    let mut rows: Vec<_> = views
        .iter()
        .filter(|v| !v.cancelled)
        .filter_map(|v| {
            let starts_at = v.starts_at?;
            let enrolled = stats
                .enrollments
                .get(student_id)
                .is_some_and(|periods| periods.iter().any(|p| p.covers(stats.day_of(starts_at))));
            if !enrolled {
                return None;
            }
            let row = v.rows.get(student_id).cloned().unwrap_or_default();
            Some(StudentReportRow {
                date: stats.day_of(starts_at),
                starts_at,
                title: v.title.clone(),
                status: row.status,
                recorded_at: row.recorded_at,
                recorded_by: row
                    .recorded_by
                    .map(|id| usernames.get(&id).cloned().unwrap_or(id)),
                corrected: row.corrected,
                correction_reason: row.correction_reason,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        a.starts_at
            .cmp(&b.starts_at)
            .then_with(|| a.title.cmp(&b.title))
    });
    StudentReport {
        student_id: student_id.to_string(),
        name,
        course_id: stats.course_id.clone(),
        course_name: stats.name.clone(),
        generated_at,
        as_of,
        tally: figures.tally,
        rate: figures.rate,
        at_risk: figures.at_risk,
        rows,
    }
}

/// Builds the at-risk lines of some courses' statistics.
pub fn at_risk_report(
    courses: &[CourseStats],
    threshold: f64,
    names: &HashMap<String, Option<String>>,
    generated_at: DateTime<Utc>,
    as_of: Option<DateTime<Utc>>,
) -> AtRiskReport {
    let mut rows: Vec<_> = courses
        .iter()
        .flat_map(|stats| {
            let today = stats.day_of(as_of.unwrap_or(generated_at));
            stats
                .at_risk(today, Some(threshold))
                .into_iter()
                .filter_map(|f| {
                    let rate = f.rate?;
                    Some(AtRiskRow {
                        course_id: stats.course_id.clone(),
                        name: names.get(&f.student_id).cloned().flatten(),
                        student_id: f.student_id,
                        tally: f.tally,
                        rate,
                        level: RiskLevel::of(rate),
                    })
                })
        })
        .collect();
    rows.sort_by(|a, b| {
        riskiest_first(
            (Some(a.rate), (&a.course_id, &a.student_id)),
            (Some(b.rate), (&b.course_id, &b.student_id)),
        )
    });
    let course_id = (courses.len() == 1).then(|| courses[0].course_id.clone());
    AtRiskReport {
        course_id,
        threshold,
        generated_at,
        as_of,
        rows,
    }
}
