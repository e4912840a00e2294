//! Who did something: every event carries its actor.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A user's role; it decides what the user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May do everything.
    Admin,
    /// May manage attendance in the courses they are assigned to.
    Teacher,
    /// May read their own records.
    Student,
}

impl Role {
    /// The stored name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Teacher => "teacher",
            Role::Student => "student",
        }
    }

    /// Parses a stored role name.
    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "teacher" => Some(Role::Teacher),
            "student" => Some(Role::Student),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The user behind a command or event: an id and a role, never a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user's id.
    pub user_id: UserId,
    /// The user's role when acting.
    pub role: Role,
}

impl Actor {
    /// The id of the scheduler's actor. User ids are 32 hex digits, so no account has it.
    pub const SYSTEM_ID: &'static str = "system";

    /// The actor of automatic work nobody asked for at that moment (the scheduler's close of
    /// a register): user id `system`, with an administrator's rights.
    pub fn system() -> Actor {
        Actor {
            user_id: UserId::parse(Self::SYSTEM_ID).expect("`system` is a valid id"),
            role: Role::Admin,
        }
    }

    /// Whether this is [`Actor::system`].
    pub fn is_system(&self) -> bool {
        self.user_id.as_str() == Self::SYSTEM_ID
    }
}
