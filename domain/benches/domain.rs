//! Micro-benchmarks of the write model: folding a register's history, deciding a mark, and
//! the rate formula. `cargo bench -p attendance-domain`.

use chrono::{TimeZone, Utc};
use cqrs_es::Aggregate;
use domain::register::{Register, RegisterCommand, RegisterEvent};
use domain::{
    Actor, AttendancePolicy, CourseId, Method, Role, SessionId, Status, StudentId, Tally, UserId,
};

fn main() {
    divan::main();
}

fn actor() -> Actor {
    Actor {
        user_id: UserId::parse("u1").unwrap(),
        role: Role::Teacher,
    }
}

/// A register of `n` students, each marked once.
fn history(n: usize) -> Vec<RegisterEvent> {
    let at = Utc.with_ymd_and_hms(2026, 9, 7, 9, 0, 0).unwrap();
    let roster: Vec<_> = (0..n)
        .map(|i| StudentId::parse(format!("S{i}")).unwrap())
        .collect();
    let mut events = vec![RegisterEvent::RegisterOpened {
        session_id: SessionId::parse("s1").unwrap(),
        course_id: CourseId::parse("CS101").unwrap(),
        starts_at: at,
        roster: roster.clone(),
        by: actor(),
        at,
    }];
    events.extend(
        roster
            .into_iter()
            .map(|student_id| RegisterEvent::AttendanceRecorded {
                student_id,
                status: Status::Present,
                method: Method::Bulk,
                remark: None,
                by: actor(),
                at,
            }),
    );
    events
}

#[divan::bench(args = [50, 500])]
fn fold_a_register(bencher: divan::Bencher, students: usize) {
    let events = history(students);
    bencher.bench(|| {
        let mut register = Register::default();
        for event in events.iter().cloned() {
            register.apply(event);
        }
        register
    });
}

#[divan::bench]
fn decide_a_correction_on_500_students(bencher: divan::Bencher) {
    let mut register = Register::default();
    history(500).into_iter().for_each(|e| register.apply(e));
    let at = Utc.with_ymd_and_hms(2026, 9, 7, 10, 0, 0).unwrap();
    bencher.bench(|| {
        register.decide(RegisterCommand::CorrectAttendance {
            student_id: StudentId::parse("S250").unwrap(),
            status: Status::Late,
            reason: "bus".into(),
            method: Method::Manual,
            by: actor(),
            at,
        })
    });
}

#[divan::bench]
fn rate_of_a_tally() -> Option<f64> {
    let tally = Tally {
        present: divan::black_box(41),
        late: 7,
        excused: 3,
        absent: 9,
    };
    tally.rate(&AttendancePolicy::default())
}
