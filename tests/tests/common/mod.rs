//! Test harness: starts a server on port 0 and talks to it over gRPC and HTTP as a client
//! would. Each test file takes the pieces it needs, so not every item is used everywhere.
//!
//! Two ways to start a server, one way to call it ([`Running`]):
//!
//! - [`in_process`]: `certequiv_server::run` on port-0 listeners inside the test process, ready
//!   once `grpc.health.v1.Health/Check` says SERVING. For tests of what the API answers: no
//!   process to start, no log to parse.
//! - [`process`]: the real binary as a child process, ready once it logs `serving`. For what
//!   only a process shows: signals and exit codes, log output, the environment it reads,
//!   descriptor limits and memory, the CLI subcommands.
//!
//! [`readiness`] reads bound addresses from the binary's log, [`env`] lists the environment
//! variables cleared before the binary starts; tests/tests/harness.rs tests both.
#![allow(dead_code)]

pub mod env;
pub mod in_process;
pub mod process;
pub mod readiness;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use certequiv_api::v1::certificate_service_client::CertificateServiceClient;
use certequiv_api::v1::equivalence_service_client::EquivalenceServiceClient;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;

/// How long a server may take to be ready before the test fails.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A server a test can call, however it was started.
#[allow(async_fn_in_trait)]
pub trait Running {
    /// The gRPC port.
    fn addr(&self) -> SocketAddr;

    /// The HTTP/JSON port, if the server has one.
    fn http_addr(&self) -> Option<SocketAddr>;

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// A new connection to the gRPC port.
    async fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint())
            .expect("valid endpoint")
            .connect_timeout(Duration::from_secs(10))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.endpoint()))
    }

    async fn certificates(&self) -> CertificateServiceClient<Channel> {
        CertificateServiceClient::new(self.channel().await)
    }

    async fn equivalence(&self) -> EquivalenceServiceClient<Channel> {
        EquivalenceServiceClient::new(self.channel().await)
    }

    async fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel().await)
    }
}

/// The workspace root (`tests/..`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
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
