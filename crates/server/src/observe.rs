//! One tower layer that observes every call: a span carrying the method and request id, one
//! log line with the gRPC code and latency, and the go-grpc-prometheus metric family.
//!
//! The gRPC code is read from the response itself: from the headers of a trailers-only
//! response (errors), else from the trailers at the end of the body. A call whose body is
//! dropped before its trailers (client cancelled) counts as CANCELLED.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use prost::Message;
use tokio::sync::OwnedSemaphorePermit;
use tower::{Layer, Service};
use tracing::Instrument;

use crate::limit::{Admission, Limit};
use crate::telemetry::{REQUEST_ID, RequestIds};
use crate::tracing_otel;

/// A method and its metric handles, registered once when the table is built so a call
/// neither allocates label strings nor looks up the registry.
struct Method {
    service: Arc<str>,
    method: Arc<str>,
    grpc_type: &'static str,
    /// Health checks and reflection are logged at debug: probes call them every few seconds.
    quiet: bool,
    started: Counter,
    in_flight: Gauge,
    handling: Histogram,
    /// `grpc_server_handled_total` by gRPC code number, registered on first use.
    handled: [OnceLock<Counter>; CODES],
}

const CODES: usize = 17;

impl Method {
    fn new(service: Arc<str>, method: Arc<str>, grpc_type: &'static str) -> Method {
        let labels = [
            ("grpc_type", grpc_type.to_owned()),
            ("grpc_service", service.to_string()),
            ("grpc_method", method.to_string()),
        ];
        Method {
            quiet: service.starts_with("grpc."),
            started: counter!("grpc_server_started_total", &labels),
            in_flight: gauge!("grpc_server_in_flight", &labels[1..]),
            handling: histogram!("grpc_server_handling_seconds", &labels),
            handled: std::array::from_fn(|_| OnceLock::new()),
            service,
            method,
            grpc_type,
        }
    }

    fn handled(&self, code: i32) -> &Counter {
        let index = usize::try_from(code)
            .ok()
            .filter(|&c| c < CODES)
            .unwrap_or(2);
        self.handled[index].get_or_init(|| {
            counter!(
                "grpc_server_handled_total",
                "grpc_type" => self.grpc_type,
                "grpc_service" => self.service.to_string(),
                "grpc_method" => self.method.to_string(),
                "grpc_code" => code_name(index as i32),
            )
        })
    }
}

impl std::fmt::Debug for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}/{}", self.service, self.method)
    }
}

/// Methods known from the descriptor sets. Anything else is labelled "unknown", so a caller
/// cannot create metric series at will by inventing paths.
///
/// Build it after the metrics recorder is installed: the handles bind to the recorder of the
/// moment.
#[derive(Debug)]
pub struct MethodTable {
    methods: HashMap<String, Arc<Method>>,
    unknown: Arc<Method>,
}

impl MethodTable {
    /// Builds the table from encoded `FileDescriptorSet`s; undecodable sets are skipped.
    pub fn from_descriptor_sets(sets: &[&[u8]]) -> MethodTable {
        let mut methods = HashMap::new();
        for bytes in sets {
            let Ok(set) = prost_types::FileDescriptorSet::decode(*bytes) else {
                continue;
            };
            for file in set.file {
                let package = file.package.unwrap_or_default();
                for service in file.service {
                    let full: Arc<str> = if package.is_empty() {
                        service.name().into()
                    } else {
                        format!("{package}.{}", service.name()).into()
                    };
                    for method in service.method {
                        let grpc_type = match (method.client_streaming(), method.server_streaming())
                        {
                            (false, false) => "unary",
                            (true, false) => "client_stream",
                            (false, true) => "server_stream",
                            (true, true) => "bidi_stream",
                        };
                        methods.insert(
                            format!("/{full}/{}", method.name()),
                            Arc::new(Method::new(
                                Arc::clone(&full),
                                method.name().into(),
                                grpc_type,
                            )),
                        );
                    }
                }
            }
        }
        MethodTable {
            methods,
            unknown: Arc::new(Method::new("unknown".into(), "unknown".into(), "unary")),
        }
    }

