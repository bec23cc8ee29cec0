//! Test harness: runs the real `certequiv` binary as a child process and talks to it over gRPC,
//! exactly as a client in production would.
//!
//! # Where the binary comes from
//!
//! Cargo sets `CARGO_BIN_EXE_<name>` only for binaries of the package under test, and
//! `certequiv` belongs to `certequiv-server`, not to this package. So the harness derives the
//! target directory from the test executable itself (`<target>/debug/deps/<test>-<hash>`, so
//! the binary is `<target>/debug/certequiv`). Before first use, the harness runs
//! `cargo build -p certequiv-server --bin certequiv` once per test binary (guarded by a
//! `OnceLock`, so parallel tests do not race) with the same target dir, so the tests never run
//! a binary older than the sources; when nothing changed, that build takes a fraction of a
//! second.
//!
//! # Readiness
//!
//! The server logs one line containing `serving` and `addr=127.0.0.1:PORT` once the
//! health service reports SERVING. [`spawn_app`] waits for that line (no sleeps) and takes the
//! port from it. Stdout and stderr are drained by background threads for the whole life of the
//! process, so the pipes never fill, and every line is kept for assertions ([`Output`]).
//!
//! The waiting helpers ([`App::wait_exit`], [`Output::wait_for`]) block the calling thread: in
//! a test that keeps client streams in flight while waiting, use
//! `#[tokio::test(flavor = "multi_thread")]` so the client's connection keeps being driven.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use certequiv_api::v1::certificate_service_client::CertificateServiceClient;
use certequiv_api::v1::equivalence_service_client::EquivalenceServiceClient;
pub use nix::sys::signal::Signal;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;

/// How long a server may take to log `serving` before the test fails.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variables the binary reads; removed so the developer's shell cannot change what
/// a test starts.
const SERVER_ENV: [&str; 20] = [
    "CERTEQUIV_LISTEN",
    "CERTEQUIV_HTTP_LISTEN",
    "CERTEQUIV_CATALOG_DIR",
    "CERTEQUIV_DEFAULT_JURISDICTION",
    "CERTEQUIV_SHUTDOWN_GRACE",
    "CERTEQUIV_RELOAD_INTERVAL",
    "CERTEQUIV_REFLECTION",
    "CERTEQUIV_LOG",
    "CERTEQUIV_LOG_FORMAT",
    // OpenTelemetry: export is on when an endpoint is set (tests/tests/tracing.rs sets them).
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_TRACES_EXPORTER",
    "OTEL_SDK_DISABLED",
    "OTEL_BSP_SCHEDULE_DELAY",
];

/// The workspace root (`tests/..`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
}

/// Path of the `certequiv` binary, brought up to date on first use (see the module
/// documentation).
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        // A given binary (the release build, for the attack suite's full mode) is used as is.
        if let Some(given) = std::env::var_os("CERTEQUIV_BIN") {
            return PathBuf::from(given);
        }
        let exe = std::env::current_exe().expect("path of the test executable");
        // <target>/debug/deps/<test>-<hash>  ->  <target>/debug
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable lives in <target>/<profile>/deps/");
        let binary = profile_dir.join(format!("certequiv{}", std::env::consts::EXE_SUFFIX));
        {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args([
                    "build",
                    "--locked",
                    "-p",
                    "certequiv-server",
                    "--bin",
                    "certequiv",
                ])
                .current_dir(workspace_root())
                .status()
                .expect("run cargo build for the certequiv binary");
            assert!(
                status.success(),
                "building the certequiv binary failed: {status}"
            );
            assert!(
                binary.is_file(),
                "cargo built certequiv but {} does not exist (different target dir?)",
                binary.display()
            );
        }
        binary
    })
}

#[derive(Default)]
struct Captured {
    lines: Vec<String>,
    closed: bool,
}

/// Lines a child process wrote to one stream, kept as they arrive.
#[derive(Clone, Default)]
pub struct Output {
    inner: Arc<(Mutex<Captured>, Condvar)>,
}

