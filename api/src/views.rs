//! The shapes that several JSON routes answer or accept: a command's answer, a stored mark,
//! a course's policy, the read-your-write options. Routes share these, never each other.

use crate::app::store::Committed;
use cqrs_es::Aggregate;
use domain::policy::StatusWeights;
use domain::{AttendancePolicy, Status};
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
