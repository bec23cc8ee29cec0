//! OpenTelemetry tracing: off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set, then one server span
//! per call (joined to the caller's W3C `traceparent`), child spans for catalog selection,
//! search and evaluation, and OTLP/gRPC export in batches.
//!
//! The spans exported are our own (target [`TARGET`]); the log spans and events stay in the
//! logs. With export off, [`call_spans`] makes only the log span the server always made, no
//! header is parsed, and the child spans' callsites are disabled once at registration, so a
//! call does no OpenTelemetry work at all (docs/tracing.md has the measurement).

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, Tracer};
use tracing::Span;
use tracing::field::Empty;

/// The tracing target of the spans that are exported, and of nothing else: the exporting layer
/// sees only these, the log layer never does.
pub const TARGET: &str = "certequiv_otel";

/// Target of the per-call log span, kept where it was before tracing existed so that log
/// filters such as `certequiv_server::observe=warn` keep working.
const LOG_TARGET: &str = "certequiv_server::observe";

/// Service name when `OTEL_SERVICE_NAME` is not set.
pub const DEFAULT_SERVICE_NAME: &str = "certequiv";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (set once by [`install`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A child span of the current call, exported when tracing is on and free otherwise.
macro_rules! child_span {
    ($name:literal $(, $($fields:tt)*)?) => {
        tracing::info_span!(target: $crate::tracing_otel::TARGET, $name $(, $($fields)*)?)
    };
}
pub(crate) use child_span;

/// What the `OTEL_*` environment asks for, when it asks for export.
#[derive(Debug)]
pub struct OtelConfig {
    pub service_name: String,
    pub sampler: Sampler,
}

/// Reads the standard OpenTelemetry variables through `var` (the process environment in
/// production). `Ok(None)`: no endpoint is set (or `OTEL_SDK_DISABLED=true`), so nothing is
/// traced. Values we cannot honour are errors rather than silently ignored settings.
pub fn config_from_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<OtelConfig>, String> {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if set("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    if set("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
        && set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none()
    {
        return Ok(None);
    }
    match set("OTEL_TRACES_EXPORTER").as_deref().map(str::trim) {
        None | Some("otlp") => {}
        Some("none") => return Ok(None),
        Some(other) => {
            return Err(format!(
                "OTEL_TRACES_EXPORTER={other:?} is not supported (otlp or none)"
            ));
        }
    }
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(protocol) = set(name).filter(|p| p.trim() != "grpc") {
            return Err(format!(
                "{name}={protocol:?} is not supported: traces are exported over OTLP/gRPC only"
            ));
        }
    }
    let sampler = sampler(
        set("OTEL_TRACES_SAMPLER").as_deref(),
        set("OTEL_TRACES_SAMPLER_ARG").as_deref(),
    )?;
    Ok(Some(OtelConfig {
        service_name: set("OTEL_SERVICE_NAME")
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned()),
        sampler,
    }))
}

/// The sampler named by `OTEL_TRACES_SAMPLER` and `_ARG`; the default follows the caller's
/// decision and samples root spans (`parentbased_always_on`).
fn sampler(name: Option<&str>, arg: Option<&str>) -> Result<Sampler, String> {
    let ratio = || -> Result<f64, String> {
        let Some(arg) = arg else { return Ok(1.0) };
        match arg.trim().parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err(format!(
                "OTEL_TRACES_SAMPLER_ARG={arg:?} is not a ratio between 0 and 1"
            )),
        }
    };
    let parent_based = |root: Sampler| Sampler::ParentBased(Box::new(root));
    Ok(
        match name.map(str::trim).unwrap_or("parentbased_always_on") {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatioBased(ratio()?),
            "parentbased_always_on" => parent_based(Sampler::AlwaysOn),
            "parentbased_always_off" => parent_based(Sampler::AlwaysOff),
            "parentbased_traceidratio" => parent_based(Sampler::TraceIdRatioBased(ratio()?)),
            other => {
                return Err(format!(
                    "OTEL_TRACES_SAMPLER={other:?} is not supported (always_on, always_off, \
                 traceidratio, parentbased_always_on, parentbased_always_off, \
                 parentbased_traceidratio)"
                ));
            }
        },
    )
}

