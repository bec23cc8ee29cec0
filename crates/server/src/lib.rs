//! The certequiv gRPC server: wiring of services, health, reflection, logging and shutdown.
//!
//! [`run`] takes a bound listener and a loaded store, so tests can bind port 0 and pass it in;
//! `main` only parses flags and calls into [`cli`].
#![forbid(unsafe_code)]

pub mod admission;
pub mod auth;
pub mod cli;
pub mod convert;
pub mod defaults;
pub mod error;
pub mod file_stamp;
pub mod gateway;
pub mod health;
pub mod lifecycle;
pub mod listen;
pub mod metrics;
pub mod observe;
pub mod page_token;
pub mod services;
pub mod shutdown;
pub mod telemetry;
pub mod tls;
pub mod tools;
pub mod tracing_otel;
pub mod transport;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use certequiv_api::server::v1::certificate_service_server::CertificateServiceServer;
use certequiv_api::server::v1::equivalence_service_server::EquivalenceServiceServer;
use certequiv_storage::Store;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic_health::ServingStatus;

use crate::admission::Limits;
use crate::lifecycle::Lifecycle;
use crate::observe::{CallTimeouts, ObserveLayer};
use crate::services::{Certificates, Equivalence, State};
use crate::transport::TransportConfig;

pub use crate::health::HEALTH_SERVICES;

/// How the server behaves: built from the `serve` flags ([`cli::ServeArgs::config`]), or
/// [`Default`] (the flags' defaults) plus what a test changes.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// After a shutdown signal, how long in-flight calls may take before they are ended.
    pub shutdown_grace: Duration,
    /// How often a catalog directory is checked for changes besides file events.
    pub reload_interval: Duration,
    /// Serve gRPC reflection (v1 and v1alpha).
    pub reflection: bool,
    /// One info line per API call; otherwise that line is at debug.
    pub access_log: bool,
    /// Longest a unary call may take; a shorter client `grpc-timeout` wins. Zero sets no server
    /// limit (client deadlines still apply).
    pub request_timeout: Duration,
    /// From a call's headers to its whole request message: a client that opens a call and
    /// sends nothing is ended after this.
    pub message_timeout: Duration,
    /// Longest gap between request messages of a stream.
    pub stream_idle_timeout: Duration,
    /// TLS handshake and HTTP/2 preface of a new connection must complete within this.
    pub handshake_timeout: Duration,
    /// Calls served at once across all connections and ports (streams for their whole life);
    /// more are shed with RESOURCE_EXHAUSTED rather than queued.
    pub max_concurrent_requests: usize,
    /// Streaming calls (BatchEvaluate, Health/Watch, reflection) open at once.
    pub max_open_streams: usize,
    /// Connections open at once on each port.
    pub max_connections: usize,
    /// HTTP/2 streams one connection may open at once.
    pub max_concurrent_streams: u32,
    /// Connections get a GOAWAY after this age, so clients re-resolve and new pods get traffic
    /// (see the README on load balancing).
    pub max_connection_age: Duration,
    /// Largest request message accepted after decoding.
    pub max_message_bytes: usize,
    /// TLS (and, with a client CA, mutual TLS) on the API port.
    pub tls: Option<Arc<tls::ReloadableTls>>,
    /// Bearer tokens required on every call but health checks.
    pub tokens: Option<Arc<auth::TokenFile>>,
    /// TLS on the HTTP port: the same files as the API port's, offering HTTP/1.1.
    pub http_tls: Option<Arc<tls::ReloadableTls>>,
    /// Browser origins allowed to call the HTTP port (CORS); `*` for any, empty for none.
    pub http_cors_origins: Vec<String>,
}

/// What the `serve` flags default to ([`defaults`]); no TLS, tokens or CORS origins.
impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            shutdown_grace: defaults::SHUTDOWN_GRACE.value,
            reload_interval: defaults::RELOAD_INTERVAL.value,
            reflection: defaults::REFLECTION,
            access_log: defaults::ACCESS_LOG,
            request_timeout: defaults::REQUEST_TIMEOUT.value,
            message_timeout: defaults::MESSAGE_TIMEOUT.value,
            stream_idle_timeout: defaults::STREAM_IDLE_TIMEOUT.value,
            handshake_timeout: defaults::HANDSHAKE_TIMEOUT.value,
            max_concurrent_requests: defaults::MAX_CONCURRENT_REQUESTS,
            max_open_streams: defaults::MAX_OPEN_STREAMS,
            max_connections: defaults::MAX_CONNECTIONS,
            max_concurrent_streams: defaults::MAX_CONCURRENT_STREAMS,
            max_connection_age: defaults::MAX_CONNECTION_AGE.value,
            max_message_bytes: defaults::MAX_MESSAGE_BYTES,
            tls: None,
            tokens: None,
            http_tls: None,
            http_cors_origins: Vec::new(),
        }
    }
}

