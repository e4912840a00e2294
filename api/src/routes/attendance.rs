//! Taking attendance: `POST /api/attendance` (one mark), `POST /api/sessions/{id}/attendance`
//! (a roll call, all or nothing) and `POST /api/sessions/{id}/attendance/{student_id}/correction`.

use crate::app::courses::load_course;
use crate::app::register;
use crate::app::register::{SessionContext, load_session_to_write};
use crate::auth::CurrentUser;
use crate::checks::{check_optional_text, check_text, course_id, session_id, student_id};
use crate::error::{ApiError, FieldProblem};
use crate::extract::{AppJson, AppPath, RequestId};
use crate::state::AppState;
use crate::views::MarkAccepted;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use domain::register::{RegisterCommand, RollCallMark};
use domain::{Method, Status};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Longest remark or reason.
const MAX_NOTE: usize = 500;
/// Most rows in one roll call.
const MAX_ROWS: usize = 5000;

/// One mark. Either `session_id`, or (for clients of the seed system) `course_id` + `date`
/// (+ `session_name` when the course has several sessions that day).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    /// Student number.
    pub student_id: String,
    /// Session id.
    pub session_id: Option<String>,
    /// Course code (with `date`, instead of `session_id`).
    pub course_id: Option<String>,
    /// Day of the session, UTC (with `course_id`).
    #[serde(default, deserialize_with = "crate::dates::option_date")]
    pub date: Option<NaiveDate>,
    /// Session title, to choose among several sessions that day.
    pub session_name: Option<String>,
    /// `present`, `late`, `excused` or `absent`.
    #[schema(value_type = String, example = "present")]
    pub status: Status,
    /// Optional remark. Stored in the event history, which is never erased: do not write personal data (health details, names of others) here.
    pub remark: Option<String>,
}

/// The answer to one mark: the mark as stored, and the seed system's `message` and
/// `record_id`.
#[derive(Serialize, ToSchema)]
pub struct RecordAccepted {
    /// Session id.
    pub session_id: String,
    /// Student number.
    pub student_id: String,
    /// The student's status now.
    #[schema(value_type = String, example = "present")]
    pub status: Status,
    /// The register's version.
    pub version: u64,
    /// Global position of the last event: pass it as `min_position` to read your write.
    pub position: i64,
    /// Whether the mark was new (false: it was already recorded).
    pub changed: bool,
    /// "Attendance recorded" (201) or "Already recorded" (200), as the seed system said.
    pub message: &'static str,
    /// The record's stable id, `<session_id>:<student_id>` (one roster line: a correction
    /// keeps it). `GET /api/attendance?session_id=…&student_id=…` reads it back.
    pub record_id: String,
}

/// The stable id of a student's record in a session.
fn record_id(session: &str, student: &str) -> String {
    format!("{session}:{student}")
}

