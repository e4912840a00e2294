//! The attendance policy and the one attendance-rate formula.
//!
//! `rate = sum of status weights / number of counted marks`, in percent, over the sessions
//! where the student was enrolled and marked. With the default policy present and late
//! weigh 1, absent 0, and excused marks are not counted at all; a student is at risk below
//! 75 %. A student with no counted mark has no rate (and is not at risk).

use crate::status::Status;
use serde::{Deserialize, Serialize};

/// How much each status is worth towards the attendance rate (0.0 to 1.0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusWeights {
    /// Weight of a present mark.
    pub present: f64,
    /// Weight of a late mark.
    pub late: f64,
    /// Weight of an excused mark (used only when excused marks are counted).
    pub excused: f64,
    /// Weight of an absent mark.
    pub absent: f64,
}

/// A course's attendance policy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendancePolicy {
    /// Weight per status.
    pub weights: StatusWeights,
    /// Whether excused marks count in the denominator (with their weight).
    pub count_excused: bool,
    /// A student whose rate is below this percentage is at risk.
    pub at_risk_below: f64,
    /// Close each register automatically this many minutes after its session ends (the
    /// students still unmarked become absent); `None` (the default) leaves it to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_after_minutes: Option<u32>,
    /// Absences in a row that warn (the early warning's `AbsenceStreakReached`); policies
    /// stored before it read as 3.
    #[serde(default = "default_absence_streak")]
    pub absence_streak: u32,
}

fn default_absence_streak() -> u32 {
    AttendancePolicy::DEFAULT_ABSENCE_STREAK
}

impl Default for AttendancePolicy {
    fn default() -> Self {
        AttendancePolicy {
            weights: StatusWeights {
                present: 1.0,
                late: 1.0,
                excused: 1.0,
                absent: 0.0,
            },
            count_excused: false,
            at_risk_below: 75.0,
            close_after_minutes: None,
            absence_streak: AttendancePolicy::DEFAULT_ABSENCE_STREAK,
        }
    }
}

/// Why a policy is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// A weight is outside 0..=1 (or not a number).
    #[error("weight of {status} must be between 0 and 1")]
    WeightOutOfRange {
        /// The status whose weight is wrong.
        status: Status,
    },
    /// The at-risk threshold is outside 0..=100.
    #[error("at_risk_below must be between 0 and 100")]
    ThresholdOutOfRange,
    /// The automatic close is set to more than a month after the session.
    #[error("close_after_minutes must be at most {max} (30 days)", max = AttendancePolicy::MAX_CLOSE_AFTER_MINUTES)]
    CloseAfterOutOfRange,
    /// The absence streak that warns is not between 1 and the maximum.
    #[error("absence_streak must be between 1 and {max}", max = AttendancePolicy::MAX_ABSENCE_STREAK)]
    StreakOutOfRange,
}

impl AttendancePolicy {
    /// The latest automatic close: 30 days after the session ends.
    pub const MAX_CLOSE_AFTER_MINUTES: u32 = 30 * 24 * 60;
    /// The absence streak that warns unless a policy says otherwise.
    pub const DEFAULT_ABSENCE_STREAK: u32 = 3;
    /// The longest absence streak a policy may wait for.
    pub const MAX_ABSENCE_STREAK: u32 = 100;

    /// When the scheduler closes a register of a session that ends at `ends_at`, if the
    /// policy closes registers at all.
    pub fn closes_at(
        &self,
        ends_at: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.close_after_minutes
            .map(|minutes| ends_at + chrono::Duration::minutes(i64::from(minutes)))
    }

    /// Checks that weights and threshold are in range.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for status in Status::ALL {
            let weight = self.weight(status);
            if !(0.0..=1.0).contains(&weight) {
                return Err(PolicyError::WeightOutOfRange { status });
            }
        }
        if !(0.0..=100.0).contains(&self.at_risk_below) {
            return Err(PolicyError::ThresholdOutOfRange);
        }
        if self
            .close_after_minutes
            .is_some_and(|minutes| minutes > Self::MAX_CLOSE_AFTER_MINUTES)
        {
            return Err(PolicyError::CloseAfterOutOfRange);
        }
        if !(1..=Self::MAX_ABSENCE_STREAK).contains(&self.absence_streak) {
            return Err(PolicyError::StreakOutOfRange);
        }
        Ok(())
    }

    /// The weight of one status.
    pub fn weight(&self, status: Status) -> f64 {
        match status {
            Status::Present => self.weights.present,
            Status::Late => self.weights.late,
            Status::Excused => self.weights.excused,
            Status::Absent => self.weights.absent,
        }
    }

    /// Whether a mark with this status is counted in the rate.
    pub fn counts(&self, status: Status) -> bool {
        status != Status::Excused || self.count_excused
    }

    /// Whether a rate (percent) is below the at-risk threshold.
    pub fn is_at_risk(&self, rate: Option<f64>) -> bool {
        rate.is_some_and(|rate| rate < self.at_risk_below)
    }
}