    fn lookup(&self, path: &str) -> Arc<Method> {
        Arc::clone(self.methods.get(path).unwrap_or(&self.unknown))
    }
}

/// Declares the metrics so they show in `/metrics` with help text before the first call.
pub fn describe_metrics() {
    metrics::describe_counter!("grpc_server_started_total", "RPCs started on the server.");
    metrics::describe_counter!(
        "grpc_server_handled_total",
        "RPCs completed on the server, by gRPC code."
    );
    metrics::describe_histogram!(
        "grpc_server_handling_seconds",
        metrics::Unit::Seconds,
        "Time from the start of an RPC to its gRPC code."
    );
    metrics::describe_gauge!(
        "grpc_server_in_flight",
        "RPCs started and not yet completed."
    );
}

/// Everything the layer shares between connections.
#[derive(Debug)]
struct Shared {
    table: MethodTable,
    limit: Limit,
    ids: RequestIds,
}

/// The layer in front of every call: admission against the in-flight cap, the request id,
/// the span, the log line and the metrics, in one place and one boxed future per call.
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    shared: Arc<Shared>,
}

impl ObserveLayer {
    pub fn new(table: MethodTable, limit: Limit, ids: RequestIds) -> ObserveLayer {
        ObserveLayer {
            shared: Arc::new(Shared { table, limit, ids }),
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

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B, ResBody> Service<Request<B>> for Observe<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError> + Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ObservedBody<ResBody>>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let path = request.uri().path();
        let info = self.shared.table.lookup(path);
        let (span, server) =
            tracing_otel::call_spans(&info.service, &info.method, info.quiet, request.headers());
        let admission = self.shared.limit.admit(path);
        info.started.increment(1);
        info.in_flight.increment(1.0);
        let mut call = Call {
            info,
            started: Instant::now(),
            span: span.clone(),
            server: server.clone(),
            finished: false,
            request_id: request.headers().get(REQUEST_ID).cloned(),
            permit: None,
        };
        // Ids are made only for what shows them: a log line that is on, or an error answer.
        if !span.is_disabled() {
            let id = call.request_id(&self.shared.ids);
            span.record("request_id", id.to_str().unwrap_or(""));
        }
        let shared = Arc::clone(&self.shared);
        let future = match admission {
            Admission::Admitted(permit) => {
                call.permit = permit;
                Some(self.inner.call(request))
            }
            Admission::Shed => None,
        };
        Box::pin(
            async move {
                let Some(future) = future else {
                    let status = tonic::Status::resource_exhausted(
                        "too many calls in flight on this server; retry with backoff",
                    );
                    call.finish(status.code() as i32);
                    let mut response = status.into_http::<ResBody>();
                    call.tag(response.headers_mut(), &shared.ids, true);
                    return Ok(response.map(|inner| ObservedBody { inner, call }));
                };
                let result = future.await;
                // The handler is done once its answer starts (a stream's items are produced
                // by then-spawned work): the slot is freed here, as tower's ConcurrencyLimit
                // did, so slow readers and long streams do not hold slots.
                call.permit = None;
                match result {
                    Ok(mut response) => {
                        let code = grpc_code(response.headers());
                        if let Some(code) = code {
                            call.finish(code);
                        }
                        let failed = code.is_some_and(|c| c != 0);
                        call.tag(response.headers_mut(), &shared.ids, failed);
                        Ok(response.map(|inner| ObservedBody { inner, call }))
                    }
                    Err(error) => {
                        // tonic turns these errors into statuses after this layer.
                        let error: BoxError = error.into();
                        let code = if error.is::<tonic::TimeoutExpired>() {
                            tonic::Code::Cancelled
                        } else {
                            tonic::Code::Internal
                        };
                        call.finish(code as i32);
                        Err(error)
                    }
                }
            }
            .instrument(span)
            .instrument(server),
        )
    }
}

/// One call in flight; records its outcome exactly once.
struct Call {
    info: Arc<Method>,
    started: Instant,
    span: tracing::Span,
    /// The exported server span (`Span::none()` when nothing is exported).
    server: tracing::Span,
    finished: bool,
    /// The caller's `x-request-id`, else one made when first needed.
    request_id: Option<HeaderValue>,
    /// The call's slot under the in-flight cap, freed when its handler has answered.
    permit: Option<OwnedSemaphorePermit>,
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
        let elapsed = self.started.elapsed();
        let info = &self.info;
        info.handled(code).increment(1);
        info.handling.record(elapsed.as_secs_f64());
        info.in_flight.decrement(1.0);
        tracing_otel::record_code(&self.server, code);
        let _entered = self.span.enter();
        let code_name = code_name(code);
        let latency_us = elapsed.as_micros() as u64;
        if info.quiet {
            tracing::debug!(grpc_code = %code_name, latency_us, "rpc finished");
        } else {
            tracing::info!(grpc_code = %code_name, latency_us, "rpc finished");
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(tonic::Code::Cancelled as i32);
    }
}

pin_project_lite::pin_project! {
    /// A response body that reports the call's gRPC code when its trailers go by.
    pub struct ObservedBody<B> {
        #[pin]
        inner: B,
        call: Call,
    }
}

impl<B: Body> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(trailers) = frame.trailers_ref() {
                    this.call
                        .finish(grpc_code(trailers).unwrap_or(tonic::Code::Unknown as i32));
                }
            }
            Some(Err(_)) => this.call.finish(tonic::Code::Internal as i32),
            None => this.call.finish(tonic::Code::Unknown as i32),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn grpc_code(headers: &HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}

