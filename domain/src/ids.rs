//! Validated identifier newtypes.
//!
//! Ids end up as NATS subject tokens and URL path segments, so they are restricted to
//! `[A-Za-z0-9_-]`: no dots, wildcards, spaces or slashes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string is empty.
    #[error("must not be empty")]
    Empty,
    /// The string is longer than the id kind allows.
    #[error("must be at most {max} characters")]
    TooLong {
        /// The maximum length.
        max: usize,
    },
    /// The string holds a character outside `[A-Za-z0-9_-]`.
    #[error("may only contain letters A-Z, digits, '_' and '-' (found {found:?})")]
    BadCharacter {
        /// The first offending character.
        found: char,
    },
}

fn check_token(value: &str, max: usize) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty);
    }
    if let Some(found) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(IdError::BadCharacter { found });
    }
    if value.len() > max {
        return Err(IdError::TooLong { max });
    }
    Ok(())
}

macro_rules! token_id {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Longest accepted id.
            pub const MAX_LEN: usize = $max;

            /// Validates and wraps an id.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_token(&value, $max)?;
                Ok(Self(value))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_id!(
    /// A course code such as `CS101`; the id of the `Course` aggregate.
    CourseId,
    32
);
token_id!(
    /// A session id; the id of that session's `Register` aggregate.
    SessionId,
    64
);
token_id!(
    /// The institution's student number.
    StudentId,
    32
);
token_id!(
    /// A user account id.
    UserId,
    64
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_letters_digits_dash_and_underscore() {
        assert_eq!(CourseId::parse("CS-101_a").unwrap().as_str(), "CS-101_a");
    }

    #[test]
    fn rejects_subject_wildcards_dots_and_spaces() {
        for bad in ["CS.101", "*", ">", "CS 101", "a/b"] {
            assert!(matches!(
                CourseId::parse(bad),
                Err(IdError::BadCharacter { .. })
            ));
        }
    }

    #[test]
    fn rejects_empty_and_overlong_ids() {
        assert_eq!(StudentId::parse(""), Err(IdError::Empty));
        assert_eq!(
            CourseId::parse("x".repeat(33)),
            Err(IdError::TooLong { max: 32 })
        );
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<CourseId>("\"CS.1\"").is_err());
        assert!(serde_json::from_str::<CourseId>("\"CS1\"").is_ok());
    }
}
