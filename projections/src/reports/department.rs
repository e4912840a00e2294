//! The seed system's department report: per course of a department, its students, their
//! average rate and how many are at risk, and the department's totals. Built from the
//! courses' statistics documents, with the same figures as each course's report (a student
//! is one the course ever enrolled; the rate and at-risk flag are the course policy's).

use crate::course_stats::CourseStats;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// One course line of a department report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartmentRow {
    /// Course code.
    pub course_id: String,
    /// Course name.
    pub course_name: String,
    /// Whether the course is archived (its history still counts).
    pub archived: bool,
    /// Sessions held or planned (cancelled ones left out).
    pub sessions: usize,
    /// Students ever enrolled (the rows of the course report).
    pub students: usize,
    /// Mean of the students' rates (students with a counted mark), in percent, to 0.01.
    pub average_rate: Option<f64>,
    /// Students below the course's at-risk threshold.
    pub at_risk: usize,
}

/// The department's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartmentTotals {
    /// Courses.
    pub courses: usize,
    /// Distinct students over the courses.
    pub students: usize,
    /// Enrolments (a student in two courses counts twice).
    pub enrollments: usize,
    /// Mean of every enrolment's rate, in percent, to 0.01.
    pub average_rate: Option<f64>,
    /// Enrolments at risk (a student at risk in two courses counts twice).
    pub at_risk: usize,
}

/// A department's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartmentReport {
    /// The department, as asked.
    pub department: String,
    /// When the report was made.
    pub generated_at: DateTime<Utc>,
    /// One line per course, by code.
    pub rows: Vec<DepartmentRow>,
    /// The totals.
    pub totals: DepartmentTotals,
}

/// The mean of some rates, rounded to 0.01; `None` without any.
fn mean(rates: &[f64]) -> Option<f64> {
    (!rates.is_empty())
        .then(|| (rates.iter().sum::<f64>() / rates.len() as f64 * 100.0).round() / 100.0)
}

/// Builds a department report from its courses' statistics (with their archived flags).
pub fn department_report(
    department: &str,
    courses: &[(CourseStats, bool)],
    generated_at: DateTime<Utc>,
) -> DepartmentReport {
    let mut rows = Vec::with_capacity(courses.len());
    let mut all_rates = Vec::new();
    let mut students = BTreeSet::new();
    let (mut enrollments, mut at_risk) = (0, 0);
    for (stats, archived) in courses {
        let figures = stats.students(stats.day_of(generated_at));
        let rates: Vec<f64> = figures.iter().filter_map(|f| f.rate).collect();
        let risky = figures.iter().filter(|f| f.at_risk).count();
        all_rates.extend(&rates);
        students.extend(figures.iter().map(|f| f.student_id.clone()));
        enrollments += figures.len();
        at_risk += risky;
        rows.push(DepartmentRow {
            course_id: stats.course_id.clone(),
            course_name: stats.name.clone(),
            archived: *archived,
            sessions: stats.sessions.values().filter(|s| !s.cancelled).count(),
            students: figures.len(),
            average_rate: mean(&rates),
            at_risk: risky,
        });
    }
    rows.sort_by(|a, b| a.course_id.cmp(&b.course_id));
    DepartmentReport {
        department: department.to_string(),
        generated_at,
        totals: DepartmentTotals {
            courses: rows.len(),
            students: students.len(),
            enrollments,
            average_rate: mean(&all_rates),
            at_risk,
        },
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_is_the_mean_of_the_rates_there_are() {
        // (100 + 50 + 75) / 3 = 75; no rate, no average.
        assert_eq!(mean(&[100.0, 50.0, 75.0]), Some(75.0));
        assert_eq!(mean(&[]), None);
        // 2/3 of 100 rounds to two decimals.
        assert_eq!(mean(&[100.0, 100.0, 0.0]), Some(66.67));
    }
}
