//! Who may call: TLS/mutual TLS on the API port, and bearer tokens from a file.
//!
//! Both are off by default. Health (`grpc.health.v1`) never needs a token: Kubernetes probes
//! send none. Tokens are compared as SHA-256 digests in constant time, against every known
//! token, so neither a token's length nor which one almost matched leaks through timing.

use std::fs;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use http::{Request, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tower::{Layer, Service};

/// The authenticated caller of a request, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

/// Reads the TLS files into tonic's config; with a client CA, clients must present a
/// certificate it signed.
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<ServerTlsConfig, String> {
    let read =
        |path: &Path| fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let mut config = ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?));
    if let Some(ca) = client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(config)
}

/// The subject of the first peer certificate, e.g. `CN=hr-platform,O=Example`.
pub fn peer_subject<T>(request: &tonic::Request<T>) -> Option<String> {
    let certs = request.peer_certs()?;
    subject(certs.first()?.as_ref())
}

/// The subject of a DER-encoded certificate (the HTTP port reads its clients' this way).
pub fn subject(der: &[u8]) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(parsed.subject().to_string())
}

/// The caller of a request: the token's caller name, else the client certificate's subject.
pub fn caller<T>(request: &tonic::Request<T>) -> Option<String> {
    request
        .extensions()
        .get::<Caller>()
        .map(|c| c.0.clone())
        .or_else(|| peer_subject(request))
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
    modified: std::sync::Mutex<Option<SystemTime>>,
}

impl TokenFile {
    pub fn open(path: &Path) -> Result<Arc<TokenFile>, String> {
        let text =
            fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let tokens = Tokens::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Arc::new(TokenFile {
            path: path.to_owned(),
            tokens: ArcSwap::from_pointee(tokens),
            modified: std::sync::Mutex::new(modified(path)),
        }))
    }

    /// Re-reads the file when its modification time changed; a bad file keeps the old tokens.
    pub fn refresh(&self) {
        let now = modified(&self.path);
        {
            let mut last = self
                .modified
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if *last == now {
                return;
            }
            *last = now;
        }
        match fs::read_to_string(&self.path)
            .map_err(|e| e.to_string())
            .and_then(|text| Tokens::parse(&text))
        {
            Ok(tokens) => {
                tracing::info!(callers = tokens.entries.len(), "auth tokens reloaded");
                self.tokens.store(Arc::new(tokens));
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

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
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
}
