//! Postgres storage of course statistics: the document, and one row per student
//! (`rm_course_students`) for reads across courses.

use super::derived::StudentFigures;
use super::{Catalogue, CourseStats, RegisterState, SessionInfo, apply};
use crate::event::ProjectedEvent;
use crate::projector::{Changes, Projection, load_split};
use chrono::Utc;
use domain::AttendancePolicy;
use domain::course::EnrollmentPeriod;
use domain::{Status, Zone};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashMap};

/// The `course_stats` projector.
pub struct CourseStatsProjection;

/// One student's status per session, as `rm_course_marks` stores it.
type SessionMarks = BTreeMap<String, Status>;

/// The parts of a document kept in `rm_course_stats.doc`: all but the marks (one row per
/// student in `rm_course_marks`) and the position (a column). Adding a field to
/// [`CourseStats`] fails to compile here until it is placed.
type HeadParts<'a> = (
    &'a String,
    &'a String,
    &'a AttendancePolicy,
    &'a BTreeMap<String, Vec<EnrollmentPeriod>>,
    &'a BTreeMap<String, SessionInfo>,
    &'a BTreeMap<String, RegisterState>,
    &'a Zone,
    &'a Catalogue,
);

fn head_parts(doc: &CourseStats) -> HeadParts<'_> {
    let CourseStats {
        course_id,
        name,
        policy,
        enrollments,
        sessions,
        registers,
        time_zone,
        catalogue,
        marks: _,
        position: _,
        changes: _,
    } = doc;
    (
        course_id,
        name,
        policy,
        enrollments,
        sessions,
        registers,
        time_zone,
        catalogue,
    )
}

/// The stored head of a document: small, and written only when it changes.
fn head(doc: &CourseStats) -> CourseStats {
    let (course_id, name, policy, enrollments, sessions, registers, time_zone, catalogue) =
        head_parts(doc);
    CourseStats {
        course_id: course_id.clone(),
        name: name.clone(),
        policy: *policy,
        enrollments: enrollments.clone(),
        sessions: sessions.clone(),
        registers: registers.clone(),
        time_zone: *time_zone,
        catalogue: catalogue.clone(),
        marks: BTreeMap::new(),
        position: 0,
        changes: Changes::default(),
    }
}

impl Projection for CourseStatsProjection {
    const NAME: &'static str = "course_stats";
    const TABLE: &'static str = "rm_course_stats";
    const KEY: &'static str = "course_id";
    type Model = CourseStats;

    fn key(event: &ProjectedEvent) -> Option<String> {
        // A standing's events change no figure (they are made from them).
        (!matches!(event.event, crate::event::DomainEvent::Standing(_)))
            .then(|| event.course_id.clone())
    }

    fn apply(model: &mut CourseStats, event: &ProjectedEvent) {
        apply(model, event);
    }

    fn changes(model: &mut CourseStats) -> &mut Changes {
        &mut model.changes
    }

    async fn load(
        conn: &mut PgConnection,
        keys: &[String],
    ) -> Result<HashMap<String, CourseStats>, sqlx::Error> {
        load_split::<Self, SessionMarks>(
            conn,
            keys,
            "SELECT course_id, student_id, marks FROM rm_course_marks WHERE course_id = ANY($1)",
            |doc, position| doc.position = position,
            |doc, student, marks| {
                doc.marks.insert(student, marks);
            },
        )
        .await
    }

    async fn save(
        conn: &mut PgConnection,
        models: &BTreeMap<String, CourseStats>,
    ) -> Result<(), sqlx::Error> {
        let now = Utc::now();
        for (course_id, doc) in models {
            let today = doc.day_of(now);
            if !doc.changes.head_changed() {
                sqlx::query("UPDATE rm_course_stats SET position = $2 WHERE course_id = $1")
                    .bind(course_id)
                    .bind(doc.position)
                    .execute(&mut *conn)
                    .await?;
            } else {
                sqlx::query(
                    "INSERT INTO rm_course_stats (course_id, doc, position) VALUES ($1, $2, $3)
                     ON CONFLICT (course_id) DO UPDATE SET doc = excluded.doc, position = excluded.position",
                )
                .bind(course_id)
                .bind(Json(head(doc)))
                .bind(doc.position)
                .execute(&mut *conn)
                .await?;
                save_listing(conn, doc).await?;
            }
            save_marks(conn, course_id, doc).await?;
            save_students(conn, course_id, doc, today).await?;
        }
        Ok(())
    }

    async fn reset(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query("TRUNCATE rm_course_stats, rm_course_marks, rm_course_students, rm_courses")
            .execute(conn)
            .await?;
        Ok(())
    }

    fn weight(model: &CourseStats) -> usize {
        // Measured roughly: a mark in the nested maps, an enrolment, a session.
        let marks: usize = model.marks.values().map(|m| m.len()).sum();
        1024 + marks * 80 + model.enrollments.len() * 120 + model.sessions.len() * 200
    }
}

/// Upserts the course's row of the course lists (`rm_courses`).
async fn save_listing(conn: &mut PgConnection, doc: &CourseStats) -> Result<(), sqlx::Error> {
    let teachers: Vec<&String> = doc.catalogue.teachers.iter().collect();
    sqlx::query(
        "INSERT INTO rm_courses (course_id, name, department, semester, teachers, archived, search_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (course_id) DO UPDATE SET name = excluded.name, department = excluded.department,
           semester = excluded.semester, teachers = excluded.teachers, archived = excluded.archived,
           search_key = excluded.search_key",
    )
    .bind(&doc.course_id)
    .bind(&doc.name)
    .bind(&doc.catalogue.department)
    .bind(&doc.catalogue.semester)
    .bind(&teachers)
    .bind(doc.catalogue.archived)
    .bind(crate::search_key(&format!("{} {}", doc.course_id, doc.name)))
    .execute(conn)
    .await?;
    Ok(())
}

/// Upserts the students whose marks changed (marks are never removed, only changed).
async fn save_marks(
    conn: &mut PgConnection,
    course_id: &str,
    doc: &CourseStats,
) -> Result<(), sqlx::Error> {
    let changed: Vec<(&String, &SessionMarks)> = match doc.changes.touched_parts() {
        Some(parts) => parts
            .iter()
            .filter_map(|s| doc.marks.get_key_value(s))
            .collect(),
        None => doc.marks.iter().collect(),
    };
    let mut students = Vec::with_capacity(changed.len());
    let mut marks = Vec::with_capacity(changed.len());
    for (student, sessions) in changed {
        students.push(student.as_str());
        marks.push(Json(sessions));
    }
    if students.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO rm_course_marks (course_id, student_id, marks)
         SELECT $1, * FROM unnest($2::text[], $3::jsonb[])
         ON CONFLICT (course_id, student_id) DO UPDATE SET marks = excluded.marks",
    )
    .bind(course_id)
    .bind(&students)
    .bind(&marks)
    .execute(conn)
    .await?;
    Ok(())
}

/// Upserts the per-student rows that may have changed: those of students whose marks
/// changed, or all of them after a course event (enrolments, sessions, policy).
async fn save_students(
    conn: &mut PgConnection,
    course_id: &str,
    doc: &CourseStats,
    today: chrono::NaiveDate,
) -> Result<(), sqlx::Error> {
    let students: Vec<&String> = match doc.changes.changed_parts() {
        Some(parts) => parts
            .iter()
            .filter(|s| doc.enrollments.contains_key(*s))
            .collect(),
        _ => doc.enrollments.keys().collect(),
    };
    let rows: Vec<StudentFigures> = students
        .into_iter()
        .map(|student| doc.student(student, today))
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
