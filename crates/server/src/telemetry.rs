//! Logging setup and request ids. The per-call log line itself is written by
//! [`crate::observe`], which also records the metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub const REQUEST_ID: &str = "x-request-id";

/// Output format of the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. `filter` uses `RUST_LOG` syntax, e.g. `info,audit=info`.
/// With a `tracer` (OpenTelemetry export on), the log layer and the exporting layer each get
/// their own filter: the logs as configured, the exporter our spans only
/// ([`crate::tracing_otel::TARGET`]). Without one, the subscriber is the plain log subscriber
/// it always was, so a server that exports nothing pays nothing for tracing.
pub fn init(
    format: LogFormat,
    filter: &str,
    tracer: Option<opentelemetry_sdk::trace::Tracer>,
) -> Result<(), String> {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| format!("invalid log filter {filter:?}: {e}"))?
        // The exported spans never show in the logs (the log span carries the trace id).
        .add_directive(
            format!("{}=off", crate::tracing_otel::TARGET)
                .parse()
                .map_err(|e| format!("exported spans filter: {e}"))?,
        );
    let Some(tracer) = tracer else {
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
        return result.map_err(|e| format!("cannot install the logger: {e}"));
    };
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stdout);
    let logs = match format {
        LogFormat::Text => logs.with_ansi(false).boxed(),
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    let exported = tracing_subscriber::filter::Targets::new()
        .with_target(crate::tracing_otel::TARGET, tracing::Level::TRACE);
    let spans = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false);
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(spans.with_filter(exported))
        .try_init()
        .map_err(|e| format!("cannot install the logger: {e}"))
}

/// Request ids `<random process prefix>-<counter>`: unique across pods and restarts like a
/// UUID, without a `getrandom` call per request (measured at ~1.6% of a Health/Check).
#[derive(Debug, Clone)]
pub struct RequestIds {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    pub fn new() -> RequestIds {
        let random = uuid::Uuid::new_v4().simple().to_string();
        RequestIds {
            prefix: random[..16].into(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }

    /// A fresh id.
    pub fn generate(&self) -> http::HeaderValue {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{n:x}", self.prefix);
        http::HeaderValue::from_str(&id).unwrap_or(http::HeaderValue::from_static("unknown"))
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        RequestIds::new()
    }
}

/// Decision ids: RFC 9562 UUIDs (version 8, the custom layout) made of 60 random bits drawn
/// once per process and a counter, so they are unique across pods and restarts like a random
/// UUID without a `getrandom` system call per evaluation. The counter is multiplied by a
/// random odd number (a bijection on 64 bits, so still unique) so that ids do not tell a
/// caller how many evaluations a pod has made.
#[derive(Debug)]
pub struct DecisionIds {
    prefix: [u8; 8],
    scramble: u64,
    next: AtomicU64,
}

impl DecisionIds {
    pub fn new() -> DecisionIds {
        let random = uuid::Uuid::new_v4().into_bytes();
        let (mut prefix, mut scramble) = ([0; 8], [0; 8]);
        prefix.copy_from_slice(&random[..8]);
        scramble.copy_from_slice(&random[8..]);
        DecisionIds {
            prefix,
            scramble: u64::from_le_bytes(scramble) | 1,
            next: AtomicU64::new(1),
        }
    }

    pub fn generate(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&self.prefix);
        bytes[8..].copy_from_slice(&n.wrapping_mul(self.scramble).to_be_bytes());
        uuid::Uuid::new_v8(bytes).to_string()
    }
}

impl Default for DecisionIds {
    fn default() -> Self {
        DecisionIds::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_share_the_process_prefix_and_never_repeat() {
        let ids = RequestIds::new();
        let (a, b) = (ids.generate(), ids.generate());
        assert_ne!(a, b);
        let prefix =
            |v: &http::HeaderValue| v.to_str().unwrap().split('-').next().unwrap().to_owned();
        assert_eq!(prefix(&a), prefix(&b));
        assert_eq!(prefix(&a).len(), 16);
    }

    #[test]
    fn decision_ids_are_distinct_version_8_uuids() {
        let ids = DecisionIds::new();
        let a: uuid::Uuid = ids.generate().parse().unwrap();
        let b: uuid::Uuid = ids.generate().parse().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.get_version_num(), 8);
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(a.as_bytes()[..6], b.as_bytes()[..6]);
        let other = DecisionIds::new().generate().parse::<uuid::Uuid>().unwrap();
        assert_ne!(other.as_bytes()[..6], a.as_bytes()[..6]);
    }
}
