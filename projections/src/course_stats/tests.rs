//! Fold tests.

use super::{CourseStats, apply};
use crate::event::{DomainEvent, ProjectedEvent};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::Status::{Absent, Excused, Late, Present};
use domain::course::{CourseDetails, CourseEvent};
use domain::register::RegisterEvent;
use domain::{
    Actor, AttendancePolicy, CourseId, Method, Role, SessionId, Status, StudentId, Tally, UserId,
};
use std::collections::BTreeMap;

mod calendar;

// ---------------------------------------------------------------- helpers

const COURSE: &str = "CS101";
const ALICE: &str = "s-alice";
const BOB: &str = "s-bob";
const CAROL: &str = "s-carol";
const DAVE: &str = "s-dave";

/// A day of September 2026.
fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, d).unwrap()
}

/// A time on a day of September 2026.
fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, d, h, 0, 0).unwrap()
}

/// The day the figures are read: after every session of the tests.
fn today() -> NaiveDate {
    day(30)
}

/// The id of session `n`.
fn session(n: u32) -> String {
    format!("cs101-s{n}")
}

fn student(id: &str) -> StudentId {
    StudentId::parse(id).unwrap()
}

fn teacher() -> Actor {
    Actor {
        user_id: UserId::parse("u-ada").unwrap(),
        role: Role::Teacher,
    }
}

fn tally(present: u32, late: u32, excused: u32, absent: u32) -> Tally {
    Tally {
        present,
        late,
        excused,
        absent,
    }
}

/// A course's event history under construction: every event gets the next global position
/// (10, 20, 30, …) and the next sequence of its aggregate (1, 2, 3, …).
#[derive(Default)]
struct Log {
    events: Vec<ProjectedEvent>,
    sequences: BTreeMap<String, i64>,
    /// The day each session (by number) is scheduled on.
    days: BTreeMap<u32, u32>,
}

impl Log {
    /// A created course with no student and no session.
    fn course() -> Log {
        let mut log = Log::default();
        log.course_event(CourseEvent::CourseCreated {
            course_id: CourseId::parse(COURSE).unwrap(),
            details: CourseDetails {
                name: "Introduction to Programming".into(),
                ..CourseDetails::default()
            },
            by: teacher(),
            at: at(1, 8),
        });
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
            recorded_at: at(1, 0) + chrono::Duration::seconds(position),
            event,
        });
        self
    }

    fn course_event(&mut self, event: CourseEvent) -> &mut Log {
        self.push("course", COURSE, DomainEvent::Course(event))
    }

    fn register_event(&mut self, n: u32, event: RegisterEvent) -> &mut Log {
        self.push("register", &session(n), DomainEvent::Register(event))
    }

    /// Enrols a student from a day of September (inclusive).
    fn enrol(&mut self, id: &str, from: u32) -> &mut Log {
        self.course_event(CourseEvent::StudentEnrolled {
            student_id: student(id),
            effective_from: day(from),
            by: teacher(),
            at: at(1, 8),
        })
    }

    /// Unenrols a student from a day of September on (that day no longer enrolled).
    fn unenrol(&mut self, id: &str, from: u32) -> &mut Log {
        self.course_event(CourseEvent::StudentUnenrolled {
            student_id: student(id),
            effective_from: day(from),
            by: teacher(),
            at: at(from, 8),
        })
    }

    /// Schedules session `n` on September `n`, 09:00.
    fn schedule(&mut self, n: u32) -> &mut Log {
        self.schedule_on(n, n)
    }

    /// Schedules session `n` on September `d`, 09:00.
    fn schedule_on(&mut self, n: u32, d: u32) -> &mut Log {
        self.days.insert(n, d);
        self.course_event(CourseEvent::SessionScheduled {
            session_id: SessionId::parse(session(n)).unwrap(),
            title: format!("Lecture {n}"),
            starts_at: at(d, 9),
            duration_minutes: 90,
            by: teacher(),
            at: at(1, 8),
        })
    }

    fn cancel(&mut self, n: u32) -> &mut Log {
        self.course_event(CourseEvent::SessionCancelled {
            session_id: SessionId::parse(session(n)).unwrap(),
            reason: Some("teacher ill".into()),
            by: teacher(),
            at: at(1, 8),
        })
    }

    fn policy(&mut self, policy: AttendancePolicy) -> &mut Log {
        self.course_event(CourseEvent::AttendancePolicyChanged {
            policy,
            by: teacher(),
            at: at(28, 8),
        })
    }

    fn open(&mut self, n: u32, roster: &[&str]) -> &mut Log {
        let d = self.days[&n];
        self.register_event(
            n,
            RegisterEvent::RegisterOpened {
                session_id: SessionId::parse(session(n)).unwrap(),
                course_id: CourseId::parse(COURSE).unwrap(),
                starts_at: at(d, 9),
                roster: roster.iter().map(|id| student(id)).collect(),
                by: teacher(),
                at: at(d, 9),
            },
        )
    }

    fn record(&mut self, n: u32, id: &str, status: Status) -> &mut Log {
        let d = self.days[&n];
        self.register_event(
            n,
            RegisterEvent::AttendanceRecorded {
                student_id: student(id),
                status,
                method: Method::Manual,
                remark: None,
                by: teacher(),
                at: at(d, 10),
            },
        )
    }

    fn correct(&mut self, n: u32, id: &str, old_status: Status, new_status: Status) -> &mut Log {
        let d = self.days[&n];
        self.register_event(
            n,
            RegisterEvent::AttendanceCorrected {
                student_id: student(id),
                old_status,
                new_status,
                reason: "wrong row".into(),
                method: Method::Manual,
                by: teacher(),
                at: at(d, 12),
            },
        )
    }

    fn close(&mut self, n: u32, defaulted_absent: &[&str]) -> &mut Log {
        let d = self.days[&n];
        self.register_event(
            n,
            RegisterEvent::RegisterClosed {
                defaulted_absent: defaulted_absent.iter().map(|id| student(id)).collect(),
                by: teacher(),
                at: at(d, 11),
            },
        )
    }

    /// Opens session `n` with the marked students as roster and records each mark.
    fn take(&mut self, n: u32, marks: &[(&str, Status)]) -> &mut Log {
        let roster: Vec<&str> = marks.iter().map(|(id, _)| *id).collect();
        self.open(n, &roster);
        for (id, status) in marks {
            self.record(n, id, *status);
        }
        self
    }

    /// Folds every event into a fresh model.
    fn fold(&self) -> CourseStats {
        let mut stats = CourseStats::default();
        for event in &self.events {
            apply(&mut stats, event);
        }
        stats
    }
}

