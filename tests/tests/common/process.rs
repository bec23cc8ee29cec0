//! The real binary as a child process, for what only a process shows: signals and exit codes,
//! log output, the environment it reads (tracing), descriptor limits and memory (attacks), and
//! the CLI subcommands. Tests that only call the API use [`super::in_process`].
//!
//! # Which binary
//!
//! `certequiv-under-test`, built by Cargo before the tests like any binary of this package
//! (tests/Cargo.toml): it is compiled from crates/server/src/main.rs, so it is `certequiv`
//! under another name, and it is started with `argv[0]` `certequiv`, so clap's messages read
//! as the real binary's (`Usage: certequiv serve …`). `CERTEQUIV_BIN` overrides it, e.g. with
//! `target/release/certequiv` for the attack suite's full mode (a relative path is taken from
//! the workspace root, where the binary runs).
//!
//! # Readiness
//!
//! The server logs its bound addresses and then `serving` once the health service reports
//! SERVING ([`super::readiness`]). [`spawn_app`] waits for that line (no sleeps) and takes the
//! ports from the log. Stdout and stderr are drained by background threads for the whole life
//! of the process, so the pipes never fill, and every line is kept for assertions
//! ([`Output`]).
//!
//! The waiting helpers ([`App::wait_exit`], [`Output::wait_for`]) block the calling thread: in
//! a test that keeps client streams in flight while waiting, use
//! `#[tokio::test(flavor = "multi_thread")]` so the client's connection keeps being driven.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub use nix::sys::signal::Signal;

use super::env::server_env;
use super::readiness::logged_addr;
use super::{READY_TIMEOUT, Running, workspace_root};

/// Path of the binary the tests start (see the module documentation).
pub fn binary() -> PathBuf {
    std::env::var_os("CERTEQUIV_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_certequiv-under-test")))
}

/// `certequiv` as a command to configure and run: the binary, named `certequiv` in its
/// `argv[0]`, in the workspace root, with none of the variables the server reads
/// ([`server_env`]).
pub fn command() -> Command {
    let mut command = Command::new(binary());
    command.arg0("certequiv");
    isolate(&mut command);
    command
}

/// Runs `command` in the workspace root without the variables the server reads.
fn isolate(command: &mut Command) {
    command.current_dir(workspace_root());
    for var in server_env() {
        command.env_remove(var);
    }
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
        let mut command = command();
        command.args(args);
        Process::spawn(command, env)
    }

    /// Starts `command` (which runs the binary) with the test environment, these variables
    /// set, and captured output.
    pub fn spawn(mut command: Command, env: &[(&str, &str)]) -> Process {
        isolate(&mut command);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .envs(env.iter().copied());
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
    /// The plaintext health port (`--health-listen`), if one was asked for.
    pub health_addr: Option<SocketAddr>,
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
    let Some(line) = process
        .stdout
        .wait_for(READY_TIMEOUT, |l| logged_addr(l, "serving").is_some())
    else {
        panic!(
            "certequiv did not log `serving` within {READY_TIMEOUT:?} (or exited)\n{}",
            process.dump()
        );
    };
    let addr = logged_addr(&line, "serving").expect("the line was chosen for its address");
    // Logged before `serving`, so already captured.
    let listening = |what: &str| {
        process
            .stdout
            .lines()
            .iter()
            .find_map(|line| logged_addr(line, what))
    };
    let metrics_addr = listening("metrics listening");
    let http_addr = listening("http listening");
    let health_addr = listening("health listening");
    App {
        process,
        addr,
        port: addr.port(),
        metrics_addr,
        http_addr,
        health_addr,
    }
}

impl Running for App {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }
}

impl App {
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
