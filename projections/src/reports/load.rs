//! Building report data from the read models (or from a fold of the history for `as_of`),
//! with names looked up at read time.

use super::department::{self, DepartmentReport};
use super::model::{self, AtRiskReport, CourseReport, StudentReport};
use crate::audit;
use crate::course_stats::CourseStats;
use crate::course_stats::store::CourseStatsProjection;
use crate::projector;
use crate::register_views::{RegisterView, store as views_store};
use crate::students::names;
use chrono::{DateTime, Utc};
use domain::AttendancePolicy;
use sqlx::PgPool;
use std::collections::HashMap;

async fn stats(
    pool: &PgPool,
    course_id: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<Option<CourseStats>, sqlx::Error> {
    match as_of {
        Some(t) => {
            let doc = audit::course_stats_as_of(pool, course_id, t).await?;
            Ok((!doc.course_id.is_empty()).then_some(doc))
        }
        None => projector::find::<CourseStatsProjection>(pool, course_id).await,
    }
}

async fn views(
    pool: &PgPool,
    stats: &CourseStats,
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<RegisterView>, sqlx::Error> {
    match as_of {
        None => views_store::of_course(pool, &stats.course_id).await,
        Some(t) => {
            let mut views = Vec::with_capacity(stats.sessions.len());
            for session in stats.sessions.keys() {
                views.push(audit::register_view_as_of(pool, session, t).await?);
            }
            Ok(views)
        }
    }
}

async fn usernames(pool: &PgPool) -> Result<HashMap<String, String>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, username FROM users")
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A course's report; `None` when the course has no statistics (yet, or at that time).
pub async fn course(
    pool: &PgPool,
    course_id: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<Option<CourseReport>, sqlx::Error> {
    let Some(stats) = stats(pool, course_id, as_of).await? else {
        return Ok(None);
    };
    let names = names(pool, stats.enrollments.keys().cloned().collect()).await?;
    Ok(Some(model::course_report(
        &stats,
        &names,
        Utc::now(),
        as_of,
    )))
}

/// A student's report in a course; `None` when the student was never enrolled in it.
pub async fn student(
    pool: &PgPool,
    student_id: &str,
    course_id: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<Option<StudentReport>, sqlx::Error> {
    let Some(stats) = stats(pool, course_id, as_of).await? else {
        return Ok(None);
    };
    if !stats.enrollments.contains_key(student_id) {
        return Ok(None);
    }
    let views = views(pool, &stats, as_of).await?;
    let name = names(pool, vec![student_id.to_string()])
        .await?
        .remove(student_id)
        .flatten();
    let usernames = usernames(pool).await?;
    Ok(Some(model::student_report(
        &stats,
        &views,
        student_id,
        name,
        &usernames,
        Utc::now(),
        as_of,
    )))
}

/// The at-risk report over some courses (below `threshold`, or each course's policy).
pub async fn at_risk(
    pool: &PgPool,
    course_ids: &[String],
    threshold: Option<f64>,
    as_of: Option<DateTime<Utc>>,
) -> Result<AtRiskReport, sqlx::Error> {
    let mut courses = Vec::new();
    for id in course_ids {
        courses.extend(stats(pool, id, as_of).await?);
    }
    let threshold = threshold.unwrap_or_else(|| {
        courses
            .first()
            .map_or(AttendancePolicy::default(), |c| c.policy)
            .at_risk_below
    });
    let ids = courses
        .iter()
        .flat_map(|c| c.enrollments.keys().cloned())
        .collect();
    let names = names(pool, ids).await?;
    Ok(model::at_risk_report(
        &courses,
        threshold,
        &names,
        Utc::now(),
        as_of,
    ))
}

/// The department report over the courses whose department is `department` (any case),
/// archived ones included; `None` when the department has no course.
pub async fn department(
    pool: &PgPool,
    department: &str,
) -> Result<Option<DepartmentReport>, sqlx::Error> {
    let listed: Vec<(String, bool)> = sqlx::query_as(
        "SELECT course_id, archived FROM rm_courses
          WHERE lower(department) = lower($1) ORDER BY course_id",
    )
    .bind(department)
    .fetch_all(pool)
    .await?;
    if listed.is_empty() {
        return Ok(None);
    }
    let mut courses = Vec::with_capacity(listed.len());
    for (id, archived) in listed {
        if let Some(stats) = stats(pool, &id, None).await? {
            courses.push((stats, archived));
        }
    }
    Ok(Some(department::department_report(
        department,
        &courses,
        Utc::now(),
    )))
}
