//! OpenTelemetry as an operator running Jaeger or Tempo sees it: the server exports its spans
//! over OTLP/gRPC to a real collector endpoint (here a `TraceService` in the test process),
//! joined to the caller's W3C trace, and its logs and audit events carry the trace id.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use certequiv_api::v1::batch_evaluate_response::Outcome;
use certequiv_api::v1::certificate_claim::Claim;
use certequiv_api::v1::{
    CertificateClaim, EvaluateEquivalenceRequest, GetCertificateRequest, SearchCertificatesRequest,
};
use common::Running;
use common::process::{Signal, spawn_app_with_env};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use tokio::sync::mpsc;
use tonic::Code;

/// The caller's trace: what an HR platform's instrumented client sends.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const TRACESTATE: &str = "hr=7f3a";

/// An exported span with the resource it came from.
#[derive(Debug, Clone)]
struct Exported {
    span: Span,
    service_name: String,
}

impl Exported {
    fn trace_id(&self) -> String {
        hex(&self.span.trace_id)
    }
    fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }
    fn parent_span_id(&self) -> String {
        hex(&self.span.parent_span_id)
    }
    fn attribute(&self, key: &str) -> Option<Value> {
        self.span
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone()?.value)
    }
    fn string(&self, key: &str) -> Option<String> {
        match self.attribute(key)? {
            Value::StringValue(s) => Some(s),
            other => panic!("{key} is not a string: {other:?}"),
        }
    }
    fn int(&self, key: &str) -> Option<i64> {
        match self.attribute(key)? {
            Value::IntValue(i) => Some(i),
            other => panic!("{key} is not an integer: {other:?}"),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The collector: every exported span goes to the channel.
struct Collector(mpsc::UnboundedSender<Exported>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        for resource_spans in request.into_inner().resource_spans {
            let service_name = resource_spans
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| match kv.value.clone()?.value? {
                    Value::StringValue(s) => Some(s),
                    _ => None,
                })
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    let _ = self.0.send(Exported {
                        span,
                        service_name: service_name.clone(),
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Starts the collector on a port-0 listener; returns its endpoint and the span feed.
async fn start_collector() -> (String, mpsc::UnboundedReceiver<Exported>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind collector");
    let endpoint = format!(
        "http://{}",
        listener.local_addr().expect("collector address")
    );
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(tx)))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    (endpoint, rx)
}

/// Receives spans until `done` holds for what was received; fails after `timeout`.
async fn collect_until(
    feed: &mut mpsc::UnboundedReceiver<Exported>,
    timeout: Duration,
    mut done: impl FnMut(&[Exported]) -> bool,
) -> Vec<Exported> {
    let mut spans = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(&spans) {
        match tokio::time::timeout_at(deadline, feed.recv()).await {
            Ok(Some(span)) => spans.push(span),
            Ok(None) => panic!("collector closed; spans so far: {spans:#?}"),
            Err(_) => panic!("spans incomplete after {timeout:?}: {spans:#?}"),
        }
    }
    spans
}

fn text(text: &str) -> CertificateClaim {
    CertificateClaim {
        claim: Some(Claim::Text(text.to_owned())),
    }
}

fn traced<T>(message: T, parent_span: &str, request_id: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let metadata = request.metadata_mut();
    metadata.insert(
        "traceparent",
        format!("00-{TRACE_ID}-{parent_span}-01").parse().unwrap(),
    );
    metadata.insert("tracestate", TRACESTATE.parse().unwrap());
    metadata.insert("x-request-id", request_id.parse().unwrap());
    request
}

fn server_span<'a>(spans: &'a [Exported], method: &str, parent: &str) -> Option<&'a Exported> {
    spans.iter().find(|s| {
        s.span.kind == SpanKind::Server as i32
            && s.span.name.ends_with(method)
            && s.parent_span_id() == parent
    })
}

fn children<'a>(spans: &'a [Exported], parent: &Exported) -> Vec<&'a str> {
    let mut names: Vec<&str> = spans
        .iter()
        .filter(|s| s.parent_span_id() == parent.span_id())
        .map(|s| {
            assert_eq!(s.trace_id(), parent.trace_id(), "a child in another trace");
            s.span.name.as_str()
        })
        .collect();
    names.sort_unstable();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_join_the_callers_trace_with_rpc_attributes_and_child_spans() {
    let (endpoint, mut feed) = start_collector().await;
    let app = spawn_app_with_env(
        &["--access-log"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SERVICE_NAME", "certequiv-e2e"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ],
    );
    let mut certificates = app.certificates().await;
    let mut equivalence = app.equivalence().await;

    certificates
        .search_certificates(traced(
            SearchCertificatesRequest {
                query: "FCCA".into(),
                ..Default::default()
            },
            CALLER_SPAN,
            "search-1",
        ))
        .await
        .expect("search");
    let evaluate_parent = "1111111111111111";
    equivalence
        .evaluate_equivalence(traced(
            EvaluateEquivalenceRequest {
                claims: vec![text("CFA")],
                ..Default::default()
            },
            evaluate_parent,
            "evaluate-1",
        ))
        .await
        .expect("evaluate");
    let not_found_parent = "2222222222222222";
    let status = certificates
        .get_certificate(traced(
            GetCertificateRequest {
                id: "no-such-certificate".into(),
                ..Default::default()
            },
            not_found_parent,
            "missing-1",
        ))
        .await
        .expect_err("unknown id");
    assert_eq!(status.code(), Code::NotFound);
    // A method the server does not have: UNIMPLEMENTED, a server error for the conventions.
    let unimplemented_parent = "3333333333333333";
    let mut grpc = tonic::client::Grpc::new(app.channel().await);
    grpc.ready().await.expect("ready");
    let status = grpc
        .unary(
            traced(
                GetCertificateRequest::default(),
                unimplemented_parent,
                "nope-1",
            ),
            http::uri::PathAndQuery::from_static("/certequiv.v1.CertificateService/NoSuchMethod"),
            tonic_prost::ProstCodec::<GetCertificateRequest, GetCertificateRequest>::default(),
        )
        .await
        .expect_err("no such method");
    assert_eq!(status.code(), Code::Unimplemented);
    // No traceparent: the server starts a trace of its own.
    certificates
        .get_certificate(GetCertificateRequest {
            id: "fcca".into(),
            ..Default::default()
        })
        .await
        .expect("get");
    // Probes are not traced.
    app.health()
        .await
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health");

    let spans = collect_until(&mut feed, Duration::from_secs(30), |spans| {
        let (Some(search), Some(evaluate), Some(_), Some(root)) = (
            server_span(spans, "/SearchCertificates", CALLER_SPAN),
            server_span(spans, "/EvaluateEquivalence", evaluate_parent),
            server_span(spans, "/GetCertificate", not_found_parent),
            server_span(spans, "/GetCertificate", ""),
        ) else {
            return false;
        };
        if server_span(spans, "unknown/unknown", unimplemented_parent).is_none() {
            return false;
        }
        children(spans, search).len() >= 2
            && children(spans, evaluate).len() >= 2
            && !children(spans, root).is_empty()
    })
    .await;

    let search = server_span(&spans, "/SearchCertificates", CALLER_SPAN).unwrap();
    assert_eq!(search.trace_id(), TRACE_ID);
    assert_eq!(
        search.span.name,
        "certequiv.v1.CertificateService/SearchCertificates"
    );
    assert_eq!(search.span.trace_state, TRACESTATE);
    assert_eq!(search.service_name, "certequiv-e2e");
    assert_eq!(search.string("rpc.system").as_deref(), Some("grpc"));
    assert_eq!(
        search.string("rpc.service").as_deref(),
        Some("certequiv.v1.CertificateService")
    );
    assert_eq!(
        search.string("rpc.method").as_deref(),
        Some("SearchCertificates")
    );
    assert_eq!(search.int("rpc.grpc.status_code"), Some(0));
    assert_eq!(
        children(&spans, search),
        ["catalog.search", "catalog.select"]
    );
    let select = spans
        .iter()
        .find(|s| s.span.name == "catalog.select" && s.parent_span_id() == search.span_id())
        .unwrap();
    assert_eq!(
        select.string("catalog.id").as_deref(),
        Some("beijing-attachment-5")
    );

    let evaluate = server_span(&spans, "/EvaluateEquivalence", evaluate_parent).unwrap();
    assert_eq!(evaluate.trace_id(), TRACE_ID);
    assert_eq!(
        evaluate.string("rpc.service").as_deref(),
        Some("certequiv.v1.EquivalenceService")
    );
    assert_eq!(evaluate.int("rpc.grpc.status_code"), Some(0));
    assert_eq!(
        children(&spans, evaluate),
        ["catalog.select", "equivalence.evaluate"]
    );

    let missing = server_span(&spans, "/GetCertificate", not_found_parent).unwrap();
    assert_eq!(
        missing.int("rpc.grpc.status_code"),
        Some(Code::NotFound as i64)
    );
    // NOT_FOUND is the caller's error, not the server's: the span status stays unset.
    assert_eq!(missing.span.status.as_ref().map_or(0, |s| s.code), 0);

    // Paths the server does not know are labelled "unknown", as in the metrics, so callers
    // cannot create span names at will.
    let unimplemented = server_span(&spans, "unknown/unknown", unimplemented_parent).unwrap();
    assert_eq!(
        unimplemented.int("rpc.grpc.status_code"),
        Some(Code::Unimplemented as i64)
    );
    assert_eq!(
        unimplemented.span.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );

    let root = server_span(&spans, "/GetCertificate", "").unwrap();
    assert_ne!(root.trace_id(), TRACE_ID);
    assert_ne!(root.trace_id(), "0".repeat(32));
    assert!(
        !spans
            .iter()
            .any(|s| s.string("rpc.service").as_deref() == Some("grpc.health.v1.Health")),
        "health checks are not traced"
    );

    // The trace id is in the call's log lines and in the audit event.
    let finished = app.wait_for_log(Duration::from_secs(10), |l| {
        l.contains(r#"request_id="search-1""#) && l.contains("rpc finished")
    });
    assert!(
        finished.contains(&format!("trace_id={TRACE_ID}")),
        "{finished}"
    );
    let audit = app.wait_for_log(Duration::from_secs(10), |l| {
        l.contains(r#"request_id="evaluate-1""#) && l.contains("decision")
    });
    assert_eq!(
        audit.matches(&format!("trace_id={TRACE_ID}")).count(),
        2,
        "in the span and as the audit event's own field: {audit}"
    );
    let root_line = app.wait_for_log(Duration::from_secs(10), |l| {
        l.contains("GetCertificate") && l.contains(&format!("trace_id={}", root.trace_id()))
    });
    assert!(root_line.contains("rpc finished"), "{root_line}");
}

/// A batch's items run in a task of their own: their audit events and spans still belong to
/// the call. Spans still queued at SIGTERM are exported before the process exits.
#[tokio::test(flavor = "multi_thread")]
async fn batch_items_belong_to_the_call_and_spans_are_flushed_on_exit() {
    let (endpoint, mut feed) = start_collector().await;
    let mut app = spawn_app_with_env(
        &["--log-format", "json", "--access-log"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            // Far beyond the test: only the flush at exit can deliver these spans.
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    );
    let mut equivalence = app.equivalence().await;
    let items = ["FCCA", "CFA"].map(|text| EvaluateEquivalenceRequest {
        claims: vec![self::text(text)],
        ..Default::default()
    });
    let mut answers = equivalence
        .batch_evaluate(traced(tokio_stream::iter(items), CALLER_SPAN, "batch-1"))
        .await
        .expect("batch")
        .into_inner();
    let mut answered = 0;
    while let Some(answer) = answers.message().await.expect("answer") {
        assert!(
            matches!(answer.outcome, Some(Outcome::Result(_))),
            "{answer:?}"
        );
        answered += 1;
    }
    assert_eq!(answered, 2);
    drop(answers);
    drop(equivalence);
    app.wait_for_log(Duration::from_secs(10), |l| {
        l.contains("batch-1") && l.contains("rpc finished")
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(300), feed.recv())
            .await
            .is_err(),
        "nothing is exported before the schedule delay or the exit"
    );

    app.send_signal(Signal::SIGTERM);
    let status = tokio::task::block_in_place(|| app.wait_exit(Duration::from_secs(30)));
    assert!(status.success(), "{status}");

    let spans = collect_until(&mut feed, Duration::from_secs(10), |spans| {
        server_span(spans, "/BatchEvaluate", CALLER_SPAN)
            .is_some_and(|server| children(spans, server).len() >= 4)
    })
    .await;
    let server = server_span(&spans, "/BatchEvaluate", CALLER_SPAN).unwrap();
    assert_eq!(server.trace_id(), TRACE_ID);
    assert_eq!(server.service_name, "certequiv");
    assert_eq!(server.int("rpc.grpc.status_code"), Some(0));
    assert_eq!(
        children(&spans, server),
        [
            "catalog.select",
            "catalog.select",
            "equivalence.evaluate",
            "equivalence.evaluate"
        ]
    );

    // Every JSON line of the call carries the trace id: in its span, and the audit events
    // also as a field of their own.
    let lines: Vec<HashMap<String, serde_json::Value>> = app
        .logs()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|line: &HashMap<String, serde_json::Value>| {
            line.get("span").and_then(|s| s.get("request_id"))
                == Some(&serde_json::json!("batch-1"))
        })
        .collect();
    let audits: Vec<_> = lines
        .iter()
        .filter(|l| l.get("target") == Some(&serde_json::json!("audit")))
        .collect();
    assert_eq!(audits.len(), 2, "{lines:#?}");
    assert!(lines.len() >= 3, "{lines:#?}");
    for line in &lines {
        assert_eq!(line["span"]["trace_id"], TRACE_ID, "{line:?}");
    }
    for audit in audits {
        assert_eq!(audit["trace_id"], TRACE_ID, "{audit:?}");
    }
}

/// One HTTP/1.1 request on a fresh connection; the answer's status line.
async fn http_post(addr: std::net::SocketAddr, path: &str, body: &str, headers: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the HTTP port");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: certequiv\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn http_calls_join_the_callers_trace_with_http_attributes() {
    let (endpoint, mut feed) = start_collector().await;
    let app = spawn_app_with_env(
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ],
    );
    let http_parent = "4444444444444444";
    let status = http_post(
        app.http_addr.expect("the HTTP port"),
        "/v1/certificates:search",
        r#"{"query":"FCCA"}"#,
        &format!("traceparent: 00-{TRACE_ID}-{http_parent}-01\r\ntracestate: {TRACESTATE}\r\n"),
    )
    .await;
    assert_eq!(status, "HTTP/1.1 200 OK");

    let route = "POST /v1/certificates:search";
    let spans = collect_until(&mut feed, Duration::from_secs(30), |spans| {
        server_span(spans, route, http_parent).is_some_and(|http| {
            spans.iter().any(|s| {
                s.parent_span_id() == http.span_id() && s.span.name.ends_with("/SearchCertificates")
            })
        })
    })
    .await;
    let http = server_span(&spans, route, http_parent).unwrap();
    assert_eq!(http.span.name, route);
    assert_eq!(http.trace_id(), TRACE_ID);
    assert_eq!(http.span.trace_state, TRACESTATE);
    assert_eq!(http.string("http.request.method").as_deref(), Some("POST"));
    assert_eq!(
        http.string("http.route").as_deref(),
        Some("/v1/certificates:search")
    );
    assert_eq!(
        http.string("url.path").as_deref(),
        Some("/v1/certificates:search")
    );
    assert_eq!(http.int("http.response.status_code"), Some(200));
    // The gRPC call the gateway makes is the HTTP span's child, with the RPC conventions.
    let rpc = spans
        .iter()
        .find(|s| {
            s.parent_span_id() == http.span_id() && s.span.name.ends_with("/SearchCertificates")
        })
        .unwrap();
    assert_eq!(rpc.trace_id(), TRACE_ID);
    assert_eq!(rpc.string("rpc.system").as_deref(), Some("grpc"));
    assert_eq!(rpc.int("rpc.grpc.status_code"), Some(0));
}
