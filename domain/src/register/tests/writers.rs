//! The rule between writers, as a sheet, a re-scan, the close and a review meet a mark.

use super::*;
use crate::register::writers::{Outcome, Reading, Writer, outcome};
use crate::register::{HeldConflict, HeldKind, HeldMark, SheetCounts};

fn reviewer() -> Actor {
    Actor {
        user_id: UserId::parse("u-grace").unwrap(),
        role: Role::Teacher,
    }
}

/// The hold a sheet reading `sheet` leaves over the teacher's `register` mark taken `at`
/// with `method`, `why`.
fn conflict(
    student_id: StudentId,
    sheet: Status,
    register: Status,
    (method, at, why): (Method, DateTime<Utc>, Option<&str>),
    reason: &str,
) -> HeldMark {
    HeldMark {
        student_id,
        reason: reason.into(),
        candidates: vec![sheet],
        kind: HeldKind::Conflict,
        conflict: Some(HeldConflict {
            sheet,
            register,
            method,
            set_by: teacher(),
            set_at: at,
            why: why.map(String::from),
        }),
    }
}

fn held_on(sha: &str, held: Vec<HeldMark>) -> RegisterEvent {
    RegisterEvent::MarksHeldForReview {
        sheet_sha256: sha.into(),
        page: 1,
        held,
        by: teacher(),
        at: t(10, 0),
    }
}

fn resolve(student_id: StudentId, status: Status, reason: Option<&str>) -> RegisterCommand {
    RegisterCommand::ResolveReview {
        student_id,
        status,
        reason: reason.map(String::from),
        by: reviewer(),
        at: t(12, 0),
    }
}

fn keep(student_id: StudentId) -> RegisterCommand {
    RegisterCommand::KeepHeldMark {
        student_id,
        by: reviewer(),
        at: t(12, 0),
    }
}

fn resolved(student_id: StudentId, status: Status) -> RegisterEvent {
    RegisterEvent::ReviewResolved {
        student_id,
        status,
        by: reviewer(),
        at: t(12, 0),
    }
}

/// Alice marked present by hand at 09:05, then the sheet says late.
fn alice_present_by_hand_held_as_late() -> Vec<RegisterEvent> {
    vec![
        opened(),
        recorded(alice(), Status::Present),
        held_on(
            "aa",
            vec![conflict(
                alice(),
                Status::Late,
                Status::Present,
                (Method::Manual, t(9, 5), None),
                "the sheet says late; the register says present, set by u-ada at 2026-09-01 09:05 UTC (manual)",
            )],
        ),
    ]
}

// ---------------------------------------------------------------- a sheet over a person's mark

#[test]
fn a_sheet_never_changes_a_mark_a_person_set_and_holds_the_row_with_both_values() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Present)])
        .when(import("aa", vec![sheet_row(alice(), Status::Late)]))
        .then_expect_events(vec![
            alice_present_by_hand_held_as_late().remove(2),
            imported(
                "aa",
                SheetCounts {
                    late: 1,
                    held_conflict: 1,
                    ..Default::default()
                },
            ),
        ]);
}

#[test]
fn a_held_conflict_says_who_set_the_register_value_when_and_why() {
    let register = register(vec![
        opened(),
        recorded(alice(), Status::Absent),
        corrected(alice(), Status::Absent, Status::Excused),
    ]);
    let events = register
        .decide(import("aa", vec![sheet_row(alice(), Status::Present)]))
        .unwrap();
    let RegisterEvent::MarksHeldForReview { held, .. } = &events[0] else {
        panic!("a hold first: {events:?}");
    };
    assert_eq!(
        held[0].reason,
        "the sheet says present; the register says excused, set by u-ada at 2026-09-01 11:00 UTC \
         (manual: doctor's note)"
    );
    assert_eq!(
        held[0].conflict.as_ref().map(|c| c.why.as_deref()),
        Some(Some("doctor's note"))
    );
}

#[test]
fn a_sheet_that_agrees_with_a_persons_mark_changes_nothing() {
    RegisterTest::with(())
        .given(vec![opened(), bulk_recorded(alice(), Status::Present)])
        .when(import("aa", vec![sheet_row(alice(), Status::Present)]))
        .then_expect_events(vec![imported(
            "aa",
            SheetCounts {
                present: 1,
                ..Default::default()
            },
        )]);
}

