//! One rate everywhere: the register records a route lists or counts are the ones the
//! statistics count ([`CourseStats::counts`]: the session is not cancelled and the student
//! was enrolled on its local day). Routes that read records through this module answer the
//! same counts and rates as statistics, summaries and reports.

use crate::app::error::AppError;
use projections::course_stats::CourseStats;
use projections::course_stats::store::CourseStatsProjection;
use projections::projector::find;
use sqlx::PgPool;
use std::collections::{BTreeSet, HashMap};

/// The statistics documents of some courses, by course code (missing ones are left out).
pub async fn course_docs<'a>(
    pool: &PgPool,
    courses: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, CourseStats>, AppError> {
    let courses: BTreeSet<&str> = courses.collect();
    let mut docs = HashMap::with_capacity(courses.len());
    for course in courses {
        if let Some(doc) = find::<CourseStatsProjection>(pool, course).await? {
            docs.insert(course.to_string(), doc);
        }
    }
    Ok(docs)
}

/// Whether a student's record of a session counts, by the statistics' one definition.
pub fn counts(
    docs: &HashMap<String, CourseStats>,
    course: &str,
    student: &str,
    session: &str,
) -> bool {
    docs.get(course)
        .is_some_and(|doc| doc.counts_in(student, session))
}

/// The rate over marks of several courses, each mark weighed by its own course's policy
/// (the statistics' formula, summed across courses): with one course it is that course's
/// rate. In percent, rounded to 0.01; `None` with no counted mark.
pub fn rate_across<'a>(
    docs: &HashMap<String, CourseStats>,
    marks: impl Iterator<Item = (&'a str, domain::Status)>,
) -> Option<f64> {
    let mut counted = 0u32;
    let mut sum = 0.0;
    for (course, status) in marks {
        let Some(doc) = docs.get(course) else {
            continue;
        };
        if doc.policy.counts(status) {
            counted += 1;
            sum += doc.policy.weight(status);
        }
    }
    (counted > 0).then(|| (sum / f64::from(counted) * 10_000.0).round() / 100.0)
}
