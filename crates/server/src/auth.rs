//! Who may call: bearer tokens from a file, and the caller's identity for the audit event.
//!
//! TLS and mutual TLS are the transport's (`crate::tls`, `crate::transport`). Tokens are off by
//! default. Health (`grpc.health.v1`) never needs a token: Kubernetes probes send none. Tokens
//! are compared as SHA-256 digests in constant time, against every known token, so neither a
//! token's length nor which one almost matched leaks through timing.
//!
//! The tokens file is a secret: it is refused when other users may read or write it (mount
//! Kubernetes Secrets with `defaultMode: 0400` or `0440`). It is re-read when it changes; a
//! file that does not parse keeps the tokens in use, and a file that disappears (or turns
//! readable by others) refuses every call until a good one is back: failing closed.

use std::fs;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use arc_swap::ArcSwap;
use http::{Request, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tower::{Layer, Service};

use crate::file_stamp::FileStamp;
use crate::transport::ConnInfo;

/// The authenticated caller of a request, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

/// The caller of a request: the token's caller name, else the client certificate's subject.
pub fn caller<T>(request: &tonic::Request<T>) -> Option<String> {
    let extensions = request.extensions();
    extensions.get::<Caller>().map(|c| c.0.clone()).or_else(|| {
        extensions
            .get::<ConnInfo>()
            .and_then(|c| c.peer_subject.as_deref().map(str::to_owned))
    })
}

#[derive(Debug, Default)]
struct Tokens {
    /// (caller name, SHA-256 of the token)
    entries: Vec<(String, [u8; 32])>,
}

impl Tokens {
    fn parse(text: &str) -> Result<Tokens, String> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(caller), Some(token), None) => {
                    entries.push((caller.to_owned(), Sha256::digest(token.as_bytes()).into()));
                }
                _ => return Err(format!("line {}: expected `CALLER_NAME TOKEN`", n + 1)),
            }
        }
        if entries.is_empty() {
            return Err("no tokens: every call would be refused".into());
        }
        Ok(Tokens { entries })
    }

    fn caller(&self, presented: &[u8]) -> Option<&str> {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let mut found = None;
        // No early exit: the time taken does not depend on which entry matches.
        for (caller, expected) in &self.entries {
            if bool::from(expected.ct_eq(&digest)) {
                found = Some(caller.as_str());
            }
        }
        found
    }
}

/// The tokens file, re-read when it changes.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    tokens: ArcSwap<Tokens>,
    stamp: std::sync::Mutex<FileStamp>,
}

impl TokenFile {
    pub fn open(path: &Path) -> Result<Arc<TokenFile>, String> {
        let stamp = FileStamp::of(path);
        let tokens = read_tokens(path)?;
        Ok(Arc::new(TokenFile {
            path: path.to_owned(),
            tokens: ArcSwap::from_pointee(tokens),
            stamp: std::sync::Mutex::new(stamp),
        }))
    }

    /// Re-reads the file when it changed: a good file replaces the tokens, a bad one keeps
    /// them, a missing or exposed one refuses every call.
    pub fn refresh(&self) {
        let now = FileStamp::of(&self.path);
        {
            let mut last = self
                .stamp
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if *last == now {
                return;
            }
            *last = now.clone();
        }
        if !now.exists() {
            self.tokens.store(Arc::new(Tokens::default()));
            tracing::error!(path = %self.path.display(), "auth tokens file is gone: every call is refused until it is back");
            return;
        }
        match read_tokens(&self.path) {
            Ok(tokens) => {
                tracing::info!(callers = tokens.entries.len(), "auth tokens reloaded");
                self.tokens.store(Arc::new(tokens));
            }
            Err(error) if error.contains(EXPOSED) => {
                self.tokens.store(Arc::new(Tokens::default()));
                tracing::error!(%error, "auth tokens file is exposed: every call is refused until it is fixed");
            }
            Err(error) => {
                tracing::error!(%error, path = %self.path.display(), "auth tokens not reloaded, keeping the previous ones")
            }
        }
    }

