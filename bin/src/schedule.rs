//! `attendance schedule COURSE --weekdays mon,wed --at 09:00 ...`: a term's timetable put on
//! the calendar from the command line, through the same use case as
//! `POST /api/courses/{id}/schedule` (one course command, all sessions or none), in the
//! course's time zone. Prints one line per session created.

use crate::config::Connections;
use crate::startup;
use anyhow::{Context, bail};
use api::app::store::{CommandMeta, Source, Stores};
use api::app::timetable::schedule_term;
use api::auth::users;
use chrono::{NaiveDate, NaiveTime, Utc, Weekday};
use domain::course::Timetable;
use domain::{Actor, CourseId, Role};

/// Options of `attendance schedule`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScheduleArgs {
    /// Database.
    #[command(flatten)]
    pub connections: Connections,
    /// The course code.
    pub course: String,
    /// Weekdays with a class, comma-separated: mon,wed,fri.
    #[arg(long, value_delimiter = ',', required = true)]
    pub weekdays: Vec<String>,
    /// Local start time in the course's zone, HH:MM.
    #[arg(long)]
    pub at: String,
    /// Length in minutes.
    #[arg(long, default_value_t = 90)]
    pub duration: u32,
    /// First date of the term.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last date of the term (included).
    #[arg(long)]
    pub until: NaiveDate,
    /// Titles; `{n}` is the session's number.
    #[arg(long, default_value = "Lecture {n}")]
    pub title: String,
    /// Dates without a class (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<NaiveDate>,
    /// The account the events name: an admin, or a teacher of the course.
    #[arg(long, default_value = "admin")]
    pub by: String,
}

/// The timetable the options describe.
fn timetable(args: &ScheduleArgs) -> anyhow::Result<Timetable> {
    let weekdays = args
        .weekdays
        .iter()
        .map(|w| {
            w.trim()
                .parse::<Weekday>()
                .map_err(|_| anyhow::anyhow!("--weekdays: {w:?} is not a weekday (mon ... sun)"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let at = NaiveTime::parse_from_str(args.at.trim(), "%H:%M")
        .with_context(|| format!("--at: expected a time like 09:00, got {:?}", args.at))?;
    Ok(Timetable {
        weekdays,
        at,
        duration_minutes: args.duration,
        first: args.from,
        last: args.until,
        title_pattern: args.title.clone(),
        skip: args.skip.iter().copied().collect(),
    })
}

/// Runs `attendance schedule`.
pub async fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    let course_id = CourseId::parse(args.course.clone()).context("COURSE")?;
    let timetable = timetable(&args)?;
    let pool = startup::database(&args.connections).await?;
    let Some(account) = users::by_username(&pool, &args.by).await? else {
        bail!("--by: no account {:?}", args.by);
    };
    let account = account.view;
    if account.disabled || !matches!(account.role, Role::Admin | Role::Teacher) {
        bail!(
            "--by: {} is not an active admin or teacher",
            account.username
        );
    }
    let stores = Stores::new(&pool);
    let (course, _) = api::app::store::load(&stores.courses, course_id.as_str()).await?;
    if !course.exists() {
        bail!("course {course_id} does not exist");
    }
    if account.role == Role::Teacher && !course.is_taught_by(&account.id) {
        bail!("--by: {} does not teach {course_id}", account.username);
    }
    let meta = CommandMeta {
        actor: Actor {
            user_id: account.id,
            role: account.role,
        },
        request_id: format!("cli-schedule-{}", uuid::Uuid::now_v7().simple()),
        source: Source::Cli,
        course_id: course_id.clone(),
    };
    let done = schedule_term(&stores, &pool, &meta, timetable, Utc::now()).await?;
    let course = &done.committed.aggregate;
    for id in &done.session_ids {
        if let Some(session) = course.sessions.get(id) {
            let local = course.time_zone.show(session.starts_at);
            println!("{id}\t{}\t{}", local.to_rfc3339(), session.title);
        }
    }
    eprintln!(
        "scheduled {} sessions of {course_id} ({})",
        done.session_ids.len(),
        course.time_zone
    );
    for day in &done.closed_days {
        eprintln!("skipped {day}: the institution is closed");
    }
    Ok(())
}
