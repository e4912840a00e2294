//! NATS permissions (issue 23, item 1): with the repo's `nats.conf`, the `subscriber` user
//! runs its own consumers and cannot fetch from, ack for, inspect or delete the service's
//! projector consumers, nor read other clients' inboxes. And a projector whose consumer
//! was drained by someone else is reported, not trusted.

use crate::helpers::{TestApp, expect_json, wait_until};
use crate::nats_conf::RepoNats;
use crate::nats_support::consume;
use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use reqwest::StatusCode;
use std::time::Duration;

/// The inbox prefix `nats.conf` gives the subscriber user.
const SUBSCRIBER_INBOX: &str = "_INBOX_subscriber";

async fn connect(url: &str, user: &str, password: &str, inbox: Option<&str>) -> async_nats::Client {
    let mut options =
        async_nats::ConnectOptions::with_user_and_password(user.into(), password.into());
    if let Some(prefix) = inbox {
        options = options.custom_inbox_prefix(prefix);
    }
    options.connect(url).await.expect("credentials accepted")
}

/// Whether anything at all arrives on a subscription within a second.
async fn receives_anything(subscription: &mut async_nats::Subscriber) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(1), subscription.next()).await,
        Ok(Some(_))
    )
}

#[tokio::test]
async fn the_subscriber_cannot_touch_projector_consumers_or_read_other_inboxes() {
    let RepoNats {
        nats: _nats,
        url,
        app,
        service_pw,
        subscriber_pw,
    } = RepoNats::start().await;
    let session = app.course_with_session().await;
    let recorded = app.record(&app.admin, &session, "S1", "present").await;
    expect_json(recorded, StatusCode::CREATED).await;
    app.session_view(&app.admin, &session).await;
    let events = app.event_count().await as usize;

    let service = connect(&url, "service", &service_pw, None).await;
    let service_js = jetstream::new(service.clone());
    let subscriber = connect(&url, "subscriber", &subscriber_pw, Some(SUBSCRIBER_INBOX)).await;
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(2))
        .build(subscriber.clone());
    let stream = js
        .get_stream("ATTENDANCE")
        .await
        .expect("stream info is allowed");

    for projector in attendance::projectors::ALL {
        let name = format!("projector-{projector}");
        // Inspect and delete: refused.
        let info = stream.get_consumer::<pull::Config>(&name).await;
        assert!(info.is_err(), "the subscriber inspected {name}");
        assert!(
            stream.delete_consumer(&name).await.is_err(),
            "deleted {name}"
        );
        // Fetch: the request is dropped, nothing is delivered.
        let inbox = subscriber.new_inbox();
        let mut replies = subscriber.subscribe(inbox.clone()).await.unwrap();
        subscriber
            .publish_with_reply(
                format!("$JS.API.CONSUMER.MSG.NEXT.ATTENDANCE.{name}"),
                inbox,
                r#"{"batch":100,"expires":500000000}"#.into(),
            )
            .await
            .unwrap();
        assert!(
            !receives_anything(&mut replies).await,
            "fetched from {name}"
        );
        // The service still has it.
        let kept = service_js
            .get_stream("ATTENDANCE")
            .await
            .unwrap()
            .get_consumer::<pull::Config>(&name)
            .await;
        assert!(
            kept.is_ok(),
            "the projector's consumer {name} is still there"
        );
    }

    // Other clients' inboxes (the projectors' pull deliveries land there): unreadable.
    let spy = connect(&url, "subscriber", &subscriber_pw, Some(SUBSCRIBER_INBOX)).await;
    let mut inboxes = spy.subscribe("_INBOX.>").await.unwrap();
    spy.flush().await.unwrap();
    for _ in 0..3 {
        let _ = service_js.get_stream("ATTENDANCE").await;
    }
    assert!(
        !receives_anything(&mut inboxes).await,
        "the subscriber read _INBOX.>"
    );

    // Its own `ext-` consumer still works, acks included.
    let own = stream
        .create_consumer(pull::Config {
            durable_name: Some("ext-gradebook".into()),
            filter_subject: "attendance.v1.>".into(),
            ..Default::default()
        })
        .await
        .expect("the subscriber may create its own consumer");
    assert_eq!(consume(&own, events).await.len(), events);
    let mut own = own;
    wait_until(Duration::from_secs(10), || {
        let mut own = own.clone();
        async move { own.info().await.is_ok_and(|i| i.num_ack_pending == 0) }
    })
    .await;
    assert_eq!(own.info().await.unwrap().num_pending, 0);
    assert_eq!(app.health().await["status"], "ok");
}

#[tokio::test]
async fn a_projector_whose_consumer_was_drained_by_someone_else_is_reported_degraded() {
    let app = TestApp::spawn_with(|c| c.no_projectors = true).await;
    let session = app.course_with_session().await;
    let recorded = app.record(&app.admin, &session, "S1", "present").await;
    expect_json(recorded, StatusCode::CREATED).await;
    let client = crate::nats_support::connect(&app.config.connections.nats_url).await;
    let events = app.event_count().await as u64;
    let stream_name = app.config.relay.stream.clone();
    wait_until(Duration::from_secs(30), || {
        let client = client.clone();
        let stream_name = stream_name.clone();
        async move { crate::nats_support::stream_len(&client, &stream_name).await == events }
    })
    .await;
    assert_eq!(app.health().await["status"], "ok");
    // A thief takes every event from the course_stats projector's consumer and acks them.
    let stream = jetstream::new(client)
        .get_stream(&stream_name)
        .await
        .unwrap();
    let thief = stream
        .get_or_create_consumer(
            "projector-course_stats",
            pull::Config {
                durable_name: Some("projector-course_stats".into()),
                filter_subject: format!("{}.v1.>", app.config.relay.subject_prefix),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(consume(&thief, events as usize).await.len() as u64, events);
    wait_until(Duration::from_secs(10), || async {
        app.health().await["status"] == "degraded"
    })
    .await;
}
