//! Sheet use cases: what a session's printed sheet holds (its roster and names).

use crate::app::error::AppError;
use crate::app::register::SessionContext;
use crate::app::store::{self, Stores};
use crate::state::AppState;
use domain::StudentId;
use projections::students::names;
use sheets::{RosterEntry, SheetInfo};
use sqlx::PgPool;

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
