//! Given/when/then tests of the Course aggregate.

use super::{Course, CourseCommand, CourseDetails, CourseError, CourseEvent, EnrollmentPeriod};
use crate::{
    Actor, AttendancePolicy, CourseId, PolicyError, Role, SessionId, Status, StudentId, UserId,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;

type CourseTest = TestFramework<Course>;

mod archive;
mod calendar;

// ---------------------------------------------------------------- helpers

fn cs101() -> CourseId {
    CourseId::parse("CS101").unwrap()
}

fn alice() -> StudentId {
    StudentId::parse("s-alice").unwrap()
}

fn bob() -> StudentId {
    StudentId::parse("s-bob").unwrap()
}

fn carol() -> StudentId {
    StudentId::parse("s-carol").unwrap()
}

fn ada() -> UserId {
    UserId::parse("u-ada").unwrap()
}

fn grace() -> UserId {
    UserId::parse("u-grace").unwrap()
}

fn lecture1() -> SessionId {
    SessionId::parse("cs101-l1").unwrap()
}

fn lecture2() -> SessionId {
    SessionId::parse("cs101-l2").unwrap()
}

/// The administrator who sends every command in these tests.
fn admin() -> Actor {
    Actor {
        user_id: UserId::parse("u-admin").unwrap(),
        role: Role::Admin,
    }
}

/// A time on the fixed date 2026-09-01.
fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, h, m, 0).unwrap()
}

/// A day of September 2026.
fn sep(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, d).unwrap()
}

fn details(name: &str) -> CourseDetails {
    CourseDetails {
        name: name.into(),
        department: Some("Computer Science".into()),
        credits: Some(6),
        semester: Some("2026-fall".into()),
    }
}

fn intro() -> CourseDetails {
    details("Introduction to Programming")
}

fn stricter_policy() -> AttendancePolicy {
    let mut policy = AttendancePolicy {
        at_risk_below: 80.0,
        ..AttendancePolicy::default()
    };
    policy.weights.late = 0.5;
    policy
}

// Events.

fn created() -> CourseEvent {
    CourseEvent::CourseCreated {
        course_id: cs101(),
        details: intro(),
        by: admin(),
        at: t(8, 0),
    }
}

fn assigned(teacher: UserId) -> CourseEvent {
    CourseEvent::TeacherAssigned {
        teacher,
        by: admin(),
        at: t(8, 5),
    }
}

fn unassigned(teacher: UserId) -> CourseEvent {
    CourseEvent::TeacherUnassigned {
        teacher,
        by: admin(),
        at: t(8, 10),
    }
}

fn enrolled(student_id: StudentId, from: NaiveDate) -> CourseEvent {
    CourseEvent::StudentEnrolled {
        student_id,
        effective_from: from,
        by: admin(),
        at: t(8, 15),
    }
}

fn unenrolled(student_id: StudentId, from: NaiveDate) -> CourseEvent {
    CourseEvent::StudentUnenrolled {
        student_id,
        effective_from: from,
        by: admin(),
        at: t(8, 20),
    }
}

fn scheduled(session_id: SessionId) -> CourseEvent {
    CourseEvent::SessionScheduled {
        session_id,
        title: "Lecture 1".into(),
        starts_at: t(9, 0),
        duration_minutes: 90,
        by: admin(),
        at: t(8, 25),
    }
}

fn cancelled(session_id: SessionId) -> CourseEvent {
    CourseEvent::SessionCancelled {
        session_id,
        reason: Some("teacher ill".into()),
        by: admin(),
        at: t(8, 30),
    }
}

// Commands.

fn create(details: CourseDetails) -> CourseCommand {
    CourseCommand::CreateCourse {
        course_id: cs101(),
        details,
        time_zone: crate::Zone::UTC,
        by: admin(),
        at: t(8, 0),
    }
}

fn update(details: CourseDetails) -> CourseCommand {
    CourseCommand::UpdateCourse {
        details,
        by: admin(),
        at: t(8, 1),
    }
}

fn assign(teacher: UserId) -> CourseCommand {
    CourseCommand::AssignTeacher {
        teacher,
        by: admin(),
        at: t(8, 5),
    }
}

fn unassign(teacher: UserId) -> CourseCommand {
    CourseCommand::UnassignTeacher {
        teacher,
        by: admin(),
        at: t(8, 10),
    }
}

