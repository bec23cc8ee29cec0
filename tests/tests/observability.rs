//! What an SRE reads: Prometheus metrics with real counts by gRPC code, and JSON logs that
//! carry the caller's request id.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use certequiv_api::v1::certificate_claim::Claim;
use certequiv_api::v1::{CertificateClaim, EvaluateEquivalenceRequest, GetCertificateRequest};
use common::Running;
use common::process::spawn_app_with;
use tonic::Code;

fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to metrics");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// The value of the first sample whose line contains every fragment.
fn sample(metrics: &str, fragments: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| fragments.iter().all(|f| l.contains(f)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_count_calls_by_their_real_grpc_code() {
    let app = spawn_app_with(&[]);
    let addr = app.metrics_addr.expect("metrics address logged");
    let mut client = app.certificates().await;
    for _ in 0..3 {
        client
            .get_certificate(GetCertificateRequest {
                id: "fcca".into(),
                ..Default::default()
            })
            .await
            .expect("ok call");
    }
    for _ in 0..2 {
        let status = client
            .get_certificate(GetCertificateRequest {
                id: "nope".into(),
                ..Default::default()
            })
            .await
            .expect_err("unknown id");
        assert_eq!(status.code(), Code::NotFound);
    }

    let metrics = scrape(addr);
    let get = r#"grpc_method="GetCertificate""#;
    assert_eq!(
        sample(&metrics, &["grpc_server_started_total", get]),
        Some(5.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            &["grpc_server_handled_total", get, r#"grpc_code="OK""#]
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &metrics,
            &["grpc_server_handled_total", get, r#"grpc_code="NotFound""#]
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(&metrics, &["grpc_server_handling_seconds_count", get]),
        Some(5.0)
    );
    assert_eq!(sample(&metrics, &["grpc_server_in_flight", get]), Some(0.0));
    assert_eq!(
        sample(
            &metrics,
            &[
                "certequiv_catalog_info",
                r#"catalog_id="beijing-attachment-5""#
            ]
        ),
        Some(1.0)
    );
    assert_eq!(sample(&metrics, &["certequiv_catalog_entries"]), Some(33.0));
    assert!(sample(&metrics, &["process_resident_memory_bytes"]).is_some_and(|v| v > 0.0));
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_the_request_id() {
    let app = spawn_app_with(&["--log-format", "json", "--access-log"]);
    let mut client = app.certificates().await;
    let get = GetCertificateRequest {
        id: "cfa".into(),
        ..Default::default()
    };
    client
        .get_certificate(with_request_id(get, "json-log-check-42"))
        .await
        .expect("call");

    let line = app.wait_for_log(Duration::from_secs(10), |l| l.contains("json-log-check-42"));
    let compact: String = line.split_whitespace().collect();
    assert!(compact.starts_with('{') && compact.ends_with('}'), "{line}");
    for fragment in [
        r#""request_id":"json-log-check-42""#,
        r#""grpc_code":"OK""#,
        r#""message":"rpcfinished""#,
    ] {
        assert!(compact.contains(fragment), "{fragment} missing in {line}");
    }
    for line in app.logs() {
        let line = line.trim();
        if !line.is_empty() {
            assert!(
                line.starts_with('{') && line.ends_with('}'),
                "not a JSON object: {line}"
            );
        }
    }
}

fn with_request_id<T>(message: T, id: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-request-id", id.parse().expect("header"));
    request
}

#[tokio::test]
async fn by_default_calls_log_no_line_but_decisions_keep_their_request_id() {
    let app = spawn_app_with(&[]);
    let mut certificates = app.certificates().await;
    let get = GetCertificateRequest {
        id: "cfa".into(),
        ..Default::default()
    };
    certificates
        .get_certificate(with_request_id(get, "quiet-get-7"))
        .await
        .expect("get");
    let evaluate = EvaluateEquivalenceRequest {
        claims: vec![CertificateClaim {
            claim: Some(Claim::CertificateId("cfa".into())),
        }],
        ..Default::default()
    };
    app.equivalence()
        .await
        .evaluate_equivalence(with_request_id(evaluate, "audited-eval-7"))
        .await
        .expect("evaluate");

    // The audit event is written after the first call ended: by then its line would be out.
    let audit = app.wait_for_log(Duration::from_secs(10), |l| l.contains("audited-eval-7"));
    assert!(audit.contains("decision"), "{audit}");
    let logs = app.logs();
    assert!(
        !logs
            .iter()
            .any(|l| l.contains("rpc finished") || l.contains("quiet-get-7")),
        "a per-call line without --access-log: {logs:#?}"
    );
}
