//! TLS for the API port: certificate chain, key and (for mutual TLS) client CA read from PEM
//! files, and re-read when they change, so a certificate rotated by cert-manager is served
//! without a restart.
//!
//! The reload rule is the catalogs': the new files are loaded and validated in full, and only a
//! configuration that builds replaces the one in use; a bad or half-written set keeps the
//! previous one and says why in the log and `certequiv_tls_reloads_total{result="refused"}`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};

use crate::file_stamp::FileStamp;

/// Where the TLS material comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// With a client CA, clients must present a certificate it signed.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    fn paths(&self) -> impl Iterator<Item = &Path> {
        [Some(self.cert.as_path()), Some(self.key.as_path())]
            .into_iter()
            .chain(std::iter::once(self.client_ca.as_deref()))
            .flatten()
    }

    fn stamps(&self) -> Vec<FileStamp> {
        self.paths().map(FileStamp::of).collect()
    }
}

/// The TLS configuration in use, replaced whole when the files change and the new set loads.
#[derive(Debug)]
pub struct ReloadableTls {
    files: TlsFiles,
    alpn: Vec<Vec<u8>>,
    config: ArcSwap<ServerConfig>,
    stamps: Mutex<Vec<FileStamp>>,
}

impl ReloadableTls {
    /// Loads the files; fails (and the server does not start) when they do not make a
    /// configuration. `alpn` lists the application protocols offered, e.g. `h2`.
    pub fn load(files: TlsFiles, alpn: &[&[u8]]) -> Result<Arc<ReloadableTls>, String> {
        let alpn: Vec<Vec<u8>> = alpn.iter().map(|p| p.to_vec()).collect();
        let stamps = files.stamps();
        let config = build(&files, &alpn)?;
        Ok(Arc::new(ReloadableTls {
            files,
            alpn,
            config: ArcSwap::from_pointee(config),
            stamps: Mutex::new(stamps),
        }))
    }

    /// The configuration for a connection accepted now.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.config.load_full()
    }

    pub fn mutual(&self) -> bool {
        self.files.client_ca.is_some()
    }

    /// Re-reads the files when one of them changed; returns whether a new configuration was
    /// taken.
    pub fn refresh(&self) -> bool {
        let now = self.files.stamps();
        {
            let mut last = self.stamps.lock().unwrap_or_else(PoisonError::into_inner);
            if *last == now {
                return false;
            }
            *last = now;
        }
        match build(&self.files, &self.alpn) {
            Ok(config) => {
                self.config.store(Arc::new(config));
                metrics::counter!("certequiv_tls_reloads_total", "result" => "loaded").increment(1);
                tracing::info!(cert = %self.files.cert.display(), "tls certificate reloaded");
                true
            }
            Err(error) => {
                metrics::counter!("certequiv_tls_reloads_total", "result" => "refused")
                    .increment(1);
                tracing::error!(%error, "tls files not reloaded, keeping the certificate in use");
                false
            }
        }
    }

    /// Checks the files every `every` until the task is dropped.
    pub async fn watch(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.refresh();
        }
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no PEM certificate in the file",
            path.display()
        ));
    }
    Ok(certs)
}

fn build(files: &TlsFiles, alpn: &[Vec<u8>]) -> Result<ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = read_certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("{}: no usable private key: {e}", files.key.display()))?;
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls protocol versions: {e}"))?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs(ca)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", ca.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("{}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!(
            "{} and {} do not make a certificate and key pair: {e}",
            files.cert.display(),
            files.key.display()
        )
    })?;
    config.alpn_protocols = alpn.to_vec();
    Ok(config)
}

/// The subject of a peer's certificate, e.g. `CN=hr-platform,O=Example`.
pub fn subject_of(certificate: &[u8]) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate).ok()?;
    Some(parsed.subject().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let (cert_path, key_path) = (dir.join("tls.crt"), dir.join("tls.key"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }

    #[test]
    fn a_changed_pair_is_taken_and_a_broken_one_keeps_the_previous() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_pair(dir.path(), "one.example");
        let tls = ReloadableTls::load(
            TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: None,
            },
            &[b"h2"],
        )
        .unwrap();
        let first = tls.current();
        assert!(!tls.refresh(), "nothing changed");

        std::thread::sleep(Duration::from_millis(20));
        write_pair(dir.path(), "two.example");
        assert!(tls.refresh());
        assert!(!Arc::ptr_eq(&first, &tls.current()));
        assert_eq!(tls.current().alpn_protocols, vec![b"h2".to_vec()]);

        let second = tls.current();
        std::fs::write(&key, "not a key").unwrap();
        assert!(!tls.refresh(), "a broken key is refused");
        assert!(Arc::ptr_eq(&second, &tls.current()));
    }

    #[test]
    fn missing_or_empty_files_are_refused_with_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let error = ReloadableTls::load(
            TlsFiles {
                cert: empty.clone(),
                key: empty.clone(),
                client_ca: None,
            },
            &[],
        )
        .unwrap_err();
        assert!(error.contains("empty.pem"), "{error}");
    }
}
