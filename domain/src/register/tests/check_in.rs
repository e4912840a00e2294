//! Students checking themselves in: the window, the late rule, the networks, and a mark
//! someone else set.

use super::*;
use crate::register::{CheckInWindow, Cidr};
use std::net::IpAddr;

fn alice_account() -> Actor {
    Actor {
        user_id: UserId::parse("u-alice").unwrap(),
        role: Role::Student,
    }
}

/// Check-in open from 9:00 until 9:30, late from 9:10.
fn window_opened(networks: Vec<&str>) -> RegisterEvent {
    RegisterEvent::CheckInOpened {
        window_id: "w1".into(),
        opens_at: t(9, 0),
        closes_at: t(9, 30),
        late_after_minutes: Some(10),
        networks: networks.into_iter().map(String::from).collect(),
        by: teacher(),
        at: t(8, 58),
    }
}

fn given(events: Vec<RegisterEvent>) -> Register {
    let mut register = Register::default();
    for event in events {
        register.apply(event);
    }
    register
}

fn check_in_from(student_id: StudentId, at: DateTime<Utc>, address: &str) -> RegisterCommand {
    RegisterCommand::CheckIn {
        student_id,
        window_id: "w1".into(),
        address: Some(address.parse().unwrap()),
        by: alice_account(),
        at,
    }
}

fn check_in(student_id: StudentId, at: DateTime<Utc>) -> RegisterCommand {
    check_in_from(student_id, at, "10.1.2.3")
}

fn checked_in(student_id: StudentId, status: Status, at: DateTime<Utc>) -> RegisterEvent {
    RegisterEvent::AttendanceRecorded {
        student_id,
        status,
        method: Method::SelfCheckIn,
        remark: None,
        by: alice_account(),
        at,
    }
}

fn open_window(
    opens_at: Option<DateTime<Utc>>,
    closes_at: DateTime<Utc>,
    networks: Vec<&str>,
) -> RegisterCommand {
    RegisterCommand::OpenCheckIn {
        window_id: "w1".into(),
        opens_at,
        closes_at,
        late_after_minutes: Some(10),
        networks: networks.into_iter().map(String::from).collect(),
        by: teacher(),
        at: t(8, 58),
    }
}

#[test]
fn a_teacher_opens_check_in_from_a_set_time_until_a_set_time() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(open_window(Some(t(9, 0)), t(9, 30), vec![]))
        .then_expect_events(vec![window_opened(vec![])]);
}

#[test]
fn check_in_opened_without_a_time_opens_now() {
    let events = given(vec![opened()])
        .decide(open_window(None, t(9, 30), vec![]))
        .unwrap();
    let RegisterEvent::CheckInOpened { opens_at, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(*opens_at, t(8, 58));
}

#[test]
fn a_window_that_ends_before_it_opens_is_refused() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(open_window(Some(t(9, 30)), t(9, 0), vec![]))
        .then_expect_error(RegisterError::InvalidCheckIn {
            field: "closes_at",
            detail: "must be later than the opening time and than now".into(),
        });
}

#[test]
fn a_network_that_is_not_cidr_is_refused() {
    let refused = given(vec![opened()]).decide(open_window(None, t(9, 30), vec!["10.0.0.0/33"]));
    assert!(
        matches!(
            refused,
            Err(RegisterError::InvalidCheckIn {
                field: "networks",
                ..
            })
        ),
        "{refused:?}"
    );
}

#[test]
fn a_second_window_cannot_open_while_one_is_open() {
    RegisterTest::with(())
        .given(vec![opened(), window_opened(vec![])])
        .when(open_window(None, t(10, 0), vec![]))
        .then_expect_error(RegisterError::CheckInAlreadyOpen);
}

#[test]
fn a_student_checking_in_before_the_late_time_is_present() {
    RegisterTest::with(())
        .given(vec![opened(), window_opened(vec![])])
        .when(check_in(alice(), t(9, 9)))
        .then_expect_events(vec![checked_in(alice(), Status::Present, t(9, 9))]);
}

#[test]
fn a_student_checking_in_after_n_minutes_is_late() {
    RegisterTest::with(())
        .given(vec![opened(), window_opened(vec![])])
        .when(check_in(alice(), t(9, 10)))
        .then_expect_events(vec![checked_in(alice(), Status::Late, t(9, 10))]);
}

#[test]
fn a_second_check_in_changes_nothing() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            window_opened(vec![]),
            checked_in(alice(), Status::Present, t(9, 1)),
        ])
        .when(check_in(alice(), t(9, 20)))
        .then_expect_events(vec![]);
}

#[test]
fn a_check_in_never_replaces_a_mark_a_teacher_set() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            window_opened(vec![]),
            recorded(alice(), Status::Absent),
        ])
        .when(check_in(alice(), t(9, 5)))
        .then_expect_error(RegisterError::MarkedByStaff {
            current: Status::Absent,
            method: Method::Manual,
        });
}

