//! Reports (strategy pattern): `GET /api/reports/formats`, and the student, course, at-risk
//! and department reports in any enabled format (`format=csv|xlsx|pdf`, `excel` for `xlsx`), rendered from the
//! read models, or from the history as it stood at `as_of`.

use crate::app::access::visible_courses;
use crate::app::courses::load_course;
use crate::app::freshness::wait_for;
use crate::auth::CurrentUser;
use crate::checks::{check_query_time, course_id, student_id};
use crate::error::{ApiError, FieldProblem};
use crate::extract::{AppPath, AppQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use domain::Role;
use projections::course_stats::store::CourseStatsProjection;
use projections::projector::Projection;
use projections::reports::{ReportFormat, load};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// One format.
#[derive(Serialize, ToSchema)]
pub struct FormatInfo {
    /// Name to pass as `format`.
    pub name: String,
    /// File extension.
    pub extension: String,
    /// MIME type.
    pub content_type: String,
}

/// The enabled formats.
#[derive(Serialize, ToSchema)]
pub struct Formats {
    /// Used when a request names none.
    pub default: String,
    /// Enabled formats.
    pub formats: Vec<FormatInfo>,
    /// Other accepted names.
    pub aliases: std::collections::BTreeMap<String, String>,
}

/// The report formats this server offers.
#[utoipa::path(
    get, path = "/api/reports/formats", operation_id = "list_report_formats", tag = "reports",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The enabled formats, the default and the aliases.", body = Formats)
    )
)]
async fn formats(State(state): State<AppState>, _user: CurrentUser) -> Json<Formats> {
    let registry = state.reports();
    let formats = registry
        .available()
        .into_iter()
        .filter_map(|name| registry.get(Some(&name)).ok())
        .map(|f| FormatInfo {
            name: f.name().into(),
            extension: f.extension().into(),
            content_type: f.content_type().into(),
        })
        .collect();
    Json(Formats {
        default: registry.default_format().to_string(),
        formats,
        aliases: registry.aliases().clone(),
    })
}

fn strategy(state: &AppState, name: Option<&str>) -> Result<Arc<dyn ReportFormat>, ApiError> {
    state.reports().get(name).map_err(|e| ApiError::BadRequest {
        code: "unknown_format",
        detail: e.to_string(),
        errors: vec![FieldProblem {
            field: "format".into(),
            detail: format!("available: {}", e.available.join(", ")),
            code: None,
        }],
    })
}

/// Renders off the async threads and answers the file with a sensible name.
async fn file<R: Send + 'static>(
    format: Arc<dyn ReportFormat>,
    report: R,
    stem: String,
    as_of: Option<DateTime<Utc>>,
    render: fn(&dyn ReportFormat, &R) -> Result<Vec<u8>, projections::reports::ReportError>,
) -> Result<Response, ApiError> {
    let moved = format.clone();
    let bytes = tokio::task::spawn_blocking(move || render(moved.as_ref(), &report))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    // The file name carries what the CSV table no longer repeats above itself: the report,
    // its subject, and the day its figures are as of.
    let name = match as_of {
        Some(t) => format!("{stem}-as-of-{}", t.format("%Y-%m-%dT%H%M%SZ")),
        None => format!("{stem}-{}", Utc::now().format("%Y-%m-%d")),
    };
    let name = format!("{name}.{}", format.extension());
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(ApiError::internal)?;
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    Ok(response)
}

/// Options of the student report.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StudentReportQuery {
    /// The course.
    pub course_id: String,
    /// csv, xlsx (or excel), pdf; default from the configuration.
    pub format: Option<String>,
    /// Render the register as it stood at this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub as_of: Option<DateTime<Utc>>,
}

/// A student's attendance in a course (admins, the course's teachers, the student).
#[utoipa::path(
    get, path = "/api/reports/student/{student_id}", operation_id = "get_student_report", tag = "reports",
    security(("bearer" = [])),
    params(("student_id" = String, Path, description = "student number"), StudentReportQuery),
    responses(
        (status = 200, description = "The report file in the format asked for (CSV, XLSX or PDF)."),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn student_report(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<StudentReportQuery>,
) -> Result<Response, ApiError> {
    let format = strategy(&state, q.format.as_deref())?;
    let student = student_id("student_id", &id)?;
    let course = course_id("course_id", &q.course_id)?;
    let (aggregate, _) = load_course(&state, &course).await?;
    if !(user.is_course_staff(&aggregate) || user.is_student(&student)) {
        return Err(ApiError::Forbidden(
            "you may not read this student's report",
        ));
    }
    check_query_time("as_of", q.as_of)?;
    let report = load::student(state.pool(), student.as_str(), course.as_str(), q.as_of)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("student {student} has no attendance in {course}"))
        })?;
    file(
        format,
        report,
        format!("attendance-{student}-{course}"),
        q.as_of,
        |f, r| f.render_student(r),
    )
    .await
}

/// Options of the course report.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CourseReportQuery {
    /// csv, xlsx (or excel), pdf; default from the configuration.
    pub format: Option<String>,
    /// Render the register as it stood at this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub as_of: Option<DateTime<Utc>>,
}

