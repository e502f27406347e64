//! Configuration: a TOML file (`sorsync.toml`, written by `sorsync init`) plus environment overrides.
//! Passed explicitly; there is no global state.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use sorsync_clients::config::{FkOrgConfig, SorConfig};

/// Everything sorsync can be configured with.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub store: StoreConfig,
    pub fkorg: FkOrgConfig,
    pub sor: SorConfig,
    pub review: ReviewConfig,
    pub apply: ApplyConfig,
    /// `[saml]`: sign-in through KOMBIT's Adgangsstyring (the Context Handler) or the stand-in IdP.
    /// Absent: local accounts only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saml: Option<SamlConfig>,
    /// `[web]`: the web app's sign-in options that are not SAML (the authenticating proxy).
    pub web: WebSignInConfig,
    /// `[policy]`: who decides what (see `matching::policy::SyncPolicy`); keys `link_auto_min`,
    /// `name`, `address`, `phone`, `email`, `move`, `close`, `create`, `not_in_sor`. Keys left out
    /// keep the careful defaults; the wave plan can override them per municipality.
    pub policy: std::collections::BTreeMap<String, toml::Value>,
}

/// `[saml]`: this installation as a SAML 2.0 service provider (OIOSAML 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlConfig {
    /// The IdP's metadata XML (the Context Handler's, or the stand-in's).
    pub idp_metadata: PathBuf,
    /// Our entity id.
    pub entity_id: String,
    /// Where users reach us; the ACS is `{base_url}/saml/acs`.
    pub base_url: String,
    /// Our certificate (PEM): signs AuthnRequests, receives encrypted assertions.
    pub cert: PathBuf,
    /// Our private key (PEM). Never logged.
    pub key: PathBuf,
    /// Refuse assertions that are not encrypted (the Context Handler always encrypts).
    #[serde(default = "yes")]
    pub require_encryption: bool,
    /// Keep local password accounts working beside SAML (off by default).
    #[serde(default)]
    pub local_accounts: bool,
    /// The user-system role URI that grants each of our roles.
    #[serde(default)]
    pub privileges: SamlPrivileges,
}

fn yes() -> bool {
    true
}

/// `[saml.privileges]`: which user-system role URI grants which of our roles.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamlPrivileges {
    pub sor_admin: Option<String>,
    pub org_admin: Option<String>,
    pub operator: Option<String>,
    pub read_only: Option<String>,
}

/// `[web]`: sign-in through an authenticating reverse proxy.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSignInConfig {
    /// The header carrying the user name (e.g. `X-Remote-User`). Off unless set.
    pub proxy_user_header: Option<String>,
    /// The proxies' addresses: the header is believed only on connections from these.
    pub proxy_addresses: Vec<std::net::IpAddr>,
    /// The header carrying the shared secret the proxy adds (e.g. `X-Proxy-Secret`).
    pub proxy_secret_header: Option<String>,
    /// The shared secret (or env SORSYNC_PROXY_SECRET). Never logged.
    pub proxy_secret: Option<String>,
}

impl std::fmt::Debug for WebSignInConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSignInConfig")
            .field("proxy_user_header", &self.proxy_user_header)
            .field("proxy_addresses", &self.proxy_addresses)
            .field("proxy_secret_header", &self.proxy_secret_header)
            .field("proxy_secret", &self.proxy_secret.as_ref().map(|_| "(set)"))
            .finish()
    }
}

/// A policy table's entries as (key, value text), for [`crate::matching::policy::SyncPolicy::with`].
pub fn policy_entries(table: &std::collections::BTreeMap<String, toml::Value>) -> Vec<(String, String)> {
    table
        .iter()
        .map(|(k, v)| {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

/// `[review]`: auto-approval (off unless a lower bound is given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// Link proposals at or above this confidence (and at or below the maximum), without flags,
    /// are approved by a rule, recorded as automatic. None (the default): no auto-approval.
    pub auto_approve_min_confidence: Option<f64>,
    pub auto_approve_max_confidence: f64,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig { auto_approve_min_confidence: None, auto_approve_max_confidence: 1.0 }
    }
}

impl ReviewConfig {
    /// The auto-approval band, when configured.
    pub fn auto_approve_band(&self) -> Option<crate::review::ConfidenceBand> {
        self.auto_approve_min_confidence
            .map(|min| crate::review::ConfidenceBand { min, max: self.auto_approve_max_confidence })
    }
}

/// `[apply]`: the closure limit and the retry budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApplyConfig {
    /// Closures per plan without naming them: at most this many ...
    pub max_closures: usize,
    /// ... and at most this share of the municipality's SOR units (rounded down), whichever is smaller.
    pub max_closure_share: f64,
    /// Seconds one change may spend on retries of temporary failures.
    pub retry_budget_secs: u64,
    /// First wait between retries (doubled each time, with jitter), milliseconds.
    pub retry_first_delay_ms: u64,
    /// Longest wait between retries, milliseconds.
    pub retry_max_delay_ms: u64,
}

