//! Self check-in use cases: a teacher opens and closes a session's check-in window and shows
//! its rotating code; a signed-in student checks in with it. Called by the JSON routes, the
//! web pages and the CLI alike.
//!
//! The register decides the rules (the window's times, the late rule, the networks, the
//! roster, a mark someone else set: [`domain::register::check_in`]); this module keeps the
//! window's secret ([`secrets`]), checks the code ([`code`]) before any command is sent, and
//! counts a student's wrong codes ([`attempts`]). A refused check-in records nothing.

pub mod attempts;
pub mod code;
pub mod qr;
mod secrets;

use crate::app::access::CurrentUser;
use crate::app::courses::api_meta;
use crate::app::error::AppError;
use crate::app::register::{SessionContext, load_session_to_write};
use crate::app::store::{self, CommandMeta, Committed, Stores};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use domain::register::{CheckInWindow, Register, RegisterCommand};
use domain::{Method, Role, SessionId, Status};
use sqlx::PgPool;
use std::net::IpAddr;
use std::time::Instant;

/// What a teacher asks for when opening check-in.
#[derive(Debug, Clone, Default)]
pub struct OpenRequest {
    /// From when; none: now.
    pub opens_at: Option<DateTime<Utc>>,
    /// Until when; none: the session's end, or 15 minutes after the opening when the session
    /// ends before that.
    pub closes_at: Option<DateTime<Utc>>,
    /// Late from this many minutes after the opening; none: never late.
    pub late_after_minutes: Option<u32>,
    /// Only from these networks (CIDR); empty: from anywhere.
    pub networks: Vec<String>,
}

/// Opens a check-in window on the session's register (opening the register first when it
/// is the session's first command). Course staff only.
pub async fn open(
    stores: &Stores,
    pool: &PgPool,
    user: &CurrentUser,
    meta: &CommandMeta,
    ctx: &SessionContext,
    ask: OpenRequest,
    now: DateTime<Utc>,
) -> Result<CheckInWindow, AppError> {
    staff_of_a_held_session(user, ctx)?;
    let opens_at = ask.opens_at.unwrap_or(now);
    let session_end =
        ctx.session.starts_at + Duration::minutes(i64::from(ctx.session.duration_minutes));
    let closes_at = ask.closes_at.unwrap_or(if session_end > opens_at.max(now) {
        session_end
    } else {
        opens_at.max(now) + Duration::minutes(15)
    });
    let window_id = uuid::Uuid::new_v4().simple().to_string();
    secrets::create(pool, &window_id, &ctx.session_id).await?;
    let command = RegisterCommand::OpenCheckIn {
        window_id: window_id.clone(),
        opens_at: ask.opens_at,
        closes_at,
        late_after_minutes: ask.late_after_minutes,
        networks: ask.networks,
        by: user.actor(),
        at: now,
    };
    match run(stores, user, meta, ctx, command, now).await {
        Ok(done) => window_of(&done.aggregate),
        Err(refused) => {
            secrets::discard(pool, &window_id).await?;
            Err(refused)
        }
    }
}

/// Closes the session's check-in window; `false` when none was open. Course staff only.
pub async fn close(
    stores: &Stores,
    user: &CurrentUser,
    meta: &CommandMeta,
    ctx: &SessionContext,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    user.require_course_staff(&ctx.course)?;
    let command = RegisterCommand::CloseCheckIn {
        by: user.actor(),
        at: now,
    };
    Ok(run(stores, user, meta, ctx, command, now).await?.changed())
}

/// The code a teacher shows, with what the projector page needs.
#[derive(Debug, Clone)]
pub struct CurrentCode {
    /// The window.
    pub window: CheckInWindow,
    /// The six digits.
    pub code: String,
    /// Seconds until it changes.
    pub seconds_left: i64,
    /// The URL a phone opens from the QR code: `/check-in/{session}/{code}` (a path, so that
    /// it survives the sign-in page's return).
    pub url: String,
    /// The QR code of `url`, as SVG.
    pub qr_svg: String,
    /// Students checked in by themselves so far.
    pub checked_in: usize,
    /// Students on the roster.
    pub roster: usize,
}

