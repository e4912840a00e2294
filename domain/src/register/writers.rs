//! The one rule between the writers of a mark: what an automatic writer may do to a mark
//! that is already there.
//!
//! People decide a student's mark: a manual mark, a roll call, a correction, a review
//! decision. Automatic writers only fill in what nobody decided: a scanned paper sheet, and
//! the close, which defaults unmarked students to absent. Writers rank, lowest first, close
//! default < sheet < person, and an automatic writer offering a reading for a student:
//!
//! | the mark now | it saw a status (a filled bubble) | it saw nothing (an empty row, the close) |
//! |---|---|---|
//! | nothing recorded | record it | record absent |
//! | the same status | agree: nothing | agree: nothing |
//! | set by the same writer or a lower one | replace it (a correction) | keep: nothing |
//! | set by a higher writer (a person) | conflict: held for review, the mark stands | keep: nothing |
//!
//! Seeing nothing is absent only where nothing is recorded: an empty row is what a student
//! who never held the pen leaves, so it says nothing against a mark. A writer added later
//! takes its place in the ranking and follows the same table: a student's own check-in ranks
//! above the sheet and below staff (a sheet never replaces it, it never replaces what staff
//! set: [`super::check_in`]). People are not ruled here: they record and correct with their
//! own commands.

use super::Mark;
use crate::{Method, Status};
use serde::{Deserialize, Serialize};

/// Who last wrote a mark, ranked by whose word counts more (lowest first).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Writer {
    /// The close, defaulting a student nobody marked to absent.
    CloseDefault,
    /// A scanned paper sheet of the session.
    Sheet,
    /// The student, checking in themselves: above the sheet (a sheet never replaces it),
    /// below staff (it never replaces what a person set).
    Student,
    /// A person deciding about the student: a manual mark, a roll call, a correction, a
    /// review decision.
    #[default]
    Person,
}

impl Writer {
    /// The writer of a mark taken with `method`. A review decision's mark carries `sheet` (its
    /// status came from the paper) and becomes a person's once the review is resolved.
    pub fn of(method: Method) -> Writer {
        match method {
            Method::Manual | Method::Bulk | Method::Import => Writer::Person,
            Method::Sheet => Writer::Sheet,
            Method::Close => Writer::CloseDefault,
            Method::SelfCheckIn => Writer::Student,
        }
    }

    /// The stored name of the writer.
    pub fn as_str(self) -> &'static str {
        match self {
            Writer::CloseDefault => "close_default",
            Writer::Sheet => "sheet",
            Writer::Student => "student",
            Writer::Person => "person",
        }
    }
}

/// What an automatic writer has to say about a student.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// It saw this status (a filled bubble).
    Saw(Status),
    /// It saw nothing (an empty row; a student nobody marked before the close): absent, but
    /// only where nothing is recorded.
    Nothing,
}

impl Reading {
    /// The status this reading records where nothing is recorded.
    pub fn status(self) -> Status {
        match self {
            Reading::Saw(status) => status,
            Reading::Nothing => Status::Absent,
        }
    }
}

/// What an automatic writer's reading does to a student's mark (the mark concerned, where
/// there is one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome<'a> {
    /// Nothing is recorded: the reading is recorded as this status.
    Record(Status),
    /// The mark already says so: nothing happens.
    Agree,
    /// Seeing nothing never replaces a mark: it stands.
    Keep(&'a Mark),
    /// The writer's own earlier mark, or a lower writer's, is corrected to this status.
    Replace(&'a Mark, Status),
    /// A higher writer (a person) set a different status: the mark stands, and the
    /// difference is for a person to review.
    Conflict(&'a Mark),
}

/// The rule: what `writer`'s `reading` does to `current`, the student's mark.
pub fn outcome(writer: Writer, reading: Reading, current: Option<&Mark>) -> Outcome<'_> {
    let Some(mark) = current else {
        return Outcome::Record(reading.status());
    };
    if mark.status == reading.status() {
        return Outcome::Agree;
    }
    let Reading::Saw(status) = reading else {
        return Outcome::Keep(mark);
    };
    if mark.writer <= writer {
        Outcome::Replace(mark, status)
    } else {
        Outcome::Conflict(mark)
    }
}
