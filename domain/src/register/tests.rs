//! Given/when/then tests of the Register aggregate.

use super::{
    Mark, Register, RegisterCommand, RegisterError, RegisterEvent, RollCallMark, RowProblem,
};
use crate::{Actor, CourseId, Method, Role, SessionId, Status, StudentId, UserId};
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;

mod check_in;
mod roster;
mod schedule;
mod writers;

type RegisterTest = TestFramework<Register>;

// ---------------------------------------------------------------- helpers

fn lecture1() -> SessionId {
    SessionId::parse("cs101-l1").unwrap()
}

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

fn dave() -> StudentId {
    StudentId::parse("s-dave").unwrap()
}

/// A student who is not on the roster.
fn mallory() -> StudentId {
    StudentId::parse("s-mallory").unwrap()
}

fn teacher() -> Actor {
    Actor {
        user_id: UserId::parse("u-ada").unwrap(),
        role: Role::Teacher,
    }
}

/// A time on the fixed date 2026-09-01.
fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, h, m, 0).unwrap()
}

fn row(student_id: StudentId, status: Status) -> RollCallMark {
    RollCallMark {
        student_id,
        status,
        remark: None,
    }
}

// Events.

/// The register of lecture 1, opened with alice, bob and carol.
fn opened() -> RegisterEvent {
    RegisterEvent::RegisterOpened {
        session_id: lecture1(),
        course_id: cs101(),
        starts_at: t(9, 0),
        roster: vec![alice(), bob(), carol()],
        by: teacher(),
        at: t(8, 55),
    }
}

fn recorded(student_id: StudentId, status: Status) -> RegisterEvent {
    RegisterEvent::AttendanceRecorded {
        student_id,
        status,
        method: Method::Manual,
        remark: None,
        by: teacher(),
        at: t(9, 5),
    }
}

fn bulk_recorded(student_id: StudentId, status: Status) -> RegisterEvent {
    RegisterEvent::AttendanceRecorded {
        student_id,
        status,
        method: Method::Bulk,
        remark: None,
        by: teacher(),
        at: t(9, 10),
    }
}

fn corrected(student_id: StudentId, old_status: Status, new_status: Status) -> RegisterEvent {
    RegisterEvent::AttendanceCorrected {
        student_id,
        old_status,
        new_status,
        reason: "doctor's note".into(),
        method: Method::Manual,
        by: teacher(),
        at: t(11, 0),
    }
}

fn closed(defaulted_absent: Vec<StudentId>) -> RegisterEvent {
    RegisterEvent::RegisterClosed {
        defaulted_absent,
        by: teacher(),
        at: t(10, 30),
    }
}

// Commands.

fn open(roster: Vec<StudentId>) -> RegisterCommand {
    RegisterCommand::OpenRegister {
        session_id: lecture1(),
        course_id: cs101(),
        starts_at: t(9, 0),
        roster,
        by: teacher(),
        at: t(8, 55),
    }
}

fn record(student_id: StudentId, status: Status) -> RegisterCommand {
    RegisterCommand::RecordAttendance {
        student_id,
        status,
        method: Method::Manual,
        remark: None,
        by: teacher(),
        at: t(9, 5),
    }
}

fn roll_call(marks: Vec<RollCallMark>) -> RegisterCommand {
    RegisterCommand::RecordRollCall {
        marks,
        only_unmarked: false,
        by: teacher(),
        at: t(9, 10),
    }
}

fn roll_call_of_unmarked(marks: Vec<RollCallMark>) -> RegisterCommand {
    RegisterCommand::RecordRollCall {
        marks,
        only_unmarked: true,
        by: teacher(),
        at: t(9, 10),
    }
}

fn correct(student_id: StudentId, status: Status, reason: &str) -> RegisterCommand {
    RegisterCommand::CorrectAttendance {
        student_id,
        status,
        reason: reason.into(),
        method: Method::Manual,
        by: teacher(),
        at: t(11, 0),
    }
}

fn close() -> RegisterCommand {
    RegisterCommand::CloseRegister {
        by: teacher(),
        at: t(10, 30),
    }
}

/// A register built by applying events, for state queries.
fn register(events: Vec<RegisterEvent>) -> Register {
    let mut register = Register::default();
    for event in events {
        register.apply(event);
    }
    register
}

// ---------------------------------------------------------------- open

#[test]
fn opening_a_register_records_the_session_and_its_roster() {
    RegisterTest::with(())
        .given_no_previous_events()
        .when(open(vec![alice(), bob(), carol()]))
        .then_expect_events(vec![opened()]);
}

