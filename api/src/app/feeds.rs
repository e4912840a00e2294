//! Calendar feeds: a secret URL per person (their sessions, as "what's on" lists them) or per
//! course, that calendar apps fetch without signing in. Only the SHA-256 of a token is
//! stored; the token is shown once, when the feed is created. A feed answers only while it is
//! not revoked and its owner may still read what it lists (an account disabled, a teacher
//! unassigned, and the feed falls silent).

use crate::app::access::CurrentUser;
use crate::app::courses::load_course;
use crate::app::error::AppError;
use crate::app::ical::{self, Entry};
use crate::app::whats_on::{Listed, sessions_of};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use domain::{CourseId, Role};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

/// How far back a feed lists sessions (calendar apps keep what they fetched before).
const PAST_DAYS: i64 = 120;
/// How far ahead.
const FUTURE_DAYS: i64 = 400;

/// A feed as listed (never its token).
#[derive(Debug, Clone)]
pub struct Feed {
    /// Its id (to revoke it by).
    pub id: String,
    /// The course it lists, or `None` for its owner's own sessions.
    pub course_id: Option<CourseId>,
    /// Its owner's user id.
    pub owner: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A feed just created, with its secret token (shown this once).
pub struct Created {
    /// The feed.
    pub feed: Feed,
    /// The secret in its URL.
    pub token: String,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates a feed of the caller's own sessions (`course` = `None`; not for administrators,
/// whose "own" sessions are every course's) or of a course the caller may read.
pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    course: Option<CourseId>,
) -> Result<Created, AppError> {
    match &course {
        Some(id) => {
            let (course, _) = load_course(state, id).await?;
            user.require_course_reader(&course)?;
        }
        None if user.role == Role::Admin => {
            return Err(AppError::invalid(
                "course_id",
                "an administrator's own feed would list every course: name a course",
            ));
        }
        None => {}
    }
    let token: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    let id = uuid::Uuid::now_v7().simple().to_string();
    let (kind, course_id) = match &course {
        Some(id) => ("course", Some(id.to_string())),
        None => ("user", None),
    };
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO calendar_feeds (id, token_sha256, kind, owner, course_id) \
         VALUES ($1, $2, $3, $4, $5) RETURNING created_at",
    )
    .bind(&id)
    .bind(digest(&token))
    .bind(kind)
    .bind(user.id.as_str())
    .bind(course_id)
    .fetch_one(state.pool())
    .await?;
    Ok(Created {
        feed: Feed {
            id,
            course_id: course,
            owner: user.id.to_string(),
            created_at,
            revoked_at: None,
        },
        token,
    })
}

type Row = (
    String,
    Option<String>,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn feed((id, course_id, owner, created_at, revoked_at): Row) -> Feed {
    Feed {
        id,
        course_id: course_id.and_then(|c| CourseId::parse(c).ok()),
        owner,
        created_at,
        revoked_at,
    }
}

/// The caller's feeds, newest first.
pub async fn list(state: &AppState, user: &CurrentUser) -> Result<Vec<Feed>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, course_id, owner, created_at, revoked_at FROM calendar_feeds \
         WHERE owner = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(user.id.as_str())
    .fetch_all(state.pool())
    .await?;
    Ok(rows.into_iter().map(feed).collect())
}

/// Revokes a feed (its owner, or an administrator): its URL answers nothing from now on.
/// Whether it was active before.
pub async fn revoke(state: &AppState, user: &CurrentUser, id: &str) -> Result<bool, AppError> {
    // Feed ids are 32 hex digits: anything else names no feed (and is not sent to Postgres).
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound(format!(
            "calendar feed {id:?} does not exist"
        )));
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, course_id, owner, created_at, revoked_at FROM calendar_feeds WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(state.pool())
    .await?;
    let Some(found) = row.map(feed) else {
        return Err(AppError::NotFound(format!(
            "calendar feed {id} does not exist"
        )));
    };
    if found.owner != user.id.as_str() && user.role != Role::Admin {
        // Someone else's feed is not even said to exist.
        return Err(AppError::NotFound(format!(
            "calendar feed {id} does not exist"
        )));
    }
    let revoked = sqlx::query(
        "UPDATE calendar_feeds SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(state.pool())
    .await?;
    Ok(revoked.rows_affected() > 0)
}

/// The iCalendar text of the feed with this token, or `None` when no active feed has it (or
/// its owner may no longer read what it lists).
pub async fn render(
    state: &AppState,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, AppError> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT owner, course_id FROM calendar_feeds WHERE token_sha256 = $1 AND revoked_at IS NULL",
    )
    .bind(digest(token))
    .fetch_optional(state.pool())
    .await?;
    let Some((owner, course_id)) = row else {
        return Ok(None);
    };
    let Some(account) = state.accounts().active(state.pool(), &owner).await? else {
        return Ok(None);
    };
    let user = CurrentUser {
        id: account.id,
        username: account.username,
        role: account.role,
        student_id: account.student_id,
    };
    let today = now.date_naive();
    let (from, to) = (
        today - Duration::days(PAST_DAYS),
        today + Duration::days(FUTURE_DAYS),
    );
    let (name, listed) = match course_id.map(CourseId::parse) {
        Some(Ok(id)) => {
            let Ok((course, _)) = load_course(state, &id).await else {
                return Ok(None);
            };
            if user.require_course_reader(&course).is_err() {
                return Ok(None);
            }
            let listed = course
                .sessions
                .iter()
                .filter(|(_, s)| {
                    let day = course.day_of(s.starts_at);
                    day >= from && day <= to
                })
                .map(|(session_id, _)| Listed {
                    course: course.clone(),
                    session_id: session_id.clone(),
                })
                .collect();
            (format!("{id} {}", course.details.name), listed)
        }
        Some(Err(_)) => return Ok(None),
        None => (
            format!("{}: sessions", user.username),
            sessions_of(state, &user, from, to).await?,
        ),
    };
    let host = state
        .config()
        .public_url
        .split("://")
        .nth(1)
        .unwrap_or("attendance")
        .trim_end_matches('/')
        .to_string();
    let entries: Vec<Entry> = listed
        .iter()
        .map(|l| {
            let session = &l.course.sessions[&l.session_id];
            Entry {
                uid: format!("{}@{host}", l.session_id),
                summary: format!(
                    "{}: {}",
                    l.course.id.as_ref().map(|c| c.as_str()).unwrap_or(""),
                    session.title
                ),
                description: Some(l.course.details.name.clone()),
                starts_at: session.starts_at,
                ends_at: session.starts_at + Duration::minutes(i64::from(session.duration_minutes)),
                zone: l.course.time_zone,
                cancelled: session.cancelled,
            }
        })
        .collect();
    Ok(Some(ical::calendar(&name, &entries, now)))
}
