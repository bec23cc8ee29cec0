//! The test harness itself (tests/tests/common): which environment the binary starts in, how
//! bound addresses are read from its log, and that an in-process server starts and stops
//! through the server's own paths.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use certequiv_api::v1::GetCertificateRequest;
use common::Running;
use common::env::server_env;
use common::in_process;
use common::readiness::logged_addr;

#[test]
fn the_cleared_environment_is_every_variable_a_flag_declares() {
    let vars: Vec<String> = server_env()
        .into_iter()
        .map(|v| v.into_string().expect("ASCII names"))
        .collect();
    // What the hand-written list held before it was taken from clap, and a few it missed.
    for expected in [
        "CERTEQUIV_LISTEN",
        "CERTEQUIV_HTTP_LISTEN",
        "CERTEQUIV_CATALOG_DIR",
        "CERTEQUIV_DEFAULT_JURISDICTION",
        "CERTEQUIV_SHUTDOWN_GRACE",
        "CERTEQUIV_RELOAD_INTERVAL",
        "CERTEQUIV_REFLECTION",
        "CERTEQUIV_LOG",
        "CERTEQUIV_LOG_FORMAT",
        "CERTEQUIV_METRICS_LISTEN",
        "CERTEQUIV_AUTH_TOKENS_FILE",
        "CERTEQUIV_MAX_MESSAGE_BYTES",
    ] {
        assert!(vars.iter().any(|v| v == expected), "{expected} in {vars:?}");
    }
    assert!(
        vars.iter()
            .all(|v| v.starts_with("CERTEQUIV_") || v.starts_with("OTEL_")),
        "only the server's own variables: {vars:?}"
    );
}

#[test]
fn addresses_are_read_from_text_and_json_log_lines() {
    let addr: SocketAddr = "127.0.0.1:50051".parse().unwrap();
    let text = "2026-01-01T00:00:00.000000Z  INFO certequiv_server: serving addr=127.0.0.1:50051 \
                catalogs=1";
    assert_eq!(logged_addr(text, "serving"), Some(addr));
    let json = r#"{"timestamp":"2026-01-01T00:00:00.000000Z","level":"INFO","message":"serving","addr":"127.0.0.1:50051","catalogs":1,"target":"certequiv_server"}"#;
    assert_eq!(logged_addr(json, "serving"), Some(addr));
    let http = "2026-01-01T00:00:00.000000Z  INFO certequiv_server: http listening \
                addr=127.0.0.1:8080";
    assert_eq!(
        logged_addr(http, "http listening"),
        Some("127.0.0.1:8080".parse().unwrap())
    );

    // Another event, or the same words elsewhere in a line, is not the readiness line.
    assert_eq!(logged_addr(http, "serving"), None);
    assert_eq!(logged_addr(text, "http listening"), None);
    let request = r#"{"message":"rpc finished","addr":"127.0.0.1:1","path":"/serving"}"#;
    assert_eq!(logged_addr(request, "serving"), None);
    // The Debug form the server used to log is not an address.
    let debug = "2026-01-01T00:00:00.000000Z  INFO certequiv_server: serving \
                 addr=Some(127.0.0.1:50051) catalogs=1";
    assert_eq!(logged_addr(debug, "serving"), None);
}

#[tokio::test]
async fn an_in_process_server_answers_and_stops_through_its_shutdown_path() {
    let server = in_process::start().await;
    let addr = server.addr;
    let certificate = server
        .certificates()
        .await
        .get_certificate(GetCertificateRequest {
            id: "cfa".into(),
            ..Default::default()
        })
        .await
        .expect("GetCertificate")
        .into_inner();
    assert_eq!(certificate.id, "cfa");

    let stopped = tokio::time::timeout(Duration::from_secs(10), server.stop())
        .await
        .expect("run returns well within the grace period once no call is open");
    assert_eq!(stopped, Ok(()));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed once run has returned"
    );
}