impl Output {
    fn capture(stream: impl Read + Send + 'static, name: &str) -> Output {
        let output = Output::default();
        let sink = output.clone();
        std::thread::Builder::new()
            .name(format!("certequiv-{name}"))
            .spawn(move || {
                // Read until EOF whatever happens, so the child never blocks on a full pipe.
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let (lock, cvar) = &*sink.inner;
                    lock.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .lines
                        .push(line);
                    cvar.notify_all();
                }
                let (lock, cvar) = &*sink.inner;
                lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
                cvar.notify_all();
            })
            .expect("spawn output reader thread");
        output
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.inner
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .lines
            .clone()
    }

    /// All lines so far, joined, for failure messages.
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    /// Blocks until the stream reaches EOF (the process closed it, usually by exiting); false
    /// when `timeout` passes first.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &*self.inner;
        let mut captured = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !captured.closed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            captured = cvar
                .wait_timeout(captured, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Blocks until a line matches `predicate` and returns it; `None` when the stream ends or
    /// `timeout` passes first.
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut predicate: impl FnMut(&str) -> bool,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &*self.inner;
        let mut captured = lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut checked = 0;
        loop {
            if let Some(line) = captured.lines[checked..].iter().find(|l| predicate(l)) {
                return Some(line.clone());
            }
            checked = captured.lines.len();
            let now = Instant::now();
            if captured.closed || now >= deadline {
                return None;
            }
            captured = cvar
                .wait_timeout(captured, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// A running `certequiv` process (any subcommand), with its output captured. Killed on drop.
pub struct Process {
    child: Child,
    pub stdout: Output,
    pub stderr: Output,
    exit: Option<ExitStatus>,
}

impl Process {
    /// Starts `certequiv <args>` without waiting for anything.
    pub fn start<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Process {
        Process::start_with_env(args, &[])
    }

    /// Like [`Process::start`], with these environment variables set (after the server's own
    /// are cleared).
    pub fn start_with_env<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, &str)]) -> Process {
        let mut command = Command::new(binary());
        command.args(args);
        Process::spawn(command, env)
    }

    /// Starts `command` (which runs the binary) with the test environment, these variables
    /// set, and captured output.
    pub fn spawn(mut command: Command, env: &[(&str, &str)]) -> Process {
        command
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in SERVER_ENV {
            command.env_remove(var);
        }
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("start the certequiv binary");
        let stdout = Output::capture(child.stdout.take().expect("piped stdout"), "stdout");
        let stderr = Output::capture(child.stderr.take().expect("piped stderr"), "stderr");
        Process {
            child,
            stdout,
            stderr,
            exit: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the process, e.g. `Signal::SIGTERM`.
    pub fn send_signal(&self, signal: Signal) {
        assert!(self.exit.is_none(), "process already exited");
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("send signal to the server");
    }

    /// Exit status if the process has exited, without blocking.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().expect("poll child status");
        }
        self.exit
    }

    /// Waits (polling every 10 ms) until the process exits; fails the test after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_exit() {
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "certequiv (pid {}) did not exit within {timeout:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.pid(),
                    self.stdout.text(),
                    self.stderr.text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Both streams, for failure messages.
    pub fn dump(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout.text(),
            self.stderr.text()
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.try_exit().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("certequiv pid {} output:\n{}", self.child.id(), self.dump());
        }
    }
}

/// A `certequiv serve` process that has logged `serving`.
pub struct App {
    pub process: Process,
    pub addr: SocketAddr,
    pub port: u16,
    /// Where `GET /metrics` answers.
    pub metrics_addr: Option<SocketAddr>,
    /// Where the HTTP/JSON API answers (`None` with `--http-listen ""`).
    pub http_addr: Option<SocketAddr>,
}

/// Like [`spawn_app_with`], the process limited to `descriptors` open files (`ulimit -n`).
pub fn spawn_app_with_fd_limit(descriptors: u32, extra: &[&str]) -> App {
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--log-format",
        "text",
    ];
    if !extra.contains(&"--http-listen") {
        args.extend(["--http-listen", "127.0.0.1:0"]);
    }
    args.extend_from_slice(extra);
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {descriptors} && exec \"$0\" \"$@\""))
        .arg(binary())
        .args(&args);
    wait_serving(Process::spawn(command, &[]))
}

