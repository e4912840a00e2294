//! Students' personal data as stored, and the one look-up of students (and their names) by
//! number.

use domain::StudentId;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

/// A student as stored.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct StudentView {
    /// The institution's student number.
    pub id: String,
    /// Full name (null once erased).
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Level or year, e.g. "L2".
    pub level: Option<String>,
    /// Whether the personal data was erased.
    pub erased: bool,
}

/// The columns of a [`StudentView`].
pub const COLUMNS: &str = "id, name, email, department, level, erased_at IS NOT NULL AS erased";

/// Loads one student.
pub async fn find(pool: &PgPool, id: &StudentId) -> Result<Option<StudentView>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM students WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
}

/// Loads the named students, in id order.
pub async fn find_many(pool: &PgPool, ids: &[String]) -> Result<Vec<StudentView>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM students WHERE id = ANY($1) ORDER BY id"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Students whose number or name contains `text` (case-insensitive), by number, at most
/// `limit` of them; all of them (up to `limit`) for an empty text.
pub async fn search(
    pool: &PgPool,
    text: &str,
    limit: i64,
) -> Result<Vec<StudentView>, sqlx::Error> {
    // LIKE's own wildcards in the text are searched for as themselves.
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM students WHERE id ILIKE $1 OR name ILIKE $1 ORDER BY id LIMIT $2"
    ))
    .bind(format!("%{escaped}%"))
    .bind(limit)
    .fetch_all(pool)
    .await
}
