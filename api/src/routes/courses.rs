//! Courses: `POST/GET /api/courses`, `GET/PUT /api/courses/{id}`, teachers and policy.

use crate::app::access::visible_courses;
use crate::app::course_list::{self, Archived, CourseFilter};
use crate::app::courses::{execute, load_course};
use crate::app::freshness::{Freshness, wait_for};
use crate::auth::CurrentUser;
use crate::auth::users;
use crate::checks::{check_optional_text, check_text, check_zone, course_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, AppQuery, RequestId, parse_id};
use crate::state::AppState;
use crate::views::{Accepted, Paging, PolicyBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use domain::course::{Course, CourseCommand, CourseDetails};
use domain::{AttendancePolicy, Role, UserId};
use projections::course_stats::store::CourseStatsProjection;
use projections::projector::Projection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A course as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct CourseView {
    /// Course code (the id).
    pub code: String,
    /// Name.
    pub name: String,
    /// Department.
    pub department: Option<String>,
    /// Credits.
    pub credits: Option<u32>,
    /// Semester.
    pub semester: Option<String>,
    /// User ids of the assigned teachers.
    pub teachers: Vec<String>,
    /// Attendance policy.
    pub policy: PolicyBody,
    /// The IANA time zone its days are counted in.
    pub time_zone: String,
    /// Students enrolled today (the course's local date).
    pub enrolled_students: usize,
    /// Scheduled sessions (cancelled ones included).
    pub sessions: usize,
    /// The course aggregate's version.
    pub version: u64,
    /// Whether the course is archived (hidden from lists by default, no new sessions).
    pub archived: bool,
}

impl CourseView {
    /// The view of a course at a version.
    pub fn new(course: &Course, version: u64) -> Self {
        let today = course.day_of(Utc::now());
        CourseView {
            code: course
                .id
                .as_ref()
                .map(|id| id.to_string())
                .unwrap_or_default(),
            name: course.details.name.clone(),
            department: course.details.department.clone(),
            credits: course.details.credits,
            semester: course.details.semester.clone(),
            teachers: course.teachers.iter().map(|t| t.to_string()).collect(),
            policy: course.policy.into(),
            time_zone: course.time_zone.to_string(),
            enrolled_students: course.roster_on(today).len(),
            sessions: course.sessions.len(),
            version,
            archived: course.archived,
        }
    }
}

/// A new course.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCourse {
    /// Course code, `[A-Za-z0-9_-]{1,32}`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Department.
    pub department: Option<String>,
    /// Credits (0-60).
    pub credits: Option<u32>,
    /// Semester label.
    pub semester: Option<String>,
    /// IANA time zone its days are counted in (default: the institution's,
    /// `ATTENDANCE_TIMEZONE`).
    pub time_zone: Option<String>,
}

impl NewCourse {
    fn details(&self) -> DetailsBody {
        DetailsBody {
            name: self.name.clone(),
            department: self.department.clone(),
            credits: self.credits,
            semester: self.semester.clone(),
        }
    }
}

/// A course's catalogue data.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailsBody {
    /// Name.
    pub name: String,
    /// Department.
    pub department: Option<String>,
    /// Credits (0-60).
    pub credits: Option<u32>,
    /// Semester label.
    pub semester: Option<String>,
}

fn check_details(body: &DetailsBody) -> Result<CourseDetails, ApiError> {
    if body.credits.is_some_and(|c| c > 60) {
        return Err(ApiError::invalid("credits", "must be between 0 and 60"));
    }
    Ok(CourseDetails {
        name: check_text("name", &body.name, 200)?,
        department: check_optional_text("department", body.department.as_deref(), 100)?,
        credits: body.credits,
        semester: check_optional_text("semester", body.semester.as_deref(), 50)?,
    })
}

