//! Attendance statuses and how a mark was taken.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An attendance status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Attended on time.
    Present,
    /// Attended, but late.
    Late,
    /// Absent with an accepted excuse.
    Excused,
    /// Absent.
    Absent,
}

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 4] = [
        Status::Present,
        Status::Late,
        Status::Excused,
        Status::Absent,
    ];

    /// The stored name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Present => "present",
            Status::Late => "late",
            Status::Excused => "excused",
            Status::Absent => "absent",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a mark was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// One mark entered by hand.
    Manual,
    /// Part of a roll call.
    Bulk,
    /// Read from a scanned paper sheet.
    Sheet,
    /// Defaulted to absent when the register was closed unmarked.
    Close,
    /// Part of a roll call imported from a file (a person decided the marks in it).
    Import,
    /// The student checked in themselves with the session's rotating code.
    #[serde(rename = "self")]
    SelfCheckIn,
}

impl Method {
    /// The stored name of the method.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Manual => "manual",
            Method::Bulk => "bulk",
            Method::Sheet => "sheet",
            Method::Close => "close",
            Method::Import => "import",
            Method::SelfCheckIn => "self",
        }
    }
}
