//! Uploads being read, for a page to watch: created when the web page accepts the files,
//! told how many pages there are and how many are done as the import goes, and finally the
//! job it became or why it failed. Progress is best effort: a failure to note it is logged
//! and never stops the import.

use crate::app::error::AppError;
use crate::auth::CurrentUser;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use domain::Role;
use uuid::Uuid;

/// An upload as its watcher sees it.
#[derive(Debug, Clone)]
pub struct Upload {
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// Pages in the upload, once the files are opened.
    pub pages: Option<i32>,
    /// Pages read and written so far.
    pub done: i32,
    /// The job, once the import finished.
    pub job_id: Option<Uuid>,
    /// Why it stopped, if it failed.
    pub failed: Option<String>,
}

/// Notes a new upload by `user`; its id.
pub async fn start(state: &AppState, user: &CurrentUser) -> Result<Uuid, AppError> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO sheet_uploads (id, created_by) VALUES ($1, $2)")
        .bind(id)
        .bind(user.id.as_str())
        .execute(state.pool())
        .await?;
    Ok(id)
}

/// What became of an upload, visible to administrators and to whoever uploaded it.
pub async fn load(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<Upload, AppError> {
    type Row = (
        String,
        DateTime<Utc>,
        Option<i32>,
        i32,
        Option<Uuid>,
        Option<String>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT created_by, created_at, pages, done, job_id, failed FROM sheet_uploads WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(state.pool())
    .await?;
    let not_found = || AppError::NotFound(format!("sheet upload {id} does not exist"));
    let (owner, created_at, pages, done, job_id, failed) = row.ok_or_else(not_found)?;
    if user.role != Role::Admin && owner != user.id.as_str() {
        return Err(not_found());
    }
    Ok(Upload {
        created_at,
        pages,
        done,
        job_id,
        failed,
    })
}

/// Notes how far an upload is (`pages` once known, `done` pages), or its end.
pub(super) async fn note(state: &AppState, id: Uuid, step: Step) {
    let query = match step {
        Step::Pages(n) => sqlx::query("UPDATE sheet_uploads SET pages = $2 WHERE id = $1")
            .bind(id)
            .bind(n as i32),
        Step::Done(n) => sqlx::query("UPDATE sheet_uploads SET done = $2 WHERE id = $1")
            .bind(id)
            .bind(n as i32),
        Step::Job(job) => sqlx::query("UPDATE sheet_uploads SET job_id = $2 WHERE id = $1")
            .bind(id)
            .bind(job),
        Step::Failed(why) => sqlx::query("UPDATE sheet_uploads SET failed = $2 WHERE id = $1")
            .bind(id)
            .bind(why),
    };
    if let Err(e) = query.execute(state.pool()).await {
        tracing::warn!(upload = %id, error = %e, "noting a sheet upload's progress");
    }
}

/// A step of an upload.
pub(super) enum Step {
    /// The upload has this many pages.
    Pages(usize),
    /// This many pages are done.
    Done(usize),
    /// The import finished as this job.
    Job(Uuid),
    /// The import stopped, for this reason.
    Failed(String),
}
