//! HTTP/JSON access to the API (`--http-listen`): every RPC annotated with `google.api.http` in
//! `proto/`, as canonical ProtoJSON, plus the OpenAPI document at `GET /openapi.json`.
//!
//! Nothing is implemented twice: a request is transcoded in process into a gRPC request (JSON
//! to a prost-reflect `DynamicMessage`, to protobuf bytes, to a gRPC frame) and sent through
//! the very tower stack the gRPC port serves (admission and limits, request ids, the log
//! line, metrics, bearer tokens, then the service), and the answer's frames and trailers are
//! turned back into JSON or a `google.rpc.Status` error. See docs/http.md.

pub mod openapi;
pub mod routes;

mod batch;
mod status;
mod transcode;

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ALLOW, CONTENT_TYPE, RETRY_AFTER,
    VARY, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage};
use tokio::net::TcpListener;
use tonic::Code;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tracing::Instrument;

use crate::admission::{ConnectionSlots, Limits, Slot};
use crate::lifecycle::Lifecycle;
use crate::telemetry::REQUEST_ID;
use crate::tls::ReloadableTls;
use crate::tracing_otel;
use crate::transport::ConnInfo;
use routes::{BodyRule, Matched, Route, RouteTable};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The gRPC stack the gateway calls: the same layers and services as the gRPC port.
pub type GrpcService =
    BoxCloneSyncService<Request<tonic::body::Body>, Response<tonic::body::Body>, BoxError>;

/// Body of every HTTP answer.
pub type HttpBody = UnsyncBoxBody<Bytes, BoxError>;

/// Request headers passed on to the gRPC call: credentials, the caller's request id and trace
/// context (for the tracing layer, when there is one).
const FORWARDED: [&str; 4] = ["authorization", REQUEST_ID, "traceparent", "tracestate"];

const JSON: &str = "application/json";
const NDJSON: &str = "application/x-ndjson";

/// How the HTTP port behaves; the limits mirror the gRPC port's flags.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Largest request body (a streamed request's largest line).
    pub max_message_bytes: usize,
    /// From a unary request's headers to the end of its body, as from a gRPC call's headers
    /// to its whole message.
    pub message_timeout: Duration,
    /// Longest a unary call may take, body read included; zero sets no limit.
    pub request_timeout: Duration,
    /// Longest gap in a streamed request body (as between the messages of a gRPC stream).
    pub stream_idle_timeout: Duration,
    /// Longest a client may take for its TLS handshake and each request's headers; an idle
    /// keep-alive connection is closed after it too.
    pub handshake_timeout: Duration,
    /// Connections open at once on the HTTP port; more are closed as they come.
    pub max_connections: usize,
    /// Browser origins allowed to call the API from their pages (CORS); `*` allows any.
    /// Empty: no CORS headers, so only pages served from this origin may call it.
    pub cors_origins: Vec<String>,
}

/// The HTTP/JSON front of the gRPC stack.
pub struct Gateway {
    routes: RouteTable,
    pool: DescriptorPool,
    grpc: GrpcService,
    config: GatewayConfig,
    /// The gRPC port's pools: a request body being read holds a call slot, as a gRPC
    /// message arriving does.
    limits: Arc<Limits>,
    openapi: Bytes,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The API's descriptors with `google.rpc` (error details) beside them.
pub fn descriptor_pool() -> Result<DescriptorPool, String> {
    let mut pool = DescriptorPool::new();
    for set in [
        certequiv_api::FILE_DESCRIPTOR_SET,
        tonic_types::pb::FILE_DESCRIPTOR_SET,
    ] {
        pool.decode_file_descriptor_set(set)
            .map_err(|e| format!("descriptor set: {e}"))?;
    }
    Ok(pool)
}

impl Gateway {
    pub fn new(
        grpc: GrpcService,
        config: GatewayConfig,
        limits: Arc<Limits>,
    ) -> Result<Gateway, String> {
        let pool = descriptor_pool()?;
        let routes = RouteTable::from_pool(&pool)?;
        let openapi = openapi::to_pretty_json(&openapi::document(&pool, &routes)).into();
        metrics::describe_counter!(
            "certequiv_http_refused_total",
            "HTTP requests the gateway refused before any service ran (no route, wrong method, \
             malformed JSON or parameters, a body too large or not JSON, a timeout), by HTTP status."
        );
        Ok(Gateway {
            routes,
            pool,
            grpc,
            config,
            limits,
            openapi,
        })
    }

