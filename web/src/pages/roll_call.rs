//! What a submitted roll call asks for and does: the form read back (chosen status, the
//! status shown when the page was rendered, the reason, per student), split into new marks
//! (one all-or-nothing roll call) and corrections (each with its reason), then recorded
//! through `app::register`. What counts is what the page showed: a student unmarked on the
//! page is a new mark even if marked elsewhere since (the roll call then says so).

use crate::error::{refusal, refused_because, uuid_like};
use crate::form::Fields;
use crate::session::SignedIn;
use api::AppState;
use api::app::AppError;
use api::app::register::{self, SessionContext};
use chrono::Utc;
use domain::register::{RegisterCommand, RollCallMark};
use domain::{Method, Status, StudentId};
use std::collections::HashMap;

/// What the form holds: the chosen status, the status shown, the reason, per student.
pub struct Entered {
    /// The status chosen per student number (empty: unmarked).
    pub chosen: HashMap<String, String>,
    /// The status shown when the page was rendered.
    pub was: HashMap<String, String>,
    /// The reason entered for a changed mark.
    pub reasons: HashMap<String, String>,
    /// "Everyone still unmarked is present".
    pub rest_present: bool,
}

impl Entered {
    /// Reads the submitted form.
    pub fn read(form: &Fields) -> Entered {
        let mut entered = Entered {
            chosen: HashMap::new(),
            was: HashMap::new(),
            reasons: HashMap::new(),
            rest_present: form.get("rest").is_some(),
        };
        for (key, value) in &form.0 {
            let value = value.trim().to_string();
            if let Some(id) = key.strip_prefix("m.") {
                entered.chosen.insert(id.to_string(), value);
            } else if let Some(id) = key.strip_prefix("w.") {
                entered.was.insert(id.to_string(), value);
            } else if let Some(id) = key.strip_prefix("r.") {
                entered.reasons.insert(id.to_string(), value);
            }
        }
        entered
    }
}

/// A status name as sent back in the form, kept only if it is one.
pub fn was_of(value: &str) -> &'static str {
    parse_status(value).map_or("", Status::as_str)
}

fn parse_status(value: &str) -> Option<Status> {
    Status::ALL.into_iter().find(|s| s.as_str() == value)
}

/// What a submitted form asks for: new marks (one roll call) and corrections.
pub struct Plan {
    /// Marks of students unmarked on the page: one roll call.
    pub marks: Vec<RollCallMark>,
    /// Changed marks with their reasons.
    pub corrections: Vec<(StudentId, Status, String)>,
    /// Changed marks without a reason (the form is refused).
    pub missing_reasons: Vec<String>,
}

/// Splits what was entered into new marks and corrections.
pub fn plan(entered: &Entered) -> Result<Plan, String> {
    let mut plan = Plan {
        marks: Vec::new(),
        corrections: Vec::new(),
        missing_reasons: Vec::new(),
    };
    let mut ids: Vec<&String> = entered.chosen.keys().collect();
    ids.sort();
    for id in ids {
        let chosen = entered.chosen[id].as_str();
        let was = entered.was.get(id).map(String::as_str).unwrap_or("");
        let student = StudentId::parse(id.clone()).map_err(|e| format!("{id}: {e}"))?;
        let status = match (chosen, was) {
            ("", "") if entered.rest_present => Status::Present,
            ("", _) => continue,
            (value, _) => parse_status(value).ok_or_else(|| format!("{id}: {value}"))?,
        };
        if was.is_empty() {
            plan.marks.push(RollCallMark {
                student_id: student,
                status,
                remark: None,
            });
        } else if status.as_str() != was {
            match entered.reasons.get(id).filter(|r| !r.is_empty()) {
                Some(reason) => plan.corrections.push((student, status, reason.clone())),
                None => plan.missing_reasons.push(id.clone()),
            }
        }
    }
    Ok(plan)
}

/// Records the roll call, then the corrections; stops at the first refusal and says what
/// was recorded before it.
pub async fn apply(
    state: &AppState,
    page: &SignedIn,
    ctx: &SessionContext,
    plan: Plan,
) -> Result<(), String> {
    let t = page.t;
    match record(state, page, ctx, plan).await {
        Ok(()) => Ok(()),
        Err((error, false)) => Err(refusal(t, error)),
        Err((error, true)) => Err(format!(
            "{} {}",
            t.saved_but_refused,
            refused_because(t, error)
        )),
    }
}

/// The roll call, then each correction; on a refusal, whether the roll call was recorded.
async fn record(
    state: &AppState,
    page: &SignedIn,
    ctx: &SessionContext,
    plan: Plan,
) -> Result<(), (AppError, bool)> {
    let request_id = uuid_like;
    let recorded = !plan.marks.is_empty();
    if recorded {
        let command = RegisterCommand::RecordRollCall {
            marks: plan.marks,
            only_unmarked: false,
            by: page.user.actor(),
            at: Utc::now(),
        };
        register::execute(state, &page.user, request_id(), ctx, command)
            .await
            .map_err(|e| (e, false))?;
    }
    for (student_id, status, reason) in plan.corrections {
        let command = RegisterCommand::CorrectAttendance {
            student_id,
            status,
            reason,
            method: Method::Manual,
            by: page.user.actor(),
            at: Utc::now(),
        };
        register::execute(state, &page.user, request_id(), ctx, command)
            .await
            .map_err(|e| (e, recorded))?;
    }
    Ok(())
}
