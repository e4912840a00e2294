//! The public contract for subscribers: NATS subjects and the CloudEvents 1.0 envelope.
//!
//! Subject: `<prefix>.v1.<course_id>.<aggregate_type>.<event_type>`.
//! Message id (`Nats-Msg-Id`): `<aggregate_type>:<aggregate_id>:<sequence>`.
//! Versioning: `v1` changes only by adding (new event types, new fields); a breaking change
//! would get a new `v2` subject space next to `v1`.

use crate::outbox::StoredEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version token of the subject scheme.
pub const SCHEME_VERSION: &str = "v1";

/// Builds subjects under a prefix (e.g. `attendance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subjects {
    prefix: String,
}

impl Subjects {
    /// Subjects under `prefix` (a NATS token path without wildcards).
    pub fn new(prefix: impl Into<String>) -> Self {
        Subjects {
            prefix: prefix.into(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Every event: `<prefix>.v1.>`.
    pub fn all(&self) -> String {
        format!("{}.{SCHEME_VERSION}.>", self.prefix)
    }

    /// One course's events: `<prefix>.v1.<course>.>`.
    pub fn course(&self, course_id: &str) -> String {
        format!("{}.{SCHEME_VERSION}.{course_id}.>", self.prefix)
    }

    /// The subject of one event.
    pub fn of(&self, event: &StoredEvent) -> String {
        format!(
            "{}.{SCHEME_VERSION}.{}.{}.{}",
            self.prefix,
            course_of(event),
            event.aggregate_type,
            event.event_type
        )
    }
}

fn course_of(event: &StoredEvent) -> &str {
    // Every event's metadata names its course; course events are their own course.
    event
        .meta("course_id")
        .unwrap_or(if event.aggregate_type == "course" {
            &event.aggregate_id
        } else {
            "unknown"
        })
}

/// The JetStream de-duplication id of an event.
pub fn message_id(event: &StoredEvent) -> String {
    format!(
        "{}:{}:{}",
        event.aggregate_type, event.aggregate_id, event.sequence
    )
}

/// Who caused an event: ids only, never names or e-mails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// User id.
    pub user_id: Option<String>,
    /// Role.
    pub role: Option<String>,
}

/// `data` of the envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventData {
    /// `course` or `register`.
    pub aggregate_type: String,
    /// Course code or session id.
    pub aggregate_id: String,
    /// Sequence within the aggregate, from 1, gap-free.
    pub sequence: i64,
    /// Global position (increasing in commit order; use it as a replay cursor).
    pub position: i64,
    /// The course the event belongs to.
    pub course_id: String,
    /// Event name.
    pub event_type: String,
    /// Payload schema version.
    pub event_version: String,
    /// Who.
    pub actor: Actor,
    /// Where the command came from: api, sheet, cli.
    pub source: Option<String>,
    /// Request id, for correlation.
    pub request_id: Option<String>,
    /// The event's own fields.
    pub event: Value,
}

/// A CloudEvents 1.0 structured-mode JSON message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    /// Always `1.0`.
    pub specversion: String,
    /// Unique per event: the message id.
    pub id: String,
    /// The producing system, e.g. `/attendance`.
    pub source: String,
    /// `attendance.v1.<aggregate_type>.<event_type>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `<aggregate_type>/<aggregate_id>`.
    pub subject: String,
    /// When the event was stored.
    pub time: DateTime<Utc>,
    /// Always `application/json`.
    pub datacontenttype: String,
    /// The event.
    pub data: EventData,
}

impl CloudEvent {
    /// The envelope of a stored event.
    pub fn from_stored(event: &StoredEvent, source: &str) -> CloudEvent {
        let fields = event
            .payload
            .get(&event.event_type)
            .cloned()
            .unwrap_or_else(|| event.payload.clone());
        let owned = |key: &str| event.meta(key).map(str::to_string);
        CloudEvent {
            specversion: "1.0".to_string(),
            id: message_id(event),
            source: source.to_string(),
            kind: format!(
                "attendance.{SCHEME_VERSION}.{}.{}",
                event.aggregate_type, event.event_type
            ),
            subject: format!("{}/{}", event.aggregate_type, event.aggregate_id),
            time: event.recorded_at,
            datacontenttype: "application/json".to_string(),
            data: EventData {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                sequence: event.sequence,
                position: event.position,
                course_id: course_of(event).to_string(),
                event_type: event.event_type.clone(),
                event_version: event.event_version.clone(),
                actor: Actor {
                    user_id: owned("user_id"),
                    role: owned("role"),
                },
                source: owned("source"),
                request_id: owned("request_id"),
                event: fields,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recorded() -> StoredEvent {
        StoredEvent {
            aggregate_type: "register".into(),
            aggregate_id: "s-1".into(),
            sequence: 2,
            event_type: "AttendanceRecorded".into(),
            event_version: "1".into(),
            payload: json!({"AttendanceRecorded": {"student_id": "S1", "status": "late"}}),
            metadata: json!({"course_id": "CS101", "user_id": "u1", "role": "teacher", "source": "api", "request_id": "r1"}),
            position: 42,
            tx_id: 900,
            recorded_at: "2026-09-07T09:05:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn subjects_name_prefix_version_course_aggregate_and_type() {
        let subjects = Subjects::new("attendance");
        assert_eq!(
            subjects.of(&recorded()),
            "attendance.v1.CS101.register.AttendanceRecorded"
        );
        assert_eq!(subjects.course("CS101"), "attendance.v1.CS101.>");
    }

    #[test]
    fn the_message_id_is_type_id_and_sequence() {
        assert_eq!(message_id(&recorded()), "register:s-1:2");
    }

    #[test]
    fn the_envelope_carries_fields_ids_and_actor_without_names() {
        let cloud = CloudEvent::from_stored(&recorded(), "/attendance");
        let value = serde_json::to_value(&cloud).unwrap();
        assert_eq!(value["specversion"], "1.0");
        assert_eq!(value["type"], "attendance.v1.register.AttendanceRecorded");
        assert_eq!(
            value["data"]["event"],
            json!({"student_id": "S1", "status": "late"})
        );
        assert_eq!(
            value["data"]["actor"],
            json!({"user_id": "u1", "role": "teacher"})
        );
        assert_eq!(
            (
                value["data"]["sequence"].clone(),
                value["data"]["position"].clone()
            ),
            (json!(2), json!(42))
        );
    }
}