#[test]
fn a_teacher_corrects_a_self_mark_as_any_other() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            window_opened(vec![]),
            checked_in(alice(), Status::Present, t(9, 1)),
        ])
        .when(correct(alice(), Status::Absent, "left after the code"))
        .then_expect_events(vec![RegisterEvent::AttendanceCorrected {
            student_id: alice(),
            old_status: Status::Present,
            new_status: Status::Absent,
            reason: "left after the code".into(),
            method: Method::Manual,
            by: teacher(),
            at: t(11, 0),
        }]);
}

#[test]
fn a_student_not_on_the_roster_cannot_check_in() {
    RegisterTest::with(())
        .given(vec![opened(), window_opened(vec![])])
        .when(check_in(mallory(), t(9, 5)))
        .then_expect_error(RegisterError::NotOnRoster(mallory()));
}

#[test]
fn no_check_in_before_the_window_opens() {
    RegisterTest::with(())
        .given(vec![opened(), window_opened(vec![])])
        .when(check_in(alice(), t(8, 59)))
        .then_expect_error(RegisterError::CheckInNotYetOpen(t(9, 0)));
}

#[test]
fn no_check_in_once_the_window_is_over() {
    RegisterTest::with(())
        .given(vec![opened(), window_opened(vec![])])
        .when(check_in(alice(), t(9, 30)))
        .then_expect_error(RegisterError::CheckInClosed);
}

#[test]
fn no_check_in_after_the_teacher_closed_it() {
    let closed_window = RegisterEvent::CheckInClosed {
        window_id: "w1".into(),
        by: teacher(),
        at: t(9, 15),
    };
    RegisterTest::with(())
        .given(vec![opened(), window_opened(vec![]), closed_window])
        .when(check_in(alice(), t(9, 16)))
        .then_expect_error(RegisterError::CheckInClosed);
}

#[test]
fn no_check_in_on_a_register_without_a_window() {
    RegisterTest::with(())
        .given(vec![opened()])
        .when(check_in(alice(), t(9, 5)))
        .then_expect_error(RegisterError::CheckInNotOpen);
}

#[test]
fn no_check_in_on_a_register_nobody_opened() {
    RegisterTest::with(())
        .given_no_previous_events()
        .when(check_in(alice(), t(9, 5)))
        .then_expect_error(RegisterError::CheckInNotOpen);
}

#[test]
fn no_check_in_on_a_closed_register() {
    RegisterTest::with(())
        .given(vec![opened(), window_opened(vec![]), closed(vec![])])
        .when(check_in(alice(), t(9, 5)))
        .then_expect_error(RegisterError::CheckInClosed);
}

#[test]
fn a_check_in_from_another_network_is_refused() {
    RegisterTest::with(())
        .given(vec![opened(), window_opened(vec!["192.168.10.0/24"])])
        .when(check_in_from(alice(), t(9, 5), "192.168.11.7"))
        .then_expect_error(RegisterError::NetworkNotAllowed);
}

#[test]
fn a_check_in_from_a_listed_network_is_recorded() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            window_opened(vec!["192.168.10.0/24", "2001:db8::/32"]),
        ])
        .when(check_in_from(alice(), t(9, 5), "192.168.10.200"))
        .then_expect_events(vec![checked_in(alice(), Status::Present, t(9, 5))]);
}

#[test]
fn closing_check_in_twice_changes_nothing_the_second_time() {
    RegisterTest::with(())
        .given(vec![
            opened(),
            window_opened(vec![]),
            RegisterEvent::CheckInClosed {
                window_id: "w1".into(),
                by: teacher(),
                at: t(9, 15),
            },
        ])
        .when(RegisterCommand::CloseCheckIn {
            by: teacher(),
            at: t(9, 16),
        })
        .then_expect_events(vec![]);
}

#[test]
fn networks_match_by_prefix_and_mapped_addresses_count_as_ipv4() {
    let net = Cidr::parse("10.1.0.0/16").unwrap();
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert!(net.contains(ip("10.1.255.3")));
    assert!(!net.contains(ip("10.2.0.1")));
    assert!(net.contains(ip("::ffff:10.1.0.9")));
    assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    assert!(
        Cidr::parse("2001:db8::/32")
            .unwrap()
            .contains(ip("2001:db8:1::1"))
    );
    assert!(Cidr::parse("10.0.0.1").unwrap().contains(ip("10.0.0.1")));
    assert!(Cidr::parse("not-an-ip/8").is_err());
}

#[test]
fn a_window_without_networks_allows_an_unknown_address() {
    let window = CheckInWindow {
        window_id: "w".into(),
        opens_at: t(9, 0),
        closes_at: t(10, 0),
        late_after_minutes: None,
        networks: vec![],
        closed: false,
    };
    assert!(window.allows(None));
    assert_eq!(window.status_at(t(9, 59)), Status::Present);
}

#[test]
fn stored_registers_without_check_in_still_read() {
    let register: Register = serde_json::from_value(serde_json::json!({
        "session_id": null, "course_id": null, "starts_at": null, "roster": {}, "closed": false
    }))
    .unwrap();
    assert!(register.check_in_window().is_none());
}