/// The installed exporter. [`Tracing::shutdown`] flushes the spans still queued.
#[derive(Debug)]
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl Tracing {
    /// Exports what is queued and stops the exporter; call it before the runtime goes away.
    pub fn shutdown(self) {
        match self.provider.shutdown() {
            Ok(()) => tracing::info!("trace exporter flushed"),
            Err(error) => tracing::warn!(%error, "trace exporter shutdown failed"),
        }
    }
}

/// Builds the OTLP/gRPC exporter (endpoint, headers, timeout and compression from the
/// `OTEL_EXPORTER_OTLP_*` variables, read by opentelemetry-otlp itself), installs the global
/// W3C trace-context propagator (without it extraction silently finds nothing) and turns
/// [`enabled`] on. Must run inside a Tokio runtime: the exporter's channel lives on it.
pub fn install(config: OtelConfig) -> Result<(Tracing, Tracer), String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()
        .map_err(|e| format!("cannot build the OTLP trace exporter: {e}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(config.sampler)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(config.service_name)
                .build(),
        )
        .build();
    let tracer = provider.tracer("certequiv");
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    ENABLED.store(true, Ordering::Relaxed);
    Ok((Tracing { provider }, tracer))
}

/// The exported server span of one request on the HTTP port, with the HTTP semantic
/// conventions (`http.request.method`, `url.path`, `http.route` when a route matched, named
/// `METHOD ROUTE`, and `http.response.status_code`), joined to the caller's W3C `traceparent`.
/// Its context then replaces the request's `traceparent`/`tracestate`, which the gateway
/// forwards, so the gRPC call it makes is its child. `Span::none()` when nothing is exported.
pub fn http_span(
    method: &http::Method,
    path: &str,
    route: Option<&str>,
    headers: &mut http::HeaderMap,
) -> Span {
    if !enabled() {
        return Span::none();
    }
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_string(),
    };
    let span = tracing::info_span!(
        target: TARGET,
        "http",
        otel.name = name.as_str(),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        url.path = path,
        http.route = route,
        http.response.status_code = Empty,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    // Fails only when the span is disabled (no exporting layer): nothing to join then.
    let _ = span.set_parent(parent);
    let context = span.context();
    headers.remove("traceparent");
    headers.remove("tracestate");
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&context, &mut HeadersMut(headers));
    });
    span
}

/// The HTTP answer's status; 5xx marks the span as an error, as the conventions say for
/// servers.
pub fn record_http_status(span: &Span, status: u16) {
    if span.is_none() {
        return;
    }
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "error");
    }
}