#[test]
fn opening_a_register_deduplicates_and_sorts_the_roster() {
    RegisterTest::with(())
        .given_no_previous_events()
        .when(open(vec![carol(), alice(), bob(), alice(), carol()]))
        .then_expect_events(vec![opened()]);
}

#[test]
fn opening_a_register_twice_is_refused() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(open(vec![alice()]))
        .then_expect_error(RegisterError::AlreadyOpened);
}

#[test]
fn every_other_command_needs_an_opened_register() {
    let commands = vec![
        record(alice(), Status::Present),
        roll_call(vec![row(alice(), Status::Present)]),
        correct(alice(), Status::Present, "doctor's note"),
        close(),
    ];
    for command in commands {
        RegisterTest::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error(RegisterError::NotOpened);
    }
}

#[test]
fn an_opened_register_has_every_student_unmarked() {
    let register = register(vec![opened()]);
    assert!(register.is_open());
    assert!(!register.closed);
    assert_eq!(register.session_id, Some(lecture1()));
    assert_eq!(register.course_id, Some(cs101()));
    assert_eq!(register.starts_at, Some(t(9, 0)));
    assert_eq!(
        register.roster.keys().cloned().collect::<Vec<_>>(),
        vec![alice(), bob(), carol()]
    );
    assert!(register.roster.values().all(Option::is_none));
    assert_eq!(register.status_of(&alice()), None);
}

// ---------------------------------------------------------------- record

#[test]
fn recording_a_first_mark_records_it() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(record(alice(), Status::Present))
        .then_expect_events(vec![recorded(alice(), Status::Present)]);
}

#[test]
fn recording_keeps_the_method_and_remark() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(RegisterCommand::RecordAttendance {
            student_id: bob(),
            status: Status::Late,
            method: Method::Sheet,
            remark: Some("bus was late".into()),
            by: teacher(),
            at: t(9, 20),
        })
        .then_expect_events(vec![RegisterEvent::AttendanceRecorded {
            student_id: bob(),
            status: Status::Late,
            method: Method::Sheet,
            remark: Some("bus was late".into()),
            by: teacher(),
            at: t(9, 20),
        }]);
}

#[test]
fn recording_a_student_not_on_the_roster_is_refused() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(record(mallory(), Status::Present))
        .then_expect_error(RegisterError::NotOnRoster(mallory()));
}

#[test]
fn recording_the_same_status_again_changes_nothing() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Present)])
        .when(record(alice(), Status::Present))
        .then_expect_events(vec![]);
}

#[test]
fn recording_a_different_status_requires_a_correction() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Absent)])
        .when(record(alice(), Status::Present))
        .then_expect_error(RegisterError::CorrectionRequired {
            student_id: alice(),
            current: Status::Absent,
        });
}

#[test]
fn recording_after_closing_is_refused() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            recorded(alice(), Status::Present),
            closed(vec![bob(), carol()]),
        ])
        .when(record(bob(), Status::Present))
        .then_expect_error(RegisterError::Closed);
}

#[test]
fn recording_the_same_status_after_closing_still_changes_nothing() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            recorded(alice(), Status::Present),
            closed(vec![bob(), carol()]),
        ])
        .when(record(alice(), Status::Present))
        .then_expect_events(vec![]);
}

#[test]
fn recording_a_defaulted_absence_again_after_closing_changes_nothing() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![alice(), bob(), carol()])])
        .when(record(bob(), Status::Absent))
        .then_expect_events(vec![]);
}

#[test]
fn a_recorded_mark_shows_in_the_state() {
    let register = register(vec![opened(), recorded(alice(), Status::Late)]);
    assert_eq!(register.status_of(&alice()), Some(Status::Late));
    assert_eq!(
        register.roster[&alice()],
        Some(Mark {
            status: Status::Late,
            method: Method::Manual,
            by: teacher(),
            at: t(9, 5),
            remark: None,
            corrected: false,
            writer: super::Writer::Person,
            reason: None,
        })
    );
    assert_eq!(register.status_of(&bob()), None);
}

// ---------------------------------------------------------------- roll call

#[test]
fn a_roll_call_records_every_row_as_bulk() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(roll_call(vec![
            row(carol(), Status::Late),
            row(alice(), Status::Present),
            row(bob(), Status::Absent),
        ]))
        .then_expect_events(vec![
            bulk_recorded(carol(), Status::Late),
            bulk_recorded(alice(), Status::Present),
            bulk_recorded(bob(), Status::Absent),
        ]);
}

