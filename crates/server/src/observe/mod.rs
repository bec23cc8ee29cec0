//! One tower layer in front of every call, on every port: it checks the call's headers, admits
//! it against the limits ([`crate::admission`]), bounds how long it may take, and records it (a
//! span with the method and request id, one log line with the gRPC code and latency, the
//! go-grpc-prometheus metric family).
//!
//! The gRPC code is read from the response itself: from the headers of a trailers-only
//! response (errors), else from the trailers at the end of the body. A call whose client reset
//! its stream or dropped its connection counts as CANCELLED, whatever the server then tried to
//! answer. INTERNAL answers never carry their detail to the client: it is logged instead.

mod methods;
mod request;
mod response;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use tower::{Layer, Service};
use tracing::Instrument;

pub use methods::{MethodTable, code_name, describe_metrics};
pub use request::GatedBody;
pub use response::ObservedBody;

use crate::admission::{ConnectionSlots, Limits, Shed, Slot};
use crate::lifecycle::Lifecycle;
use crate::telemetry::{REQUEST_ID, RequestIds};
use crate::tracing_otel;
use crate::transport::ConnInfo;
use methods::Method;
use request::{GateRules, grpc_timeout, is_grpc_content_type};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The masked message of every INTERNAL answer, percent-encoded as `grpc-message` carries it.
const INTERNAL_MESSAGE: &str = "internal error";
const INTERNAL_MESSAGE_ENCODED: &str = "internal%20error";
/// Header telling a gRPC client with a retry policy when to retry a shed call.
const PUSHBACK: &str = "grpc-retry-pushback-ms";

/// How long calls may take.
#[derive(Debug, Clone)]
pub struct CallTimeouts {
    /// Longest unary call; a shorter client `grpc-timeout` wins. Zero: only client deadlines.
    pub request: Duration,
    /// From the headers to the whole request message (and, for a single-message request, its
    /// end).
    pub message: Duration,
    /// Longest gap between the request messages of a stream.
    pub stream_idle: Duration,
}

/// Everything the layer shares between connections.
#[derive(Debug)]
struct Shared {
    table: MethodTable,
    limits: Arc<Limits>,
    ids: RequestIds,
    lifecycle: Lifecycle,
    timeouts: CallTimeouts,
    /// `--access-log`: the per-call line of API methods at info rather than debug.
    access_log: bool,
}

/// The layer in front of every call, in one place and one boxed future per call.
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    shared: Arc<Shared>,
}

impl ObserveLayer {
    pub fn new(
        table: MethodTable,
        limits: Arc<Limits>,
        ids: RequestIds,
        lifecycle: Lifecycle,
        timeouts: CallTimeouts,
        access_log: bool,
    ) -> ObserveLayer {
        ObserveLayer {
            shared: Arc::new(Shared {
                table,
                limits,
                ids,
                lifecycle,
                timeouts,
                access_log,
            }),
        }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// What a call shares between its request body, its response body and its record: the request
/// slot it holds, and how it ended on the client's side.
#[derive(Debug, Default)]
pub(crate) struct CallState {
    slot: Mutex<Option<Slot>>,
    client_gone: AtomicBool,
    shed: AtomicBool,
}

impl CallState {
    fn hold(&self, slot: Slot) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(slot);
    }

    fn release(&self) {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    fn client_gone(&self) {
        self.client_gone.store(true, Ordering::Relaxed);
    }

    /// Marks the call shed by `limit` and gives the status to answer it with.
    fn shed(&self, limit: Shed) -> tonic::Status {
        self.shed.store(true, Ordering::Relaxed);
        limit.count();
        let mut status = tonic::Status::resource_exhausted(limit.message());
        status.metadata_mut().insert(PUSHBACK, pushback_ms().into());
        status
    }
}

/// When a shed client should retry: 50-250 ms, spread so that clients shed together do not
/// come back together.
fn pushback_ms() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    50 + nanos % 200
}

impl<S, B, ResBody> Service<Request<B>> for Observe<S>
where
    S: Service<Request<GatedBody<B>>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError> + Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes> + Default + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<ObservedBody<ResBody>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let shared = Arc::clone(&self.shared);
        let info = shared.table.lookup(request.uri().path());
        let (span, server) =
            tracing_otel::call_spans(&info.service, &info.method, info.quiet, request.headers());
        info.started.increment(1);
        info.in_flight.increment(1.0);
        let mut call = Call {
            access_line: shared.access_log && !info.quiet,
            info: Arc::clone(&info),
            started: Instant::now(),
            span: span.clone(),
            server: server.clone(),
            finished: false,
            request_id: request.headers().get(REQUEST_ID).cloned(),
            state: Arc::new(CallState::default()),
            stream_slot: None,
            limits: Arc::clone(&shared.limits),
        };
        // Ids are made only for what shows them: a line at info (the access log, an audit
        // event), any line at debug, or an error answer (`tag`). A caller's id is always kept.
        let shows_id = call.request_id.is_some()
            || call.access_line
            || info.audits
            || tracing::enabled!(tracing::Level::DEBUG);
        if shows_id && !span.is_disabled() {
            let id = call.request_id(&shared.ids);
            span.record("request_id", id.to_str().unwrap_or(""));
        }

