//! Password hashing with argon2id (salted, memory-hard), off the async threads.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::LazyLock;

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest accepted password (bounds hashing work per request).
pub const MAX_PASSWORD_LEN: usize = 256;

/// The most common passwords long enough to pass the length rule (from the public lists of
/// leaked passwords), compared without regard to case: the first ones an attacker tries.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123123123123",
    "111111111111",
    "000000000000",
    "123456123456",
    "987654321098",
    "121212121212",
    "password1234",
    "password12345",
    "password123456",
    "passwordpassword",
    "password123!",
    "p@ssw0rd1234",
    "passw0rd1234",
    "qwerty123456",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwertyuiopasdf",
    "qwertyqwerty",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "q1w2e3r4t5y6",
    "abc123456789",
    "abcdefghijkl",
    "abcd12345678",
    "iloveyou1234",
    "administrator",
    "admin1234567",
    "adminadmin123",
    "welcome12345",
    "welcome123456",
    "letmein12345",
    "changeme1234",
    "changeme123!",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "superman1234",
    "starwars1234",
    "trustno1trustno1",
    "monkey123456",
    "dragon123456",
    "master123456",
    "whatever1234",
    "michael12345",
    "computer1234",
    "internet1234",
    "asdfghjkl123",
    "asdfasdfasdf",
    "zxcvbnm12345",
    "aaaaaaaaaaaa",
    "attendance123",
    "attendance1234",
    "student12345",
    "teacher12345",
];

/// Which rule of the policy a password breaks (so a page can say it in its own language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    /// Shorter than [`MIN_PASSWORD_LEN`] characters.
    TooShort,
    /// Longer than [`MAX_PASSWORD_LEN`] characters.
    TooLong,
    /// The username itself.
    Username,
    /// One character repeated.
    Repeated,
    /// One of the most common passwords.
    Common,
}

impl Weakness {
    /// The rule as the JSON API says it (in English, after the field name).
    pub fn message(self) -> String {
        match self {
            Weakness::TooShort => format!("must be at least {MIN_PASSWORD_LEN} characters"),
            Weakness::TooLong => format!("must be at most {MAX_PASSWORD_LEN} characters"),
            Weakness::Username => "must not be the username".into(),
            Weakness::Repeated => "must not be one character repeated".into(),
            Weakness::Common => "is one of the most common passwords; choose another".into(),
        }
    }
}

/// The rule a password breaks, if any: at least [`MIN_PASSWORD_LEN`] characters (at most
/// [`MAX_PASSWORD_LEN`]), not the username, not one character repeated, and not one of the
/// most common passwords.
pub fn weakness(password: &str, username: &str) -> Option<Weakness> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Some(Weakness::TooShort);
    }
    if len > MAX_PASSWORD_LEN {
        return Some(Weakness::TooLong);
    }
    let folded = password.trim().to_lowercase();
    if folded == username.trim().to_lowercase() {
        return Some(Weakness::Username);
    }
    let mut chars = folded.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Some(Weakness::Repeated);
    }
    if COMMON.contains(&folded.as_str()) {
        return Some(Weakness::Common);
    }
    None
}

/// Why a password is refused ([`weakness`] in words), or `Ok`. Every password set goes
/// through it (accounts, changes, resets, the command line).
pub fn check_policy(password: &str, username: &str) -> Result<(), String> {
    match weakness(password, username) {
        Some(rule) => Err(rule.message()),
        None => Ok(()),
    }
}

/// A hash verified against when the username is unknown, so that unknown users and wrong
/// passwords take the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("not-a-real-password-0").unwrap_or_default());

fn hash_blocking(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// Hashes a password with a fresh random salt (PHC string, argon2id).
pub async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| e.to_string())?
}

/// Verifies a password against a stored hash, or against a dummy hash when there is none.
/// Returns false for a missing hash whatever the password.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        // argon2 compares the digests in constant time.
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        known && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::check_policy;

    #[test]
    fn a_password_needs_twelve_characters() {
        assert!(check_policy("eleven-char", "ada").is_err());
        assert!(check_policy("twelve-chars", "ada").is_ok());
    }

    #[test]
    fn a_password_may_not_be_the_username_in_any_case() {
        let refused = check_policy("Ada.Lovelace.1815", "ada.lovelace.1815").unwrap_err();
        assert_eq!(refused, "must not be the username");
    }

    #[test]
    fn a_common_password_is_refused_whatever_its_case() {
        assert!(check_policy("Password1234", "ada").is_err());
        assert!(check_policy("QWERTY123456", "ada").is_err());
    }

    #[test]
    fn one_character_repeated_is_refused() {
        assert!(check_policy("zzzzzzzzzzzzzzzz", "ada").is_err());
    }
}