/// Alice, Bob, Carol and Dave, enrolled from 1 September, and five sessions (1–5 September):
///
/// | session | alice   | bob    | carol   | dave    |
/// |---------|---------|--------|---------|---------|
/// | 1       | present | present| present | present |
/// | 2       | present | absent | present | present |
/// | 3       | late    | absent | present | present |
/// | 4       | present | late   | present | absent  |
/// | 5       | absent  | absent | excused | excused |
fn small_course() -> Log {
    let mut log = Log::course();
    for id in [ALICE, BOB, CAROL, DAVE] {
        log.enrol(id, 1);
    }
    for n in 1..=5 {
        log.schedule(n);
    }
    log.take(
        1,
        &[
            (ALICE, Present),
            (BOB, Present),
            (CAROL, Present),
            (DAVE, Present),
        ],
    )
    .take(
        2,
        &[
            (ALICE, Present),
            (BOB, Absent),
            (CAROL, Present),
            (DAVE, Present),
        ],
    )
    .take(
        3,
        &[
            (ALICE, Late),
            (BOB, Absent),
            (CAROL, Present),
            (DAVE, Present),
        ],
    )
    .take(
        4,
        &[
            (ALICE, Present),
            (BOB, Late),
            (CAROL, Present),
            (DAVE, Absent),
        ],
    )
    .take(
        5,
        &[
            (ALICE, Absent),
            (BOB, Absent),
            (CAROL, Excused),
            (DAVE, Excused),
        ],
    );
    log
}

/// Alice alone, enrolled from 1 September, with sessions 1..=`sessions` scheduled.
fn alice_course(sessions: u32) -> Log {
    let mut log = Log::course();
    log.enrol(ALICE, 1);
    for n in 1..=sessions {
        log.schedule(n);
    }
    log
}

// ---------------------------------------------------------------- course

#[test]
fn course_created_sets_the_course_code_and_name() {
    let stats = Log::course().fold();
    assert_eq!(stats.course_id, COURSE);
    assert_eq!(stats.name, "Introduction to Programming");
}

// ---------------------------------------------------------------- counts, rate, risk

