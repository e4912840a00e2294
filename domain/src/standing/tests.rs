//! Given/when/then tests of the Standing aggregate.

use super::{Cause, Figures, Standing, StandingCommand, StandingError, StandingEvent};
use crate::{Actor, CourseId, StudentId};
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

type StandingTest = TestFramework<Standing>;

fn cs101() -> CourseId {
    CourseId::parse("CS101").unwrap()
}

fn alice() -> StudentId {
    StudentId::parse("s-alice").unwrap()
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap()
}

fn cause(position: i64) -> Cause {
    Cause {
        position,
        event_type: "AttendanceRecorded".into(),
        aggregate_id: "cs101-l1".into(),
    }
}

/// Figures with the default policy's lines (75 %, 3 absences).
fn figures(rate: f64, streak: u32) -> Figures {
    Figures {
        rate: Some(rate),
        at_risk_below: 75.0,
        sessions_counted: 4,
        absence_streak: streak,
        streak_of: 3,
    }
}

fn evaluate(figures: Figures, position: i64) -> StandingCommand {
    StandingCommand::Evaluate {
        course_id: cs101(),
        student_id: alice(),
        figures,
        cause: cause(position),
        by: Actor::system(),
        at: at(),
    }
}

fn at_risk(figures: Figures, position: i64) -> StandingEvent {
    StandingEvent::StudentAtRisk {
        course_id: cs101(),
        student_id: alice(),
        figures,
        cause: cause(position),
        by: Actor::system(),
        at: at(),
    }
}

fn recovered(figures: Figures, position: i64) -> StandingEvent {
    StandingEvent::StudentRecovered {
        course_id: cs101(),
        student_id: alice(),
        figures,
        cause: cause(position),
        by: Actor::system(),
        at: at(),
    }
}

fn streak(figures: Figures, position: i64) -> StandingEvent {
    StandingEvent::AbsenceStreakReached {
        course_id: cs101(),
        student_id: alice(),
        figures,
        cause: cause(position),
        by: Actor::system(),
        at: at(),
    }
}

fn streak_ended(figures: Figures, position: i64) -> StandingEvent {
    StandingEvent::AbsenceStreakEnded {
        course_id: cs101(),
        student_id: alice(),
        figures,
        cause: cause(position),
        by: Actor::system(),
        at: at(),
    }
}

#[test]
fn a_rate_falling_below_the_threshold_puts_the_student_at_risk() {
    StandingTest::with(())
        .given_no_previous_events()
        .when(evaluate(figures(70.0, 1), 10))
        .then_expect_events(vec![at_risk(figures(70.0, 1), 10)]);
}

#[test]
fn a_rate_at_the_threshold_is_not_at_risk() {
    StandingTest::with(())
        .given_no_previous_events()
        .when(evaluate(figures(75.0, 0), 10))
        .then_expect_events(vec![]);
}

#[test]
fn staying_at_risk_records_nothing_more() {
    StandingTest::with(())
        .given(vec![at_risk(figures(70.0, 1), 10)])
        .when(evaluate(figures(60.0, 1), 11))
        .then_expect_events(vec![]);
}

#[test]
fn a_rate_back_at_the_threshold_is_a_recovery() {
    StandingTest::with(())
        .given(vec![at_risk(figures(70.0, 1), 10)])
        .when(evaluate(figures(75.0, 0), 12))
        .then_expect_events(vec![recovered(figures(75.0, 0), 12)]);
}

#[test]
fn a_student_without_a_counted_mark_recovers() {
    let none = Figures {
        rate: None,
        sessions_counted: 0,
        ..figures(0.0, 0)
    };
    StandingTest::with(())
        .given(vec![at_risk(figures(70.0, 1), 10)])
        .when(evaluate(none, 12))
        .then_expect_events(vec![recovered(none, 12)]);
}

#[test]
fn an_evaluation_already_seen_records_nothing() {
    StandingTest::with(())
        .given(vec![at_risk(figures(70.0, 1), 10)])
        .when(evaluate(figures(80.0, 0), 10))
        .then_expect_events(vec![]);
}

#[test]
fn an_evaluation_older_than_the_last_recorded_records_nothing() {
    StandingTest::with(())
        .given(vec![at_risk(figures(70.0, 1), 10)])
        .when(evaluate(figures(80.0, 0), 9))
        .then_expect_events(vec![]);
}

#[test]
fn a_streak_reaching_the_policy_is_recorded_once() {
    StandingTest::with(())
        .given_no_previous_events()
        .when(evaluate(figures(80.0, 3), 10))
        .then_expect_events(vec![streak(figures(80.0, 3), 10)]);
    StandingTest::with(())
        .given(vec![streak(figures(80.0, 3), 10)])
        .when(evaluate(figures(78.0, 4), 11))
        .then_expect_events(vec![]);
}

#[test]
fn a_streak_that_breaks_and_comes_back_is_a_new_crossing() {
    StandingTest::with(())
        .given(vec![streak(figures(80.0, 3), 10)])
        .when(evaluate(figures(81.0, 0), 11))
        .then_expect_events(vec![streak_ended(figures(81.0, 0), 11)]);
    StandingTest::with(())
        .given(vec![
            streak(figures(80.0, 3), 10),
            streak_ended(figures(81.0, 0), 11),
        ])
        .when(evaluate(figures(76.0, 3), 14))
        .then_expect_events(vec![streak(figures(76.0, 3), 14)]);
}

#[test]
fn one_event_can_cross_both_lines() {
    StandingTest::with(())
        .given_no_previous_events()
        .when(evaluate(figures(50.0, 3), 10))
        .then_expect_events(vec![
            at_risk(figures(50.0, 3), 10),
            streak(figures(50.0, 3), 10),
        ]);
}

#[test]
fn a_raised_threshold_crosses_without_a_new_mark() {
    let raised = Figures {
        at_risk_below: 90.0,
        ..figures(80.0, 0)
    };
    StandingTest::with(())
        .given_no_previous_events()
        .when(evaluate(raised, 20))
        .then_expect_events(vec![at_risk(raised, 20)]);
}

#[test]
fn a_streak_of_zero_never_warns() {
    let off = Figures {
        streak_of: 0,
        ..figures(80.0, 5)
    };
    StandingTest::with(())
        .given_no_previous_events()
        .when(evaluate(off, 10))
        .then_expect_events(vec![]);
}

#[test]
fn an_evaluation_of_another_student_is_refused() {
    let bob = StandingCommand::Evaluate {
        course_id: cs101(),
        student_id: StudentId::parse("s-bob").unwrap(),
        figures: figures(50.0, 0),
        cause: cause(11),
        by: Actor::system(),
        at: at(),
    };
    StandingTest::with(())
        .given(vec![at_risk(figures(70.0, 1), 10)])
        .when(bob)
        .then_expect_error(StandingError::WrongStanding {
            course_id: cs101(),
            student_id: alice(),
        });
}

#[test]
fn stored_names_are_frozen() {
    use cqrs_es::DomainEvent;
    assert_eq!(at_risk(figures(1.0, 0), 1).event_type(), "StudentAtRisk");
    assert_eq!(
        recovered(figures(1.0, 0), 1).event_type(),
        "StudentRecovered"
    );
    assert_eq!(
        streak(figures(1.0, 0), 1).event_type(),
        "AbsenceStreakReached"
    );
    assert_eq!(
        streak_ended(figures(1.0, 0), 1).event_type(),
        "AbsenceStreakEnded"
    );
}
