//! The outbox of e-mails made from the early warning's events: one row per message with a
//! key derived from its cause, so that each is made once whoever collects it and however
//! often; claimed by one notifier at a time with a lease, marked sent, or retried later with
//! a growing delay. Nothing is lost: a row stays until it is sent (or skipped because the
//! student opted out before it went).
//!
//! Messages come from the templates below (plain text), with dates in the course's zone.

use crate::app::error::AppError;
use crate::app::store;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use domain::standing::StandingEvent;
use domain::{CourseId, Zone};
use event_store::outbox::{EVENT_COLUMNS, Row, StoredEvent};
use projections::event::{DomainEvent, ProjectedEvent};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

/// One message to send.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Message {
    /// Its row.
    pub id: i64,
    /// Its key (the cause it was made from).
    pub key: String,
    /// The address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Tries so far (this one not counted).
    pub attempts: i32,
}

/// A message made, not yet stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Unique per cause and recipient.
    pub key: String,
    /// `at_risk`, `recovered`, `absence_streak` or `digest`.
    pub kind: &'static str,
    /// The course (none for a digest).
    pub course_id: Option<String>,
    /// The student (none for a digest).
    pub student_id: Option<String>,
    /// The address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Body.
    pub body: String,
}

/// A moment as the course's people read it: its local date and time and the zone's name.
pub fn local_time(zone: Zone, at: DateTime<Utc>) -> String {
    let offset = zone.offset_at(at);
    format!(
        "{} {}",
        at.with_timezone(&offset.utc).format("%Y-%m-%d %H:%M"),
        offset.name
    )
}

fn rate_text(rate: Option<f64>) -> String {
    rate.map(|r| format!("{r:.2} %"))
        .unwrap_or_else(|| "no counted mark".to_string())
}

/// The messages of one standing event, for the student and their guardian: what happened,
/// with the figures and the date in the course's zone.
pub fn drafts_of(
    event: &StandingEvent,
    position: i64,
    course_name: &str,
    zone: Zone,
    student_email: Option<&str>,
    guardian_email: Option<&str>,
) -> Vec<Draft> {
    let (course, student, figures, _, at) = event.parts();
    let when = local_time(zone, at);
    let (kind, subject, lead) = match event {
        StandingEvent::StudentAtRisk { .. } => (
            "at_risk",
            format!("Attendance warning: {course_name} ({course})"),
            format!(
                "The attendance rate of student {student} in {course_name} fell to {} on {when}, below the course's threshold of {:.2} %.",
                rate_text(figures.rate),
                figures.at_risk_below
            ),
        ),
        StandingEvent::StudentRecovered { .. } => (
            "recovered",
            format!("Attendance back on track: {course_name} ({course})"),
            format!(
                "The attendance rate of student {student} in {course_name} is {} since {when}, at or above the course's threshold of {:.2} %.",
                rate_text(figures.rate),
                figures.at_risk_below
            ),
        ),
        StandingEvent::AbsenceStreakReached { .. } => (
            "absence_streak",
            format!("Absences in a row: {course_name} ({course})"),
            format!(
                "Student {student} has been absent from {} sessions in a row of {course_name} (as of {when}).",
                figures.absence_streak
            ),
        ),
        StandingEvent::AbsenceStreakEnded { .. } => return Vec::new(),
    };
    let body = format!(
        "{lead}\n\nMarks counted: {}. Rate: {}. Absences in a row: {}.\n\nThis message was sent by the attendance system. A student can stop these messages in their notification settings.\n",
        figures.sessions_counted,
        rate_text(figures.rate),
        figures.absence_streak
    );
    let mut out = Vec::new();
    for (whom, address) in [("student", student_email), ("guardian", guardian_email)] {
        let Some(address) = address.filter(|a| !a.trim().is_empty()) else {
            continue;
        };
        out.push(Draft {
            key: format!("standing:{position}:{whom}"),
            kind,
            course_id: Some(course.to_string()),
            student_id: Some(student.to_string()),
            recipient: address.trim().to_string(),
            subject: subject.clone(),
            body: body.clone(),
        });
    }
    out
}