/// Creates a course (admin only).
#[utoipa::path(
    post, path = "/api/courses", operation_id = "create_course", tag = "courses",
    security(("bearer" = [])),
    request_body(content = NewCourse, description = "The new course.",
        example = json!({
            "code": "CS101",
            "name": "Introduction to Programming",
            "credits": 6,
            "semester": "2026-autumn"
        })),
    responses(
        (status = 201, description = "The course is created.", body = CourseView,
            example = json!({
                "code": "CS101",
                "name": "Introduction to Programming",
                "department": null,
                "credits": 6,
                "semester": "2026-autumn",
                "teachers": [],
                "policy": {"weights": {"present": 1.0, "late": 1.0, "excused": 1.0, "absent": 0.0}, "count_excused": false, "at_risk_below": 75.0},
                "time_zone": "UTC",
                "enrolled_students": 0,
                "sessions": 0,
                "version": 1,
                "archived": false
            })),
        (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppJson(body): AppJson<NewCourse>,
) -> Result<(StatusCode, Json<CourseView>), ApiError> {
    user.require_admin()?;
    let id = course_id("code", &body.code)?;
    let details = check_details(&body.details())?;
    let time_zone = match body.time_zone.as_deref() {
        Some(name) => check_zone("time_zone", name)?,
        None => state.config().time_zone,
    };
    let command = CourseCommand::CreateCourse {
        course_id: id.clone(),
        details,
        time_zone,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id, &id, command).await?;
    Ok((
        StatusCode::CREATED,
        Json(CourseView::new(&done.aggregate, done.version)),
    ))
}

/// What a list of courses shows. Without any parameter the answer is every course the
/// caller may read that is not archived, as a bare array (the shape of earlier versions);
/// with any, one page from the course lists' read model.
#[derive(Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CourseQuery {
    /// Department (exact, any case).
    pub department: Option<String>,
    /// Semester label (exact, any case).
    pub semester: Option<String>,
    /// Only the courses this user id teaches.
    pub teacher: Option<String>,
    /// Part of the code or name, without regard to case or accents.
    pub q: Option<String>,
    /// `true`: only archived courses.
    pub archived: Option<bool>,
    /// `true`: archived courses too.
    pub include_archived: Option<bool>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// Rows skipped (default 0).
    pub offset: Option<i64>,
    /// Wait until the event at this global position is listed.
    pub min_position: Option<i64>,
    /// How long to wait, in milliseconds.
    pub wait_ms: Option<u64>,
}

impl CourseQuery {
    fn is_empty(&self) -> bool {
        self.department.is_none()
            && self.semester.is_none()
            && self.teacher.is_none()
            && self.q.is_none()
            && self.archived.is_none()
            && self.include_archived.is_none()
            && self.limit.is_none()
            && self.offset.is_none()
            && self.min_position.is_none()
    }
}

/// One page of courses.
#[derive(Serialize, ToSchema)]
pub struct CoursePage {
    /// The courses of the page, by code.
    pub items: Vec<CourseView>,
    /// How many courses the filter shows in all.
    pub total: i64,
    /// The page's length as asked.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
    /// Which position the list reflects (it is a read model).
    pub freshness: Freshness,
}

/// Every course the caller may read, or one page of them.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum CourseList {
    /// Without parameters: every course not archived, by code.
    All(Vec<CourseView>),
    /// With any parameter: one page and the total.
    Page(CoursePage),
}

/// Lists the courses the caller may read; filtered and paged with any parameter.
#[utoipa::path(
    get, path = "/api/courses", operation_id = "list_courses", tag = "courses",
    security(("bearer" = [])),
    params(CourseQuery),
    responses(
        (status = 200, description = "All courses for admins; a teacher's own courses; a student's enrolled courses; archived ones only when asked. A bare array without parameters; with any, `{items, total, limit, offset, freshness}`.", body = CourseList),
        (status = 400, body = crate::error::Problem)
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(query): AppQuery<CourseQuery>,
) -> Result<Json<CourseList>, ApiError> {
    if query.is_empty() {
        let courses = visible_courses(&state, &user).await?;
        return Ok(Json(CourseList::All(
            courses
                .iter()
                .filter(|(course, _)| !course.archived)
                .map(|(course, version)| CourseView::new(course, *version))
                .collect(),
        )));
    }
    let paging = Paging::check(query.limit, query.offset)?;
    let freshness = wait_for(
        &state,
        CourseStatsProjection::NAME,
        query.min_position,
        query.wait_ms,
    )
    .await?;
    let filter = CourseFilter {
        department: query.department,
        semester: query.semester,
        teacher: query.teacher,
        q: query.q.filter(|q| !q.trim().is_empty()),
        archived: Archived::from_params(query.archived, query.include_archived),
    };
    let (courses, total) =
        course_list::page(&state, &user, &filter, paging.limit, paging.offset).await?;
    Ok(Json(CourseList::Page(CoursePage {
        items: courses
            .iter()
            .map(|(course, version)| CourseView::new(course, *version))
            .collect(),
        total,
        limit: paging.limit,
        offset: paging.offset,
        freshness,
    })))
}