/// Counts of marks per status for one student (or one session).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Present marks.
    pub present: u32,
    /// Late marks.
    pub late: u32,
    /// Excused marks.
    pub excused: u32,
    /// Absent marks.
    pub absent: u32,
}

impl Tally {
    /// Adds one mark.
    pub fn add(&mut self, status: Status) {
        *self.slot(status) += 1;
    }

    /// Removes one mark (used when a mark is corrected).
    pub fn remove(&mut self, status: Status) {
        let slot = self.slot(status);
        *slot = slot.saturating_sub(1);
    }

    /// The count for one status.
    pub fn count(&self, status: Status) -> u32 {
        match status {
            Status::Present => self.present,
            Status::Late => self.late,
            Status::Excused => self.excused,
            Status::Absent => self.absent,
        }
    }

    fn slot(&mut self, status: Status) -> &mut u32 {
        match status {
            Status::Present => &mut self.present,
            Status::Late => &mut self.late,
            Status::Excused => &mut self.excused,
            Status::Absent => &mut self.absent,
        }
    }

    /// All marks, counted or not.
    pub fn total(&self) -> u32 {
        self.present + self.late + self.excused + self.absent
    }

    /// The attendance rate in percent (rounded to 0.01), or `None` with no counted mark.
    pub fn rate(&self, policy: &AttendancePolicy) -> Option<f64> {
        let mut counted = 0u32;
        let mut sum = 0.0;
        for status in Status::ALL {
            if policy.counts(status) {
                let n = self.count(status);
                counted += n;
                sum += policy.weight(status) * f64::from(n);
            }
        }
        (counted > 0).then(|| (sum / f64::from(counted) * 10_000.0).round() / 100.0)
    }