#[test]
fn an_empty_row_never_replaces_a_mark_a_person_corrected() {
    // The doctor's note stands: the student wrote nothing because they were not there.
    RegisterTest::with(())
        .given(vec![
            opened(),
            recorded(alice(), Status::Absent),
            corrected(alice(), Status::Absent, Status::Excused),
        ])
        .when(import("aa", vec![sheet_row(alice(), Status::Absent)]))
        .then_expect_events(vec![imported(
            "aa",
            SheetCounts {
                absent: 1,
                ..Default::default()
            },
        )]);
}

#[test]
fn an_empty_row_on_a_rescan_never_replaces_the_sheets_own_mark() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            sheet_recorded(alice(), Status::Present),
            imported("aa", SheetCounts::default()),
        ])
        .when(import("bb", vec![sheet_row(alice(), Status::Absent)]))
        .then_expect_events(vec![imported(
            "bb",
            SheetCounts {
                absent: 1,
                ..Default::default()
            },
        )]);
}

// ---------------------------------------------------------------- re-scans

#[test]
fn a_rescan_never_changes_a_mark_a_person_corrected_since_the_first_scan() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            sheet_recorded(alice(), Status::Present),
            imported("aa", SheetCounts::default()),
            corrected(alice(), Status::Present, Status::Excused),
        ])
        .when(import("bb", vec![sheet_row(alice(), Status::Late)]))
        .then_expect_events(vec![
            held_on(
                "bb",
                vec![conflict(
                    alice(),
                    Status::Late,
                    Status::Excused,
                    (Method::Manual, t(11, 0), Some("doctor's note")),
                    "the sheet says late; the register says excused, set by u-ada at 2026-09-01 \
                     11:00 UTC (manual: doctor's note)",
                )],
            ),
            imported(
                "bb",
                SheetCounts {
                    late: 1,
                    held_conflict: 1,
                    ..Default::default()
                },
            ),
        ]);
}

#[test]
fn a_review_decision_is_a_persons_mark_that_a_rescan_never_changes() {
    let reviewed = RegisterEvent::AttendanceRecorded {
        student_id: carol(),
        status: Status::Late,
        method: Method::Sheet,
        remark: None,
        by: reviewer(),
        at: t(12, 0),
    };
    let events = register(vec![
        opened(),
        held_event("aa", carol()),
        reviewed,
        resolved(carol(), Status::Late),
    ])
    .decide(import("bb", vec![sheet_row(carol(), Status::Present)]))
    .unwrap();
    assert!(
        matches!(&events[0], RegisterEvent::MarksHeldForReview { held, .. }
            if held[0].kind == HeldKind::Conflict && held[0].student_id == carol()),
        "{events:?}"
    );
    assert_eq!(
        events.len(),
        2,
        "a hold and the import, no mark: {events:?}"
    );
}

// ---------------------------------------------------------------- the close's default

#[test]
fn a_sheet_replaces_the_absence_the_close_defaulted() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![alice(), bob(), carol()])])
        .when(import("aa", vec![sheet_row(alice(), Status::Present)]))
        .then_expect_events(vec![
            RegisterEvent::AttendanceCorrected {
                student_id: alice(),
                old_status: Status::Absent,
                new_status: Status::Present,
                reason: "paper sheet import".into(),
                method: Method::Sheet,
                by: teacher(),
                at: t(10, 0),
            },
            imported(
                "aa",
                SheetCounts {
                    present: 1,
                    ..Default::default()
                },
            ),
        ]);
}

#[test]
fn closing_defaults_only_students_nobody_marked_whoever_marked_the_others() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            sheet_recorded(alice(), Status::Late),
            recorded(bob(), Status::Excused),
        ])
        .when(close())
        .then_expect_events(vec![closed(vec![carol()])]);
}

// ---------------------------------------------------------------- review: keep or replace

#[test]
fn keeping_a_held_conflict_clears_the_hold_and_leaves_the_mark() {
    RegisterTest::with(())
        .given(alice_present_by_hand_held_as_late())
        .when(keep(alice()))
        .then_expect_events(vec![resolved(alice(), Status::Present)]);
}

#[test]
fn deciding_a_held_conflict_as_the_registers_status_keeps_it() {
    RegisterTest::with(())
        .given(alice_present_by_hand_held_as_late())
        .when(resolve(alice(), Status::Present, None))
        .then_expect_events(vec![resolved(alice(), Status::Present)]);
}

