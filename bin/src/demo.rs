//! `attendance demo`: a small, realistic data set so a newcomer sees something at once:
//! three courses with a teacher each, 60 students (some with non-ASCII names), six weeks of
//! sessions with roll calls, a few late enrolments, absences and corrections.
//!
//! The data is the same on every run: the term starts on [`TERM_START`] whatever today is, and
//! the statuses come from a fixed seed, so the README can describe what a newcomer will see.
//! Its ids (students `S1001`-`S1060`, courses `CS101`, `MATH201`, `PHYS110`) are not the ones
//! the README's walkthrough creates, so the two can be run one after the other.

use crate::config::Connections;
use crate::startup;
use anyhow::{Context, bail};
use api::app::store::{self, CommandMeta, Source};
use api::auth::changes::ChangedBy;
use api::auth::users;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::course::{Course, CourseCommand, CourseDetails};
use domain::register::{Register, RegisterCommand, RollCallMark};
use domain::{Actor, CourseId, Role, SessionId, Status, StudentId, UserId};
use rand::distr::Alphanumeric;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;

/// Options of `attendance demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Database.
    #[command(flatten)]
    pub connections: Connections,
    /// Password for every demo account (default: a random one, printed).
    #[arg(long, env = "ATTENDANCE_DEMO_PASSWORD", hide_env_values = true)]
    pub password: Option<crate::config::Secret>,
}

const FIRST: [&str; 20] = [
    "Amara", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gabriel", "Hana", "Ibrahim", "Jonas",
    "Kenji", "Léa", "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rania", "Søren", "Zoë",
];
const LAST: [&str; 15] = [
    "Okafor", "Müller", "Ñúñez", "Haddad", "Tanaka", "Kowalski", "Silva", "Dubois", "O'Brien",
    "Nguyen", "Petrov", "Rossi", "Yılmaz", "Andersen", "Mensah",
];
const SPECIAL: [(&str, &str); 3] = [
    ("S1013", "محمد العلي"),
    ("S1027", "李小龙"),
    ("S1044", "Zoë Ñúñez"),
];

struct DemoCourse {
    code: &'static str,
    name: &'static str,
    department: &'static str,
    teacher: &'static str,
    students: fn(u32) -> bool,
}

const COURSES: [DemoCourse; 3] = [
    DemoCourse {
        code: "CS101",
        name: "Introduction to Programming",
        department: "Computer Science",
        teacher: "ada.lovelace",
        students: |n| n <= 40,
    },
    DemoCourse {
        code: "MATH201",
        name: "Linear Algebra",
        department: "Mathematics",
        teacher: "emmy.noether",
        students: |n| n > 20,
    },
    DemoCourse {
        code: "PHYS110",
        name: "Mechanics",
        department: "Physics",
        teacher: "lise.meitner",
        students: |n| n % 2 == 0,
    },
];

const WEEKS: i64 = 6;

/// The Monday the demo's term starts (sessions on Mondays and Thursdays for [`WEEKS`] weeks).
pub const TERM_START: NaiveDate = NaiveDate::from_ymd_opt(2026, 9, 7).expect("a valid date");

/// The seed of the demo's statuses: the same marks on every run.
const SEED: u64 = 2026;

