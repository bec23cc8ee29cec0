//! The methods the server knows, from the descriptor sets, with their streaming shape and
//! metric handles registered once.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use metrics::{Counter, Gauge, Histogram, counter, gauge, histogram};
use prost::Message;

/// A method and its metric handles, registered once when the table is built so a call
/// neither allocates label strings nor looks up the registry.
pub(crate) struct Method {
    pub service: Arc<str>,
    pub method: Arc<str>,
    pub grpc_type: &'static str,
    pub client_streaming: bool,
    pub server_streaming: bool,
    /// grpc.health.v1: never shed, so probes answer under overload.
    pub health: bool,
    /// Health checks and reflection are logged at debug: probes call them every few seconds.
    pub quiet: bool,
    /// Writes an `audit` event per decision (EquivalenceService), at info.
    pub audits: bool,
    pub started: Counter,
    pub in_flight: Gauge,
    pub handling: Histogram,
    /// `grpc_server_handled_total` by gRPC code number, registered on first use.
    handled: [OnceLock<Counter>; CODES],
}

const CODES: usize = 17;

impl Method {
    fn new(
        service: Arc<str>,
        method: Arc<str>,
        client_streaming: bool,
        server_streaming: bool,
    ) -> Method {
        let grpc_type = match (client_streaming, server_streaming) {
            (false, false) => "unary",
            (true, false) => "client_stream",
            (false, true) => "server_stream",
            (true, true) => "bidi_stream",
        };
        let labels = [
            ("grpc_type", grpc_type.to_owned()),
            ("grpc_service", service.to_string()),
            ("grpc_method", method.to_string()),
        ];
        Method {
            quiet: service.starts_with("grpc."),
            audits: &*service == "certequiv.v1.EquivalenceService",
            health: &*service == "grpc.health.v1.Health",
            started: counter!("grpc_server_started_total", &labels),
            in_flight: gauge!("grpc_server_in_flight", &labels[1..]),
            handling: histogram!("grpc_server_handling_seconds", &labels),
            handled: std::array::from_fn(|_| OnceLock::new()),
            service,
            method,
            grpc_type,
            client_streaming,
            server_streaming,
        }
    }

    /// Any side streams: the call holds a stream slot.
    pub fn streaming(&self) -> bool {
        self.client_streaming || self.server_streaming
    }

    pub fn handled(&self, code: i32) -> &Counter {
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
                        methods.insert(
                            format!("/{full}/{}", method.name()),
                            Arc::new(Method::new(
                                Arc::clone(&full),
                                method.name().into(),
                                method.client_streaming(),
                                method.server_streaming(),
                            )),
                        );
                    }
                }
            }
        }
        MethodTable {
            methods,
            unknown: Arc::new(Method::new(
                "unknown".into(),
                "unknown".into(),
                false,
                false,
            )),
        }
    }

    pub(crate) fn lookup(&self, path: &str) -> Arc<Method> {
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
    metrics::describe_counter!(
        "certequiv_calls_shed_total",
        "Calls refused with RESOURCE_EXHAUSTED by admission, by the limit that was full."
    );
    metrics::describe_gauge!("certequiv_connections_open", "Connections open, by port.");
    metrics::describe_counter!(
        "certequiv_connections_refused_total",
        "Connections closed before serving a call (limit, handshake timeout, not HTTP/2, TLS error)."
    );
    metrics::describe_counter!(
        "certequiv_connections_closed_total",
        "Connections closed by the server with calls still open (age grace over, shutdown)."
    );
    metrics::describe_counter!(
        "certequiv_accept_errors_total",
        "Failed accepts, by reason (emfile: out of file descriptors)."
    );
    metrics::describe_counter!(
        "certequiv_tls_reloads_total",
        "TLS certificate reloads, loaded or refused."
    );
}

/// Code names as gRPC spells them elsewhere (go-grpc-prometheus, grpcurl).
pub fn code_name(code: i32) -> &'static str {
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
    fn method_table_knows_our_methods_and_their_streaming_shape() {
        let table = MethodTable::from_descriptor_sets(&[
            certequiv_api::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ]);
        let get = table.lookup("/certequiv.v1.CertificateService/GetCertificate");
        assert_eq!(
            (&*get.service, &*get.method, get.grpc_type, get.streaming()),
            (
                "certequiv.v1.CertificateService",
                "GetCertificate",
                "unary",
                false
            )
        );
        let batch = table.lookup("/certequiv.v1.EquivalenceService/BatchEvaluate");
        assert_eq!(batch.grpc_type, "bidi_stream");
        let watch = table.lookup("/grpc.health.v1.Health/Watch");
        assert!(watch.health && watch.server_streaming && !watch.client_streaming);
        let unknown = table.lookup("/x.Y/Z");
        assert_eq!(
            (&*unknown.service, &*unknown.method),
            ("unknown", "unknown")
        );
    }

    #[test]
    fn code_names_follow_grpc() {
        assert_eq!(code_name(0), "OK");
        assert_eq!(code_name(3), "InvalidArgument");
        assert_eq!(code_name(99), "Unknown");
    }
}
