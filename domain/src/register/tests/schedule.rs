//! Given/when/then tests of the scheduler's close: like a person's close, except that it
//! never acts twice and never undoes a person's reopening.

use super::*;

fn on_schedule() -> RegisterCommand {
    RegisterCommand::CloseRegisterOnSchedule {
        by: Actor::system(),
        at: t(13, 0),
    }
}

fn closed_by_system(defaulted_absent: Vec<StudentId>) -> RegisterEvent {
    RegisterEvent::RegisterClosed {
        defaulted_absent,
        by: Actor::system(),
        at: t(13, 0),
    }
}

fn reopened() -> RegisterEvent {
    RegisterEvent::RegisterReopened {
        reason: "a late student came with a note".into(),
        by: teacher(),
        at: t(12, 0),
    }
}

#[test]
fn the_scheduled_close_marks_only_the_unmarked_students_absent_as_the_system() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Present)])
        .when(on_schedule())
        .then_expect_events(vec![closed_by_system(vec![bob(), carol()])]);
}

#[test]
fn the_scheduled_close_of_a_closed_register_changes_nothing() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![alice(), bob(), carol()])])
        .when(on_schedule())
        .then_expect_events(vec![]);
}

#[test]
fn a_register_a_person_reopened_is_not_closed_by_the_scheduler() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![bob()]), reopened()])
        .when(on_schedule())
        .then_expect_events(vec![]);
}

#[test]
fn a_person_can_still_close_a_reopened_register() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![]), reopened()])
        .when(close())
        .then_expect_events(vec![closed(vec![alice(), bob(), carol()])]);
}

#[test]
fn the_system_actor_is_no_account() {
    let system = Actor::system();
    assert!(system.is_system());
    assert_eq!(system.user_id.as_str(), "system");
    assert!(!teacher().is_system());
}
