//! Authentication: mutual TLS on the API port with a plaintext health port for probes, and
//! bearer tokens. Certificates are generated at run time; no private key is committed.

mod common;

use std::time::{Duration, Instant};

use certequiv_api::v1::certificate_service_client::CertificateServiceClient;
use certequiv_api::v1::equivalence_service_client::EquivalenceServiceClient;
use certequiv_api::v1::{
    CertificateClaim, EvaluateEquivalenceRequest, GetCertificateRequest, certificate_claim,
};
use common::process::{Process, spawn_app_with};
use common::{Running, TempDir};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
    stranger: (String, String),
}

fn leaf(issuer: &CertifiedIssuer<'_, KeyPair>, names: &[&str], cn: &str) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
    params.distinguished_name.push(DnType::CommonName, cn);
    let cert = params.signed_by(&key, issuer).expect("sign");
    (cert.pem(), key.serialize_pem())
}

fn new_ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, cn);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

fn pki() -> Pki {
    let ca = new_ca("certequiv test CA");
    let other_ca = new_ca("someone else's CA");
    Pki {
        ca_pem: ca.pem(),
        server: leaf(&ca, &["localhost"], "certequiv"),
        client: leaf(&ca, &[], "hr-platform"),
        stranger: leaf(&other_ca, &[], "intruder"),
    }
}

fn write(dir: &TempDir, name: &str, text: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write test file");
    // Secrets must not be readable by others: the server refuses a tokens file that is.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path.to_str().expect("utf-8 path").to_owned()
}

async fn tls_channel(
    port: u16,
    ca: &str,
    identity: Option<&(String, String)>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    // Bounded: a refused handshake must fail the test's call quickly, not hang it.
    Channel::from_shared(format!("https://127.0.0.1:{port}"))
        .expect("uri")
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(3))
        .tls_config(tls)?
        .connect()
        .await
}