#[test]
fn every_student_is_tallied_per_status_over_the_course() {
    let stats = small_course().fold();
    // alice: P P L P A -> 3 present, 1 late, 0 excused, 1 absent.
    assert_eq!(stats.student(ALICE, today()).tally, tally(3, 1, 0, 1));
    // bob: P A A L A -> 1 present, 1 late, 0 excused, 3 absent.
    assert_eq!(stats.student(BOB, today()).tally, tally(1, 1, 0, 3));
    // carol: P P P P E -> 4 present, 0 late, 1 excused, 0 absent.
    assert_eq!(stats.student(CAROL, today()).tally, tally(4, 0, 1, 0));
    // dave: P P P A E -> 3 present, 0 late, 1 excused, 1 absent.
    assert_eq!(stats.student(DAVE, today()).tally, tally(3, 0, 1, 1));
}

#[test]
fn rates_follow_the_default_policy() {
    let stats = small_course().fold();
    // (3*1 + 1*1 + 1*0) / 5 = 80 %
    assert_eq!(stats.student(ALICE, today()).rate, Some(80.0));
    // (1*1 + 1*1 + 3*0) / 5 = 40 %
    assert_eq!(stats.student(BOB, today()).rate, Some(40.0));
    // (4*1) / 4 = 100 %, the excused mark not counted
    assert_eq!(stats.student(CAROL, today()).rate, Some(100.0));
    // (3*1 + 1*0) / 4 = 75 %, the excused mark not counted
    assert_eq!(stats.student(DAVE, today()).rate, Some(75.0));
}

#[test]
fn only_students_strictly_below_75_percent_are_at_risk() {
    let stats = small_course().fold();
    // 80 % >= 75 %
    assert!(!stats.student(ALICE, today()).at_risk);
    // 40 % < 75 %
    assert!(stats.student(BOB, today()).at_risk);
    // 100 % >= 75 %
    assert!(!stats.student(CAROL, today()).at_risk);
    // 75 % is not below 75 %
    assert!(!stats.student(DAVE, today()).at_risk);
}

#[test]
fn students_lists_every_enrolled_student_by_number() {
    let ids: Vec<String> = small_course()
        .fold()
        .students(today())
        .into_iter()
        .map(|figures| figures.student_id)
        .collect();
    assert_eq!(ids, [ALICE, BOB, CAROL, DAVE]);
}

#[test]
fn a_student_without_a_counted_mark_has_no_rate_and_is_not_at_risk() {
    let mut log = alice_course(2);
    log.take(1, &[(ALICE, Excused)]);
    let figures = log.fold().student(ALICE, today());
    // only an excused mark: 0 counted marks -> no rate
    assert_eq!(figures.tally, tally(0, 0, 1, 0));
    assert_eq!(figures.rate, None);
    assert!(!figures.at_risk);
}

// ---------------------------------------------------------------- enrolment

#[test]
fn a_student_enrolled_mid_term_is_not_counted_for_earlier_sessions() {
    let mut log = alice_course(4);
    log.enrol(DAVE, 3)
        // dave has a mark on 1 September although not enrolled yet
        .take(1, &[(ALICE, Present), (DAVE, Absent)])
        .take(2, &[(ALICE, Present)])
        .take(3, &[(ALICE, Present), (DAVE, Present)])
        .take(4, &[(ALICE, Absent), (DAVE, Late)]);
    let dave = log.fold().student(DAVE, today());
    // sessions 3 and 4 only (enrolled from 3 September inclusive): 1 present, 1 late
    assert_eq!(dave.tally, tally(1, 1, 0, 0));
    // (1*1 + 1*1) / 2 = 100 %, not (1 + 1 + 0) / 3 = 66.67 %
    assert_eq!(dave.rate, Some(100.0));
}

#[test]
fn sessions_from_the_unenrolment_date_on_do_not_count() {
    let mut log = alice_course(4);
    log.unenrol(ALICE, 3)
        .take(1, &[(ALICE, Present)])
        .take(2, &[(ALICE, Absent)])
        .take(3, &[(ALICE, Absent)])
        .take(4, &[(ALICE, Absent)]);
    let alice = log.fold().student(ALICE, today());
    // sessions 1 and 2 only (3 September is the first day no longer enrolled)
    assert_eq!(alice.tally, tally(1, 0, 0, 1));
    // (1*1 + 1*0) / 2 = 50 %
    assert_eq!(alice.rate, Some(50.0));
}