/// Records one student's attendance (admins and the course's teachers).
#[utoipa::path(
    post, path = "/api/attendance", operation_id = "record_attendance", tag = "attendance",
    security(("bearer" = [])),
    request_body(content = RecordBody, description = "A mark for a session (or, as sent by older clients, a course and a date).",
        example = json!({
            "session_id": "01a20e97abab71d585620a59b45afc7d",
            "student_id": "S1001",
            "status": "present"
        })),
    responses(
        (status = 201, description = "The mark is recorded.", body = RecordAccepted,
            example = json!({
                "session_id": "01a20e97abab71d585620a59b45afc7d",
                "student_id": "S1001",
                "status": "present",
                "version": 2,
                "position": 1874,
                "changed": true,
                "message": "Attendance recorded",
                "record_id": "01a20e97abab71d585620a59b45afc7d:S1001"
            })),
        (status = 200, description = "The same mark was already recorded: nothing changed.", body = RecordAccepted,
            example = json!({
                "session_id": "01a20e97abab71d585620a59b45afc7d",
                "student_id": "S1001",
                "status": "present",
                "version": 2,
                "position": 1874,
                "changed": false,
                "message": "Already recorded",
                "record_id": "01a20e97abab71d585620a59b45afc7d:S1001"
            })),
        (status = 404, body = crate::error::Problem),
        (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppJson(body): AppJson<RecordBody>,
) -> Result<(StatusCode, Json<RecordAccepted>), ApiError> {
    let student = student_id("student_id", &body.student_id)?;
    let remark = check_optional_text("remark", body.remark.as_deref(), MAX_NOTE)?;
    let ctx = resolve_session(&state, &user, &body).await?;
    let command = RegisterCommand::RecordAttendance {
        student_id: student.clone(),
        status: body.status,
        method: Method::Manual,
        remark,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = match register::execute(&state, &user, request_id, &ctx, command).await {
        Ok(done) => done,
        Err(error) => {
            return Err(register::unknown_student_or(&state, &student, error)
                .await
                .into());
        }
    };
    let status = done.aggregate.status_of(&student).unwrap_or(body.status);
    let (code, message) = match done.changed() {
        true => (StatusCode::CREATED, "Attendance recorded"),
        false => (StatusCode::OK, "Already recorded"),
    };
    let accepted = RecordAccepted {
        session_id: ctx.session_id.to_string(),
        student_id: student.to_string(),
        status,
        version: done.version,
        position: done.position,
        changed: done.changed(),
        message,
        record_id: record_id(ctx.session_id.as_str(), student.as_str()),
    };
    Ok((code, Json(accepted)))
}

/// Finds the session a mark is for: by id, or by course and date (and title).
async fn resolve_session(
    state: &AppState,
    user: &CurrentUser,
    body: &RecordBody,
) -> Result<SessionContext, ApiError> {
    if let Some(id) = &body.session_id {
        let ctx = load_session_to_write(state, session_id("session_id", id)?).await?;
        if let Some(course) = &body.course_id
            && course != ctx.course_id.as_str()
        {
            return Err(ApiError::invalid(
                "course_id",
                format!("session {id} belongs to course {}", ctx.course_id),
            ));
        }
        return Ok(ctx);
    }
    let (Some(course), Some(date)) = (&body.course_id, body.date) else {
        return Err(ApiError::invalid(
            "session_id",
            "give session_id, or course_id and date",
        ));
    };
    let course_id = course_id("course_id", course)?;
    let (course, _) = load_course(state, &course_id).await?;
    user.require_course_staff(&course)?;
    let wanted = body.session_name.as_deref().map(str::trim);
    let candidates: Vec<_> = course
        .sessions
        .iter()
        .filter(|(_, s)| !s.cancelled && course.day_of(s.starts_at) == date)
        .filter(|(_, s)| wanted.is_none_or(|w| s.title.eq_ignore_ascii_case(w)))
        .collect();
    match candidates.as_slice() {
        [] => Err(ApiError::NotFound(format!(
            "course {course_id} has no session on {date}"
        ))),
        [(id, _)] => Ok(load_session_to_write(state, (*id).clone()).await?),
        several => Err(ApiError::Invalid {
            code: "ambiguous_session",
            detail: format!(
                "course {course_id} has {} sessions on {date}; give session_id or session_name",
                several.len()
            ),
            errors: several
                .iter()
                .map(|(id, s)| FieldProblem {
                    field: "session_id".to_string(),
                    detail: format!("{id}: {} at {}", s.title, s.starts_at.to_rfc3339()),
                    code: Some(id.to_string()),
                })
                .collect(),
        }),
    }
}

/// One row of a roll call.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollCallRow {
    /// Student number.
    pub student_id: String,
    /// Status.
    #[schema(value_type = String, example = "present")]
    pub status: Status,
    /// Optional remark. Stored in the event history, which is never erased: do not write personal data (health details, names of others) here.
    pub remark: Option<String>,
}

/// A roll call.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollCallBody {
    /// The marks (1 to 5000).
    pub marks: Vec<RollCallRow>,
    /// Skip students who already have a mark instead of refusing a different status.
    #[serde(default)]
    pub only_unmarked: bool,
}

/// The answer to a roll call.
#[derive(Serialize, ToSchema)]
pub struct RollCallAccepted {
    /// Session id.
    pub session_id: String,
    /// Marks newly recorded.
    pub recorded: usize,
    /// Rows that changed nothing (same status, or skipped as already marked).
    pub unchanged: usize,
    /// The register's version.
    pub version: u64,
    /// Global position of the last event: pass it as `min_position` to read your write.
    pub position: i64,
}

