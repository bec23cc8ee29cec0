//! The server's own HTTP/2 transport: the accept loop, connection set-up and each connection's
//! life, in front of the tower stack that serves gRPC.
//!
//! tonic's `Server` would do the HTTP/2 part, but it offers no bound on connection set-up (TLS
//! handshake, HTTP/2 preface), spins on a failing `accept` (at the file-descriptor limit),
//! closes connections at `max_connection_age` + grace without sending GOAWAY first, and does
//! not expose hyper's per-stream send buffer. This module keeps those under control:
//! - at most `max_connections` connections; past it a new connection is closed at once;
//! - set-up (TLS handshake and preface) within `handshake_timeout`;
//! - accept errors back off (EMFILE/ENFILE included), are counted and logged once a minute;
//! - at `max_connection_age` a GOAWAY, and the connection is closed `max_connection_age_grace`
//!   later if calls still hold it;
//! - flow-control windows and send buffers sized so a connection's memory stays bounded;
//! - on drain a GOAWAY to every connection; on abort, connections close once the answers
//!   written by [`crate::observe`] are flushed.
//!
//! Each request carries a [`ConnInfo`] in its extensions: which connection it came on, the
//! client certificate's subject, and that connection's share of the admission slots.

mod handshake;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;
use tower::{Service, ServiceExt};

pub use handshake::HandshakeError;

use crate::admission::ConnectionSlots;
use crate::lifecycle::Lifecycle;
use crate::tls::ReloadableTls;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long connections may take and hold, and what HTTP/2 allows them.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Connections open at once on this listener; more are closed as they come.
    pub max_connections: usize,
    /// TLS handshake and HTTP/2 preface must complete within this.
    pub handshake_timeout: Duration,
    /// HTTP/2 streams one connection may have open at once.
    pub max_concurrent_streams: u32,
    /// A GOAWAY after this age, so clients reconnect and reach new pods.
    pub max_connection_age: Duration,
    /// After the GOAWAY of old age, how long calls may still hold the connection.
    pub max_connection_age_grace: Duration,
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
    /// HTTP/2 receive window of each stream: what a client may send before the server reads.
    pub stream_window: u32,
    /// HTTP/2 receive window of the whole connection.
    pub connection_window: u32,
    /// Bytes hyper buffers per stream for a client that does not read.
    pub max_send_buffer: usize,
}

impl TransportConfig {
    fn http2(&self) -> hyper::server::conn::http2::Builder<TokioExecutor> {
        let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .initial_stream_window_size(self.stream_window)
            .initial_connection_window_size(self.connection_window)
            .max_concurrent_streams(self.max_concurrent_streams)
            .max_send_buf_size(self.max_send_buffer)
            .keep_alive_interval(self.keepalive_interval)
            .keep_alive_timeout(self.keepalive_timeout);
        builder
    }
}

/// The connection a request came on, in the request's extensions.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub id: u64,
    pub remote: Option<SocketAddr>,
    /// The client certificate's subject, with mutual TLS.
    pub peer_subject: Option<Arc<str>>,
    /// What this connection holds of the admission pools.
    pub slots: Arc<ConnectionSlots>,
}

/// After the abort, how long a connection may take to write the statuses of the calls ended
/// and close.
const ABORT_FLUSH: Duration = Duration::from_secs(1);
/// Longest pause of the accept loop after repeated errors.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);
/// Accept errors are logged at most once per this interval, with how many there were.
const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(60);

static CONNECTION_IDS: AtomicU64 = AtomicU64::new(1);

/// Serves connections from `listener` with `service` until drained, then waits for the
/// connections to close (they close at once after the abort).
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    tls: Option<Arc<ReloadableTls>>,
    config: Arc<TransportConfig>,
    lifecycle: Lifecycle,
    port: &'static str,
) where
    S: Service<Request<Incoming>, Response = Response<B>, Error = BoxError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let connections = TaskTracker::new();
    let open = Arc::new(AtomicUsize::new(0));
    let mut errors = AcceptErrors::default();
    let draining = lifecycle.draining();
    tokio::pin!(draining);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut draining => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => {
                errors.succeeded();
                accepted
            }
            Err(error) => {
                let pause = errors.failed(&error, port);
                tokio::select! {
                    () = &mut draining => break,
                    () = tokio::time::sleep(pause) => continue,
                }
            }
        };
        if open.load(Ordering::Relaxed) >= config.max_connections {
            metrics::counter!("certequiv_connections_refused_total", "port" => port, "reason" => "limit")
                .increment(1);
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        open.fetch_add(1, Ordering::Relaxed);
        let guard = OpenGuard {
            open: Arc::clone(&open),
            port,
        };
        metrics::gauge!("certequiv_connections_open", "port" => port).increment(1.0);
        connections.spawn(connection(
            stream,
            remote,
            service.clone(),
            tls.clone(),
            Arc::clone(&config),
            lifecycle.clone(),
            guard,
        ));
    }
    // Closing the listener now: the kernel stops completing handshakes for this port.
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Counts a connection out when its task ends.
struct OpenGuard {
    open: Arc<AtomicUsize>,
    port: &'static str,
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("certequiv_connections_open", "port" => self.port).decrement(1.0);
    }
}

