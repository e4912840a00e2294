//! Fold tests of the calendar events: the course's zone, sessions that move, come back and
//! are renamed, back-dated enrolments and roster amendments.

use super::*;

fn sid(n: u32) -> SessionId {
    SessionId::parse(session(n)).unwrap()
}

#[test]
fn a_late_evening_in_chicago_is_counted_on_its_local_day() {
    let mut log = Log::course();
    log.course_event(CourseEvent::TimeZoneChanged {
        time_zone: domain::Zone::parse("America/Chicago").unwrap(),
        by: teacher(),
        at: at(1, 8),
    });
    // Session 1 starts 2 September 02:00 UTC = 1 September 21:00 CDT; alice is enrolled
    // from 2 September, so it is not hers.
    log.enrol(ALICE, 2);
    log.course_event(CourseEvent::SessionScheduled {
        session_id: sid(1),
        title: "Evening lecture".into(),
        starts_at: at(2, 2),
        duration_minutes: 90,
        by: teacher(),
        at: at(1, 8),
    });
    let stats = log.fold();
    assert_eq!(stats.day_of(at(2, 2)), day(1));
    assert!(!stats.counts_in(ALICE, &session(1)));
    assert_eq!(stats.student(ALICE, today()).tally, tally(0, 0, 0, 0));
}

#[test]
fn a_rescheduled_session_counts_on_its_new_day() {
    // Alice leaves from 5 September; session 4 moves from the 4th to the 6th: no longer hers.
    let mut log = Log::course();
    log.enrol(ALICE, 1).schedule(4).take(4, &[(ALICE, Present)]);
    log.unenrol(ALICE, 5);
    assert!(log.fold().counts_in(ALICE, &session(4)));
    log.course_event(CourseEvent::SessionRescheduled {
        session_id: sid(4),
        starts_at: at(6, 9),
        duration_minutes: 60,
        reason: "room".into(),
        by: teacher(),
        at: at(1, 8),
    });
    let stats = log.fold();
    assert_eq!(stats.sessions[&session(4)].starts_at, at(6, 9));
    assert!(!stats.counts_in(ALICE, &session(4)));
    assert_eq!(stats.student(ALICE, today()).rate, None);
}

#[test]
fn a_restored_session_counts_again_and_a_renamed_one_shows_its_new_title() {
    let mut log = Log::course();
    log.enrol(ALICE, 1)
        .schedule(2)
        .take(2, &[(ALICE, Late)])
        .cancel(2);
    assert_eq!(log.fold().student(ALICE, today()).tally, tally(0, 0, 0, 0));
    log.course_event(CourseEvent::SessionRestored {
        session_id: sid(2),
        reason: "back".into(),
        by: teacher(),
        at: at(1, 8),
    });
    log.course_event(CourseEvent::SessionRenamed {
        session_id: sid(2),
        title: "Guest lecture".into(),
        reason: None,
        by: teacher(),
        at: at(1, 8),
    });
    let stats = log.fold();
    // alice: late in the restored session 2 -> 0 present, 1 late.
    assert_eq!(stats.student(ALICE, today()).tally, tally(0, 1, 0, 0));
    assert_eq!(stats.sessions[&session(2)].title, "Guest lecture");
}

#[test]
fn a_backdated_enrolment_counts_the_earlier_sessions() {
    let mut log = Log::course();
    log.enrol(ALICE, 10)
        .schedule(3)
        .take(3, &[(ALICE, Present)]);
    assert!(!log.fold().counts_in(ALICE, &session(3)));
    log.course_event(CourseEvent::EnrollmentBackdated {
        student_id: student(ALICE),
        effective_from: day(1),
        by: teacher(),
        at: at(1, 8),
    });
    assert_eq!(log.fold().student(ALICE, today()).tally, tally(1, 0, 0, 0));
}

#[test]
fn a_student_removed_from_a_register_loses_that_mark_and_a_reopened_register_is_open() {
    let mut log = Log::course();
    log.enrol(ALICE, 1).enrol(BOB, 1).schedule(2);
    log.take(2, &[(ALICE, Present), (BOB, Absent)])
        .close(2, &[]);
    log.register_event(
        2,
        RegisterEvent::RosterAmended {
            added: vec![],
            removed: vec![student(BOB)],
            reason: "unenrolled".into(),
            by: teacher(),
            at: at(2, 12),
        },
    );
    log.register_event(
        2,
        RegisterEvent::RegisterReopened {
            reason: "late marks".into(),
            by: teacher(),
            at: at(2, 13),
        },
    );
    let stats = log.fold();
    assert!(!stats.marks[BOB].contains_key(&session(2)));
    assert!(!stats.registers[&session(2)].closed);
    assert_eq!(stats.student(ALICE, today()).tally, tally(1, 0, 0, 0));
}
