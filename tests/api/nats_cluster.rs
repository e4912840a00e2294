//! A NATS cluster of three nats-servers with JetStream, owned by one test: a stream of the
//! relay becomes three replicas when `ATTENDANCE_STREAM_REPLICAS` says so, in place.

use crate::helpers::{TestApp, wait_until};
use crate::nats_support::Cluster;
use attendance::relay::Relay;
use std::time::Duration;

#[tokio::test]
async fn an_existing_stream_becomes_three_replicas_in_place_on_a_cluster() {
    let cluster = Cluster::start();
    let url = cluster.url();
    let app = TestApp::spawn_with(|c| {
        c.connections.nats_url = url.clone();
        c.no_relay = true;
        c.no_projectors = true;
    })
    .await;
    let client = attendance::startup::nats(&app.config.connections)
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client.clone());
    let relay_with = |replicas: usize| {
        let mut settings = app.config.relay.clone();
        settings.stream_replicas = replicas;
        Relay::new(
            app.pool.clone(),
            client.clone(),
            settings.relay_config().unwrap(),
        )
    };
    // The cluster elects its JetStream leader first: until then the stream cannot be made.
    let one = relay_with(1);
    wait_until(Duration::from_secs(60), || async {
        one.ensure_stream().await.is_ok()
    })
    .await;
    let replicas = |js: async_nats::jetstream::Context, name: String| async move {
        let mut stream = js.get_stream(name).await.unwrap();
        stream.info().await.unwrap().config.num_replicas
    };
    let name = app.config.relay.stream.clone();
    assert_eq!(replicas(js.clone(), name.clone()).await, 1);

    relay_with(3)
        .ensure_stream()
        .await
        .expect("updated in place");
    assert_eq!(replicas(js.clone(), name.clone()).await, 3);
}