#[test]
fn an_unenrolled_student_is_enrolled_only_before_the_unenrolment_date() {
    let mut log = alice_course(1);
    log.unenrol(ALICE, 3);
    let stats = log.fold();
    // 2 September < 3 September (until is exclusive)
    assert!(stats.student(ALICE, day(2)).enrolled);
    // 3 September is the first day no longer enrolled
    assert!(!stats.student(ALICE, day(3)).enrolled);
    assert!(!stats.student(ALICE, today()).enrolled);
}

#[test]
fn a_re_enrolled_student_counts_again_from_the_new_enrolment() {
    let mut log = alice_course(4);
    log.unenrol(ALICE, 3)
        .enrol(ALICE, 4)
        .take(1, &[(ALICE, Present)])
        .take(2, &[(ALICE, Absent)])
        .take(3, &[(ALICE, Absent)])
        .take(4, &[(ALICE, Present)]);
    let alice = log.fold().student(ALICE, today());
    // sessions 1, 2 and 4 (not enrolled on 3 September): 2 present, 1 absent
    assert_eq!(alice.tally, tally(2, 0, 0, 1));
    // (2*1 + 1*0) / 3 = 66.67 %
    assert_eq!(alice.rate, Some(66.67));
}

// ---------------------------------------------------------------- excused and policy

#[test]
fn an_excused_absence_is_not_counted_by_default() {
    let mut log = alice_course(4);
    log.take(1, &[(ALICE, Present)])
        .take(2, &[(ALICE, Present)])
        .take(3, &[(ALICE, Absent)])
        .take(4, &[(ALICE, Excused)]);
    let alice = log.fold().student(ALICE, today());
    assert_eq!(alice.tally, tally(2, 0, 1, 1));
    // (2*1 + 1*0) / 3 = 66.67 %, the excused mark left out
    assert_eq!(alice.rate, Some(66.67));
}

#[test]
fn an_excused_absence_counts_with_its_weight_when_the_policy_counts_excused() {
    let mut policy = AttendancePolicy {
        count_excused: true,
        ..AttendancePolicy::default()
    };
    policy.weights.excused = 0.5;
    let mut log = alice_course(4);
    log.policy(policy)
        .take(1, &[(ALICE, Present)])
        .take(2, &[(ALICE, Present)])
        .take(3, &[(ALICE, Absent)])
        .take(4, &[(ALICE, Excused)]);
    let alice = log.fold().student(ALICE, today());
    // (2*1 + 1*0.5 + 1*0) / 4 = 62.5 %
    assert_eq!(alice.rate, Some(62.5));
    // 62.5 % < 75 %
    assert!(alice.at_risk);
}

#[test]
fn a_policy_change_changes_past_rates() {
    let mut log = alice_course(4);
    log.take(1, &[(ALICE, Present)])
        .take(2, &[(ALICE, Late)])
        .take(3, &[(ALICE, Late)])
        .take(4, &[(ALICE, Absent)]);
    let before = log.fold().student(ALICE, today());
    let mut half_late = AttendancePolicy::default();
    half_late.weights.late = 0.5;
    log.policy(half_late);
    let after = log.fold().student(ALICE, today());

    assert_eq!(before.tally, after.tally);
    // (1*1 + 2*1 + 1*0) / 4 = 75 %
    assert_eq!(before.rate, Some(75.0));
    assert!(!before.at_risk);
    // (1*1 + 2*0.5 + 1*0) / 4 = 50 %
    assert_eq!(after.rate, Some(50.0));
    assert!(after.at_risk);
}

#[test]
fn a_policy_change_replaces_the_model_policy() {
    let mut half_late = AttendancePolicy::default();
    half_late.weights.late = 0.5;
    let mut log = alice_course(0);
    log.policy(half_late);
    assert_eq!(log.fold().policy, half_late);
}

// ---------------------------------------------------------------- corrections and closing

#[test]
fn a_correction_moves_the_mark_from_the_old_to_the_new_status() {
    let mut log = alice_course(2);
    log.take(1, &[(ALICE, Absent)])
        .correct(1, ALICE, Absent, Present)
        .take(2, &[(ALICE, Present)]);
    let stats = log.fold();
    let alice = stats.student(ALICE, today());
    // 2 present, 0 absent (not 1 present + 1 absent, nor 2 present + 1 absent)
    assert_eq!(alice.tally, tally(2, 0, 0, 0));
    // (2*1) / 2 = 100 %
    assert_eq!(alice.rate, Some(100.0));
    assert_eq!(stats.marks[ALICE][&session(1)], Present);
}