    /// Answers one HTTP request; never fails: every problem is an HTTP error answer.
    pub async fn handle(
        self: Arc<Self>,
        mut request: Request<Incoming>,
        conn: ConnInfo,
    ) -> Response<HttpBody> {
        let origin = self.allowed_origin(request.headers());
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let span = if tracing_otel::enabled() {
            let route = match self.routes.lookup(&method, &path) {
                Matched::Found(route, _) => Some(route.template.clone()),
                _ => None,
            };
            tracing_otel::http_span(&method, &path, route.as_deref(), request.headers_mut())
        } else {
            tracing::Span::none()
        };
        let mut response = match &origin {
            Some(_) if is_preflight(&request) => preflight(),
            _ => {
                Arc::clone(&self)
                    .route(request, conn)
                    .instrument(span.clone())
                    .await
            }
        };
        tracing_otel::record_http_status(&span, response.status().as_u16());
        if let Some(origin) = origin {
            let headers = response.headers_mut();
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.append(VARY, HeaderValue::from_static("Origin"));
            headers.insert(
                ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("x-request-id, retry-after"),
            );
        }
        response
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if it is allowed.
    fn allowed_origin(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get(http::header::ORIGIN)?;
        let allowed = &self.config.cors_origins;
        if allowed.iter().any(|o| o == "*") {
            return Some(HeaderValue::from_static("*"));
        }
        let text = origin.to_str().ok()?;
        allowed
            .iter()
            .any(|o| o.eq_ignore_ascii_case(text))
            .then(|| origin.clone())
    }

    async fn route(
        self: Arc<Self>,
        request: Request<Incoming>,
        conn: ConnInfo,
    ) -> Response<HttpBody> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        if path == "/openapi.json" {
            return if method == Method::GET {
                let mut response = Response::new(full(self.openapi.clone()));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
                response
            } else {
                self.method_not_allowed(&method, &path, &[Method::GET])
            };
        }
        let (route, params) = match self.routes.lookup(&method, &path) {
            Matched::Found(route, params) => (route.clone(), params),
            Matched::MethodNotAllowed(allowed) => {
                return self.method_not_allowed(&method, &path, &allowed);
            }
            Matched::NotFound => {
                let status =
                    tonic::Status::not_found(format!("no route for {method} {}", clip(&path)));
                return self.refused(Failure::new(status));
            }
        };
        if route.streaming {
            return batch::handle(self, route, request, conn).await;
        }
        let timeout = self.config.request_timeout;
        let call = self.unary(&route, params, request, conn);
        let result = if timeout.is_zero() {
            call.await
        } else {
            match tokio::time::timeout(timeout, call).await {
                Ok(result) => result,
                Err(_) => Err(Failure::new(tonic::Status::deadline_exceeded(format!(
                    "no answer within the server's request timeout ({})",
                    humantime::format_duration(timeout)
                )))),
            }
        };
        match result {
            Ok(response) => response,
            Err(failure) => self.refused(failure),
        }
    }

    async fn unary(
        &self,
        route: &Route,
        params: Vec<(String, String)>,
        request: Request<Incoming>,
        conn: ConnInfo,
    ) -> Result<Response<HttpBody>, Failure> {
        let (parts, body) = request.into_parts();
        let mut message = match route.body {
            BodyRule::Whole => {
                no_query(&parts.uri)?;
                check_content_type(&parts.headers, &[JSON])?;
                let (json, _slot) = self.read_body(body, &conn).await?;
                transcode::from_json(&route.method.input(), &json).map_err(invalid)?
            }
            BodyRule::Query => {
                let mut message = DynamicMessage::new(route.method.input());
                let mut seen = HashSet::new();
                let query = parts.uri.query().unwrap_or("");
                for (key, value) in form_urlencoded::parse(query.as_bytes()) {
                    if route.path_fields.iter().any(|f| *f == key) {
                        return Err(invalid(format!(
                            "{key}: taken from the path, not the query"
                        )));
                    }
                    transcode::set_param(&mut message, &key, &value, &mut seen).map_err(invalid)?;
                }
                message
            }
        };
        let mut seen = HashSet::new();
        for (name, raw) in params {
            let value = percent_encoding::percent_decode_str(&raw)
                .decode_utf8()
                .map_err(|_| invalid(format!("{name}: not UTF-8 once percent-decoded")))?;
            transcode::set_param(&mut message, &name, &value, &mut seen).map_err(invalid)?;
        }
        let encoded = message.encode_to_vec();
        if encoded.len() > self.config.max_message_bytes {
            return Err(too_large(self.config.max_message_bytes));
        }
        let frame =
            transcode::frame(&encoded).map_err(|e| Failure::new(tonic::Status::internal(e)))?;
        let grpc_request = grpc_request(
            route,
            &parts.headers,
            conn,
            tonic::body::Body::new(Full::new(frame).map_err(|never: Infallible| match never {})),
        )?;
        let response = self.call(grpc_request).await?;
        let (head, body) = response.into_parts();
        let request_id = head.headers.get(REQUEST_ID).cloned();
        if let Some(status) = tonic::Status::from_header_map(&head.headers)
            && status.code() != Code::Ok
        {
            return Err(Failure::grpc(status, &head.headers, None));
        }
        let collected = body.collect().await.map_err(|e| {
            tracing::warn!(error = %e, "gateway: gRPC answer body failed");
            Failure::new(tonic::Status::internal("internal error")).with_id(request_id.clone())
        })?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let status = tonic::Status::from_header_map(&trailers).unwrap_or_else(|| {
            tonic::Status::internal("internal error: the call ended without a status")
        });
        if status.code() != Code::Ok {
            return Err(Failure::grpc(status, &head.headers, Some(&trailers)));
        }
        let mut deframer = transcode::Deframer::default();
        deframer.push(&collected.to_bytes());
        let answer = deframer
            .next_message()
            .ok()
            .flatten()
            .and_then(|bytes| DynamicMessage::decode(route.method.output(), bytes).ok())
            .and_then(|message| transcode::to_json(&message).ok());
        let Some(json) = answer else {
            tracing::error!(route = %route.grpc_path, "gateway: cannot read the service's answer");
            return Err(Failure::new(tonic::Status::internal("internal error")).with_id(request_id));
        };
        let mut response = Response::new(full(json.into()));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        if let Some(id) = request_id {
            response.headers_mut().insert(REQUEST_ID, id);
        }
        Ok(response)
    }