        if !is_grpc_content_type(request.headers()) {
            let status = tonic::Status::invalid_argument(
                "content-type must be application/grpc (gRPC over HTTP/2)",
            );
            return ready(refuse(
                call,
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &shared,
            ));
        }
        let client_deadline = match grpc_timeout(request.headers()) {
            Ok(deadline) => deadline,
            Err(reason) => {
                let status = tonic::Status::internal(format!("malformed grpc-timeout: {reason}"));
                return ready(refuse(call, status, StatusCode::BAD_REQUEST, &shared));
            }
        };
        let connection = request
            .extensions()
            .get::<ConnInfo>()
            .map(|c| Arc::clone(&c.slots))
            .unwrap_or_else(|| Arc::new(ConnectionSlots::default()));
        if info.streaming() {
            match shared.limits.admit_stream(&connection) {
                Ok(slot) => call.stream_slot = Some(slot),
                Err(limit) => {
                    let status = call.state.shed(limit);
                    return ready(refuse(call, status, StatusCode::OK, &shared));
                }
            }
        }
        let rules = GateRules {
            admission: (!info.health).then(|| (Arc::clone(&shared.limits), connection)),
            single_message: !info.client_streaming,
            message_timeout: shared.timeouts.message,
            idle_timeout: shared.timeouts.stream_idle,
        };
        let state = Arc::clone(&call.state);
        let request = request.map(|body| GatedBody::new(body, rules, state));

        // A unary answer must start within the deadline; a stream's whole life is bounded by
        // the client's deadline only (a long batch is not a slow call).
        let server_limit =
            Some(shared.timeouts.request).filter(|t| !t.is_zero() && !info.server_streaming);
        let handler_deadline = match (
            client_deadline.filter(|_| !info.server_streaming),
            server_limit,
        ) {
            (Some(client), Some(server)) => Some(client.min(server)),
            (client, server) => client.or(server),
        };
        let stream_deadline = client_deadline.filter(|_| info.server_streaming);
        let future = self.inner.call(request);
        Box::pin(
            async move {
                let result = match handler_deadline {
                    None => future.await,
                    Some(deadline) => match tokio::time::timeout(deadline, future).await {
                        Ok(result) => result,
                        Err(_) => {
                            let status = tonic::Status::deadline_exceeded(format!(
                                "deadline exceeded after {} ms",
                                deadline.as_millis()
                            ));
                            return Ok(refuse(call, status, StatusCode::OK, &shared));
                        }
                    },
                };
                match result {
                    Ok(mut response) => {
                        let code = grpc_code(response.headers());
                        if code == Some(tonic::Code::Internal as i32) {
                            mask_internal(response.headers_mut(), &call.info);
                        }
                        if let Some(code) = code {
                            call.finish(code);
                        }
                        let failed = code.is_some_and(|c| c != 0);
                        call.tag(response.headers_mut(), &shared.ids, failed);
                        let ends = response::StreamEnds::for_call(
                            &call.info,
                            &shared.lifecycle,
                            stream_deadline,
                        );
                        Ok(response.map(|inner| ObservedBody::new(inner, call, ends)))
                    }
                    Err(error) => {
                        tracing::error!(error = %error.into(), "call failed inside the server");
                        let status = tonic::Status::internal(INTERNAL_MESSAGE);
                        Ok(refuse(call, status, StatusCode::OK, &shared))
                    }
                }
            }
            .instrument(span)
            .instrument(server),
        )
    }
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<Result<T, BoxError>> {
    Box::pin(std::future::ready(Ok(value)))
}

/// Answers the call with `status` now (trailers only), under `http_status`.
fn refuse<ResBody: Default>(
    mut call: Call,
    status: tonic::Status,
    http_status: StatusCode,
    shared: &Shared,
) -> Response<ObservedBody<ResBody>> {
    call.finish(status.code() as i32);
    let mut response = status.into_http::<ResBody>();
    *response.status_mut() = http_status;
    call.tag(response.headers_mut(), &shared.ids, true);
    response.map(|inner| ObservedBody::new(inner, call, None))
}

/// Replaces the message of an INTERNAL answer with the masked one, logging what it said.
fn mask_internal(headers: &mut HeaderMap, method: &Method) {
    let message = headers.get("grpc-message");
    if message.is_some_and(|m| m.as_bytes() == INTERNAL_MESSAGE_ENCODED.as_bytes()) {
        return;
    }
    if let Some(message) = message {
        tracing::error!(
            method = %format_args!("{}/{}", method.service, method.method),
            detail = %String::from_utf8_lossy(message.as_bytes()),
            "internal error answered; its detail is not sent to the client"
        );
    }
    headers.insert(
        "grpc-message",
        HeaderValue::from_static(INTERNAL_MESSAGE_ENCODED),
    );
    headers.remove("grpc-status-details-bin");
}