    /// Polls the file until the task is dropped.
    pub async fn watch(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            self.refresh();
        }
    }

    fn caller(&self, presented: &[u8]) -> Option<String> {
        self.tokens.load().caller(presented).map(str::to_owned)
    }
}

const EXPOSED: &str = "other users may read or write it";

/// Reads and parses the tokens file, refusing one that others may read or write.
fn read_tokens(path: &Path) -> Result<Tokens, String> {
    check_private(path)?;
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Tokens::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o007 != 0 {
        return Err(format!(
            "{} has mode {:o}: {EXPOSED}; make it 0600, 0400 or 0440 (Kubernetes: defaultMode)",
            path.display(),
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), String> {
    Ok(())
}

/// Refuses calls without a known bearer token, except health checks.
#[derive(Debug, Clone)]
pub struct TokenLayer {
    tokens: Arc<TokenFile>,
}

impl TokenLayer {
    pub fn new(tokens: Arc<TokenFile>) -> TokenLayer {
        TokenLayer { tokens }
    }
}

impl<S> Layer<S> for TokenLayer {
    type Service = TokenAuth<S>;

    fn layer(&self, inner: S) -> TokenAuth<S> {
        TokenAuth {
            inner,
            tokens: Arc::clone(&self.tokens),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TokenAuth<S> {
    inner: S,
    tokens: Arc<TokenFile>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> Service<Request<B>> for TokenAuth<S>
where
    S: Service<Request<B>, Response = Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        if request.uri().path().starts_with("/grpc.health.v1.Health/") {
            return Box::pin(self.inner.call(request));
        }
        let presented = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .map(<[u8]>::to_vec);
        match presented.and_then(|token| self.tokens.caller(&token)) {
            Some(caller) => {
                request.extensions_mut().insert(Caller(caller));
                Box::pin(self.inner.call(request))
            }
            None => {
                // One answer for a missing and a wrong token: no hint which part was wrong.
                let status = tonic::Status::unauthenticated("missing or invalid credentials");
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_file_parses_comments_and_refuses_garbage() {
        let parsed =
            Tokens::parse("# platform tokens\nhr-platform s3cret # prod\n\nbatch-import t0k3n\n");
        let Ok(tokens) = parsed else {
            panic!("valid file refused: {parsed:?}");
        };
        assert_eq!(tokens.caller(b"s3cret"), Some("hr-platform"));
        assert_eq!(tokens.caller(b"t0k3n"), Some("batch-import"));
        assert_eq!(tokens.caller(b"s3cre"), None);
        assert_eq!(tokens.caller(b""), None);
        assert!(Tokens::parse("only-one-field\n").is_err());
        assert!(Tokens::parse("a b c\n").is_err());
        assert!(Tokens::parse("# nothing\n").is_err());
    }

    #[cfg(unix)]
    fn write_private(path: &Path, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        fs::write(path, text).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_deleted_or_exposed_tokens_file_refuses_every_call_until_fixed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        write_private(&path, "hr-platform s3cret\n");
        let file = TokenFile::open(&path).unwrap();
        assert_eq!(file.caller(b"s3cret").as_deref(), Some("hr-platform"));

        fs::remove_file(&path).unwrap();
        file.refresh();
        assert_eq!(
            file.caller(b"s3cret"),
            None,
            "fails closed when the file is gone"
        );

        write_private(&path, "hr-platform n3w\n");
        file.refresh();
        assert_eq!(file.caller(b"n3w").as_deref(), Some("hr-platform"));

        fs::write(&path, "broken line with three fields\n").unwrap();
        file.refresh();
        assert_eq!(
            file.caller(b"n3w").as_deref(),
            Some("hr-platform"),
            "a bad file keeps the tokens"
        );

        write_private(&path, "hr-platform n3w\n");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        file.refresh();
        assert_eq!(
            file.caller(b"n3w"),
            None,
            "an exposed file refuses every call"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_tokens_file_others_can_read_is_refused_at_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        write_private(&path, "hr-platform s3cret\n");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o604)).unwrap();
        let error = TokenFile::open(&path).unwrap_err();
        assert!(error.contains("mode 604"), "{error}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o440)).unwrap();
        assert!(TokenFile::open(&path).is_ok(), "group-readable is allowed");
    }
}
