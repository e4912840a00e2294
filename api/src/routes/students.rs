//! Students' personal data: `POST/GET /api/students`, `GET/PUT/DELETE /api/students/{id}`.
//!
//! Personal data never enters events; erasing it (`DELETE`) keeps the student's history,
//! which refers to the student number only.

use crate::app::access::{require_student_reader, visible_courses};
use crate::app::students::{
    COLUMNS, StudentFilter, StudentView, find, find_many, page, search_key,
};
use crate::auth::CurrentUser;
use crate::checks::course_id;
use crate::checks::{check_optional_text, check_text, student_id};
use crate::error::ApiError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;
use crate::views::Paging;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A new student.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStudent {
    /// The institution's student number (`[A-Za-z0-9_-]`, up to 32).
    pub id: String,
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Level or year.
    pub level: Option<String>,
}

impl NewStudent {
    fn details(&self) -> StudentDetails {
        StudentDetails {
            name: self.name.clone(),
            email: self.email.clone(),
            department: self.department.clone(),
            level: self.level.clone(),
        }
    }
}

/// A student's personal data.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StudentDetails {
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Level or year.
    pub level: Option<String>,
}

struct CheckedDetails {
    name: String,
    email: Option<String>,
    department: Option<String>,
    level: Option<String>,
}

fn check_details(details: &StudentDetails) -> Result<CheckedDetails, ApiError> {
    let email = check_optional_text("email", details.email.as_deref(), 254)?;
    if email
        .as_deref()
        .is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace))
    {
        return Err(ApiError::invalid("email", "is not an e-mail address"));
    }
    Ok(CheckedDetails {
        name: check_text("name", &details.name, 200)?,
        email,
        department: check_optional_text("department", details.department.as_deref(), 100)?,
        level: check_optional_text("level", details.level.as_deref(), 50)?,
    })
}

/// Registers a student (admin only).
#[utoipa::path(
    post, path = "/api/students", operation_id = "create_student", tag = "students",
    security(("bearer" = [])),
    request_body(content = NewStudent, description = "The new student's number and personal data.",
        example = json!({"id": "S1001", "name": "Zoë Ñúñez", "email": "zoe@example.edu"})),
    responses(
        (status = 201, description = "The student is registered.", body = StudentView,
            example = json!({
                "id": "S1001",
                "name": "Zoë Ñúñez",
                "email": "zoe@example.edu",
                "department": null,
                "level": null,
                "phone": null,
                "active": true,
                "registered_on": null,
                "erased": false
            })),
        (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<NewStudent>,
) -> Result<(StatusCode, Json<StudentView>), ApiError> {
    user.require_admin()?;
    let id = student_id("id", &body.id)?;
    let d = check_details(&body.details())?;
    let created: Option<StudentView> = sqlx::query_as(&format!(
        "INSERT INTO students (id, name, email, department, level, search_key)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(id.as_str())
    .bind(&d.name)
    .bind(&d.email)
    .bind(&d.department)
    .bind(&d.level)
    .bind(search_key(&d.name))
    .fetch_optional(state.pool())
    .await?;
    let created = created.ok_or_else(|| {
        ApiError::conflict("student_exists", format!("student {id} already exists"))
    })?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// What a list of students shows. Without any parameter the answer is every student the
/// caller may read as a bare array (the shape of earlier versions); with any, one page.
#[derive(Deserialize, IntoParams, Default)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StudentQuery {
    /// Part of the student number or name, without regard to case or accents.
    pub q: Option<String>,
    /// Department (exact, any case).
    pub department: Option<String>,
    /// Level (exact, any case).
    pub level: Option<String>,
    /// Only the students ever enrolled in this course.
    pub course: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<i64>,
    /// Rows skipped (default 0).
    pub offset: Option<i64>,
}

impl StudentQuery {
    fn is_empty(&self) -> bool {
        self.q.is_none()
            && self.department.is_none()
            && self.level.is_none()
            && self.course.is_none()
            && self.limit.is_none()
            && self.offset.is_none()
    }
}

/// One page of students.
#[derive(Serialize, ToSchema)]
pub struct StudentPage {
    /// The students of the page, by number.
    pub items: Vec<StudentView>,
    /// How many students the filter shows in all.
    pub total: i64,
    /// The page's length as asked.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// Every student the caller may read, or one page of them.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum StudentList {
    /// Without parameters: every student, by number.
    All(Vec<StudentView>),
    /// With any parameter: one page and the total.
    Page(StudentPage),
}

/// Lists students: all for admins, those of their courses for teachers; searched and paged
/// with any parameter.
#[utoipa::path(
    get, path = "/api/students", operation_id = "list_students", tag = "students",
    security(("bearer" = [])),
    params(StudentQuery),
    responses(
        (status = 200, description = "All students for admins; a teacher's students. A bare array without parameters; with any, `{items, total, limit, offset}`.", body = StudentList),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(query): AppQuery<StudentQuery>,
) -> Result<Json<StudentList>, ApiError> {
    let readable = match user.role {
        Role::Admin => None,
        Role::Teacher => {
            let mut ids: Vec<String> = visible_courses(&state, &user)
                .await?
                .iter()
                .flat_map(|(course, _)| course.enrollments.keys().map(|s| s.to_string()))
                .collect();
            ids.sort();
            ids.dedup();
            Some(ids)
        }
        Role::Student => {
            return Err(ApiError::Forbidden(
                "students may only read their own record",
            ));
        }
    };
    if query.is_empty() {
        return Ok(Json(StudentList::All(match readable {
            None => {
                sqlx::query_as(&format!("SELECT {COLUMNS} FROM students ORDER BY id"))
                    .fetch_all(state.pool())
                    .await?
            }
            Some(ids) => find_many(state.pool(), &ids).await?,
        })));
    }
    let paging = Paging::check(query.limit, query.offset)?;
    let among = match &query.course {
        Some(code) => Some(course_students(&state, &user, code, readable).await?),
        None => readable,
    };
    let filter = StudentFilter {
        q: query.q.filter(|q| !q.trim().is_empty()),
        department: query.department,
        level: query.level,
        among,
    };
    let (items, total) = page(state.pool(), &filter, paging.limit, paging.offset).await?;
    Ok(Json(StudentList::Page(StudentPage {
        items,
        total,
        limit: paging.limit,
        offset: paging.offset,
    })))
}

/// The students ever enrolled in a course the caller may read (404 otherwise), among those
/// the caller may read.
async fn course_students(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    readable: Option<Vec<String>>,
) -> Result<Vec<String>, ApiError> {
    let id = course_id("course", code)
        .map_err(|_| ApiError::bad_param("course", "is not a course code"))?;
    let (course, _) = crate::app::store::load(&state.stores().courses, id.as_str()).await?;
    if !course.exists() || user.require_course_reader(&course).is_err() {
        return Err(ApiError::NotFound(format!("course {id} does not exist")));
    }
    Ok(course
        .enrollments
        .keys()
        .map(|s| s.to_string())
        .filter(|s| readable.as_ref().is_none_or(|r| r.contains(s)))
        .collect())
}

/// One student.
#[utoipa::path(
    get, path = "/api/students/{id}", operation_id = "get_student", tag = "students",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "student number")),
    responses(
        (status = 200, description = "The student.", body = StudentView),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<Json<StudentView>, ApiError> {
    let id = student_id("id", &id)?;
    require_student_reader(&state, &user, &id).await?;
    let student = find(state.pool(), &id).await?;
    student
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("student {id} does not exist")))
}

