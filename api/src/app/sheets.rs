//! Sheet use cases: what a session's printed sheet holds (its roster and names), the rows
//! of scanned sheets held for a person's review, and a person's decision on one. The JSON
//! routes (`routes/sheets.rs`) and the web pages (`web/src/pages/sheet.rs`) both call these.

use crate::app::access::CurrentUser;
use crate::app::error::AppError;
use crate::app::import::report::ConflictView;
use crate::app::register::{self, SessionContext, load_session, load_session_to_write};
use crate::app::store::{self, Committed, Stores};
use crate::auth::users::usernames;
use crate::state::AppState;
use chrono::Utc;
use domain::register::{Register, RegisterCommand};
use domain::{SessionId, Status, StudentId};
use projections::students::names;
use serde::Serialize;
use sheets::{RosterEntry, SheetInfo};
use sqlx::PgPool;
use utoipa::ToSchema;

/// The students printed on a session's sheet: the register's roster once it is open (it
/// never changes after), otherwise the students enrolled on the session's day.
pub async fn sheet_info(state: &AppState, ctx: &SessionContext) -> Result<SheetInfo, AppError> {
    sheet_info_from(state.stores(), state.pool(), ctx).await
}

/// [`sheet_info`] from the stores and the pool (for the CLI).
pub async fn sheet_info_from(
    stores: &Stores,
    pool: &PgPool,
    ctx: &SessionContext,
) -> Result<SheetInfo, AppError> {
    let (register, _) = store::load(&stores.registers, ctx.session_id.as_str()).await?;
    let roster: Vec<StudentId> = if register.is_open() {
        register.roster.keys().cloned().collect()
    } else {
        ctx.course
            .roster_on(ctx.course.day_of(ctx.session.starts_at))
    };
    let ids: Vec<String> = roster.iter().map(|s| s.to_string()).collect();
    let names = names(pool, ids.clone()).await?;
    Ok(SheetInfo {
        session_id: ctx.session_id.to_string(),
        course_id: ctx.course_id.to_string(),
        course_title: ctx.course.details.name.clone(),
        session_title: ctx.session.title.clone(),
        starts_at: ctx.session.starts_at,
        roster: ids
            .into_iter()
            .map(|id| RosterEntry {
                name: names.get(&id).cloned().flatten(),
                student_id: id,
            })
            .collect(),
    })
}

/// A row held for review.
#[derive(Serialize, ToSchema)]
pub struct HeldRow {
    /// Student number.
    pub student_id: String,
    /// Name, if known.
    pub name: Option<String>,
    /// `unclear` (bubbles not read with certainty) or `conflict` (read clearly, but a person
    /// set the mark to something else; it stands until decided).
    pub kind: String,
    /// Why it was held, for a person.
    pub reason: String,
    /// For a conflict: both values and who set the register's, when and why.
    pub conflict: Option<ConflictView>,
    /// The statuses whose bubbles were filled or uncertain.
    #[schema(value_type = Vec<String>)]
    pub candidates: Vec<Status>,
    /// The student's current status (null while unmarked).
    #[schema(value_type = Option<String>)]
    pub current_status: Option<Status>,
}

/// The review queue of a session.
#[derive(Serialize, ToSchema)]
pub struct ReviewQueue {
    /// Session id.
    pub session_id: String,
    /// Held rows, by student number.
    pub held: Vec<HeldRow>,
    /// The register's version.
    pub version: u64,
}

/// The rows of scanned sheets held for review in a session (admins and the course's
/// teachers), read from the register itself so a decision just made is never listed again.
pub async fn review_queue(
    state: &AppState,
    user: &CurrentUser,
    session_id: SessionId,
) -> Result<ReviewQueue, AppError> {
    let ctx = load_session(state, session_id).await?;
    user.require_course_staff(&ctx.course)?;
    let (register, version) =
        store::load(&state.stores().registers, ctx.session_id.as_str()).await?;
    let ids: Vec<String> = register.held.keys().map(|s| s.to_string()).collect();
    let names = names(state.pool(), ids).await?;
    let setters: Vec<String> = register
        .held
        .values()
        .filter_map(|mark| mark.conflict.as_ref())
        .map(|c| c.set_by.user_id.to_string())
        .collect();
    let setters = usernames(state.pool(), &setters).await?;
    let held = register
        .held
        .values()
        .map(|mark| {
            let conflict = mark
                .conflict
                .as_ref()
                .map(|c| ConflictView::new(c, &setters));
            HeldRow {
                student_id: mark.student_id.to_string(),
                name: names.get(mark.student_id.as_str()).cloned().flatten(),
                kind: mark.kind.as_str().to_string(),
                reason: conflict
                    .as_ref()
                    .map_or_else(|| mark.reason.clone(), |c| c.summary.clone()),
                conflict,
                candidates: mark.candidates.clone(),
                current_status: register.status_of(&mark.student_id),
            }
        })
        .collect();
    Ok(ReviewQueue {
        session_id: ctx.session_id.to_string(),
        held,
        version,
    })
}

/// A person's decision on a held row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Keep the register's mark (what a person recorded) and clear the hold.
    Keep,
    /// Give the row this status (the sheet's reading, or another), with an optional reason
    /// when it replaces the register's mark.
    Status {
        /// The status.
        status: Status,
        /// Why the register's mark is replaced (checked by the caller: trimmed, bounded).
        reason: Option<String>,
    },
}

/// Decides a held row: records (or corrects, by the reviewer) the student's mark, or keeps
/// the register's, and clears the hold. The sheet never decides on its own: this is the
/// only way a held row's reading reaches the register.
pub async fn decide(
    state: &AppState,
    user: &CurrentUser,
    request_id: String,
    session_id: SessionId,
    student_id: StudentId,
    decision: Decision,
) -> Result<Committed<Register>, AppError> {
    let ctx = load_session_to_write(state, session_id).await?;
    let (by, at) = (user.actor(), Utc::now());
    let command = match decision {
        Decision::Keep => RegisterCommand::KeepHeldMark { student_id, by, at },
        Decision::Status { status, reason } => RegisterCommand::ResolveReview {
            student_id,
            status,
            reason,
            by,
            at,
        },
    };
    register::execute(state, user, request_id, &ctx, command).await
}