impl Default for ApplyConfig {
    fn default() -> Self {
        ApplyConfig {
            max_closures: 10,
            max_closure_share: 0.05,
            retry_budget_secs: 120,
            retry_first_delay_ms: 200,
            retry_max_delay_ms: 10_000,
        }
    }
}

impl ApplyConfig {
    pub fn closure_limit(&self) -> crate::apply::ClosureLimit {
        crate::apply::ClosureLimit { max_closures: self.max_closures, max_share: self.max_closure_share }
    }

    pub fn retry_policy(&self) -> crate::apply::RetryPolicy {
        crate::apply::RetryPolicy {
            budget: std::time::Duration::from_secs(self.retry_budget_secs),
            first_delay: std::time::Duration::from_millis(self.retry_first_delay_ms),
            max_delay: std::time::Duration::from_millis(self.retry_max_delay_ms),
            max_retries: None,
        }
    }

    /// The `[review]` and `[apply]` part of the commented default file.
    fn commented(review: &ReviewConfig, apply: &ApplyConfig) -> String {
        format!(
            r#"
[review]
# Auto-approval of link proposals in a confidence band, recorded as automatic. Off unless the
# minimum is set. Flagged links are always left for a person.
# auto_approve_min_confidence = 0.98
auto_approve_max_confidence = {max}

[apply]
# Closures per plan without naming them (--allow-closures): at most max_closures AND at most
# max_closure_share of the municipality's SOR units (rounded down), whichever is smaller.
max_closures = {closures}
max_closure_share = {share}
# Retries of temporary failures: per-change time budget, first and longest wait.
retry_budget_secs = {budget}
retry_first_delay_ms = {first}
retry_max_delay_ms = {max_delay}

[policy]
# Who decides what, once a unit's correspondence (link or new) is decided: "auto" (the sync policy,
# recorded in the audit log with its rule) or "person". Closures always need a person. A link is
# decided without a person at link_auto_min or above (at most 1 wrong in 1,000 expected; not below 0.95).
# The wave plan can override these per municipality ([wave.municipality.policy]).
# link_auto_min = 0.999
# name = "person"
# address = "auto"
# phone = "auto"
# email = "auto"
# move = "person"
# create = "person"
# not_in_sor = "auto"
"#,
            max = review.auto_approve_max_confidence,
            closures = apply.max_closures,
            share = apply.max_closure_share,
            budget = apply.retry_budget_secs,
            first = apply.retry_first_delay_ms,
            max_delay = apply.retry_max_delay_ms,
        )
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH` (created on first use) or `postgres://...`.
    pub database_url: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { database_url: "sqlite://sorsync.db".to_string() }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("database_url", &sorsync_core::secrets::redact_password(&self.database_url))
            .finish()
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
}

/// The environment variables that override the file, in one place.
pub const ENV_OVERRIDES: &[&str] = &[
    "SORSYNC_DATABASE_URL",
    "SORSYNC_FKORG_ENDPOINT",
    "SORSYNC_FKORG_TOKEN_URL",
    "SORSYNC_FKORG_SOAP_URL",
    "SORSYNC_FKORG_STS_URL",
    "SORSYNC_FKORG_PKCS12_PASSWORD",
    "SORSYNC_FKORG_PAGE_SIZE",
    "SORSYNC_SOR_URL",
    "SORSYNC_PROXY_SECRET",
];

impl Config {
    /// Loads `path` if given (it must exist), else `./sorsync.toml` if it exists, else defaults;
    /// then applies environment overrides from `env` (pass `std::env::var` in production).
    pub fn load(path: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let default_path = Path::new("sorsync.toml");
        let chosen = match path {
            Some(p) => Some(p),
            None if default_path.exists() => Some(default_path),
            None => None,
        };
        let mut config = match chosen {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|source| ConfigError::Read { path: p.to_path_buf(), source })?;
                sorsync_store::private_file::warn_if_loose(p, "the configuration (it may hold credentials)");
                Self::from_toml(&text).map_err(|message| ConfigError::Parse { path: p.to_path_buf(), message })?
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        Ok(config)
    }

