//! The audit trail: `GET /api/audit/events` (the event history, filtered, in commit order,
//! cursor-paged) and `GET /api/sessions/{id}/attendance/{student_id}/history` (every value a
//! mark has had). Both read the event store itself, the source of truth. Nothing updates or
//! deletes an event.

use crate::app::access::visible_courses;
use crate::app::register::load_session;
use crate::auth::CurrentUser;
use crate::checks::{check_query_time, course_id, session_id, student_id};
use crate::error::ApiError;
use crate::extract::{AppPath, AppQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::Role;
use event_store::outbox::StoredEvent;
use projections::audit::{self, Cursor, Filter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Who caused an event, with the username as it is now.
#[derive(Serialize, ToSchema)]
pub struct AuditActor {
    /// User id (as stored in the event).
    pub user_id: Option<String>,
    /// Role when acting.
    pub role: Option<String>,
    /// Current username (null for the command line or a deleted account).
    pub username: Option<String>,
}

/// One event of the history.
#[derive(Serialize, ToSchema)]
pub struct AuditEvent {
    /// Global position.
    pub position: i64,
    /// Cursor of this event (for `after`).
    pub cursor: String,
    /// `course` or `register`.
    pub aggregate_type: String,
    /// Course code or session id.
    pub aggregate_id: String,
    /// Sequence within the aggregate.
    pub sequence: i64,
    /// Event type.
    pub event_type: String,
    /// Schema version (after upcasting).
    pub event_version: String,
    /// Course.
    pub course_id: Option<String>,
    /// When it was stored.
    pub recorded_at: DateTime<Utc>,
    /// Who.
    pub actor: AuditActor,
    /// Request id.
    pub request_id: Option<String>,
    /// api, sheet or cli.
    pub source: Option<String>,
    /// The event's fields.
    #[schema(value_type = Object)]
    pub data: Value,
}

async fn usernames(
    state: &AppState,
    events: &[StoredEvent],
) -> Result<HashMap<String, String>, ApiError> {
    let mut ids: Vec<String> = events
        .iter()
        .filter_map(|e| e.meta("user_id").map(str::to_string))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(crate::auth::users::usernames(state.pool(), &ids).await?)
}

/// The API shape of stored events, with usernames resolved now.
pub async fn audit_events(
    state: &AppState,
    events: Vec<StoredEvent>,
) -> Result<Vec<AuditEvent>, ApiError> {
    let names = usernames(state, &events).await?;
    Ok(events
        .into_iter()
        .map(|e| {
            let owned = |key: &str| e.meta(key).map(str::to_string);
            let user_id = owned("user_id");
            AuditEvent {
                position: e.position,
                cursor: Cursor(e.checkpoint()).to_string(),
                actor: AuditActor {
                    username: user_id.as_ref().and_then(|id| names.get(id).cloned()),
                    user_id,
                    role: owned("role"),
                },
                course_id: owned("course_id"),
                request_id: owned("request_id"),
                source: owned("source"),
                data: e.payload.get(&e.event_type).cloned().unwrap_or(Value::Null),
                aggregate_type: e.aggregate_type,
                aggregate_id: e.aggregate_id,
                sequence: e.sequence,
                event_type: e.event_type,
                event_version: e.event_version,
                recorded_at: e.recorded_at,
            }
        })
        .collect())
}

/// History filters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this course.
    pub course_id: Option<String>,
    /// Only this session (its register, scheduling and cancellation).
    pub session_id: Option<String>,
    /// Only events about this student.
    pub student_id: Option<String>,
    /// Only this event type, e.g. `AttendanceCorrected`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Stored at or after (RFC 3339).
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub from: Option<DateTime<Utc>>,
    /// Stored at or before (RFC 3339).
    #[serde(default, deserialize_with = "crate::dates::option_time")]
    pub to: Option<DateTime<Utc>>,
    /// Continue after this cursor (`next_after` of the previous page).
    pub after: Option<String>,
    /// Page size (1-1000, default 100).
    pub limit: Option<i64>,
}

/// A page of the history.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Events in commit order.
    pub events: Vec<AuditEvent>,
    /// Pass as `after` for the next page (also to poll for new events later).
    pub next_after: Option<String>,
    /// Whether the page is full (more may follow).
    pub has_more: bool,
}

async fn scoped_filter(
    state: &AppState,
    user: &CurrentUser,
    q: AuditQuery,
) -> Result<Filter, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_param("limit", "must be between 1 and 1000"));
    }
    let after = q
        .after
        .as_deref()
        .map(str::parse::<Cursor>)
        .transpose()
        .map_err(|e| ApiError::bad_param("after", e))?;
    let mut filter = Filter {
        course_id: q
            .course_id
            .as_deref()
            .map(|c| course_id("course_id", c))
            .transpose()?
            .map(|c| c.to_string()),
        session_id: q
            .session_id
            .as_deref()
            .map(|s| session_id("session_id", s))
            .transpose()?
            .map(|s| s.to_string()),
        student_id: q
            .student_id
            .as_deref()
            .map(|s| student_id("student_id", s))
            .transpose()?
            .map(|s| s.to_string()),
        event_type: q.event_type,
        from: {
            check_query_time("from", q.from)?;
            check_query_time("to", q.to)?;
            q.from
        },
        to: q.to,
        after,
        courses: None,
        limit,
    };
    match user.role {
        Role::Admin => {}
        Role::Teacher => {
            let taught: Vec<String> = visible_courses(state, user)
                .await?
                .iter()
                .filter_map(|(c, _)| c.id.as_ref().map(|i| i.to_string()))
                .collect();
            if filter
                .course_id
                .as_ref()
                .is_some_and(|c| !taught.contains(c))
            {
                return Err(ApiError::Forbidden(
                    "you may only read the history of your own courses",
                ));
            }
            filter.courses = Some(taught);
        }
        Role::Student => {
            let own = user.student_id.as_ref().map(|s| s.to_string());
            if filter.student_id.is_some() && filter.student_id != own {
                return Err(ApiError::Forbidden(
                    "students may only read events about themselves",
                ));
            }
            filter.student_id = own;
        }
    }
    Ok(filter)
}