#[test]
fn a_roll_call_keeps_each_rows_remark() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(roll_call(vec![RollCallMark {
            student_id: alice(),
            status: Status::Excused,
            remark: Some("sick note".into()),
        }]))
        .then_expect_events(vec![RegisterEvent::AttendanceRecorded {
            student_id: alice(),
            status: Status::Excused,
            method: Method::Bulk,
            remark: Some("sick note".into()),
            by: teacher(),
            at: t(9, 10),
        }]);
}

#[test]
fn an_empty_roll_call_is_refused() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(roll_call(vec![]))
        .then_expect_error(RegisterError::EmptyRollCall);
}

#[test]
fn a_roll_call_naming_a_student_twice_is_refused_at_the_repeated_row() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(roll_call(vec![
            row(alice(), Status::Present),
            row(bob(), Status::Present),
            row(alice(), Status::Present),
        ]))
        .then_expect_error(RegisterError::RollCallRefused(vec![RowProblem {
            index: 2,
            student_id: alice(),
            problem: RegisterError::DuplicateRow(alice()),
        }]));
}

#[test]
fn one_bad_row_refuses_the_whole_roll_call() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(roll_call(vec![
            row(alice(), Status::Present),
            row(mallory(), Status::Present),
            row(bob(), Status::Present),
        ]))
        .then_expect_error(RegisterError::RollCallRefused(vec![RowProblem {
            index: 1,
            student_id: mallory(),
            problem: RegisterError::NotOnRoster(mallory()),
        }]));
}

#[test]
fn a_refused_roll_call_lists_every_bad_row_with_its_index() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(bob(), Status::Absent)])
        .when(roll_call(vec![
            row(alice(), Status::Present),
            row(mallory(), Status::Present),
            row(bob(), Status::Present),
            row(alice(), Status::Late),
            row(carol(), Status::Present),
        ]))
        .then_expect_error(RegisterError::RollCallRefused(vec![
            RowProblem {
                index: 1,
                student_id: mallory(),
                problem: RegisterError::NotOnRoster(mallory()),
            },
            RowProblem {
                index: 2,
                student_id: bob(),
                problem: RegisterError::CorrectionRequired {
                    student_id: bob(),
                    current: Status::Absent,
                },
            },
            RowProblem {
                index: 3,
                student_id: alice(),
                problem: RegisterError::DuplicateRow(alice()),
            },
        ]));
}

#[test]
fn a_roll_call_repeating_existing_marks_records_only_the_new_ones() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Present)])
        .when(roll_call(vec![
            row(alice(), Status::Present),
            row(bob(), Status::Late),
        ]))
        .then_expect_events(vec![bulk_recorded(bob(), Status::Late)]);
}

#[test]
fn a_roll_call_of_unmarked_students_skips_the_marked_ones() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Absent)])
        .when(roll_call_of_unmarked(vec![
            row(alice(), Status::Present),
            row(bob(), Status::Present),
            row(carol(), Status::Late),
        ]))
        .then_expect_events(vec![
            bulk_recorded(bob(), Status::Present),
            bulk_recorded(carol(), Status::Late),
        ]);
}

#[test]
fn a_roll_call_of_unmarked_students_still_refuses_students_off_the_roster() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(roll_call_of_unmarked(vec![
            row(alice(), Status::Present),
            row(mallory(), Status::Present),
        ]))
        .then_expect_error(RegisterError::RollCallRefused(vec![RowProblem {
            index: 1,
            student_id: mallory(),
            problem: RegisterError::NotOnRoster(mallory()),
        }]));
}

#[test]
fn a_roll_call_after_closing_is_refused_row_by_row() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![alice(), bob(), carol()])])
        .when(roll_call(vec![
            row(alice(), Status::Absent),
            row(bob(), Status::Present),
        ]))
        .then_expect_error(RegisterError::RollCallRefused(vec![RowProblem {
            index: 1,
            student_id: bob(),
            problem: RegisterError::Closed,
        }]));
}

// ---------------------------------------------------------------- correct

#[test]
fn correcting_a_mark_records_the_old_and_the_new_status() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Absent)])
        .when(correct(alice(), Status::Excused, "doctor's note"))
        .then_expect_events(vec![corrected(alice(), Status::Absent, Status::Excused)]);
}

#[test]
fn correcting_a_mark_requires_a_reason() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Absent)])
        .when(correct(alice(), Status::Present, ""))
        .then_expect_error(RegisterError::ReasonRequired);
}

#[test]
fn a_blank_reason_is_no_reason() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Absent)])
        .when(correct(alice(), Status::Present, "  \n\t "))
        .then_expect_error(RegisterError::ReasonRequired);
}

#[test]
fn correcting_an_unmarked_student_is_refused() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(correct(alice(), Status::Present, "doctor's note"))
        .then_expect_error(RegisterError::NotMarked(alice()));
}