/// Code names as gRPC spells them elsewhere (go-grpc-prometheus, grpcurl).
fn code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "Canceled",
        2 => "Unknown",
        3 => "InvalidArgument",
        4 => "DeadlineExceeded",
        5 => "NotFound",
        6 => "AlreadyExists",
        7 => "PermissionDenied",
        8 => "ResourceExhausted",
        9 => "FailedPrecondition",
        10 => "Aborted",
        11 => "OutOfRange",
        12 => "Unimplemented",
        13 => "Internal",
        14 => "Unavailable",
        15 => "DataLoss",
        16 => "Unauthenticated",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_table_knows_our_methods_and_their_streaming_type() {
        let table = MethodTable::from_descriptor_sets(&[certequiv_api::FILE_DESCRIPTOR_SET]);
        let get = table.lookup("/certequiv.v1.CertificateService/GetCertificate");
        assert_eq!(
            (&*get.service, &*get.method, get.grpc_type),
            ("certequiv.v1.CertificateService", "GetCertificate", "unary")
        );
        let batch = table.lookup("/certequiv.v1.EquivalenceService/BatchEvaluate");
        assert_eq!(batch.grpc_type, "bidi_stream");
        let unknown = table.lookup("/x.Y/Z");
        assert_eq!(
            (&*unknown.service, &*unknown.method),
            ("unknown", "unknown")
        );
    }

    fn call(request_id: Option<&str>) -> Call {
        let table = MethodTable::from_descriptor_sets(&[]);
        Call {
            info: table.lookup("/x.Y/Z"),
            started: Instant::now(),
            span: tracing::Span::none(),
            server: tracing::Span::none(),
            finished: true,
            request_id: request_id.map(|id| HeaderValue::from_str(id).unwrap()),
            permit: None,
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
    fn code_names_follow_grpc() {
        assert_eq!(code_name(0), "OK");
        assert_eq!(code_name(3), "InvalidArgument");
        assert_eq!(code_name(99), "Unknown");
    }
}
