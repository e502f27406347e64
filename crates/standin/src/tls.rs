//! HTTPS for the stand-ins: a certificate authority, a server certificate for 127.0.0.1 and a
//! client certificate, generated (rcgen) on first use into a directory (`--certs DIR`) and read
//! from there afterwards, so the demo and the tests can hand the client its certificate; and a
//! serve loop that tells each request whether its connection showed a client certificate from
//! that CA (rustls checks it), as KOMBIT's token service wants.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::{Extension, Router};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The files in a certificate directory.
pub const CA_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca-key.pem";
pub const SERVER_FILE: &str = "server.pem";
pub const SERVER_KEY_FILE: &str = "server-key.pem";
pub const CLIENT_FILE: &str = "client.pem";
pub const CLIENT_KEY_FILE: &str = "client-key.pem";
/// The stand-in STS's signing certificate and key (its SAML tokens are signed with them).
pub const STS_FILE: &str = "sts.pem";
pub const STS_KEY_FILE: &str = "sts-key.pem";

/// The stand-ins' certificates, as PEM.
#[derive(Clone)]
pub struct StandInCerts {
    pub dir: PathBuf,
    pub ca_pem: String,
    server_pem: String,
    server_key_pem: String,
}

impl std::fmt::Debug for StandInCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandInCerts").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{}: {e}", path.display()))
}

fn generated(e: rcgen::Error) -> io::Error {
    io::Error::other(format!("cannot generate the stand-in certificates: {e}"))
}

impl StandInCerts {
    /// Reads the certificates in `dir`, or generates them there when `ca.pem` is missing.
    pub fn load_or_create(dir: &Path) -> io::Result<StandInCerts> {
        if !dir.join(CA_FILE).exists() {
            Self::create(dir)?;
        }
        // Directories written before the stand-in had an STS get its certificate now.
        if !dir.join(STS_FILE).exists() {
            Self::create_sts(dir)?;
        }
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))
        };
        Ok(StandInCerts {
            dir: dir.to_path_buf(),
            ca_pem: read(CA_FILE)?,
            server_pem: read(SERVER_FILE)?,
            server_key_pem: read(SERVER_KEY_FILE)?,
        })
    }

    fn create(dir: &Path) -> io::Result<()> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
        };
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let ca_key = KeyPair::generate().map_err(generated)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(generated)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name.push(DnType::CommonName, "sorsync stand-in CA (test only)");
        let ca_cert = ca.self_signed(&ca_key).map_err(generated)?;

        let server_key = KeyPair::generate().map_err(generated)?;
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).map_err(generated)?;
        server.distinguished_name.push(DnType::CommonName, "sorsync stand-in");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key).map_err(generated)?;

        let client_key = KeyPair::generate().map_err(generated)?;
        let mut client = CertificateParams::new(Vec::<String>::new()).map_err(generated)?;
        client.distinguished_name.push(DnType::CommonName, "sorsync test system (FOCES stand-in)");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &ca_cert, &ca_key).map_err(generated)?;

        let files = [
            (CA_FILE, ca_cert.pem()),
            (CA_KEY_FILE, ca_key.serialize_pem()),
            (SERVER_FILE, server_cert.pem()),
            (SERVER_KEY_FILE, server_key.serialize_pem()),
            (CLIENT_FILE, client_cert.pem()),
            (CLIENT_KEY_FILE, client_key.serialize_pem()),
        ];
        for (name, pem) in files {
            write_file(&dir.join(name), &pem, name.ends_with("-key.pem"))?;
        }
        tracing::info!(dir = %dir.display(), "Stand-in certificates generated.");
        Ok(())
    }

    /// The STS's own signing certificate (self-signed: FK-ORG's services trust the STS by its
    /// certificate, not through a CA).
    fn create_sts(dir: &Path) -> io::Result<()> {
        use rcgen::{CertificateParams, DnType, KeyPair};
        let key = KeyPair::generate().map_err(generated)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(generated)?;
        params.distinguished_name.push(DnType::CommonName, "sorsync stand-in STS (test only)");
        let cert = params.self_signed(&key).map_err(generated)?;
        write_file(&dir.join(STS_FILE), &cert.pem(), false)?;
        write_file(&dir.join(STS_KEY_FILE), &key.serialize_pem(), true)
    }

    /// What the stand-in needs for OIOIDWS: the CA that client certificates must come from and
    /// the STS's signing identity.
    pub fn security(&self) -> io::Result<Arc<super::sts::Security>> {
        let read = |name: &str| {
            let path = self.dir.join(name);
            std::fs::read(&path).map_err(|e| io_err(&path, e))
        };
        let ca =
            openssl::x509::X509::from_pem(self.ca_pem.as_bytes()).map_err(|e| io_err(&self.dir.join(CA_FILE), e))?;
        let sts = crate::sources::oioidws::Identity::from_pem(
            &read(STS_FILE)?,
            &read(STS_KEY_FILE)?,
            &format!("{}", self.dir.join(STS_FILE).display()),
        )
        .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Arc::new(super::sts::Security::new(ca, sts)))
    }

    /// The client certificate file (for `fkorg.client_certificate`).
    pub fn client_certificate(&self) -> PathBuf {
        self.dir.join(CLIENT_FILE)
    }

    /// The client key file (for `fkorg.client_key`).
    pub fn client_key(&self) -> PathBuf {
        self.dir.join(CLIENT_KEY_FILE)
    }

    /// The CA file (for `fkorg.ca_certificate`).
    pub fn ca_certificate(&self) -> PathBuf {
        self.dir.join(CA_FILE)
    }

    /// A TLS server configuration: the server certificate, and client certificates from the CA
    /// checked when shown (a connection without one is let through; the token endpoint refuses it).
    pub fn server_config(&self) -> io::Result<Arc<rustls::ServerConfig>> {
        let bad = |what: &str, e: &dyn std::fmt::Display| io_err(&self.dir, format!("{what}: {e}"));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            let cert = cert.map_err(|e| bad(CA_FILE, &e))?;
            roots.add(cert).map_err(|e| bad(CA_FILE, &e))?;
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| bad("client verifier", &e))?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(self.server_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| bad(SERVER_FILE, &e))?;
        let key =
            PrivateKeyDer::from_pem_slice(self.server_key_pem.as_bytes()).map_err(|e| bad(SERVER_KEY_FILE, &e))?;
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad("TLS versions", &e))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| bad(SERVER_FILE, &e))?;
        Ok(Arc::new(config))
    }
}

/// Writes `text` to `path`; a private key is readable by its owner only (0600).
fn write_file(path: &Path, text: &str, secret: bool) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = secret;
    let mut file = options.open(path).map_err(|e| io_err(path, e))?;
    file.write_all(text.as_bytes()).map_err(|e| io_err(path, e))
}

/// Whether the request's connection showed a client certificate that the CA vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientCertificate(pub bool);

/// Serves `app` over TLS on `listener`; every request carries a [`ClientCertificate`] extension.
/// A connection that fails the handshake (e.g. a certificate from another CA) is dropped.
pub async fn serve_tls(listener: tokio::net::TcpListener, app: Router, config: Arc<rustls::ServerConfig>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let (tcp, peer): (tokio::net::TcpStream, SocketAddr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let stream = match acceptor.accept(tcp).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let shown = stream.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
            let app = app.layer(Extension(ClientCertificate(shown)));
            let service = hyper_util::service::TowerToHyperService::new(app);
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
}
