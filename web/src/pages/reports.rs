//! Reports to download from the pages, in each enabled format (CSV, XLSX, PDF) and "as of"
//! a day: `GET /courses/{id}/report` (the course's staff) and
//! `GET /courses/{id}/students/{student}/report` (the course's staff, and the student
//! themselves). The same report loads and renderers as `/api/reports/...`; the day is the
//! course's day, and "as of" it means the register as it stood at that day's end in the
//! course's zone (or now, for today and later days).

use crate::error::PageError;
use crate::session::SignedIn;
use api::AppState;
use api::app::courses::load_course;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use domain::course::Course;
use domain::{CourseId, StudentId};
use projections::reports::{ReportError, ReportFormat, load};
use serde::Deserialize;
use std::sync::Arc;

/// The report routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/courses/{id}/report", get(course_report))
        .route(
            "/courses/{id}/students/{student}/report",
            get(student_report),
        )
}

/// The download form: a format and an optional day.
#[derive(Deserialize)]
pub struct Wanted {
    student: Option<String>,
    format: Option<String>,
    as_of: Option<String>,
}

/// A format the pages offer: its name and label.
pub fn formats(state: &AppState) -> Vec<(String, String)> {
    let registry = state.reports();
    registry
        .available()
        .into_iter()
        .filter_map(|name| registry.get(Some(&name)).ok())
        .map(|f| (f.name().to_string(), f.extension().to_uppercase()))
        .collect()
}

async fn course_report(
    State(state): State<AppState>,
    page: SignedIn,
    Path(id): Path<String>,
    Query(wanted): Query<Wanted>,
) -> Result<Response, PageError> {
    // The course page's form names a student for one student's report.
    if let Some(student) = wanted.student.clone().filter(|s| !s.is_empty()) {
        return student_report(State(state), page, Path((id, student)), Query(wanted)).await;
    }
    let (id, course) = readable_course(&state, &page, id).await?;
    if !page.user.is_course_staff(&course) {
        return Err(PageError::not_found().in_language(page.t));
    }
    let (format, as_of) = read(&state, &page, &course, &wanted)?;
    let report = load::course(state.pool(), id.as_str(), as_of)
        .await
        .map_err(|e| page.fail(e))?
        .ok_or_else(|| PageError::said(page.t.no_report).in_language(page.t))?;
    let stem = format!("course-{id}");
    download(&page, format, report, stem, &wanted, |f, r| {
        f.render_course(r)
    })
    .await
}

async fn student_report(
    State(state): State<AppState>,
    page: SignedIn,
    Path((id, student)): Path<(String, String)>,
    Query(wanted): Query<Wanted>,
) -> Result<Response, PageError> {
    let (id, course) = readable_course(&state, &page, id).await?;
    let missing = || PageError::not_found().in_language(page.t);
    let student = StudentId::parse(student).map_err(|_| missing())?;
    if !(page.user.is_course_staff(&course) || page.user.is_student(&student)) {
        return Err(missing());
    }
    let (format, as_of) = read(&state, &page, &course, &wanted)?;
    let report = load::student(state.pool(), student.as_str(), id.as_str(), as_of)
        .await
        .map_err(|e| page.fail(e))?
        .ok_or_else(|| PageError::said(page.t.no_report).in_language(page.t))?;
    let stem = format!("attendance-{student}-{id}");
    download(&page, format, report, stem, &wanted, |f, r| {
        f.render_student(r)
    })
    .await
}

/// The course, if the caller may read it; otherwise the page of one that does not exist.
async fn readable_course(
    state: &AppState,
    page: &SignedIn,
    id: String,
) -> Result<(CourseId, Arc<Course>), PageError> {
    let missing = || PageError::not_found().in_language(page.t);
    let id = CourseId::parse(id).map_err(|_| missing())?;
    let (course, _) = load_course(state, &id).await.map_err(|e| page.fail(e))?;
    page.user
        .require_course_reader(&course)
        .map_err(|_| missing())?;
    Ok((id, course))
}

/// The format and the instant (none: now) a form asks for.
type Asked = (Arc<dyn ReportFormat>, Option<DateTime<Utc>>);

/// The format and the instant the form asks for.
fn read(
    state: &AppState,
    page: &SignedIn,
    course: &Course,
    wanted: &Wanted,
) -> Result<Asked, PageError> {
    let t = page.t;
    let format = state
        .reports()
        .get(wanted.format.as_deref().filter(|f| !f.is_empty()))
        .map_err(|e| {
            PageError::bad_form(format!("{}: {}", t.report_format, e.requested)).in_language(t)
        })?;
    let as_of = match wanted
        .as_of
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(day) => {
            let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                PageError::bad_form(format!("{}: {day}", t.as_of_day)).in_language(t)
            })?;
            end_of(course, day)
        }
    };
    Ok((format, as_of))
}

/// The end of `day` in the course's zone; none (now) for today and later days.
fn end_of(course: &Course, day: NaiveDate) -> Option<DateTime<Utc>> {
    let next = day.succ_opt()?.and_time(NaiveTime::MIN);
    let end = course.time_zone.instant(next) - chrono::Duration::seconds(1);
    (end < Utc::now()).then_some(end)
}

/// Renders off the async threads and answers the file to download.
async fn download<R: Send + 'static>(
    page: &SignedIn,
    format: Arc<dyn ReportFormat>,
    report: R,
    stem: String,
    wanted: &Wanted,
    render: fn(&dyn ReportFormat, &R) -> Result<Vec<u8>, ReportError>,
) -> Result<Response, PageError> {
    let renderer = format.clone();
    let bytes = tokio::task::spawn_blocking(move || render(renderer.as_ref(), &report))
        .await
        .map_err(|e| page.fail(api::app::AppError::internal(e)))?
        .map_err(|e| page.fail(api::app::AppError::internal(e)))?;
    let day = match wanted
        .as_of
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(day) => format!("as-of-{day}"),
        None => Utc::now().format("%Y-%m-%d").to_string(),
    };
    let name = format!("{stem}-{day}.{}", format.extension());
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(|e| page.fail(api::app::AppError::internal(e)))?;
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (CONTENT_DISPOSITION, disposition),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}
