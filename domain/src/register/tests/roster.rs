//! Given/when/then tests of a register that follows the roster, and of reopening.

use super::*;

fn amend(roster: Vec<StudentId>) -> RegisterCommand {
    RegisterCommand::AmendRoster {
        roster,
        reason: "back-dated enrolment".into(),
        by: teacher(),
        at: t(11, 0),
    }
}

fn amended(added: Vec<StudentId>, removed: Vec<StudentId>) -> RegisterEvent {
    RegisterEvent::RosterAmended {
        added,
        removed,
        reason: "back-dated enrolment".into(),
        by: teacher(),
        at: t(11, 0),
    }
}

fn reopen(reason: &str) -> RegisterCommand {
    RegisterCommand::ReopenRegister {
        reason: reason.into(),
        by: teacher(),
        at: t(12, 0),
    }
}

#[test]
fn amending_the_roster_names_who_was_added_and_who_removed() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(amend(vec![alice(), carol(), dave()]))
        .then_expect_events(vec![amended(vec![dave()], vec![bob()])]);
}

#[test]
fn amending_to_the_same_roster_changes_nothing() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(amend(vec![carol(), alice(), bob()]))
        .then_expect_events(vec![]);
}

#[test]
fn a_late_enrolee_can_be_marked_once_added() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            recorded(alice(), Status::Present),
            amended(vec![dave()], vec![]),
        ])
        .when(record(dave(), Status::Late))
        .then_expect_events(vec![RegisterEvent::AttendanceRecorded {
            student_id: dave(),
            status: Status::Late,
            method: Method::Manual,
            remark: None,
            by: teacher(),
            at: t(9, 5),
        }]);
}

#[test]
fn a_removed_student_cannot_be_marked_any_more() {
    RegisterTest::with(())
        .given(vec![opened(), amended(vec![], vec![bob()])])
        .when(record(bob(), Status::Present))
        .then_expect_error(RegisterError::RemovedFromRoster(bob()));
}

#[test]
fn a_removed_students_mark_cannot_be_corrected_either() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            recorded(bob(), Status::Absent),
            amended(vec![], vec![bob()]),
        ])
        .when(correct(bob(), Status::Present, "was there"))
        .then_expect_error(RegisterError::RemovedFromRoster(bob()));
}

#[test]
fn a_student_added_back_can_be_marked_again() {
    let register = register(vec![
        opened(),
        amended(vec![], vec![bob()]),
        amended(vec![bob()], vec![]),
    ]);
    assert_eq!(register.roster.get(&bob()), Some(&None));
    assert!(register.removed.is_empty());
}

#[test]
fn reopening_a_closed_register_records_why() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![alice(), bob(), carol()])])
        .when(reopen(" closed too early "))
        .then_expect_events(vec![RegisterEvent::RegisterReopened {
            reason: "closed too early".into(),
            by: teacher(),
            at: t(12, 0),
        }]);
}

#[test]
fn reopening_requires_a_reason() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![])])
        .when(reopen("  "))
        .then_expect_error(RegisterError::ReasonRequired);
}

#[test]
fn reopening_an_open_register_changes_nothing() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(reopen("just in case"))
        .then_expect_events(vec![]);
}

#[test]
fn a_reopened_register_takes_first_marks_again() {
    let register = register(vec![
        opened(),
        closed(vec![]),
        RegisterEvent::RegisterReopened {
            reason: "closed too early".into(),
            by: teacher(),
            at: t(12, 0),
        },
    ]);
    assert!(!register.closed);
}

#[test]
fn the_new_events_are_stored_under_their_frozen_names() {
    use cqrs_es::DomainEvent;
    let reopened = RegisterEvent::RegisterReopened {
        reason: "closed too early".into(),
        by: teacher(),
        at: t(12, 0),
    };
    for event in [amended(vec![dave()], vec![bob()]), reopened] {
        let payload = serde_json::to_value(&event).unwrap();
        let tag = payload.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(tag, event.event_type());
    }
}
