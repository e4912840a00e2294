//! A durable JetStream consumer of attendance events, as an external system (a gradebook,
//! a notification service) would write it.
//!
//! ```sh
//! NATS_URL=nats://127.0.0.1:4222 cargo run -p attendance --example subscriber -- ext-gradebook 'attendance.v1.CS101.>'
//! ```
//! With the repo's `nats.conf`, also set `NATS_USER=subscriber NATS_PASSWORD=...`.
//! The consumer is durable: stop it and start it again, and it continues where it left off;
//! a new consumer name replays the stream from its start.

use async_nats::jetstream::{self, consumer::pull};
use event_store::envelope::CloudEvent;
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "example-subscriber".into());
    let filter = args.next().unwrap_or_else(|| "attendance.v1.>".into());
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let stream_name = std::env::var("ATTENDANCE_STREAM").unwrap_or_else(|_| "ATTENDANCE".into());
    let options = match (std::env::var("NATS_USER"), std::env::var("NATS_PASSWORD")) {
        // nats.conf lets the subscriber read replies only under its own inbox prefix.
        (Ok(user), Ok(password)) if user == "subscriber" => {
            async_nats::ConnectOptions::with_user_and_password(user, password)
                .custom_inbox_prefix("_INBOX_subscriber")
        }
        (Ok(user), Ok(password)) => {
            async_nats::ConnectOptions::with_user_and_password(user, password)
        }
        _ => async_nats::ConnectOptions::new(),
    };
    let client = options.connect(url).await?;
    let stream = jetstream::new(client).get_stream(&stream_name).await?;
    let consumer = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: filter.clone(),
                ..Default::default()
            },
        )
        .await?;
    eprintln!("consumer {name} reading {filter} from stream {stream_name}; Ctrl-C to stop");
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        match serde_json::from_slice::<CloudEvent>(&message.payload) {
            Ok(event) => println!(
                "{} #{} {} {} by {:?}: {}",
                event.time,
                event.data.position,
                event.kind,
                event.subject,
                event.data.actor.role,
                event.data.event
            ),
            // Unknown shapes are skipped, not fatal: v1 only ever grows.
            Err(error) => eprintln!("skipping a message on {}: {error}", message.subject),
        }
        // Ack after handling: redelivery (at-least-once) is deduplicated by `id`.
        message.ack().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
