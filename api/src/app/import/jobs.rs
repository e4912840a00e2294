//! Import jobs in the database: the report as JSON and each page's checked picture.

use super::report::SheetJob;
use crate::app::error::AppError;
use crate::auth::CurrentUser;
use crate::state::AppState;
use domain::Role;
use uuid::Uuid;

pub(super) async fn store_job(
    state: &AppState,
    job: &SheetJob,
    id: Uuid,
    images: Vec<(i32, Vec<u8>)>,
) -> Result<(), AppError> {
    let report = serde_json::to_value(job).map_err(AppError::internal)?;
    let mut tx = state.pool().begin().await?;
    sqlx::query(
        "INSERT INTO sheet_jobs (id, created_by, created_at, file_sha256, report) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(&job.created_by)
    .bind(job.created_at)
    .bind(&job.file_sha256)
    .bind(report)
    .execute(&mut *tx)
    .await?;
    for (page, png) in images {
        sqlx::query("INSERT INTO sheet_job_pages (job_id, page, png) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(page)
            .bind(png)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A job, visible to administrators and to whoever uploaded it.
pub async fn load_job(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
) -> Result<SheetJob, AppError> {
    let row: Option<(String, serde_json::Value)> =
        sqlx::query_as("SELECT created_by, report FROM sheet_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(state.pool())
            .await?;
    let not_found = || AppError::NotFound(format!("sheet import job {id} does not exist"));
    let (owner, report) = row.ok_or_else(not_found)?;
    if user.role != Role::Admin && owner != user.id.to_string() {
        return Err(not_found());
    }
    serde_json::from_value(report).map_err(AppError::internal)
}

/// The checked PNG of a job's page.
pub async fn page_png(state: &AppState, id: Uuid, page: i32) -> Result<Option<Vec<u8>>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT png FROM sheet_job_pages WHERE job_id = $1 AND page = $2")
            .bind(id)
            .bind(page)
            .fetch_optional(state.pool())
            .await?,
    )
}

/// The latest imports (at most 20, newest first) that had a page of `session`, among the
/// jobs `user` may see (administrators all, anyone else their own).
pub async fn jobs_of_session(
    state: &AppState,
    user: &CurrentUser,
    session: &str,
) -> Result<Vec<SheetJob>, AppError> {
    let reports: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT report FROM sheet_jobs
          WHERE report @> jsonb_build_object('sessions', jsonb_build_array($1::text))
            AND ($2 OR created_by = $3)
          ORDER BY created_at DESC LIMIT 20",
    )
    .bind(session)
    .bind(user.role == Role::Admin)
    .bind(user.id.to_string())
    .fetch_all(state.pool())
    .await?;
    reports
        .into_iter()
        .map(|report| serde_json::from_value(report).map_err(AppError::internal))
        .collect()
}