/// Starts `certequiv serve --listen 127.0.0.1:0 --log-format text` with the embedded catalog
/// and waits until it is serving.
pub fn spawn_app() -> App {
    spawn_app_with(&[])
}

/// Like [`spawn_app`], with extra `serve` flags, e.g. `["--shutdown-grace", "2s"]`.
pub fn spawn_app_with(extra: &[&str]) -> App {
    spawn_app_with_env(extra, &[])
}

/// Like [`spawn_app_with`], with these environment variables set, e.g. `OTEL_*`.
pub fn spawn_app_with_env(extra: &[&str], env: &[(&str, &str)]) -> App {
    let mut args = vec![
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ];
    if !extra.contains(&"--log-format") {
        args.extend(["--log-format", "text"]);
    }
    // The default 0.0.0.0:8080 would collide between tests running at once.
    if !extra.contains(&"--http-listen") {
        args.extend(["--http-listen", "127.0.0.1:0"]);
    }
    args.extend_from_slice(extra);
    wait_serving(Process::start_with_env(&args, env))
}

/// Waits for a started server to log `serving` and reads its addresses.
fn wait_serving(process: Process) -> App {
    let Some(line) = process.stdout.wait_for(READY_TIMEOUT, is_serving_line) else {
        panic!(
            "certequiv did not log `serving` within {READY_TIMEOUT:?} (or exited)\n{}",
            process.dump()
        );
    };
    let addr = parse_addr(&line, "serving")
        .unwrap_or_else(|| panic!("no addr=<socket address> in the serving line: {line}"));
    // Logged before `serving`, so it is already captured.
    let metrics_addr = listening_addr(&process, "metrics listening");
    let http_addr = listening_addr(&process, "http listening");
    App {
        process,
        addr,
        port: addr.port(),
        metrics_addr,
        http_addr,
    }
}

/// The readiness line: the `serving` message with the bound address, in text
/// (`serving addr=…`) or JSON (`"message":"serving","addr":"…"`) format.
pub fn is_serving_line(line: &str) -> bool {
    parse_addr(line, "serving").is_some()
}

/// The address a listener logged before `serving` (`<what> addr=…`), if it did.
fn listening_addr(process: &Process, what: &str) -> Option<SocketAddr> {
    process
        .stdout
        .lines()
        .iter()
        .find_map(|l| parse_addr(l, what))
}

/// The `addr` field of `line` when it is the log event `message`.
fn parse_addr(line: &str, message: &str) -> Option<SocketAddr> {
    if line.starts_with('{') {
        let event: serde_json::Value = serde_json::from_str(line).ok()?;
        if event.get("message")?.as_str()? != message {
            return None;
        }
        return event.get("addr")?.as_str()?.parse().ok();
    }
    let (_, event) = line.split_once(": ")?;
    let fields = event.strip_prefix(message)?.strip_prefix(' ')?;
    fields
        .split(' ')
        .find_map(|field| field.strip_prefix("addr="))?
        .parse()
        .ok()
}

impl App {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new connection to the server.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint())
            .expect("valid endpoint")
            .connect_timeout(Duration::from_secs(10))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.endpoint()))
    }

    pub async fn certificates(&self) -> CertificateServiceClient<Channel> {
        CertificateServiceClient::new(self.channel().await)
    }

    pub async fn equivalence(&self) -> EquivalenceServiceClient<Channel> {
        EquivalenceServiceClient::new(self.channel().await)
    }

    pub async fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel().await)
    }

    pub fn send_signal(&self, signal: Signal) {
        self.process.send_signal(signal);
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        self.process.wait_exit(timeout)
    }

    /// Every stdout line (the server logs there) so far.
    pub fn logs(&self) -> Vec<String> {
        self.process.stdout.lines()
    }

    /// Waits until a log line matches `predicate`; fails the test after `timeout`.
    pub fn wait_for_log(&self, timeout: Duration, predicate: impl FnMut(&str) -> bool) -> String {
        self.process
            .stdout
            .wait_for(timeout, predicate)
            .unwrap_or_else(|| {
                panic!(
                    "no matching log line within {timeout:?}\n{}",
                    self.process.dump()
                )
            })
    }
}

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "certequiv-e2e-{label}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
