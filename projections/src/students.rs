//! Students' names by number: personal data kept outside the event log (erasable), looked up
//! here once for every answer, report and sheet that prints a name.

use sqlx::PgPool;
use std::collections::HashMap;

/// Student names by number (none once erased; numbers not found are absent).
pub async fn names(
    pool: &PgPool,
    ids: Vec<String>,
) -> Result<HashMap<String, Option<String>>, sqlx::Error> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, name FROM students WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}