/// Stores drafts; a key made before stays as it was. Returns how many were new.
pub async fn store_drafts(
    conn: &mut sqlx::PgConnection,
    drafts: &[Draft],
) -> Result<u64, sqlx::Error> {
    let mut made = 0;
    for d in drafts {
        made += sqlx::query(
            "INSERT INTO notification_outbox (key, kind, course_id, student_id, recipient, subject, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&d.key)
        .bind(d.kind)
        .bind(&d.course_id)
        .bind(&d.student_id)
        .bind(&d.recipient)
        .bind(&d.subject)
        .bind(&d.body)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(made)
}

/// Reads the standing events stored since the last collection and makes their messages, in
/// one transaction with the checkpoint (held `FOR UPDATE SKIP LOCKED`: one collector at a
/// time; another notifier finds it taken and collects nothing). Returns the messages made.
pub async fn collect(state: &AppState) -> Result<u64, AppError> {
    let mut tx = state.pool().begin().await?;
    let checkpoint: Option<i64> = sqlx::query_scalar(
        "SELECT position FROM notification_checkpoint WHERE name = 'warnings' FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(mut position) = checkpoint else {
        return Ok(0);
    };
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE global_position > $1
          ORDER BY global_position LIMIT 1000"
    ))
    .bind(position)
    .fetch_all(&mut *tx)
    .await?;
    let mut made = 0;
    for row in rows {
        let stored = StoredEvent::try_from(row)?;
        position = stored.position;
        if stored.aggregate_type != "standing" {
            continue;
        }
        let Ok(ProjectedEvent {
            event: DomainEvent::Standing(event),
            ..
        }) = ProjectedEvent::from_stored(&stored)
        else {
            continue;
        };
        let (course_id, student_id, ..) = event.parts();
        let (course, _) = store::load(&state.stores().courses, course_id.as_str()).await?;
        let addresses: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT email, guardian_email FROM students WHERE id = $1")
                .bind(student_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let (email, guardian) = addresses.unwrap_or_default();
        let drafts = drafts_of(
            &event,
            stored.position,
            &course.details.name,
            course.time_zone,
            email.as_deref(),
            guardian.as_deref(),
        );
        made += store_drafts(&mut tx, &drafts).await?;
    }
    sqlx::query("UPDATE notification_checkpoint SET position = $1 WHERE name = 'warnings'")
        .bind(position)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(made)
}

/// Makes today's digest for every teacher with an address who has something to read: the
/// students of their courses newly at risk (in the last day) and the registers of past
/// sessions still not taken. One a teacher a day (the day in the institution's zone): the
/// key says so.
pub async fn digests(state: &AppState, now: DateTime<Utc>) -> Result<u64, AppError> {
    let zone = state.config().time_zone;
    let day = zone.day_of(now);
    let teachers: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, email FROM users WHERE role = 'teacher' AND NOT disabled
            AND email IS NOT NULL AND email <> ''",
    )
    .fetch_all(state.pool())
    .await?;
    let mut made = 0;
    for (teacher, address) in teachers {
        let key = format!("digest:{teacher}:{day}");
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM notification_outbox WHERE key = $1)")
                .bind(&key)
                .fetch_one(state.pool())
                .await?;
        if exists {
            continue;
        }
        let Ok(user) = domain::UserId::parse(teacher.clone()) else {
            continue;
        };
        let mut lines = Vec::new();
        for id in event_store::event_log::course_ids(state.pool()).await? {
            let (course, _) = store::load(&state.stores().courses, id.as_str()).await?;
            if !course.is_taught_by(&user) {
                continue;
            }
            lines.extend(
                course_digest(
                    state.pool(),
                    &id,
                    &course.details.name,
                    course.time_zone,
                    now,
                )
                .await?,
            );
        }
        if lines.is_empty() {
            continue;
        }
        let draft = Draft {
            key,
            kind: "digest",
            course_id: None,
            student_id: None,
            recipient: address,
            subject: format!("Attendance digest for {day}"),
            body: format!(
                "Your courses on {day}:\n\n{}\n\nThis message was sent by the attendance system.\n",
                lines.join("\n")
            ),
        };
        let mut conn = state.pool().acquire().await?;
        made += store_drafts(&mut conn, &[draft]).await?;
    }
    Ok(made)
}

