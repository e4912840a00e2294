//! Register use cases: find a session with its course, and run a register command ("open
//! the register first, guard on the course").

use crate::app::access::CurrentUser;
use crate::app::courses::api_meta;
use crate::app::error::AppError;
use crate::app::store::{self, CommandMeta, Committed, Stores};
use crate::app::writer::Guard;
use crate::state::AppState;
use chrono::Utc;
use cqrs_es::Aggregate;
use domain::course::{Course, ScheduledSession};
use domain::register::{Register, RegisterCommand};
use domain::{CourseId, SessionId, StudentId};
use sqlx::PgPool;
use std::sync::Arc;

/// A session with its course, as found from the session id.
pub struct SessionContext {
    /// The session id.
    pub session_id: SessionId,
    /// The course (shared with the aggregate cache).
    pub course: Arc<Course>,
    /// The course's version the context was read at.
    pub course_version: u64,
    /// The course's code.
    pub course_id: CourseId,
    /// The scheduled session.
    pub session: ScheduledSession,
}

/// Finds a session and its course (read up to date), or 404.
pub async fn load_session(
    state: &AppState,
    session_id: SessionId,
) -> Result<SessionContext, AppError> {
    session_context(state, session_id, false).await
}

/// Finds a session and its course as this process last knew the course, without reading
/// the store, or 404 (read up to date before answering 404). For a register command, whose
/// insert checks the course's version ([`execute`]).
pub async fn load_session_to_write(
    state: &AppState,
    session_id: SessionId,
) -> Result<SessionContext, AppError> {
    match session_context(state, session_id.clone(), true).await {
        Err(AppError::NotFound(_)) => session_context(state, session_id, false).await,
        other => other,
    }
}

async fn session_context(
    state: &AppState,
    session_id: SessionId,
    as_known: bool,
) -> Result<SessionContext, AppError> {
    let course_id = match state.known_course_of(&session_id) {
        Some(course) => course,
        None => {
            let course = event_store::event_log::course_of_session(state.pool(), &session_id)
                .await?
                .ok_or_else(|| not_found(&session_id))?;
            state.remember_course_of(session_id.clone(), course.clone());
            course
        }
    };
    let courses = &state.stores().courses;
    let (course, course_version) = if as_known {
        store::current(courses, course_id.as_str()).await?
    } else {
        store::load(courses, course_id.as_str()).await?
    };
    in_course(session_id, course_id, course, course_version)
}

/// Finds a session and its course, read up to date, without the process's caches (for the
/// CLI, which has the stores and a pool but no server state), or not found.
pub async fn find_session(
    stores: &Stores,
    pool: &PgPool,
    session_id: SessionId,
) -> Result<SessionContext, AppError> {
    let course_id = event_store::event_log::course_of_session(pool, &session_id)
        .await?
        .ok_or_else(|| not_found(&session_id))?;
    let (course, course_version) = store::load(&stores.courses, course_id.as_str()).await?;
    in_course(session_id, course_id, course, course_version)
}

fn not_found(session_id: &SessionId) -> AppError {
    AppError::NotFound(format!("session {session_id} does not exist"))
}

/// The session in its course, or not found (the course was deleted, the id names another
/// course's session).
fn in_course(
    session_id: SessionId,
    course_id: CourseId,
    course: Arc<Course>,
    course_version: u64,
) -> Result<SessionContext, AppError> {
    if !course.exists() {
        return Err(not_found(&session_id));
    }
    let Some(session) = course.sessions.get(&session_id).cloned() else {
        return Err(not_found(&session_id));
    };
    Ok(SessionContext {
        session_id,
        course,
        course_version,
        course_id,
        session,
    })
}

/// Runs a register command, opening the register first (roster as of the session's start)
/// when this is the session's first command. Admins and the course's teachers only.
///
/// `ctx` may hold the course as this process last knew it ([`load_session_to_write`]): the
/// insert checks that the course has not changed since, and a refusal is only answered once
/// the course was read up to date.
pub async fn execute(
    state: &AppState,
    user: &CurrentUser,
    request_id: String,
    ctx: &SessionContext,
    command: RegisterCommand,
) -> Result<Committed<Register>, AppError> {
    execute_all(state, user, request_id, ctx, vec![command]).await
}

