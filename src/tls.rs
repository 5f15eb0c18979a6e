//! The TLS certificate, reloaded in place: on SIGHUP and when the certificate or key file
//! changes (certbot and similar tools renew in place). New handshakes get the new
//! certificate; connections already open keep theirs. A new pair that does not load (bad
//! PEM, a key that does not match the certificate, a file half-written) keeps the current
//! one serving and logs why; it is tried again when the files change again or on SIGHUP.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// What the server hands every handshake: the current certificate, swapped atomically.
#[derive(Debug)]
pub struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        )
    }
}

/// Reads a PEM certificate chain and private key, and checks that they belong together.
pub fn load_pair(cert: &Path, key: &Path) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing the certificates of {}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no certificate", cert.display());
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the private key of {}", key.display()))?;
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    CertifiedKey::from_der(chain, key_der, &provider).with_context(|| {
        format!(
            "{} and {} do not form a usable pair",
            cert.display(),
            key.display()
        )
    })
}

impl ReloadingCert {
    /// Loads the pair; an error here stops the start.
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Arc<Self>> {
        let current = load_pair(cert, key)?;
        Ok(Arc::new(Self {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(Arc::new(current)),
        }))
    }

    /// Loads the files again; on failure the current pair stays and the error is returned.
    pub fn reload(&self) -> anyhow::Result<()> {
        let fresh = load_pair(&self.cert, &self.key)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(fresh);
        Ok(())
    }

    /// The rustls configuration serving this certificate (HTTP/2 and HTTP/1.1 by ALPN).
    pub fn server_config(self: &Arc<Self>) -> rustls::ServerConfig {
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        config
    }

    fn stamp(&self) -> Stamp {
        (file_stamp(&self.cert), file_stamp(&self.key))
    }

    fn reload_logged(&self, why: &str) {
        match self.reload() {
            Ok(()) => tracing::info!(cert = %self.cert.display(), why, "TLS certificate reloaded"),
            Err(e) => tracing::error!(
                cert = %self.cert.display(),
                why,
                error = format!("{e:#}"),
                "TLS certificate not reloaded; the current one keeps serving"
            ),
        }
    }

    /// Reloads on SIGHUP, and when the files' modification time or length changes (checked
    /// every `every`). The SIGHUP handler is installed before this returns (from then on the
    /// signal no longer ends the process); the returned future runs until dropped.
    pub fn watch(self: Arc<Self>, every: Duration) -> impl Future<Output = ()> + Send {
        #[cfg(unix)]
        let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        #[cfg(not(unix))]
        let hup: Option<()> = None;
        self.watch_with(every, hup)
    }

    async fn watch_with(
        self: Arc<Self>,
        every: Duration,
        #[cfg(unix)] mut hup: Option<tokio::signal::unix::Signal>,
        #[cfg(not(unix))] _hup: Option<()>,
    ) {
        let mut seen = self.stamp();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            #[cfg(unix)]
            let signal = async {
                match hup.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let signal = std::future::pending::<Option<()>>();
            tokio::select! {
                _ = signal => {
                    seen = self.stamp();
                    self.reload_logged("SIGHUP");
                }
                _ = tick.tick() => {
                    let now = self.stamp();
                    if now != seen {
                        seen = now;
                        self.reload_logged("the files changed");
                    }
                }
            }
        }
    }
}

type Stamp = (Option<(SystemTime, u64)>, Option<(SystemTime, u64)>);

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}
