//! A TCP proxy a test puts between the application and Postgres, to cut the database away
//! (every live connection closed, new ones dropped) and give it back, without touching the
//! shared Postgres server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long answers already on their way from the server still reach the client after a cut.
///
/// A connection cut between a `COMMIT` reaching Postgres and its answer reaching the client
/// leaves that client unable to know the outcome, whatever the client does. Stopping the
/// requests first and letting the answers drain takes that ambiguity out of the tests: what
/// they see is how the service behaves, not the network's unavoidable uncertainty.
const DRAIN: Duration = Duration::from_secs(1);

/// A proxy on `127.0.0.1:<free port>` forwarding to one upstream address.
pub struct TcpProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accepting: JoinHandle<()>,
}

struct Shared {
    upstream: String,
    up: AtomicBool,
    /// Bumped by every cut: a connection opened before the bump is closed.
    cuts: watch::Sender<u64>,
    /// Connections dropped at once because the proxy was cut.
    refused: AtomicU64,
}

impl TcpProxy {
    /// Starts forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream: upstream.to_string(),
            up: AtomicBool::new(true),
            cuts: watch::channel(0).0,
            refused: AtomicU64::new(0),
        });
        let accepting = tokio::spawn(accept(listener, shared.clone()));
        TcpProxy {
            addr,
            shared,
            accepting,
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every live connection (after [`DRAIN`]) and drops new ones until [`restore`].
    ///
    /// [`restore`]: TcpProxy::restore
    pub fn cut(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        self.shared.cuts.send_modify(|cuts| *cuts += 1);
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.shared.up.store(true, Ordering::SeqCst);
    }

    /// How many connections were dropped on arrival while cut.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        if !shared.up.load(Ordering::SeqCst) {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            drop(client);
            continue;
        }
        let born = *shared.cuts.borrow();
        let cuts = shared.cuts.subscribe();
        let upstream = shared.upstream.clone();
        tokio::spawn(async move {
            if let Ok(server) = TcpStream::connect(&upstream).await {
                pump(client, server, cuts, born).await;
            }
        });
    }
}

/// Copies both ways until either side closes or the proxy is cut.
async fn pump(client: TcpStream, server: TcpStream, mut cuts: watch::Receiver<u64>, born: u64) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let requests = tokio::io::copy(&mut client_read, &mut server_write);
    let answers = tokio::io::copy(&mut server_read, &mut client_write);
    let cut = async move {
        // The borrowed value is not `Send`: drop it before the select's output.
        let _ = cuts.wait_for(|cuts| *cuts != born).await.map(|_| ());
    };
    tokio::pin!(answers);
    tokio::select! {
        _ = requests => {}
        _ = &mut answers => {}
        _ = cut => {
            // Nothing more reaches the server; what it already answered still arrives.
            let _ = tokio::time::timeout(DRAIN, &mut answers).await;
        }
    }
    // Dropping both halves of both sockets closes the connections.
}
