//! The certequiv gRPC server: wiring of services, health, reflection, logging and shutdown.
//!
//! [`run`] takes a bound listener and a loaded store, so tests can bind port 0 and pass it in;
//! `main` only parses flags and calls into [`cli`].
#![forbid(unsafe_code)]

pub mod auth;
pub mod cli;
pub mod convert;
pub mod error;
pub mod limit;
pub mod metrics;
pub mod observe;
pub mod services;
pub mod shutdown;
pub mod telemetry;
pub mod tools;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use certequiv_api::server::v1::certificate_service_server::CertificateServiceServer;
use certequiv_api::server::v1::equivalence_service_server::EquivalenceServiceServer;
use certequiv_storage::Store;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::services::{Certificates, Equivalence, State};

/// Health service names a probe may ask for, besides the overall "".
pub const HEALTH_SERVICES: [&str; 2] = [
    "certequiv.v1.CertificateService",
    "certequiv.v1.EquivalenceService",
];

/// How the server behaves, from flags.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// After a shutdown signal, how long in-flight calls may take before connections close.
    pub shutdown_grace: Duration,
    /// How often a catalog directory is checked for changes besides file events.
    pub reload_interval: Duration,
    /// Serve gRPC reflection (v1 and v1alpha).
    pub reflection: bool,
    /// Longest a call may take; a shorter client `grpc-timeout` wins. Zero sets no server
    /// limit (client deadlines still apply).
    pub request_timeout: Duration,
    /// Calls served at once across all connections; more are shed with RESOURCE_EXHAUSTED
    /// rather than queued.
    pub max_concurrent_requests: usize,
    /// HTTP/2 streams one connection may open at once.
    pub max_concurrent_streams: u32,
    /// Connections are closed gracefully after this age, so clients re-resolve and new pods
    /// get traffic (see the README on load balancing).
    pub max_connection_age: Duration,
    /// Largest request message accepted after decoding.
    pub max_message_bytes: usize,
    /// TLS (and, with a client CA, mutual TLS) on the API port.
    pub tls: Option<tonic::transport::ServerTlsConfig>,
    /// Bearer tokens required on every call but health checks.
    pub tokens: Option<Arc<auth::TokenFile>>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            shutdown_grace: Duration::from_secs(10),
            reload_interval: Duration::from_secs(2),
            reflection: true,
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 1024,
            max_concurrent_streams: 256,
            max_connection_age: Duration::from_secs(300),
            max_message_bytes: 4 * 1024 * 1024,
            tls: None,
            tokens: None,
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
}

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// Accepted connections with TCP_NODELAY: tonic sets it only on listeners it binds itself.
/// Without it a response's trailers, written separately, wait for the client's delayed ACK
/// (about 40 ms a call; measured in docs/performance.md).
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

async fn set_all(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for service in HEALTH_SERVICES {
        reporter.set_service_status(service, status).await;
    }
}

/// Serves until `shutdown` resolves, then drains for at most the grace period.
pub async fn run(
    listeners: Listeners,
    store: Arc<Store>,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let (reporter, health) = tonic_health::server::health_reporter();
    // tonic-health reports "" as SERVING from creation; nothing is ready until wired up.
    set_all(&reporter, ServingStatus::NotServing).await;

    let state = State::new(Arc::clone(&store));
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
    let recorder = listeners.metrics.as_ref().and_then(|_| metrics::recorder());
    let methods = observe::MethodTable::from_descriptor_sets(&[
        certequiv_api::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ]);

    let layers = tower::ServiceBuilder::new()
        .layer(observe::ObserveLayer::new(
            methods,
            limit::Limit::new(config.max_concurrent_requests),
            telemetry::RequestIds::new(),
        ))
        .option_layer(config.tokens.clone().map(auth::TokenLayer::new))
        .into_inner();
    let max = config.max_message_bytes;
    let mut builder = Server::builder();
    if let Some(tls) = config.tls.clone() {
        builder = builder.tls_config(tls)?;
    }
    if !config.request_timeout.is_zero() {
        builder = builder.timeout(config.request_timeout);
    }
    let router = builder
        .max_concurrent_streams(config.max_concurrent_streams)
        .max_connection_age(config.max_connection_age)
        .max_connection_age_grace(config.shutdown_grace)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .layer(layers)
        .add_service(health.clone())
        .add_optional_service(reflection_v1)
        .add_optional_service(reflection_v1alpha)
        .add_service(
            CertificateServiceServer::new(Certificates(state.clone()))
                .max_decoding_message_size(max),
        )
        .add_service(
            EquivalenceServiceServer::new(Equivalence(state)).max_decoding_message_size(max),
        );

    // Metrics, the health-only listener and the token watcher; aborted when serving ends.
    let mut background = tokio::task::JoinSet::<()>::new();
    if let Some(listener) = listeners.metrics {
        match recorder {
            Some(handle) => {
                tracing::info!(addr = ?listener.local_addr().ok(), "metrics listening");
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

    if let Some(listener) = listeners.health {
        tracing::info!(addr = ?listener.local_addr().ok(), "health listening");
        let health_only = Server::builder()
            .add_service(health)
            .serve_with_incoming(incoming(listener));
        background.spawn(async move {
            if let Err(error) = health_only.await {
                tracing::error!(%error, "health listener failed");
            }
        });
    }
    if let Some(tokens) = config.tokens.clone() {
        background.spawn(tokens.watch(Duration::from_secs(2)));
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

    let address = listeners.grpc.local_addr().ok();
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let serve = router.serve_with_incoming_shutdown(incoming(listeners.grpc), async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    });
    tokio::pin!(serve);

    // The store was loaded before `run` was called: the catalog is ready.
    set_all(&reporter, ServingStatus::Serving).await;
    let set = store.snapshot();
    tracing::info!(
        addr = ?address,
        catalogs = set.catalogs().len(),
        "serving"
    );

    let result = tokio::select! {
        result = &mut serve => result.map_err(ServeError::from),
        () = shutdown => {
            set_all(&reporter, ServingStatus::NotServing).await;
            let _ = stop_tx.send(true);
            tracing::info!(grace_ms = config.shutdown_grace.as_millis() as u64, "draining");
            // Long-lived streams (Health/Watch) or idle connections would keep tonic waiting
            // forever: the grace period bounds the drain.
            match tokio::time::timeout(config.shutdown_grace, &mut serve).await {
                Ok(result) => result.map_err(ServeError::from),
                Err(_) => {
                    tracing::warn!("grace period over, closing remaining connections");
                    Ok(())
                }
            }
        }
    };
    stop_watching.store(true, Ordering::Relaxed);
    drop(watcher);
    background.abort_all();
    tracing::info!("stopped");
    result
}