#[test]
fn correcting_a_student_not_on_the_roster_is_refused() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(correct(mallory(), Status::Present, "doctor's note"))
        .then_expect_error(RegisterError::NotOnRoster(mallory()));
}

#[test]
fn correcting_to_the_current_status_changes_nothing() {
    RegisterTest::with(())
        .given(vec![opened(), recorded(alice(), Status::Late)])
        .when(correct(alice(), Status::Late, "doctor's note"))
        .then_expect_events(vec![]);
}

#[test]
fn a_second_correction_keeps_the_corrected_status_as_old_status() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            recorded(alice(), Status::Absent),
            corrected(alice(), Status::Absent, Status::Late),
        ])
        .when(correct(alice(), Status::Excused, "doctor's note"))
        .then_expect_events(vec![corrected(alice(), Status::Late, Status::Excused)]);
}

#[test]
fn corrections_are_accepted_after_closing() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![alice(), bob(), carol()])])
        .when(correct(bob(), Status::Excused, "doctor's note"))
        .then_expect_events(vec![corrected(bob(), Status::Absent, Status::Excused)]);
}

#[test]
fn a_corrected_mark_keeps_its_remark_and_shows_it_was_corrected() {
    let register = register(vec![
        opened(),
        RegisterEvent::AttendanceRecorded {
            student_id: alice(),
            status: Status::Absent,
            method: Method::Bulk,
            remark: Some("no show".into()),
            by: teacher(),
            at: t(9, 10),
        },
        corrected(alice(), Status::Absent, Status::Excused),
    ]);
    assert_eq!(
        register.roster[&alice()],
        Some(Mark {
            status: Status::Excused,
            method: Method::Manual,
            by: teacher(),
            at: t(11, 0),
            remark: Some("no show".into()),
            corrected: true,
            writer: super::Writer::Person,
            reason: Some("doctor's note".into()),
        })
    );
}

// ---------------------------------------------------------------- close

#[test]
fn closing_defaults_unmarked_students_to_absent_in_roster_order() {
    RegisterTest::with(())
        .given(vec![
            RegisterEvent::RegisterOpened {
                session_id: lecture1(),
                course_id: cs101(),
                starts_at: t(9, 0),
                roster: vec![alice(), bob(), carol(), dave()],
                by: teacher(),
                at: t(8, 55),
            },
            recorded(bob(), Status::Present),
        ])
        .when(close())
        .then_expect_events(vec![closed(vec![alice(), carol(), dave()])]);
}

#[test]
fn closing_a_fully_marked_register_defaults_nobody() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            recorded(alice(), Status::Present),
            recorded(bob(), Status::Late),
            recorded(carol(), Status::Excused),
        ])
        .when(close())
        .then_expect_events(vec![closed(vec![])]);
}

#[test]
fn closing_a_register_twice_changes_nothing() {
    RegisterTest::with(())
        .given(vec![opened(), closed(vec![alice(), bob(), carol()])])
        .when(close())
        .then_expect_events(vec![]);
}

#[test]
fn after_closing_the_defaulted_students_are_absent_by_close() {
    let register = register(vec![
        opened(),
        recorded(alice(), Status::Present),
        closed(vec![bob(), carol()]),
    ]);
    assert!(register.closed);
    assert_eq!(register.status_of(&alice()), Some(Status::Present));
    for student in [bob(), carol()] {
        assert_eq!(
            register.roster[&student],
            Some(Mark {
                status: Status::Absent,
                method: Method::Close,
                by: teacher(),
                at: t(10, 30),
                remark: None,
                corrected: false,
                writer: super::Writer::CloseDefault,
                reason: None,
            })
        );
    }
    assert_eq!(
        register.roster[&alice()].as_ref().map(|mark| mark.method),
        Some(Method::Manual)
    );
}

// ---------------------------------------------------------------- paper sheets

fn sheet_row(student_id: StudentId, status: Status) -> super::SheetRow {
    super::SheetRow {
        student_id,
        read: super::SheetRead::Mark(status),
    }
}

fn held_row(student_id: StudentId) -> super::SheetRow {
    super::SheetRow {
        student_id,
        read: super::SheetRead::Held {
            reason: "two or more bubbles filled".into(),
            candidates: vec![Status::Present, Status::Late],
        },
    }
}

fn import(sha: &str, rows: Vec<super::SheetRow>) -> RegisterCommand {
    RegisterCommand::ImportSheetPage {
        sha256: sha.into(),
        page: 1,
        pages: 1,
        rows,
        by: teacher(),
        at: t(10, 0),
    }
}

