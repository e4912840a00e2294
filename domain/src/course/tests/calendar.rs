//! Given/when/then tests of a course's calendar: its time zone and its days.

use super::*;
use crate::Zone;

fn chicago() -> Zone {
    Zone::parse("America/Chicago").unwrap()
}

fn zone_changed(time_zone: Zone) -> CourseEvent {
    CourseEvent::TimeZoneChanged {
        time_zone,
        by: admin(),
        at: t(8, 0),
    }
}

fn set_zone(time_zone: Zone) -> CourseCommand {
    CourseCommand::SetTimeZone {
        time_zone,
        by: admin(),
        at: t(8, 0),
    }
}

#[test]
fn a_course_created_in_another_zone_records_the_zone() {
    CourseTest::with(())
        .given_no_previous_events()
        .when(CourseCommand::CreateCourse {
            course_id: cs101(),
            details: intro(),
            time_zone: chicago(),
            by: admin(),
            at: t(8, 0),
        })
        .then_expect_events(vec![created(), zone_changed(chicago())]);
}

#[test]
fn a_course_without_a_zone_event_counts_its_days_in_utc() {
    let course = course(vec![created()]);
    assert_eq!(course.time_zone, Zone::UTC);
    // 23:30 UTC on 1 September is 1 September.
    assert_eq!(course.day_of(t(23, 30)), sep(1));
}

#[test]
fn changing_the_zone_records_it() {
    CourseTest::with(())
        .given(vec![created()])
        .when(set_zone(chicago()))
        .then_expect_events(vec![zone_changed(chicago())]);
}

#[test]
fn setting_the_zone_the_course_has_changes_nothing() {
    CourseTest::with(())
        .given(vec![created(), zone_changed(chicago())])
        .when(set_zone(chicago()))
        .then_expect_events(vec![]);
}

#[test]
fn a_session_late_in_the_evening_in_chicago_belongs_to_its_local_day() {
    // 02:00 UTC on 2 September is 21:00 CDT on 1 September.
    let course = course(vec![created(), zone_changed(chicago())]);
    let evening = Utc.with_ymd_and_hms(2026, 9, 2, 2, 0, 0).unwrap();
    assert_eq!(course.day_of(evening), sep(1));
}

#[test]
fn the_roster_of_a_local_day_follows_the_zone() {
    // Bob is enrolled from 2 September: a session at 21:00 CDT on 1 September (2 Sept UTC)
    // is not his, however the UTC date reads.
    let course = course(vec![
        created(),
        zone_changed(chicago()),
        enrolled(alice(), sep(1)),
        enrolled(bob(), sep(2)),
    ]);
    let evening = Utc.with_ymd_and_hms(2026, 9, 2, 2, 0, 0).unwrap();
    assert_eq!(course.roster_on(course.day_of(evening)), vec![alice()]);
}

#[test]
fn changing_the_zone_of_a_missing_course_is_refused() {
    CourseTest::with(())
        .given_no_previous_events()
        .when(set_zone(chicago()))
        .then_expect_error(CourseError::NotFound);
}

// ---------------------------------------------------------------- term timetable

fn oct(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
}

