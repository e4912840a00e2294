//! Fold tests.

use super::{RegisterRow, RegisterView, apply, session_of};
use crate::event::{DomainEvent, ProjectedEvent};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::course::{CourseDetails, CourseEvent};
use domain::register::RegisterEvent;
use domain::{Actor, CourseId, Method, Role, SessionId, Status, StudentId, UserId};
use std::collections::BTreeMap;

// ---------------------------------------------------------------- helpers

const COURSE: &str = "CS101";
const LECTURE: &str = "cs101-l1";
const OTHER: &str = "cs101-l2";
const ALICE: &str = "s-alice";
const BOB: &str = "s-bob";
const CAROL: &str = "s-carol";

/// A time on 1 September 2026.
fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, h, m, 0).unwrap()
}

fn student(id: &str) -> StudentId {
    StudentId::parse(id).unwrap()
}

fn session(id: &str) -> SessionId {
    SessionId::parse(id).unwrap()
}

fn ada() -> Actor {
    Actor {
        user_id: UserId::parse("u-ada").unwrap(),
        role: Role::Teacher,
    }
}

fn grace() -> Actor {
    Actor {
        user_id: UserId::parse("u-grace").unwrap(),
        role: Role::Teacher,
    }
}

/// An event history under construction: every event gets the next global position
/// (10, 20, 30, …) and the next sequence of its aggregate (1, 2, 3, …).
#[derive(Default)]
struct Log {
    events: Vec<ProjectedEvent>,
    sequences: BTreeMap<String, i64>,
}

impl Log {
    /// A created course with alice, bob and carol enrolled, and lecture 1 scheduled for
    /// 1 September 09:00 (course sequences 1 to 5).
    fn scheduled() -> Log {
        let mut log = Log::default();
        log.course(CourseEvent::CourseCreated {
            course_id: CourseId::parse(COURSE).unwrap(),
            details: CourseDetails {
                name: "Introduction to Programming".into(),
                ..CourseDetails::default()
            },
            by: ada(),
            at: t(7, 0),
        });
        for id in [ALICE, BOB, CAROL] {
            log.course(CourseEvent::StudentEnrolled {
                student_id: student(id),
                effective_from: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
                by: ada(),
                at: t(7, 10),
            });
        }
        log.schedule(LECTURE);
        log
    }

    fn push(&mut self, aggregate_type: &str, aggregate_id: &str, event: DomainEvent) -> &mut Log {
        let sequence = self.sequences.entry(aggregate_id.to_string()).or_default();
        *sequence += 1;
        let position = 10 * (self.events.len() as i64 + 1);
        self.events.push(ProjectedEvent {
            aggregate_type: aggregate_type.to_string(),
            aggregate_id: aggregate_id.to_string(),
            sequence: *sequence,
            position,
            course_id: COURSE.to_string(),
            recorded_at: t(7, 0) + chrono::Duration::seconds(position),
            event,
        });
        self
    }

    fn course(&mut self, event: CourseEvent) -> &mut Log {
        self.push("course", COURSE, DomainEvent::Course(event))
    }

    fn register(&mut self, session_id: &str, event: RegisterEvent) -> &mut Log {
        self.push("register", session_id, DomainEvent::Register(event))
    }

    fn schedule(&mut self, session_id: &str) -> &mut Log {
        self.course(CourseEvent::SessionScheduled {
            session_id: session(session_id),
            title: "Lecture 1: Variables".into(),
            starts_at: t(9, 0),
            duration_minutes: 90,
            by: ada(),
            at: t(7, 30),
        })
    }

    fn cancel(&mut self, session_id: &str) -> &mut Log {
        self.course(CourseEvent::SessionCancelled {
            session_id: session(session_id),
            reason: Some("teacher ill".into()),
            by: ada(),
            at: t(8, 0),
        })
    }

    /// Opens the lecture's register with alice, bob and carol.
    fn open(&mut self) -> &mut Log {
        self.register(
            LECTURE,
            RegisterEvent::RegisterOpened {
                session_id: session(LECTURE),
                course_id: CourseId::parse(COURSE).unwrap(),
                starts_at: t(9, 0),
                roster: vec![student(ALICE), student(BOB), student(CAROL)],
                by: ada(),
                at: t(8, 55),
            },
        )
    }