/// The current code of the session's open window. Course staff only.
pub async fn current_code(
    stores: &Stores,
    pool: &PgPool,
    user: &CurrentUser,
    ctx: &SessionContext,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<CurrentCode, AppError> {
    user.require_course_staff(&ctx.course)?;
    let (register, _) = store::load(&stores.registers, ctx.session_id.as_str()).await?;
    let window = match register.check_in_window() {
        Some(w) if !w.closed && now < w.closes_at && !register.closed => w.clone(),
        Some(_) => return Err(domain::register::RegisterError::CheckInClosed.into()),
        None => return Err(domain::register::RegisterError::CheckInNotOpen.into()),
    };
    let secret = secrets::of(pool, &window.window_id).await?;
    let code = code::code_for(&secret, code::step_of(now));
    let url = format!(
        "{}/check-in/{}/{code}",
        public_url.trim_end_matches('/'),
        ctx.session_id
    );
    Ok(CurrentCode {
        qr_svg: qr::svg(&url)?,
        checked_in: checked_in(&register),
        roster: register.roster.len(),
        seconds_left: code::seconds_left(now),
        window,
        code,
        url,
    })
}

/// Students whose current mark is their own check-in.
pub fn checked_in(register: &Register) -> usize {
    register
        .roster
        .values()
        .flatten()
        .filter(|mark| mark.method == Method::SelfCheckIn)
        .count()
}

/// A student's check-in, as recorded (or as it already was).
#[derive(Debug, Clone)]
pub struct CheckedIn {
    /// The session.
    pub session_id: SessionId,
    /// The status: present or late.
    pub status: Status,
    /// When the student checked in.
    pub at: DateTime<Utc>,
    /// Whether this request recorded it (false: an earlier check-in stands).
    pub recorded: bool,
    /// The register's position once recorded (read your own write).
    pub position: i64,
}

/// A signed-in student checks in to a session with the code they read, from `address`.
pub async fn check_in(
    state: &AppState,
    user: &CurrentUser,
    request_id: String,
    session_id: SessionId,
    given: &str,
    address: Option<IpAddr>,
) -> Result<CheckedIn, AppError> {
    let student = match (&user.role, &user.student_id) {
        (Role::Student, Some(student)) => student.clone(),
        _ => return Err(AppError::Forbidden("only a student checks in")),
    };
    let attempts = &state.limits().check_ins;
    attempts.check(&student, Instant::now()).map_err(too_many)?;
    let ctx = match load_session_to_write(state, session_id).await {
        Ok(ctx) => ctx,
        Err(missing @ AppError::NotFound(_)) => {
            attempts.fail(&student, Instant::now());
            return Err(missing);
        }
        Err(other) => return Err(other),
    };
    let registers = &state.stores().registers;
    let (register, _) = store::load(registers, ctx.session_id.as_str()).await?;
    let now = Utc::now();
    // No window, or one that is over: the register says so; there is no code to check.
    let window_id = register.check_in_window().map(|w| w.window_id.clone());
    if let Some(window) = register.check_in_window().filter(|w| w.is_open_at(now)) {
        let secret = secrets::of(state.pool(), &window.window_id).await?;
        if let Err(refusal) = verdict(code::verify(&secret, given, now)) {
            attempts.fail(&student, Instant::now());
            return Err(refusal);
        }
    }
    let command = RegisterCommand::CheckIn {
        student_id: student.clone(),
        window_id: window_id.unwrap_or_default(),
        address,
        by: user.actor(),
        at: now,
    };
    let meta = api_meta(user, request_id, &ctx.course_id);
    let done = store::execute(registers, ctx.session_id.as_str(), &meta, |_| {
        Ok(vec![command.clone()])
    })
    .await?;
    let mark = done.aggregate.roster.get(&student).cloned().flatten();
    let mark = mark.ok_or_else(|| AppError::internal("a check-in left no mark"))?;
    Ok(CheckedIn {
        session_id: ctx.session_id,
        status: mark.status,
        at: mark.at,
        recorded: done.changed(),
        position: done.position,
    })
}

fn verdict(verdict: code::Verdict) -> Result<(), AppError> {
    let (code, detail) = match verdict {
        code::Verdict::Valid => return Ok(()),
        code::Verdict::Expired => (
            "check_in_code_expired",
            "this code has expired (codes change every 15 seconds): type the one shown now",
        ),
        code::Verdict::Wrong => (
            "check_in_code_wrong",
            "this is not the code shown for this session: check the code and the session",
        ),
    };
    Err(AppError::Invalid {
        code,
        detail: detail.to_string(),
        errors: vec![crate::app::error::FieldProblem {
            field: "code".into(),
            detail: detail.to_string(),
            code: Some(code.to_string()),
        }],
    })
}

fn too_many(retry_after: std::time::Duration) -> AppError {
    AppError::TooMany {
        code: "check_in_attempts",
        detail: format!(
            "too many wrong check-in codes; try again in {} s",
            retry_after.as_secs().max(1)
        ),
        retry_after,
    }
}

/// Staff of the course, and the session not cancelled.
fn staff_of_a_held_session(user: &CurrentUser, ctx: &SessionContext) -> Result<(), AppError> {
    user.require_course_staff(&ctx.course)?;
    if ctx.session.cancelled {
        return Err(AppError::conflict(
            "session_cancelled",
            format!("session {} is cancelled", ctx.session_id),
        ));
    }
    Ok(())
}

/// Runs a staff command on the register, opening it first (roster as of the session's
/// start) when it is the session's first command.
async fn run(
    stores: &Stores,
    user: &CurrentUser,
    meta: &CommandMeta,
    ctx: &SessionContext,
    command: RegisterCommand,
    now: DateTime<Utc>,
) -> Result<Committed<Register>, AppError> {
    let starts_at = ctx.session.starts_at;
    store::execute(
        &stores.registers,
        ctx.session_id.as_str(),
        meta,
        |register| {
            let mut commands = Vec::with_capacity(2);
            if !register.is_open() {
                commands.push(RegisterCommand::OpenRegister {
                    session_id: ctx.session_id.clone(),
                    course_id: ctx.course_id.clone(),
                    starts_at,
                    roster: ctx.course.roster_on(ctx.course.day_of(starts_at)),
                    by: user.actor(),
                    at: now,
                });
            }
            commands.push(command.clone());
            Ok(commands)
        },
    )
    .await
}

fn window_of(register: &Register) -> Result<CheckInWindow, AppError> {
    register
        .check_in_window()
        .cloned()
        .ok_or_else(|| AppError::internal("an opened check-in left no window"))
}
