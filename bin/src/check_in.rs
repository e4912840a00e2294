//! `attendance check-in open|close|code SESSION`: self check-in from the command line, through
//! the same use cases as `POST`/`DELETE /api/sessions/{id}/check-in` and
//! `GET /api/sessions/{id}/check-in/code` (the account named by `--by` must teach the course
//! or be an administrator).

use crate::config::Connections;
use crate::startup;
use anyhow::{Context, bail};
use api::app::access::CurrentUser;
use api::app::check_in::{self, OpenRequest};
use api::app::register::find_session;
use api::app::store::{CommandMeta, Source, Stores};
use api::auth::users;
use chrono::{DateTime, Utc};
use domain::{Role, SessionId};

/// `attendance check-in ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CheckInCommand {
    /// Open check-in for a session (now, or from --opens-at).
    Open {
        /// The session, its register and the account.
        #[command(flatten)]
        target: Target,
        /// From when (RFC 3339); default: now.
        #[arg(long)]
        opens_at: Option<DateTime<Utc>>,
        /// Until when (RFC 3339); default: the session's end.
        #[arg(long)]
        closes_at: Option<DateTime<Utc>>,
        /// Late from this many minutes after the opening; default: never late.
        #[arg(long)]
        late_after: Option<u32>,
        /// Only from these networks (CIDR, repeatable or comma-separated).
        #[arg(long, value_delimiter = ',')]
        network: Vec<String>,
    },
    /// Close check-in for a session now.
    Close {
        /// The session, its register and the account.
        #[command(flatten)]
        target: Target,
    },
    /// Print the current code (and the URL the QR code carries).
    Code {
        /// The session, its register and the account.
        #[command(flatten)]
        target: Target,
        /// The URL the server is reached at (the QR code's URL starts with it).
        #[arg(
            long,
            env = "ATTENDANCE_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
    },
}

/// The session and who acts.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// Database.
    #[command(flatten)]
    pub connections: Connections,
    /// The session id.
    pub session: String,
    /// The account the events name: an admin, or a teacher of the course.
    #[arg(long, default_value = "admin")]
    pub by: String,
}

/// Runs `attendance check-in ...`.
pub async fn run(command: CheckInCommand) -> anyhow::Result<()> {
    match command {
        CheckInCommand::Open {
            target,
            opens_at,
            closes_at,
            late_after,
            network,
        } => {
            let (stores, pool, user, ctx) = resolve(&target).await?;
            let ask = OpenRequest {
                opens_at,
                closes_at,
                late_after_minutes: late_after,
                networks: network,
            };
            let meta = meta(&user, &ctx.course_id);
            let window =
                check_in::open(&stores, &pool, &user, &meta, &ctx, ask, Utc::now()).await?;
            println!(
                "check-in open for {} from {} until {}",
                ctx.session_id,
                window.opens_at.to_rfc3339(),
                window.closes_at.to_rfc3339()
            );
        }
        CheckInCommand::Close { target } => {
            let (stores, _pool, user, ctx) = resolve(&target).await?;
            let meta = meta(&user, &ctx.course_id);
            let changed = check_in::close(&stores, &user, &meta, &ctx, Utc::now()).await?;
            let what = if changed { "closed" } else { "was not open" };
            println!("check-in for {} {what}", ctx.session_id);
        }
        CheckInCommand::Code { target, public_url } => {
            let (stores, pool, user, ctx) = resolve(&target).await?;
            let shown =
                check_in::current_code(&stores, &pool, &user, &ctx, &public_url, Utc::now())
                    .await?;
            println!(
                "{}\t{} s left\t{}",
                shown.code, shown.seconds_left, shown.url
            );
            eprintln!("{} of {} checked in", shown.checked_in, shown.roster);
        }
    }
    Ok(())
}

type Resolved = (
    Stores,
    sqlx::PgPool,
    CurrentUser,
    api::app::register::SessionContext,
);

async fn resolve(target: &Target) -> anyhow::Result<Resolved> {
    let session = SessionId::parse(target.session.clone()).context("SESSION")?;
    let pool = startup::database(&target.connections).await?;
    let Some(account) = users::by_username(&pool, &target.by).await? else {
        bail!("--by: no account {:?}", target.by);
    };
    let account = account.view;
    if account.disabled || !matches!(account.role, Role::Admin | Role::Teacher) {
        bail!(
            "--by: {} is not an active admin or teacher",
            account.username
        );
    }
    let user = CurrentUser {
        id: account.id,
        username: account.username,
        role: account.role,
        student_id: None,
    };
    let stores = Stores::new(&pool);
    let ctx = find_session(&stores, &pool, session).await?;
    Ok((stores, pool, user, ctx))
}

fn meta(user: &CurrentUser, course: &domain::CourseId) -> CommandMeta {
    CommandMeta {
        actor: user.actor(),
        request_id: format!("cli-check-in-{}", uuid::Uuid::now_v7().simple()),
        source: Source::Cli,
        course_id: course.clone(),
    }
}
