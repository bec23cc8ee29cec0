//! The attack suite: what an outside attack on the release binary found, each made a test that
//! runs against the real binary on loopback, bounded in time.
//!
//! Every attack runs beside a well-behaved client ([`Prober`]) that calls GetCertificate the way
//! the README's client service config does (retrying a shed call after the server's
//! `grpc-retry-pushback-ms`) and checks health every 100 ms; each test asserts the process is
//! alive, health answers within a second, no well-behaved call is lost, the right status codes
//! come back, and peak RSS stays under the bound the README states.
//!
//! Short mode (the default, CI) uses small loads against the debug binary. The full mode runs
//! the loads of the outside test against the release binary and prints the table in
//! docs/robustness.md:
//!
//! ```sh
//! cargo build --release -p certequiv-server
//! CERTEQUIV_BIN=target/release/certequiv CERTEQUIV_ATTACK=full \
//!   cargo test -p certequiv-e2e --test attack -- --nocapture --test-threads 1
//! ```
//! Attacks run one at a time (a lock), so one
//! attack's load does not show up in another's figures.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use certequiv_api::v1::certificate_service_client::CertificateServiceClient;
use certequiv_api::v1::equivalence_service_client::EquivalenceServiceClient;
use certequiv_api::v1::{
    CertificateClaim, EvaluateEquivalenceRequest, GetCertificateRequest, certificate_claim,
};
use common::process::{App, spawn_app_with, spawn_app_with_fd_limit};
use common::{Running, TempDir};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn full() -> bool {
    std::env::var("CERTEQUIV_ATTACK").is_ok_and(|v| v == "full")
}

/// The memory bound the README states for a server's limits (see "Limits"): a base for the
/// process and the embedded catalog, and a share per connection (gRPC, and HTTP when that port
/// is on), call slot and stream slot.
fn rss_bound_kib(connections: u64, http_connections: u64, requests: u64, streams: u64) -> u64 {
    32 * 1024 + 64 * connections + 48 * http_connections + 160 * requests + 512 * streams
}

/// The bound at the default limits (1,024 connections per port, 256 calls, 128 streams).
fn default_bound_kib() -> u64 {
    rss_bound_kib(1024, 1024, 256, 128)
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) the process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of /proc/pid/stat, 12 and 13 after the name.
    field(11) + field(12)
}

fn alive(app: &mut App) -> bool {
    app.process.try_exit().is_none()
}

/// One row of the figures table.
fn report(attack: &str, load: &str, result: &str, app: &App, health_max: Duration) {
    let peak = status_kib(app.process.pid(), "VmHWM:");
    println!(
        "| {attack} | {load} | {result} | {:.1} MiB | {} ms |",
        peak as f64 / 1024.0,
        health_max.as_millis()
    );
}

/// A well-behaved client beside the attack, on a thread and runtime of its own so that the
/// attack's client tasks in this process do not delay it: what it measures is the server.
struct Prober {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Probed>,
}

struct Probed {
    calls: u64,
    lost: u64,
    retries: u64,
    health_failures: u64,
    health_max: Duration,
}

impl Prober {
    async fn start(app: &App) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let endpoint = app.endpoint();
        let flag = Arc::clone(&stop);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("prober runtime");
            runtime.block_on(probe(endpoint, flag, ready_tx))
        });
        let _ = ready_rx.await;
        Prober { stop, thread }
    }

    async fn finish(self) -> Probed {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join().expect("prober thread"))
            .await
            .expect("join the prober")
    }
}