/// Records a roll call in one transaction: all rows or none, with per-row errors.
#[utoipa::path(
    post, path = "/api/sessions/{id}/attendance", operation_id = "record_roll_call", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    request_body(content = RollCallBody, description = "Every student's mark, recorded all or nothing.",
        example = json!({
            "marks": [{"student_id": "S1001", "status": "present"}, {"student_id": "S1002", "status": "late", "remark": "bus"}]
        })),
    responses(
        (status = 200, description = "Every mark is recorded (or already was).", body = RollCallAccepted,
            example = json!({
                "session_id": "01a20e97abab71d585620a59b45afc7d",
                "recorded": 2,
                "unchanged": 0,
                "version": 3,
                "position": 1876
            })),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn roll_call(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<RollCallBody>,
) -> Result<Json<RollCallAccepted>, ApiError> {
    if body.marks.len() > MAX_ROWS {
        return Err(ApiError::invalid(
            "marks",
            format!("at most {MAX_ROWS} rows per roll call"),
        ));
    }
    let rows = body.marks.len();
    let mut marks = Vec::with_capacity(rows);
    for (i, row) in body.marks.into_iter().enumerate() {
        let student_id = student_id(&format!("marks[{i}].student_id"), &row.student_id)?;
        let remark = check_optional_text(
            &format!("marks[{i}].remark"),
            row.remark.as_deref(),
            MAX_NOTE,
        )?;
        marks.push(RollCallMark {
            student_id,
            status: row.status,
            remark,
        });
    }
    let ctx = load_session_to_write(&state, session_id("id", &id)?).await?;
    let command = RegisterCommand::RecordRollCall {
        marks,
        only_unmarked: body.only_unmarked,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = register::execute(&state, &user, request_id, &ctx, command).await?;
    let recorded = done
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                domain::register::RegisterEvent::AttendanceRecorded { .. }
            )
        })
        .count();
    Ok(Json(RollCallAccepted {
        session_id: ctx.session_id.to_string(),
        recorded,
        unchanged: rows - recorded,
        version: done.version,
        position: done.position,
    }))
}

/// A correction.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    /// The new status.
    #[schema(value_type = String, example = "excused")]
    pub status: Status,
    /// Why (required, up to 500 characters). Stored in the event history, which is never erased: do not write personal data (health details, names of others) here.
    pub reason: String,
}

/// Corrects a student's mark with a reason; the old value stays in the history.
#[utoipa::path(
    post, path = "/api/sessions/{id}/attendance/{student_id}/correction", operation_id = "correct_attendance", tag = "attendance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"), ("student_id" = String, Path, description = "student number")),
    request_body(content = CorrectionBody, description = "The new status and why.",
        example = json!({"status": "late", "reason": "arrived 20 minutes late"})),
    responses(
        (status = 200, description = "The correction is recorded; the old value stays in the history.", body = MarkAccepted,
            example = json!({
                "session_id": "01a20e97abab71d585620a59b45afc7d",
                "student_id": "S1001",
                "status": "late",
                "version": 3,
                "position": 1877,
                "changed": true
            })),
        (status = 409, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn correct(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppPath((id, student)): AppPath<(String, String)>,
    AppJson(body): AppJson<CorrectionBody>,
) -> Result<Json<MarkAccepted>, ApiError> {
    let student = student_id("student_id", &student)?;
    let reason = check_text("reason", &body.reason, MAX_NOTE)?;
    let ctx = load_session_to_write(&state, session_id("id", &id)?).await?;
    let command = RegisterCommand::CorrectAttendance {
        student_id: student.clone(),
        status: body.status,
        reason,
        method: Method::Manual,
        by: user.actor(),
        at: Utc::now(),
    };
    let done = match register::execute(&state, &user, request_id, &ctx, command).await {
        Ok(done) => done,
        Err(error) => {
            return Err(register::unknown_student_or(&state, &student, error)
                .await
                .into());
        }
    };
    Ok(Json(MarkAccepted {
        session_id: ctx.session_id.to_string(),
        student_id: student.to_string(),
        status: body.status,
        version: done.version,
        position: done.position,
        changed: done.changed(),
    }))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record))
        .routes(routes!(roll_call))
        .routes(routes!(correct))
}