fn enrol(student_id: StudentId, from: NaiveDate) -> CourseCommand {
    CourseCommand::EnrollStudent {
        student_id,
        effective_from: from,
        by: admin(),
        at: t(8, 15),
    }
}

fn unenrol(student_id: StudentId, from: NaiveDate) -> CourseCommand {
    CourseCommand::UnenrollStudent {
        student_id,
        effective_from: from,
        by: admin(),
        at: t(8, 20),
    }
}

fn schedule(session_id: SessionId, title: &str, duration_minutes: u32) -> CourseCommand {
    CourseCommand::ScheduleSession {
        session_id,
        title: title.into(),
        starts_at: t(9, 0),
        duration_minutes,
        by: admin(),
        at: t(8, 25),
    }
}

fn cancel(session_id: SessionId) -> CourseCommand {
    CourseCommand::CancelSession {
        session_id,
        reason: Some("teacher ill".into()),
        by: admin(),
        at: t(8, 30),
    }
}

fn set_policy(policy: AttendancePolicy) -> CourseCommand {
    CourseCommand::SetPolicy {
        policy,
        by: admin(),
        at: t(8, 35),
    }
}

/// A course built by applying events, for state queries.
fn course(events: Vec<CourseEvent>) -> Course {
    let mut course = Course::default();
    for event in events {
        course.apply(event);
    }
    course
}

// ---------------------------------------------------------------- create

#[test]
fn creating_a_course_records_its_code_and_details() {
    CourseTest::with(())
        .given_no_previous_events()
        .when(create(intro()))
        .then_expect_events(vec![created()]);
}

#[test]
fn creating_a_course_twice_is_refused() {
    CourseTest::with(())
        .given(vec![created()])
        .when(create(intro()))
        .then_expect_error(CourseError::AlreadyExists);
}

#[test]
fn a_course_needs_a_name() {
    CourseTest::with(())
        .given_no_previous_events()
        .when(create(details("")))
        .then_expect_error(CourseError::NameRequired);
}

#[test]
fn a_blank_course_name_is_no_name() {
    CourseTest::with(())
        .given_no_previous_events()
        .when(create(details("   ")))
        .then_expect_error(CourseError::NameRequired);
}

#[test]
fn every_other_command_on_a_missing_course_is_refused() {
    let commands = vec![
        update(intro()),
        assign(ada()),
        unassign(ada()),
        enrol(alice(), sep(1)),
        unenrol(alice(), sep(2)),
        schedule(lecture1(), "Lecture 1", 90),
        cancel(lecture1()),
        set_policy(stricter_policy()),
    ];
    for command in commands {
        CourseTest::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error(CourseError::NotFound);
    }
}

// ---------------------------------------------------------------- update

#[test]
fn updating_a_course_records_the_new_details() {
    CourseTest::with(())
        .given(vec![created()])
        .when(update(details("Programming 1")))
        .then_expect_events(vec![CourseEvent::CourseUpdated {
            details: details("Programming 1"),
            by: admin(),
            at: t(8, 1),
        }]);
}

#[test]
fn updating_with_the_same_details_changes_nothing() {
    CourseTest::with(())
        .given(vec![created()])
        .when(update(intro()))
        .then_expect_events(vec![]);
}

#[test]
fn updating_a_course_to_an_empty_name_is_refused() {
    CourseTest::with(())
        .given(vec![created()])
        .when(update(details(" ")))
        .then_expect_error(CourseError::NameRequired);
}

// ---------------------------------------------------------------- teachers

#[test]
fn assigning_a_teacher_records_it() {
    CourseTest::with(())
        .given(vec![created()])
        .when(assign(ada()))
        .then_expect_events(vec![assigned(ada())]);
}

#[test]
fn assigning_the_same_teacher_twice_changes_nothing() {
    CourseTest::with(())
        .given(vec![created(), assigned(ada())])
        .when(assign(ada()))
        .then_expect_events(vec![]);
}

#[test]
fn a_second_teacher_can_be_assigned() {
    CourseTest::with(())
        .given(vec![created(), assigned(ada())])
        .when(assign(grace()))
        .then_expect_events(vec![assigned(grace())]);
}

#[test]
fn unassigning_an_assigned_teacher_records_it() {
    CourseTest::with(())
        .given(vec![created(), assigned(ada())])
        .when(unassign(ada()))
        .then_expect_events(vec![unassigned(ada())]);
}

