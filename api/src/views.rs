//! The shapes that several JSON routes answer or accept: a command's answer, a stored mark,
//! a course's policy, the read-your-write options. Routes share these, never each other.

use crate::app::store::Committed;
use chrono::{DateTime, FixedOffset, NaiveDate};
use cqrs_es::Aggregate;
use domain::course::{Course, ScheduledSession};
use domain::policy::StatusWeights;
use domain::{AttendancePolicy, SessionId, Status};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The answer to a command: the aggregate's version after it, and whether it changed
/// anything (repeating the current state changes nothing).
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// Version after the command.
    pub version: u64,
    /// Global position of the last event: pass it as `min_position` to read your write.
    pub position: i64,
    /// Whether new events were written.
    pub changed: bool,
}

impl<A: Aggregate> From<&Committed<A>> for Accepted {
    fn from(done: &Committed<A>) -> Self {
        Accepted {
            version: done.version,
            position: done.position,
            changed: done.changed(),
        }
    }
}

/// A mark as stored.
#[derive(Serialize, ToSchema)]
pub struct MarkAccepted {
    /// Session id.
    pub session_id: String,
    /// Student number.
    pub student_id: String,
    /// The student's status now.
    #[schema(value_type = String)]
    pub status: Status,
    /// The register's version after the command.
    pub version: u64,
    /// Global position of the last event: pass it as `min_position` to read your write.
    pub position: i64,
    /// Whether anything changed (false when the status repeats the current one).
    pub changed: bool,
}

/// Weight of each status towards the rate, 0 to 1.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightsBody {
    /// Present (default 1).
    pub present: f64,
    /// Late (default 1).
    pub late: f64,
    /// Excused, when counted (default 1).
    pub excused: f64,
    /// Absent (default 0).
    pub absent: f64,
}

/// A course's attendance policy: rate = sum of weights / counted marks.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    /// Status weights.
    pub weights: WeightsBody,
    /// Whether excused marks are counted (default false).
    pub count_excused: bool,
    /// At-risk threshold in percent (default 75).
    pub at_risk_below: f64,
    /// Close each register automatically this many minutes after its session ends, the
    /// students still unmarked becoming absent (actor `system`); absent or null: never.
    /// At most 43200 (30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 120)]
    pub close_after_minutes: Option<u32>,
    /// Absences in a row that warn the student (the early warning's
    /// `AbsenceStreakReached`), 1 to 100; absent: 3.
    #[serde(default = "default_absence_streak")]
    #[schema(example = 3)]
    pub absence_streak: u32,
}

fn default_absence_streak() -> u32 {
    AttendancePolicy::DEFAULT_ABSENCE_STREAK
}

impl From<AttendancePolicy> for PolicyBody {
    fn from(p: AttendancePolicy) -> Self {
        let w = p.weights;
        let weights = WeightsBody {
            present: w.present,
            late: w.late,
            excused: w.excused,
            absent: w.absent,
        };
        PolicyBody {
            weights,
            count_excused: p.count_excused,
            at_risk_below: p.at_risk_below,
            close_after_minutes: p.close_after_minutes,
            absence_streak: p.absence_streak,
        }
    }
}

impl From<PolicyBody> for AttendancePolicy {
    fn from(p: PolicyBody) -> Self {
        let w = p.weights;
        let weights = StatusWeights {
            present: w.present,
            late: w.late,
            excused: w.excused,
            absent: w.absent,
        };
        AttendancePolicy {
            weights,
            count_excused: p.count_excused,
            at_risk_below: p.at_risk_below,
            close_after_minutes: p.close_after_minutes,
            absence_streak: p.absence_streak,
        }
    }
}

/// Read-your-write options of every statistics query.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FreshnessQuery {
    /// Wait until the event at this global position (from a command's answer) is reflected.
    pub min_position: Option<i64>,
    /// How long to wait for it, in milliseconds (default 3000, at most 30000).
    pub wait_ms: Option<u64>,
}

/// A scheduled session.
#[derive(Serialize, ToSchema)]
pub struct SessionSummary {
    /// Session id.
    pub id: String,
    /// Course code.
    pub course_id: String,
    /// Title.
    pub title: String,
    /// Start time, in the course's zone with its offset.
    #[serde(serialize_with = "crate::dates::local_time")]
    pub starts_at: DateTime<FixedOffset>,
    /// The session's day: the local date of its start in the course's zone.
    pub date: NaiveDate,
    /// Length in minutes.
    pub duration_minutes: u32,
    /// Whether cancelled.
    pub cancelled: bool,
}

impl SessionSummary {
    /// A session of a course, its times shown in the course's zone.
    pub fn new(id: &SessionId, course: &Course, s: &ScheduledSession) -> Self {
        SessionSummary {
            id: id.to_string(),
            course_id: course
                .id
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            title: s.title.clone(),
            starts_at: course.time_zone.show(s.starts_at),
            date: course.day_of(s.starts_at),
            duration_minutes: s.duration_minutes,
            cancelled: s.cancelled,
        }
    }
}

/// Most rows one page of a list holds.
pub const MAX_PAGE: i64 = 500;
/// Rows of a page when `limit` is not given.
pub const DEFAULT_PAGE: i64 = 50;

/// Where a page of a list starts and how long it is, checked.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// Rows at most.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

impl Paging {
    /// `limit` (1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`]) and `offset` (0 or more) as sent.
    pub fn check(
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Paging, crate::error::ApiError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(crate::error::ApiError::bad_param(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(crate::error::ApiError::bad_param(
                "offset",
                "must be 0 or more",
            ));
        }
        Ok(Paging { limit, offset })
    }
}