    fn record(&mut self, id: &str, status: Status, remark: Option<&str>) -> &mut Log {
        self.register(
            LECTURE,
            RegisterEvent::AttendanceRecorded {
                student_id: student(id),
                status,
                method: Method::Bulk,
                remark: remark.map(str::to_string),
                by: ada(),
                at: t(9, 5),
            },
        )
    }

    fn correct(&mut self, id: &str, old_status: Status, new_status: Status) -> &mut Log {
        self.register(
            LECTURE,
            RegisterEvent::AttendanceCorrected {
                student_id: student(id),
                old_status,
                new_status,
                reason: "arrived after roll call".into(),
                method: Method::Manual,
                by: grace(),
                at: t(10, 45),
            },
        )
    }

    fn close(&mut self, defaulted_absent: &[&str]) -> &mut Log {
        self.register(
            LECTURE,
            RegisterEvent::RegisterClosed {
                defaulted_absent: defaulted_absent.iter().map(|id| student(id)).collect(),
                by: ada(),
                at: t(10, 30),
            },
        )
    }

    /// Folds the events concerning the lecture (as the projector keys them) into a fresh view.
    fn view(&self) -> RegisterView {
        let mut view = RegisterView::default();
        for event in &self.events {
            if session_of(event).as_deref() == Some(LECTURE) {
                apply(&mut view, event);
            }
        }
        view
    }

    fn last(&self) -> &ProjectedEvent {
        self.events.last().unwrap()
    }
}

// ---------------------------------------------------------------- session_of

#[test]
fn session_of_maps_a_register_event_to_its_aggregate_id() {
    let mut log = Log::scheduled();
    log.open();
    assert_eq!(session_of(log.last()), Some(LECTURE.to_string()));
}

#[test]
fn session_of_maps_session_scheduled_to_its_session_id() {
    let mut log = Log::scheduled();
    log.schedule(OTHER);
    // the aggregate id is the course code, the session is the event's session id
    assert_eq!(log.last().aggregate_id, COURSE);
    assert_eq!(session_of(log.last()), Some(OTHER.to_string()));
}

#[test]
fn session_of_maps_session_cancelled_to_its_session_id() {
    let mut log = Log::scheduled();
    log.cancel(OTHER);
    assert_eq!(session_of(log.last()), Some(OTHER.to_string()));
}

#[test]
fn session_of_ignores_other_course_events() {
    let log = Log::scheduled();
    // course created and three enrolments
    for event in &log.events[..4] {
        assert_eq!(session_of(event), None);
    }
}

// ---------------------------------------------------------------- scheduling

#[test]
fn session_scheduled_creates_the_view() {
    let view = Log::scheduled().view();
    assert_eq!(view.session_id, LECTURE);
    assert_eq!(view.course_id, COURSE);
    assert_eq!(view.title, "Lecture 1: Variables");
    assert_eq!(view.starts_at, Some(t(9, 0)));
    assert_eq!(view.duration_minutes, 90);
    assert!(!view.opened);
    assert!(!view.closed);
    assert!(!view.cancelled);
    assert!(view.rows.is_empty());
}

#[test]
fn course_sequences_do_not_move_the_register_version() {
    let view = Log::scheduled().view();
    // SessionScheduled is course sequence 5; no register event yet -> version 0
    assert_eq!(view.version, 0);
}

// ---------------------------------------------------------------- opening

#[test]
fn register_opened_adds_an_unmarked_row_per_roster_student() {
    let mut log = Log::scheduled();
    log.open();
    let view = log.view();
    assert!(view.opened);
    let students: Vec<&str> = view.rows.keys().map(String::as_str).collect();
    assert_eq!(students, [ALICE, BOB, CAROL]);
    for row in view.rows.values() {
        assert_eq!(row, &RegisterRow::default());
    }
}

// ---------------------------------------------------------------- recording