    /// Sends a request through the gRPC stack.
    async fn call(
        &self,
        request: Request<tonic::body::Body>,
    ) -> Result<Response<tonic::body::Body>, Failure> {
        self.grpc.clone().oneshot(request).await.map_err(|error| {
            tracing::error!(%error, "gateway: gRPC stack failed");
            Failure::new(tonic::Status::internal("internal error"))
        })
    }

    fn method_not_allowed(
        &self,
        method: &Method,
        path: &str,
        allowed: &[Method],
    ) -> Response<HttpBody> {
        let list: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        let list = list.join(", ");
        let status = tonic::Status::unimplemented(format!(
            "method {method} is not allowed on {}; allowed: {list}",
            clip(path)
        ));
        let mut failure = Failure::new(status).with_http(StatusCode::METHOD_NOT_ALLOWED);
        if let Ok(value) = HeaderValue::from_str(&list) {
            failure.headers.insert(ALLOW, value);
        }
        self.refused(failure)
    }

    /// The HTTP answer for a failure: mapped status, `google.rpc.Status` JSON.
    fn refused(&self, failure: Failure) -> Response<HttpBody> {
        let Failure {
            status,
            http,
            mut headers,
            from_service,
        } = failure;
        let code = http.unwrap_or_else(|| status::http_status(status.code()));
        if !from_service {
            // What the gRPC stack answered is in its own metrics and log line already.
            metrics::counter!("certequiv_http_refused_total", "http_status" => code.as_str().to_owned())
                .increment(1);
            tracing::debug!(
                http_status = code.as_u16(),
                message = status.message(),
                "http request refused"
            );
        }
        if status.code() == Code::Unauthenticated {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        let mut response = Response::new(full(status::status_json(&self.pool, &status)));
        *response.status_mut() = code;
        *response.headers_mut() = headers;
        response
    }
}

/// Why a request got no answer from the service: a status, and the HTTP code and headers it
/// is sent with.
#[derive(Debug)]
struct Failure {
    status: tonic::Status,
    /// Overrides the standard mapping (405, 413, 415).
    http: Option<StatusCode>,
    headers: HeaderMap,
    /// Answered by the gRPC stack (counted there), not refused by the gateway.
    from_service: bool,
}

impl Failure {
    fn new(status: tonic::Status) -> Failure {
        Failure {
            status,
            http: None,
            headers: HeaderMap::new(),
            from_service: false,
        }
    }

    /// A status the gRPC stack answered, with its request id and retry advice.
    fn grpc(status: tonic::Status, headers: &HeaderMap, trailers: Option<&HeaderMap>) -> Failure {
        let mut failure = Failure::new(status).with_id(headers.get(REQUEST_ID).cloned());
        failure.from_service = true;
        if failure.status.code() == Code::ResourceExhausted {
            failure
                .headers
                .insert(RETRY_AFTER, status::retry_after(headers, trailers));
        }
        failure
    }

