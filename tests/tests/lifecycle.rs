//! Process lifecycle: graceful shutdown on SIGTERM, refusing to start without a catalog, and
//! the `validate` subcommand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use certequiv_api::v1::batch_evaluate_response::Outcome;
use certequiv_api::v1::certificate_claim::Claim;
use certequiv_api::v1::{CertificateClaim, EvaluateEquivalenceRequest};
use common::process::{Process, Signal, command, spawn_app_with};
use common::{Running, TempDir, workspace_root};
use tokio_stream::wrappers::ReceiverStream;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;

fn item(i: usize) -> EvaluateEquivalenceRequest {
    EvaluateEquivalenceRequest {
        correlation_id: format!("item-{i}"),
        claims: vec![CertificateClaim {
            claim: Some(Claim::CertificateId("fcca".to_owned())),
        }],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_batch_stream_finish_then_exits_0() {
    const BEFORE: usize = 10;
    const AFTER: usize = 5;
    let grace = Duration::from_secs(20);
    let mut app = spawn_app_with(&["--shutdown-grace", "20s"]);
    let mut client = app.equivalence().await;

    let (tx, rx) = tokio::sync::mpsc::channel(64);
    for i in 0..BEFORE {
        tx.send(item(i)).await.unwrap();
    }
    let mut responses = client
        .batch_evaluate(ReceiverStream::new(rx))
        .await
        .expect("BatchEvaluate accepted")
        .into_inner();
    let mut received = Vec::new();
    for _ in 0..BEFORE {
        let response = responses.message().await.unwrap().expect("a response");
        received.push(response);
    }

    app.send_signal(Signal::SIGTERM);
    // Go on only once the server is draining, so the next items really arrive after SIGTERM.
    let stdout = app.process.stdout.clone();
    let draining = tokio::task::spawn_blocking(move || {
        stdout.wait_for(Duration::from_secs(10), |l| l.contains("draining"))
    })
    .await
    .unwrap();
    assert!(
        draining.is_some(),
        "no `draining` log after SIGTERM\n{}",
        app.process.dump()
    );

    for i in BEFORE..BEFORE + AFTER {
        tx.send(item(i))
            .await
            .expect("the request stream is still open");
    }
    drop(tx); // close the send side: the call may now complete

    while let Some(response) = responses
        .message()
        .await
        .unwrap_or_else(|s| panic!("stream failed during the drain: {s:?}"))
    {
        received.push(response);
    }
    assert_eq!(
        received.len(),
        BEFORE + AFTER,
        "every sent item gets a response"
    );
    for (i, response) in received.iter().enumerate() {
        assert_eq!(response.index, i as i64);
        assert_eq!(response.correlation_id, format!("item-{i}"));
        assert!(
            matches!(response.outcome, Some(Outcome::Result(_))),
            "item {i}: {:?}",
            response.outcome
        );
    }
    drop(responses);
    drop(client);

    let status = tokio::task::block_in_place(|| app.wait_exit(grace));
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status}\n{}",
        app.process.dump()
    );
    let logs = app.logs();
    assert!(
        logs.iter().any(|l| l.contains("stopped")),
        "no `stopped` log line\n{}",
        app.process.dump()
    );
    assert!(
        !logs.iter().any(|l| l.contains("grace period over")),
        "the drain should end when the last call does, not at the grace deadline\n{}",
        app.process.dump()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_tells_health_watchers_not_serving_ends_their_streams_and_exits_at_once() {
    // The default 10 s grace: an idle Watch (clients with client-side health checking keep one
    // on every connection) must not hold the exit for it.
    let mut app = spawn_app_with(&[]);
    let mut health = app.health().await;
    let mut watch = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("Watch accepted")
        .into_inner();
    let first = watch.message().await.unwrap().expect("an initial status");
    assert_eq!(first.status(), ServingStatus::Serving);

    let signalled = Instant::now();
    app.send_signal(Signal::SIGTERM);
    let next = tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .expect("a status change within 10 s")
        .expect("the watch stream delivers the change")
        .expect("a status, not the end of the stream");
    assert_eq!(next.status(), ServingStatus::NotServing);
    let end = tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .expect("the watch ends")
        .expect_err("the watch ends with a status");
    assert_eq!(end.code(), tonic::Code::Unavailable, "{end:?}");

    let status = tokio::task::block_in_place(|| app.wait_exit(Duration::from_secs(10)));
    let elapsed = signalled.elapsed();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status}\n{}",
        app.process.dump()
    );
    assert!(
        !app.logs().iter().any(|l| l.contains("grace period over")),
        "an idle Watch held the drain to the end of the grace ({elapsed:?})\n{}",
        app.process.dump()
    );
    println!(
        "exited {} ms after SIGTERM with an idle Watch open",
        elapsed.as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_still_running_at_the_end_of_the_grace_is_told_where_to_resume() {
    let mut app = spawn_app_with(&["--shutdown-grace", "1s"]);
    let mut client = app.equivalence().await;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    for i in 0..3 {
        tx.send(item(i)).await.unwrap();
    }
    let mut responses = client
        .batch_evaluate(ReceiverStream::new(rx))
        .await
        .expect("BatchEvaluate accepted")
        .into_inner();
    for _ in 0..3 {
        responses.message().await.unwrap().expect("a response");
    }
    // The client keeps its side open (more items to come) while the server shuts down.
    app.send_signal(Signal::SIGTERM);
    let status = tokio::time::timeout(Duration::from_secs(10), responses.message())
        .await
        .expect("the stream ends within the grace and a bit")
        .expect_err("the stream ends with a status");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert!(status.message().contains("shutting down"), "{status:?}");
    let trailer = |key: &str| {
        status
            .metadata()
            .get(key)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(trailer("certequiv-answered").as_deref(), Some("3"));
    assert_eq!(
        trailer("certequiv-last-correlation-id").as_deref(),
        Some("item-2")
    );
    let raw = status
        .metadata()
        .get_bin("certequiv-last-correlation-id-bin")
        .and_then(|v| v.to_bytes().ok());
    assert_eq!(raw.as_deref(), Some(&b"item-2"[..]));
    drop(tx);
    let exit = tokio::task::block_in_place(|| app.wait_exit(Duration::from_secs(10)));
    assert_eq!(exit.code(), Some(0), "{}", app.process.dump());
}

#[test]
fn serve_refuses_to_start_with_an_empty_catalog_dir() {
    let dir = TempDir::new("empty-catalog-dir");
    let catalog_dir = dir.path().to_str().expect("UTF-8 temp path");
    let mut process = Process::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "text",
        "--catalog-dir",
        catalog_dir,
    ]);
    let status = process.wait_exit(Duration::from_secs(30));
    assert!(process.stdout.wait_closed(Duration::from_secs(10)));
    assert!(process.stderr.wait_closed(Duration::from_secs(10)));
    assert!(
        !status.success(),
        "exit status {status}\n{}",
        process.dump()
    );
    let logs = process.stdout.lines();
    assert!(
        !logs.iter().any(|l| l.contains("serving")),
        "logged `serving` without a catalog\n{}",
        process.dump()
    );
    assert!(
        logs.iter().any(|l| l.contains(catalog_dir)),
        "the log does not name the catalog directory\n{}",
        process.dump()
    );
}

#[test]
fn validate_accepts_the_shipped_catalog() {
    let catalog = workspace_root().join("crates/storage/catalogs/beijing-attachment-5.toml");
    let output = command()
        .arg("validate")
        .arg(&catalog)
        .output()
        .expect("run certequiv validate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("beijing-attachment-5") && stdout.contains("33 certificates"),
        "stdout:\n{stdout}"
    );
}

/// 1-based line numbers of the first `title_level = "副高级"` and of the `[[certificates]]`
/// table header it belongs to.
fn first_title_level(text: &str) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let key = lines
        .iter()
        .position(|l| l.trim() == r#"title_level = "副高级""#)
        .expect("a title_level line in the catalog");
    let header = lines[..key]
        .iter()
        .rposition(|l| l.trim() == "[[certificates]]")
        .expect("the certificate table header");
    (header + 1, key + 1)
}

#[test]
fn validate_names_file_line_and_field_of_a_bad_title_level() {
    let source = workspace_root().join("crates/storage/catalogs/beijing-attachment-5.toml");
    let text = std::fs::read_to_string(&source).unwrap();
    let (header_line, key_line) = first_title_level(&text);
    let broken = text.replacen(r#"title_level = "副高级""#, r#"title_level = "特级""#, 1);
    assert_ne!(broken, text);

    let dir = TempDir::new("bad-title-level");
    let file = dir.path().join("broken.toml");
    std::fs::write(&file, broken).unwrap();

    let output = command()
        .arg("validate")
        .arg(&file)
        .output()
        .expect("run certequiv validate");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");

    let path = file.display().to_string();
    let line = stderr
        .lines()
        .find(|l| l.contains(&path) && l.contains("title_level"))
        .unwrap_or_else(|| panic!("no stderr line names {path} and title_level:\n{stderr}"));
    let reported =
        reported_line(line, &file).unwrap_or_else(|| panic!("no `{path}:<line>` in {line:?}"));
    assert!(
        (header_line..=key_line).contains(&reported),
        "line {reported} is outside the broken entry (lines {header_line}..={key_line}): {line}"
    );
}

/// The number in `<path>:<line>` of an error line.
fn reported_line(line: &str, file: &Path) -> Option<usize> {
    let path = file.display().to_string();
    let rest = &line[line.find(&path)? + path.len()..];
    let digits: String = rest
        .strip_prefix(':')?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[test]
fn export_writes_the_catalog_as_csv_and_json() {
    let run = |format: &str| {
        let output = command()
            .args([
                "export",
                "--catalog",
                "beijing-attachment-5",
                "--format",
                format,
            ])
            .output()
            .expect("run certequiv export");
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        String::from_utf8(output.stdout).expect("UTF-8 output")
    };
    let csv = run("csv");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 34, "a header and 33 rows");
    assert!(rows[0].starts_with("id,section,item,name_zh"));
    assert!(
        rows[1].starts_with("ieee-fellow,1,1,IEEE会士证书（Fellow）"),
        "{}",
        rows[1]
    );
    // A cell with an ASCII comma is quoted, so every row keeps its columns in a spreadsheet.
    assert!(
        csv.contains(",\"Huawei TECHNOLOGIES Co., Ltd.\","),
        "issuer cells are quoted"
    );

    let json = run("json");
    assert_eq!(json.matches("\"work_scope\":").count(), 33);
    assert!(json.contains("\"etag\": \""), "{json:.200}");

    let unknown = command()
        .args(["export", "--catalog", "nope"])
        .output()
        .expect("run certequiv export");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nope"));
}
