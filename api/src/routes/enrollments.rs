//! Enrolments: `POST /api/courses/{id}/enrollments`,
//! `DELETE /api/courses/{id}/enrollments/{student_id}`, `GET /api/courses/{id}/students`.

use crate::app::courses::execute;
use crate::app::courses::load_course;
use crate::app::roster::{after_course_change, sessions_from};
use crate::app::students::{StudentView, find, find_many};
use crate::auth::CurrentUser;
use crate::checks::{check_date, course_id, student_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, AppQuery, RequestId};
use crate::state::AppState;
use crate::views::Accepted;
use axum::Json;
use axum::extract::State;
use chrono::{NaiveDate, Utc};
use domain::course::CourseCommand;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A student to enrol.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollBody {
    /// The student number (the student must exist).
    pub student_id: String,
    /// First enrolled day (default: today in the course's time zone).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    pub effective_from: Option<NaiveDate>,
}

/// Enrols a student (admin only). Enrolling an enrolled student changes nothing.
#[utoipa::path(
    post, path = "/api/courses/{id}/enrollments", operation_id = "enroll_student", tag = "enrollments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    request_body(content = EnrollBody, description = "The student and the first day of the enrolment.",
        example = json!({"student_id": "S1001", "effective_from": "2026-09-01"})),
    responses(
        (status = 200, description = "The student is enrolled (or already was).", body = Accepted,
            example = json!({"version": 3, "position": 1869, "changed": true})),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn enroll(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<EnrollBody>,
) -> Result<Json<Accepted>, ApiError> {
    user.require_admin()?;
    let id = course_id("id", &id)?;
    let student = student_id("student_id", &body.student_id)?;
    match find(state.pool(), &student).await? {
        Some(s) if !s.erased => {}
        _ => {
            return Err(ApiError::invalid(
                "student_id",
                format!("student {student} does not exist"),
            ));
        }
    }
    let (course, _) = load_course(&state, &id).await?;
    // "Today" is the course's local date.
    let effective_from = check_date(
        "effective_from",
        body.effective_from
            .unwrap_or_else(|| course.day_of(Utc::now())),
    )?;
    let reason = format!("enrolment of {student} from {effective_from}");
    let command = CourseCommand::EnrollStudent {
        student_id: student,
        effective_from,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id.clone(), &id, command).await?;
    // A back-dated enrolment puts the student on the registers already opened since.
    let sessions = sessions_from(&done.aggregate, effective_from);
    let position =
        after_course_change(&state, &user, request_id, &done, &sessions, &reason).await?;
    Ok(Json(Accepted {
        position,
        ..Accepted::from(&done)
    }))
}

/// When an enrolment ends.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnenrollQuery {
    /// First day no longer enrolled (default: today in the course's time zone).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    pub effective_from: Option<NaiveDate>,
}

/// Ends a student's enrolment (admin only).
#[utoipa::path(
    delete, path = "/api/courses/{id}/enrollments/{student_id}", operation_id = "unenroll_student", tag = "enrollments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), ("student_id" = String, Path, description = "student number"), UnenrollQuery),
    responses(
        (status = 200, description = "The enrolment ends.", body = Accepted),
        (status = 409, body = crate::error::Problem)
    )
)]
async fn unenroll(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath((id, student)): AppPath<(String, String)>,
    AppQuery(query): AppQuery<UnenrollQuery>,
) -> Result<Json<Accepted>, ApiError> {
    user.require_admin()?;
    let id = course_id("id", &id)?;
    let student = student_id("student_id", &student)?;
    let (course, _) = load_course(&state, &id).await?;
    let effective_from = check_date(
        "effective_from",
        query
            .effective_from
            .unwrap_or_else(|| course.day_of(Utc::now())),
    )?;
    let reason = format!("unenrolment of {student} from {effective_from}");
    let command = CourseCommand::UnenrollStudent {
        student_id: student,
        effective_from,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id.clone(), &id, command).await?;
    // A past-dated unenrolment takes the student off the registers opened since.
    let sessions = sessions_from(&done.aggregate, effective_from);
    let position =
        after_course_change(&state, &user, request_id, &done, &sessions, &reason).await?;
    Ok(Json(Accepted {
        position,
        ..Accepted::from(&done)
    }))
}

/// A student of a course, with enrolment periods.
#[derive(Serialize, ToSchema)]
pub struct CourseStudent {
    /// The student (personal data null once erased).
    pub student: StudentView,
    /// Whether enrolled today.
    pub enrolled_now: bool,
    /// Enrolment periods: `from` inclusive, `until` exclusive (null while open).
    pub periods: Vec<Period>,
}

/// One enrolment period.
#[derive(Serialize, ToSchema)]
pub struct Period {
    /// First enrolled day.
    pub from: NaiveDate,
    /// First day no longer enrolled.
    pub until: Option<NaiveDate>,
}

/// The students ever enrolled in a course (admins and the course's teachers).
#[utoipa::path(
    get, path = "/api/courses/{id}/students", operation_id = "list_course_students", tag = "enrollments",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    responses(
        (status = 200, description = "The students ever enrolled, with their enrolment periods.", body = Vec<CourseStudent>),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn students(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<Vec<CourseStudent>>, ApiError> {
    let id = course_id("id", &id)?;
    let (course, _) = load_course(&state, &id).await?;
    user.require_course_staff(&course)?;
    let ids: Vec<String> = course.enrollments.keys().map(|s| s.to_string()).collect();
    let today = course.day_of(Utc::now());
    let rows = find_many(state.pool(), &ids).await?;
    let out = rows
        .into_iter()
        .filter_map(|student| {
            let sid = domain::StudentId::parse(student.id.clone()).ok()?;
            let periods = course.enrollments.get(&sid)?;
            Some(CourseStudent {
                enrolled_now: course.is_enrolled_on(&sid, today),
                periods: periods
                    .iter()
                    .map(|p| Period {
                        from: p.from,
                        until: p.until,
                    })
                    .collect(),
                student,
            })
        })
        .collect();
    Ok(Json(out))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enroll))
        .routes(routes!(unenroll))
        .routes(routes!(students))
}