/// One call in flight; records its outcome exactly once.
pub(crate) struct Call {
    /// The "rpc finished" line is at info (`--access-log`, API methods), else at debug.
    access_line: bool,
    info: Arc<Method>,
    started: Instant,
    span: tracing::Span,
    /// The exported server span (`Span::none()` when nothing is exported).
    server: tracing::Span,
    finished: bool,
    /// The caller's `x-request-id`, else one made when first needed.
    request_id: Option<HeaderValue>,
    state: Arc<CallState>,
    /// The streaming call's slot, held until it ends.
    stream_slot: Option<Slot>,
    limits: Arc<Limits>,
}

impl Call {
    fn request_id(&mut self, ids: &RequestIds) -> &HeaderValue {
        self.request_id.get_or_insert_with(|| ids.generate())
    }

    /// Puts the request id on the answer: the caller's always (they sent it to correlate), a
    /// generated one when the call failed (support needs it to find the log line) or when it
    /// was made for the log line anyway.
    fn tag(&mut self, headers: &mut HeaderMap, ids: &RequestIds, failed: bool) {
        if self.request_id.is_none() && !failed {
            return;
        }
        let id = self.request_id(ids).clone();
        headers.insert(REQUEST_ID, id);
    }

    fn finish(&mut self, code: i32) {
        if self.finished {
            return;
        }
        self.finished = true;
        let code = if self.state.client_gone.load(Ordering::Relaxed) {
            tonic::Code::Cancelled as i32
        } else {
            code
        };
        self.state.release();
        self.stream_slot = None;
        let info = &self.info;
        if !info.health {
            if self.state.shed.load(Ordering::Relaxed) {
                self.limits.record_shed();
            } else if answered(code) {
                self.limits.record_completed();
            }
        }
        let elapsed = self.started.elapsed();
        info.handled(code).increment(1);
        info.handling.record(elapsed.as_secs_f64());
        info.in_flight.decrement(1.0);
        tracing_otel::record_code(&self.server, code);
        let _entered = self.span.enter();
        let code_name = code_name(code);
        let latency_us = elapsed.as_micros() as u64;
        if self.access_line {
            tracing::info!(grpc_code = %code_name, latency_us, "rpc finished");
        } else {
            tracing::debug!(grpc_code = %code_name, latency_us, "rpc finished");
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(tonic::Code::Cancelled as i32);
    }
}

/// Whether a call with this code was served: the server did its work and answered, as opposed
/// to a call cut short (cancelled, timed out, shed, shut down).
fn answered(code: i32) -> bool {
    use tonic::Code;
    ![
        Code::Cancelled,
        Code::DeadlineExceeded,
        Code::ResourceExhausted,
        Code::Unavailable,
    ]
    .iter()
    .any(|c| *c as i32 == code)
}

fn grpc_code(headers: &HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(request_id: Option<&str>) -> Call {
        let table = MethodTable::from_descriptor_sets(&[]);
        Call {
            access_line: false,
            info: table.lookup("/x.Y/Z"),
            started: Instant::now(),
            span: tracing::Span::none(),
            server: tracing::Span::none(),
            finished: true,
            request_id: request_id.map(|id| HeaderValue::from_str(id).unwrap()),
            state: Arc::new(CallState::default()),
            stream_slot: None,
            limits: Arc::new(Limits::new(1, 1)),
        }
    }

    #[test]
    fn answers_carry_the_callers_id_always_and_a_generated_one_only_on_failure() {
        let ids = RequestIds::new();
        let tagged = |request_id: Option<&str>, failed: bool| {
            let mut headers = HeaderMap::new();
            call(request_id).tag(&mut headers, &ids, failed);
            headers
                .get(REQUEST_ID)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(tagged(Some("abc"), false).as_deref(), Some("abc"));
        assert_eq!(tagged(Some("abc"), true).as_deref(), Some("abc"));
        assert_eq!(tagged(None, false), None);
        let generated = tagged(None, true).expect("an id on a failed call");
        assert!(!generated.is_empty() && generated != "abc");
    }

    #[test]
    fn internal_details_are_masked_and_our_own_message_kept() {
        let table = MethodTable::from_descriptor_sets(&[]);
        let method = table.lookup("/x.Y/Z");
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", HeaderValue::from_static("13"));
        headers.insert(
            "grpc-message",
            HeaderValue::from_static("failed%20to%20decode%20Protobuf%20message"),
        );
        headers.insert("grpc-status-details-bin", HeaderValue::from_static("AAAA"));
        mask_internal(&mut headers, &method);
        assert_eq!(headers["grpc-message"], INTERNAL_MESSAGE_ENCODED);
        assert!(headers.get("grpc-status-details-bin").is_none());
        assert_eq!(
            percent_decode(INTERNAL_MESSAGE_ENCODED),
            INTERNAL_MESSAGE,
            "the two forms agree"
        );
    }

    fn percent_decode(text: &str) -> String {
        text.replace("%20", " ")
    }

    #[test]
    fn shed_calls_carry_a_pushback_and_count_as_shed() {
        let state = CallState::default();
        let status = state.shed(Shed::Requests);
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        let pushback: u32 = status
            .metadata()
            .get(PUSHBACK)
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((50..250).contains(&pushback));
        assert!(state.shed.load(Ordering::Relaxed));
    }
}