#[test]
fn a_correction_moves_the_session_count_too() {
    let mut log = alice_course(1);
    log.take(1, &[(ALICE, Late)])
        .correct(1, ALICE, Late, Excused);
    let figures = log.fold().session_figures();
    // session 1: 0 late, 1 excused
    assert_eq!(figures[0].tally, tally(0, 0, 1, 0));
}

#[test]
fn students_defaulted_absent_at_closing_count_as_absent() {
    let mut log = Log::course();
    log.enrol(ALICE, 1)
        .enrol(BOB, 1)
        .enrol(CAROL, 1)
        .schedule(1);
    log.open(1, &[ALICE, BOB, CAROL])
        .record(1, ALICE, Present)
        .close(1, &[BOB, CAROL]);
    let stats = log.fold();
    let bob = stats.student(BOB, today());
    // 1 absent
    assert_eq!(bob.tally, tally(0, 0, 0, 1));
    // (1*0) / 1 = 0 %
    assert_eq!(bob.rate, Some(0.0));
    assert!(bob.at_risk);
    // carol: 1 absent as well
    assert_eq!(stats.student(CAROL, today()).tally, tally(0, 0, 0, 1));
    // alice keeps her present mark: 1 present
    assert_eq!(stats.student(ALICE, today()).tally, tally(1, 0, 0, 0));
}

#[test]
fn closing_the_register_marks_the_session_closed() {
    let mut log = alice_course(1);
    log.open(1, &[ALICE]);
    assert!(
        !log.fold()
            .registers
            .get(&session(1))
            .is_some_and(|r| r.closed)
    );
    log.close(1, &[ALICE]);
    assert!(log.fold().registers[&session(1)].closed);
}

// ---------------------------------------------------------------- cancelled sessions

#[test]
fn a_cancelled_session_counts_for_nothing() {
    let mut log = alice_course(3);
    log.take(1, &[(ALICE, Present)])
        .take(2, &[(ALICE, Absent)])
        .take(3, &[(ALICE, Present)])
        .cancel(2);
    let alice = log.fold().student(ALICE, today());
    // sessions 1 and 3 only: 2 present
    assert_eq!(alice.tally, tally(2, 0, 0, 0));
    // (2*1) / 2 = 100 %, not (2*1 + 1*0) / 3 = 66.67 %
    assert_eq!(alice.rate, Some(100.0));
    // the absence of session 2 does not start a streak
    assert_eq!(alice.absence_streak, 0);
}

#[test]
fn a_cancelled_session_is_flagged_in_the_session_figures() {
    let mut log = alice_course(2);
    log.cancel(2);
    let figures = log.fold().session_figures();
    assert!(!figures[0].cancelled);
    assert!(figures[1].cancelled);
}

// ---------------------------------------------------------------- last attended, streak

#[test]
fn last_attended_is_the_latest_day_present_or_late() {
    let mut log = alice_course(4);
    log.take(1, &[(ALICE, Present)])
        .take(2, &[(ALICE, Late)])
        .take(3, &[(ALICE, Excused)])
        .take(4, &[(ALICE, Absent)]);
    // late on 2 September; excused (3rd) and absent (4th) are not attending
    assert_eq!(
        log.fold().student(ALICE, today()).last_attended,
        Some(day(2))
    );
}

#[test]
fn a_student_who_never_attended_has_no_last_attended_day() {
    let mut log = alice_course(2);
    log.take(1, &[(ALICE, Absent)]).take(2, &[(ALICE, Excused)]);
    assert_eq!(log.fold().student(ALICE, today()).last_attended, None);
}

#[test]
fn absence_streak_counts_the_trailing_absences_skipping_unmarked_sessions() {
    let mut log = alice_course(5);
    log.take(1, &[(ALICE, Absent)])
        .take(2, &[(ALICE, Present)])
        .take(3, &[(ALICE, Absent)])
        .take(4, &[(ALICE, Absent)]);
    // session 5 is scheduled but unmarked; back from session 4: A A | P -> 2
    assert_eq!(log.fold().student(ALICE, today()).absence_streak, 2);
}

#[test]
fn an_excused_mark_ends_an_absence_streak() {
    let mut log = alice_course(3);
    log.take(1, &[(ALICE, Absent)])
        .take(2, &[(ALICE, Excused)])
        .take(3, &[(ALICE, Absent)]);
    // back from session 3: A | E -> 1
    assert_eq!(log.fold().student(ALICE, today()).absence_streak, 1);
}