async fn course_digest(
    pool: &PgPool,
    course: &CourseId,
    name: &str,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    let mut lines = Vec::new();
    let newly: Vec<(String, Option<f64>)> = sqlx::query_as(
        "SELECT payload -> 'StudentAtRisk' ->> 'student_id',
                (payload -> 'StudentAtRisk' -> 'figures' ->> 'rate')::float8
           FROM events
          WHERE aggregate_type = 'standing' AND event_type = 'StudentAtRisk'
            AND metadata ->> 'course_id' = $1 AND recorded_at > $2
          ORDER BY global_position",
    )
    .bind(course.as_str())
    .bind(now - Duration::days(1))
    .fetch_all(pool)
    .await?;
    for (student, rate) in newly {
        lines.push(format!(
            "- {name} ({course}): student {student} newly at risk, rate {}",
            rate_text(rate)
        ));
    }
    let stats = projections::projector::find::<
        projections::course_stats::store::CourseStatsProjection,
    >(pool, course.as_str())
    .await?;
    if let Some(stats) = stats {
        for session in stats.session_figures() {
            if !session.cancelled && !session.taken && session.starts_at < now {
                lines.push(format!(
                    "- {name} ({course}): the register of \"{}\" ({}) has not been taken",
                    session.title,
                    local_time(zone, session.starts_at)
                ));
            }
        }
    }
    Ok(lines)
}

/// Marks the messages of students who opted out as skipped, so they are never sent (a
/// teacher's digest is not the student's).
pub async fn skip_opted_out(pool: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE notification_outbox o SET skipped = 'opted_out'
           FROM students s
          WHERE o.student_id = s.id AND s.notifications_opt_out
            AND o.sent_at IS NULL AND o.skipped IS NULL",
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Claims up to `limit` messages due now for `lease`: no other notifier takes them until
/// then (`FOR UPDATE SKIP LOCKED`), and a notifier that dies leaves them to be tried again
/// after it. The student's opt-out is checked in the same statement.
pub async fn claim(
    pool: &PgPool,
    limit: i64,
    lease: std::time::Duration,
) -> Result<Vec<Message>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE notification_outbox SET next_attempt_at = now() + $2 * interval '1 millisecond'
          WHERE id IN (
            SELECT o.id FROM notification_outbox o
              LEFT JOIN students s ON s.id = o.student_id
             WHERE o.sent_at IS NULL AND o.skipped IS NULL AND o.next_attempt_at <= now()
               AND NOT COALESCE(s.notifications_opt_out, false)
             ORDER BY o.id
             LIMIT $1
             FOR UPDATE OF o SKIP LOCKED)
          RETURNING id, key, recipient, subject, body, attempts",
    )
    .bind(limit)
    .bind(lease.as_millis() as f64)
    .fetch_all(pool)
    .await
}

/// Records a message as sent.
pub async fn mark_sent(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notification_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL
          WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed try; the next comes after `retry_in`.
pub async fn mark_failed(
    pool: &PgPool,
    id: i64,
    error: &str,
    retry_in: std::time::Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notification_outbox SET attempts = attempts + 1, last_error = $2,
                next_attempt_at = now() + $3 * interval '1 millisecond'
          WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(retry_in.as_millis() as f64)
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives a claimed message back at once (the breaker refused the call: nothing was tried).
pub async fn release(
    pool: &PgPool,
    id: i64,
    retry_in: std::time::Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notification_outbox SET next_attempt_at = now() + $2 * interval '1 millisecond'
          WHERE id = $1",
    )
    .bind(id)
    .bind(retry_in.as_millis() as f64)
    .execute(pool)
    .await?;
    Ok(())
}

/// The outbox's state for `/api/health` and `/api/metrics`.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct OutboxState {
    /// Messages not yet sent (nor skipped).
    pub pending: i64,
    /// Age of the oldest of them, in seconds.
    pub oldest_pending_age_secs: Option<f64>,
    /// Messages sent (all time).
    pub sent: i64,
    /// Messages skipped because the student opted out.
    pub skipped: i64,
    /// Pending messages that failed at least once.
    pub failing: i64,
}

/// Reads the outbox's state.
pub async fn state(pool: &PgPool) -> Result<OutboxState, sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE sent_at IS NULL AND skipped IS NULL) AS pending,
                EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE sent_at IS NULL AND skipped IS NULL))::float8
                    AS oldest_pending_age_secs,
                count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,
                count(*) FILTER (WHERE skipped IS NOT NULL) AS skipped,
                count(*) FILTER (WHERE sent_at IS NULL AND skipped IS NULL AND attempts > 0) AS failing
           FROM notification_outbox",
    )
    .fetch_one(pool)
    .await
}
