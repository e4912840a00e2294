//! Checks of the values a request carries (ids, times, dates, texts), answered as 400 for a
//! path or query parameter and 422 for a body field, naming the parameter or field.

use crate::error::ApiError;
use crate::extract::parse_id;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::{CourseId, SessionId, StudentId};

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

/// Parses an IANA time zone name from a body field (422 naming the field when unknown).
pub fn check_zone(field: &str, value: &str) -> Result<domain::Zone, ApiError> {
    domain::Zone::parse(value).map_err(|e| ApiError::invalid(field, e.to_string()))
}
