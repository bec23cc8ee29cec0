//! Logging: tracing-subscriber setup, and one log line per call with method, gRPC code and
//! latency, tagged with the call's `x-request-id`.

use std::time::Duration;

use http::{HeaderMap, Request, Response};
use tower_http::classify::{GrpcErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{MakeSpan, OnEos, OnResponse, TraceLayer};
use tracing::Span;

pub const REQUEST_ID: &str = "x-request-id";

/// Output format of the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. `filter` uses `RUST_LOG` syntax, e.g. `info,audit=info`.
pub fn init(format: LogFormat, filter: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| format!("invalid log filter {filter:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let result = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    result.map_err(|e| format!("cannot install the logger: {e}"))
}

/// Sets `x-request-id` from the caller or a fresh UUID, and echoes it in the response.
pub fn request_id_layers() -> (SetRequestIdLayer<MakeRequestUuid>, PropagateRequestIdLayer) {
    let header = http::HeaderName::from_static(REQUEST_ID);
    (
        SetRequestIdLayer::new(header.clone(), MakeRequestUuid),
        PropagateRequestIdLayer::new(header),
    )
}

/// The per-call span and log line.
pub fn trace_layer()
-> TraceLayer<SharedClassifier<GrpcErrorsAsFailures>, RpcSpan, (), RpcLog, (), RpcLog, ()> {
    TraceLayer::new_for_grpc()
        .make_span_with(RpcSpan)
        .on_request(())
        .on_response(RpcLog)
        .on_body_chunk(())
        .on_eos(RpcLog)
        .on_failure(())
}

#[derive(Debug, Clone, Copy)]
pub struct RpcSpan;

impl<B> MakeSpan<B> for RpcSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let request_id = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        tracing::info_span!("rpc", method = %request.uri().path(), request_id = %request_id)
    }
}

/// Logs the call when its gRPC code is known: in the headers of a trailers-only response
/// (errors), else in the trailers at the end of the body.
#[derive(Debug, Clone, Copy)]
pub struct RpcLog;

impl<B> OnResponse<B> for RpcLog {
    fn on_response(self, response: &Response<B>, latency: Duration, _span: &Span) {
        if let Some(code) = grpc_code(response.headers()) {
            log_call(code, latency);
        }
    }
}

impl OnEos for RpcLog {
    fn on_eos(self, trailers: Option<&HeaderMap>, stream_duration: Duration, _span: &Span) {
        log_call(trailers.and_then(grpc_code).unwrap_or(2), stream_duration);
    }
}

fn grpc_code(headers: &HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}

fn log_call(code: i32, latency: Duration) {
    let code_name = format!("{:?}", tonic::Code::from_i32(code));
    tracing::info!(grpc_code = %code_name, latency_us = latency.as_micros() as u64, "rpc finished");
}