/// The event history in commit order with who, when, why and how: admins all, teachers
/// their courses, students events about themselves. Cursor paging is stable under
/// concurrent writes.
#[utoipa::path(
    get, path = "/api/audit/events", operation_id = "list_audit_events", tag = "audit",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "One page of the history in commit order; `next_after` continues it.", body = AuditPage),
        (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem)
    )
)]
async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
    AppQuery(q): AppQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let filter = scoped_filter(&state, &user, q).await?;
    let (stored, next) = audit::page(state.pool(), &filter).await?;
    let has_more = stored.len() as i64 == filter.limit;
    let next_after = next.or(filter.after).map(|c| c.to_string());
    let mut events = audit_events(&state, stored).await?;
    if let Some(own) = user
        .student_id
        .as_ref()
        .filter(|_| user.role == Role::Student)
    {
        let own = own.to_string();
        events
            .iter_mut()
            .for_each(|e| crate::redact::for_student(&mut e.data, &own));
    }
    Ok(Json(AuditPage {
        events,
        next_after,
        has_more,
    }))
}

/// One value a mark had.
#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    /// `recorded`, `corrected` or `defaulted_absent` (on closing).
    pub kind: &'static str,
    /// The status from then on.
    pub status: String,
    /// The status before (corrections).
    pub previous_status: Option<String>,
    /// manual, bulk, sheet or close.
    pub method: Option<String>,
    /// Why (corrections).
    pub reason: Option<String>,
    /// Remark (first marks).
    pub remark: Option<String>,
    /// When it was taken (the command's time).
    pub at: Option<String>,
    /// Who.
    pub actor: AuditActor,
    /// Register sequence.
    pub sequence: i64,
    /// Global position.
    pub position: i64,
    /// When it was stored.
    pub recorded_at: DateTime<Utc>,
}

/// A mark's history.
#[derive(Serialize, ToSchema)]
pub struct MarkHistory {
    /// Session id.
    pub session_id: String,
    /// Student number.
    pub student_id: String,
    /// The current status (null while unmarked).
    pub current_status: Option<String>,
    /// Every value, oldest first.
    pub entries: Vec<HistoryEntry>,
}

fn entry(event: &AuditEvent, student: &str) -> Option<HistoryEntry> {
    let text = |key: &str| {
        event
            .data
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let (kind, status, previous_status) = match event.event_type.as_str() {
        "AttendanceRecorded" if text("student_id").as_deref() == Some(student) => {
            ("recorded", text("status")?, None)
        }
        "AttendanceCorrected" if text("student_id").as_deref() == Some(student) => {
            ("corrected", text("new_status")?, text("old_status"))
        }
        "RegisterClosed" => {
            let defaulted = event.data.get("defaulted_absent")?.as_array()?;
            defaulted.iter().any(|s| s == student).then_some(())?;
            ("defaulted_absent", "absent".to_string(), None)
        }
        _ => return None,
    };
    Some(HistoryEntry {
        kind,
        status,
        previous_status,
        method: text("method")
            .or_else(|| (kind == "defaulted_absent").then(|| "close".to_string())),
        reason: text("reason"),
        remark: text("remark"),
        at: text("at"),
        actor: AuditActor {
            user_id: event.actor.user_id.clone(),
            role: event.actor.role.clone(),
            username: event.actor.username.clone(),
        },
        sequence: event.sequence,
        position: event.position,
        recorded_at: event.recorded_at,
    })
}

/// Every value a student's mark in a session has had: who set it, when, how and why
/// (admins, the course's teachers, and the student).
#[utoipa::path(
    get, path = "/api/sessions/{id}/attendance/{student_id}/history", operation_id = "get_mark_history", tag = "audit",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id"), ("student_id" = String, Path, description = "student number")),
    responses(
        (status = 200, description = "Every value the mark has had, oldest first.", body = MarkHistory),
        (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)
    )
)]
async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((id, student)): AppPath<(String, String)>,
) -> Result<Json<MarkHistory>, ApiError> {
    let ctx = load_session(&state, session_id("id", &id)?).await?;
    let student = student_id("student_id", &student)?;
    if !(user.is_course_staff(&ctx.course) || user.is_student(&student)) {
        return Err(ApiError::Forbidden("you may not read this mark's history"));
    }
    let stored = audit::register_events(state.pool(), ctx.session_id.as_str()).await?;
    let events = audit_events(&state, stored).await?;
    let entries: Vec<_> = events
        .iter()
        .filter_map(|e| entry(e, student.as_str()))
        .collect();
    Ok(Json(MarkHistory {
        session_id: ctx.session_id.to_string(),
        student_id: student.to_string(),
        current_status: entries.last().map(|e| e.status.clone()),
        entries,
    }))
}

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(history))
}
