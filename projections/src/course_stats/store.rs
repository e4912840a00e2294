//! Postgres storage of course statistics: the document, and one row per student
//! (`rm_course_students`) for reads across courses.

use super::derived::StudentFigures;
use super::{CourseStats, apply};
use crate::event::ProjectedEvent;
use crate::projector::{self, Projection};
use chrono::Utc;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashMap};

/// The `course_stats` projector.
pub struct CourseStatsProjection;

impl Projection for CourseStatsProjection {
    const NAME: &'static str = "course_stats";
    type Model = CourseStats;

    fn key(event: &ProjectedEvent) -> Option<String> {
        Some(event.course_id.clone())
    }

    fn apply(model: &mut CourseStats, event: &ProjectedEvent) {
        apply(model, event);
    }

    async fn load(
        conn: &mut PgConnection,
        keys: &[String],
    ) -> Result<HashMap<String, CourseStats>, sqlx::Error> {
        projector::load_docs(conn, "rm_course_stats", "course_id", keys).await
    }

    async fn save(
        conn: &mut PgConnection,
        models: &BTreeMap<String, CourseStats>,
        before: &HashMap<String, CourseStats>,
    ) -> Result<(), sqlx::Error> {
        let today = Utc::now().date_naive();
        for (course_id, doc) in models {
            sqlx::query(
                "INSERT INTO rm_course_stats (course_id, doc, position) VALUES ($1, $2, $3)
                 ON CONFLICT (course_id) DO UPDATE SET doc = excluded.doc, position = excluded.position",
            )
            .bind(course_id)
            .bind(Json(doc))
            .bind(doc.position)
            .execute(&mut *conn)
            .await?;
            save_students(conn, course_id, doc, before.get(course_id), today).await?;
        }
        Ok(())
    }

    async fn keys(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
        projector::doc_keys(conn, "rm_course_stats", "course_id").await
    }

    async fn reset(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query("TRUNCATE rm_course_stats, rm_course_students")
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// Upserts the per-student rows that differ from the document's previous version.
async fn save_students(
    conn: &mut PgConnection,
    course_id: &str,
    doc: &CourseStats,
    before: Option<&CourseStats>,
    today: chrono::NaiveDate,
) -> Result<(), sqlx::Error> {
    let previous: HashMap<String, StudentFigures> = before
        .map(|b| {
            b.students(today)
                .into_iter()
                .map(|f| (f.student_id.clone(), f))
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<_> = doc
        .students(today)
        .into_iter()
        .filter(|f| previous.get(&f.student_id) != Some(f))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&StudentFigures) -> i32| rows.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<_> = rows.iter().map(|r| r.student_id.clone()).collect();
    let rates: Vec<_> = rows.iter().map(|r| r.rate).collect();
    let at_risk: Vec<_> = rows.iter().map(|r| r.at_risk).collect();
    let last: Vec<_> = rows.iter().map(|r| r.last_attended).collect();
    sqlx::query(
        "INSERT INTO rm_course_students
           (course_id, student_id, present, late, excused, absent, rate, at_risk, last_attended, absence_streak)
         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[], $5::int[], $6::int[],
                                  $7::float8[], $8::bool[], $9::date[], $10::int[])
         ON CONFLICT (course_id, student_id) DO UPDATE SET present = excluded.present, late = excluded.late,
           excused = excluded.excused, absent = excluded.absent, rate = excluded.rate, at_risk = excluded.at_risk,
           last_attended = excluded.last_attended, absence_streak = excluded.absence_streak",
    )
    .bind(course_id)
    .bind(&ids)
    .bind(column(|r| r.tally.present as i32))
    .bind(column(|r| r.tally.late as i32))
    .bind(column(|r| r.tally.excused as i32))
    .bind(column(|r| r.tally.absent as i32))
    .bind(&rates)
    .bind(&at_risk)
    .bind(&last)
    .bind(column(|r| r.absence_streak as i32))
    .execute(conn)
    .await?;
    Ok(())
}

/// A student's row in one course, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StudentRow {
    /// Course code.
    pub course_id: String,
    /// Student number.
    pub student_id: String,
    /// Present marks.
    pub present: i32,
    /// Late marks.
    pub late: i32,
    /// Excused marks.
    pub excused: i32,
    /// Absent marks.
    pub absent: i32,
    /// Rate in percent.
    pub rate: Option<f64>,
    /// At risk.
    pub at_risk: bool,
    /// Last day present or late.
    pub last_attended: Option<chrono::NaiveDate>,
    /// Absences in a row.
    pub absence_streak: i32,
}

/// A student's rows in every course, by course code.
pub async fn student_rows(pool: &PgPool, student_id: &str) -> Result<Vec<StudentRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT course_id, student_id, present, late, excused, absent, rate, at_risk, last_attended, absence_streak
           FROM rm_course_students WHERE student_id = $1 ORDER BY course_id",
    )
    .bind(student_id)
    .fetch_all(pool)
    .await
}
