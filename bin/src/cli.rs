//! The `attendance` command line.

use crate::config::{Connections, RelaySettings, ServeConfig};
use crate::startup;
use anyhow::{Context, bail};
use api::auth::changes::ChangedBy;
use api::auth::{password, users};
use clap::{Parser, Subcommand, ValueEnum};
use domain::{Role, StudentId};
use std::io::{BufRead, IsTerminal};

/// Smart Attendance System: an event-sourced attendance backend.
#[derive(Debug, Parser)]
#[command(name = "attendance", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
// Parsed once at start: the size of the `serve` settings does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API, the relay to NATS and the projectors (migrates the database first).
    Serve(ServeArgs),
    /// Create the database if needed and apply migrations.
    Migrate(Connections),
    /// Run only the relay from the event store to NATS JetStream.
    Relay(RelayArgs),
    /// Run only the projectors (all, or those named with --only).
    Project {
        /// Database, broker, stream.
        #[command(flatten)]
        args: RelayArgs,
        /// Run only this projector (repeatable): course_stats, register_views, or `warnings`
        /// (the early warning's process manager).
        #[arg(long = "only")]
        only: Vec<String>,
    },
    /// Measure speed against raw Postgres on this machine (starts its own server).
    Bench(crate::bench::BenchArgs),
    /// Mixed traffic for minutes against a fresh server, then check nothing was lost.
    Soak(crate::bench::soak::SoakArgs),
    /// Render a report (course, student, at-risk) to a file or standard output.
    Report(crate::report::ReportArgs),
    /// Print the event history offline (or verify the read models against it).
    Replay(crate::replay::ReplayArgs),
    /// Drop read models and rebuild them from the event store.
    Rebuild {
        /// Database.
        #[command(flatten)]
        connections: Connections,
        /// Rebuild only this projector (repeatable): course_stats, register_views, or
        /// `warnings` (replay the early warning's evaluations; stores only crossings never
        /// recorded).
        #[arg(long = "projection")]
        projection: Vec<String>,
    },
    /// Send the early warning's e-mails alone (the outbox; needs SMTP_HOST).
    Notify {
        /// Database.
        #[command(flatten)]
        connections: Connections,
        /// SMTP server and the notifier's timings.
        #[command(flatten)]
        settings: crate::config::NotifySettings,
        /// The institution's IANA time zone (the teachers' digest day).
        #[arg(long, env = "ATTENDANCE_TIMEZONE", default_value = "UTC", value_parser = crate::config::time_zone)]
        timezone: domain::Zone,
    },
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Paper bubble sheets: print one for a session, or read a scanned PDF offline.
    #[command(subcommand)]
    Sheet(crate::sheet::SheetCommand),
    /// Bulk onboarding from a spreadsheet.
    #[command(subcommand)]
    Import(crate::import::ImportCommand),
    /// Put a term's timetable on a course's calendar (one command: all sessions or none).
    Schedule(crate::schedule::ScheduleArgs),
    /// Load a small realistic data set (3 courses, 60 students, 6 weeks of sessions).
    Demo(crate::demo::DemoArgs),
    /// Students' self check-in: open or close a session's window, print its current code.
    #[command(subcommand, name = "check-in")]
    CheckIn(crate::check_in::CheckInCommand),
}

/// Options of `attendance serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The application's settings.
    #[command(flatten)]
    pub config: ServeConfig,
    /// Whether to start our own Postgres and NATS, and where they keep their data.
    #[command(flatten)]
    pub embedded: crate::embedded::EmbeddedArgs,
    /// Seconds to keep serving after SIGTERM with `/api/ready` answering 503, before the
    /// listener closes and requests in flight finish (only when a balancer asked it).
    #[arg(long, env = "ATTENDANCE_DRAIN_SECS", default_value_t = 5.0)]
    pub drain_secs: f64,
}

/// Options of `attendance relay`.
#[derive(Debug, Clone, clap::Args)]
pub struct RelayArgs {
    /// Database and broker.
    #[command(flatten)]
    pub connections: Connections,
    /// Stream, subjects, breaker.
    #[command(flatten)]
    pub relay: RelaySettings,
    /// Instead of relaying, compare the stream with the event store and list every event the
    /// stream lacks; exits non-zero if any.
    #[arg(long)]
    pub verify: bool,
    /// With `--verify`: publish the missing events (then rebuild the read models).
    #[arg(long, requires = "verify")]
    pub repair: bool,
}