/// Replaces a student's personal data (admin only).
#[utoipa::path(
    put, path = "/api/students/{id}", operation_id = "update_student", tag = "students",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "student number")),
    request_body(content = StudentDetails, description = "The student's personal data, replaced whole.",
        example = json!({
            "name": "Zoë Ñúñez",
            "email": "zoe.nunez@example.edu",
            "department": "Computer Science",
            "level": "L2"
        })),
    responses(
        (status = 200, description = "The student as changed.", body = StudentView),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem)
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<StudentDetails>,
) -> Result<Json<StudentView>, ApiError> {
    user.require_admin()?;
    let id = student_id("id", &id)?;
    let d = check_details(&body)?;
    let existing = find(state.pool(), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("student {id} does not exist")))?;
    if existing.erased {
        return Err(ApiError::conflict(
            "student_erased",
            format!("the personal data of student {id} was erased"),
        ));
    }
    let updated: StudentView = sqlx::query_as(&format!(
        "UPDATE students SET name = $2, email = $3, department = $4, level = $5, search_key = $6,
                updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id.as_str())
    .bind(&d.name)
    .bind(&d.email)
    .bind(&d.department)
    .bind(&d.level)
    .bind(search_key(&d.name))
    .fetch_one(state.pool())
    .await?;
    Ok(Json(updated))
}

/// Erases a student's personal data (admin only) and disables their accounts. The
/// attendance history stays, referring to the student number only.
#[utoipa::path(
    delete, path = "/api/students/{id}", operation_id = "erase_student", tag = "students",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "student number")),
    responses(
        (status = 204, description = "The personal data is erased and the student's accounts disabled."),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn erase(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    user.require_admin()?;
    let id = student_id("id", &id)?;
    let mut tx = state.pool().begin().await?;
    let erased = sqlx::query(
        "UPDATE students SET name = NULL, email = NULL, department = NULL, level = NULL,
                phone = NULL, registered_on = NULL, search_key = NULL, guardian_email = NULL,
                erased_at = COALESCE(erased_at, now()), updated_at = now() WHERE id = $1",
    )
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    if erased.rows_affected() == 0 {
        return Err(ApiError::NotFound(format!("student {id} does not exist")));
    }
    sqlx::query("UPDATE users SET disabled = true WHERE student_id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    // The early warning's e-mails to them: the addresses and texts go, none is sent any more.
    sqlx::query(
        "UPDATE notification_outbox SET recipient = 'erased', subject = '', body = '',
                skipped = COALESCE(skipped, CASE WHEN sent_at IS NULL THEN 'erased' END)
          WHERE student_id = $1",
    )
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    let committed = tx.commit().await;
    // Also after an error: the commit may have happened before its answer was lost.
    state.accounts().forget_student(&id);
    committed?;
    tracing::info!(student_id = %id, by = %user.id, "student personal data erased");
    Ok(StatusCode::NO_CONTENT)
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update, erase))
}
