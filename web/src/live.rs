//! Live updates for the pages: ONE JetStream subscription per process (an ordered, ephemeral
//! consumer from the newest event on), fanned out to every open page through a Tokio
//! broadcast channel. Each `serve` process has its own subscription, so a mark recorded
//! through any process reaches the pages open on every other.
//!
//! A page learns only that something changed and at which global position; it then asks
//! for its fragment with `min_position` (see [`crate::pages::live`]), so that it shows
//! "updated just now" only once the read model holds the event.

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull};
use event_store::envelope::{CloudEvent, Subjects};
use futures::StreamExt;
use projections::event::ProjectedEvent;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How many changes a slow page may fall behind before it is told to reload its fragment.
const BACKLOG: usize = 1024;
/// The pause before subscribing again after the stream or the server went away.
const RETRY: Duration = Duration::from_millis(500);

/// One stored event as the pages care about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The event's course.
    pub course: String,
    /// The session it concerns, if any.
    pub session: Option<String>,
    /// Its global position (what `min_position` asks for).
    pub position: i64,
}

impl Change {
    /// The change an event of the stream announces.
    pub fn of(event: &ProjectedEvent) -> Change {
        Change {
            course: event.course_id.clone(),
            session: projections::register_views::session_of(event),
            position: event.position,
        }
    }
}

/// Where the process's subscription reads from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The JetStream stream.
    pub stream: String,
    /// The subject prefix of its events.
    pub subject_prefix: String,
}

/// The process's feed of changes; cheap to clone, shared by every page.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Change>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    /// A hub with nobody listening and no subscription yet (see [`Hub::run`]).
    pub fn new() -> Hub {
        let (sender, _) = broadcast::channel(BACKLOG);
        Hub { sender }
    }

    /// A new listener: every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// Hands a change to every listener (none listening is fine).
    pub fn publish(&self, change: Change) {
        let _ = self.sender.send(change);
    }

    /// Pages listening now.
    pub fn listeners(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Reads the stream and publishes each event's change until `shutdown` turns true;
    /// subscribes again (from the newest event) whenever the stream or server goes away.
    pub async fn run(
        self,
        client: async_nats::Client,
        source: Source,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let js = jetstream::new(client);
        while !*shutdown.borrow() {
            if let Err(error) = self.follow(&js, &source, &mut shutdown).await {
                tracing::debug!(%error, stream = %source.stream, "live feed waiting for the stream");
            }
            tokio::select! {
                _ = tokio::time::sleep(RETRY) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn follow(
        &self,
        js: &jetstream::Context,
        source: &Source,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), String> {
        let stream = js
            .get_stream(&source.stream)
            .await
            .map_err(|e| e.to_string())?;
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: Subjects::new(source.subject_prefix.clone()).all(),
                deliver_policy: DeliverPolicy::New,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
        tracing::info!(stream = %source.stream, "live feed subscribed");
        loop {
            let message = tokio::select! {
                message = messages.next() => message,
                _ = shutdown.changed() => return Ok(()),
            };
            let message = match message {
                Some(Ok(message)) => message,
                Some(Err(error)) => return Err(error.to_string()),
                None => return Err("the subscription ended".to_string()),
            };
            let parsed = serde_json::from_slice::<CloudEvent>(&message.payload)
                .map_err(|e| e.to_string())
                .and_then(|cloud| ProjectedEvent::from_cloud(&cloud).map_err(|e| e.to_string()));
            match parsed {
                Ok(event) => self.publish(Change::of(&event)),
                Err(error) => tracing::debug!(%error, "live feed skipped an unreadable event"),
            }
        }
    }
}