    /// Tallies the marks of the sessions the student was enrolled in.
    ///
    /// `sessions` yields each session's day and the student's mark there (`None` while
    /// unmarked); `enrolled_on` says whether the student was enrolled that day.
    pub fn over_sessions<D>(
        sessions: impl IntoIterator<Item = (D, Option<Status>)>,
        enrolled_on: impl Fn(&D) -> bool,
    ) -> Tally {
        let mut tally = Tally::default();
        for (day, status) in sessions {
            if let Some(status) = status.filter(|_| enrolled_on(&day)) {
                tally.add(status);
            }
        }
        tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(present: u32, late: u32, excused: u32, absent: u32) -> Tally {
        Tally {
            present,
            late,
            excused,
            absent,
        }
    }

    #[test]
    fn the_automatic_close_is_off_by_default_and_comes_that_long_after_the_end() {
        let mut policy = AttendancePolicy::default();
        let ends: chrono::DateTime<chrono::Utc> = "2026-09-01T10:00:00Z".parse().unwrap();
        assert_eq!(policy.closes_at(ends), None);
        policy.close_after_minutes = Some(90);
        assert_eq!(
            policy.closes_at(ends),
            Some("2026-09-01T11:30:00Z".parse().unwrap())
        );
    }

    #[test]
    fn an_automatic_close_later_than_thirty_days_is_refused() {
        let mut policy = AttendancePolicy {
            close_after_minutes: Some(AttendancePolicy::MAX_CLOSE_AFTER_MINUTES),
            ..AttendancePolicy::default()
        };
        assert_eq!(policy.validate(), Ok(()));
        policy.close_after_minutes = Some(AttendancePolicy::MAX_CLOSE_AFTER_MINUTES + 1);
        assert_eq!(policy.validate(), Err(PolicyError::CloseAfterOutOfRange));
    }

    #[test]
    fn a_policy_stored_before_the_automatic_close_reads_as_off() {
        let stored = r#"{"weights":{"present":1.0,"late":1.0,"excused":1.0,"absent":0.0},"count_excused":false,"at_risk_below":75.0}"#;
        let policy: AttendancePolicy = serde_json::from_str(stored).unwrap();
        assert_eq!(policy, AttendancePolicy::default());
    }

    #[test]
    fn a_policy_stored_before_the_absence_streak_warns_after_three() {
        let stored = r#"{"weights":{"present":1.0,"late":1.0,"excused":1.0,"absent":0.0},"count_excused":false,"at_risk_below":75.0,"close_after_minutes":30}"#;
        let policy: AttendancePolicy = serde_json::from_str(stored).unwrap();
        assert_eq!(policy.absence_streak, 3);
    }

    #[test]
    fn an_absence_streak_of_zero_or_past_the_maximum_is_refused() {
        let mut policy = AttendancePolicy {
            absence_streak: 0,
            ..AttendancePolicy::default()
        };
        assert_eq!(policy.validate(), Err(PolicyError::StreakOutOfRange));
        policy.absence_streak = AttendancePolicy::MAX_ABSENCE_STREAK + 1;
        assert_eq!(policy.validate(), Err(PolicyError::StreakOutOfRange));
        policy.absence_streak = 1;
        assert_eq!(policy.validate(), Ok(()));
    }

    #[test]
    fn default_policy_counts_present_and_late_fully_and_ignores_excused() {
        // (3*1 + 1*1 + 0) / (3 + 1 + 1) = 4/5 = 80 %, the excused mark not counted.
        let rate = tally(3, 1, 1, 1).rate(&AttendancePolicy::default());
        assert_eq!(rate, Some(80.0));
    }

    #[test]
    fn canvas_style_vector_with_late_at_point_eight_gives_88_percent() {
        let mut policy = AttendancePolicy::default();
        policy.weights.late = 0.8;
        // (8*1 + 1*0.8 + 1*0) / 10 = 8.8/10 = 88 %.
        assert_eq!(tally(8, 1, 0, 1).rate(&policy), Some(88.0));
    }

    #[test]
    fn counting_excused_adds_them_with_their_weight() {
        let mut policy = AttendancePolicy {
            count_excused: true,
            ..AttendancePolicy::default()
        };
        policy.weights.excused = 0.5;
        // (2*1 + 2*0.5 + 0) / (2 + 2 + 0) = 3/4 = 75 %.
        assert_eq!(tally(2, 0, 2, 0).rate(&policy), Some(75.0));
    }

    #[test]
    fn only_excused_marks_give_no_rate_and_no_risk() {
        let policy = AttendancePolicy::default();
        let rate = tally(0, 0, 3, 0).rate(&policy);
        assert_eq!(rate, None);
        assert!(!policy.is_at_risk(rate));
    }

    #[test]
    fn rates_are_rounded_to_hundredths() {
        // 2/3 = 66.666… % -> 66.67 %.
        assert_eq!(
            tally(2, 0, 0, 1).rate(&AttendancePolicy::default()),
            Some(66.67)
        );
    }

    #[test]
    fn at_risk_is_strictly_below_the_threshold() {
        let policy = AttendancePolicy::default();
        assert!(!policy.is_at_risk(Some(75.0)));
        assert!(policy.is_at_risk(Some(74.99)));
    }

    #[test]
    fn a_student_enrolled_after_a_session_is_not_counted_for_it() {
        // Sessions on days 1..=4; enrolled from day 2. Day 1's mark (if any) is ignored:
        // (1 present + 0 absent + 1 late) over days 2..=4 = 2/3 = 66.67 %.
        let sessions = [
            (1, Some(Status::Absent)),
            (2, Some(Status::Present)),
            (3, Some(Status::Absent)),
            (4, Some(Status::Late)),
        ];
        let tally = Tally::over_sessions(sessions, |day| *day >= 2);
        assert_eq!(tally, self::tally(1, 1, 0, 1));
        assert_eq!(tally.rate(&AttendancePolicy::default()), Some(66.67));
    }

    #[test]
    fn unmarked_sessions_are_not_counted() {
        let sessions = [(1, Some(Status::Present)), (2, None)];
        let tally = Tally::over_sessions(sessions, |_| true);
        assert_eq!(tally.rate(&AttendancePolicy::default()), Some(100.0));
    }

    #[test]
    fn weights_outside_zero_to_one_are_rejected() {
        let mut policy = AttendancePolicy::default();
        policy.weights.late = 1.5;
        assert_eq!(
            policy.validate(),
            Err(PolicyError::WeightOutOfRange {
                status: Status::Late
            })
        );
        policy.weights.late = f64::NAN;
        assert!(policy.validate().is_err());
    }

    #[test]
    fn thresholds_outside_zero_to_hundred_are_rejected() {
        let policy = AttendancePolicy {
            at_risk_below: 101.0,
            ..AttendancePolicy::default()
        };
        assert_eq!(policy.validate(), Err(PolicyError::ThresholdOutOfRange));
    }
}
