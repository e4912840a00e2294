//! Wrong check-in codes per student: past the allowed number within a minute, the student
//! waits until the oldest of them is a minute old (answered 429 with `Retry-After`). Kept
//! in the process's memory: behind a balancer each server counts its own.

use domain::StudentId;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Students remembered at most; past it, those with no recent failure are forgotten.
const MAX_STUDENTS: usize = 100_000;

/// Recent wrong codes, by student.
#[derive(Debug)]
pub struct Attempts {
    allowed: usize,
    failures: Mutex<HashMap<StudentId, VecDeque<Instant>>>,
}

impl Attempts {
    /// `allowed` wrong codes a minute per student (at least 1).
    pub fn per_minute(allowed: u32) -> Self {
        Attempts {
            allowed: allowed.max(1) as usize,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` while the student has used up their wrong codes.
    pub fn check(&self, student: &StudentId, now: Instant) -> Result<(), Duration> {
        let mut failures = self.lock();
        let Some(recent) = failures.get_mut(student) else {
            return Ok(());
        };
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            recent.pop_front();
        }
        match recent.front() {
            Some(oldest) if recent.len() >= self.allowed => {
                let wait = WINDOW.saturating_sub(now.duration_since(*oldest));
                Err(wait.max(Duration::from_secs(1)))
            }
            _ => Ok(()),
        }
    }

    /// Counts a wrong code.
    pub fn fail(&self, student: &StudentId, now: Instant) {
        let mut failures = self.lock();
        if failures.len() >= MAX_STUDENTS && !failures.contains_key(student) {
            failures.retain(|_, r| r.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        failures.entry(student.clone()).or_default().push_back(now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StudentId, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_student_past_the_allowed_wrong_codes_waits_and_another_does_not() {
        let attempts = Attempts::per_minute(2);
        let alice = StudentId::parse("s-alice").unwrap();
        let bob = StudentId::parse("s-bob").unwrap();
        let start = Instant::now();
        attempts.fail(&alice, start);
        assert!(attempts.check(&alice, start).is_ok());
        attempts.fail(&alice, start + Duration::from_secs(10));
        let wait = attempts.check(&alice, start + Duration::from_secs(20));
        assert_eq!(wait, Err(Duration::from_secs(40)));
        assert!(attempts.check(&bob, start).is_ok());
        assert!(attempts.check(&alice, start + WINDOW).is_ok());
    }
}
