//! Postgres storage of register views: the document per session, and one searchable row per
//! roster line (`rm_attendance_records`).

use super::{RegisterView, apply, session_of};
use crate::event::ProjectedEvent;
use crate::projector::{self, Projection};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashMap};

/// The `register_views` projector.
pub struct RegisterViewsProjection;

impl Projection for RegisterViewsProjection {
    const NAME: &'static str = "register_views";
    type Model = RegisterView;

    fn key(event: &ProjectedEvent) -> Option<String> {
        session_of(event)
    }

    fn apply(model: &mut RegisterView, event: &ProjectedEvent) {
        apply(model, event);
    }

    async fn load(
        conn: &mut PgConnection,
        keys: &[String],
    ) -> Result<HashMap<String, RegisterView>, sqlx::Error> {
        projector::load_docs(conn, "rm_register_views", "session_id", keys).await
    }

    async fn save(
        conn: &mut PgConnection,
        models: &BTreeMap<String, RegisterView>,
        before: &HashMap<String, RegisterView>,
    ) -> Result<(), sqlx::Error> {
        let sessions: Vec<_> = models.keys().cloned().collect();
        let courses: Vec<_> = models.values().map(|v| v.course_id.clone()).collect();
        let docs: Vec<_> = models
            .values()
            .map(|v| serde_json::to_value(v).unwrap_or_default())
            .collect();
        let positions: Vec<_> = models.values().map(|v| v.position).collect();
        sqlx::query(
            "INSERT INTO rm_register_views (session_id, course_id, doc, position)
             SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::bigint[])
             ON CONFLICT (session_id) DO UPDATE
               SET course_id = excluded.course_id, doc = excluded.doc, position = excluded.position",
        )
        .bind(&sessions)
        .bind(&courses)
        .bind(&docs)
        .bind(&positions)
        .execute(&mut *conn)
        .await?;
        save_records(conn, models, before).await
    }

    async fn keys(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
        projector::doc_keys(conn, "rm_register_views", "session_id").await
    }

    async fn reset(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query("TRUNCATE rm_register_views, rm_attendance_records")
            .execute(conn)
            .await?;
        Ok(())
    }
}

#[derive(Default)]
struct Records {
    session: Vec<String>,
    student: Vec<String>,
    course: Vec<String>,
    title: Vec<String>,
    starts_at: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    status: Vec<Option<String>>,
    method: Vec<Option<String>>,
    by: Vec<Option<String>>,
    at: Vec<Option<chrono::DateTime<chrono::Utc>>>,
    corrected: Vec<bool>,
}

fn text<T: serde::Serialize>(value: &Option<T>) -> Option<String> {
    value
        .as_ref()
        .and_then(|v| serde_json::to_value(v).ok())
        .and_then(|v| v.as_str().map(str::to_string))
}

/// Upserts the roster lines that differ from the view's previous version (all of them when
/// the session itself changed).
async fn save_records(
    conn: &mut PgConnection,
    models: &BTreeMap<String, RegisterView>,
    before: &HashMap<String, RegisterView>,
) -> Result<(), sqlx::Error> {
    let mut r = Records::default();
    for (session, view) in models {
        let previous = before.get(session).filter(|b| {
            (&b.course_id, &b.title, b.starts_at) == (&view.course_id, &view.title, view.starts_at)
        });
        for (student, row) in &view.rows {
            if previous.is_some_and(|b| b.rows.get(student) == Some(row)) {
                continue;
            }
            r.session.push(session.clone());
            r.student.push(student.clone());
            r.course.push(view.course_id.clone());
            r.title.push(view.title.clone());
            r.starts_at.push(view.starts_at);
            r.status.push(text(&row.status));
            r.method.push(text(&row.method));
            r.by.push(row.recorded_by.clone());
            r.at.push(row.recorded_at);
            r.corrected.push(row.corrected);
        }
    }
    if r.session.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO rm_attendance_records
           (session_id, student_id, course_id, title, starts_at, status, method, recorded_by, recorded_at, corrected)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                              $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::bool[])
         ON CONFLICT (session_id, student_id) DO UPDATE SET course_id = excluded.course_id,
           title = excluded.title, starts_at = excluded.starts_at, status = excluded.status,
           method = excluded.method, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at,
           corrected = excluded.corrected",
    )
    .bind(&r.session)
    .bind(&r.student)
    .bind(&r.course)
    .bind(&r.title)
    .bind(&r.starts_at)
    .bind(&r.status)
    .bind(&r.method)
    .bind(&r.by)
    .bind(&r.at)
    .bind(&r.corrected)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every stored view of a course.
pub async fn of_course(pool: &PgPool, course_id: &str) -> Result<Vec<RegisterView>, sqlx::Error> {
    let docs: Vec<Json<RegisterView>> =
        sqlx::query_scalar("SELECT doc FROM rm_register_views WHERE course_id = $1")
            .bind(course_id)
            .fetch_all(pool)
            .await?;
    Ok(docs.into_iter().map(|Json(doc)| doc).collect())
}