#[test]
fn unassigning_a_teacher_who_is_not_assigned_is_refused() {
    CourseTest::with(())
        .given(vec![created(), assigned(ada())])
        .when(unassign(grace()))
        .then_expect_error(CourseError::TeacherNotAssigned(grace()));
}

#[test]
fn unassigning_a_teacher_twice_is_refused() {
    CourseTest::with(())
        .given(vec![created(), assigned(ada()), unassigned(ada())])
        .when(unassign(ada()))
        .then_expect_error(CourseError::TeacherNotAssigned(ada()));
}

// ---------------------------------------------------------------- enrolment

#[test]
fn enrolling_a_student_records_the_effective_date() {
    CourseTest::with(())
        .given(vec![created()])
        .when(enrol(alice(), sep(1)))
        .then_expect_events(vec![enrolled(alice(), sep(1))]);
}

#[test]
fn enrolling_an_enrolled_student_again_changes_nothing() {
    CourseTest::with(())
        .given(vec![created(), enrolled(alice(), sep(1))])
        .when(enrol(alice(), sep(3)))
        .then_expect_events(vec![]);
}

#[test]
fn re_enrolling_from_the_day_the_last_enrolment_ended_is_accepted() {
    CourseTest::with(())
        .given(vec![
            created(),
            enrolled(alice(), sep(1)),
            unenrolled(alice(), sep(10)),
        ])
        .when(enrol(alice(), sep(10)))
        .then_expect_events(vec![enrolled(alice(), sep(10))]);
}

#[test]
fn re_enrolling_after_a_gap_is_accepted() {
    CourseTest::with(())
        .given(vec![
            created(),
            enrolled(alice(), sep(1)),
            unenrolled(alice(), sep(10)),
        ])
        .when(enrol(alice(), sep(20)))
        .then_expect_events(vec![enrolled(alice(), sep(20))]);
}

#[test]
fn re_enrolling_before_the_last_enrolment_ended_is_refused() {
    CourseTest::with(())
        .given(vec![
            created(),
            enrolled(alice(), sep(1)),
            unenrolled(alice(), sep(10)),
        ])
        .when(enrol(alice(), sep(9)))
        .then_expect_error(CourseError::EnrollmentOverlaps(alice()));
}

#[test]
fn unenrolling_an_enrolled_student_records_the_end_date() {
    CourseTest::with(())
        .given(vec![created(), enrolled(alice(), sep(1))])
        .when(unenrol(alice(), sep(10)))
        .then_expect_events(vec![unenrolled(alice(), sep(10))]);
}

#[test]
fn unenrolling_a_student_who_was_never_enrolled_is_refused() {
    CourseTest::with(())
        .given(vec![created(), enrolled(alice(), sep(1))])
        .when(unenrol(bob(), sep(10)))
        .then_expect_error(CourseError::NotEnrolled(bob()));
}

#[test]
fn unenrolling_a_student_twice_is_refused() {
    CourseTest::with(())
        .given(vec![
            created(),
            enrolled(alice(), sep(1)),
            unenrolled(alice(), sep(10)),
        ])
        .when(unenrol(alice(), sep(12)))
        .then_expect_error(CourseError::NotEnrolled(alice()));
}

#[test]
fn unenrolling_on_the_first_enrolled_day_is_refused() {
    CourseTest::with(())
        .given(vec![created(), enrolled(alice(), sep(5))])
        .when(unenrol(alice(), sep(5)))
        .then_expect_error(CourseError::NotEnrolled(alice()));
}

#[test]
fn unenrolling_before_the_enrolment_started_is_refused() {
    CourseTest::with(())
        .given(vec![created(), enrolled(alice(), sep(5))])
        .when(unenrol(alice(), sep(4)))
        .then_expect_error(CourseError::NotEnrolled(alice()));
}

#[test]
fn unenrolling_a_re_enrolled_student_ends_the_latest_enrolment() {
    CourseTest::with(())
        .given(vec![
            created(),
            enrolled(alice(), sep(1)),
            unenrolled(alice(), sep(10)),
            enrolled(alice(), sep(20)),
        ])
        .when(unenrol(alice(), sep(25)))
        .then_expect_events(vec![unenrolled(alice(), sep(25))]);
}

// ---------------------------------------------------------------- sessions

#[test]
fn scheduling_a_session_records_it() {
    CourseTest::with(())
        .given(vec![created()])
        .when(schedule(lecture1(), "Lecture 1", 90))
        .then_expect_events(vec![scheduled(lecture1())]);
}

