//! What people read of the early warning: a course's warnings for its staff, a student's own
//! standing, and a student's notification settings (the opt-out and the guardian's
//! address), changed by the student or an administrator and audited.

use crate::app::access::{self, CurrentUser};
use crate::app::error::AppError;
use crate::app::store;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use domain::standing::{Figures, StandingEvent, standing_id};
use domain::{CourseId, Role, StudentId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One warning: a standing event as its readers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Warning {
    /// `StudentAtRisk`, `StudentRecovered`, `AbsenceStreakReached` or `AbsenceStreakEnded`.
    pub kind: String,
    /// The course.
    pub course_id: String,
    /// The student.
    pub student_id: String,
    /// Attendance rate in percent when it happened (null with no counted mark).
    pub rate: Option<f64>,
    /// The course's threshold then.
    pub at_risk_below: f64,
    /// Marks counted then.
    pub sessions_counted: u32,
    /// Absences in a row then.
    pub absence_streak: u32,
    /// The policy's streak then.
    pub streak_of: u32,
    /// When the event that caused it was stored.
    pub at: DateTime<Utc>,
    /// The global position of the warning itself (a cursor for `since`).
    pub position: i64,
    /// The global position of the event that caused it.
    pub cause_position: i64,
}

fn warning(event: StandingEvent, position: i64) -> Warning {
    use cqrs_es::DomainEvent as _;
    let kind = event.event_type();
    let (course, student, figures, cause, at) = event.parts();
    let Figures {
        rate,
        at_risk_below,
        sessions_counted,
        absence_streak,
        streak_of,
    } = *figures;
    Warning {
        kind,
        course_id: course.to_string(),
        student_id: student.to_string(),
        rate,
        at_risk_below,
        sessions_counted,
        absence_streak,
        streak_of,
        at,
        position,
        cause_position: cause.position,
    }
}

/// The warnings of a course after position `since` (0: all), oldest first, at most 500, for
/// its administrators and teachers.
pub async fn course_warnings(
    state: &AppState,
    user: &CurrentUser,
    course: &CourseId,
    since: i64,
) -> Result<Vec<Warning>, AppError> {
    let (aggregate, _) = store::load(&state.stores().courses, course.as_str()).await?;
    if !aggregate.exists() {
        return Err(AppError::NotFound(format!("course {course} not found")));
    }
    user.require_course_staff(&aggregate)?;
    let rows: Vec<(String, serde_json::Value, i64)> = sqlx::query_as(
        "SELECT event_type, payload, global_position FROM events
          WHERE aggregate_type = 'standing' AND metadata ->> 'course_id' = $1
            AND global_position > $2
          ORDER BY global_position LIMIT 500",
    )
    .bind(course.as_str())
    .bind(since.max(0))
    .fetch_all(state.pool())
    .await?;
    rows.into_iter()
        .map(|(_, payload, position)| {
            let event: StandingEvent =
                serde_json::from_value(payload).map_err(AppError::internal)?;
            Ok(warning(event, position))
        })
        .collect()
}

/// A student who fell at risk in a course and has not recovered since.
#[derive(Debug, Clone)]
pub struct AtRisk {
    /// The course, as this process knows it.
    pub course: std::sync::Arc<domain::course::Course>,
    /// The fall.
    pub warning: Warning,
}

/// Each standing's last fall or recovery recorded since `$2`, of the courses `$1`: the
/// partial index of crossings (migration 0021).
pub const NEWLY_AT_RISK_SQL: &str =
    "SELECT DISTINCT ON (aggregate_id) event_type, payload, global_position FROM events
      WHERE aggregate_type = 'standing' AND metadata ->> 'course_id' = ANY($1)
        AND event_type IN ('StudentAtRisk', 'StudentRecovered') AND recorded_at >= $2
      ORDER BY aggregate_id, sequence DESC";

/// The students of the caller's courses (every course for an administrator, the ones they
/// teach for a teacher) whose last fall or recovery is a fall at or after `since`, by course
/// and student. One query over the crossings of those courses (the `standing` rows of the
/// course index 0021), whatever their number of marks or of older warnings.
pub async fn newly_at_risk(
    state: &AppState,
    user: &CurrentUser,
    since: DateTime<Utc>,
) -> Result<Vec<AtRisk>, AppError> {
    let courses: std::collections::BTreeMap<String, std::sync::Arc<domain::course::Course>> =
        access::visible_courses(state, user)
            .await?
            .into_iter()
            .filter(|(course, _)| user.is_course_staff(course))
            .filter_map(|(course, _)| Some((course.id.as_ref()?.to_string(), course)))
            .collect();
    let ids: Vec<&String> = courses.keys().collect();
    // Each standing's last fall or recovery recorded since then (none since: nothing new).
    let rows: Vec<(String, serde_json::Value, i64)> = sqlx::query_as(NEWLY_AT_RISK_SQL)
        .bind(&ids)
        .bind(since)
        .fetch_all(state.pool())
        .await?;
    let mut found = Vec::new();
    for (kind, payload, position) in rows {
        if kind != "StudentAtRisk" {
            continue;
        }
        let event: StandingEvent = serde_json::from_value(payload).map_err(AppError::internal)?;
        let warning = warning(event, position);
        if warning.at < since {
            continue;
        }
        if let Some(course) = courses.get(&warning.course_id) {
            found.push(AtRisk {
                course: course.clone(),
                warning,
            });
        }
    }
    found.sort_by(|a, b| {
        (&a.warning.course_id, &a.warning.student_id)
            .cmp(&(&b.warning.course_id, &b.warning.student_id))
    });
    Ok(found)
}

/// A student's standing in one course.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CourseStanding {
    /// The course.
    pub course_id: String,
    /// The course's name.
    pub course_name: String,
    /// At risk, as last recorded.
    pub at_risk: bool,
    /// The absence streak reached, as last recorded.
    pub absence_streak_reached: bool,
    /// The last warning of this course, if any.
    pub last: Option<Warning>,
}