/// [`execute`] for several commands decided one after the other and committed together, all
/// or nothing (an imported roll call's marks).
pub async fn execute_all(
    state: &AppState,
    user: &CurrentUser,
    request_id: String,
    ctx: &SessionContext,
    commands: Vec<RegisterCommand>,
) -> Result<Committed<Register>, AppError> {
    let meta = api_meta(user, request_id, &ctx.course_id);
    execute_with(state, user, &meta, ctx, commands).await
}

/// [`execute_all`] with the metadata given (the scheduler's source).
pub async fn execute_with(
    state: &AppState,
    user: &CurrentUser,
    meta: &CommandMeta,
    ctx: &SessionContext,
    commands: Vec<RegisterCommand>,
) -> Result<Committed<Register>, AppError> {
    let mut read: Option<SessionContext> = None;
    for _ in 0..store::MAX_ATTEMPTS {
        let ctx = read.as_ref().unwrap_or(ctx);
        let outcome = match may_write(user, ctx) {
            Ok(()) => register_command(state, user, meta, ctx, &commands).await,
            Err(refusal) => Err(refusal),
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            // A refusal may come from a course changed elsewhere (a teacher assigned, a
            // student enrolled before the register was opened): it stands once the course
            // was read afresh.
            Err(refusal) if read.is_none() && refusal.is_refusal() => None,
            Err(error) => return Err(error),
        };
        match outcome {
            Some(done) if done.changed() || read.is_some() => return Ok(done),
            // Nothing written, so no guard checked the course: answered once it is current.
            Some(done) => {
                let fresh = load_session(state, ctx.session_id.clone()).await?;
                if fresh.course_version == ctx.course_version {
                    return Ok(done);
                }
                read = Some(fresh);
            }
            // The course changed since `ctx` was read (or a refusal may be stale): read it.
            None => read = Some(load_session(state, ctx.session_id.clone()).await?),
        }
    }
    Err(AppError::conflict(
        "concurrent_write",
        "the course was changed by other requests at the same time; try again",
    ))
}

/// Whether the user may write the session's register now.
fn may_write(user: &CurrentUser, ctx: &SessionContext) -> Result<(), AppError> {
    user.require_course_staff(&ctx.course)?;
    if ctx.session.cancelled {
        return Err(AppError::conflict(
            "session_cancelled",
            format!("session {} is cancelled", ctx.session_id),
        ));
    }
    Ok(())
}

/// The register commands, their insert guarded on the course's version in `ctx`; `None` when
/// the course has changed since.
async fn register_command(
    state: &AppState,
    user: &CurrentUser,
    meta: &CommandMeta,
    ctx: &SessionContext,
    command: &[RegisterCommand],
) -> Result<Option<Committed<Register>>, AppError> {
    let starts_at = ctx.session.starts_at;
    // The roster is only worked out for the command that opens the register.
    let open = || RegisterCommand::OpenRegister {
        session_id: ctx.session_id.clone(),
        course_id: ctx.course_id.clone(),
        starts_at,
        roster: ctx.course.roster_on(ctx.course.day_of(starts_at)),
        by: user.actor(),
        at: Utc::now(),
    };
    let guard = Guard {
        aggregate_type: Course::TYPE,
        aggregate_id: ctx.course_id.to_string(),
        version: ctx.course_version,
    };
    store::execute_guarded(
        &state.stores().registers,
        ctx.session_id.as_str(),
        meta,
        Some(guard),
        |register: &Register| {
            let mut commands = Vec::with_capacity(2);
            if !register.is_open() {
                commands.push(open());
            }
            commands.extend_from_slice(command);
            Ok(commands)
        },
    )
    .await
}

/// A mark refused as `not_on_roster` for a student who does not exist at all is a `404
/// student_not_found`: the client must create the student, not fix the roster. Asked only
/// after a refusal, so an accepted mark costs no extra query.
pub async fn unknown_student_or(
    state: &AppState,
    student: &StudentId,
    error: AppError,
) -> AppError {
    if !matches!(
        error,
        AppError::Conflict {
            code: "not_on_roster",
            ..
        }
    ) {
        return error;
    }
    let known = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM students WHERE id = $1)")
        .bind(student.as_str())
        .fetch_one(state.pool())
        .await;
    match known {
        Ok(false) => AppError::Unknown {
            code: "student_not_found",
            detail: format!("there is no student {student}; create the student first"),
        },
        Ok(true) => error,
        Err(e) => e.into(),
    }
}
