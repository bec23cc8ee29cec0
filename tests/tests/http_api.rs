//! The HTTP/JSON API (`--http-listen`) with a plain HTTP/1.1 client: every route, the error
//! mapping, auth (tokens, mutual TLS), limits, request ids, metrics, the NDJSON batch stream,
//! the OpenAPI document, timeouts and shutdown. Against the binary where the log, metrics,
//! TLS, a flag's parsing or a signal take part; in process otherwise.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use certequiv_api::v1::GetCertificateRequest;
use common::process::{Signal, spawn_app, spawn_app_with};
use common::{Running, TempDir, in_process};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Bound on every HTTP exchange: a hang fails the test instead of blocking it.
const LIMIT: Duration = Duration::from_secs(15);

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One request on a fresh connection over `io`.
async fn exchange<S>(io: S, request: Request<Full<Bytes>>) -> Answer
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .expect("HTTP handshake");
    tokio::spawn(connection);
    let response = tokio::time::timeout(LIMIT, sender.send_request(request))
        .await
        .expect("answer within the limit")
        .expect("HTTP answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = tokio::time::timeout(LIMIT, response.into_body().collect())
        .await
        .expect("body within the limit")
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn request(
    method: Method,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))
        .expect("request")
}

async fn call(
    app: &impl Running,
    method: Method,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let addr = app.http_addr().expect("the server has an HTTP port");
    let tcp = TcpStream::connect(addr)
        .await
        .expect("connect to the HTTP port");
    exchange(tcp, request(method, path, body, headers)).await
}

async fn get(app: &impl Running, path: &str) -> Answer {
    call(app, Method::GET, path, None, &[]).await
}

async fn post(app: &impl Running, path: &str, body: &str) -> Answer {
    call(app, Method::POST, path, Some(body), &[]).await
}

