//! The group-commit event writer: commands that wait together share one statement, each
//! stays all or nothing, a key or a guard refuses only its own command, a lost connection is
//! replaced; and a register command decided on a course that another process changed is
//! decided again on the course read afresh.

use crate::helpers::{
    TestApp, expect_json, expect_problem, fresh_database_name, postgres_base, wait_until,
};
use api::app::store::{self, CommandMeta, Source, Stores};
use api::app::writer::{EventWriter, Guard, NewEvent, NewEvents, Written};
use chrono::Utc;
use domain::course::CourseCommand;
use domain::{Actor, CourseId, Role, SessionId, UserId};
use event_store::db::{self, PoolSettings};
use futures::future::join_all;
use reqwest::StatusCode;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A migrated database of its own, with no application on it.
async fn database() -> PgPool {
    let url = format!("{}/{}", postgres_base(), fresh_database_name());
    db::prepare(&url, PoolSettings::default())
        .await
        .expect("Postgres is required and must accept a new database")
}

/// `count` events of one aggregate, from `first` on.
fn command(aggregate_type: &str, id: &str, first: usize, count: usize) -> NewEvents {
    NewEvents {
        aggregate_type: aggregate_type.to_string(),
        aggregate_id: id.to_string(),
        first_sequence: first,
        events: (0..count)
            .map(|n| NewEvent {
                event_type: "Noted".to_string(),
                event_version: "1".to_string(),
                payload: format!(r#"{{"n": {n}}}"#),
            })
            .collect(),
        metadata: r#"{"source": "test"}"#.to_string(),
    }
}

/// Holds an exclusive lock on the event table: every insert waits until it is dropped.
async fn lock_events(pool: &PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    lock
}

/// Global positions of an aggregate's events, in sequence order.
async fn positions(pool: &PgPool, aggregate_type: &str, id: &str) -> Vec<(i64, i64)> {
    sqlx::query_as(
        "SELECT sequence, global_position FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(id)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Submits every command at once (each from its own task) while the table is locked, waits
/// until the writer holds all of them, then lets them through; the answers in order.
async fn submit_together(
    pool: &PgPool,
    writer: &Arc<EventWriter>,
    commands: Vec<(NewEvents, Option<Guard>)>,
) -> Vec<Written> {
    let count = commands.len() as u64;
    let lock = lock_events(pool).await;
    let tasks: Vec<_> = commands
        .into_iter()
        .map(|(events, guard)| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.write(events, guard).await })
        })
        .collect();
    wait_until(Duration::from_secs(10), || async {
        writer.stats().pending == count
    })
    .await;
    lock.rollback().await.unwrap();
    join_all(tasks)
        .await
        .into_iter()
        .map(|t| t.expect("task").expect("written"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_waiting_together_share_statements_and_each_gets_its_own_positions() {
    let pool = database().await;
    let writer = Arc::new(EventWriter::new(&pool));
    let commands = (0..60)
        .map(|n| (command("register", &format!("R{n}"), 1, 3), None))
        .collect();
    let answers = submit_together(&pool, &writer, commands).await;

    let stats = writer.stats();
    assert_eq!(stats.commands, 60, "{stats:?}");
    assert!(
        stats.statements < stats.commands,
        "commands that waited together shared statements: {stats:?}"
    );
    assert_eq!(stats.pending, 0);
    let mut all = Vec::new();
    for (n, answer) in answers.iter().enumerate() {
        let stored = positions(&pool, "register", &format!("R{n}")).await;
        let sequences: Vec<i64> = stored.iter().map(|(s, _)| *s).collect();
        assert_eq!(sequences, [1, 2, 3], "R{n}: all three events, once");
        assert!(
            stored.windows(2).all(|w| w[0].1 < w[1].1),
            "R{n}: positions follow sequences: {stored:?}"
        );
        assert_eq!(
            *answer,
            Written::Stored(stored[2].1),
            "R{n}: the answer names its last event's position"
        );
        all.extend(stored.iter().map(|(_, p)| *p));
    }
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 180, "every event has a position of its own");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_or_a_guard_refuses_only_its_own_command_in_a_shared_statement() {
    let pool = database().await;
    let writer = Arc::new(EventWriter::new(&pool));
    for setup in [
        command("register", "TAKEN", 1, 1),
        command("course", "C1", 1, 2),
    ] {
        assert!(matches!(
            writer.write(setup, None).await.unwrap(),
            Written::Stored(_)
        ));
    }
    let guard = |version| {
        Some(Guard {
            aggregate_type: "course",
            aggregate_id: "C1".to_string(),
            version,
        })
    };
    let mut commands = vec![
        // Sequence 1 of TAKEN is stored already: another process wrote it.
        (command("register", "TAKEN", 1, 2), None),
        // Decided on the course at version 1; it has 2 events.
        (command("register", "STALE", 1, 2), guard(1)),
        // Decided on the course as it is.
        (command("register", "CURRENT", 1, 2), guard(2)),
    ];
    commands.extend((0..20).map(|n| (command("register", &format!("OK{n}"), 1, 2), None)));
    let answers = submit_together(&pool, &writer, commands).await;

    assert_eq!(answers[0], Written::Conflict, "the key refuses TAKEN");
    assert_eq!(answers[1], Written::Stale, "the guard refuses STALE");
    let taken = positions(&pool, "register", "TAKEN").await;
    assert_eq!(
        taken.len(),
        1,
        "none of the refused command's events: {taken:?}"
    );
    assert!(positions(&pool, "register", "STALE").await.is_empty());
    for (n, id) in ["CURRENT".to_string()]
        .into_iter()
        .chain((0..20).map(|n| format!("OK{n}")))
        .enumerate()
    {
        let stored = positions(&pool, "register", &id).await;
        assert_eq!(stored.len(), 2, "{id}: both events");
        assert_eq!(answers[n + 2], Written::Stored(stored[1].1), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_connection_is_replaced_and_nothing_is_written_twice() {
    let pool = database().await;
    let writer = EventWriter::new(&pool);
    writer
        .write(command("register", "A", 1, 1), None)
        .await
        .unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'attendance-event-writer' AND datname = current_database()",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!killed.is_empty(), "the writer's connection was found");
    for sequence in 2..=6 {
        let written = writer
            .write(command("register", "A", sequence, 1), None)
            .await;
        assert!(
            matches!(written, Ok(Written::Stored(_))),
            "event {sequence} after the connection was killed: {written:?}"
        );
    }
    let sequences: Vec<i64> = positions(&pool, "register", "A")
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(sequences, [1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn an_unreachable_database_is_an_io_error_for_every_waiting_command() {
    // A pool on a port nothing listens on; it never connects.
    let options = sqlx::postgres::PgConnectOptions::new()
        .host("127.0.0.1")
        .port(9)
        .username("postgres");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy_with(options);
    let writer = Arc::new(EventWriter::new(&pool));
    let answers = join_all((0..5).map(|n| {
        let writer = writer.clone();
        async move {
            writer
                .write(command("register", &format!("X{n}"), 1, 1), None)
                .await
        }
    }))
    .await;
    for answer in answers {
        assert!(
            matches!(answer, Err(sqlx::Error::Io(_))),
            "the API answers 503 for an I/O error: {answer:?}"
        );
    }
    assert_eq!(writer.stats().pending, 0);
}

/// A writer of the same database with caches of its own: what another `attendance` process
/// (the CLI, a second server) is to the application under test.
async fn other_process_runs(app: &TestApp, command: CourseCommand) {
    let stores = Stores::new(&app.pool);
    let meta = CommandMeta {
        actor: admin(),
        request_id: "other-process".to_string(),
        source: Source::Cli,
        course_id: CourseId::parse("CS101").unwrap(),
    };
    store::execute(&stores.courses, "CS101", &meta, |_| {
        Ok(vec![command.clone()])
    })
    .await
    .expect("the other process's command");
}

fn admin() -> Actor {
    Actor {
        user_id: UserId::parse("other-admin").unwrap(),
        role: Role::Admin,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mark_is_decided_on_the_course_as_another_process_left_it() {
    let app = TestApp::spawn().await;
    let first = app.course_with_session().await;
    let second = app
        .schedule("CS101", "Lecture 2", "2026-09-08T09:00:00Z")
        .await;
    let (_, ada) = app.teacher_of("ada", "CS101").await;
    // The application now knows the course: it decides marks on what it knows.
    expect_json(
        app.record(&ada, &first, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;

    // Another process cancels the second session: the mark is refused, not recorded.
    cancelled_elsewhere_refuses(&app, &ada, &second).await;
    assert!(app.events_of("register", &second).await.is_empty());

    // Another process assigns a teacher the application has not seen yet: their mark is
    // accepted once the course is read afresh.
    let (bob_id, bob) = app.create_user("bob", "teacher", None).await;
    other_process_runs(
        &app,
        CourseCommand::AssignTeacher {
            teacher: UserId::parse(bob_id).unwrap(),
            by: admin(),
            at: Utc::now(),
        },
    )
    .await;
    let done = expect_json(
        app.record(&bob, &first, "S2", "late").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(done["changed"], true, "{done}");

    // Another process enrols a student: the next register opened has them on its roster
    // (the open was guarded on the course's version and redone on the fresh course).
    app.create_student("S9", "New Student").await;
    let third = app
        .schedule("CS101", "Lecture 3", "2026-09-09T09:00:00Z")
        .await;
    other_process_runs(
        &app,
        CourseCommand::EnrollStudent {
            student_id: domain::StudentId::parse("S9").unwrap(),
            effective_from: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            by: admin(),
            at: Utc::now(),
        },
    )
    .await;
    expect_json(
        app.record(&ada, &third, "S9", "present").await,
        StatusCode::CREATED,
    )
    .await;
    let roster: HashMap<String, serde_json::Value> = app.session_view(&ada, &third).await["roster"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["student_id"].as_str().unwrap().to_string(),
                r["status"].clone(),
            )
        })
        .collect();
    assert_eq!(roster.len(), 4, "S1 to S3 and S9: {roster:?}");
    assert_eq!(roster["S9"], "present");

    // S1 is present on the first session already: the same mark changes nothing and writes
    // nothing, so no guard checks the course; it is still refused once another process has
    // cancelled the session.
    cancelled_elsewhere_refuses(&app, &ada, &first).await;
}

/// Another process cancels `session`; then S1 marked present there is refused as cancelled.
async fn cancelled_elsewhere_refuses(app: &TestApp, teacher: &str, session: &str) {
    other_process_runs(
        app,
        CourseCommand::CancelSession {
            session_id: SessionId::parse(session.to_string()).unwrap(),
            reason: None,
            by: admin(),
            at: Utc::now(),
        },
    )
    .await;
    expect_problem(
        app.record(teacher, session, "S1", "present").await,
        StatusCode::CONFLICT,
        "session_cancelled",
    )
    .await;
}