    fn with_http(mut self, code: StatusCode) -> Failure {
        self.http = Some(code);
        self
    }

    fn with_id(mut self, id: Option<HeaderValue>) -> Failure {
        if let Some(id) = id {
            self.headers.insert(REQUEST_ID, id);
        }
        self
    }
}

/// INVALID_ARGUMENT for a request the gateway could not turn into a message. A message
/// `field: reason` about a parameter also carries it as a `google.rpc.BadRequest` violation.
fn invalid(message: impl Into<String>) -> Failure {
    let message = message.into();
    let text = format!("invalid request: {message}");
    let field = message
        .split_once(": ")
        .map(|(field, _)| field)
        .filter(|f| !f.is_empty() && !f.contains(' '));
    let status = match field {
        Some(field) => {
            let details = tonic_types::ErrorDetails::with_bad_request_violation(
                field,
                message[field.len() + 2..].to_owned(),
            );
            <tonic::Status as tonic_types::StatusExt>::with_error_details(
                Code::InvalidArgument,
                text,
                details,
            )
        }
        None => tonic::Status::invalid_argument(text),
    };
    Failure::new(status)
}

fn too_large(max: usize) -> Failure {
    Failure::new(tonic::Status::resource_exhausted(format!(
        "request body over the server's limit of {max} bytes (--max-message-bytes)"
    )))
    .with_http(StatusCode::PAYLOAD_TOO_LARGE)
}

fn no_query(uri: &http::Uri) -> Result<(), Failure> {
    match uri.query() {
        Some(query) if !query.is_empty() => Err(invalid(
            "this route takes every field from the JSON body, not from query parameters",
        )),
        _ => Ok(()),
    }
}

/// The body is read as JSON whatever its Content-Type says, unless that names another format:
/// no Content-Type, `application/json` (or any `+json`), `text/plain` and curl's default
/// `application/x-www-form-urlencoded` are JSON here; anything else (`multipart/form-data`,
/// `application/xml`, ...) is 415.
fn check_content_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), Failure> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let lenient = ["text/plain", "application/x-www-form-urlencoded", ""];
    if accepted.contains(&essence.as_str())
        || lenient.contains(&essence.as_str())
        || essence.ends_with("+json")
    {
        return Ok(());
    }
    let status = tonic::Status::invalid_argument(format!(
        "unsupported Content-Type {essence:?}; send {}",
        accepted.join(" or ")
    ));
    Err(Failure::new(status).with_http(StatusCode::UNSUPPORTED_MEDIA_TYPE))
}

impl Gateway {
    /// A whole request body of at most `--max-message-bytes`, complete within
    /// `--message-timeout` of the headers, and the call slot it holds from its first byte on:
    /// a body in memory is a call in flight, so bodies are bounded by
    /// `--max-concurrent-requests`, and a client that sends headers and nothing more holds no
    /// slot. The slot is released once the body is transcoded; the gRPC call then holds its
    /// own.
    async fn read_body(
        &self,
        body: Incoming,
        conn: &ConnInfo,
    ) -> Result<(Bytes, Option<Slot>), Failure> {
        let max = self.config.max_message_bytes;
        let mut body = Limited::new(body, max);
        let mut read = BytesMut::new();
        let mut slot = None;
        let deadline = tokio::time::Instant::now() + self.config.message_timeout;
        loop {
            let Ok(frame) = tokio::time::timeout_at(deadline, body.frame()).await else {
                return Err(body_timeout(self.config.message_timeout));
            };
            let frame = match frame {
                None => break,
                Some(Ok(frame)) => frame,
                Some(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
                    return Err(too_large(max));
                }
                Some(Err(error)) => {
                    return Err(invalid(format!("cannot read the request body: {error}")));
                }
            };
            if slot.is_none() {
                slot = Some(self.admit(conn)?);
            }
            if let Ok(data) = frame.into_data() {
                read.extend_from_slice(&data);
            }
        }
        Ok((read.freeze(), slot))
    }

    fn admit(&self, conn: &ConnInfo) -> Result<Slot, Failure> {
        self.limits.admit_request(&conn.slots).map_err(|limit| {
            limit.count();
            self.limits.record_shed();
            let mut failure = Failure::new(tonic::Status::resource_exhausted(limit.message()));
            failure
                .headers
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            failure
        })
    }
}

fn body_timeout(timeout: Duration) -> Failure {
    Failure::new(tonic::Status::deadline_exceeded(format!(
        "the request body was not complete within the server's message timeout ({})",
        humantime::format_duration(timeout)
    )))
    .with_http(StatusCode::REQUEST_TIMEOUT)
}