#[test]
fn scheduling_a_session_with_a_taken_id_is_refused() {
    CourseTest::with(())
        .given(vec![created(), scheduled(lecture1())])
        .when(schedule(lecture1(), "Lecture 1 again", 90))
        .then_expect_error(CourseError::SessionExists(lecture1()));
}

#[test]
fn a_session_needs_a_title() {
    CourseTest::with(())
        .given(vec![created()])
        .when(schedule(lecture1(), "", 90))
        .then_expect_error(CourseError::TitleRequired);
}

#[test]
fn a_blank_session_title_is_no_title() {
    CourseTest::with(())
        .given(vec![created()])
        .when(schedule(lecture1(), " \t ", 90))
        .then_expect_error(CourseError::TitleRequired);
}

#[test]
fn a_session_of_zero_minutes_is_refused() {
    CourseTest::with(())
        .given(vec![created()])
        .when(schedule(lecture1(), "Lecture 1", 0))
        .then_expect_error(CourseError::InvalidDuration);
}

#[test]
fn a_session_longer_than_a_day_is_refused() {
    CourseTest::with(())
        .given(vec![created()])
        .when(schedule(lecture1(), "Lecture 1", 1441))
        .then_expect_error(CourseError::InvalidDuration);
}

#[test]
fn sessions_of_one_minute_and_of_a_whole_day_are_accepted() {
    for minutes in [1, 1440] {
        let events = CourseTest::with(())
            .given(vec![created()])
            .when(schedule(lecture1(), "Lecture 1", minutes))
            .inspect_result()
            .unwrap();
        assert!(matches!(
            events.as_slice(),
            [CourseEvent::SessionScheduled { duration_minutes, .. }] if *duration_minutes == minutes
        ));
    }
}

#[test]
fn cancelling_a_session_records_it_with_the_reason() {
    CourseTest::with(())
        .given(vec![created(), scheduled(lecture1())])
        .when(cancel(lecture1()))
        .then_expect_events(vec![cancelled(lecture1())]);
}

#[test]
fn cancelling_an_unknown_session_is_refused() {
    CourseTest::with(())
        .given(vec![created(), scheduled(lecture1())])
        .when(cancel(lecture2()))
        .then_expect_error(CourseError::SessionNotFound(lecture2()));
}

#[test]
fn cancelling_a_cancelled_session_again_changes_nothing() {
    CourseTest::with(())
        .given(vec![
            created(),
            scheduled(lecture1()),
            cancelled(lecture1()),
        ])
        .when(cancel(lecture1()))
        .then_expect_events(vec![]);
}

// ---------------------------------------------------------------- policy

#[test]
fn setting_a_new_policy_records_it() {
    CourseTest::with(())
        .given(vec![created()])
        .when(set_policy(stricter_policy()))
        .then_expect_events(vec![CourseEvent::AttendancePolicyChanged {
            policy: stricter_policy(),
            by: admin(),
            at: t(8, 35),
        }]);
}

#[test]
fn a_policy_with_a_weight_out_of_range_is_refused() {
    let mut policy = AttendancePolicy::default();
    policy.weights.late = 1.5;
    CourseTest::with(())
        .given(vec![created()])
        .when(set_policy(policy))
        .then_expect_error(CourseError::InvalidPolicy(PolicyError::WeightOutOfRange {
            status: Status::Late,
        }));
}

#[test]
fn a_policy_with_a_threshold_out_of_range_is_refused() {
    let policy = AttendancePolicy {
        at_risk_below: -1.0,
        ..AttendancePolicy::default()
    };
    CourseTest::with(())
        .given(vec![created()])
        .when(set_policy(policy))
        .then_expect_error(CourseError::InvalidPolicy(PolicyError::ThresholdOutOfRange));
}

#[test]
fn setting_the_current_policy_again_changes_nothing() {
    CourseTest::with(())
        .given(vec![created()])
        .when(set_policy(AttendancePolicy::default()))
        .then_expect_events(vec![]);
}

#[test]
fn setting_a_changed_policy_back_to_the_same_value_changes_nothing() {
    CourseTest::with(())
        .given(vec![
            created(),
            CourseEvent::AttendancePolicyChanged {
                policy: stricter_policy(),
                by: admin(),
                at: t(8, 35),
            },
        ])
        .when(set_policy(stricter_policy()))
        .then_expect_events(vec![]);
}