#[test]
fn replacing_a_held_conflict_is_a_correction_by_the_reviewer_with_their_reason() {
    RegisterTest::with(())
        .given(alice_present_by_hand_held_as_late())
        .when(resolve(
            alice(),
            Status::Late,
            Some("came in after the roll call"),
        ))
        .then_expect_events(vec![
            RegisterEvent::AttendanceCorrected {
                student_id: alice(),
                old_status: Status::Present,
                new_status: Status::Late,
                reason: "came in after the roll call".into(),
                method: Method::Sheet,
                by: reviewer(),
                at: t(12, 0),
            },
            resolved(alice(), Status::Late),
        ]);
}

#[test]
fn a_replacement_without_a_reason_gives_the_reviews_reason() {
    RegisterTest::with(())
        .given(alice_present_by_hand_held_as_late())
        .when(resolve(alice(), Status::Late, None))
        .then_expect_events(vec![
            RegisterEvent::AttendanceCorrected {
                student_id: alice(),
                old_status: Status::Present,
                new_status: Status::Late,
                reason: "review of a held sheet mark".into(),
                method: Method::Sheet,
                by: reviewer(),
                at: t(12, 0),
            },
            resolved(alice(), Status::Late),
        ]);
}

#[test]
fn a_blank_review_reason_is_no_reason() {
    RegisterTest::with(())
        .given(alice_present_by_hand_held_as_late())
        .when(resolve(alice(), Status::Late, Some("  ")))
        .then_expect_error(RegisterError::ReasonRequired);
}

#[test]
fn keeping_needs_a_mark_to_keep() {
    RegisterTest::with(())
        .given(vec![opened(), held_event("aa", carol())])
        .when(keep(carol()))
        .then_expect_error(RegisterError::NothingToKeep(carol()));
}

#[test]
fn keeping_a_row_that_is_not_held_is_refused() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Present)])
        .when(keep(alice()))
        .then_expect_error(RegisterError::NothingToReview(alice()));
}

// ---------------------------------------------------------------- the rule itself

#[test]
fn writers_rank_close_default_below_sheet_below_person() {
    assert!(Writer::CloseDefault < Writer::Sheet && Writer::Sheet < Writer::Person);
    assert_eq!(Writer::of(Method::Manual), Writer::Person);
    assert_eq!(Writer::of(Method::Bulk), Writer::Person);
    assert_eq!(Writer::of(Method::Sheet), Writer::Sheet);
    assert_eq!(Writer::of(Method::Close), Writer::CloseDefault);
}

#[test]
fn a_mark_kept_in_review_is_a_persons_from_then_on() {
    let mut register = register(vec![
        opened(),
        sheet_recorded(bob(), Status::Late),
        held_event("bb", bob()),
    ]);
    assert_eq!(
        register.roster[&bob()].as_ref().unwrap().writer,
        Writer::Sheet
    );
    register.apply(resolved(bob(), Status::Late));
    assert_eq!(
        register.roster[&bob()].as_ref().unwrap().writer,
        Writer::Person
    );
}

#[test]
fn an_automatic_writer_replaces_only_its_own_or_a_lower_writers_mark() {
    let mark = |writer| Mark {
        status: Status::Present,
        method: Method::Manual,
        by: teacher(),
        at: t(9, 5),
        remark: None,
        corrected: false,
        writer,
        reason: None,
    };
    let late = Reading::Saw(Status::Late);
    for (current, expected) in [
        (Writer::CloseDefault, "replace"),
        (Writer::Sheet, "replace"),
        (Writer::Person, "conflict"),
    ] {
        let current = mark(current);
        let got = match outcome(Writer::Sheet, late, Some(&current)) {
            Outcome::Replace(_, Status::Late) => "replace",
            Outcome::Conflict(_) => "conflict",
            other => panic!("{other:?}"),
        };
        assert_eq!(got, expected, "a sheet over a mark by {:?}", current.writer);
        assert_eq!(
            outcome(Writer::Sheet, Reading::Nothing, Some(&current)),
            Outcome::Keep(&current)
        );
    }
    assert_eq!(
        outcome(Writer::CloseDefault, Reading::Nothing, None),
        Outcome::Record(Status::Absent)
    );
}