fn fcca() -> GetCertificateRequest {
    GetCertificateRequest {
        id: "fcca".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn mutual_tls_admits_only_clients_with_a_certificate_from_the_ca() {
    let pki = pki();
    let dir = TempDir::new("mtls");
    let app = spawn_app_with(&[
        "--tls-cert",
        &write(&dir, "server.pem", &pki.server.0),
        "--tls-key",
        &write(&dir, "server.key", &pki.server.1),
        "--tls-client-ca",
        &write(&dir, "ca.pem", &pki.ca_pem),
        "--health-listen",
        "127.0.0.1:0",
    ]);
    let health_addr = app
        .health_addr
        .expect("the server logged `health listening`");

    let channel = tls_channel(app.port, &pki.ca_pem, Some(&pki.client))
        .await
        .expect("mTLS connect");
    let cert = CertificateServiceClient::new(channel.clone())
        .get_certificate(fcca())
        .await
        .expect("call over mTLS");
    assert_eq!(cert.into_inner().id, "fcca");

    // The caller's certificate subject reaches the audit event.
    let claim = CertificateClaim {
        claim: Some(certificate_claim::Claim::Text("FCCA".into())),
    };
    EquivalenceServiceClient::new(channel)
        .evaluate_equivalence(EvaluateEquivalenceRequest {
            claims: vec![claim],
            ..Default::default()
        })
        .await
        .expect("evaluate over mTLS");
    let audit = app.wait_for_log(Duration::from_secs(10), |l| {
        l.contains("audit") && l.contains("decision")
    });
    assert!(audit.contains("CN=hr-platform"), "{audit}");

    for identity in [None, Some(&pki.stranger)] {
        let refused = match tls_channel(app.port, &pki.ca_pem, identity).await {
            Err(_) => true,
            Ok(channel) => CertificateServiceClient::new(channel)
                .get_certificate(fcca())
                .await
                .is_err(),
        };
        assert!(
            refused,
            "a client without a certificate from the CA must be refused"
        );
    }

    // Plaintext on the API port gets no answer either.
    let plain = Channel::from_shared(format!("http://127.0.0.1:{}", app.port))
        .expect("uri")
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(2))
        .connect_lazy();
    let answered = CertificateServiceClient::new(plain)
        .get_certificate(fcca())
        .await;
    assert!(
        answered.is_err(),
        "plaintext call on the TLS port: {answered:?}"
    );

    // Probes use the plaintext health port.
    let channel = Channel::from_shared(format!("http://{health_addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("health port");
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "certequiv.v1.CertificateService".into(),
        })
        .await
        .expect("health over plaintext")
        .into_inner()
        .status;
    assert_eq!(status, 1, "SERVING");
}

#[tokio::test]
async fn bearer_tokens_guard_every_call_but_health_and_are_reread() {
    let dir = TempDir::new("tokens");
    let tokens = write(&dir, "tokens", "# caller token\nhr-platform first-s3cret\n");
    let app = spawn_app_with(&["--auth-tokens-file", &tokens]);
    let channel = app.channel().await;

    let call = |token: Option<&'static str>| {
        let channel = channel.clone();
        async move {
            let mut request = tonic::Request::new(fcca());
            if let Some(token) = token {
                request.metadata_mut().insert(
                    "authorization",
                    format!("Bearer {token}").parse().expect("header"),
                );
            }
            CertificateServiceClient::new(channel)
                .get_certificate(request)
                .await
        }
    };

    let missing = call(None).await.expect_err("no token");
    let wrong = call(Some("first-s3cre")).await.expect_err("wrong token");
    for status in [&missing, &wrong] {
        assert_eq!(status.code(), Code::Unauthenticated);
    }
    assert_eq!(
        missing.message(),
        wrong.message(),
        "no hint which part was wrong"
    );
    assert_eq!(
        call(Some("first-s3cret"))
            .await
            .expect("valid token")
            .into_inner()
            .id,
        "fcca"
    );

    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health needs no token");
    assert_eq!(health.into_inner().status, 1);

    write(&dir, "tokens", "hr-platform second-s3cret-longer\n");
    let deadline = Instant::now() + Duration::from_secs(15);
    while call(Some("second-s3cret-longer")).await.is_err() {
        assert!(Instant::now() < deadline, "the new token was not picked up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        call(Some("first-s3cret"))
            .await
            .expect_err("old token")
            .code(),
        Code::Unauthenticated
    );

    // A deleted tokens file refuses every call (fails closed) and says so.
    std::fs::remove_file(dir.path().join("tokens")).expect("delete tokens");
    let deadline = Instant::now() + Duration::from_secs(15);
    while call(Some("second-s3cret-longer")).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "a deleted tokens file still admits calls"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.wait_for_log(Duration::from_secs(5), |l| {
        l.contains("tokens file is gone")
    });
    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health still needs no token");
    assert_eq!(health.into_inner().status, 1);
}

#[test]
fn a_tokens_file_others_can_read_stops_the_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("exposed-tokens");
    let tokens = write(&dir, "tokens", "hr-platform s3cret\n");
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut process = Process::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--auth-tokens-file",
        &tokens,
    ]);
    let status = process.wait_exit(Duration::from_secs(30));
    assert!(!status.success());
    // The exit can be seen before the reader thread has taken the last lines from the pipe.
    process.stdout.wait_closed(Duration::from_secs(10));
    assert!(
        process
            .stdout
            .text()
            .contains("other users may read or write it"),
        "{}",
        process.dump()
    );
}

#[tokio::test]
async fn a_rotated_tls_certificate_is_served_without_a_restart() {
    let (first, second) = (new_ca("first CA"), new_ca("second CA"));
    let dir = TempDir::new("rotation");
    let (cert, key) = leaf(&first, &["localhost"], "certequiv");
    let cert_path = write(&dir, "tls.crt", &cert);
    let key_path = write(&dir, "tls.key", &key);
    let app = spawn_app_with(&["--tls-cert", &cert_path, "--tls-key", &key_path]);
    let old = tls_channel(app.port, &first.pem(), None)
        .await
        .expect("connect with the first certificate");
    CertificateServiceClient::new(old.clone())
        .get_certificate(fcca())
        .await
        .expect("call with the first certificate");

    // cert-manager writes the new pair; a broken half-write is refused and the old kept.
    std::fs::write(&key_path, "-----BEGIN PRIVATE KEY-----\ntruncated").expect("half-written key");
    app.wait_for_log(Duration::from_secs(15), |l| {
        l.contains("tls files not reloaded")
    });
    let (cert, key) = leaf(&second, &["localhost"], "certequiv");
    write(&dir, "tls.crt", &cert);
    write(&dir, "tls.key", &key);
    app.wait_for_log(Duration::from_secs(15), |l| {
        l.contains("tls certificate reloaded")
    });
    let new = tls_channel(app.port, &second.pem(), None)
        .await
        .expect("connect with the rotated certificate");
    CertificateServiceClient::new(new)
        .get_certificate(fcca())
        .await
        .expect("call with the rotated certificate");
    // Connections made before the rotation go on.
    CertificateServiceClient::new(old)
        .get_certificate(fcca())
        .await
        .expect("call on the connection made before the rotation");
}