/// Loads the demo data into the configured database.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let pool = startup::database(&args.connections).await?;
    if !event_store::event_log::course_ids(&pool).await?.is_empty() {
        bail!("the database already has courses; run the demo on an empty database");
    }
    let password = args
        .password
        .map(|p| p.expose().to_string())
        .unwrap_or_else(|| {
            rand::rng()
                .sample_iter(&Alphanumeric)
                .take(16)
                .map(char::from)
                .collect()
        });
    let actor = administrator(&pool).await?;
    create_students(&pool).await?;
    let s1001 = StudentId::parse("S1001")?;
    let account = |username, role, student_id| users::NewAccount {
        username,
        password: password.clone(),
        role,
        student_id,
        must_change_password: false,
        email: None,
    };
    let by = ChangedBy::cli();
    users::create(&pool, account("s1001", Role::Student, Some(&s1001)), &by).await?;
    let term_start = TERM_START;
    let mut rng = StdRng::seed_from_u64(SEED);
    for (index, course) in COURSES.iter().enumerate() {
        let teacher =
            users::create(&pool, account(course.teacher, Role::Teacher, None), &by).await?;
        let id = CourseId::parse(course.code)?;
        let meta = CommandMeta {
            actor: actor.clone(),
            request_id: format!("demo-{}", course.code),
            source: Source::Cli,
            course_id: id.clone(),
        };
        let mut commands = setup_commands(course, &id, teacher.id.clone(), term_start, &actor);
        let sessions = session_commands(&actor, term_start, &mut commands);
        // The course's teacher takes the roll calls, as in a real term.
        let teacher = Actor {
            user_id: teacher.id,
            role: Role::Teacher,
        };
        let all = commands;
        let done = store::execute(
            &store::Stores::new(&pool).courses,
            id.as_str(),
            &meta,
            |_| Ok(all.clone()),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        for (n, session_id) in sessions.iter().enumerate() {
            take_attendance(
                &pool,
                &meta,
                &done.aggregate,
                session_id,
                &teacher,
                &mut rng,
            )
            .await?;
            eprint!(
                "\rdemo: course {}/{} session {}/{}   ",
                index + 1,
                COURSES.len(),
                n + 1,
                sessions.len()
            );
        }
    }
    eprintln!();
    println!(
        "demo data loaded: {} courses, 60 students, {} sessions each",
        COURSES.len(),
        WEEKS * 2
    );
    println!(
        "accounts (password `{password}`): ada.lovelace, emmy.noether, lise.meitner (teachers), s1001 (student)"
    );
    Ok(())
}

/// The first administrator, who sets the courses up: every event names a real account, so
/// `recorded_by` resolves to a username like any other.
pub(crate) async fn administrator(pool: &PgPool) -> anyhow::Result<Actor> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY created_at LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .context("looking up the administrator")?;
    let Some(id) = id else {
        bail!(
            "no administrator yet: start `attendance serve` once (it creates `admin`), then load the demo"
        );
    };
    Ok(Actor {
        user_id: UserId::parse(id)?,
        role: Role::Admin,
    })
}

fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    day.and_hms_opt(hour, 0, 0).expect("valid time").and_utc()
}

fn student_name(n: u32) -> String {
    let id = format!("S{}", 1000 + n);
    if let Some((_, name)) = SPECIAL.iter().find(|(sid, _)| *sid == id) {
        return name.to_string();
    }
    format!(
        "{} {}",
        FIRST[(n as usize * 7) % FIRST.len()],
        LAST[(n as usize * 11) % LAST.len()]
    )
}