async fn probe(
    endpoint: String,
    stop: Arc<AtomicBool>,
    ready: tokio::sync::oneshot::Sender<()>,
) -> Probed {
    let connect = || async {
        tonic::transport::Channel::from_shared(endpoint.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("prober connects")
    };
    let client = CertificateServiceClient::new(connect().await);
    let health = HealthClient::new(connect().await);
    let _ = ready.send(());
    let retries = AtomicU64::new(0);
    let calls = async {
        let (mut calls, mut lost) = (0u64, 0u64);
        while !stop.load(Ordering::Relaxed) {
            calls += 1;
            if !call_with_retries(client.clone(), &retries).await {
                lost += 1;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (calls, lost)
    };
    let checks = async {
        let (mut failures, mut slowest) = (0u64, Duration::ZERO);
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let answer = tokio::time::timeout(
                Duration::from_secs(1),
                health.clone().check(HealthCheckRequest {
                    service: String::new(),
                }),
            )
            .await;
            if !matches!(&answer, Ok(Ok(r)) if r.get_ref().status == 1) {
                failures += 1;
            }
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (failures, slowest)
    };
    let ((calls, lost), (health_failures, health_max)) = tokio::join!(calls, checks);
    Probed {
        calls,
        lost,
        retries: retries.load(Ordering::Relaxed),
        health_failures,
        health_max,
    }
}

impl Probed {
    fn assert_well_served(&self, attack: &str) {
        assert!(self.calls > 0, "{attack}: the prober made no call");
        assert_eq!(self.lost, 0, "{attack}: well-behaved calls lost");
        assert_eq!(
            self.health_failures, 0,
            "{attack}: health failed or was slow (slowest {:?})",
            self.health_max
        );
        assert!(
            self.health_max < Duration::from_secs(1),
            "{attack}: health took {:?}",
            self.health_max
        );
    }
}

/// GetCertificate as a client with the README's retry policy would make it: a shed call is
/// retried after the server's pushback, up to 20 times; anything else is lost.
async fn call_with_retries(
    mut client: CertificateServiceClient<tonic::transport::Channel>,
    retries: &AtomicU64,
) -> bool {
    for _ in 0..20 {
        let mut request = tonic::Request::new(GetCertificateRequest {
            id: "fcca".into(),
            ..Default::default()
        });
        request.set_timeout(Duration::from_secs(5));
        match client.get_certificate(request).await {
            Ok(answer) => return answer.get_ref().id == "fcca",
            Err(status) if status.code() == Code::ResourceExhausted => {
                retries.fetch_add(1, Ordering::Relaxed);
                let pushback = status
                    .metadata()
                    .get("grpc-retry-pushback-ms")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(100);
                tokio::time::sleep(Duration::from_millis(pushback)).await;
            }
            Err(status) => {
                eprintln!("well-behaved call failed: {status:?}");
                return false;
            }
        }
    }
    false
}

/// A gRPC message on the wire: the 5-byte prefix and the encoded message.
fn frame(message: &impl Message) -> Bytes {
    let body = message.encode_to_vec();
    let mut framed = Vec::with_capacity(5 + body.len());
    framed.push(0);
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(&body);
    framed.into()
}

fn grpc_request(addr: SocketAddr, path: &str) -> http::Request<()> {
    http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .expect("a valid request")
}

const GET: &str = "/certequiv.v1.CertificateService/GetCertificate";
const BATCH: &str = "/certequiv.v1.EquivalenceService/BatchEvaluate";
const WATCH: &str = "/grpc.health.v1.Health/Watch";

/// A raw HTTP/2 connection, for what no well-behaved gRPC client sends.
async fn raw_connection(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
    raw_connection_with_handle(addr).await.0
}

/// A raw HTTP/2 connection and the task driving it: aborting the task drops the socket.
async fn raw_connection_with_handle(
    addr: SocketAddr,
) -> (h2::client::SendRequest<Bytes>, tokio::task::JoinHandle<()>) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (client, connection) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    (client, task)
}

/// The gRPC status of a raw response: from its headers (trailers-only) or its trailers.
async fn raw_status(response: h2::client::ResponseFuture) -> Option<(u16, i32, String)> {
    let response = tokio::time::timeout(Duration::from_secs(20), response)
        .await
        .ok()?
        .ok()?;
    let http = response.status().as_u16();
    let code = |headers: &http::HeaderMap| -> Option<(i32, String)> {
        let code = headers.get("grpc-status")?.to_str().ok()?.parse().ok()?;
        let message = headers
            .get("grpc-message")
            .and_then(|m| m.to_str().ok())
            .unwrap_or("")
            .replace("%20", " ");
        Some((code, message))
    };
    if let Some((c, m)) = code(response.headers()) {
        return Some((http, c, m));
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else { break };
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let trailers = body.trailers().await.ok()??;
    code(&trailers).map(|(c, m)| (http, c, m))
}

fn fcca_claim_request(correlation_id: String) -> EvaluateEquivalenceRequest {
    EvaluateEquivalenceRequest {
        correlation_id,
        claims: vec![CertificateClaim {
            claim: Some(certificate_claim::Claim::Text("FCCA".into())),
        }],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_flood_stays_within_the_stream_pool_and_the_memory_bound() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut app = spawn_app_with(&[]);
    let prober = Prober::start(&app).await;
    let (connections, streams_each, items) = if full() { (50, 200, 100) } else { (8, 40, 20) };
    let (opened, shed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for c in 0..connections {
        let client = EquivalenceServiceClient::new(app.channel().await);
        for s in 0..streams_each {
            let mut client = client.clone();
            let (opened, shed) = (Arc::clone(&opened), Arc::clone(&shed));
            tasks.push(tokio::spawn(async move {
                let items: Vec<_> = (0..items)
                    .map(|i| fcca_claim_request(format!("{c}-{s}-{i}")))
                    .collect();
                let reads = s % 2 == 0;
                // The request side stays open while the test runs, as a client still sending.
                let (tx, rx) = tokio::sync::mpsc::channel(items.len().max(1));
                for item in items {
                    let _ = tx.try_send(item);
                }
                let keep_open = tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    drop(tx);
                });
                let requests = tokio_stream::wrappers::ReceiverStream::new(rx);
                match client.batch_evaluate(requests).await {
                    Ok(answer) => {
                        opened.fetch_add(1, Ordering::Relaxed);
                        let mut stream = answer.into_inner();
                        if reads {
                            loop {
                                match stream.message().await {
                                    Ok(Some(_)) => {}
                                    Ok(None) => break,
                                    Err(status) => {
                                        if status.code() == Code::ResourceExhausted {
                                            shed.fetch_add(1, Ordering::Relaxed);
                                        }
                                        break;
                                    }
                                }
                            }
                        } else {
                            // A client that never reads: back-pressure, not buffering.
                            tokio::time::sleep(Duration::from_secs(3)).await;
                        }
                    }
                    Err(status) => {
                        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                        shed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                keep_open.abort();
            }));
        }
    }
    for task in tasks {
        task.await.expect("a batch task");
    }
    let probed = prober.finish().await;
    assert!(alive(&mut app), "the server died");
    probed.assert_well_served("batch flood");
    let total = connections * streams_each;
    assert!(
        shed.load(Ordering::Relaxed) > 0,
        "{total} streams against a pool of 128: some must be shed"
    );
    let peak = status_kib(app.process.pid(), "VmHWM:");
    assert!(
        peak < default_bound_kib(),
        "peak RSS {peak} KiB over the bound {} KiB",
        default_bound_kib()
    );
    report(
        "BatchEvaluate flood, half the streams never read",
        &format!("{connections} conns x {streams_each} streams x {items} items"),
        &format!(
            "{} shed, {} served; prober {} calls, {} retries, 0 lost",
            shed.load(Ordering::Relaxed),
            total as u64 - shed.load(Ordering::Relaxed),
            probed.calls,
            probed.retries
        ),
        &app,
        probed.health_max,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streams_that_send_no_message_hold_no_slot_and_are_ended() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut app = spawn_app_with(&["--max-concurrent-requests", "64", "--message-timeout", "2s"]);
    let prober = Prober::start(&app).await;
    let (connections, streams_each) = if full() { (4, 256) } else { (1, 64) };
    let mut silent = Vec::new();
    for _ in 0..connections {
        let client = raw_connection(app.addr).await;
        for _ in 0..streams_each {
            let mut client = client.clone().ready().await.expect("stream capacity");
            let (response, send) = client
                .send_request(grpc_request(app.addr, GET), false)
                .expect("HEADERS");
            silent.push((response, send));
        }
    }
    // Well-behaved calls go on while every silent stream is open.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let probed_during = Prober::start(&app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = probed_during.finish().await;
    assert_eq!(
        during.retries, 0,
        "a silent stream took a slot: well-behaved calls were shed"
    );
    let mut ended = 0;
    for (response, _send) in silent {
        if let Some((_, code, message)) = raw_status(response).await {
            assert_eq!(code, Code::DeadlineExceeded as i32, "{message}");
            assert!(message.contains("did not arrive"), "{message}");
            ended += 1;
        }
    }
    let probed = prober.finish().await;
    assert!(alive(&mut app));
    probed.assert_well_served("silent streams");
    assert_eq!(
        ended,
        connections * streams_each,
        "every silent stream is ended"
    );
    report(
        "HEADERS without DATA",
        &format!("{connections} conns x {streams_each} streams, 64 slots"),
        "no slot taken, 0 shed; each stream ended with DEADLINE_EXCEEDED at --message-timeout",
        &app,
        probed.health_max,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dribbling_connection_gets_its_share_and_is_ended() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut app = spawn_app_with(&["--max-concurrent-requests", "64", "--message-timeout", "3s"]);
    let client = raw_connection(app.addr).await;
    let mut dribbling = Vec::new();
    for _ in 0..64 {
        let mut client = client.clone().ready().await.expect("stream capacity");
        let (response, mut send) = client
            .send_request(grpc_request(app.addr, GET), false)
            .expect("HEADERS");
        // A prefix announcing a 100-byte message, then one byte of it, then nothing.
        send.send_data(Bytes::from_static(&[0, 0, 0, 0, 100, 0x0a]), false)
            .expect("DATA");
        dribbling.push((response, send));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // While that connection holds its share, other clients still get the reserve.
    let prober = Prober::start(&app).await;
    let (mut shed, mut deadline) = (0, 0);
    for (response, _send) in dribbling {
        match raw_status(response).await {
            Some((_, code, _)) if code == Code::ResourceExhausted as i32 => shed += 1,
            Some((_, code, _)) if code == Code::DeadlineExceeded as i32 => deadline += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    let probed = prober.finish().await;
    assert!(alive(&mut app));
    probed.assert_well_served("dribbling");
    assert_eq!(
        deadline, 48,
        "one connection holds at most three quarters of 64 slots"
    );
    assert_eq!(shed, 16);
    report(
        "one byte of each message, then silence",
        "1 conn x 64 streams, 64 slots",
        "48 held until --message-timeout (DEADLINE_EXCEEDED), 16 shed; other clients served",
        &app,
        probed.health_max,
    );
}

/// Whether the server closes `stream` within `within` (reading gets end of file or an error).
async fn closed_within(mut stream: TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_that_never_finish_set_up_are_closed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut app = spawn_app_with(&["--handshake-timeout", "1s"]);
    let prober = Prober::start(&app).await;
    let count = if full() { 500 } else { 50 };
    let started = Instant::now();
    let mut idle = Vec::new();
    for i in 0..count {
        let mut stream = TcpStream::connect(app.addr).await.expect("connect");
        if i % 2 == 1 {
            // Half a preface.
            stream
                .write_all(b"PRI * HTTP/2.0\r\n")
                .await
                .expect("write");
        }
        idle.push(stream);
    }
    let results = futures_like_join(
        idle.into_iter()
            .map(|s| closed_within(s, Duration::from_secs(5))),
    )
    .await;
    let all_closed = started.elapsed();
    assert!(
        results.iter().all(|c| *c),
        "a half-open connection was kept"
    );
    // What is not HTTP/2 at all is closed at once.
    for garbage in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        &[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ][..],
        &[0xffu8; 64][..],
    ] {
        let mut stream = TcpStream::connect(app.addr).await.expect("connect");
        stream.write_all(garbage).await.expect("write");
        assert!(
            closed_within(stream, Duration::from_millis(500)).await,
            "garbage {garbage:?} was not refused at once"
        );
    }
    let probed = prober.finish().await;
    assert!(alive(&mut app));
    probed.assert_well_served("half-open connections");
    report(
        "connect and send nothing / half a preface / garbage",
        &format!("{count} connections, --handshake-timeout 1s"),
        &format!(
            "all closed within {} ms; garbage closed at once",
            all_closed.as_millis()
        ),
        &app,
        probed.health_max,
    );
}

/// Awaits every future (the futures crate is not a dependency of the tests).
async fn futures_like_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tls_handshake_that_never_completes_is_closed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let dir = TempDir::new("tls-stall");
    let (cert_path, key_path) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    let mut app = spawn_app_with(&[
        "--tls-cert",
        cert_path.to_str().expect("path"),
        "--tls-key",
        key_path.to_str().expect("path"),
        "--handshake-timeout",
        "1s",
    ]);
    let count = if full() { 500 } else { 50 };
    let started = Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..count {
        let mut stream = TcpStream::connect(app.addr).await.expect("connect");
        // The first bytes of a ClientHello record, and no more.
        stream
            .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])
            .await
            .expect("write");
        stalled.push(stream);
    }
    let results = futures_like_join(
        stalled
            .into_iter()
            .map(|s| closed_within(s, Duration::from_secs(5))),
    )
    .await;
    assert!(
        results.iter().all(|c| *c),
        "a half-finished ClientHello was kept"
    );
    assert!(alive(&mut app));
    report(
        "half a TLS ClientHello",
        &format!("{count} connections, --handshake-timeout 1s"),
        &format!("all closed within {} ms", started.elapsed().as_millis()),
        &app,
        Duration::ZERO,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_the_descriptor_limit_accept_backs_off_and_recovers() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut app = spawn_app_with_fd_limit(64, &["--handshake-timeout", "30s"]);
    let pid = app.process.pid();
    // Connections that complete set-up and stay: each holds a descriptor.
    let mut held = Vec::new();
    for _ in 0..100 {
        match TcpStream::connect(app.addr).await {
            Ok(mut stream) => {
                let _ = stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await;
                held.push(stream);
            }
            Err(_) => break,
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ticks_before = cpu_ticks(pid);
    let measured = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ticks = cpu_ticks(pid) - ticks_before;
    let cpu_share = ticks as f64 / 100.0 / measured.elapsed().as_secs_f64();
    app.wait_for_log(Duration::from_secs(5), |l| {
        l.contains("accepting connections fails") && l.contains("emfile")
    });
    assert!(
        cpu_share < 0.2,
        "the accept loop used {:.0} % of a core at the descriptor limit",
        cpu_share * 100.0
    );
    drop(held);
    // Descriptors come back: service resumes.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let channel = tonic::transport::Channel::from_shared(app.endpoint())
            .expect("uri")
            .connect_timeout(Duration::from_secs(2))
            .connect()
            .await;
        if let Ok(channel) = channel
            && CertificateServiceClient::new(channel)
                .get_certificate(GetCertificateRequest {
                    id: "fcca".into(),
                    ..Default::default()
                })
                .await
                .is_ok()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no service after descriptors came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(alive(&mut app));
    report(
        "descriptor exhaustion (ulimit -n 64)",
        "100 connections held",
        &format!(
            "accept backs off: {:.1} % of a core, one log line per minute; service resumes",
            cpu_share * 100.0
        ),
        &app,
        Duration::ZERO,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_streams_on_the_health_port_are_capped() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut app = spawn_app_with(&["--health-listen", "127.0.0.1:0"]);
    let health_port = app
        .health_addr
        .expect("the server logged `health listening`");
    let prober = Prober::start(&app).await;
    let (connections, streams_each) = if full() { (20, 1000) } else { (4, 100) };
    let (mut watching, mut shed) = (0, 0);
    let mut open = Vec::new();
    for _ in 0..connections {
        let client = raw_connection(health_port).await;
        let mut pending = Vec::new();
        for _ in 0..streams_each {
            let Ok(Ok(mut ready)) =
                tokio::time::timeout(Duration::from_secs(5), client.clone().ready()).await
            else {
                break;
            };
            let Ok((response, mut send)) =
                ready.send_request(grpc_request(health_port, WATCH), false)
            else {
                break;
            };
            let _ = send.send_data(
                frame(&HealthCheckRequest {
                    service: String::new(),
                }),
                true,
            );
            pending.push(response);
        }
        for response in pending {
            let Ok(Ok(response)) = tokio::time::timeout(Duration::from_secs(10), response).await
            else {
                continue;
            };
            match response.headers().get("grpc-status") {
                Some(code) if code == "8" => shed += 1,
                Some(_) => {}
                None => {
                    watching += 1;
                    open.push(response);
                }
            }
        }
    }
    let probed = prober.finish().await;
    assert!(alive(&mut app));
    probed.assert_well_served("watch flood");
    assert!(watching <= 128, "{watching} watches past a pool of 128");
    assert!(shed > 0, "no watch was shed");
    let peak = status_kib(app.process.pid(), "VmHWM:");
    assert!(peak < default_bound_kib(), "peak RSS {peak} KiB");
    report(
        "Health/Watch flood on the health port",
        &format!("{connections} conns x {streams_each} Watch streams"),
        &format!("{watching} open (the stream pool), {shed} shed"),
        &app,
        probed.health_max,
    );
    drop(open);
}

/// The value of the first metric sample whose line holds every fragment.
fn sample(metrics: &str, fragments: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| fragments.iter().all(|f| l.contains(f)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect to metrics");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut text = String::new();
    stream.read_to_string(&mut text).await.expect("response");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_cancels_and_dropped_connections_count_as_cancelled() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut app = spawn_app_with(&[]);
    let metrics = app.metrics_addr.expect("metrics address");
    let count = if full() { 200 } else { 20 };
    let client = raw_connection(app.addr).await;
    for _ in 0..count {
        let mut ready = client.clone().ready().await.expect("ready");
        let (_response, mut send) = ready
            .send_request(grpc_request(app.addr, GET), false)
            .expect("HEADERS");
        // Paced, so the server has taken the call: a burst of resets is the rapid-reset
        // attack, which gets the connection closed instead (see the protocol test).
        tokio::time::sleep(Duration::from_millis(20)).await;
        send.send_reset(h2::Reason::CANCEL);
    }
    // A batch stream whose connection is dropped mid-way.
    for _ in 0..5 {
        let (client, connection) = raw_connection_with_handle(app.addr).await;
        let mut ready = client.ready().await.expect("ready");
        let (_response, mut send) = ready
            .send_request(grpc_request(app.addr, BATCH), false)
            .expect("HEADERS");
        send.send_data(frame(&fcca_claim_request("a".into())), false)
            .expect("DATA");
        tokio::time::sleep(Duration::from_millis(100)).await;
        connection.abort();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let text = scrape(metrics).await;
    let handled = |method: &str, code: &str| {
        sample(
            &text,
            &[
                "grpc_server_handled_total",
                &format!("grpc_method=\"{method}\""),
                &format!("grpc_code=\"{code}\""),
            ],
        )
    };
    for code in ["Internal", "Unknown"] {
        assert_eq!(handled("GetCertificate", code), 0.0, "{code}\n{text}");
        assert_eq!(handled("BatchEvaluate", code), 0.0, "{code}\n{text}");
    }
    assert!(handled("GetCertificate", "Canceled") > 0.0, "{text}");
    assert_eq!(handled("BatchEvaluate", "Canceled"), 5.0, "{text}");
    assert!(alive(&mut app));
    report(
        "RST_STREAM before the body; connection dropped mid-batch",
        &format!("{count} resets, 5 dropped batches"),
        "counted and logged as Canceled; no Internal, no Unknown",
        &app,
        Duration::ZERO,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn protocol_violations_get_the_answers_the_grpc_spec_gives() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut app = spawn_app_with(&[]);
    let client = raw_connection(app.addr).await;
    let message = frame(&GetCertificateRequest {
        id: "fcca".into(),
        ..Default::default()
    });
    let send = |request: http::Request<()>, body: Bytes| {
        let client = client.clone();
        async move {
            let mut ready = client.ready().await.expect("ready");
            let (response, mut stream) = ready.send_request(request, false).expect("HEADERS");
            stream.send_data(body, true).expect("DATA");
            raw_status(response).await
        }
    };

    let mut timeout = grpc_request(app.addr, GET);
    timeout.headers_mut().insert(
        "grpc-timeout",
        http::HeaderValue::from_static("12345678901S"),
    );
    let (http, code, text) = send(timeout, message.clone()).await.expect("an answer");
    assert_eq!((http, code), (400, Code::Internal as i32));
    assert!(text.starts_with("malformed grpc-timeout"), "{text}");

    let mut plain = grpc_request(app.addr, GET);
    plain.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    let (http, code, _) = send(plain, message.clone()).await.expect("an answer");
    assert_eq!((http, code), (415, Code::InvalidArgument as i32));

    let (_, code, text) = send(grpc_request(app.addr, GET), Bytes::new())
        .await
        .expect("an answer");
    assert_eq!(code, Code::InvalidArgument as i32, "{text}");

    // 4 GB announced: refused on the prefix, nothing allocated.
    let (_, code, _) = send(
        grpc_request(app.addr, GET),
        Bytes::from_static(&[0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
    )
    .await
    .expect("an answer");
    assert!(
        [Code::OutOfRange as i32, Code::ResourceExhausted as i32].contains(&code),
        "{code}"
    );

    // Oversized headers: the stream or the connection is refused, the server stays.
    let mut huge = grpc_request(app.addr, GET);
    huge.headers_mut().insert(
        "x-padding",
        http::HeaderValue::from_str(&"a".repeat(64 * 1024)).expect("header"),
    );
    let oversized = raw_connection(app.addr).await;
    if let Ok(Ok(mut ready)) = tokio::time::timeout(Duration::from_secs(5), oversized.ready()).await
        && let Ok((response, _stream)) = ready.send_request(huge, true)
    {
        let refused = raw_status(response).await;
        assert!(
            refused.as_ref().is_none_or(|(_, code, _)| *code != 0),
            "{refused:?}"
        );
    }

    // Rapid reset: h2 sends GOAWAY after too many resets; the server goes on.
    let rapid = raw_connection(app.addr).await;
    for _ in 0..200 {
        let Ok(mut ready) = rapid.clone().ready().await else {
            break;
        };
        let Ok((_, mut stream)) = ready.send_request(grpc_request(app.addr, GET), false) else {
            break;
        };
        stream.send_reset(h2::Reason::CANCEL);
    }
    assert!(alive(&mut app));
    let answer = CertificateServiceClient::new(app.channel().await)
        .get_certificate(GetCertificateRequest {
            id: "fcca".into(),
            ..Default::default()
        })
        .await
        .expect("served after the violations");
    assert_eq!(answer.into_inner().id, "fcca");
    report(
        "malformed grpc-timeout, non-gRPC content-type, no message, 4 GB prefix, 64 KiB header, 200 rapid resets",
        "one of each",
        "400/INTERNAL (as grpc-go), 415, INVALID_ARGUMENT, OUT_OF_RANGE, refused, GOAWAY",
        &app,
        Duration::ZERO,
    );
}

/// A request of the largest valid size: 50 claims of 256 characters each.
fn largest_request(correlation_id: String) -> EvaluateEquivalenceRequest {
    let names = [
        "英国皇家化学会会士",
        "ACCA资深会员证书",
        "CPA澳洲注册会计师资格",
        "华为数通网络专家认证",
        "IEEE高级会员证书",
        "特许金融分析师",
        "北美精算师协会正会员",
        "英国正精算师",
    ];
    EvaluateEquivalenceRequest {
        correlation_id,
        claims: (0..50)
            .map(|i| {
                let mut text = names[i % names.len()].to_owned();
                while text.chars().count() < 250 {
                    text.push_str(" 证书 ");
                }
                CertificateClaim {
                    claim: Some(certificate_claim::Claim::Text(
                        text.chars().take(256).collect(),
                    )),
                }
            })
            .collect(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_limit_filled_at_once_stays_under_the_memory_bound() {
    let _serial = ONE_AT_A_TIME.lock().await;
    // Full mode: the default limits. Short mode: a quarter of them.
    let (connections, requests, streams) = if full() {
        (1024, 256, 128)
    } else {
        (256, 64, 32)
    };
    let limits = [
        "--max-connections".to_owned(),
        connections.to_string(),
        "--max-concurrent-requests".to_owned(),
        requests.to_string(),
        "--max-open-streams".to_owned(),
        streams.to_string(),
        "--message-timeout".to_owned(),
        "20s".to_owned(),
    ];
    let limits: Vec<&str> = limits.iter().map(String::as_str).collect();
    let mut app = spawn_app_with(&limits);
    let baseline = status_kib(app.process.pid(), "VmRSS:");
    let prober = Prober::start(&app).await;
    let mut open = Vec::new();
    for _ in 0..connections - 4 {
        open.push(raw_connection(app.addr).await);
    }
    // Every HTTP connection open with a request whose body never comes (no slot is held until
    // a body's first byte; the call slots are full below anyway).
    let http_addr = app.http_addr.expect("the HTTP port");
    let mut http = Vec::new();
    for _ in 0..connections - 4 {
        let mut tcp = TcpStream::connect(http_addr)
            .await
            .expect("connect to the HTTP port");
        tcp.write_all(
            b"POST /v1/equivalence:evaluate HTTP/1.1\r\nHost: certequiv\r\n\
              Content-Type: application/json\r\nContent-Length: 65536\r\n\r\n",
        )
        .await
        .expect("send headers");
        http.push(tcp);
    }
    // Every call slot held (the batches below hold one each too; a few are left so the
    // well-behaved client still gets through) by a message of the largest size, all but its
    // last byte sent.
    let big = frame(&largest_request("big".into()));
    let mut held = Vec::new();
    for i in 0..requests - streams - 8 {
        let client = &open[i % open.len()];
        let mut ready = client.clone().ready().await.expect("ready");
        let (response, mut send) = ready
            .send_request(
                grpc_request(
                    app.addr,
                    "/certequiv.v1.EquivalenceService/EvaluateEquivalence",
                ),
                false,
            )
            .expect("HEADERS");
        send.send_data(big.slice(..big.len() - 1), false)
            .expect("DATA");
        held.push((response, send));
    }
    // Every stream slot held by a batch of the largest items whose client never reads.
    let mut batches = Vec::new();
    for i in 0..streams - 4 {
        let client = &open[(requests + i) % open.len()];
        let mut ready = client.clone().ready().await.expect("ready");
        let (response, mut send) = ready
            .send_request(grpc_request(app.addr, BATCH), false)
            .expect("HEADERS");
        for item in 0..40 {
            if send
                .send_data(frame(&largest_request(format!("{i}-{item}"))), false)
                .is_err()
            {
                break;
            }
        }
        batches.push((response, send));
    }
    tokio::time::sleep(Duration::from_secs(if full() { 8 } else { 4 })).await;
    let probed = prober.finish().await;
    assert!(alive(&mut app));
    probed.assert_well_served("every limit filled");
    let peak = status_kib(app.process.pid(), "VmHWM:");
    let bound = rss_bound_kib(
        connections as u64,
        connections as u64,
        requests as u64,
        streams as u64,
    );
    assert!(
        peak < bound,
        "peak RSS {peak} KiB over the bound {bound} KiB (baseline {baseline} KiB)"
    );
    report(
        "every limit filled at once",
        &format!(
            "{connections} gRPC and {connections} HTTP conns, {requests} calls holding a 50 KB message, {streams} unread batches of 50-claim items"
        ),
        &format!(
            "peak {:.0} % of the bound ({:.0} MiB)",
            peak as f64 * 100.0 / bound as f64,
            bound as f64 / 1024.0
        ),
        &app,
        probed.health_max,
    );
    drop((held, batches, open, http));
}

#[test]
fn the_bound_at_the_default_limits_is_the_one_the_readme_states() {
    // README, "Limits": 32 MiB + 64 KiB x connections + 48 KiB x HTTP connections + 160 KiB x
    // calls + 512 KiB x streams: 248 MiB at the defaults.
    assert_eq!(default_bound_kib(), 248 * 1024);
}