// ---------------------------------------------------------------- state

#[test]
fn creating_a_course_sets_its_code_and_details() {
    let course = course(vec![created()]);
    assert!(course.exists());
    assert_eq!(course.id, Some(cs101()));
    assert_eq!(course.details, intro());
    assert_eq!(course.policy, AttendancePolicy::default());
}

#[test]
fn the_roster_includes_a_student_enrolled_on_or_before_the_day() {
    let course = course(vec![
        created(),
        enrolled(alice(), sep(1)),
        enrolled(bob(), sep(5)),
    ]);
    assert_eq!(course.roster_on(sep(5)), vec![alice(), bob()]);
}

#[test]
fn the_roster_excludes_a_student_enrolled_after_the_day() {
    let course = course(vec![
        created(),
        enrolled(alice(), sep(1)),
        enrolled(bob(), sep(6)),
    ]);
    assert_eq!(course.roster_on(sep(5)), vec![alice()]);
}

#[test]
fn the_roster_excludes_a_student_unenrolled_before_the_day() {
    let course = course(vec![
        created(),
        enrolled(alice(), sep(1)),
        enrolled(bob(), sep(1)),
        unenrolled(bob(), sep(4)),
    ]);
    assert_eq!(course.roster_on(sep(5)), vec![alice()]);
}

#[test]
fn the_roster_excludes_a_student_from_the_day_their_unenrolment_takes_effect() {
    let course = course(vec![
        created(),
        enrolled(alice(), sep(1)),
        unenrolled(alice(), sep(5)),
    ]);
    assert_eq!(course.roster_on(sep(4)), vec![alice()]);
    assert_eq!(course.roster_on(sep(5)), Vec::<StudentId>::new());
}

#[test]
fn the_roster_is_in_student_id_order() {
    let course = course(vec![
        created(),
        enrolled(carol(), sep(1)),
        enrolled(alice(), sep(2)),
        enrolled(bob(), sep(3)),
    ]);
    assert_eq!(course.roster_on(sep(3)), vec![alice(), bob(), carol()]);
}

#[test]
fn a_re_enrolled_student_is_enrolled_only_within_their_periods() {
    let course = course(vec![
        created(),
        enrolled(alice(), sep(1)),
        unenrolled(alice(), sep(10)),
        enrolled(alice(), sep(20)),
    ]);
    assert!(!course.is_enrolled_on(&alice(), NaiveDate::from_ymd_opt(2026, 8, 31).unwrap()));
    assert!(course.is_enrolled_on(&alice(), sep(1)));
    assert!(course.is_enrolled_on(&alice(), sep(9)));
    assert!(!course.is_enrolled_on(&alice(), sep(10)));
    assert!(!course.is_enrolled_on(&alice(), sep(19)));
    assert!(course.is_enrolled_on(&alice(), sep(20)));
    assert!(course.is_enrolled_on(&alice(), sep(30)));
    assert_eq!(
        course.enrollments[&alice()],
        vec![
            EnrollmentPeriod {
                from: sep(1),
                until: Some(sep(10)),
            },
            EnrollmentPeriod {
                from: sep(20),
                until: None,
            },
        ]
    );
}

#[test]
fn a_student_never_enrolled_is_not_enrolled_on_any_day() {
    let course = course(vec![created(), enrolled(alice(), sep(1))]);
    assert!(!course.is_enrolled_on(&bob(), sep(5)));
    assert!(!course.has_ever_enrolled(&bob()));
    assert!(course.has_ever_enrolled(&alice()));
}

#[test]
fn a_course_is_taught_only_by_its_assigned_teachers() {
    let course = course(vec![
        created(),
        assigned(ada()),
        assigned(grace()),
        unassigned(grace()),
    ]);
    assert!(course.is_taught_by(&ada()));
    assert!(!course.is_taught_by(&grace()));
}

#[test]
fn a_cancelled_session_stays_on_the_calendar_marked_cancelled() {
    let course = course(vec![
        created(),
        scheduled(lecture1()),
        scheduled(lecture2()),
        cancelled(lecture1()),
    ]);
    assert!(course.sessions[&lecture1()].cancelled);
    assert!(!course.sessions[&lecture2()].cancelled);
    assert_eq!(course.sessions[&lecture1()].duration_minutes, 90);
}
