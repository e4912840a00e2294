//! Students checking themselves in: a teacher opens a check-in window on the register (from
//! a time, until a time, late after N minutes, optionally only from listed networks) and
//! closes it; while it is open, a student on the roster checks in once and is marked present
//! or late with method `self`.
//!
//! The rotating code a student types is checked before the command comes here (its secret
//! never enters an event); the domain decides everything else. A student's own mark ranks
//! below staff's ([`super::writers`]): a check-in never replaces a mark someone else set, and
//! says so; staff correct a self mark as any other.

use super::aggregate::Decision;
use super::{Mark, Register, RegisterError, RegisterEvent};
use crate::{Actor, Method, Status, StudentId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The check-in window of a register, as last opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInWindow {
    /// Names this window (its code's secret is kept under it, outside the events).
    pub window_id: String,
    /// From when students may check in.
    pub opens_at: DateTime<Utc>,
    /// Until when (exclusive).
    pub closes_at: DateTime<Utc>,
    /// A check-in this many minutes after `opens_at` or later is `late`; none: never late.
    pub late_after_minutes: Option<u32>,
    /// The networks (CIDR) a check-in must come from; empty: any.
    pub networks: Vec<String>,
    /// Whether a person closed it.
    pub closed: bool,
}

impl CheckInWindow {
    /// Whether students may check in at `at` (not closed, and within its times).
    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        !self.closed && self.opens_at <= at && at < self.closes_at
    }

    /// The status a check-in at `at` gets by the window's late rule.
    pub fn status_at(&self, at: DateTime<Utc>) -> Status {
        match self.late_after_minutes {
            Some(minutes) if at >= self.opens_at + Duration::minutes(i64::from(minutes)) => {
                Status::Late
            }
            _ => Status::Present,
        }
    }

    /// Whether an address may check in (any, when no network is listed).
    pub fn allows(&self, address: Option<IpAddr>) -> bool {
        if self.networks.is_empty() {
            return true;
        }
        let Some(address) = address else {
            return false;
        };
        self.networks
            .iter()
            .filter_map(|n| Cidr::parse(n).ok())
            .any(|n| n.contains(address))
    }
}

/// A network in CIDR notation (`10.1.0.0/16`, `2001:db8::/32`; a bare address is one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses a network, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR network"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Cidr { network, prefix })
    }

    /// Whether the address is in the network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => same_prefix(
                u128::from(n.to_bits()),
                u128::from(a.to_bits()),
                32,
                self.prefix,
            ),
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                same_prefix(n.to_bits(), a.to_bits(), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(network: u128, address: u128, bits: u8, prefix: u8) -> bool {
    let shift = u32::from(bits - prefix);
    prefix == 0 || (network >> shift) == (address >> shift)
}

impl Register {
    /// The check-in window as last opened, if any.
    pub fn check_in_window(&self) -> Option<&CheckInWindow> {
        self.check_in.as_ref()
    }

    /// Opens a check-in window: refused on a closed register, while another window is still
    /// open, and for times or networks that make no sense.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn open_check_in(
        &self,
        window_id: String,
        opens_at: Option<DateTime<Utc>>,
        closes_at: DateTime<Utc>,
        late_after_minutes: Option<u32>,
        networks: Vec<String>,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Decision {
        if self.closed {
            return Err(RegisterError::Closed);
        }
        if self
            .check_in
            .as_ref()
            .is_some_and(|w| !w.closed && at < w.closes_at)
        {
            return Err(RegisterError::CheckInAlreadyOpen);
        }
        let opens_at = opens_at.unwrap_or(at);
        if closes_at <= opens_at || closes_at <= at {
            return Err(RegisterError::InvalidCheckIn {
                field: "closes_at",
                detail: "must be later than the opening time and than now".into(),
            });
        }
        let mut normalised = Vec::with_capacity(networks.len());
        for network in networks {
            Cidr::parse(&network).map_err(|detail| RegisterError::InvalidCheckIn {
                field: "networks",
                detail,
            })?;
            normalised.push(network.trim().to_string());
        }
        Ok(vec![RegisterEvent::CheckInOpened {
            window_id,
            opens_at,
            closes_at,
            late_after_minutes,
            networks: normalised,
            by,
            at,
        }])
    }

    /// Closes the open window; nothing when none is open.
    pub(super) fn close_check_in(&self, by: Actor, at: DateTime<Utc>) -> Vec<RegisterEvent> {
        match &self.check_in {
            Some(window) if !window.closed => vec![RegisterEvent::CheckInClosed {
                window_id: window.window_id.clone(),
                by,
                at,
            }],
            _ => Vec::new(),
        }
    }

    /// A student checks in through `window_id` (the window whose code they gave), from
    /// `address`, at `at`.
    pub(super) fn check_in(
        &self,
        student_id: StudentId,
        window_id: String,
        address: Option<IpAddr>,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Decision {
        let window = match &self.check_in {
            Some(window) if window.window_id == window_id => window,
            Some(_) => return Err(RegisterError::CheckInClosed),
            None => return Err(RegisterError::CheckInNotOpen),
        };
        if at < window.opens_at && !window.closed {
            return Err(RegisterError::CheckInNotYetOpen(window.opens_at));
        }
        if self.closed || !window.is_open_at(at) {
            return Err(RegisterError::CheckInClosed);
        }
        if !window.allows(address) {
            return Err(RegisterError::NetworkNotAllowed);
        }
        let Some(mark) = self.roster.get(&student_id) else {
            return Err(self.not_on_roster(student_id));
        };
        match mark {
            Some(Mark {
                method: Method::SelfCheckIn,
                ..
            }) => Ok(Vec::new()),
            Some(mark) => Err(RegisterError::MarkedByStaff {
                current: mark.status,
                method: mark.method,
            }),
            None => Ok(vec![RegisterEvent::AttendanceRecorded {
                student_id,
                status: window.status_at(at),
                method: Method::SelfCheckIn,
                remark: None,
                by,
                at,
            }]),
        }
    }

    /// How a check-in event changes the register.
    pub(super) fn apply_check_in(&mut self, event: RegisterEvent) {
        match event {
            RegisterEvent::CheckInOpened {
                window_id,
                opens_at,
                closes_at,
                late_after_minutes,
                networks,
                ..
            } => {
                self.check_in = Some(CheckInWindow {
                    window_id,
                    opens_at,
                    closes_at,
                    late_after_minutes,
                    networks,
                    closed: false,
                });
            }
            RegisterEvent::CheckInClosed { window_id, .. } => {
                if let Some(window) = self.check_in.as_mut().filter(|w| w.window_id == window_id) {
                    window.closed = true;
                }
            }
            _ => {}
        }
    }
}
