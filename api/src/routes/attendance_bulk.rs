//! `POST /api/attendance/bulk`: the seed system's marks across sessions, answered in its
//! shape `{total, success_count, error_count, results[]}`. Each session's marks are one roll
//! call (all or nothing per session); see [`crate::app::bulk_marks`].

use crate::app::bulk_marks::{self, BulkMark, MarkRefusal};
use crate::auth::CurrentUser;
use crate::checks::{check_optional_text, session_id, student_id};
use crate::error::ApiError;
use crate::extract::{AppJson, RequestId};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use domain::{Role, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most marks in one request.
const MAX_RECORDS: usize = 2000;
/// Most sessions in one request.
const MAX_SESSIONS: usize = 200;
/// Longest remark.
const MAX_NOTE: usize = 500;

/// One mark of a bulk request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRecord {
    /// Session id.
    pub session_id: String,
    /// Student number.
    pub student_id: String,
    /// `present`, `late`, `excused` or `absent`.
    #[schema(value_type = String, example = "present")]
    pub status: Status,
    /// Optional remark. Stored in the event history, which is never erased: do not write personal data here.
    pub remark: Option<String>,
}

/// Marks across sessions.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// The marks (1 to 2000, in at most 200 sessions).
    pub records: Vec<BulkRecord>,
}

/// The outcome of one mark.
#[derive(Serialize, ToSchema)]
pub struct BulkResult {
    /// Its place in `records`.
    pub index: usize,
    /// Session id.
    pub session_id: String,
    /// Student number.
    pub student_id: String,
    /// Whether the mark is recorded (or already was).
    pub ok: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The problem's stable code, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// The seed system's answer to a bulk request.
#[derive(Serialize, ToSchema)]
pub struct BulkAccepted {
    /// Marks sent.
    pub total: usize,
    /// Marks recorded (or already there).
    pub success_count: usize,
    /// Marks not written.
    pub error_count: usize,
    /// One per mark, in request order.
    pub results: Vec<BulkResult>,
}

/// Records marks across sessions: each session's marks all or nothing, one result per mark.
#[utoipa::path(
    post, path = "/api/attendance/bulk", operation_id = "record_attendance_bulk", tag = "attendance",
    security(("bearer" = [])),
    request_body(content = BulkBody, description = "Marks for any sessions the caller may take attendance for.",
        example = json!({"records": [
            {"session_id": "01a20e97abab71d585620a59b45afc7d", "student_id": "S1001", "status": "present"},
            {"session_id": "01a20e97abab71d585620a59b45afc7e", "student_id": "S1001", "status": "late", "remark": "bus"}
        ]})),
    responses(
        (status = 200, description = "Each mark's outcome; a session whose roll call was refused has every one of its marks refused.", body = BulkAccepted,
            example = json!({"total": 2, "success_count": 1, "error_count": 1, "results": [
                {"index": 0, "session_id": "01a20e97abab71d585620a59b45afc7d", "student_id": "S1001", "ok": true},
                {"index": 1, "session_id": "01a20e97abab71d585620a59b45afc7e", "student_id": "S1001", "ok": false,
                 "error": "only administrators and this course's teachers may do this", "code": "forbidden"}
            ]})),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem)
    )
)]
async fn bulk(
    State(state): State<AppState>,
    user: CurrentUser,
    RequestId(request_id): RequestId,
    AppJson(body): AppJson<BulkBody>,
) -> Result<Json<BulkAccepted>, ApiError> {
    if user.role == Role::Student {
        return Err(ApiError::Forbidden("students may not take attendance"));
    }
    let marks = check_records(body.records)?;
    let echo: Vec<(String, String)> = marks
        .iter()
        .map(|m| (m.session_id.to_string(), m.student_id.to_string()))
        .collect();
    let outcomes = bulk_marks::record(&state, &user, &request_id, marks).await?;
    let results: Vec<BulkResult> = echo
        .into_iter()
        .enumerate()
        .map(|(index, (session_id, student_id))| {
            let refusal = outcomes.get(&index).cloned().flatten();
            result(index, session_id, student_id, refusal)
        })
        .collect();
    let success_count = results.iter().filter(|r| r.ok).count();
    Ok(Json(BulkAccepted {
        total: results.len(),
        success_count,
        error_count: results.len() - success_count,
        results,
    }))
}

fn result(
    index: usize,
    session_id: String,
    student_id: String,
    refusal: Option<MarkRefusal>,
) -> BulkResult {
    BulkResult {
        index,
        session_id,
        student_id,
        ok: refusal.is_none(),
        code: refusal.as_ref().map(|r| r.code.clone()),
        error: refusal.map(|r| r.detail),
    }
}

/// Checks the request's size and every field, naming the first bad one (nothing written).
fn check_records(records: Vec<BulkRecord>) -> Result<Vec<BulkMark>, ApiError> {
    if records.is_empty() || records.len() > MAX_RECORDS {
        return Err(ApiError::invalid(
            "records",
            format!("give 1 to {MAX_RECORDS} records"),
        ));
    }
    let sessions: BTreeSet<&str> = records.iter().map(|r| r.session_id.as_str()).collect();
    if sessions.len() > MAX_SESSIONS {
        return Err(ApiError::invalid(
            "records",
            format!("at most {MAX_SESSIONS} sessions per request"),
        ));
    }
    let mut marks = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let field = |name: &str| format!("records[{index}].{name}");
        marks.push(BulkMark {
            index,
            session_id: session_id(&field("session_id"), &record.session_id)?,
            student_id: student_id(&field("student_id"), &record.student_id)?,
            status: record.status,
            remark: check_optional_text(&field("remark"), record.remark.as_deref(), MAX_NOTE)?,
        });
    }
    Ok(marks)
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(bulk))
}