async fn create_students(pool: &PgPool) -> anyhow::Result<()> {
    for n in 1..=60u32 {
        let name = student_name(n);
        let email = format!("s{}@students.example.edu", 1000 + n);
        sqlx::query("INSERT INTO students (id, name, email, level) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(format!("S{}", 1000 + n))
            .bind(name)
            .bind(email)
            .bind(if n % 2 == 0 { "L1" } else { "L2" })
            .execute(pool)
            .await
            .context("creating demo students")?;
    }
    Ok(())
}

fn setup_commands(
    course: &DemoCourse,
    id: &CourseId,
    teacher: UserId,
    start: NaiveDate,
    actor: &Actor,
) -> Vec<CourseCommand> {
    let now = Utc::now();
    let details = CourseDetails {
        name: course.name.into(),
        department: Some(course.department.into()),
        credits: Some(6),
        semester: Some("2026-fall".into()),
    };
    let mut commands = vec![
        CourseCommand::CreateCourse {
            course_id: id.clone(),
            details,
            time_zone: domain::Zone::UTC,
            by: actor.clone(),
            at: now,
        },
        CourseCommand::AssignTeacher {
            teacher,
            by: actor.clone(),
            at: now,
        },
    ];
    for n in (1..=60u32).filter(|n| (course.students)(*n)) {
        // Two students of each course join in week three.
        let late_joiner = n % 19 == 0;
        let effective_from = if late_joiner {
            start + Duration::weeks(2)
        } else {
            start
        };
        let student_id = StudentId::parse(format!("S{}", 1000 + n)).expect("valid id");
        commands.push(CourseCommand::EnrollStudent {
            student_id,
            effective_from,
            by: actor.clone(),
            at: now,
        });
    }
    commands
}

/// Adds two sessions a week (Monday 09:00 and Thursday 14:00 UTC) and returns their ids.
fn session_commands(
    actor: &Actor,
    start: NaiveDate,
    commands: &mut Vec<CourseCommand>,
) -> Vec<SessionId> {
    let mut ids = Vec::new();
    for week in 0..WEEKS {
        for (offset, hour) in [(0, 9), (3, 14)] {
            let session_id =
                SessionId::parse(uuid::Uuid::now_v7().simple().to_string()).expect("valid id");
            let day = start + Duration::weeks(week) + Duration::days(offset);
            commands.push(CourseCommand::ScheduleSession {
                session_id: session_id.clone(),
                title: format!("Lecture {}", ids.len() + 1),
                starts_at: at(day, hour),
                duration_minutes: 90,
                by: actor.clone(),
                at: Utc::now(),
            });
            ids.push(session_id);
        }
    }
    ids
}

fn pick_status(student: &StudentId, rng: &mut impl Rng) -> Status {
    // A few students struggle; most attend.
    let struggling = ["S1005", "S1017", "S1033", "S1050"].contains(&student.as_str());
    let roll: f64 = rng.random();
    match (struggling, roll) {
        (true, r) if r < 0.45 => Status::Absent,
        (_, r) if r < 0.05 => Status::Absent,
        (_, r) if r < 0.11 => Status::Late,
        (_, r) if r < 0.14 => Status::Excused,
        _ => Status::Present,
    }
}

async fn take_attendance(
    pool: &PgPool,
    meta: &CommandMeta,
    course: &Course,
    session_id: &SessionId,
    actor: &Actor,
    rng: &mut impl Rng,
) -> anyhow::Result<()> {
    let session = &course.sessions[session_id];
    let roster = course.roster_on(course.day_of(session.starts_at));
    let taken_at = session.starts_at + Duration::minutes(10);
    let mut marks = Vec::with_capacity(roster.len());
    for student in &roster {
        // A few are left unmarked and defaulted to absent on close.
        if rng.random::<f64>() > 0.03 {
            marks.push(RollCallMark {
                student_id: student.clone(),
                status: pick_status(student, rng),
                remark: None,
            });
        }
    }
    let mut commands = vec![
        RegisterCommand::OpenRegister {
            session_id: session_id.clone(),
            course_id: meta.course_id.clone(),
            starts_at: session.starts_at,
            roster: roster.clone(),
            by: actor.clone(),
            at: taken_at,
        },
        RegisterCommand::RecordRollCall {
            marks: marks.clone(),
            only_unmarked: false,
            by: actor.clone(),
            at: taken_at,
        },
        RegisterCommand::CloseRegister {
            by: actor.clone(),
            at: taken_at + Duration::hours(2),
        },
    ];
    // Now and then a student brings a note the next day.
    if let Some(absent) = marks
        .iter()
        .find(|m| m.status == Status::Absent)
        .filter(|_| rng.random::<f64>() < 0.3)
    {
        commands.push(RegisterCommand::CorrectAttendance {
            student_id: absent.student_id.clone(),
            status: Status::Excused,
            reason: "medical certificate".into(),
            method: domain::Method::Manual,
            by: actor.clone(),
            at: taken_at + Duration::days(1),
        });
    }
    let stores = store::Stores::new(pool);
    store::execute::<Register, _>(&stores.registers, session_id.as_str(), meta, |_| {
        Ok(commands.clone())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