    /// The sync policy `[policy]` configures (the defaults with its keys applied).
    pub fn sync_policy(&self) -> Result<crate::matching::policy::SyncPolicy, String> {
        crate::matching::policy::SyncPolicy::default()
            .with(&policy_entries(&self.policy))
            .map_err(|e| format!("[policy]: {e}"))
    }

    /// Parses the file. The error says where and what, but never quotes the file's text (it may
    /// hold the client secret).
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| {
            let place = e.span().map(|span| {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: ")
            });
            format!("{}{}", place.unwrap_or_default(), e.message())
        })
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = env("SORSYNC_DATABASE_URL") {
            self.store.database_url = v;
        }
        if let Some(v) = env("SORSYNC_FKORG_ENDPOINT") {
            self.fkorg.endpoint = v;
        }
        if let Some(v) = env("SORSYNC_FKORG_TOKEN_URL") {
            self.fkorg.token_url = v;
        }
        if let Some(v) = env("SORSYNC_FKORG_SOAP_URL") {
            self.fkorg.soap_url = Some(v);
        }
        if let Some(v) = env("SORSYNC_FKORG_STS_URL") {
            self.fkorg.sts_url = Some(v);
        }
        if let Some(v) = env("SORSYNC_FKORG_PKCS12_PASSWORD") {
            self.fkorg.client_pkcs12_password = Some(v);
        }
        for name in ["SORSYNC_FKORG_CLIENT_ID", "SORSYNC_FKORG_CLIENT_SECRET"] {
            if env(name).is_some() {
                return Err(ConfigError::Env {
                    name: if name.ends_with("ID") { "SORSYNC_FKORG_CLIENT_ID" } else { "SORSYNC_FKORG_CLIENT_SECRET" },
                    message: "no longer used: FK-ORG's token service and STS issue tokens to the system's \
                              certificate; set fkorg.client_certificate and fkorg.client_key, or \
                              fkorg.client_pkcs12 with SORSYNC_FKORG_PKCS12_PASSWORD"
                        .to_string(),
                });
            }
        }
        if let Some(v) = env("SORSYNC_SOR_URL") {
            self.sor.url = v;
        }
        if let Some(v) = env("SORSYNC_PROXY_SECRET") {
            self.web.proxy_secret = Some(v);
        }
        if let Some(v) = env("SORSYNC_FKORG_PAGE_SIZE") {
            let n: u32 = v.parse().map_err(|_| ConfigError::Env {
                name: "SORSYNC_FKORG_PAGE_SIZE",
                message: format!("{v:?} is not a number"),
            })?;
            self.fkorg.page_size = n;
        }
        if !(1..=500).contains(&self.fkorg.page_size) {
            return Err(ConfigError::Env {
                name: "SORSYNC_FKORG_PAGE_SIZE",
                message: format!("page size {} must be between 1 and 500", self.fkorg.page_size),
            });
        }
        Ok(())
    }

    /// The commented default file that `sorsync init` writes.
    pub fn commented_default() -> String {
        let d = Config::default();
        let mut text = format!(
            r#"# sorsync configuration. Every value can be overridden by an environment variable
# (named on the line above it). Secrets are better kept in the environment than here.

[store]
# sqlite://PATH (the file is created on first use) or postgres://USER@HOST:PORT/DB
# env: SORSYNC_DATABASE_URL
database_url = "{db}"

[fkorg]
# FK-ORG's GraphQL read API. The default points at the local stand-in (`sorsync stand-in fkorg`).
# env: SORSYNC_FKORG_ENDPOINT
endpoint = "{endpoint}"
# OAuth2 client-credentials token endpoint. env: SORSYNC_FKORG_TOKEN_URL
token_url = "{token_url}"
# FK-ORG's SOAP services "Organisation 6" (SOR-ID write-back): <soap_url>adresse/6/ and
# <soap_url>organisationenhed/6/. Default: the /organisation/ folder of the endpoint's host.
# env: SORSYNC_FKORG_SOAP_URL
# soap_url = "https://organisation.stoettesystemerne.dk/organisation/"
# KOMBIT's token service and STS issue tokens to the system's certificate (an OCES3 system
# certificate): TLS client authentication, and OIOIDWS signatures on the SOAP calls. PEM
# certificate + key, or one PKCS#12 file whose password comes from SORSYNC_FKORG_PKCS12_PASSWORD.
# ca_certificate: an extra CA to trust (the stand-ins' certs/ca.pem).
# client_certificate = "/etc/sorsync/foces.pem"
# client_key = "/etc/sorsync/foces-key.pem"
# client_pkcs12 = "/etc/sorsync/foces.p12"
# ca_certificate = "certs/ca.pem"
# KOMBIT's STS. Default: /runtime/services/kombittrust/14/certificatemixed on token_url's host.
# env: SORSYNC_FKORG_STS_URL
# sts_url = "https://n2adgangsstyring.stoettesystemerne.dk/runtime/services/kombittrust/14/certificatemixed"
# The scope chosen in FK-ORG for municipalities whose wave plan names none (scope.it_systems,
# scope.kle): units assigned to these IT systems and/or with these KLE tasks.
# it_systems = ["00000000-0000-0000-0000-000000000000"]
# kle = ["29.09.00"]
# Units / users per page, at most 500. env: SORSYNC_FKORG_PAGE_SIZE
page_size = {page}
# Seconds before a request times out.
timeout_secs = {timeout}
# Retries on timeouts and 5xx answers, with exponential backoff.
max_retries = {retries}

[sor]
# The SOR update service (SORUS, SOAP). The default points at the local stand-in
# (`sorsync stand-in sor`). env: SORSYNC_SOR_URL
url = "{sor_url}"
# Seconds before a request times out, and before a connection must be made.
timeout_secs = {sor_timeout}
connect_timeout_secs = {sor_connect}
"#,
            db = d.store.database_url,
            endpoint = d.fkorg.endpoint,
            token_url = d.fkorg.token_url,
            page = d.fkorg.page_size,
            timeout = d.fkorg.timeout_secs,
            retries = d.fkorg.max_retries,
            sor_url = d.sor.url,
            sor_timeout = d.sor.timeout_secs,
            sor_connect = d.sor.connect_timeout_secs,
        );
        text.push_str(&ApplyConfig::commented(&d.review, &d.apply));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commented_default_parses_back_to_the_defaults() {
        assert_eq!(Config::from_toml(&Config::commented_default()).unwrap(), Config::default());
    }

    #[test]
    fn environment_overrides_the_file() {
        let env = |k: &str| match k {
            "SORSYNC_DATABASE_URL" => Some("postgres://x@127.0.0.1/db".to_string()),
            _ => None,
        };
        let mut c = Config::default();
        c.apply_env(env).unwrap();
        assert_eq!(c.store.database_url, "postgres://x@127.0.0.1/db");
        let bad = |k: &str| (k == "SORSYNC_FKORG_PAGE_SIZE").then(|| "900".to_string());
        assert!(Config::default().apply_env(bad).is_err());
    }

    #[test]
    fn errors_and_debug_output_never_show_the_secret() {
        let err = Config::from_toml("[fkorg]\nclient_secret = \"hemmelig-42\nx=1").unwrap_err();
        assert!(!err.contains("hemmelig"), "{err}");
        assert!(err.starts_with("line 2"), "{err}");
        let mut c = Config::default();
        c.fkorg.client_secret = Some("hemmelig-42".into());
        c.fkorg.client_pkcs12_password = Some("hemmelig-42".into());
        c.store.database_url = "postgres://u:hemmelig-42@127.0.0.1/db".into();
        assert!(!format!("{c:?}").contains("hemmelig"), "{c:?}");
    }

    #[test]
    fn a_client_secret_in_the_environment_is_refused_naming_the_certificate_keys() {
        let env = |k: &str| (k == "SORSYNC_FKORG_CLIENT_SECRET").then(|| "x".to_string());
        let err = Config::default().apply_env(env).unwrap_err().to_string();
        assert!(err.contains("client_certificate") && err.contains("client_pkcs12"), "{err}");
        let env = |k: &str| (k == "SORSYNC_FKORG_PKCS12_PASSWORD").then(|| "pw".to_string());
        let mut c = Config::default();
        c.apply_env(env).unwrap();
        assert_eq!(c.fkorg.client_pkcs12_password.as_deref(), Some("pw"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(Config::from_toml("[store]\ndatabse_url = \"x\"").is_err());
    }
}
