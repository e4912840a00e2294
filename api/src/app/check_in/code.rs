//! The rotating check-in code: an HMAC-SHA256 of the window's secret and the current time
//! step (15 s), cut to six digits as TOTP does (RFC 4226's dynamic truncation). The code of
//! the previous step is also accepted (a student who read it just before it changed); an
//! older one is answered as expired, anything else as wrong.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Seconds a code lasts.
pub const STEP_SECS: i64 = 15;
/// Digits of a code.
pub const DIGITS: usize = 6;
/// How many steps back a code is still recognised, to be answered "expired" rather than
/// "wrong" (two minutes).
const RECOGNISED_STEPS: i64 = 8;

/// The time step of an instant.
pub fn step_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECS)
}

/// Seconds until the code shown at `at` changes (1 to 15).
pub fn seconds_left(at: DateTime<Utc>) -> i64 {
    STEP_SECS - at.timestamp().rem_euclid(STEP_SECS)
}

/// The code of a step.
pub fn code_for(secret: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let word = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!(
        "{:0width$}",
        word % 10u32.pow(DIGITS as u32),
        width = DIGITS
    )
}

/// What a code given at `at` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The current step's or the previous one's.
    Valid,
    /// A code of this window, but older than the previous step.
    Expired,
    /// Not a code of this window.
    Wrong,
}

/// Checks a code against the window's secret (spaces and dashes in it are ignored).
pub fn verify(secret: &[u8], given: &str, at: DateTime<Utc>) -> Verdict {
    let given: String = given
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let step = step_of(at);
    let matches = |s: i64| same(code_for(secret, s).as_bytes(), given.as_bytes());
    if matches(step) | matches(step - 1) {
        Verdict::Valid
    } else if (2..=RECOGNISED_STEPS).any(|back| matches(step - back)) {
        Verdict::Expired
    } else {
        Verdict::Wrong
    }
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn a_code_is_six_digits_and_changes_every_step() {
        let first = code_for(SECRET, 100);
        assert_eq!(first.len(), 6);
        assert!(first.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(code_for(SECRET, 100), first);
        assert_ne!(code_for(SECRET, 101), first);
        assert_ne!(code_for(b"another secret", 100), first);
    }

    #[test]
    fn the_previous_step_is_accepted_and_older_ones_are_expired() {
        let now = at(1_500);
        let step = step_of(now);
        assert_eq!(verify(SECRET, &code_for(SECRET, step), now), Verdict::Valid);
        assert_eq!(
            verify(SECRET, &code_for(SECRET, step - 1), now),
            Verdict::Valid
        );
        assert_eq!(
            verify(SECRET, &code_for(SECRET, step - 2), now),
            Verdict::Expired
        );
        assert_eq!(
            verify(SECRET, &code_for(SECRET, step + 1), now),
            Verdict::Wrong
        );
        assert_eq!(
            verify(SECRET, &code_for(b"other", step), now),
            Verdict::Wrong
        );
    }

    #[test]
    fn a_code_read_just_before_the_change_still_works_after_it() {
        let read = at(1_514);
        let code = code_for(SECRET, step_of(read));
        assert_eq!(seconds_left(read), 1);
        assert_eq!(verify(SECRET, &code, at(1_515)), Verdict::Valid);
        assert_eq!(verify(SECRET, &code, at(1_530)), Verdict::Expired);
    }

    #[test]
    fn spaces_and_dashes_in_a_typed_code_are_ignored() {
        let now = at(3_000);
        let code = code_for(SECRET, step_of(now));
        let typed = format!("{}-{} ", &code[..3], &code[3..]);
        assert_eq!(verify(SECRET, &typed, now), Verdict::Valid);
    }
}