/// `attendance user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from standard input (or prompted for).
    Add {
        /// Database.
        #[command(flatten)]
        connections: Connections,
        /// Login name.
        #[arg(long)]
        username: String,
        /// Role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Student number, for student accounts.
        #[arg(long)]
        student_id: Option<String>,
    },
    /// Set an account's password (read from standard input or prompted for); the account's
    /// tokens issued before are revoked.
    Passwd {
        /// Database.
        #[command(flatten)]
        connections: Connections,
        /// Login name.
        #[arg(long)]
        username: String,
    },
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Everything.
    Admin,
    /// Own courses.
    Teacher,
    /// Own records.
    Student,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Teacher => Role::Teacher,
            RoleArg::Student => Role::Student,
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let drain = std::time::Duration::from_secs_f64(args.drain_secs.clamp(0.0, 600.0));
            crate::serve::run(args.config, &args.embedded, drain).await
        }
        Command::Relay(args) if args.verify => {
            crate::stream_check::run(&args.connections, &args.relay, args.repair).await
        }
        Command::Relay(args) => startup::run_relay(&args.connections, &args.relay).await,
        Command::Project { args, only } => {
            startup::run_projectors(&args.connections, &args.relay, &only).await
        }
        Command::Rebuild {
            connections,
            projection,
        } => startup::rebuild(&connections, &projection).await,
        Command::Notify {
            connections,
            settings,
            timezone,
        } => crate::notify_command::run_alone(&connections, settings, timezone).await,
        Command::Migrate(connections) => {
            startup::database(&connections).await?;
            eprintln!("database is up to date");
            Ok(())
        }
        Command::User(UserCommand::Add {
            connections,
            username,
            role,
            student_id,
        }) => add_user(&connections, &username, role.into(), student_id).await,
        Command::User(UserCommand::Passwd {
            connections,
            username,
        }) => crate::passwd::run(&connections, &username, read_password()?).await,
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Import(command) => crate::import::run(command).await,
        Command::Schedule(args) => crate::schedule::run(args).await,
        Command::CheckIn(command) => crate::check_in::run(command).await,
        Command::Report(args) => crate::report::run(args).await,
        Command::Sheet(command) => crate::sheet::run(command).await,
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Soak(args) => crate::bench::soak::run(args).await,
        Command::Replay(args) => {
            if crate::replay::run(args).await? {
                Ok(())
            } else {
                bail!("the stored read models differ from the event history")
            }
        }
    }
}

async fn add_user(
    connections: &Connections,
    username: &str,
    role: Role,
    student_id: Option<String>,
) -> anyhow::Result<()> {
    let student_id = student_id
        .map(StudentId::parse)
        .transpose()
        .context("--student-id")?;
    if (role == Role::Student) != student_id.is_some() {
        bail!("--student-id is required for students and only for students");
    }
    let secret = read_password()?;
    password::check_policy(&secret, username).map_err(|e| anyhow::anyhow!("password {e}"))?;
    let pool = startup::database(connections).await?;
    let account = users::NewAccount {
        username,
        password: secret,
        role,
        student_id: student_id.as_ref(),
        must_change_password: false,
        email: None,
    };
    let user = users::create(&pool, account, &ChangedBy::cli()).await?;
    eprintln!(
        "created {} `{}` with id {}",
        user.role, user.username, user.id
    );
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("again: ")?;
        if first != again {
            bail!("the passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// The README's "Commands" section.
    fn commands_section() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        let readme = std::fs::read_to_string(path).expect("README.md is readable");
        let section = readme
            .split_once("## Commands")
            .expect("a Commands section")
            .1;
        section
            .split("\n## ")
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn the_readme_lists_every_subcommand() {
        let section = commands_section();
        let missing: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .filter(|name| name != "help" && !section.contains(&format!("`attendance {name}")))
            .collect();
        assert!(
            missing.is_empty(),
            "not in the README's Commands table: {missing:?}"
        );
        assert!(
            section.contains("projectors"),
            "the table says that serve also runs the projectors"
        );
    }
}