/// The field violations of a `google.rpc.Status` body, as (field, description).
fn violations(status: &Value) -> Vec<(String, String)> {
    status["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["@type"] == "type.googleapis.com/google.rpc.BadRequest")
        .flat_map(|d| d["fieldViolations"].as_array().cloned().unwrap_or_default())
        .map(|v| {
            (
                v["field"].as_str().unwrap_or("").to_owned(),
                v["description"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_route_answers_canonical_json_from_the_same_services() {
    let app = spawn_app();

    // GetCertificate: the same entry as over gRPC, Chinese unescaped, enum by name.
    let answer = get(&app, "/v1/certificates/fcca").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let text = String::from_utf8(answer.body.clone()).expect("UTF-8");
    assert!(
        text.contains(r#""nameZh":"ACCA资深会员证书（Fcca）""#),
        "{text}"
    );
    let fcca = answer.json();
    assert_eq!(fcca["titleLevel"], "TITLE_LEVEL_ASSOCIATE_SENIOR");
    assert_eq!(fcca["source"]["sectionNumber"], 1);
    let grpc = app
        .certificates()
        .await
        .get_certificate(GetCertificateRequest {
            id: "fcca".into(),
            ..Default::default()
        })
        .await
        .expect("gRPC GetCertificate")
        .into_inner();
    assert_eq!(fcca["nameZh"], grpc.name_zh);
    assert_eq!(fcca["remark"], grpc.remark);
    assert_eq!(
        fcca["source"]["catalogEtag"],
        grpc.source.expect("source").catalog_etag
    );
    // Defaults are omitted, as proto3 JSON does: FCCA has no additional issuers.
    assert!(fcca.get("additionalIssuers").is_none(), "{fcca}");

    // ListCertificates: filter and paging from the query string, the token followed.
    let first = get(
        &app,
        "/v1/certificates?filter.field=%E9%87%91%E8%9E%8D&page_size=2",
    )
    .await;
    assert_eq!(first.status, 200, "{first:?}");
    let first = first.json();
    assert_eq!(first["certificates"].as_array().map(Vec::len), Some(2));
    for certificate in first["certificates"].as_array().expect("list") {
        assert!(
            certificate["fields"]
                .as_array()
                .expect("fields")
                .contains(&json!("金融"))
        );
    }
    let token = first["nextPageToken"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = get(
        &app,
        &format!("/v1/certificates?filter.field=%E9%87%91%E8%9E%8D&page_size=2&page_token={token}"),
    )
    .await
    .json();
    assert_ne!(
        second["certificates"][0]["id"],
        first["certificates"][0]["id"]
    );
    // lowerCamelCase names work in the query too; enum values by name.
    let senior = get(
        &app,
        "/v1/certificates?filter.titleLevel=TITLE_LEVEL_ASSOCIATE_SENIOR&pageSize=100",
    )
    .await
    .json();
    assert_eq!(senior["certificates"].as_array().map(Vec::len), Some(8));
    let catalog = get(
        &app,
        "/v1/certificates?catalog_id=beijing-attachment-5&as_of=2025-06-30&page_size=1",
    )
    .await;
    assert_eq!(catalog.status, 200, "{catalog:?}");
    assert_eq!(catalog.json()["catalogId"], "beijing-attachment-5");

    // SearchCertificates.
    let search = post(
        &app,
        "/v1/certificates:search",
        r#"{"query":"华为 HCIE-Datacom"}"#,
    )
    .await;
    assert_eq!(search.status, 200, "{search:?}");
    let search = search.json();
    assert_eq!(search["results"][0]["certificate"]["id"], "hcie-datacom");
    assert_eq!(search["results"][0]["matchKind"], "MATCH_KIND_EXACT");
    // Proto field names are accepted in bodies as well.
    let snake = post(
        &app,
        "/v1/certificates:search",
        r#"{"query":"IEEE","page_size":1}"#,
    )
    .await
    .json();
    assert_eq!(snake["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(snake["ambiguous"], true);

    // ListCatalogs and GetCatalog.
    let catalogs = get(&app, "/v1/catalogs").await.json();
    assert_eq!(catalogs["defaultCatalogId"], "beijing-attachment-5");
    let catalog = get(&app, "/v1/catalogs/beijing-attachment-5").await.json();
    assert_eq!(catalog["certificateCount"], 33);
    assert_eq!(catalog["etag"], catalogs["catalogs"][0]["etag"]);

    // EvaluateEquivalence.
    let evaluation = post(
        &app,
        "/v1/equivalence:evaluate",
        r#"{"correlationId":"case-3","claims":[{"text":"CFA charterholder"}],
            "applicant":{"basicConditions":"BASIC_CONDITIONS_CONFIRMED","workField":"金融"}}"#,
    )
    .await;
    assert_eq!(evaluation.status, 200, "{evaluation:?}");
    let evaluation = evaluation.json();
    assert_eq!(evaluation["verdict"], "VERDICT_RECOGNIZED");
    assert_eq!(evaluation["highestTitleLevel"], "TITLE_LEVEL_INTERMEDIATE");
    assert_eq!(evaluation["correlationId"], "case-3");
    // The decision is audited like one made over gRPC.
    let decision = evaluation["decisionId"]
        .as_str()
        .expect("decision id")
        .to_owned();
    let audit = app.wait_for_log(LIMIT, |l| l.contains("audit") && l.contains(&decision));
    assert!(audit.contains("verdict=Recognized"), "{audit}");
}

#[tokio::test]
async fn errors_are_google_rpc_status_with_the_standard_http_codes() {
    let app = in_process::start_with(|setup| setup.config.max_message_bytes = 2000).await;

    // From the service: INVALID_ARGUMENT with its field violations, NOT_FOUND.
    let negative = get(&app, "/v1/certificates?page_size=-1").await;
    assert_eq!(negative.status, 400);
    let status = negative.json();
    assert_eq!(status["code"], 3);
    assert_eq!(
        violations(&status),
        [("page_size".to_owned(), "must not be negative".to_owned())]
    );
    let empty = post(&app, "/v1/equivalence:evaluate", r#"{"claims":[]}"#).await;
    assert_eq!(empty.status, 400);
    assert_eq!(violations(&empty.json())[0].0, "claims");
    let missing = get(&app, "/v1/certificates/no-such-id").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], 5);
    assert!(
        missing.json()["message"]
            .as_str()
            .unwrap()
            .contains("no-such-id")
    );
    assert!(
        missing.header("x-request-id").is_some(),
        "a failed call carries its request id"
    );
    assert_eq!(get(&app, "/v1/catalogs/nope").await.status, 404);

    // From the gateway: malformed JSON, unknown fields, wrong types, bad parameters.
    for (body, reason) in [
        (r#"{"query": "#, "EOF"),
        (r#"{"qurey":"FCCA"}"#, "qurey"),
        (r#"{"query":42}"#, "invalid type"),
        (r#"["FCCA"]"#, "invalid type"),
    ] {
        let answer = post(&app, "/v1/certificates:search", body).await;
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
        let status = answer.json();
        assert_eq!(status["code"], 3, "{body}");
        let message = status["message"].as_str().unwrap();
        assert!(message.contains(reason), "{body}: {message}");
    }
    let bad_param = get(&app, "/v1/certificates?page_size=ten").await;
    assert_eq!(bad_param.status, 400);
    assert_eq!(violations(&bad_param.json())[0].0, "page_size");
    let unknown_param = get(&app, "/v1/certificates?colour=red").await;
    assert_eq!(unknown_param.status, 400);
    assert!(
        unknown_param.json()["message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
    let bad_enum = get(&app, "/v1/certificates?filter.title_level=GURU").await;
    assert_eq!(bad_enum.status, 400);
    let bad_date = get(&app, "/v1/certificates/fcca?as_of=2025-02-30").await;
    assert_eq!(bad_date.status, 400);
    assert_eq!(violations(&bad_date.json())[0].0, "as_of");

    // Unknown path 404 and wrong method 405, both JSON.
    let nowhere = get(&app, "/v2/certificates").await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.header("content-type"), Some("application/json"));
    assert_eq!(nowhere.json()["code"], 5);
    let wrong = call(&app, Method::DELETE, "/v1/certificates/fcca", None, &[]).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET"));
    assert!(wrong.json()["message"].as_str().unwrap().contains("DELETE"));
    let wrong = get(&app, "/v1/equivalence:evaluate").await;
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("POST")));

    // A body over --max-message-bytes: 413, whatever the route.
    let big = format!(r#"{{"query":"{}"}}"#, "x".repeat(5000));
    let too_large = post(&app, "/v1/certificates:search", &big).await;
    assert_eq!(too_large.status, 413, "{too_large:?}");
    assert!(
        too_large.json()["message"]
            .as_str()
            .unwrap()
            .contains("2000 bytes")
    );
    // Headers over the connection's 16 KiB read buffer: 431 from hyper.
    let huge = "a".repeat(20_000);
    let headers = call(&app, Method::GET, "/v1/catalogs", None, &[("x-big", &huge)]).await;
    assert_eq!(headers.status, 431);
    // Another format than JSON: 415.
    let xml = call(
        &app,
        Method::POST,
        "/v1/certificates:search",
        None,
        &[("content-type", "application/xml")],
    )
    .await;
    assert_eq!(xml.status, 415);
}

#[tokio::test]
async fn bearer_tokens_guard_the_http_port_like_the_grpc_port() {
    let dir = TempDir::new("http-tokens");
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "hr-platform s3cret-http\n").expect("write tokens");
    // The server refuses a tokens file others may read.
    let mut permissions = std::fs::metadata(&tokens).expect("tokens").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
    std::fs::set_permissions(&tokens, permissions).expect("chmod 600");
    let app = spawn_app_with(&["--auth-tokens-file", tokens.to_str().unwrap()]);

    for headers in [&[][..], &[("authorization", "Bearer wrong")][..]] {
        let refused = call(&app, Method::GET, "/v1/catalogs", None, headers).await;
        assert_eq!(refused.status, 401, "{headers:?}");
        assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
        assert_eq!(refused.json()["code"], 16);
    }
    let ok = call(
        &app,
        Method::POST,
        "/v1/equivalence:evaluate",
        Some(r#"{"claims":[{"text":"FCCA"}]}"#),
        &[("authorization", "Bearer s3cret-http")],
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let decision = ok.json()["decisionId"].as_str().unwrap().to_owned();
    // The token's caller name reaches the audit event.
    let audit = app.wait_for_log(LIMIT, |l| l.contains("audit") && l.contains(&decision));
    assert!(audit.contains("hr-platform"), "{audit}");
    // The OpenAPI document is public, like reflection's descriptors are not secret.
    assert_eq!(get(&app, "/openapi.json").await.status, 200);
}

#[tokio::test]
async fn overload_is_429_with_retry_after_and_request_ids_and_metrics_are_shared() {
    // One stream slot: a batch held open takes it, a second batch is shed.
    let app = spawn_app_with(&["--max-open-streams", "1"]);
    let (lines, mut held) = open_batch(&app, r#"{"claims":[{"text":"CFA"}]}"#).await;
    assert!(held.next().await.expect("an answer")["result"].is_object());
    let shed = post(
        &app,
        "/v1/equivalence:batchEvaluate",
        r#"{"claims":[{"text":"CFA"}]}"#,
    )
    .await;
    assert_eq!(shed.status, 429, "{shed:?}");
    // The server's pushback (well under a second) rounded up to whole seconds.
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert_eq!(shed.json()["code"], 8);
    // Unary calls have their own slots.
    assert_eq!(get(&app, "/v1/certificates/fcca").await.status, 200);
    drop(lines);
    assert!(
        held.next().await.is_none(),
        "the held batch ends with its body"
    );

    let app = spawn_app_with(&["--access-log"]);
    let answer = call(
        &app,
        Method::GET,
        "/v1/certificates/fcca",
        None,
        &[("x-request-id", "http-req-42")],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-request-id"), Some("http-req-42"));
    app.wait_for_log(LIMIT, |l| {
        l.contains("rpc finished") && l.contains("http-req-42")
    });
    let metrics_addr = app.metrics_addr.expect("metrics address");
    let tcp = TcpStream::connect(metrics_addr)
        .await
        .expect("metrics port");
    let metrics = exchange(tcp, request(Method::GET, "/metrics", None, &[])).await;
    let text = String::from_utf8_lossy(&metrics.body);
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("grpc_server_handled_total")
                && l.contains(r#"grpc_method="GetCertificate""#)
                && l.contains(r#"grpc_code="OK""#)
        })
        .unwrap_or_else(|| panic!("no GetCertificate OK count:\n{text}"));
    assert!(line.ends_with(" 1"), "{line}");

    // What the gateway refuses before any service runs is counted on its own.
    assert_eq!(get(&app, "/v1/nowhere").await.status, 404);
    let tcp = TcpStream::connect(metrics_addr)
        .await
        .expect("metrics port");
    let metrics = exchange(tcp, request(Method::GET, "/metrics", None, &[])).await;
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.lines()
            .any(|l| l.starts_with("certequiv_http_refused_total")
                && l.contains(r#"http_status="404""#)),
        "{text}"
    );
}

/// Sends NDJSON lines one at a time and reads each answer before sending the next: the batch
/// route streams both ways.
#[tokio::test]
async fn batch_evaluate_streams_ndjson_with_per_line_errors() {
    let app = in_process::start().await;
    let (lines, mut reader) =
        open_batch(&app, r#"{"correlationId":"a","claims":[{"text":"CFA"}]}"#).await;
    let send = |line: &str| {
        let lines = lines.clone();
        let line = format!("{line}\n");
        async move {
            lines
                .send(Ok(Frame::data(Bytes::from(line))))
                .await
                .expect("send a line")
        }
    };

    // The first answer arrives while the request body is still open.
    let first = reader.next().await.expect("first answer");
    assert_eq!(first["correlationId"], "a");
    assert_eq!(
        first["result"]["verdict"],
        "VERDICT_RECOGNIZED_WITH_CONDITIONS"
    );
    assert!(
        first.get("index").is_none(),
        "index 0 is a default, omitted: {first}"
    );

    send("not json").await;
    let second = reader.next().await.expect("second answer");
    assert_eq!(second["index"], "1");
    assert_eq!(second["error"]["code"], 3);
    assert!(
        second["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid JSON")
    );

    send(r#"{"correlationId":"c"}"#).await;
    let third = reader.next().await.expect("third answer");
    assert_eq!(
        (third["index"].clone(), third["correlationId"].clone()),
        (json!("2"), json!("c"))
    );
    assert_eq!(third["error"]["fieldViolations"][0]["field"], "claims");

    send(r#"{"correlation_id":"d","bogus":true}"#).await;
    send("").await;
    send(r#"{"correlationId":"e","claims":[{"text":"FCCA"}]}"#).await;
    drop(lines);
    let mut rest = Vec::new();
    while let Some(line) = reader.next().await {
        rest.push(line);
    }
    assert_eq!(rest.len(), 2, "{rest:?}");
    assert_eq!(
        (rest[0]["index"].clone(), rest[0]["correlationId"].clone()),
        (json!("3"), json!("d"))
    );
    assert!(
        rest[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bogus")
    );
    assert_eq!(
        (rest[1]["index"].clone(), rest[1]["correlationId"].clone()),
        (json!("4"), json!("e"))
    );
    assert_eq!(
        rest[1]["result"]["highestTitleLevel"],
        "TITLE_LEVEL_ASSOCIATE_SENIOR"
    );

    // A whole body at once works too, and a line over the limit ends the stream with a status.
    let app = in_process::start_with(|setup| setup.config.max_message_bytes = 300).await;
    let body = format!(
        "{}\n{}\n",
        r#"{"correlationId":"x","claims":[{"text":"CFA"}]}"#,
        format_args!(r#"{{"correlationId":"{}"}}"#, "y".repeat(400))
    );
    let answer = call(
        &app,
        Method::POST,
        "/v1/equivalence:batchEvaluate",
        Some(&body),
        &[],
    )
    .await;
    assert_eq!(answer.status, 200);
    let lines: Vec<Value> = answer
        .body
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["correlationId"], "x");
    assert_eq!(lines[1]["status"]["code"], 8, "{lines:?}");
}

type Lines = mpsc::Sender<Result<Frame<Bytes>, Infallible>>;

/// Starts a BatchEvaluate with `first` as its first line; the rest of the body is sent line by
/// line through the returned sender. The answer has started (200, NDJSON) when this returns.
async fn open_batch(app: &impl Running, first: &str) -> (Lines, LineReader) {
    let tcp = TcpStream::connect(app.http_addr().expect("http address"))
        .await
        .expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let (lines, lines_rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
    let body = StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(lines_rx));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/equivalence:batchEvaluate")
        .header("host", "localhost")
        .header("content-type", "application/x-ndjson")
        .body(body)
        .expect("request");
    lines
        .send(Ok(Frame::data(Bytes::from(format!("{first}\n")))))
        .await
        .expect("send the first line");
    let response = tokio::time::timeout(LIMIT, sender.send_request(request))
        .await
        .expect("headers within the limit")
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    (lines, LineReader::new(response.into_body()))
}

/// Answer lines of an NDJSON body as they arrive.
struct LineReader {
    body: Incoming,
    buffer: Vec<u8>,
}

impl LineReader {
    fn new(body: Incoming) -> LineReader {
        LineReader {
            body,
            buffer: Vec::new(),
        }
    }

    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).expect("a JSON line"));
            }
            let frame = tokio::time::timeout(LIMIT, self.body.frame())
                .await
                .expect("a line within the limit")?
                .expect("body frame");
            if let Ok(data) = frame.into_data() {
                self.buffer.extend_from_slice(&data);
            }
        }
    }
}

#[tokio::test]
async fn the_openapi_document_is_served_as_committed() {
    let app = in_process::start().await;
    let served = get(&app, "/openapi.json").await;
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("application/json"));
    let committed = std::fs::read(common::workspace_root().join("docs/openapi.json"))
        .expect("docs/openapi.json");
    assert!(
        served.body == committed,
        "docs/openapi.json differs from the served document; regenerate it with \
         `cargo run -p certequiv-server -- openapi > docs/openapi.json`"
    );
    let document = served.json();
    assert_eq!(document["openapi"], "3.1.0");
    let post_only = call(&app, Method::POST, "/openapi.json", Some("{}"), &[]).await;
    assert_eq!(post_only.status, 405);
}

#[tokio::test]
async fn a_silent_client_is_disconnected_and_the_port_can_be_turned_off() {
    let app = spawn_app_with(&["--handshake-timeout", "1s"]);
    let mut silent = TcpStream::connect(app.http_addr.expect("http address"))
        .await
        .expect("connect");
    let started = Instant::now();
    let mut buffer = [0_u8; 256];
    let read = tokio::time::timeout(LIMIT, silent.read(&mut buffer))
        .await
        .expect("the server closes a silent connection");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the connection is closed: {read:?}"
    );
    assert!(started.elapsed() < LIMIT);
    // The server still serves others.
    assert_eq!(get(&app, "/v1/catalogs").await.status, 200);

    let off = spawn_app_with(&["--http-listen", ""]);
    assert!(off.http_addr.is_none());
    assert!(!off.logs().iter().any(|l| l.contains("http listening")));
}

async fn search_cfa(app: &impl Running) -> Answer {
    let body = r#"{"query":"CFA"}"#;
    call(
        app,
        Method::POST,
        "/v1/certificates:search",
        Some(body),
        &[],
    )
    .await
}

/// Opens a search whose body says 100 bytes and sends `sent` of them, then nothing.
async fn unfinished_search(app: &impl Running, sent: &str) -> TcpStream {
    let addr = app.http_addr().expect("http address");
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let head = "POST /v1/certificates:search HTTP/1.1\r\nHost: certequiv\r\n\
                Content-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    tcp.write_all(format!("{head}{sent}").as_bytes())
        .await
        .expect("send");
    tcp
}

#[tokio::test]
async fn a_request_body_holds_a_call_slot_from_its_first_byte_until_the_message_timeout() {
    let app = in_process::start_with(|setup| {
        setup.config.max_concurrent_requests = 1;
        setup.config.message_timeout = Duration::from_secs(1);
    })
    .await;
    // Headers without a body hold nothing: others are served, and it is ended in time.
    let mut headers_only = unfinished_search(&app, "").await;
    assert_eq!(search_cfa(&app).await.status, 200);

    // A body that has started holds the only slot: another body is shed at once.
    let mut started = unfinished_search(&app, r#"{"query":"#).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let shed = search_cfa(&app).await;
    assert_eq!(shed.status, 429, "{}", String::from_utf8_lossy(&shed.body));
    assert_eq!(shed.header("retry-after"), Some("1"));

    // The body that never ends is answered 408 at the message timeout, and the slot is back.
    let mut answer = vec![0_u8; 512];
    let read = tokio::time::timeout(LIMIT, started.read(&mut answer))
        .await
        .expect("an answer within the limit")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("message timeout"), "{answer}");
    assert_eq!(search_cfa(&app).await.status, 200);
    let mut answer = vec![0_u8; 512];
    let read = tokio::time::timeout(LIMIT, headers_only.read(&mut answer))
        .await
        .expect("an answer within the limit")
        .expect("read");
    assert!(answer[..read].starts_with(b"HTTP/1.1 408"));
}

#[tokio::test]
async fn sigterm_with_an_idle_http_connection_still_exits_zero_within_the_grace() {
    let mut app = spawn_app_with(&["--shutdown-grace", "2s"]);
    let addr = app.http_addr.expect("http address");
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let answer = sender
        .send_request(request(Method::GET, "/v1/catalogs", None, &[]))
        .await
        .expect("answer");
    assert_eq!(answer.status(), 200);
    // The keep-alive connection stays open while the server is told to stop.
    app.send_signal(Signal::SIGTERM);
    let status = app.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}\n{}", app.process.dump());
}

#[tokio::test]
async fn mutual_tls_on_the_http_port_names_the_caller_in_the_audit() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "http test CA");
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("CA");
    let leaf = |names: &[&str], cn: &str| {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.signed_by(&key, &ca).expect("sign");
        (cert.pem(), key.serialize_pem())
    };
    let (server_pem, server_key) = leaf(&["localhost"], "certequiv");
    let (client_pem, client_key) = leaf(&[], "hr-platform-http");
    let dir = TempDir::new("http-mtls");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("utf-8").to_owned()
    };
    let app = spawn_app_with(&[
        "--tls-cert",
        &write("server.pem", &server_pem),
        "--tls-key",
        &write("server.key", &server_key),
        "--tls-client-ca",
        &write("ca.pem", &ca.pem()),
    ]);
    let addr = app.http_addr.expect("http address");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.pem().as_bytes()).expect("CA pem"))
        .expect("root");
    let connect = |identity: Option<(String, String)>| {
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots.clone());
        let config = match identity {
            Some((cert, key)) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from_pem_slice(cert.as_bytes()).expect("cert")],
                    PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key"),
                )
                .expect("client auth"),
            None => builder.with_no_client_auth(),
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        async move {
            let tcp = TcpStream::connect(addr).await.expect("connect");
            let name = ServerName::try_from("localhost").expect("name");
            tokio::time::timeout(LIMIT, connector.connect(name, tcp))
                .await
                .expect("handshake in time")
        }
    };

    let tls = connect(Some((client_pem, client_key)))
        .await
        .expect("mTLS handshake");
    let answer = exchange(
        tls,
        request(
            Method::POST,
            "/v1/equivalence:evaluate",
            Some(r#"{"claims":[{"text":"CFA"}]}"#),
            &[],
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let decision = answer.json()["decisionId"].as_str().unwrap().to_owned();
    let audit = app.wait_for_log(LIMIT, |l| l.contains("audit") && l.contains(&decision));
    assert!(audit.contains("CN=hr-platform-http"), "{audit}");

    // Without a client certificate the exchange fails (at the handshake or the first read).
    let refused = match connect(None).await {
        Err(_) => true,
        Ok(tls) => match hyper::client::conn::http1::handshake(TokioIo::new(tls)).await {
            Err(_) => true,
            Ok((mut sender, connection)) => {
                tokio::spawn(connection);
                let get = request(Method::GET, "/v1/catalogs", None, &[]);
                let sent = tokio::time::timeout(LIMIT, sender.send_request(get))
                    .await
                    .expect("no hang");
                sent.is_err()
            }
        },
    };
    assert!(refused, "a client without a certificate must be refused");
    // Plain HTTP on the TLS port gets no answer either.
    let plain = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(plain))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let sent = tokio::time::timeout(
        LIMIT,
        sender.send_request(request(Method::GET, "/v1/catalogs", None, &[])),
    )
    .await
    .expect("no hang");
    assert!(sent.is_err(), "plaintext on the TLS port: {sent:?}");
}

#[tokio::test]
async fn browsers_of_allowed_origins_may_call_and_others_get_no_cors_headers() {
    let app = spawn_app_with(&[
        "--http-cors-origins",
        "https://hr.example, https://other.example",
    ]);
    let preflight = call(
        &app,
        Method::OPTIONS,
        "/v1/equivalence:evaluate",
        None,
        &[
            ("origin", "https://hr.example"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ],
    )
    .await;
    assert_eq!(preflight.status, 204, "{preflight:?}");
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://hr.example")
    );
    let allowed_headers = preflight
        .header("access-control-allow-headers")
        .unwrap_or("");
    assert!(allowed_headers.contains("authorization") && allowed_headers.contains("content-type"));
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap_or("")
            .contains("POST")
    );

    let answer = call(
        &app,
        Method::GET,
        "/v1/catalogs",
        None,
        &[("origin", "https://other.example")],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://other.example")
    );
    assert!(
        answer
            .header("access-control-expose-headers")
            .unwrap_or("")
            .contains("x-request-id")
    );
    // Errors carry the headers too, or a page could not read them.
    let error = call(
        &app,
        Method::GET,
        "/v1/catalogs/nope",
        None,
        &[("origin", "https://hr.example")],
    )
    .await;
    assert_eq!(
        (error.status, error.header("access-control-allow-origin")),
        (404, Some("https://hr.example"))
    );

    let stranger = call(
        &app,
        Method::GET,
        "/v1/catalogs",
        None,
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(stranger.status, 200);
    assert_eq!(stranger.header("access-control-allow-origin"), None);
    let stranger_preflight = call(
        &app,
        Method::OPTIONS,
        "/v1/catalogs",
        None,
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "GET"),
        ],
    )
    .await;
    assert_eq!(stranger_preflight.status, 405);
    assert_eq!(
        stranger_preflight.header("access-control-allow-origin"),
        None
    );

    // Without the flag no origin is allowed.
    let closed = spawn_app();
    let answer = call(
        &closed,
        Method::GET,
        "/v1/catalogs",
        None,
        &[("origin", "https://hr.example")],
    )
    .await;
    assert_eq!(answer.header("access-control-allow-origin"), None);
}
