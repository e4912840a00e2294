//! HTTP routes, one file per area, each with its own `router()`; merged in [`crate::app`].
//! Shared look-ups (a course, a session's course) live here.

pub mod attendance;
pub mod audit;
pub mod auth;
pub mod courses;
pub mod enrollments;
pub mod health;
pub mod records;
pub mod reports;
pub mod sessions;
pub mod sheets;
pub mod statistics;
pub mod students;
pub mod users;

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::extract::parse_id;
use crate::state::AppState;
use crate::store::{self, CommandMeta, Source};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::course::{Course, ScheduledSession};
use domain::{CourseId, SessionId, StudentId};
use std::sync::Arc;

/// Parses a course code from a path or body.
pub fn course_id(name: &str, value: &str) -> Result<CourseId, ApiError> {
    parse_id(name, value, CourseId::parse)
}

/// Parses a session id from a path or body.
pub fn session_id(name: &str, value: &str) -> Result<SessionId, ApiError> {
    parse_id(name, value, SessionId::parse)
}

/// Parses a student number from a path or body.
pub fn student_id(name: &str, value: &str) -> Result<StudentId, ApiError> {
    parse_id(name, value, StudentId::parse)
}

/// Loads an existing course with its version, or 404.
pub async fn load_course(state: &AppState, id: &CourseId) -> Result<(Arc<Course>, u64), ApiError> {
    let (course, version) = store::load(&state.stores().courses, id.as_str()).await?;
    if !course.exists() {
        return Err(ApiError::NotFound(format!("course {id} does not exist")));
    }
    Ok((course, version))
}

/// A session with its course, as found from the session id.
pub struct SessionContext {
    /// The session id.
    pub session_id: SessionId,
    /// The course (shared with the aggregate cache).
    pub course: Arc<Course>,
    /// The course's version the context was read at.
    pub course_version: u64,
    /// The course's code.
    pub course_id: CourseId,
    /// The scheduled session.
    pub session: ScheduledSession,
}

/// Finds a session and its course (read up to date), or 404.
pub async fn load_session(
    state: &AppState,
    session_id: SessionId,
) -> Result<SessionContext, ApiError> {
    session_context(state, session_id, false).await
}

/// Finds a session and its course as this process last knew the course, without reading
/// the store, or 404 (read up to date before answering 404). For a register command, whose
/// insert checks the course's version ([`sessions::on_register`]).
pub async fn load_session_to_write(
    state: &AppState,
    session_id: SessionId,
) -> Result<SessionContext, ApiError> {
    match session_context(state, session_id.clone(), true).await {
        Err(ApiError::NotFound(_)) => session_context(state, session_id, false).await,
        other => other,
    }
}

async fn session_context(
    state: &AppState,
    session_id: SessionId,
    as_known: bool,
) -> Result<SessionContext, ApiError> {
    let not_found = || ApiError::NotFound(format!("session {session_id} does not exist"));
    let course_id = match state.known_course_of(&session_id) {
        Some(course) => course,
        None => {
            let course = projections::event_log::course_of_session(state.pool(), &session_id)
                .await?
                .ok_or_else(not_found)?;
            state.remember_course_of(session_id.clone(), course.clone());
            course
        }
    };
    let courses = &state.stores().courses;
    let (course, course_version) = if as_known {
        store::current(courses, course_id.as_str()).await?
    } else {
        store::load(courses, course_id.as_str()).await?
    };
    if !course.exists() {
        return Err(not_found());
    }
    let session = course
        .sessions
        .get(&session_id)
        .cloned()
        .ok_or_else(not_found)?;
    Ok(SessionContext {
        session_id,
        course,
        course_version,
        course_id,
        session,
    })
}

/// The metadata of a command sent through the API.
pub fn api_meta(user: &CurrentUser, request_id: String, course_id: &CourseId) -> CommandMeta {
    CommandMeta {
        actor: user.actor(),
        request_id,
        source: Source::Api,
        course_id: course_id.clone(),
    }
}

const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2100;

/// Refuses a time outside the years 2000 to 2100 (typos such as year 20026).
pub fn check_time(field: &str, value: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&value.year()) {
        Ok(value)
    } else {
        Err(ApiError::invalid(
            field,
            format!("must be between the years {MIN_YEAR} and {MAX_YEAR}"),
        ))
    }
}

/// Refuses a time query parameter outside the years 2000 to 2100 (400).
pub fn check_query_time(name: &str, value: Option<DateTime<Utc>>) -> Result<(), ApiError> {
    match value {
        Some(v) if !(MIN_YEAR..=MAX_YEAR).contains(&v.year()) => Err(ApiError::bad_param(
            name,
            format!("must be between the years {MIN_YEAR} and {MAX_YEAR}"),
        )),
        _ => Ok(()),
    }
}

/// Refuses a date query parameter outside the years 2000 to 2100 (400).
pub fn check_query_date(name: &str, value: Option<NaiveDate>) -> Result<(), ApiError> {
    check_query_time(
        name,
        value
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc()),
    )
}

/// Refuses a date outside the years 2000 to 2100.
pub fn check_date(field: &str, value: NaiveDate) -> Result<NaiveDate, ApiError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&value.year()) {
        Ok(value)
    } else {
        Err(ApiError::invalid(
            field,
            format!("must be between the years {MIN_YEAR} and {MAX_YEAR}"),
        ))
    }
}

/// Refuses an empty or too long text field; returns it trimmed.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Like [`check_text`] for an optional field; an empty string counts as absent.
pub fn check_optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => check_text(field, text, max).map(Some),
    }
}
