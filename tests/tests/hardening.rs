//! Hostile and excessive input: floods past the concurrency limit, oversized and malformed
//! messages. The server answers each with a clear status and stays up. The flood runs against
//! the binary, whose memory it measures; the rest in process.

mod common;

use std::time::{Duration, Instant};

use certequiv_api::v1::certificate_service_client::CertificateServiceClient;
use certequiv_api::v1::equivalence_service_client::EquivalenceServiceClient;
use certequiv_api::v1::{
    ApplicantContext, CertificateClaim, EvaluateEquivalenceRequest, GetCertificateRequest,
    SearchCertificatesRequest, certificate_claim,
};
use common::process::spawn_app_with;
use common::{Running, in_process};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

fn text_claims(n: usize) -> Vec<CertificateClaim> {
    (0..n)
        .map(|i| CertificateClaim {
            claim: Some(certificate_claim::Claim::Text(
                ["FCCA", "精算师", "IEEE Felow", "华为 HCIE 云计算", "PMP"][i % 5].into(),
            )),
        })
        .collect()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_past_the_limit_is_shed_fast_and_service_resumes() {
    let app = spawn_app_with(&["--max-concurrent-requests", "4"]);
    let pid = app.process.pid();
    let rss_before = rss_kib(pid);

    const CONNECTIONS: usize = 4;
    const CALLS_PER_CONNECTION: usize = 400;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let client = EquivalenceServiceClient::new(app.channel().await);
        for _ in 0..CALLS_PER_CONNECTION {
            let mut client = client.clone();
            tasks.push(tokio::spawn(async move {
                let request = EvaluateEquivalenceRequest {
                    claims: text_claims(50),
                    applicant: Some(ApplicantContext::default()),
                    ..Default::default()
                };
                client
                    .evaluate_equivalence(request)
                    .await
                    .map(|_| ())
                    .map_err(|s| s.code())
            }));
        }
    }
    // Health answers while the flood is on: probes bypass the limit.
    let mut health = HealthClient::new(app.channel().await);
    let status = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health during the flood")
        .into_inner()
        .status;
    assert_eq!(status, 1, "SERVING");

    let (mut ok, mut shed) = (0, 0);
    for task in tasks {
        match task.await.expect("task") {
            Ok(()) => ok += 1,
            Err(Code::ResourceExhausted) | Err(Code::Unavailable) => shed += 1,
            Err(other) => panic!("unexpected status under load: {other:?}"),
        }
    }
    assert_eq!(ok + shed, CONNECTIONS * CALLS_PER_CONNECTION);
    assert!(ok > 0, "some calls are served");
    assert!(
        shed > 0,
        "with 4 slots and 1,600 concurrent calls some must be shed"
    );

    // Memory stays bounded: shed calls are not queued.
    let rss_after = rss_kib(pid);
    assert!(
        rss_after < rss_before + 200 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );

    // Full service right after.
    let mut certificates = app.certificates().await;
    for _ in 0..20 {
        certificates
            .get_certificate(GetCertificateRequest {
                id: "fcca".into(),
                ..Default::default()
            })
            .await
            .expect("served after the flood");
    }
}

#[tokio::test]
async fn oversized_and_excessive_requests_get_clear_statuses() {
    let app = in_process::start_with(|setup| setup.config.max_message_bytes = 262_144).await;
    let mut certificates = app.certificates().await;
    let mut equivalence = app.equivalence().await;

    // A 1 MB query is over the message limit here.
    let huge = "字".repeat(350_000);
    let status = certificates
        .search_certificates(SearchCertificatesRequest {
            query: huge,
            ..Default::default()
        })
        .await
        .expect_err("1 MB message");
    assert!(
        matches!(status.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{status:?}"
    );

    // Within the message limit but over the query limit: a field violation.
    let status = certificates
        .search_certificates(SearchCertificatesRequest {
            query: "a".repeat(10_000),
            ..Default::default()
        })
        .await
        .expect_err("long query");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("256"), "{}", status.message());

    // 10,000 claims: refused naming the limit.
    let claims: Vec<CertificateClaim> = (0..10_000)
        .map(|_| CertificateClaim {
            claim: Some(certificate_claim::Claim::CertificateId("cfa".into())),
        })
        .collect();
    let status = equivalence
        .evaluate_equivalence(EvaluateEquivalenceRequest {
            claims,
            ..Default::default()
        })
        .await
        .expect_err("10,000 claims");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("at most 50"),
        "{}",
        status.message()
    );

    // Control characters and unknown enum numbers.
    let status = certificates
        .search_certificates(SearchCertificatesRequest {
            query: "FCCA\u{7}".into(),
            ..Default::default()
        })
        .await
        .expect_err("control character");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = equivalence
        .evaluate_equivalence(EvaluateEquivalenceRequest {
            claims: text_claims(1),
            applicant: Some(ApplicantContext {
                target_title_level: 42,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect_err("unknown enum");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("applicant.target_title_level"),
        "{}",
        status.message()
    );

    // Still serving.
    certificates
        .get_certificate(GetCertificateRequest {
            id: "cfa".into(),
            ..Default::default()
        })
        .await
        .expect("still serving");
}

/// Same field number as `GetCertificateRequest.id`, but raw bytes, so a test can send what
/// no well-behaved client would.
#[derive(Clone, PartialEq, prost::Message)]
struct RawGet {
    #[prost(bytes = "vec", tag = "1")]
    id: Vec<u8>,
}

/// `id` (field 1, a string) sent with the wrong wire type.
#[derive(Clone, PartialEq, prost::Message)]
struct WrongWireType {
    #[prost(fixed64, tag = "1")]
    id: u64,
}

async fn raw_call<M: prost::Message + Default + Send + Sync + 'static>(
    channel: tonic::transport::Channel,
    message: M,
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path =
        http::uri::PathAndQuery::from_static("/certequiv.v1.CertificateService/GetCertificate");
    let codec = tonic_prost::ProstCodec::<M, certequiv_api::v1::Certificate>::default();
    grpc.unary(tonic::Request::new(message), path, codec)
        .await
        .map(|_| ())
}

#[tokio::test]
async fn malformed_protobuf_and_invalid_utf8_are_refused_without_a_crash() {
    let app = in_process::start().await;
    let started = Instant::now();

    let status = raw_call(
        app.channel().await,
        RawGet {
            id: vec![0xff, 0xfe, b'a'],
        },
    )
    .await
    .expect_err("invalid UTF-8 in a string field");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("does not decode"), "{status:?}");

    let status = raw_call(app.channel().await, WrongWireType { id: 7 })
        .await
        .expect_err("wrong wire type");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("does not decode"), "{status:?}");

    let cert = CertificateServiceClient::new(app.channel().await)
        .get_certificate(GetCertificateRequest {
            id: "fcca".into(),
            ..Default::default()
        })
        .await
        .expect("the server is still up");
    assert_eq!(cert.into_inner().id, "fcca");
    assert!(started.elapsed() < Duration::from_secs(30));
}
