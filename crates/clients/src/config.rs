//! The configuration sections of the register clients (`[fkorg]`, `[sor]` in `sorsync.toml`).
//! The whole file is read by `sorsync_app::config`, which re-exports these.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The SOR update service (SORUS), written to by `sorsync apply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SorConfig {
    /// The SORUS SOAP endpoint. The default points at the local stand-in (`sorsync stand-in sor`).
    pub url: String,
    /// Seconds before a request (sending and reading the whole answer) times out.
    pub timeout_secs: u64,
    /// Seconds to wait for a connection.
    pub connect_timeout_secs: u64,
}

impl Default for SorConfig {
    fn default() -> Self {
        SorConfig {
            url: "http://127.0.0.1:8702/sor-opdatering/v3/SOROpdateringService".to_string(),
            timeout_secs: 30,
            connect_timeout_secs: 10,
        }
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FkOrgConfig {
    /// The GraphQL endpoint, `.../organisation/organisationhent/1`.
    pub endpoint: String,
    /// OAuth2 client-credentials token endpoint.
    pub token_url: String,
    /// Where FK-ORG's SOAP services "Organisation 6" live (`<soap_url>adresse/6/`,
    /// `<soap_url>organisationenhed/6/`), used to write SOR-IDs back. None (the default): the
    /// `/organisation/` folder of `endpoint`'s host, as on FK-ORG itself.
    pub soap_url: Option<String>,
    /// KOMBIT's STS for the SOAP calls' OIOIDWS tokens. None (the default): the STS path
    /// (`/runtime/services/kombittrust/14/certificatemixed`) on `token_url`'s host.
    pub sts_url: Option<String>,
    /// The system's certificate (PEM): TLS client authentication at the token service and the
    /// STS, and the signature on every SOAP call. With `client_key`; or use `client_pkcs12`.
    pub client_certificate: Option<PathBuf>,
    /// The certificate's private key (PEM). Never logged.
    pub client_key: Option<PathBuf>,
    /// Certificate and key in one PKCS#12 file (`.p12`/`.pfx`), instead of the two PEM files.
    pub client_pkcs12: Option<PathBuf>,
    /// The PKCS#12 file's password: only from `SORSYNC_FKORG_PKCS12_PASSWORD`, never in the file.
    #[serde(skip)]
    pub client_pkcs12_password: Option<String>,
    /// An extra CA to trust (PEM), e.g. the stand-ins' `ca.pem` from `--certs DIR`.
    pub ca_certificate: Option<PathBuf>,
    /// No longer used (tokens go to the certificate); refused with a message naming the new keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// No longer used (tokens go to the certificate); refused with a message naming the new keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Scope chosen in FK-ORG, for municipalities whose wave plan names none (`scope.it_systems`,
    /// `scope.kle`): units assigned to these IT systems ...
    pub it_systems: Vec<uuid::Uuid>,
    /// ... and/or with these KLE tasks ("29.09.00"), as `organisationEnhedListe` filters them.
    pub kle: Vec<String>,
    /// Page size for `organisationEnhedListe` / `brugerListe` (at most 500).
    pub page_size: u32,
    pub timeout_secs: u64,
    /// Retries on timeouts and 5xx, with exponential backoff.
    pub max_retries: u32,
}

impl Default for FkOrgConfig {
    fn default() -> Self {
        FkOrgConfig {
            endpoint: "https://127.0.0.1:8701/organisation/organisationhent/1".to_string(),
            token_url: "https://127.0.0.1:8701/runtime/api/rest/oauth/v1/issue".to_string(),
            soap_url: None,
            sts_url: None,
            client_certificate: None,
            client_key: None,
            client_pkcs12: None,
            client_pkcs12_password: None,
            ca_certificate: None,
            client_id: None,
            client_secret: None,
            it_systems: Vec::new(),
            kle: Vec::new(),
            page_size: 500,
            timeout_secs: 30,
            max_retries: 5,
        }
    }
}

impl std::fmt::Debug for FkOrgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FkOrgConfig")
            .field("endpoint", &self.endpoint)
            .field("token_url", &self.token_url)
            .field("soap_url", &self.soap_url)
            .field("client_certificate", &self.client_certificate)
            .field("sts_url", &self.sts_url)
            .field("client_key", &self.client_key)
            .field("client_pkcs12", &self.client_pkcs12)
            .field("client_pkcs12_password", &self.client_pkcs12_password.as_ref().map(|_| "***"))
            .field("ca_certificate", &self.ca_certificate)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("it_systems", &self.it_systems)
            .field("kle", &self.kle)
            .field("page_size", &self.page_size)
            .field("timeout_secs", &self.timeout_secs)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}
