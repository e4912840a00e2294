//! Students' personal data as stored, and the one look-up of students (and their names) by
//! number.

use domain::StudentId;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

/// A student as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
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
    /// Telephone.
    pub phone: Option<String>,
    /// Whether the student is active (an inactive student keeps their history).
    pub active: bool,
    /// The registration date.
    pub registered_on: Option<chrono::NaiveDate>,
    /// Whether the personal data was erased.
    pub erased: bool,
}

/// The columns of a [`StudentView`].
pub const COLUMNS: &str = "id, name, email, department, level, phone, active, registered_on, erased_at IS NOT NULL AS erased";

/// A name as search compares it: decomposed, without accents and in lower case, so that
/// `zoe nunez` finds `Zoë Ñúñez`.
pub fn search_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    name.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

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

/// Students whose number or name contains `text` (without regard to case or accents), by
/// number, at most `limit` of them; all of them (up to `limit`) for an empty text.
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
        "SELECT {COLUMNS} FROM students
         WHERE id ILIKE $1 OR name ILIKE $1 OR search_key LIKE $3 ORDER BY id LIMIT $2"
    ))
    .bind(format!("%{escaped}%"))
    .bind(limit)
    .bind(format!("%{}%", search_key(&escaped)))
    .fetch_all(pool)
    .await
}

/// Which students a list shows.
#[derive(Debug, Clone, Default)]
pub struct StudentFilter {
    /// Part of the number or the name (without regard to case or accents).
    pub q: Option<String>,
    /// Department, without regard to case.
    pub department: Option<String>,
    /// Level, without regard to case.
    pub level: Option<String>,
    /// Only these numbers (a course's students, or those a teacher may read).
    pub among: Option<Vec<String>>,
}

/// One page of the students `filter` shows, by number, and how many it shows in all.
pub async fn page(
    pool: &PgPool,
    filter: &StudentFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<StudentView>, i64), sqlx::Error> {
    // LIKE's own wildcards in the text are searched for as themselves.
    let escaped = filter.q.as_deref().map(|q| {
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    });
    let conditions = "($1::text IS NULL OR id ILIKE $1 OR name ILIKE $1 OR search_key LIKE $2)
        AND ($3::text IS NULL OR lower(department) = lower($3))
        AND ($4::text IS NULL OR lower(level) = lower($4))
        AND ($5::text[] IS NULL OR id = ANY($5))";
    let like = escaped.as_ref().map(|e| format!("%{e}%"));
    let key = escaped.as_ref().map(|e| format!("%{}%", search_key(e)));
    let total: i64 =
        sqlx::query_scalar(&format!("SELECT count(*) FROM students WHERE {conditions}"))
            .bind(&like)
            .bind(&key)
            .bind(&filter.department)
            .bind(&filter.level)
            .bind(&filter.among)
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM students WHERE {conditions} ORDER BY id LIMIT $6 OFFSET $7"
    ))
    .bind(&like)
    .bind(&key)
    .bind(&filter.department)
    .bind(&filter.level)
    .bind(&filter.among)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((rows, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_key_has_no_accents_and_no_capitals() {
        assert_eq!(search_key("Zoë Ñúñez"), "zoe nunez");
        assert_eq!(search_key("ÅSA Øre"), "asa øre");
    }
}