async fn connection<S, B>(
    stream: TcpStream,
    remote: SocketAddr,
    service: S,
    tls: Option<Arc<ReloadableTls>>,
    config: Arc<TransportConfig>,
    lifecycle: Lifecycle,
    guard: OpenGuard,
) where
    S: Service<Request<Incoming>, Response = Response<B>, Error = BoxError>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let port = guard.port;
    let established = tokio::time::timeout(
        config.handshake_timeout,
        handshake::establish(stream, tls.as_deref()),
    )
    .await;
    let established = match established {
        Ok(Ok(established)) => established,
        Ok(Err(error)) => {
            metrics::counter!("certequiv_connections_refused_total", "port" => port, "reason" => error.label())
                .increment(1);
            tracing::debug!(%remote, %error, "connection closed during set-up");
            return;
        }
        Err(_) => {
            metrics::counter!("certequiv_connections_refused_total", "port" => port, "reason" => "handshake_timeout")
                .increment(1);
            tracing::debug!(%remote, timeout_ms = config.handshake_timeout.as_millis() as u64, "connection closed: set-up took too long");
            return;
        }
    };
    let info = ConnInfo {
        id: CONNECTION_IDS.fetch_add(1, Ordering::Relaxed),
        remote: Some(remote),
        peer_subject: established.peer_subject.map(Arc::from),
        slots: Arc::new(ConnectionSlots::default()),
    };
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(info.clone());
        service.clone().oneshot(request)
    });
    let connection = config
        .http2()
        .serve_connection(TokioIo::new(established.io), service);
    tokio::pin!(connection);

    let draining = lifecycle.draining();
    let aborting = lifecycle.aborting();
    // Zero means no maximum age; tokio turns `Duration::MAX` into a far future.
    let max_age = Some(config.max_connection_age)
        .filter(|age| !age.is_zero())
        .unwrap_or(Duration::MAX);
    let old_age = tokio::time::sleep(max_age);
    let close_at = tokio::time::sleep(Duration::MAX);
    tokio::pin!(draining, aborting, old_age, close_at);
    let (mut goaway_sent, mut closing, mut aborted) = (false, false, false);
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%remote, %error, "connection ended with an error");
                }
                break;
            }
            () = &mut old_age, if !goaway_sent => {
                connection.as_mut().graceful_shutdown();
                goaway_sent = true;
                closing = true;
                close_at.as_mut().reset(tokio::time::Instant::now() + config.max_connection_age_grace);
            }
            () = &mut draining, if !goaway_sent => {
                connection.as_mut().graceful_shutdown();
                goaway_sent = true;
            }
            () = &mut aborting, if !aborted => {
                aborted = true;
                let flush_by = tokio::time::Instant::now() + ABORT_FLUSH;
                if !closing || close_at.deadline() > flush_by {
                    close_at.as_mut().reset(flush_by);
                }
                closing = true;
            }
            () = &mut close_at, if closing => {
                metrics::counter!("certequiv_connections_closed_total", "port" => port, "reason" => if aborted { "shutdown" } else { "age_grace" })
                    .increment(1);
                break;
            }
        }
    }
    drop(guard);
}

/// The accept loop's error state: a growing pause while accepting fails, and a log line per
/// interval instead of one per failure.
#[derive(Debug, Default)]
struct AcceptErrors {
    pause: Duration,
    since_log: u64,
    logged_at: Option<Instant>,
}

impl AcceptErrors {
    fn succeeded(&mut self) {
        self.pause = Duration::ZERO;
    }

    /// Records a failure and returns how long to pause before accepting again.
    fn failed(&mut self, error: &std::io::Error, port: &'static str) -> Duration {
        let reason = accept_error_reason(error);
        metrics::counter!("certequiv_accept_errors_total", "port" => port, "reason" => reason)
            .increment(1);
        self.since_log += 1;
        let due = self
            .logged_at
            .is_none_or(|at| at.elapsed() >= ACCEPT_LOG_INTERVAL);
        if due {
            tracing::error!(
                port,
                reason,
                %error,
                failures = self.since_log,
                "accepting connections fails, backing off"
            );
            self.logged_at = Some(Instant::now());
            self.since_log = 0;
        }
        // Out of descriptors or memory, nothing changes until something is released: wait.
        self.pause = (self.pause * 2).clamp(Duration::from_millis(5), MAX_ACCEPT_BACKOFF);
        self.pause
    }
}

fn accept_error_reason(error: &std::io::Error) -> &'static str {
    match error.raw_os_error() {
        Some(libc::EMFILE) => "emfile",
        Some(libc::ENFILE) => "enfile",
        Some(libc::ENOBUFS) | Some(libc::ENOMEM) => "no_memory",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_failures_back_off_up_to_a_second_and_reset_on_success() {
        let mut errors = AcceptErrors::default();
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        let pauses: Vec<_> = (0..12).map(|_| errors.failed(&emfile, "test")).collect();
        assert_eq!(pauses[0], Duration::from_millis(5));
        assert!(pauses.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*pauses.last().unwrap(), MAX_ACCEPT_BACKOFF);
        errors.succeeded();
        assert_eq!(errors.failed(&emfile, "test"), Duration::from_millis(5));
        assert_eq!(accept_error_reason(&emfile), "emfile");
    }
}