/// A course's matrix of students by sessions (admins and the course's teachers).
#[utoipa::path(
    get, path = "/api/reports/course/{course_id}", operation_id = "get_course_report", tag = "reports",
    security(("bearer" = [])),
    params(("course_id" = String, Path, description = "course code"), CourseReportQuery),
    responses(
        (status = 200, description = "The report file in the format asked for (CSV, XLSX or PDF)."),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn course_report(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<CourseReportQuery>,
) -> Result<Response, ApiError> {
    let format = strategy(&state, q.format.as_deref())?;
    let course = course_id("course_id", &id)?;
    let (aggregate, _) = load_course(&state, &course).await?;
    user.require_course_staff(&aggregate)?;
    check_query_time("as_of", q.as_of)?;
    let report = load::course(state.pool(), course.as_str(), q.as_of)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("course {course} has no statistics yet")))?;
    file(
        format,
        report,
        format!("course-{course}"),
        q.as_of,
        |f, r| f.render_course(r),
    )
    .await
}

/// Options of the at-risk report.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AtRiskReportQuery {
    /// One course (default: every course the caller may read).
    pub course_id: Option<String>,
    /// Threshold in percent (default: the course policy's).
    pub threshold: Option<f64>,
    /// csv, xlsx (or excel), pdf; default from the configuration.
    pub format: Option<String>,
    /// Render the register as it stood at this time (RFC 3339).
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub as_of: Option<DateTime<Utc>>,
}

/// Students below the threshold with their risk level (critical < 50 %, high < 60 %,
/// moderate < threshold): admins, and teachers for their courses.
#[utoipa::path(
    get, path = "/api/reports/at-risk", operation_id = "get_at_risk_report", tag = "reports",
    security(("bearer" = [])),
    params(AtRiskReportQuery),
    responses(
        (status = 200, description = "The report file in the format asked for (CSV, XLSX or PDF)."),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn at_risk_report(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<AtRiskReportQuery>,
) -> Result<Response, ApiError> {
    let format = strategy(&state, q.format.as_deref())?;
    if q.threshold.is_some_and(|t| !(0.0..=100.0).contains(&t)) {
        return Err(ApiError::bad_param(
            "threshold",
            "must be between 0 and 100",
        ));
    }
    if user.role == Role::Student {
        return Err(ApiError::Forbidden("students may not read at-risk reports"));
    }
    let courses = match &q.course_id {
        Some(id) => {
            let course = course_id("course_id", id)?;
            user.require_course_staff(&load_course(&state, &course).await?.0)?;
            vec![course.to_string()]
        }
        None => visible_courses(&state, &user)
            .await?
            .iter()
            .filter_map(|(c, _)| c.id.as_ref().map(|i| i.to_string()))
            .collect(),
    };
    check_query_time("as_of", q.as_of)?;
    let report = load::at_risk(state.pool(), &courses, q.threshold, q.as_of).await?;
    let stem = format!("at-risk-{}", q.course_id.as_deref().unwrap_or("all"));
    file(format, report, stem, q.as_of, |f, r| f.render_at_risk(r)).await
}

/// Options of the department report.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DepartmentReportQuery {
    /// csv, xlsx (or excel), pdf; default from the configuration.
    pub format: Option<String>,
    /// Wait until the event at this global position is reflected.
    pub min_position: Option<i64>,
    /// How long to wait, in milliseconds.
    pub wait_ms: Option<u64>,
}

/// Per course of a department (any case; archived courses included, flagged): students ever
/// enrolled, their average rate, how many are at risk; and the department's totals (admins
/// only: the report shows every teacher's courses).
#[utoipa::path(
    get, path = "/api/reports/department/{department}", operation_id = "get_department_report", tag = "reports",
    security(("bearer" = [])),
    params(("department" = String, Path, description = "department name, as the courses carry it (any case)"), DepartmentReportQuery),
    responses(
        (status = 200, description = "The report file in the format asked for (CSV, XLSX or PDF). The CSV holds the course lines only; the XLSX and PDF add the totals."),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn department_report(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(department): AppPath<String>,
    AppQuery(q): AppQuery<DepartmentReportQuery>,
) -> Result<Response, ApiError> {
    let format = strategy(&state, q.format.as_deref())?;
    user.require_admin()?;
    let department = department.trim().to_string();
    if department.is_empty()
        || department.chars().count() > 100
        || department.chars().any(char::is_control)
    {
        return Err(ApiError::bad_param(
            "department",
            "1 to 100 characters, no control characters",
        ));
    }
    wait_for(
        &state,
        CourseStatsProjection::NAME,
        q.min_position,
        q.wait_ms,
    )
    .await?;
    let report = load::department(state.pool(), &department)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("department {department:?} has no course")))?;
    // The file name keeps letters, digits and dashes of the department.
    let stem: String = department
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    file(
        format,
        report,
        format!("department-{stem}"),
        None,
        |f, r| f.render_department(r),
    )
    .await
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(formats))
        .routes(routes!(student_report))
        .routes(routes!(course_report))
        .routes(routes!(at_risk_report))
        .routes(routes!(department_report))
}
