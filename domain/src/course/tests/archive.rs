//! Given/when/then tests of archiving a course: hidden, no new sessions, history kept.

use super::*;

fn archived() -> CourseEvent {
    CourseEvent::CourseArchived {
        reason: Some("not offered any more".into()),
        by: admin(),
        at: t(10, 0),
    }
}

fn restored() -> CourseEvent {
    CourseEvent::CourseRestored {
        by: admin(),
        at: t(11, 0),
    }
}

fn archive() -> CourseCommand {
    CourseCommand::ArchiveCourse {
        reason: Some("not offered any more".into()),
        by: admin(),
        at: t(10, 0),
    }
}

#[test]
fn archiving_a_course_records_who_and_why() {
    CourseTest::with(())
        .given(vec![created()])
        .when(archive())
        .then_expect_events(vec![archived()]);
}

#[test]
fn archiving_an_archived_course_changes_nothing() {
    CourseTest::with(())
        .given(vec![created(), archived()])
        .when(archive())
        .then_expect_events(vec![]);
}

#[test]
fn a_course_that_does_not_exist_cannot_be_archived() {
    CourseTest::with(())
        .given_no_previous_events()
        .when(archive())
        .then_expect_error(CourseError::NotFound);
}

#[test]
fn an_archived_course_takes_no_new_session() {
    CourseTest::with(())
        .given(vec![created(), archived()])
        .when(CourseCommand::ScheduleSession {
            session_id: lecture1(),
            title: "Lecture 1".into(),
            starts_at: t(9, 0),
            duration_minutes: 90,
            by: admin(),
            at: t(12, 0),
        })
        .then_expect_error(CourseError::Archived);
}

#[test]
fn an_archived_course_keeps_its_sessions_and_students() {
    let mut course = Course::default();
    for event in [
        created(),
        enrolled(alice(), sep(1)),
        scheduled(lecture1()),
        archived(),
    ] {
        course.apply(event);
    }
    assert!(course.archived);
    assert!(course.sessions.contains_key(&lecture1()));
    assert!(course.is_enrolled_on(&alice(), sep(1)));
}

#[test]
fn a_restored_course_takes_sessions_again() {
    CourseTest::with(())
        .given(vec![created(), archived(), restored()])
        .when(CourseCommand::ScheduleSession {
            session_id: lecture1(),
            title: "Lecture 1".into(),
            starts_at: t(9, 0),
            duration_minutes: 90,
            by: admin(),
            at: t(8, 25),
        })
        .then_expect_events(vec![scheduled(lecture1())]);
}

#[test]
fn restoring_a_course_that_is_not_archived_changes_nothing() {
    CourseTest::with(())
        .given(vec![created()])
        .when(CourseCommand::RestoreCourse {
            by: admin(),
            at: t(11, 0),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_course_stored_before_archiving_existed_reads_as_not_archived() {
    let mut stored = serde_json::to_value(Course::default()).unwrap();
    stored.as_object_mut().unwrap().remove("archived");
    let course: Course = serde_json::from_value(stored).unwrap();
    assert!(!course.archived);
}

#[test]
fn the_archive_events_have_frozen_stored_names() {
    use cqrs_es::DomainEvent;
    assert_eq!(archived().event_type(), "CourseArchived");
    assert_eq!(restored().event_type(), "CourseRestored");
    let payload = serde_json::to_value(archived()).unwrap();
    assert_eq!(payload["CourseArchived"]["reason"], "not offered any more");
}