#[test]
fn attendance_recorded_fills_the_row() {
    let mut log = Log::scheduled();
    log.open().record(ALICE, Status::Late, Some("bus was late"));
    let view = log.view();
    assert_eq!(
        view.rows[ALICE],
        RegisterRow {
            status: Some(Status::Late),
            method: Some(Method::Bulk),
            recorded_by: Some("u-ada".into()),
            recorded_at: Some(t(9, 5)),
            remark: Some("bus was late".into()),
            corrected: false,
            correction_reason: None,
            held_for_review: None,
            removed: false,
        }
    );
    // the other rows stay unmarked
    assert_eq!(view.rows[BOB], RegisterRow::default());
}

// ---------------------------------------------------------------- correcting

#[test]
fn attendance_corrected_sets_the_new_status_and_reason_keeping_the_remark() {
    let mut log = Log::scheduled();
    log.open()
        .record(BOB, Status::Absent, Some("no sign-in"))
        .correct(BOB, Status::Absent, Status::Late);
    let view = log.view();
    assert_eq!(
        view.rows[BOB],
        RegisterRow {
            status: Some(Status::Late),
            method: Some(Method::Manual),
            recorded_by: Some("u-grace".into()),
            recorded_at: Some(t(10, 45)),
            remark: Some("no sign-in".into()),
            corrected: true,
            correction_reason: Some("arrived after roll call".into()),
            held_for_review: None,
            removed: false,
        }
    );
}

// ---------------------------------------------------------------- closing

#[test]
fn register_closed_marks_defaulted_students_absent_by_closing() {
    let mut log = Log::scheduled();
    log.open()
        .record(ALICE, Status::Present, None)
        .close(&[BOB, CAROL]);
    let view = log.view();
    assert!(view.closed);
    for id in [BOB, CAROL] {
        let row = &view.rows[id];
        assert_eq!(row.status, Some(Status::Absent));
        assert_eq!(row.method, Some(Method::Close));
        assert_eq!(row.recorded_by.as_deref(), Some("u-ada"));
        assert_eq!(row.recorded_at, Some(t(10, 30)));
        assert!(!row.corrected);
    }
}

#[test]
fn register_closed_leaves_marked_students_alone() {
    let mut log = Log::scheduled();
    log.open()
        .record(ALICE, Status::Present, None)
        .close(&[BOB, CAROL]);
    let alice = &log.view().rows[ALICE];
    assert_eq!(alice.status, Some(Status::Present));
    assert_eq!(alice.method, Some(Method::Bulk));
    assert_eq!(alice.recorded_at, Some(t(9, 5)));
}

// ---------------------------------------------------------------- cancelling, version

#[test]
fn session_cancelled_sets_cancelled() {
    let mut log = Log::scheduled();
    log.cancel(LECTURE);
    let view = log.view();
    assert!(view.cancelled);
    // the rest of the view stays as scheduled
    assert_eq!(view.title, "Lecture 1: Variables");
}

#[test]
fn another_session_cancelled_does_not_touch_this_view() {
    let mut log = Log::scheduled();
    log.schedule(OTHER).cancel(OTHER);
    assert!(!log.view().cancelled);
}

#[test]
fn version_follows_the_register_sequence() {
    let mut log = Log::scheduled();
    log.open()
        .record(ALICE, Status::Present, None)
        .record(BOB, Status::Late, None);
    // opened (1), alice (2), bob (3)
    assert_eq!(log.view().version, 3);
    log.correct(BOB, Status::Late, Status::Present)
        .close(&[CAROL])
        // course sequence 6: not the register's
        .cancel(LECTURE);
    // corrected (4), closed (5); the cancellation leaves it at 5
    assert_eq!(log.view().version, 5);
}

#[test]
fn position_is_the_last_position_applied() {
    let mut log = Log::scheduled();
    log.open().record(ALICE, Status::Present, None);
    // 5 course events + opened + recorded = 7 events -> 70
    assert_eq!(log.last().position, 70);
    assert_eq!(log.view().position, 70);
}

#[test]
fn folding_the_same_events_twice_gives_equal_views() {
    let mut log = Log::scheduled();
    log.open()
        .record(ALICE, Status::Present, Some("front row"))
        .correct(ALICE, Status::Present, Status::Late)
        .close(&[BOB, CAROL]);
    assert_eq!(log.view(), log.view());
}
