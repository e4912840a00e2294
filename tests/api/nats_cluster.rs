//! A NATS cluster of three nats-servers with JetStream, owned by one test: a stream of the
//! relay becomes three replicas when `ATTENDANCE_STREAM_REPLICAS` says so, in place.

use crate::helpers::{TestApp, wait_until};
use crate::nats_support::free_port;
use attendance::relay::Relay;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Three nats-servers routed to each other; killed when dropped.
struct Cluster {
    ports: Vec<u16>,
    children: Vec<Child>,
    store: std::path::PathBuf,
}

impl Cluster {
    fn start() -> Cluster {
        let store =
            std::env::temp_dir().join(format!("att-cluster-{}", uuid::Uuid::new_v4().simple()));
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let all_routes: Vec<String> = routes
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect();
        let children = (0..3)
            .map(|n| {
                let dir = store.join(format!("n{n}"));
                std::fs::create_dir_all(&dir).unwrap();
                Command::new("nats-server")
                    .args(["-a", "127.0.0.1", "-p", &ports[n].to_string(), "-js", "-sd"])
                    .arg(&dir)
                    .args(["-n", &format!("n{n}"), "--cluster_name", "attendance"])
                    .args(["--cluster", &format!("nats://127.0.0.1:{}", routes[n])])
                    .args(["--routes", &all_routes.join(",")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("nats-server is installed")
            })
            .collect();
        Cluster {
            ports,
            children,
            store,
        }
    }

    /// Every server, comma-separated, as `NATS_URL` takes them.
    fn url(&self) -> String {
        let urls: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect();
        urls.join(",")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

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