fn nov(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// Mondays and Wednesdays at 09:00 for 90 minutes, from `first` to `last`.
fn mon_wed(first: NaiveDate, last: NaiveDate) -> super::super::Timetable {
    super::super::Timetable {
        weekdays: vec![chrono::Weekday::Mon, chrono::Weekday::Wed],
        at: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        duration_minutes: 90,
        first,
        last,
        title_pattern: "Lecture {n}".into(),
        skip: Default::default(),
    }
}

fn ids(n: usize) -> Vec<SessionId> {
    (1..=n)
        .map(|i| SessionId::parse(format!("term-{i}")).unwrap())
        .collect()
}

fn schedule_term(timetable: super::super::Timetable, session_ids: Vec<SessionId>) -> CourseCommand {
    CourseCommand::ScheduleTerm {
        timetable,
        session_ids,
        by: admin(),
        at: t(8, 0),
    }
}

fn term_session(i: usize, starts_at: DateTime<Utc>) -> CourseEvent {
    CourseEvent::SessionScheduled {
        session_id: ids(i).pop().unwrap(),
        title: format!("Lecture {i}"),
        starts_at,
        duration_minutes: 90,
        by: admin(),
        at: t(8, 0),
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn a_term_schedules_a_session_on_every_class_day_at_the_same_local_time_across_a_dst_change() {
    // Chicago: Mon 26 Oct and Wed 28 Oct are CDT (UTC-5), Mon 2 Nov and Wed 4 Nov CST (UTC-6).
    CourseTest::with(())
        .given(vec![created(), zone_changed(chicago())])
        .when(schedule_term(mon_wed(oct(26), nov(4)), ids(4)))
        .then_expect_events(vec![
            term_session(1, utc("2026-10-26T14:00:00Z")),
            term_session(2, utc("2026-10-28T14:00:00Z")),
            term_session(3, utc("2026-11-02T15:00:00Z")),
            term_session(4, utc("2026-11-04T15:00:00Z")),
        ]);
}

#[test]
fn a_skipped_date_has_no_session_and_the_numbering_goes_on() {
    let mut timetable = mon_wed(oct(26), nov(4));
    timetable.skip.insert(oct(28));
    CourseTest::with(())
        .given(vec![created(), zone_changed(chicago())])
        .when(schedule_term(timetable, ids(3)))
        .then_expect_events(vec![
            term_session(1, utc("2026-10-26T14:00:00Z")),
            term_session(2, utc("2026-11-02T15:00:00Z")),
            term_session(3, utc("2026-11-04T15:00:00Z")),
        ]);
}

#[test]
fn a_term_with_one_taken_session_id_schedules_nothing() {
    let mut taken = scheduled(SessionId::parse("term-3").unwrap());
    if let CourseEvent::SessionScheduled { title, .. } = &mut taken {
        *title = "Existing".into();
    }
    CourseTest::with(())
        .given(vec![created(), taken])
        .when(schedule_term(mon_wed(oct(26), nov(4)), ids(4)))
        .then_expect_error(CourseError::SessionExists(
            SessionId::parse("term-3").unwrap(),
        ));
}

#[test]
fn a_timetable_without_weekdays_is_refused() {
    let mut timetable = mon_wed(oct(26), nov(4));
    timetable.weekdays.clear();
    CourseTest::with(())
        .given(vec![created()])
        .when(schedule_term(timetable, vec![]))
        .then_expect_error(CourseError::EmptyTimetable);
}

#[test]
fn a_term_that_ends_before_it_starts_is_refused() {
    CourseTest::with(())
        .given(vec![created()])
        .when(schedule_term(mon_wed(nov(4), oct(26)), ids(4)))
        .then_expect_error(CourseError::TermEndsBeforeItStarts);
}

#[test]
fn a_term_needs_one_id_per_session() {
    CourseTest::with(())
        .given(vec![created()])
        .when(schedule_term(mon_wed(oct(26), nov(4)), ids(3)))
        .then_expect_error(CourseError::SessionIdsMismatch {
            expected: 4,
            given: 3,
        });
}

// ---------------------------------------------------------------- sessions that change

fn reschedule(
    starts_at: Option<DateTime<Utc>>,
    duration: Option<u32>,
    reason: &str,
) -> CourseCommand {
    CourseCommand::RescheduleSession {
        session_id: lecture1(),
        starts_at,
        duration_minutes: duration,
        reason: reason.into(),
        by: admin(),
        at: t(8, 40),
    }
}

fn rescheduled(starts_at: DateTime<Utc>, duration_minutes: u32) -> CourseEvent {
    CourseEvent::SessionRescheduled {
        session_id: lecture1(),
        starts_at,
        duration_minutes,
        reason: "room flooded".into(),
        by: admin(),
        at: t(8, 40),
    }
}

fn restore(reason: &str) -> CourseCommand {
    CourseCommand::RestoreSession {
        session_id: lecture1(),
        reason: reason.into(),
        by: admin(),
        at: t(8, 45),
    }
}

#[test]
fn rescheduling_a_session_records_its_new_start_and_why() {
    CourseTest::with(())
        .given(vec![created(), scheduled(lecture1())])
        .when(reschedule(Some(t(14, 0)), None, "room flooded"))
        .then_expect_events(vec![rescheduled(t(14, 0), 90)]);
}

#[test]
fn rescheduling_can_change_the_length_alone() {
    CourseTest::with(())
        .given(vec![created(), scheduled(lecture1())])
        .when(reschedule(None, Some(60), "room flooded"))
        .then_expect_events(vec![rescheduled(t(9, 0), 60)]);
}

#[test]
fn rescheduling_requires_a_reason() {
    CourseTest::with(())
        .given(vec![created(), scheduled(lecture1())])
        .when(reschedule(Some(t(14, 0)), None, "  "))
        .then_expect_error(CourseError::ReasonRequired);
}

#[test]
fn a_cancelled_session_cannot_be_rescheduled_before_it_is_restored() {
    CourseTest::with(())
        .given(vec![
            created(),
            scheduled(lecture1()),
            cancelled(lecture1()),
        ])
        .when(reschedule(Some(t(14, 0)), None, "room flooded"))
        .then_expect_error(CourseError::SessionCancelled(lecture1()));
}

#[test]
fn a_rescheduled_session_starts_at_its_new_time() {
    let course = course(vec![
        created(),
        scheduled(lecture1()),
        rescheduled(t(14, 0), 60),
    ]);
    assert_eq!(course.sessions[&lecture1()].starts_at, t(14, 0));
    assert_eq!(course.sessions[&lecture1()].duration_minutes, 60);
}

#[test]
fn restoring_a_cancelled_session_records_why() {
    CourseTest::with(())
        .given(vec![
            created(),
            scheduled(lecture1()),
            cancelled(lecture1()),
        ])
        .when(restore("teacher is back"))
        .then_expect_events(vec![CourseEvent::SessionRestored {
            session_id: lecture1(),
            reason: "teacher is back".into(),
            by: admin(),
            at: t(8, 45),
        }]);
}

#[test]
fn restoring_requires_a_reason() {
    CourseTest::with(())
        .given(vec![
            created(),
            scheduled(lecture1()),
            cancelled(lecture1()),
        ])
        .when(restore(""))
        .then_expect_error(CourseError::ReasonRequired);
}

#[test]
fn restoring_a_session_that_is_not_cancelled_changes_nothing() {
    CourseTest::with(())
        .given(vec![created(), scheduled(lecture1())])
        .when(restore("just in case"))
        .then_expect_events(vec![]);
}

#[test]
fn a_restored_session_is_no_longer_cancelled() {
    let restored = CourseEvent::SessionRestored {
        session_id: lecture1(),
        reason: "back".into(),
        by: admin(),
        at: t(8, 45),
    };
    let course = course(vec![
        created(),
        scheduled(lecture1()),
        cancelled(lecture1()),
        restored,
    ]);
    assert!(!course.sessions[&lecture1()].cancelled);
}

#[test]
fn renaming_a_session_records_the_new_title() {
    CourseTest::with(())
        .given(vec![created(), scheduled(lecture1())])
        .when(CourseCommand::RenameSession {
            session_id: lecture1(),
            title: " Guest lecture ".into(),
            reason: Some("speaker confirmed".into()),
            by: admin(),
            at: t(8, 50),
        })
        .then_expect_events(vec![CourseEvent::SessionRenamed {
            session_id: lecture1(),
            title: "Guest lecture".into(),
            reason: Some("speaker confirmed".into()),
            by: admin(),
            at: t(8, 50),
        }]);
}

#[test]
fn a_session_cannot_be_renamed_to_nothing() {
    CourseTest::with(())
        .given(vec![created(), scheduled(lecture1())])
        .when(CourseCommand::RenameSession {
            session_id: lecture1(),
            title: "  ".into(),
            reason: None,
            by: admin(),
            at: t(8, 50),
        })
        .then_expect_error(CourseError::TitleRequired);
}

#[test]
fn changing_a_session_of_another_course_is_refused() {
    CourseTest::with(())
        .given(vec![created()])
        .when(reschedule(Some(t(14, 0)), None, "room flooded"))
        .then_expect_error(CourseError::SessionNotFound(lecture1()));
}

// ---------------------------------------------------------------- back-dated enrolment

#[test]
fn enrolling_an_enrolled_student_from_an_earlier_date_backdates_the_enrolment() {
    CourseTest::with(())
        .given(vec![created(), enrolled(alice(), sep(10))])
        .when(enrol(alice(), sep(1)))
        .then_expect_events(vec![CourseEvent::EnrollmentBackdated {
            student_id: alice(),
            effective_from: sep(1),
            by: admin(),
            at: t(8, 15),
        }]);
}

#[test]
fn a_backdated_enrolment_covers_the_earlier_days() {
    let backdated = CourseEvent::EnrollmentBackdated {
        student_id: alice(),
        effective_from: sep(1),
        by: admin(),
        at: t(8, 15),
    };
    let course = course(vec![created(), enrolled(alice(), sep(10)), backdated]);
    assert!(course.is_enrolled_on(&alice(), sep(2)));
}

#[test]
fn backdating_into_the_previous_enrolment_is_refused() {
    CourseTest::with(())
        .given(vec![
            created(),
            enrolled(alice(), sep(1)),
            unenrolled(alice(), sep(5)),
            enrolled(alice(), sep(10)),
        ])
        .when(enrol(alice(), sep(3)))
        .then_expect_error(CourseError::EnrollmentOverlaps(alice()));
}

#[test]
fn the_new_events_are_stored_under_their_frozen_names() {
    use cqrs_es::DomainEvent;
    let events = vec![
        zone_changed(chicago()),
        rescheduled(t(14, 0), 60),
        CourseEvent::SessionRestored {
            session_id: lecture1(),
            reason: "back".into(),
            by: admin(),
            at: t(8, 45),
        },
        CourseEvent::SessionRenamed {
            session_id: lecture1(),
            title: "Guest lecture".into(),
            reason: None,
            by: admin(),
            at: t(8, 50),
        },
        CourseEvent::EnrollmentBackdated {
            student_id: alice(),
            effective_from: sep(1),
            by: admin(),
            at: t(8, 15),
        },
    ];
    for event in events {
        // The read side re-tags a stored payload with its event type: they must agree.
        let payload = serde_json::to_value(&event).unwrap();
        let tag = payload.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(tag, event.event_type());
        let back: CourseEvent = serde_json::from_value(payload).unwrap();
        assert_eq!(back, event);
    }
}
