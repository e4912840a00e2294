//! Event schema evolution: a stored event of an older version is turned into the current
//! version when it is loaded (by the write side, the relay, the projectors and the audit
//! reads alike), so that nothing downstream ever sees an old shape. Stored rows are never
//! rewritten.
//!
//! Versions so far:
//! - `AttendanceRecorded` version `0` (marks imported from the seed system) had no `method`
//!   and no `remark`; version `1` adds them (`manual`, none).

use serde_json::{Value, json};

/// Whether an event of this type and version must be upcast.
pub fn can_upcast(event_type: &str, event_version: &str) -> bool {
    event_version != crate::EVENT_VERSION
        && matches!((event_type, event_version), ("AttendanceRecorded", "0"))
}

/// Why an old event cannot be upcast.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot upcast {event_type} version {event_version}: {reason}")]
pub struct UpcastError {
    /// The event type.
    pub event_type: String,
    /// Its stored version.
    pub event_version: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Turns a stored payload (`{"<event_type>": {fields}}`) into the current version; returns
/// the new version and payload. Events already current are returned unchanged.
pub fn upcast(
    event_type: &str,
    event_version: &str,
    mut payload: Value,
) -> Result<(String, Value), UpcastError> {
    if !can_upcast(event_type, event_version) {
        return Ok((event_version.to_string(), payload));
    }
    let error = |reason| UpcastError {
        event_type: event_type.into(),
        event_version: event_version.into(),
        reason,
    };
    let fields = payload
        .get_mut(event_type)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| error("the payload is not an object named after the event type"))?;
    // AttendanceRecorded 0 -> 1: marks from the seed system were taken by hand, without remarks.
    fields.entry("method").or_insert(json!("manual"));
    fields.entry("remark").or_insert(Value::Null);
    Ok((crate::EVENT_VERSION.to_string(), payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::RegisterEvent;

    #[test]
    fn a_version_0_attendance_recorded_gets_a_manual_method_and_no_remark() {
        let old = json!({"AttendanceRecorded": {"student_id": "S1", "status": "present",
            "by": {"user_id": "u1", "role": "teacher"}, "at": "2026-09-07T09:05:00Z"}});
        let (version, payload) = upcast("AttendanceRecorded", "0", old).unwrap();
        assert_eq!(version, crate::EVENT_VERSION);
        let event: RegisterEvent = serde_json::from_value(payload).unwrap();
        assert!(matches!(
            event,
            RegisterEvent::AttendanceRecorded {
                method: crate::Method::Manual,
                remark: None,
                ..
            }
        ));
    }

    #[test]
    fn current_events_are_left_alone() {
        let payload = json!({"RegisterClosed": {"defaulted_absent": []}});
        let (version, same) = upcast("RegisterClosed", "1", payload.clone()).unwrap();
        assert_eq!((version.as_str(), same), ("1", payload));
    }

    #[test]
    fn a_malformed_old_payload_is_an_error_not_a_panic() {
        assert!(upcast("AttendanceRecorded", "0", json!("garbage")).is_err());
    }
}