/// One course.
#[utoipa::path(
    get, path = "/api/courses/{id}", operation_id = "get_course", tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    responses(
        (status = 200, description = "The course.", body = CourseView),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<CourseView>, ApiError> {
    let id = course_id("id", &id)?;
    let (course, version) = load_course(&state, &id).await?;
    // Whoever may not read it learns no more than for a course that does not exist.
    user.require_course_reader(&course)
        .map_err(|_| ApiError::NotFound(format!("course {id} does not exist")))?;
    Ok(Json(CourseView::new(&course, version)))
}

/// Replaces a course's catalogue data (admin only).
#[utoipa::path(
    put, path = "/api/courses/{id}", operation_id = "update_course", tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    request_body(content = DetailsBody, description = "The course's details, replaced whole.",
        example = json!({
            "name": "Introduction to Programming",
            "department": "Computer Science",
            "credits": 6,
            "semester": "2026-autumn"
        })),
    responses(
        (status = 200, description = "The course as changed.", body = CourseView),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<DetailsBody>,
) -> Result<Json<CourseView>, ApiError> {
    user.require_admin()?;
    let id = course_id("id", &id)?;
    let details = check_details(&body)?;
    load_course(&state, &id).await?;
    let command = CourseCommand::UpdateCourse {
        details,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id, &id, command).await?;
    Ok(Json(CourseView::new(&done.aggregate, done.version)))
}

/// A teacher to assign.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeacherBody {
    /// The teacher's user id.
    pub user_id: String,
}

/// Assigns a teacher to the course (admin only).
#[utoipa::path(
    post, path = "/api/courses/{id}/teachers", operation_id = "assign_teacher", tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    request_body(content = TeacherBody, description = "The teacher's user id.",
        example = json!({"user_id": "01a20e979fd77580b6d0399da72a8edd"})),
    responses(
        (status = 200, description = "The teacher is assigned (or already was).", body = Accepted),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn assign_teacher(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<TeacherBody>,
) -> Result<Json<Accepted>, ApiError> {
    user.require_admin()?;
    let id = course_id("id", &id)?;
    let teacher = parse_id("user_id", &body.user_id, UserId::parse)?;
    let account = users::by_id(state.pool(), teacher.as_str()).await?;
    if !account.is_some_and(|a| a.role == Role::Teacher && !a.disabled) {
        return Err(ApiError::invalid(
            "user_id",
            format!("{teacher} is not an active teacher account"),
        ));
    }
    load_course(&state, &id).await?;
    let command = CourseCommand::AssignTeacher {
        teacher,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id, &id, command).await?;
    Ok(Json(Accepted::from(&done)))
}

/// Unassigns a teacher from the course (admin only).
#[utoipa::path(
    delete, path = "/api/courses/{id}/teachers/{user_id}", operation_id = "unassign_teacher", tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code"), ("user_id" = String, Path, description = "teacher's user id")),
    responses(
        (status = 200, description = "The teacher no longer teaches the course.", body = Accepted),
        (status = 409, body = crate::error::Problem)
    )
)]
async fn unassign_teacher(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath((id, teacher)): AppPath<(String, String)>,
) -> Result<Json<Accepted>, ApiError> {
    user.require_admin()?;
    let id = course_id("id", &id)?;
    let teacher = parse_id("user_id", &teacher, UserId::parse)?;
    load_course(&state, &id).await?;
    let command = CourseCommand::UnassignTeacher {
        teacher,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id, &id, command).await?;
    Ok(Json(Accepted::from(&done)))
}

/// Sets the course's attendance policy (admins and the course's teachers). It applies to
/// past sessions too.
#[utoipa::path(
    put, path = "/api/courses/{id}/policy", operation_id = "set_course_policy", tag = "courses",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "course code")),
    request_body(content = PolicyBody, description = "Status weights, whether excused absences count, the at-risk threshold.",
        example = json!({
            "weights": {"present": 1.0, "late": 0.5, "excused": 1.0, "absent": 0.0},
            "count_excused": false,
            "at_risk_below": 75.0
        })),
    responses(
        (status = 200, description = "The policy applies to the course's rates from now on.", body = Accepted),
        (status = 409, body = crate::error::Problem)
    )
)]
async fn set_policy(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<PolicyBody>,
) -> Result<Json<Accepted>, ApiError> {
    let id = course_id("id", &id)?;
    let (course, _) = load_course(&state, &id).await?;
    user.require_course_staff(&course)?;
    let policy = AttendancePolicy::from(body);
    policy
        .validate()
        .map_err(|e| ApiError::invalid("policy", e.to_string()))?;
    let command = CourseCommand::SetPolicy {
        policy,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = execute(&state, &user, request_id, &id, command).await?;
    Ok(Json(Accepted::from(&done)))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update))
        .routes(routes!(assign_teacher))
        .routes(routes!(unassign_teacher))
        .routes(routes!(set_policy))
}
