//! The repo's `nats.conf`: the service user publishes, the `subscriber` user may only read
//! the event subjects through its own consumers, and is denied publishing events.

use crate::helpers::{TestApp, expect_json, wait_until};
use crate::nats_support::{OwnedNats, consume, stream_len};
use futures::StreamExt;
use reqwest::StatusCode;
use std::path::PathBuf;
use std::time::Duration;

/// A private NATS server on the repository's `nats.conf` (fresh passwords for its users)
/// and an app connected to it as `service`, on the configuration's stream and subjects.
pub(crate) struct RepoNats {
    /// The server (stopped when dropped).
    pub nats: OwnedNats,
    /// Its URL.
    pub url: String,
    /// The app, connected as `service`.
    pub app: TestApp,
    /// The `service` user's password.
    pub service_pw: String,
    /// The `subscriber` user's password.
    pub subscriber_pw: String,
}

impl RepoNats {
    pub(crate) async fn start() -> RepoNats {
        let conf = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("nats.conf");
        let service_pw = format!("svc-{}", uuid::Uuid::new_v4());
        let subscriber_pw = format!("sub-{}", uuid::Uuid::new_v4());
        let env = vec![
            ("NATS_SERVICE_PASSWORD".to_string(), service_pw.clone()),
            (
                "NATS_SUBSCRIBER_PASSWORD".to_string(),
                subscriber_pw.clone(),
            ),
        ];
        let nats = OwnedNats::start_with(Some(conf), env).await;
        let url = nats.url();
        let app = TestApp::spawn_with(|c| {
            c.connections.nats_url = url.clone();
            c.connections.nats_user = Some("service".into());
            c.connections.nats_password = Some(service_pw.clone().into());
            c.relay.subject_prefix = "attendance".into();
            c.relay.stream = "ATTENDANCE".into();
        })
        .await;
        RepoNats {
            nats,
            url,
            app,
            service_pw,
            subscriber_pw,
        }
    }
}

async fn connect_as(url: &str, user: &str, password: &str) -> async_nats::Client {
    let options = async_nats::ConnectOptions::with_user_and_password(user.into(), password.into());
    // nats.conf gives the subscriber replies on its own inbox prefix only.
    let options = match user {
        "subscriber" => options.custom_inbox_prefix("_INBOX_subscriber"),
        _ => options,
    };
    options.connect(url).await.expect("credentials accepted")
}

#[tokio::test]
async fn nats_conf_lets_the_service_publish_and_subscribers_only_read_event_subjects() {
    let RepoNats {
        nats: _nats,
        url,
        app,
        service_pw,
        subscriber_pw,
    } = RepoNats::start().await;
    let session = app.course_with_session().await;
    expect_json(
        app.record(&app.admin, &session, "S1", "present").await,
        StatusCode::CREATED,
    )
    .await;

    // The application, as `service`, filled the stream.
    let service = connect_as(&url, "service", &service_pw).await;
    let events = app.event_count().await as u64;
    wait_until(Duration::from_secs(30), || {
        let service = service.clone();
        async move { stream_len(&service, "ATTENDANCE").await == events }
    })
    .await;

    // Allowed: a subscriber's own durable consumer on the event subjects.
    let subscriber = connect_as(&url, "subscriber", &subscriber_pw).await;
    let js = async_nats::jetstream::new(subscriber.clone());
    let stream = js
        .get_stream("ATTENDANCE")
        .await
        .expect("subscriber may read stream info");
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("ext-gradebook".into()),
            filter_subject: "attendance.v1.CS101.>".into(),
            ..Default::default()
        })
        .await
        .expect("subscriber may create its own durable consumer");
    let read = consume(&consumer, events as usize).await.len() as u64;
    assert_eq!(read, events, "the subscriber reads every CS101 event");

    // Denied: publishing an event (nothing reaches the stream) ...
    subscriber
        .publish(
            "attendance.v1.CS101.register.AttendanceRecorded",
            "forged".into(),
        )
        .await
        .unwrap();
    subscriber.flush().await.unwrap();
    let forged = js
        .publish(
            "attendance.v1.CS101.register.AttendanceRecorded",
            "forged".into(),
        )
        .await;
    assert!(
        forged.is_err() || forged.unwrap().await.is_err(),
        "a JetStream publish by the subscriber is refused"
    );
    assert_eq!(
        stream_len(&service, "ATTENDANCE").await,
        events,
        "no forged event in the stream"
    );

    // ... and subscribing to subjects outside the event space (on a fresh connection).
    let listener = connect_as(&url, "subscriber", &subscriber_pw).await;
    let mut outside = listener.subscribe("attendance.internal.>").await.unwrap();
    let mut inside = listener
        .subscribe("attendance.v1.CS101.probe")
        .await
        .unwrap();
    listener.flush().await.unwrap();
    let mut seen = None;
    for _ in 0..20 {
        service
            .publish("attendance.internal.secret", "secret".into())
            .await
            .unwrap();
        service
            .publish("attendance.v1.CS101.probe", "visible".into())
            .await
            .unwrap();
        service.flush().await.unwrap();
        if let Ok(message) = tokio::time::timeout(Duration::from_millis(250), inside.next()).await {
            seen = message;
            break;
        }
    }
    assert_eq!(
        seen.expect("event subjects are readable").payload.as_ref(),
        b"visible"
    );
    let leaked = tokio::time::timeout(Duration::from_millis(500), outside.next()).await;
    assert!(
        !matches!(leaked, Ok(Some(_))),
        "the subscriber must not receive other subjects"
    );
}