fn sheet_recorded(student_id: StudentId, status: Status) -> RegisterEvent {
    RegisterEvent::AttendanceRecorded {
        student_id,
        status,
        method: Method::Sheet,
        remark: None,
        by: teacher(),
        at: t(10, 0),
    }
}

fn imported(sha: &str, counts: super::SheetCounts) -> RegisterEvent {
    RegisterEvent::SheetImported {
        sha256: sha.into(),
        page: 1,
        pages: 1,
        counts,
        by: teacher(),
        at: t(10, 0),
    }
}

fn held_event(sha: &str, student_id: StudentId) -> RegisterEvent {
    RegisterEvent::MarksHeldForReview {
        sheet_sha256: sha.into(),
        page: 1,
        held: vec![super::HeldMark {
            student_id,
            reason: "two or more bubbles filled".into(),
            candidates: vec![Status::Present, Status::Late],
            kind: super::HeldKind::Unclear,
            conflict: None,
        }],
        by: teacher(),
        at: t(10, 0),
    }
}

#[test]
fn a_sheet_page_records_clear_rows_and_holds_uncertain_ones() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(import(
            "aa",
            vec![
                sheet_row(alice(), Status::Present),
                sheet_row(bob(), Status::Absent),
                held_row(carol()),
            ],
        ))
        .then_expect_events(vec![
            sheet_recorded(alice(), Status::Present),
            sheet_recorded(bob(), Status::Absent),
            held_event("aa", carol()),
            imported(
                "aa",
                super::SheetCounts {
                    present: 1,
                    absent: 1,
                    held: 1,
                    ..Default::default()
                },
            ),
        ]);
}

#[test]
fn the_same_page_imported_twice_changes_nothing() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            sheet_recorded(alice(), Status::Present),
            imported("aa", super::SheetCounts::default()),
        ])
        .when(import("aa", vec![sheet_row(alice(), Status::Late)]))
        .then_expect_events(vec![]);
}

#[test]
fn a_rescan_with_a_changed_bubble_is_a_correction() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            sheet_recorded(alice(), Status::Present),
            imported("aa", super::SheetCounts::default()),
        ])
        .when(import(
            "bb",
            vec![
                sheet_row(alice(), Status::Late),
                sheet_row(bob(), Status::Present),
            ],
        ))
        .then_expect_events(vec![
            RegisterEvent::AttendanceCorrected {
                student_id: alice(),
                old_status: Status::Present,
                new_status: Status::Late,
                reason: "sheet re-scan".into(),
                method: Method::Sheet,
                by: teacher(),
                at: t(10, 0),
            },
            sheet_recorded(bob(), Status::Present),
            imported(
                "bb",
                super::SheetCounts {
                    present: 1,
                    late: 1,
                    ..Default::default()
                },
            ),
        ]);
}

#[test]
fn a_sheet_row_for_a_student_not_on_the_roster_refuses_the_page() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(import(
            "aa",
            vec![
                sheet_row(alice(), Status::Present),
                sheet_row(mallory(), Status::Late),
            ],
        ))
        .then_expect_error(RegisterError::NotOnRoster(mallory()));
}

#[test]
fn resolving_a_held_mark_records_it_and_clears_the_hold() {
    let mut register = Register::default();
    for event in [opened(), held_event("aa", carol())] {
        register.apply(event);
    }
    assert!(register.held.contains_key(&carol()));
    let events = register
        .decide(RegisterCommand::ResolveReview {
            student_id: carol(),
            status: Status::Late,
            reason: None,
            by: teacher(),
            at: t(11, 0),
        })
        .unwrap();
    assert!(matches!(
        &events[0],
        RegisterEvent::AttendanceRecorded {
            status: Status::Late,
            method: Method::Sheet,
            ..
        }
    ));
    assert!(matches!(
        &events[1],
        RegisterEvent::ReviewResolved {
            status: Status::Late,
            ..
        }
    ));
    for event in events {
        register.apply(event);
    }
    assert!(register.held.is_empty());
    assert_eq!(register.status_of(&carol()), Some(Status::Late));
    assert_eq!(
        register.decide(RegisterCommand::ResolveReview {
            student_id: carol(),
            status: Status::Late,
            reason: None,
            by: teacher(),
            at: t(11, 0),
        }),
        Err(RegisterError::NothingToReview(carol()))
    );
}

#[test]
fn a_manual_mark_also_clears_a_hold() {
    let mut register = Register::default();
    for event in [
        opened(),
        held_event("aa", carol()),
        recorded(carol(), Status::Present),
    ] {
        register.apply(event);
    }
    assert!(register.held.is_empty());
}
