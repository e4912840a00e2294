//! Events as the read side sees them: the typed domain event plus where it stands
//! (aggregate, sequence, global position, course, time), parsed from a stored row or from a
//! JetStream CloudEvent alike.

use chrono::{DateTime, Utc};
use domain::course::CourseEvent;
use domain::register::RegisterEvent;
use domain::standing::StandingEvent;
use event_store::envelope::CloudEvent;
use event_store::outbox::StoredEvent;
use serde_json::{Value, json};

/// A domain event of any aggregate.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    /// A course event.
    Course(CourseEvent),
    /// A register event.
    Register(RegisterEvent),
    /// A student's standing (the early warning): no read model folds it, but every
    /// projector reads it (and moves past it) like any other event.
    Standing(StandingEvent),
}

/// One event with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedEvent {
    /// `course` or `register`.
    pub aggregate_type: String,
    /// Course code or session id.
    pub aggregate_id: String,
    /// Sequence within the aggregate.
    pub sequence: i64,
    /// Global position.
    pub position: i64,
    /// The event's course.
    pub course_id: String,
    /// When it was stored.
    pub recorded_at: DateTime<Utc>,
    /// The event.
    pub event: DomainEvent,
}

/// Why an event could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EventParseError {
    /// Not a known aggregate type.
    #[error("unknown aggregate type {0}")]
    UnknownAggregate(String),
    /// The payload does not match the event type.
    #[error("cannot read {event_type}: {source}")]
    Payload {
        /// The event type.
        event_type: String,
        /// The serde error.
        source: serde_json::Error,
    },
}

fn typed(
    aggregate_type: &str,
    event_type: &str,
    tagged: Value,
) -> Result<DomainEvent, EventParseError> {
    let payload = |source| EventParseError::Payload {
        event_type: event_type.to_string(),
        source,
    };
    match aggregate_type {
        "course" => serde_json::from_value(tagged)
            .map(DomainEvent::Course)
            .map_err(payload),
        "register" => serde_json::from_value(tagged)
            .map(DomainEvent::Register)
            .map_err(payload),
        "standing" => serde_json::from_value(tagged)
            .map(DomainEvent::Standing)
            .map_err(payload),
        other => Err(EventParseError::UnknownAggregate(other.to_string())),
    }
}

impl ProjectedEvent {
    /// From a row of the event store.
    pub fn from_stored(event: &StoredEvent) -> Result<Self, EventParseError> {
        let course_id = event
            .meta("course_id")
            .unwrap_or(&event.aggregate_id)
            .to_string();
        Ok(ProjectedEvent {
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            position: event.position,
            course_id,
            recorded_at: event.recorded_at,
            event: typed(
                &event.aggregate_type,
                &event.event_type,
                event.payload.clone(),
            )?,
        })
    }

    /// From a message of the stream.
    pub fn from_cloud(cloud: &CloudEvent) -> Result<Self, EventParseError> {
        let data = &cloud.data;
        let tagged = json!({ data.event_type.clone(): data.event.clone() });
        Ok(ProjectedEvent {
            aggregate_type: data.aggregate_type.clone(),
            aggregate_id: data.aggregate_id.clone(),
            sequence: data.sequence,
            position: data.position,
            course_id: data.course_id.clone(),
            recorded_at: cloud.time,
            event: typed(&data.aggregate_type, &data.event_type, tagged)?,
        })
    }
}