/// The gRPC request for a route: its path, the gRPC headers, the forwarded request headers
/// and the connection it came on (its client certificate's subject is the caller, its share
/// of the admission slots is counted as a gRPC connection's).
fn grpc_request(
    route: &Route,
    headers: &HeaderMap,
    conn: ConnInfo,
    body: tonic::body::Body,
) -> Result<Request<tonic::body::Body>, Failure> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(route.grpc_path.as_str())
        .version(http::Version::HTTP_2)
        .header(CONTENT_TYPE, "application/grpc")
        .header("te", "trailers")
        .body(body)
        .map_err(|e| Failure::new(tonic::Status::internal(format!("internal error: {e}"))))?;
    for name in FORWARDED {
        for value in headers.get_all(name) {
            request
                .headers_mut()
                .append(HeaderName::from_static(name), value.clone());
        }
    }
    request.extensions_mut().insert(conn);
    Ok(request)
}

fn is_preflight<B>(request: &Request<B>) -> bool {
    request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a CORS preflight from an allowed origin.
fn preflight() -> Response<HttpBody> {
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        http::header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    headers.insert(
        http::header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "authorization, content-type, x-request-id, traceparent, tracestate",
        ),
    );
    headers.insert(
        http::header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

fn full(bytes: Bytes) -> HttpBody {
    Full::new(bytes)
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// A path as echoed in an error message: at most 200 characters.
fn clip(path: &str) -> &str {
    match path.char_indices().nth(200) {
        Some((at, _)) => &path[..at],
        None => path,
    }
}

/// Serves HTTP/1.1 (over TLS when configured) until the server drains, then lets answers in
/// progress finish; connections still open when the server aborts are closed.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    tls: Option<Arc<ReloadableTls>>,
    lifecycle: Lifecycle,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let open = Arc::new(tokio::sync::Semaphore::new(gateway.config.max_connections));
    let draining = lifecycle.draining();
    tokio::pin!(draining);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(%error, "http accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut draining => break,
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            tracing::debug!(%peer, "http connection refused: too many open");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let gateway = Arc::clone(&gateway);
        let acceptor = tls
            .as_ref()
            .map(|tls| tokio_rustls::TlsAcceptor::from(tls.current()));
        let watcher = graceful.watcher();
        let lifecycle = lifecycle.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let timeout = gateway.config.handshake_timeout;
            let conn = |peer_subject: Option<String>| ConnInfo {
                id: crate::transport::next_connection_id(),
                remote: Some(peer),
                peer_subject: peer_subject.map(Arc::from),
                slots: Arc::new(ConnectionSlots::default()),
            };
            let served = async {
                match acceptor {
                    None => connection(TokioIo::new(stream), gateway, conn(None), watcher).await,
                    Some(acceptor) => match tokio::time::timeout(timeout, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => {
                            let subject = tls
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|certs| certs.first())
                                .and_then(|cert| crate::tls::subject_of(cert.as_ref()));
                            connection(TokioIo::new(tls), gateway, conn(subject), watcher).await;
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(%error, %peer, "http tls handshake failed")
                        }
                        Err(_) => tracing::debug!(%peer, "http tls handshake timed out"),
                    },
                }
            };
            tokio::select! {
                () = served => {}
                // Once the calls still running have been ended, their answers get a moment to
                // be written, then the connection closes.
                () = async {
                    lifecycle.aborting().await;
                    tokio::time::sleep(ABORT_FLUSH).await;
                } => {}
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = async {
            lifecycle.aborting().await;
            tokio::time::sleep(ABORT_FLUSH).await;
        } => {}
    }
}

/// Largest read buffer of an HTTP connection (hyper's minimum is 8 KiB).
const READ_BUFFER: usize = 16 * 1024;

/// After the abort, how long a connection may take to write the answers of the calls ended.
const ABORT_FLUSH: Duration = Duration::from_secs(1);

async fn connection<I>(
    io: TokioIo<I>,
    gateway: Arc<Gateway>,
    conn: ConnInfo,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let header_timeout = gateway.config.handshake_timeout;
    let service = hyper::service::service_fn(move |request| {
        let gateway = Arc::clone(&gateway);
        let conn = conn.clone();
        async move { Ok::<_, Infallible>(gateway.handle(request, conn).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        // hyper's default read buffer may grow to ~400 KiB per connection; request headers
        // above this get 431, and a body is read in chunks of at most this.
        .max_buf_size(READ_BUFFER)
        .serve_connection(io, service);
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(%error, "http connection ended");
    }
}
