//! Postgres storage of register views: the document per session, and one searchable row per
//! roster line (`rm_attendance_records`).

use super::{RegisterRow, RegisterView, apply, session_of};
use crate::event::ProjectedEvent;
use crate::projector::{Changes, Projection, load_split};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashMap};

/// The `register_views` projector.
pub struct RegisterViewsProjection;

/// The view without its roster lines (kept in `rm_attendance_records`): a few hundred bytes.
fn head(view: &RegisterView) -> RegisterView {
    let RegisterView {
        session_id,
        course_id,
        title,
        starts_at,
        duration_minutes,
        cancelled,
        opened,
        closed,
        version,
        rows: _,
        position,
        changes: _,
    } = view;
    RegisterView {
        session_id: session_id.clone(),
        course_id: course_id.clone(),
        title: title.clone(),
        starts_at: *starts_at,
        duration_minutes: *duration_minutes,
        cancelled: *cancelled,
        opened: *opened,
        closed: *closed,
        version: *version,
        rows: BTreeMap::new(),
        position: *position,
        changes: Changes::default(),
    }
}

impl Projection for RegisterViewsProjection {
    const NAME: &'static str = "register_views";
    const TABLE: &'static str = "rm_register_views";
    const KEY: &'static str = "session_id";
    type Model = RegisterView;

    fn key(event: &ProjectedEvent) -> Option<String> {
        session_of(event)
    }

    fn apply(model: &mut RegisterView, event: &ProjectedEvent) {
        apply(model, event);
    }

    fn changes(model: &mut RegisterView) -> &mut Changes {
        &mut model.changes
    }

    async fn load(
        conn: &mut PgConnection,
        keys: &[String],
    ) -> Result<HashMap<String, RegisterView>, sqlx::Error> {
        load_split::<Self, RegisterRow>(
            conn,
            keys,
            "SELECT session_id, student_id, line FROM rm_attendance_records WHERE session_id = ANY($1)",
            |view, position| view.position = position,
            |view, student, row| {
                view.rows.insert(student, row);
            },
        )
        .await
    }

    async fn save(
        conn: &mut PgConnection,
        models: &BTreeMap<String, RegisterView>,
    ) -> Result<(), sqlx::Error> {
        let sessions: Vec<_> = models.keys().cloned().collect();
        let courses: Vec<_> = models.values().map(|v| v.course_id.clone()).collect();
        let docs: Vec<_> = models.values().map(|v| Json(head(v))).collect();
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
        save_records(conn, models).await
    }

    async fn reset(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query("TRUNCATE rm_register_views, rm_attendance_records")
            .execute(conn)
            .await?;
        Ok(())
    }

    fn weight(model: &RegisterView) -> usize {
        // Measured roughly: a roster line with its strings and map node.
        512 + model.rows.len() * 300
    }
}

#[derive(Default)]
struct Records<'a> {
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
    line: Vec<Json<&'a RegisterRow>>,
}

fn text<T: serde::Serialize>(value: &Option<T>) -> Option<String> {
    value
        .as_ref()
        .and_then(|v| serde_json::to_value(v).ok())
        .and_then(|v| v.as_str().map(str::to_string))
}

/// Upserts the roster lines that changed (all of them when the session itself changed).
async fn save_records(
    conn: &mut PgConnection,
    models: &BTreeMap<String, RegisterView>,
) -> Result<(), sqlx::Error> {
    let mut r = Records::default();
    for (session, view) in models {
        for (student, row) in &view.rows {
            if !view.changes.part_changed(student) {
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
            r.line.push(Json(row));
        }
    }
    if r.session.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO rm_attendance_records
           (session_id, student_id, course_id, title, starts_at, status, method, recorded_by, recorded_at,
            corrected, line)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                              $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::bool[],
                              $11::jsonb[])
         ON CONFLICT (session_id, student_id) DO UPDATE SET course_id = excluded.course_id,
           title = excluded.title, starts_at = excluded.starts_at, status = excluded.status,
           method = excluded.method, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at,
           corrected = excluded.corrected, line = excluded.line",
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
    .bind(&r.line)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every stored view of a course.
pub async fn of_course(pool: &PgPool, course_id: &str) -> Result<Vec<RegisterView>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT session_id FROM rm_register_views WHERE course_id = $1")
            .bind(course_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut views: Vec<RegisterView> = RegisterViewsProjection::load(&mut conn, &keys)
        .await?
        .into_values()
        .collect();
    views.sort_by(|a, b| a.session_id.cmp(&b.session_id));
    Ok(views)
}

/// Of these sessions, those whose register the view shows closed (one indexed look-up by
/// primary key; the view may lag the store, so a session missing here may be closed too).
pub async fn closed_among(pool: &PgPool, sessions: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT session_id FROM rm_register_views \
         WHERE session_id = ANY($1) AND (doc->>'closed')::boolean",
    )
    .bind(sessions)
    .fetch_all(pool)
    .await
}