#[test]
fn a_late_mark_ends_an_absence_streak() {
    let mut log = alice_course(3);
    log.take(1, &[(ALICE, Absent)])
        .take(2, &[(ALICE, Late)])
        .take(3, &[(ALICE, Absent)]);
    // back from session 3: A | L -> 1
    assert_eq!(log.fold().student(ALICE, today()).absence_streak, 1);
}

#[test]
fn a_present_last_mark_means_no_absence_streak() {
    let mut log = alice_course(3);
    log.take(1, &[(ALICE, Absent)])
        .take(2, &[(ALICE, Absent)])
        .take(3, &[(ALICE, Present)]);
    // back from session 3: P -> 0
    assert_eq!(log.fold().student(ALICE, today()).absence_streak, 0);
}

#[test]
fn the_absence_streak_follows_start_time_not_session_id() {
    let mut log = Log::course();
    log.enrol(ALICE, 1)
        // session 1 is the later one (20 September), session 2 the earlier (10 September)
        .schedule_on(1, 20)
        .schedule_on(2, 10)
        .take(1, &[(ALICE, Absent)])
        .take(2, &[(ALICE, Present)]);
    let alice = log.fold().student(ALICE, today());
    // by start: P (10th) then A (20th) -> 1
    assert_eq!(alice.absence_streak, 1);
    assert_eq!(alice.last_attended, Some(day(10)));
}

// ---------------------------------------------------------------- session figures

#[test]
fn session_figures_count_each_status_per_session() {
    let figures = small_course().fold().session_figures();
    // session 1: 4 present
    assert_eq!(figures[0].tally, tally(4, 0, 0, 0));
    // session 3: alice late, bob absent, carol and dave present -> 2 present, 1 late, 1 absent
    assert_eq!(figures[2].tally, tally(2, 1, 0, 1));
    // session 5: alice and bob absent, carol and dave excused -> 2 excused, 2 absent
    assert_eq!(figures[4].tally, tally(0, 0, 2, 2));
}

#[test]
fn a_session_is_taken_once_its_register_is_opened() {
    let mut log = alice_course(2);
    log.open(1, &[ALICE]);
    let figures = log.fold().session_figures();
    assert_eq!(figures[0].session_id, session(1));
    assert!(figures[0].taken);
    // opened but unmarked: no mark counted
    assert_eq!(figures[0].tally, Tally::default());
    assert_eq!(figures[1].session_id, session(2));
    assert!(!figures[1].taken);
    assert_eq!(figures[1].tally, Tally::default());
}

#[test]
fn session_figures_carry_title_and_start() {
    let figures = alice_course(1).fold().session_figures();
    assert_eq!(figures[0].title, "Lecture 1");
    assert_eq!(figures[0].starts_at, at(1, 9));
}

#[test]
fn session_figures_come_in_start_order() {
    let mut log = Log::course();
    log.schedule_on(1, 20).schedule_on(2, 10);
    let ids: Vec<String> = log
        .fold()
        .session_figures()
        .into_iter()
        .map(|figures| figures.session_id)
        .collect();
    // session 2 (10 September) before session 1 (20 September)
    assert_eq!(ids, [session(2), session(1)]);
}

// ---------------------------------------------------------------- determinism, position

#[test]
fn folding_the_same_events_twice_gives_equal_models() {
    let mut log = small_course();
    log.correct(5, BOB, Absent, Excused)
        .cancel(4)
        .unenrol(DAVE, 5);
    assert_eq!(log.fold(), log.fold());
}

#[test]
fn position_is_the_last_position_applied() {
    let log = small_course();
    let last = log.events.last().unwrap().position;
    // 4 enrolments + 5 sessions + 5 * (1 open + 4 marks) + 1 created = 35 events -> 350
    assert_eq!(last, 350);
    assert_eq!(log.fold().position, last);
}

#[test]
fn position_never_goes_back_when_an_older_event_is_applied_again() {
    let log = small_course();
    let mut stats = log.fold();
    apply(&mut stats, &log.events[0]);
    // max(350, 10) = 350
    assert_eq!(stats.position, 350);
}

#[test]
fn register_events_before_the_course_events_give_the_same_document() {
    // Two consumers may apply a course's and a register's events in either order; only
    // each aggregate's own order is guaranteed.
    let mut log = small_course();
    log.close(5, &[]);
    let (course, registers): (Vec<_>, Vec<_>) = log
        .events
        .iter()
        .cloned()
        .partition(|e| e.aggregate_type == "course");
    let mut reordered = CourseStats::default();
    for event in registers.iter().chain(course.iter()) {
        apply(&mut reordered, event);
    }
    assert_eq!(reordered, log.fold());
}