/// A student's own state: their standing in every course they were ever enrolled in, and
/// their notification settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudentStanding {
    /// The student.
    pub student_id: String,
    /// Per course.
    pub courses: Vec<CourseStanding>,
    /// Notification settings.
    pub notifications: NotificationSettings,
}

/// A student's standing, for the student, their teachers and administrators.
pub async fn student_standing(
    state: &AppState,
    user: &CurrentUser,
    student: &StudentId,
) -> Result<StudentStanding, AppError> {
    access::require_student_reader(state, user, student).await?;
    let notifications = settings_of(state, student).await?;
    let mut courses = Vec::new();
    // The courses the student was ever enrolled in: the statistics keep a row for each
    // (never removed), so only those are loaded, not every course of the district.
    let enrolled: Vec<String> = sqlx::query_scalar(
        "SELECT course_id FROM rm_course_students WHERE student_id = $1 ORDER BY course_id",
    )
    .bind(student.as_str())
    .fetch_all(state.pool())
    .await?;
    for id in enrolled {
        let Ok(id) = CourseId::parse(id) else {
            continue;
        };
        let (course, _) = store::load(&state.stores().courses, id.as_str()).await?;
        if !course.has_ever_enrolled(student) {
            continue;
        }
        let sid = standing_id(&id, student);
        let (standing, _) = store::load(&state.stores().standings, &sid).await?;
        let last: Option<(serde_json::Value, i64)> = sqlx::query_as(
            "SELECT payload, global_position FROM events
              WHERE aggregate_type = 'standing' AND aggregate_id = $1
                AND event_type <> 'AbsenceStreakEnded'
              ORDER BY sequence DESC LIMIT 1",
        )
        .bind(&sid)
        .fetch_optional(state.pool())
        .await?;
        let last = match last {
            Some((payload, position)) => Some(warning(
                serde_json::from_value(payload).map_err(AppError::internal)?,
                position,
            )),
            None => None,
        };
        courses.push(CourseStanding {
            course_id: id.to_string(),
            course_name: course.details.name.clone(),
            at_risk: standing.at_risk(),
            absence_streak_reached: standing.streak_reached(),
            last,
        });
    }
    Ok(StudentStanding {
        student_id: student.to_string(),
        courses,
        notifications,
    })
}

/// A student's notification settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct NotificationSettings {
    /// The student receives no warning e-mails (nor does their guardian).
    pub opted_out: bool,
    /// A guardian's or advisor's address that warnings are copied to.
    pub guardian_email: Option<String>,
}

async fn settings_of(
    state: &AppState,
    student: &StudentId,
) -> Result<NotificationSettings, AppError> {
    let found: Option<NotificationSettings> = sqlx::query_as(
        "SELECT notifications_opt_out AS opted_out, guardian_email FROM students WHERE id = $1",
    )
    .bind(student.as_str())
    .fetch_optional(state.pool())
    .await?;
    found.ok_or_else(|| AppError::NotFound(format!("student {student} not found")))
}

/// A student's notification settings, for those who may read the student.
pub async fn settings(
    state: &AppState,
    user: &CurrentUser,
    student: &StudentId,
) -> Result<NotificationSettings, AppError> {
    access::require_student_reader(state, user, student).await?;
    settings_of(state, student).await
}

/// The longest address accepted.
pub const MAX_EMAIL_LEN: usize = 254;

/// Changes a student's notification settings: only the student themselves or an
/// administrator; every change is recorded with who made it. A guardian's address must look
/// like one (`name@domain`).
pub async fn change_settings(
    state: &AppState,
    user: &CurrentUser,
    student: &StudentId,
    settings: NotificationSettings,
) -> Result<NotificationSettings, AppError> {
    if !(user.role == Role::Admin || user.is_student(student)) {
        return Err(AppError::Forbidden(
            "only the student or an administrator may change these settings",
        ));
    }
    let guardian = settings
        .guardian_email
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string);
    if let Some(address) = &guardian
        && !looks_like_address(address)
    {
        return Err(AppError::invalid(
            "guardian_email",
            "must be an e-mail address (name@domain), at most 254 characters",
        ));
    }
    let mut tx = state.pool().begin().await?;
    let changed = sqlx::query(
        "UPDATE students SET notifications_opt_out = $2, guardian_email = $3 WHERE id = $1",
    )
    .bind(student.as_str())
    .bind(settings.opted_out)
    .bind(&guardian)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound(format!("student {student} not found")));
    }
    sqlx::query(
        "INSERT INTO student_notification_changes
            (student_id, opted_out, guardian_email, changed_by, changed_role)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(student.as_str())
    .bind(settings.opted_out)
    .bind(&guardian)
    .bind(user.id.as_str())
    .bind(user.role.as_str())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(NotificationSettings {
        opted_out: settings.opted_out,
        guardian_email: guardian,
    })
}

/// Whether text is shaped like an e-mail address: one `@`, something before it, a dot after
/// it, no spaces, not too long.
pub fn looks_like_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= MAX_EMAIL_LEN
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}
