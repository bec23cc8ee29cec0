//! `certequiv_server::run` inside the test process, for tests of what the API answers.
//!
//! [`start_with`] opens the catalog as `certequiv serve` would, binds port-0 listeners itself
//! (so it knows the ports before the server starts) and calls `run` on a runtime of its own, in
//! a thread of its own: the server keeps being driven while a test blocks its thread, as a
//! separate process would be, and a test's single-threaded runtime does not have to share
//! itself with it. It returns once `grpc.health.v1.Health/Check` says SERVING.
//!
//! Dropping the [`Server`] resolves the shutdown future `run` was given, so the server drains
//! as on SIGTERM, on its own thread, while the test ends; [`Server::stop`] does the same and
//! waits for `run` to return.
//!
//! Unlike the binary it has no logger (tests that read the log use [`super::process`]), no
//! `/metrics` port (the Prometheus recorder is process-wide, so the counts of tests running at
//! once would mix) and no TLS (the readiness check speaks plaintext).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use certequiv_server::{Listeners, ServeConfig};
use certequiv_storage::{DEFAULT_JURISDICTION, Source, Store};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::{READY_TIMEOUT, Running};

/// What to start. [`start`] starts the default: `certequiv serve` without flags, but on
/// 127.0.0.1:0.
pub struct Setup {
    /// What the `serve` flags set; [`ServeConfig::default`] holds their defaults.
    pub config: ServeConfig,
    /// `--catalog-dir`; `None` serves the embedded catalog.
    pub catalog_dir: Option<PathBuf>,
}

/// A server running in this process, with a gRPC and an HTTP/JSON port. Shuts down on drop.
pub struct Server {
    pub addr: SocketAddr,
    pub http_addr: SocketAddr,
    /// Dropping it resolves the shutdown future of `run`.
    stop: Option<oneshot::Sender<()>>,
    /// What `run` returned.
    done: oneshot::Receiver<Result<(), String>>,
}

/// Starts the default server (see [`Setup`]) and waits until it is serving.
pub async fn start() -> Server {
    start_with(|_| {}).await
}

/// Like [`start`], with the setup changed first, e.g.
/// `start_with(|s| s.config.max_message_bytes = 2000)`.
pub async fn start_with(adjust: impl FnOnce(&mut Setup)) -> Server {
    let mut setup = Setup {
        config: ServeConfig::default(),
        catalog_dir: None,
    };
    adjust(&mut setup);
    assert!(
        setup.config.tls.is_none() && setup.config.http_tls.is_none(),
        "the in-process harness checks readiness over plaintext: start TLS servers with the \
         process harness"
    );
    let source = setup.catalog_dir.map_or(Source::Embedded, Source::Dir);
    let store = Store::open(source, DEFAULT_JURISDICTION)
        .unwrap_or_else(|error| panic!("the catalog does not load: {error}"));
    let (grpc, http) = (bind(), bind());
    let addr = grpc.local_addr().expect("address of the gRPC listener");
    let http_addr = http.local_addr().expect("address of the HTTP listener");

    let (stop, stopped) = oneshot::channel::<()>();
    let (finished, mut done) = oneshot::channel();
    let config = setup.config;
    std::thread::Builder::new()
        .name("certequiv-in-process".into())
        .spawn(move || {
            let shutdown = async {
                // Sent or dropped: either way the test is done with the server.
                let _ = stopped.await;
            };
            let _ = finished.send(serve(grpc, http, store, config, shutdown));
        })
        .expect("start the server thread");

    let ready = tokio::time::timeout(READY_TIMEOUT, async {
        tokio::select! {
            () = until_serving(addr) => None,
            result = &mut done => Some(result),
        }
    })
    .await;
    match ready {
        Ok(None) => {}
        Ok(Some(result)) => panic!("the server ended before it was serving: {result:?}"),
        Err(_) => panic!("the server was not SERVING within {READY_TIMEOUT:?}"),
    }
    Server {
        addr,
        http_addr,
        stop: Some(stop),
        done,
    }
}

impl Server {
    /// Shuts the server down as SIGTERM would and waits until `run` has returned; its result.
    pub async fn stop(mut self) -> Result<(), String> {
        drop(self.stop.take());
        (&mut self.done)
            .await
            .unwrap_or_else(|_| Err("the server thread ended without a result".to_owned()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Not waiting: a test's single-threaded runtime is not driven while this runs, so its
        // open connections could not close and the drain would last its whole grace period.
        drop(self.stop.take());
    }
}

impl Running for Server {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn http_addr(&self) -> Option<SocketAddr> {
        Some(self.http_addr)
    }
}

fn bind() -> std::net::TcpListener {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    // tokio takes over the socket, which must not block its threads.
    listener
        .set_nonblocking(true)
        .expect("make the listener non-blocking");
    listener
}

/// Runs the server to its end on a runtime of its own: two workers, so it serves while a
/// test's client runs, without a thread per core for each of the servers a test binary starts
/// at once.
fn serve(
    grpc: std::net::TcpListener,
    http: std::net::TcpListener,
    store: Store,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("certequiv-in-process")
        .enable_all()
        .build()
        .map_err(|e| format!("server runtime: {e}"))?;
    runtime.block_on(async move {
        let listeners = Listeners {
            grpc: tokio::net::TcpListener::from_std(grpc).map_err(|e| e.to_string())?,
            metrics: None,
            health: None,
            http: Some(tokio::net::TcpListener::from_std(http).map_err(|e| e.to_string())?),
        };
        certequiv_server::run(listeners, Arc::new(store), config, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}

/// Asks `Health/Check` for the overall status until it is SERVING. The listener is bound
/// before `run` starts, so the connection waits in the backlog rather than being refused; the
/// status is NOT_SERVING until `run` has wired everything up, a few milliseconds.
async fn until_serving(addr: SocketAddr) {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("valid endpoint")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    let mut health = HealthClient::new(channel);
    loop {
        let status = health.check(HealthCheckRequest::default()).await;
        if status.is_ok_and(|response| response.into_inner().status() == ServingStatus::Serving) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
