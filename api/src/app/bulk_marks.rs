//! Marks across sessions in one request (the seed system's `POST /api/attendance/bulk`):
//! grouped per session, each session's marks one roll call through [`register::execute`]
//! (so all or nothing per session, with a roll call's authorization: admins, and teachers for
//! their own courses), and one result per mark.
//!
//! A session whose roll call is refused (not found, not allowed, a row refused) fails with
//! every one of its marks; the other sessions are written. A store failure stops the request
//! (sessions written before it stay written: sending the same marks again changes nothing).

use crate::app::access::CurrentUser;
use crate::app::error::AppError;
use crate::app::register::{self, load_session_to_write};
use crate::state::AppState;
use chrono::Utc;
use domain::register::{RegisterCommand, RollCallMark};
use domain::{SessionId, Status, StudentId};
use std::collections::BTreeMap;

/// One mark of a bulk request, its fields already checked.
#[derive(Debug, Clone)]
pub struct BulkMark {
    /// Its place in the request.
    pub index: usize,
    /// The session.
    pub session_id: SessionId,
    /// The student.
    pub student_id: StudentId,
    /// The status.
    pub status: Status,
    /// An optional remark.
    pub remark: Option<String>,
}

/// Why one mark was not written: a stable code and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkRefusal {
    /// Stable code (`not_found`, `forbidden`, `not_on_roster`, `roll_call_refused`, ...).
    pub code: String,
    /// What happened.
    pub detail: String,
}

/// The outcome of each mark, by index (`None`: written or already there).
pub type Outcomes = BTreeMap<usize, Option<MarkRefusal>>;

/// Writes the marks, one roll call per session (sessions in the order they first appear).
pub async fn record(
    state: &AppState,
    user: &CurrentUser,
    request_id: &str,
    marks: Vec<BulkMark>,
) -> Result<Outcomes, AppError> {
    let mut order: Vec<SessionId> = Vec::new();
    let mut groups: BTreeMap<SessionId, Vec<BulkMark>> = BTreeMap::new();
    for mark in marks {
        if !groups.contains_key(&mark.session_id) {
            order.push(mark.session_id.clone());
        }
        groups
            .entry(mark.session_id.clone())
            .or_default()
            .push(mark);
    }
    let mut outcomes = Outcomes::new();
    for session in order {
        let group = groups.remove(&session).unwrap_or_default();
        let refusals = match roll_call(state, user, request_id, session, &group).await {
            Ok(()) => vec![None; group.len()],
            Err(error) if error.is_store_failure() => return Err(error),
            Err(error) => refusals_of(&group, error),
        };
        for (mark, refusal) in group.iter().zip(refusals) {
            outcomes.insert(mark.index, refusal);
        }
    }
    Ok(outcomes)
}

/// One session's marks as one roll call.
async fn roll_call(
    state: &AppState,
    user: &CurrentUser,
    request_id: &str,
    session: SessionId,
    group: &[BulkMark],
) -> Result<(), AppError> {
    let ctx = load_session_to_write(state, session).await?;
    let command = RegisterCommand::RecordRollCall {
        marks: group
            .iter()
            .map(|m| RollCallMark {
                student_id: m.student_id.clone(),
                status: m.status,
                remark: m.remark.clone(),
            })
            .collect(),
        only_unmarked: false,
        by: user.actor(),
        at: Utc::now(),
    };
    register::execute(state, user, request_id.to_string(), &ctx, command).await?;
    Ok(())
}

/// The refusal of each mark of a refused roll call: a row's own problem where the roll call
/// names it (`marks[i]`), otherwise the roll call's.
fn refusals_of(group: &[BulkMark], error: AppError) -> Vec<Option<MarkRefusal>> {
    let (code, detail, rows) = match error {
        AppError::Invalid {
            code,
            detail,
            errors,
        }
        | AppError::Conflict {
            code,
            detail,
            errors,
        } => (code.to_string(), detail, errors),
        AppError::NotFound(detail) => ("not_found".to_string(), detail, Vec::new()),
        AppError::Unknown { code, detail } => (code.to_string(), detail, Vec::new()),
        AppError::Forbidden(detail) => ("forbidden".to_string(), detail.to_string(), Vec::new()),
        other => ("internal".to_string(), other.to_string(), Vec::new()),
    };
    let mut own: BTreeMap<usize, MarkRefusal> = BTreeMap::new();
    for row in rows {
        let place = row
            .field
            .strip_prefix("marks[")
            .and_then(|rest| rest.split(']').next())
            .and_then(|n| n.parse::<usize>().ok());
        if let Some(place) = place {
            own.insert(
                place,
                MarkRefusal {
                    code: row.code.unwrap_or_else(|| code.clone()),
                    detail: row.detail,
                },
            );
        }
    }
    // Rows the roll call named carry their own problem; the others were refused with them.
    let named = !own.is_empty();
    (0..group.len())
        .map(|place| {
            Some(own.remove(&place).unwrap_or_else(|| MarkRefusal {
                code: code.clone(),
                detail: match named {
                    true => {
                        format!("not written: another mark of this session was refused ({detail})")
                    }
                    false => detail.clone(),
                },
            }))
        })
        .collect()
}