/// The sockets the server answers on, bound by the caller (tests bind port 0).
#[derive(Debug)]
pub struct Listeners {
    pub grpc: TcpListener,
    /// `GET /metrics`; `None` serves no metrics.
    pub metrics: Option<TcpListener>,
    /// Plaintext `grpc.health.v1` only, for probes when the API port requires mTLS.
    pub health: Option<TcpListener>,
    /// HTTP/JSON access to the API and its OpenAPI document; `None` serves none.
    pub http: Option<TcpListener>,
}

/// Why serving could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("http gateway: {0}")]
    Gateway(String),
    /// The address a listener is bound to could not be read. The log names every bound
    /// address and tools take port-0 ports from it, so serving does not start without one.
    #[error("address of the {listener} listener: {error}")]
    LocalAddr {
        listener: &'static str,
        error: std::io::Error,
    },
}

/// `listener` with the address it is bound to (the real port when it was bound to port 0).
fn with_addr(
    listener: TcpListener,
    name: &'static str,
) -> Result<(TcpListener, SocketAddr), ServeError> {
    let addr = listener
        .local_addr()
        .map_err(|error| ServeError::LocalAddr {
            listener: name,
            error,
        })?;
    Ok((listener, addr))
}

/// After the grace period, how long the calls ended then may take to be written out.
const ABORT_WAIT: Duration = Duration::from_secs(2);
/// How often TLS and token files are checked for changes.
const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// Serves until `shutdown` resolves, then drains for at most the grace period.
pub async fn run(
    listeners: Listeners,
    store: Arc<Store>,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    // Before anything starts, so a failure leaves nothing running.
    let (grpc_listener, address) = with_addr(listeners.grpc, "grpc")?;
    let metrics_listener = listeners
        .metrics
        .map(|l| with_addr(l, "metrics"))
        .transpose()?;
    let http_listener = listeners.http.map(|l| with_addr(l, "http")).transpose()?;
    let health_listener = listeners
        .health
        .map(|l| with_addr(l, "health"))
        .transpose()?;

    let (reporter, health) = tonic_health::server::health_reporter();
    // tonic-health reports "" as SERVING from creation; nothing is ready until wired up.
    health::set_all(&reporter, ServingStatus::NotServing).await;

    let lifecycle = Lifecycle::new();
    let state = State::new(Arc::clone(&store), lifecycle.clone());
    let descriptor_sets = [
        certequiv_api::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_types::pb::FILE_DESCRIPTOR_SET,
    ];
    let (reflection_v1, reflection_v1alpha) = if config.reflection {
        let mut v1 = tonic_reflection::server::Builder::configure();
        let mut v1alpha = tonic_reflection::server::Builder::configure();
        for set in descriptor_sets {
            v1 = v1.register_encoded_file_descriptor_set(set);
            v1alpha = v1alpha.register_encoded_file_descriptor_set(set);
        }
        (Some(v1.build_v1()?), Some(v1alpha.build_v1alpha()?))
    } else {
        (None, None)
    };
    // Installed before the method table: its metric handles bind to the recorder of the moment.
    let recorder = metrics_listener.as_ref().and_then(|_| metrics::recorder());
    let methods = observe::MethodTable::from_descriptor_sets(&[
        certequiv_api::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ]);
    let limits = Arc::new(Limits::new(
        config.max_concurrent_requests,
        config.max_open_streams,
    ));
    let observe = ObserveLayer::new(
        methods,
        Arc::clone(&limits),
        telemetry::RequestIds::new(),
        lifecycle.clone(),
        CallTimeouts {
            request: config.request_timeout,
            message: config.message_timeout,
            stream_idle: config.stream_idle_timeout,
        },
        config.access_log,
    );
    let max = config.max_message_bytes;
    let mut routes = Routes::new(health.clone())
        .add_service(
            CertificateServiceServer::new(Certificates(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(
            EquivalenceServiceServer::new(Equivalence(state)).max_decoding_message_size(max),
        );
    if let Some(v1) = reflection_v1 {
        routes = routes.add_service(v1);
    }
    if let Some(v1alpha) = reflection_v1alpha {
        routes = routes.add_service(v1alpha);
    }
    let api = tower::ServiceBuilder::new()
        .layer(observe.clone())
        .option_layer(config.tokens.clone().map(auth::TokenLayer::new))
        .service(routes.prepare());
    let transport = Arc::new(TransportConfig {
        max_connections: config.max_connections,
        handshake_timeout: config.handshake_timeout,
        max_concurrent_streams: config.max_concurrent_streams,
        max_connection_age: config.max_connection_age,
        max_connection_age_grace: config.shutdown_grace,
        keepalive_interval: Duration::from_secs(30),
        keepalive_timeout: Duration::from_secs(10),
        // One stream may send a message of the largest size before the server reads; a
        // connection some of them.
        stream_window: window(config.max_message_bytes),
        connection_window: window(config.max_message_bytes.saturating_mul(4)),
        max_send_buffer: 64 * 1024,
    });

    // Metrics, the file watchers and the readiness watch; aborted when serving ends.
    let mut background = tokio::task::JoinSet::<()>::new();
    if let Some((listener, addr)) = metrics_listener {
        match recorder {
            Some(handle) => {
                tracing::info!(%addr, "metrics listening");
                background.spawn(metrics::refresh(
                    Arc::clone(&store),
                    handle.clone(),
                    Duration::from_secs(5),
                ));
                background.spawn(metrics::serve(listener, handle));
            }
            None => tracing::warn!("metrics recorder unavailable, /metrics not served"),
        }
    }
    if let Some(tokens) = config.tokens.clone() {
        background.spawn(tokens.watch(FILE_CHECK_INTERVAL));
    }
    for tls in [config.tls.clone(), config.http_tls.clone()]
        .into_iter()
        .flatten()
    {
        background.spawn(tls.watch(FILE_CHECK_INTERVAL));
    }
    background.spawn(health::watch_progress(
        reporter.clone(),
        Arc::clone(&limits),
        lifecycle.clone(),
    ));

    let mut servers = Vec::new();
    if let Some((listener, addr)) = http_listener {
        // The HTTP/JSON gateway calls the same stack as the gRPC port: every layer above
        // (admission, request ids, logs, metrics, tokens) applies to it once.
        let grpc = tower::ServiceExt::<http::Request<tonic::body::Body>>::map_response(
            api.clone(),
            |response| response.map(tonic::body::Body::new),
        );
        let gateway = gateway::Gateway::new(
            tower::util::BoxCloneSyncService::new(grpc),
            gateway::GatewayConfig {
                max_message_bytes: max,
                message_timeout: config.message_timeout,
                request_timeout: config.request_timeout,
                stream_idle_timeout: config.stream_idle_timeout,
                handshake_timeout: config.handshake_timeout,
                max_connections: config.max_connections,
                cors_origins: config.http_cors_origins.clone(),
            },
            Arc::clone(&limits),
        )
        .map_err(ServeError::Gateway)?;
        tracing::info!(%addr, "http listening");
        servers.push(tokio::spawn(gateway::serve(
            listener,
            Arc::new(gateway),
            config.http_tls.clone(),
            lifecycle.clone(),
        )));
    }
    servers.push(tokio::spawn(transport::serve(
        grpc_listener,
        api,
        config.tls.clone(),
        Arc::clone(&transport),
        lifecycle.clone(),
        "grpc",
    )));
    if let Some((listener, addr)) = health_listener {
        tracing::info!(%addr, "health listening");
        let health_only = tower::ServiceBuilder::new()
            .layer(observe)
            .service(Routes::new(health).prepare());
        servers.push(tokio::spawn(transport::serve(
            listener,
            health_only,
            None,
            Arc::clone(&transport),
            lifecycle.clone(),
            "health",
        )));
    }

    let stop_watching = Arc::new(AtomicBool::new(false));
    let watcher = {
        let store = Arc::clone(&store);
        let stop = Arc::clone(&stop_watching);
        let interval = config.reload_interval;
        std::thread::Builder::new()
            .name("catalog-watch".into())
            .spawn(move || store.watch(interval, || stop.load(Ordering::Relaxed)))
            .ok()
    };

    // The store was loaded before `run` was called: the catalog is ready.
    health::set_all(&reporter, ServingStatus::Serving).await;
    let set = store.snapshot();
    tracing::info!(
        addr = %address,
        catalogs = set.catalogs().len(),
        "serving"
    );

    shutdown.await;
    health::set_all(&reporter, ServingStatus::NotServing).await;
    lifecycle.start_draining();
    tracing::info!(
        grace_ms = config.shutdown_grace.as_millis() as u64,
        "draining"
    );
    let all_closed = async {
        for server in servers.iter_mut() {
            let _ = server.await;
        }
    };
    tokio::pin!(all_closed);
    if tokio::time::timeout(config.shutdown_grace, &mut all_closed)
        .await
        .is_err()
    {
        tracing::warn!("grace period over, ending the calls still running");
        lifecycle.start_aborting();
        if tokio::time::timeout(ABORT_WAIT, &mut all_closed)
            .await
            .is_err()
        {
            tracing::warn!("connections still open after the abort, closing them");
        }
    }
    for server in &servers {
        server.abort();
    }
    stop_watching.store(true, Ordering::Relaxed);
    drop(watcher);
    background.abort_all();
    tracing::info!("stopped");
    Ok(())
}

/// An HTTP/2 window of `bytes`, within what the protocol allows (64 KiB to 2^31 - 1).
fn window(bytes: usize) -> u32 {
    u32::try_from(bytes)
        .unwrap_or(u32::MAX)
        .clamp(65_535, (1 << 31) - 1)
}