/// Request headers to write a trace context into.
struct HeadersMut<'a>(&'a mut http::HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// gRPC metadata (and headers an HTTP gateway forwards) as a propagation carrier.
struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The spans of one call: `log` carries the method, request id and (when exporting) trace id
/// into every log line of the call; `server` is the exported server span, its parent, or
/// `Span::none()` when nothing is exported. Enter `server` first, then `log`.
///
/// Health checks and reflection (`quiet`) are not traced: probes would fill the trace store;
/// their `log` span is at debug, so at the default level they cost no span and no request id.
pub fn call_spans(
    service: &str,
    method: &str,
    quiet: bool,
    headers: &http::HeaderMap,
) -> (Span, Span) {
    if quiet {
        let log = tracing::debug_span!(
            target: LOG_TARGET,
            "rpc",
            method = %format_args!("{service}/{method}"),
            request_id = Empty,
        );
        return (log, Span::none());
    }
    if !enabled() {
        let log = tracing::info_span!(
            target: LOG_TARGET,
            "rpc",
            method = %format_args!("{service}/{method}"),
            request_id = Empty,
        );
        return (log, Span::none());
    }
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let server = tracing::info_span!(
        target: TARGET,
        "rpc",
        otel.name = %format_args!("{service}/{method}"),
        otel.kind = "server",
        otel.status_code = Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = Empty,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    // Fails only when the span is disabled (no exporting layer): nothing to join then.
    let _ = server.set_parent(parent);
    let trace_id = server.context().span().span_context().trace_id();
    let log = tracing::info_span!(
        target: LOG_TARGET,
        parent: &server,
        "rpc",
        method = %format_args!("{service}/{method}"),
        request_id = Empty,
        trace_id = %trace_id,
    );
    (log, server)
}

/// Records a finished call's gRPC code on its server span; server errors (the codes the RPC
/// semantic conventions count as the server's fault) also set the span status to error.
#[inline]
pub fn record_code(server: &Span, code: i32) {
    if server.is_none() {
        return;
    }
    server.record("rpc.grpc.status_code", code);
    // UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS
    if matches!(code, 2 | 4 | 12 | 13 | 14 | 15) {
        server.record("otel.status_code", "error");
    }
}

/// The trace id of the call being served on this thread, for the audit event; `None` when
/// nothing is exported.
pub fn current_trace_id() -> Option<TraceId> {
    if !enabled() {
        return None;
    }
    let id = opentelemetry::Context::map_current(|cx| cx.span().span_context().trace_id());
    (id != TraceId::INVALID).then_some(id)
}

/// Spawns `future`, work of the current call such as a batch's items. With export on it runs
/// inside the call's log span and trace context, so its log lines carry the trace id and its
/// child spans belong to the call; with export off it is spawned as it is.
pub fn spawn_in_current_call<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    if !enabled() {
        return tokio::spawn(future);
    }
    use opentelemetry::context::FutureExt as _;
    use tracing::Instrument as _;
    tokio::spawn(
        future
            .instrument(Span::current())
            .with_context(opentelemetry::Context::current()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Option<OtelConfig>, String> {
        config_from_env(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    const ENDPOINT: (&str, &str) = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317");

    #[test]
    fn tracing_is_off_without_an_endpoint_and_on_with_one() {
        assert!(config(&[]).unwrap().is_none());
        assert!(
            config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])
                .unwrap()
                .is_none()
        );
        assert!(
            config(&[ENDPOINT, ("OTEL_SDK_DISABLED", "true")])
                .unwrap()
                .is_none()
        );
        assert!(
            config(&[ENDPOINT, ("OTEL_TRACES_EXPORTER", "none")])
                .unwrap()
                .is_none()
        );
        let on = config(&[ENDPOINT]).unwrap().expect("on");
        assert_eq!(on.service_name, "certequiv");
        let traces_only = config(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://h:4317")]);
        assert!(traces_only.unwrap().is_some());
        let named = config(&[ENDPOINT, ("OTEL_SERVICE_NAME", "hr-equivalence")]);
        assert_eq!(named.unwrap().unwrap().service_name, "hr-equivalence");
    }

    #[test]
    fn unsupported_settings_are_refused_with_the_variable_named() {
        for (vars, named) in [
            (
                vec![ENDPOINT, ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ),
            (
                vec![ENDPOINT, ("OTEL_TRACES_EXPORTER", "zipkin")],
                "OTEL_TRACES_EXPORTER",
            ),
            (
                vec![ENDPOINT, ("OTEL_TRACES_SAMPLER", "sometimes")],
                "OTEL_TRACES_SAMPLER",
            ),
            (
                vec![
                    ENDPOINT,
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
                ],
                "OTEL_TRACES_SAMPLER_ARG",
            ),
        ] {
            let error = config(&vars).expect_err("refused");
            assert!(error.contains(named), "{error}");
        }
        let grpc = config(&[ENDPOINT, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
        assert!(grpc.unwrap().is_some());
    }

    #[test]
    fn samplers_follow_the_specification_names() {
        let debug = |name: Option<&str>, arg: Option<&str>| format!("{:?}", sampler(name, arg));
        assert_eq!(debug(None, None), "Ok(ParentBased(AlwaysOn))");
        assert_eq!(debug(Some("always_off"), None), "Ok(AlwaysOff)");
        assert_eq!(
            debug(Some("traceidratio"), Some("0.25")),
            "Ok(TraceIdRatioBased(0.25))"
        );
        assert_eq!(
            debug(Some("parentbased_traceidratio"), None),
            "Ok(ParentBased(TraceIdRatioBased(1.0)))"
        );
        assert_eq!(
            debug(Some("parentbased_always_off"), None),
            "Ok(ParentBased(AlwaysOff))"
        );
    }

    #[test]
    fn with_tracing_off_a_call_gets_only_its_log_span() {
        let headers = http::HeaderMap::new();
        let (_log, server) = call_spans("certequiv.v1.X", "Y", false, &headers);
        assert!(server.is_none());
        assert_eq!(current_trace_id(), None);
    }

    #[test]
    fn header_carrier_reads_metadata() {
        use opentelemetry::propagation::TextMapPropagator as _;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "traceparent",
            http::HeaderValue::from_static(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        );
        let cx = TraceContextPropagator::new().extract(&Headers(&headers));
        assert_eq!(
            cx.span().span_context().trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(Headers(&headers).keys(), vec!["traceparent"]);
    }
}
