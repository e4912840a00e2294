//! Course lists that scale: one page of the courses a caller may read, filtered by
//! department, semester, teacher, text and archived state, from the `rm_courses` rows the
//! course_stats projector keeps (indexed: see migration `0014_course_listing.sql`).
//!
//! Who sees what is the rule of [`crate::app::access::visible_courses`] written as SQL:
//! admins every course, teachers the courses they teach, students the courses they were ever
//! enrolled in (a `rm_course_students` row).

use crate::app::access::CurrentUser;
use crate::app::error::AppError;
use crate::app::store;
use crate::state::AppState;
use domain::Role;
use domain::course::Course;
use sqlx::{Postgres, QueryBuilder};
use std::sync::Arc;

/// Which courses a list shows, as to their archived state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Archived {
    /// Only courses in use (the default: archived courses are hidden).
    #[default]
    Hidden,
    /// Only archived courses.
    Only,
    /// Both.
    Included,
}

impl Archived {
    /// The choice of `archived` and `include_archived`: `archived=true` lists only archived
    /// courses, `include_archived=true` both, neither (or `false`) only courses in use.
    pub fn from_params(archived: Option<bool>, include_archived: Option<bool>) -> Archived {
        match (archived, include_archived) {
            (Some(true), _) => Archived::Only,
            (_, Some(true)) => Archived::Included,
            _ => Archived::Hidden,
        }
    }
}

/// What a course list shows.
#[derive(Debug, Clone, Default)]
pub struct CourseFilter {
    /// Department (exact, any case).
    pub department: Option<String>,
    /// Semester label (exact, any case).
    pub semester: Option<String>,
    /// Only courses this user id teaches.
    pub teacher: Option<String>,
    /// Part of the code or name, without regard to case or accents.
    pub q: Option<String>,
    /// Archived courses hidden, only, or included.
    pub archived: Archived,
}

/// The conditions of `filter` for `user`, after `WHERE`.
fn conditions(sql: &mut QueryBuilder<'_, Postgres>, user: &CurrentUser, filter: &CourseFilter) {
    sql.push(" WHERE true");
    match user.role {
        Role::Admin => {}
        Role::Teacher => {
            sql.push(" AND teachers @> ARRAY[")
                .push_bind(user.id.to_string())
                .push("]");
        }
        Role::Student => {
            let student = user.student_id.as_ref().map(|s| s.to_string());
            sql.push(
                " AND course_id IN (SELECT course_id FROM rm_course_students WHERE student_id = ",
            )
            .push_bind(student)
            .push(")");
        }
    }
    if let Some(department) = &filter.department {
        sql.push(" AND lower(department) = lower(")
            .push_bind(department.clone())
            .push(")");
    }
    if let Some(semester) = &filter.semester {
        sql.push(" AND lower(semester) = lower(")
            .push_bind(semester.clone())
            .push(")");
    }
    if let Some(teacher) = &filter.teacher {
        sql.push(" AND teachers @> ARRAY[")
            .push_bind(teacher.clone())
            .push("]");
    }
    if let Some(q) = &filter.q {
        // LIKE's own wildcards in the text are searched for as themselves.
        let escaped = projections::search_key(q)
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        sql.push(" AND search_key LIKE ")
            .push_bind(format!("%{escaped}%"));
    }
    match filter.archived {
        Archived::Hidden => sql.push(" AND NOT archived"),
        Archived::Only => sql.push(" AND archived"),
        Archived::Included => sql.push(""),
    };
}

/// The codes of one page of the courses `filter` shows `user`, by code, and how many it
/// shows in all.
pub async fn page_codes(
    state: &AppState,
    user: &CurrentUser,
    filter: &CourseFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<String>, i64), AppError> {
    let mut count = QueryBuilder::new("SELECT count(*) FROM rm_courses");
    conditions(&mut count, user, filter);
    let total: i64 = count.build_query_scalar().fetch_one(state.pool()).await?;
    let mut rows = QueryBuilder::new("SELECT course_id FROM rm_courses");
    conditions(&mut rows, user, filter);
    rows.push(" ORDER BY course_id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let codes: Vec<String> = rows.build_query_scalar().fetch_all(state.pool()).await?;
    Ok((codes, total))
}

/// One page of courses, each as the write side holds it now (a course the read model lists
/// but the caller may no longer read, after a change not yet projected, is left out).
pub async fn page(
    state: &AppState,
    user: &CurrentUser,
    filter: &CourseFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<(Arc<Course>, u64)>, i64), AppError> {
    let (codes, total) = page_codes(state, user, filter, limit, offset).await?;
    let mut items = Vec::with_capacity(codes.len());
    for code in codes {
        let (course, version) = store::load(&state.stores().courses, &code).await?;
        if course.exists() && user.require_course_reader(&course).is_ok() {
            items.push((course, version));
        }
    }
    Ok((items, total))
}
