//! NATS for the tests: servers the tests own (to stop, restart, or run with `nats.conf`),
//! and reading a stream back.

use async_nats::jetstream;
use event_store::envelope::CloudEvent;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `nats-server` process owned by one test, on a free port, with its own store.
pub struct OwnedNats {
    /// Its port.
    pub port: u16,
    store: PathBuf,
    config: Option<PathBuf>,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl OwnedNats {
    /// Starts a plain JetStream server.
    pub async fn start() -> OwnedNats {
        Self::start_with(None, Vec::new()).await
    }

    /// Starts a server with a config file (the repo's `nats.conf`) and environment.
    pub async fn start_with(config: Option<PathBuf>, env: Vec<(String, String)>) -> OwnedNats {
        let store =
            std::env::temp_dir().join(format!("att-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&store).unwrap();
        let mut server = OwnedNats {
            port: free_port(),
            store,
            config,
            env,
            child: None,
        };
        server.restart().await;
        server
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and store.
    pub async fn restart(&mut self) {
        let mut command = Command::new("nats-server");
        if let Some(config) = &self.config {
            command
                .arg("-c")
                .arg(config)
                .args(["-m", &free_port().to_string()]);
        } else {
            command.arg("-js");
        }
        command
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.store)
            .envs(self.env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command
            .spawn()
            .expect("nats-server is installed (apt-get install nats-server)");
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("nats-server did not start on port {}", self.port);
    }

    /// Kills the server (as a crash would).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnedNats {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// One message read back from a stream.
#[derive(Debug)]
pub struct Published {
    /// Subject.
    pub subject: String,
    /// `Nats-Msg-Id` header.
    pub msg_id: String,
    /// The parsed envelope.
    pub event: CloudEvent,
}

/// How many messages a stream holds (0 when it does not exist yet).
pub async fn stream_len(client: &async_nats::Client, stream: &str) -> u64 {
    let js = jetstream::new(client.clone());
    match js.get_stream(stream).await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Waits until the system has stopped writing events of its own: the early warning's process
/// manager (durable consumer `process-warnings`) has taken and acknowledged every message of
/// the stream, and the stream holds as many messages as the store holds events, both
/// unchanged over three looks. The standing crossings it derives are stored after the marks
/// that caused them, so an accounting of the store against the stream waits for them first
/// (or it would count a crossing stored after the store was read). Panics after `deadline`.
pub async fn settled(
    pool: &sqlx::PgPool,
    client: &async_nats::Client,
    stream: &str,
    deadline: Duration,
) {
    let js = jetstream::new(client.clone());
    let started = std::time::Instant::now();
    let (mut quiet, mut last) = (0, (-1_i64, 0_u64));
    loop {
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .unwrap();
        let in_stream = stream_len(client, stream).await;
        // A look that cannot tell (the consumer does not answer now) counts neither way.
        let warnings_idle = attendance::warnings::idle(&js, stream).await;
        let now = (stored, in_stream);
        if let Ok(idle) = warnings_idle {
            if idle && stored == in_stream as i64 && now == last {
                quiet += 1;
                if quiet >= 3 {
                    return;
                }
            } else {
                quiet = 0;
            }
            last = now;
        }
        assert!(
            started.elapsed() < deadline,
            "the system did not settle in {deadline:?}: {stored} events stored, {in_stream} in \
             the stream, process-warnings idle: {warnings_idle:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every message of a stream, in stream order.
pub async fn read_stream(client: &async_nats::Client, stream: &str) -> Vec<Published> {
    let js = jetstream::new(client.clone());
    let mut s = js.get_stream(stream).await.expect("the stream exists");
    let state = s.info().await.unwrap().state.clone();
    let mut out = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        let Ok(message) = s.get_raw_message(seq).await else {
            continue;
        };
        let msg_id = message
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.to_string())
            .unwrap_or_default();
        let event = serde_json::from_slice(&message.payload).expect("a CloudEvents envelope");
        out.push(Published {
            subject: message.subject.to_string(),
            msg_id,
            event,
        });
    }
    out
}

/// Connects a client to a server.
pub async fn connect(url: &str) -> async_nats::Client {
    async_nats::connect(url).await.expect("NATS reachable")
}

/// Reads (and acks) from a pull consumer until `expected` messages arrived, or 30 s passed;
/// returns their subjects. Under load a single fetch may come back short.
pub async fn consume(consumer: &jetstream::consumer::PullConsumer, expected: usize) -> Vec<String> {
    use futures::StreamExt;
    let started = std::time::Instant::now();
    let mut subjects = Vec::new();
    while subjects.len() < expected && started.elapsed() < Duration::from_secs(30) {
        let mut batch = consumer
            .fetch()
            .max_messages(500)
            .expires(Duration::from_secs(1))
            .messages()
            .await
            .expect("fetch allowed");
        while let Some(message) = batch.next().await {
            let message = message.expect("a message");
            subjects.push(message.subject.to_string());
            message.ack().await.expect("ack allowed");
        }
    }
    subjects
}

/// Three nats-servers with JetStream routed to each other as one cluster (`n0`, `n1`, `n2`),
/// each on free ports with its own store; killed when dropped.
pub struct Cluster {
    ports: Vec<u16>,
    children: Vec<Option<Child>>,
    store: PathBuf,
}

impl Cluster {
    /// Starts the three servers (the cluster elects its JetStream leader on its own time).
    pub fn start() -> Cluster {
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
                let child = Command::new("nats-server")
                    .args(["-a", "127.0.0.1", "-p", &ports[n].to_string(), "-js", "-sd"])
                    .arg(&dir)
                    .args(["-n", &format!("n{n}"), "--cluster_name", "attendance"])
                    .args(["--cluster", &format!("nats://127.0.0.1:{}", routes[n])])
                    .args(["--routes", &all_routes.join(",")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("nats-server is installed");
                Some(child)
            })
            .collect();
        Cluster {
            ports,
            children,
            store,
        }
    }

    /// Every server, comma-separated, as `NATS_URL` takes them.
    pub fn url(&self) -> String {
        let urls: Vec<String> = self
            .ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect();
        urls.join(",")
    }

    /// Kills the server named `name` (`n0`, `n1`, `n2`) with SIGKILL, as a crash would.
    pub fn kill(&mut self, name: &str) {
        let n: usize = name
            .strip_prefix('n')
            .and_then(|n| n.parse().ok())
            .filter(|n| *n < self.children.len())
            .unwrap_or_else(|| panic!("no server {name} in the cluster"));
        let mut child = self.children[n]
            .take()
            .unwrap_or_else(|| panic!("{name} was killed already"));
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for mut child in self.children.iter_mut().filter_map(Option::take) {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.store);
    }
}
