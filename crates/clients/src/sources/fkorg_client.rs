//! HTTP client for FK-ORG's GraphQL read API: OAuth2 client credentials, KOMBIT's transaction
//! headers, paging, timeouts and retries. Pages are checked by the same code that reads FK-ORG
//! files ([`super::fkorg_json`]), so API data and file data pass the same checks.
//!
//! The client secret and the access token are never logged nor put in error messages.
//!
//! Writes go through the SOAP service "Organisation 6" (the GraphQL API is read-only; envelopes
//! in [`super::fkorg_soap`]): [`FkOrgClient::write_sor_id`] records a unit's SOR-ID as an address
//! with the SOR role (`adresse importer`, `organisationenhed laes`, then `ret` with every relation
//! the unit had plus the new one), and [`FkOrgClient::end_sor_id`] ends that relation. Both read
//! the unit live first: a unit that shows another SOR-ID is never overwritten.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use serde_json::Value;

use super::fkorg_json::{FkPages, PageInfo};
use super::fkorg_soap::{self as soap, Operation, Service, SoapError, UnitRegistration};
use super::oioidws::{Identity, StsToken};
use super::ReadError;
use crate::config::FkOrgConfig;
use crate::domain::fkorg::roles;
use crate::domain::{Cvr, FkTree, FkUuid, SorId};
use crate::net::describe;
use crate::port::{FkWriteBack, WriteError};
use crate::retry::{retry_with_backoff, RetryPolicy, Retryable};

/// The units query: every field the reader needs, one page at a time.
const UNITS_QUERY: &str = "query sorsyncEnheder($cvr: CVR!, $first: Int, $after: Cursor) {
  organisationEnhedListe(cvr: $cvr, status: AKTIV, first: $first, after: $after) {
    edges { cursor node {
      uuid enhedsnavn brugervendtNoegle
      overordnetEnhed { uuid }
      tilstand { status fraTidspunkt tilTidspunkt }
      adresser { uuid adresseTekst adresseRolleTitel klassifikation { type rolle indeks } }
      tilhoerer { virksomhed { cvrNummerTekst } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// The users query, with addresses and memberships.
const USERS_QUERY: &str = "query sorsyncBrugere($cvr: CVR!, $first: Int, $after: Cursor) {
  brugerListe(cvr: $cvr, status: AKTIV, first: $first, after: $after) {
    edges { cursor node {
      uuid brugernavn
      person { navn }
      tilstand { status fraTidspunkt tilTidspunkt }
      adresser { uuid adresseTekst adresseRolleTitel klassifikation { type rolle indeks } }
      harMedlemskab { uuid medlemskabRolleTitel funktionsTypeUuid funktionsTypeTitel medlemAf { uuid } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// The units of a municipality that FK-ORG itself filters for a system: by KLE tasks and/or by
/// the IT systems units are assigned to in FK-ORG's administration module.
const SCOPE_QUERY: &str = "query sorsyncScope($cvr: CVR!, $opgaver: KleFilter, $itSystemer: [UUID!], $first: Int, $after: Cursor) {
  organisationEnhedListe(cvr: $cvr, status: AKTIV, opgaver: $opgaver, itSystemer: $itSystemer, first: $first, after: $after) {
    edges { node { uuid } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// The part of a municipality's tree FK-ORG gives a system (`organisationEnhedListe`'s
/// `itSystemer` and `opgaver`). Empty lists do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeFilter {
    /// Units assigned to one of these IT systems.
    pub it_systems: Vec<uuid::Uuid>,
    /// Units with one of these KLE numbers (e.g. "29.09.00") ...
    pub kle_numbers: Vec<String>,
    /// ... in this task role (e.g. "Udførende"), when given.
    pub kle_role: Option<uuid::Uuid>,
}

/// Whether `text` is a KLE number as `organisationEnhedListe(opgaver:)` takes it: two-digit
/// groups separated by dots, at most three ("29", "29.09", "29.09.00").
pub fn is_kle_number(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.split('.').count() <= 3
        && t.split('.').all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The entity id of FK-ORG's organisation service: the token request's `client_id` and the
/// `entityid` in its scope when the client authenticates with a certificate.
pub const ORGANISATION_SERVICE: &str = "http://stoettesystemerne.dk/service/organisation/3";

/// Why fetching from FK-ORG failed, in the terms of the person running sorsync.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the FK-ORG client is not configured right: {0}")]
    Config(String),
    #[error(
        "FK-ORG's token endpoint {url} refused the credentials (client id {client_id:?}): HTTP {status} {detail}; \
         check fkorg.client_certificate and fkorg.client_key (or fkorg.client_pkcs12) and the service agreement"
    )]
    CredentialsRefused { url: String, client_id: String, status: u16, detail: String },
    #[error("FK-ORG refused the token (client id {client_id:?}): HTTP 401 {detail}")]
    TokenRefused { client_id: String, detail: String },
    #[error("FK-ORG's token endpoint {url} did not answer with a token: {detail}")]
    BadToken { url: String, detail: String },
    #[error("FK-ORG rejected the request: HTTP {status} {detail}")]
    Rejected { status: u16, detail: String },
    #[error("FK-ORG ({url}) did not answer after {attempts} attempts; last problem: {last}")]
    Unavailable { url: String, attempts: u32, last: String },
    #[error("FK-ORG answered something that is not a GraphQL response: {0}")]
    BadResponse(String),
    #[error("FK-ORG answered with errors: {0}")]
    GraphQl(String),
    #[error("FK-ORG knows no organisation with CVR {0}")]
    UnknownCvr(Cvr),
    #[error("FK-ORG's paging does not advance: after cursor {cursor:?} it returned the same cursor again")]
    PagingStuck { cursor: String },
    #[error("FK-ORG's data does not pass the checks: {0}")]
    Data(#[from] ReadError),
    #[error("FK-ORG has no organisation unit {0}")]
    UnknownUnit(FkUuid),
    #[error(
        "FK-ORG unit {unit} already shows SOR-ID {shown}, not {wanted}: not overwritten; correct FK-ORG or the link first"
    )]
    OtherSorId { unit: FkUuid, shown: String, wanted: SorId },
    #[error("KOMBIT's STS ({url}) gave no token: HTTP {status} {detail}")]
    StsRefused { url: String, status: u16, detail: String },
    #[error("OIOIDWS: {0}")]
    Security(String),
    #[error("FK-ORG {service} {operation}: {problem}")]
    Soap { service: &'static str, operation: &'static str, problem: SoapError },
    #[error("FK-ORG {service} {operation} answered StatusKode {status}: {message}")]
    Status { service: &'static str, operation: &'static str, status: i64, message: String },
}

/// The pause before the first retry of an FK-ORG request; it doubles each time up to
/// [`RETRY_MAX_DELAY`], with jitter ([`RetryPolicy::delay`]).
const RETRY_FIRST_DELAY: Duration = Duration::from_secs(1);
const RETRY_MAX_DELAY: Duration = Duration::from_secs(30);

struct CachedToken {
    access_token: String,
    /// Refresh before this instant.
    good_until: Instant,
}

/// Client for FK-ORG's GraphQL read API (`organisation/organisationhent/1`).
pub struct FkOrgClient {
    http: reqwest::Client,
    endpoint: Url,
    token_url: Url,
    /// Where the Organisation 6 services live: `<soap_base>adresse/6/`, `<soap_base>organisationenhed/6/`.
    soap_base: Url,
    /// KOMBIT's STS (OIOIDWS tokens for the SOAP calls).
    sts_url: Url,
    /// The system's certificate and key: TLS client authentication, the STS request and the
    /// signature on every SOAP call.
    identity: Identity,
    /// The municipality the SOAP calls are made for (the STS token names its CVR).
    municipality: Option<Cvr>,
    page_size: u32,
    /// `fkorg.max_retries` retries on timeouts, connection errors and 5xx, no time budget.
    retry: RetryPolicy,
    /// For each request, from sending to the last byte of the answer.
    timeout: Duration,
    /// One token per municipality (the scope names its CVR).
    token: tokio::sync::Mutex<Option<(Cvr, CachedToken)>>,
    /// The STS's token for the SOAP calls, kept until shortly before it expires.
    sts_token: tokio::sync::Mutex<Option<(Cvr, StsToken)>>,
}

impl fmt::Debug for FkOrgClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FkOrgClient")
            .field("endpoint", &self.endpoint.as_str())
            .field("token_url", &self.token_url.as_str())
            .field("soap_base", &self.soap_base.as_str())
            .field("sts_url", &self.sts_url.as_str())
            .field("identity", &self.identity)
            .field("municipality", &self.municipality)
            .field("page_size", &self.page_size)
            .field("max_retries", &self.retry.max_retries)
            .finish_non_exhaustive()
    }
}

/// What one HTTP exchange ended with, after retries.
struct Answer {
    status: StatusCode,
    /// The response body, read in full.
    body: Vec<u8>,
}

/// The most of one FK-ORG answer we read (a page of 500 units with their addresses is a few MB).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

impl FkOrgClient {
    /// Checks the configuration and prepares the HTTP client (no request is sent yet).
    pub fn new(cfg: &FkOrgConfig) -> Result<Self, ClientError> {
        let endpoint = Url::parse(&cfg.endpoint)
            .map_err(|e| ClientError::Config(format!("fkorg.endpoint {:?} is not a URL: {e}", cfg.endpoint)))?;
        let token_url = Url::parse(&cfg.token_url)
            .map_err(|e| ClientError::Config(format!("fkorg.token_url {:?} is not a URL: {e}", cfg.token_url)))?;
        let soap_base = match &cfg.soap_url {
            Some(url) => {
                Url::parse(url).map_err(|e| ClientError::Config(format!("fkorg.soap_url {url:?} is not a URL: {e}")))?
            }
            // The services live on the same host: `/organisation/<service>/6/` next to `/organisation/organisationhent/1`.
            None => endpoint
                .join("../")
                .map_err(|e| ClientError::Config(format!("cannot derive the SOAP address from fkorg.endpoint: {e}")))?,
        };
        if !soap_base.path().ends_with('/') {
            return Err(ClientError::Config(format!("fkorg.soap_url {soap_base} must end with '/'")));
        }
        if !(1..=500).contains(&cfg.page_size) {
            return Err(ClientError::Config(format!("fkorg.page_size {} must be between 1 and 500", cfg.page_size)));
        }
        if let Some(bad) = cfg.kle.iter().find(|k| !is_kle_number(k)) {
            return Err(ClientError::Config(format!("fkorg.kle: {bad:?} is not a KLE number like \"29.09.00\"")));
        }
        if cfg.timeout_secs == 0 {
            return Err(ClientError::Config("fkorg.timeout_secs must be at least 1".into()));
        }
        let read = |key: &str, path: &std::path::Path| {
            std::fs::read(path).map_err(|e| ClientError::Config(format!("fkorg.{key} {}: {e}", path.display())))
        };
        let timeout = Duration::from_secs(cfg.timeout_secs);
        // No redirects: one would carry the token or the signed SOAP body to wherever it points.
        let mut http = crate::net::client_builder().connect_timeout(timeout.min(Duration::from_secs(10)));
        if cfg.client_secret.is_some() || cfg.client_id.is_some() {
            return Err(ClientError::Config(
                "fkorg.client_id and fkorg.client_secret (SORSYNC_FKORG_CLIENT_SECRET) are no longer used: KOMBIT's \
                 token service and STS issue tokens to the system's certificate; set fkorg.client_certificate and \
                 fkorg.client_key (PEM), or fkorg.client_pkcs12 (password in SORSYNC_FKORG_PKCS12_PASSWORD)"
                    .into(),
            ));
        }
        let identity = match (&cfg.client_certificate, &cfg.client_key, &cfg.client_pkcs12) {
            (Some(cert), Some(key), None) => {
                let what =
                    format!("fkorg.client_certificate {} with fkorg.client_key {}", cert.display(), key.display());
                Identity::from_pem(&read("client_certificate", cert)?, &read("client_key", key)?, &what)
                    .map_err(|e| ClientError::Config(e.to_string()))?
            }
            (None, None, Some(p12)) => {
                let what = format!("fkorg.client_pkcs12 {}", p12.display());
                let password = cfg.client_pkcs12_password.as_deref().unwrap_or_default();
                Identity::from_pkcs12(&read("client_pkcs12", p12)?, password, &what)
                    .map_err(|e| ClientError::Config(e.to_string()))?
            }
            (None, None, None) => {
                return Err(ClientError::Config(
                    "FK-ORG is reached with the system's certificate: set fkorg.client_certificate and \
                     fkorg.client_key (PEM), or fkorg.client_pkcs12 (password in SORSYNC_FKORG_PKCS12_PASSWORD)"
                        .into(),
                ))
            }
            (_, _, Some(_)) => {
                return Err(ClientError::Config(
                    "set either fkorg.client_pkcs12 or fkorg.client_certificate with fkorg.client_key, not both".into(),
                ))
            }
            _ => {
                return Err(ClientError::Config(
                    "fkorg.client_certificate and fkorg.client_key go together: set both".into(),
                ))
            }
        };
        let tls_identity = reqwest::Identity::from_pem(&identity.tls_pem())
            .map_err(|e| ClientError::Config(format!("the FK-ORG client certificate cannot be used for TLS: {e}")))?;
        http = http.identity(tls_identity);
        if let Some(ca) = &cfg.ca_certificate {
            let root = reqwest::Certificate::from_pem(&read("ca_certificate", ca)?).map_err(|e| {
                ClientError::Config(format!("fkorg.ca_certificate {} is not a PEM certificate: {e}", ca.display()))
            })?;
            http = http.add_root_certificate(root);
        }
        let sts_url = match &cfg.sts_url {
            Some(url) => {
                Url::parse(url).map_err(|e| ClientError::Config(format!("fkorg.sts_url {url:?} is not a URL: {e}")))?
            }
            // The stand-in serves the STS next to the token service; KOMBIT's is on the same host
            // as its token service too (n2adgangsstyring.stoettesystemerne.dk).
            None => token_url
                .join(super::oioidws::STS_PATH)
                .map_err(|e| ClientError::Config(format!("cannot derive the STS address from fkorg.token_url: {e}")))?,
        };
        for (key, url) in [
            ("fkorg.endpoint", &endpoint),
            ("fkorg.token_url", &token_url),
            ("fkorg.soap_url", &soap_base),
            ("fkorg.sts_url", &sts_url),
        ] {
            crate::net::check_scheme(key, url).map_err(ClientError::Config)?;
        }
        let http = http.build().map_err(|e| ClientError::Config(format!("cannot set up HTTP: {e}")))?;
        Ok(FkOrgClient {
            http,
            endpoint,
            token_url,
            soap_base,
            sts_url,
            identity,
            municipality: None,
            page_size: cfg.page_size,
            retry: RetryPolicy::retries(cfg.max_retries, RETRY_FIRST_DELAY, RETRY_MAX_DELAY),
            timeout,
            token: tokio::sync::Mutex::new(None),
            sts_token: tokio::sync::Mutex::new(None),
        })
    }

    /// The municipality the SOAP calls (write-backs) are made for: the STS token names its CVR.
    pub fn for_municipality(mut self, cvr: Cvr) -> Self {
        self.municipality = Some(cvr);
        self
    }

    /// Replaces the default pauses between retries (tests use a few milliseconds); the number of
    /// retries stays `fkorg.max_retries`.
    pub fn with_retry_delays(mut self, first_delay: Duration, max_delay: Duration) -> Self {
        self.retry = RetryPolicy { first_delay, max_delay, ..self.retry };
        self
    }

    /// Replaces `fkorg.timeout_secs` (tests use a fraction of a second).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Fetches one municipality's active units and users, page by page, and checks them as a
    /// file would be checked.
    #[tracing::instrument(skip_all, fields(cvr = %cvr))]
    pub async fn fetch_tree(&self, cvr: Cvr) -> Result<FkTree, ClientError> {
        let source = PathBuf::from(self.endpoint.as_str());
        let mut pages = FkPages::default();
        let mut page_no = 0;
        for list in [List::Units, List::Users] {
            let mut after: Option<String> = None;
            // Every cursor seen in this list: a server that cycles between cursors is refused.
            let mut seen = std::collections::HashSet::new();
            loop {
                let variables = serde_json::json!({ "cvr": cvr.to_string(), "first": self.page_size, "after": after });
                let response = self.graphql(cvr, list.query(), variables).await?;
                if response.pointer(&format!("/data/{}", list.field())).is_none_or(Value::is_null) {
                    return Err(ClientError::UnknownCvr(cvr));
                }
                let outcome = pages.add_response(&source, page_no, &response)?;
                page_no += 1;
                let info = match list {
                    List::Units => outcome.units,
                    List::Users => outcome.users,
                }
                .unwrap_or_default();
                tracing::debug!(list = list.field(), page = page_no, has_next_page = info.has_next_page, "Page read.");
                match next_cursor(info, after.as_deref())? {
                    Some(next) if !seen.insert(next.clone()) => return Err(ClientError::PagingStuck { cursor: next }),
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        let dropped = pages.drop_memberships_of_absent_units();
        if dropped > 0 {
            tracing::warn!(dropped, "Memberships of units that are not active in FK-ORG were left out.");
        }
        let tree = pages.finish(&source)?;
        tracing::info!(units = tree.len(), users = tree.users.len(), pages = page_no, "FK-ORG tree fetched.");
        Ok(tree)
    }

    /// The active units FK-ORG gives for `filter` (the municipality's health-relevant part, as
    /// chosen in FK-ORG), page by page.
    #[tracing::instrument(skip_all, fields(cvr = %cvr))]
    pub async fn units_in_scope(&self, cvr: Cvr, filter: &ScopeFilter) -> Result<Vec<FkUuid>, ClientError> {
        let opgaver = (!filter.kle_numbers.is_empty()).then(
            || serde_json::json!({ "kleNummer": filter.kle_numbers, "rolle": filter.kle_role.map(|r| r.to_string()) }),
        );
        let it_systems = (!filter.it_systems.is_empty())
            .then(|| filter.it_systems.iter().map(ToString::to_string).collect::<Vec<_>>());
        let mut units = Vec::new();
        let mut after: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let variables = serde_json::json!({ "cvr": cvr.to_string(), "opgaver": opgaver,
                "itSystemer": it_systems, "first": self.page_size, "after": after });
            let response = self.graphql(cvr, SCOPE_QUERY, variables).await?;
            let Some(list) = response.pointer("/data/organisationEnhedListe").filter(|v| !v.is_null()) else {
                return Err(ClientError::UnknownCvr(cvr));
            };
            for edge in list.get("edges").and_then(Value::as_array).into_iter().flatten() {
                let text = edge.pointer("/node/uuid").and_then(Value::as_str).unwrap_or_default();
                let uuid = FkUuid::parse(text)
                    .map_err(|e| ClientError::BadResponse(format!("a unit's uuid {text:?} in the scope: {e}")))?;
                units.push(uuid);
            }
            let info = PageInfo {
                has_next_page: list.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool).unwrap_or(false),
                end_cursor: list.pointer("/pageInfo/endCursor").and_then(Value::as_str).map(str::to_string),
            };
            match next_cursor(info, after.as_deref())? {
                Some(next) if !seen.insert(next.clone()) => return Err(ClientError::PagingStuck { cursor: next }),
                Some(next) => after = Some(next),
                None => break,
            }
        }
        tracing::info!(units = units.len(), "FK-ORG scope fetched.");
        Ok(units)
    }

    /// The SOR-IDs FK-ORG shows on unit `fk_uuid` now (its SOR-role addresses in effect), read
    /// live through `organisationenhed laes` and `adresse laes`.
    #[tracing::instrument(skip_all, fields(fk_uuid = %fk_uuid))]
    pub async fn shown_sor_ids(&self, fk_uuid: FkUuid) -> Result<Vec<String>, ClientError> {
        let unit = self.read_unit(fk_uuid).await?;
        Ok(self.sor_addresses(&unit).await?.into_iter().map(|(_, text)| text).collect())
    }

    /// Records `sor_id` on FK-ORG unit `fk_uuid` as an address with the SOR role. Sends nothing
    /// when the unit shows this SOR-ID already; refuses ([`ClientError::OtherSorId`]) when it
    /// shows another. Every other relation of the unit stays as it was.
    #[tracing::instrument(skip_all, fields(fk_uuid = %fk_uuid, sor_id = %sor_id))]
    pub async fn write_sor_id(&self, fk_uuid: FkUuid, sor_id: SorId) -> Result<WriteBack, ClientError> {
        let unit = self.read_unit(fk_uuid).await?;
        let wanted = sor_id.to_string();
        let shown = self.sor_addresses(&unit).await?;
        if shown.iter().any(|(_, text)| *text == wanted) {
            tracing::info!("FK-ORG shows this SOR-ID already; nothing sent.");
            return Ok(WriteBack::AlreadyShown);
        }
        if let Some((_, other)) = shown.into_iter().next() {
            return Err(ClientError::OtherSorId { unit: fk_uuid, shown: other, wanted: sor_id });
        }
        let now = chrono::Utc::now();
        let actor = unit.organisation().cloned();
        let address_uuid = sor_address_uuid(fk_uuid, sor_id);
        let address = soap::AddressProperty {
            uuid: &address_uuid,
            text: &wanted,
            brugervendt_noegle: Some("SOR-ID"),
            virkning: soap::Virkning::from_now(now, actor.clone()),
        };
        // The address object's UUID follows from unit and SOR-ID, so a write cut short is
        // finished by the next one: the object exists (49) and gets its text again with `ret`.
        let (status, message) =
            self.soap(Service::Adresse, Operation::Importer, &soap::address_import_input(&address, now)).await?;
        match status {
            soap::status::OK => {}
            soap::status::EXISTS => {
                let (status, message) =
                    self.soap(Service::Adresse, Operation::Ret, &soap::address_ret_input(&address)).await?;
                check_status(Service::Adresse, Operation::Ret, status, message)?;
            }
            _ => check_status(Service::Adresse, Operation::Importer, status, message)?,
        }
        let mut relations = unit.relations.clone();
        relations.push(soap::Relation {
            kind: "Adresser".to_string(),
            virkning: Some(soap::Virkning::from_now(now, actor)),
            reference: Some(soap::Id::uuid(&address_uuid)),
            role: Some(soap::Classified { id: soap::Id::uuid(roles::UNIT_SOR_ID), label: Some("SOR".to_string()) }),
            class: Some(soap::Classified { id: soap::Id::uuid(soap::UNIT_ADDRESS_TYPE), label: None }),
            index: Some(uuid::Uuid::new_v4().to_string()),
        });
        self.ret_unit(fk_uuid, &relations).await?;
        tracing::info!("SOR-ID written to FK-ORG.");
        Ok(WriteBack::Written)
    }

    /// Ends (TilTidspunkt = now) the relation of unit `fk_uuid` to its address showing `sor_id`,
    /// keeping every other relation. Sends nothing when the unit does not show it.
    #[tracing::instrument(skip_all, fields(fk_uuid = %fk_uuid, sor_id = %sor_id))]
    pub async fn end_sor_id(&self, fk_uuid: FkUuid, sor_id: SorId) -> Result<WriteBack, ClientError> {
        let unit = self.read_unit(fk_uuid).await?;
        let wanted = sor_id.to_string();
        let ending: Vec<String> =
            self.sor_addresses(&unit).await?.into_iter().filter(|(_, text)| *text == wanted).map(|(r, _)| r).collect();
        if ending.is_empty() {
            return Ok(WriteBack::AlreadyShown);
        }
        let now = chrono::Utc::now();
        let mut relations = unit.relations.clone();
        for r in relations.iter_mut().filter(|r| {
            r.kind == "Adresser"
                && r.is_current(now)
                && r.role_uuid().as_deref() == Some(roles::UNIT_SOR_ID)
                && r.reference_uuid().is_some_and(|u| ending.contains(&u))
        }) {
            let v = r.virkning.get_or_insert_with(soap::Virkning::default);
            v.to = Some(soap::Tidspunkt::at(now));
        }
        self.ret_unit(fk_uuid, &relations).await?;
        tracing::info!("SOR-ID relation ended in FK-ORG.");
        Ok(WriteBack::Written)
    }

    /// The unit as `organisationenhed laes` shows it now.
    pub async fn read_unit(&self, fk_uuid: FkUuid) -> Result<UnitRegistration, ClientError> {
        let (service, op) = (Service::OrganisationEnhed, Operation::Laes);
        let output = self.soap_output(service, op, &soap::laes_input(service, &fk_uuid.to_string())).await?;
        let (status, message) = soap::standard_retur(&output).map_err(|e| soap_error(service, op, e))?;
        if status == soap::status::NOT_FOUND {
            return Err(ClientError::UnknownUnit(fk_uuid));
        }
        check_status(service, op, status, message)?;
        soap::unit_of_laes_output(&output, chrono::Utc::now()).map_err(|e| soap_error(service, op, e))
    }

    /// The unit's SOR-role addresses in effect now: (address uuid, text).
    async fn sor_addresses(&self, unit: &UnitRegistration) -> Result<Vec<(String, String)>, ClientError> {
        let (service, op) = (Service::Adresse, Operation::Laes);
        let now = chrono::Utc::now();
        let mut found = Vec::new();
        for r in unit.current_addresses(roles::UNIT_SOR_ID, now) {
            let Some(uuid) = r.reference_uuid() else { continue };
            let output = self.soap_output(service, op, &soap::laes_input(service, &uuid)).await?;
            let (status, message) = soap::standard_retur(&output).map_err(|e| soap_error(service, op, e))?;
            check_status(service, op, status, message)?;
            let address = soap::address_of_laes_output(&output, now).map_err(|e| soap_error(service, op, e))?;
            if let Some(text) = address.text {
                found.push((uuid, text.trim().to_string()));
            }
        }
        Ok(found)
    }

    /// `organisationenhed ret` with the unit's whole relation list.
    async fn ret_unit(&self, fk_uuid: FkUuid, relations: &[soap::Relation]) -> Result<(), ClientError> {
        let (service, op) = (Service::OrganisationEnhed, Operation::Ret);
        let payload = soap::unit_ret_input(&fk_uuid.to_string(), relations).map_err(|e| soap_error(service, op, e))?;
        let (status, message) = self.soap(service, op, &payload).await?;
        if status == soap::status::NOT_FOUND {
            return Err(ClientError::UnknownUnit(fk_uuid));
        }
        check_status(service, op, status, message)
    }

    /// One SOAP call; returns the StandardRetur of its output.
    async fn soap(
        &self,
        service: Service,
        operation: Operation,
        payload: &str,
    ) -> Result<(i64, Option<String>), ClientError> {
        let output = self.soap_output(service, operation, payload).await?;
        soap::standard_retur(&output).map_err(|e| soap_error(service, operation, e))
    }

    /// One SOAP call (retried on timeouts and 5xx like every request); returns the output element.
    async fn soap_output(
        &self,
        service: Service,
        operation: Operation,
        payload: &str,
    ) -> Result<crate::sorus::envelope::Node, ClientError> {
        let url = self
            .soap_base
            .join(&format!("{}/6/", service.name()))
            .map_err(|e| ClientError::Config(format!("cannot form the {} address: {e}", service.name())))?;
        let cvr = self.municipality.ok_or_else(|| {
            ClientError::Config("the FK-ORG client needs the municipality for SOAP calls (for_municipality)".into())
        })?;
        let token = self.sts_token(cvr).await?;
        let action = soap::soap_action(service, operation);
        let addressing = super::oioidws::Addressing {
            action: &action,
            to: url.as_str(),
            message_id: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        };
        let header = soap::request_header(&uuid::Uuid::new_v4().to_string());
        let envelope =
            super::oioidws::secured_request(&self.identity, &token, &addressing, &header, payload, chrono::Utc::now())
                .map_err(|e| ClientError::Security(e.to_string()))?;
        let content_type =
            format!("application/soap+xml; charset=utf-8; action=\"{}\"", soap::soap_action(service, operation));
        let answer = self
            .send_with_retries(&url, || {
                self.http
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                    .body(envelope.clone())
            })
            .await?;
        let message = soap::parse_message(&answer.body).map_err(|e| match e {
            SoapError::Xml(_) | SoapError::NotSoap(_) if !answer.status.is_success() => {
                ClientError::Rejected { status: answer.status.as_u16(), detail: body_detail(&answer.body) }
            }
            e => soap_error(service, operation, e),
        })?;
        soap::expect_element(&message.payload, service, operation.output_element())
            .map_err(|e| soap_error(service, operation, e))?;
        Ok(message.payload)
    }

    /// Sends one GraphQL request with a valid token and the transaction headers; a 401 gets one
    /// more try with a fresh token.
    async fn graphql(&self, cvr: Cvr, query: &str, variables: Value) -> Result<Value, ClientError> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let mut fresh_token_tried = false;
        loop {
            let token = self.access_token(cvr).await?;
            let answer = self
                .send_with_retries(&self.endpoint, || {
                    self.http
                        .post(self.endpoint.clone())
                        .bearer_auth(&token)
                        .header("x-TransaktionsId", uuid::Uuid::new_v4().to_string())
                        .header(
                            "x-TransaktionsTid",
                            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        )
                        .json(&body)
                })
                .await?;
            match answer.status {
                s if s.is_success() => return parse_graphql_body(&answer.body),
                StatusCode::UNAUTHORIZED if !fresh_token_tried => {
                    // The token may have been revoked or expired early: get a new one once.
                    fresh_token_tried = true;
                    *self.token.lock().await = None;
                }
                StatusCode::UNAUTHORIZED => {
                    return Err(ClientError::TokenRefused {
                        client_id: ORGANISATION_SERVICE.to_string(),
                        detail: body_detail(&answer.body),
                    })
                }
                s => return Err(ClientError::Rejected { status: s.as_u16(), detail: body_detail(&answer.body) }),
            }
        }
    }

    /// The STS token for SOAP calls on behalf of `cvr`: the cached one while it has more than a
    /// minute left, else a new one (a WS-Trust Issue request signed with the certificate).
    async fn sts_token(&self, cvr: Cvr) -> Result<StsToken, ClientError> {
        let mut cached = self.sts_token.lock().await;
        let margin = chrono::Duration::seconds(60);
        if let Some((_, t)) = cached.as_ref().filter(|(c, t)| *c == cvr && chrono::Utc::now() + margin < t.expires) {
            return Ok(t.clone());
        }
        let request = super::oioidws::issue_request(
            &self.identity,
            self.sts_url.as_str(),
            ORGANISATION_SERVICE,
            &cvr.to_string(),
            chrono::Utc::now(),
        )
        .map_err(|e| ClientError::Security(e.to_string()))?;
        let content_type =
            format!("application/soap+xml; charset=utf-8; action=\"{}\"", super::oioidws::unconfirmed::ISSUE_ACTION);
        let answer = self
            .send_with_retries(&self.sts_url, || {
                self.http
                    .post(self.sts_url.clone())
                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                    .body(request.clone())
            })
            .await?;
        let token = super::oioidws::read_issue_response(&answer.body).map_err(|e| ClientError::StsRefused {
            url: self.sts_url.to_string(),
            status: answer.status.as_u16(),
            detail: e.to_string(),
        })?;
        tracing::debug!(expires = %token.expires, "Got an STS token for FK-ORG's SOAP services.");
        *cached = Some((cvr, token.clone()));
        Ok(token)
    }

    /// A cached access token for `cvr`, or a new one from the token endpoint: with the client
    /// certificate, `client_id` and `scope` as KOMBIT's token service asks (no secret); else with
    /// client id and secret (stand-ins without TLS).
    async fn access_token(&self, cvr: Cvr) -> Result<String, ClientError> {
        let mut cached = self.token.lock().await;
        if let Some((_, t)) = cached.as_ref().filter(|(c, t)| *c == cvr && Instant::now() < t.good_until) {
            return Ok(t.access_token.clone());
        }
        let scope = format!("entityid:{ORGANISATION_SERVICE},anvenderkontekst:{cvr}");
        let form: Vec<(&str, &str)> =
            vec![("grant_type", "client_credentials"), ("client_id", ORGANISATION_SERVICE), ("scope", &scope)];
        let answer =
            self.send_with_retries(&self.token_url, || self.http.post(self.token_url.clone()).form(&form)).await?;
        if !answer.status.is_success() {
            return Err(ClientError::CredentialsRefused {
                url: self.token_url.to_string(),
                client_id: ORGANISATION_SERVICE.to_string(),
                status: answer.status.as_u16(),
                detail: body_detail(&answer.body),
            });
        }
        let bad = |detail: String| ClientError::BadToken { url: self.token_url.to_string(), detail };
        let v: Value = serde_json::from_slice(&answer.body).map_err(|e| bad(format!("not JSON ({e})")))?;
        let access_token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("no access_token in the answer".into()))?
            .to_string();
        if let Some(kind) = v.get("token_type").and_then(Value::as_str) {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(bad(format!("token_type is {kind:?}, expected Bearer")));
            }
        }
        // A token is kept at most a day, whatever the server says (and a huge value cannot overflow).
        let lifetime = Duration::from_secs(v.get("expires_in").and_then(Value::as_u64).unwrap_or(300).min(86_400));
        let margin = (lifetime / 10).min(Duration::from_secs(30));
        *cached = Some((
            cvr,
            CachedToken { access_token: access_token.clone(), good_until: Instant::now() + lifetime - margin },
        ));
        tracing::debug!(expires_in_secs = lifetime.as_secs(), "Got an FK-ORG access token.");
        Ok(access_token)
    }

    /// Sends a request, retrying with backoff on timeouts, connection errors and 5xx answers (at
    /// most `fkorg.max_retries` times, [`retry_with_backoff`]). Any other answer (success or 4xx)
    /// is returned for the caller to judge.
    async fn send_with_retries(
        &self,
        url: &Url,
        request: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, ClientError> {
        let request = &request;
        let mut attempts = 0u32;
        let result = retry_with_backoff(&self.retry, |n| {
            attempts = n + 1;
            async move {
                let problem = match request().timeout(self.timeout).send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        match crate::net::read_capped(resp, MAX_ANSWER_BYTES).await {
                            Ok(body) if !status.is_server_error() => return Ok(Answer { status, body }),
                            Ok(body) => format!("HTTP {} {}", status.as_u16(), body_detail(&body)),
                            Err(crate::net::ReadFailure::TooLong { cap }) => {
                                return Err(Failure::Final(ClientError::Unavailable {
                                    url: url.to_string(),
                                    attempts: n + 1,
                                    last: format!("the answer is longer than {cap} bytes; not read"),
                                }))
                            }
                            Err(crate::net::ReadFailure::Broken(e)) => {
                                format!("reading the answer failed: {}", describe(&e))
                            }
                        }
                    }
                    Err(e) if e.is_builder() => return Err(Failure::Final(ClientError::Config(describe(&e)))),
                    Err(e) => describe(&e),
                };
                tracing::warn!(url = %url, attempt = n + 1, %problem, "FK-ORG request failed.");
                Err(Failure::Temporary(problem))
            }
        })
        .await;
        result.map_err(|failure| match failure {
            Failure::Final(e) => e,
            Failure::Temporary(last) => ClientError::Unavailable { url: url.to_string(), attempts, last },
        })
    }
}

/// Why one FK-ORG request failed: a timeout, a broken connection or a 5xx answer is tried again.
enum Failure {
    Temporary(String),
    Final(ClientError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Temporary(problem) => f.write_str(problem),
            Failure::Final(e) => e.fmt(f),
        }
    }
}

impl Retryable for Failure {
    fn is_temporary(&self) -> bool {
        matches!(self, Failure::Temporary(_))
    }
}

/// What a write to FK-ORG did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteBack {
    Written,
    /// FK-ORG already showed it so (or, for an end, did not show it): nothing was sent.
    AlreadyShown,
}

/// The UUID of the address object that holds `sor_id` for `unit`: the same for every attempt.
fn sor_address_uuid(unit: FkUuid, sor_id: SorId) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("sorsync:sor-address:{unit}:{sor_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

fn soap_error(service: Service, operation: Operation, problem: SoapError) -> ClientError {
    ClientError::Soap { service: service.name(), operation: operation.name(), problem }
}

fn check_status(
    service: Service,
    operation: Operation,
    status: i64,
    message: Option<String>,
) -> Result<(), ClientError> {
    if status == soap::status::OK {
        return Ok(());
    }
    Err(ClientError::Status {
        service: service.name(),
        operation: operation.name(),
        status,
        message: message.unwrap_or_else(|| "(no FejlbeskedTekst)".to_string()),
    })
}

impl ClientError {
    /// Classes the error for the apply engine: what may go away by itself is temporary.
    pub fn to_write_error(&self) -> WriteError {
        let message = self.to_string();
        match self {
            ClientError::Soap { problem, .. } if problem.is_temporary() => WriteError::Temporary(message),
            // An unreadable answer: every step of a write-back can be sent again safely (the
            // address object's UUID is fixed, `ret` sends the whole relation list).
            ClientError::Soap { problem: SoapError::Xml(_) | SoapError::NotSoap(_), .. } => {
                WriteError::Temporary(message)
            }
            ClientError::Status { status, .. } if *status >= soap::status::SERVER_ERROR => {
                WriteError::Temporary(message)
            }
            // The write is idempotent, so an unreadable answer is safe to retry.
            ClientError::Unavailable { .. } | ClientError::BadResponse(_) => WriteError::Temporary(message),
            ClientError::Rejected { status, .. } if matches!(status, 408 | 429) || *status >= 500 => {
                WriteError::Temporary(message)
            }
            _ => WriteError::Permanent(message),
        }
    }
}

impl FkWriteBack for FkOrgClient {
    async fn shown_sor_ids(&self, fk_uuid: &FkUuid) -> Result<Vec<String>, WriteError> {
        FkOrgClient::shown_sor_ids(self, *fk_uuid).await.map_err(|e| e.to_write_error())
    }

    async fn write_sor_id(&self, fk_uuid: &FkUuid, sor_id: &SorId) -> Result<(), WriteError> {
        FkOrgClient::write_sor_id(self, *fk_uuid, *sor_id).await.map(|_| ()).map_err(|e| e.to_write_error())
    }

    async fn end_sor_id(&self, fk_uuid: &FkUuid, sor_id: &SorId) -> Result<(), WriteError> {
        FkOrgClient::end_sor_id(self, *fk_uuid, *sor_id).await.map(|_| ()).map_err(|e| e.to_write_error())
    }
}

#[derive(Debug, Clone, Copy)]
enum List {
    Units,
    Users,
}

impl List {
    fn query(self) -> &'static str {
        match self {
            List::Units => UNITS_QUERY,
            List::Users => USERS_QUERY,
        }
    }
    fn field(self) -> &'static str {
        match self {
            List::Units => "organisationEnhedListe",
            List::Users => "brugerListe",
        }
    }
}

/// The cursor to ask for next, or `None` on the last page. Refuses paging that does not advance.
fn next_cursor(info: PageInfo, after: Option<&str>) -> Result<Option<String>, ClientError> {
    if !info.has_next_page {
        return Ok(None);
    }
    let Some(next) = info.end_cursor else {
        return Err(ClientError::BadResponse("pageInfo says hasNextPage but gives no endCursor".into()));
    };
    if after == Some(next.as_str()) {
        return Err(ClientError::PagingStuck { cursor: next });
    }
    Ok(Some(next))
}

fn parse_graphql_body(body: &[u8]) -> Result<Value, ClientError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ClientError::BadResponse(format!("not JSON ({e})")))?;
    if let Some(errors) = v.get("errors").and_then(Value::as_array).filter(|a| !a.is_empty()) {
        let messages: Vec<String> = errors
            .iter()
            .map(|e| e.get("message").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| e.to_string()))
            .collect();
        return Err(ClientError::GraphQl(messages.join("; ")));
    }
    if !v.get("data").is_some_and(Value::is_object) {
        return Err(ClientError::BadResponse("no \"data\" object in the answer".into()));
    }
    Ok(v)
}

/// A short, printable summary of an error answer's body: the message fields of a JSON body,
/// else its first 200 characters.
fn body_detail(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let parts: Vec<&str> = ["error", "error_description", "message"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(Value::as_str))
            .collect();
        if !parts.is_empty() {
            return parts.join(": ");
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_that_does_not_advance_is_refused() {
        let info = PageInfo { has_next_page: true, end_cursor: Some("c1".into()) };
        assert!(matches!(next_cursor(info.clone(), Some("c1")), Err(ClientError::PagingStuck { .. })));
        assert_eq!(next_cursor(info, Some("c0")).unwrap().as_deref(), Some("c1"));
        let last = PageInfo { has_next_page: false, end_cursor: Some("c9".into()) };
        assert_eq!(next_cursor(last, Some("c8")).unwrap(), None);
    }

    #[test]
    fn soap_answers_are_classed_for_the_engine() {
        let soap = |problem| ClientError::Soap { service: "organisationenhed", operation: "ret", problem };
        let receiver = SoapError::Fault { code: "Receiver".into(), reason: "nede".into() };
        assert!(soap(receiver).to_write_error().is_temporary());
        assert!(soap(SoapError::Xml("truncated".into())).to_write_error().is_temporary());
        let sender = SoapError::Fault { code: "Sender".into(), reason: "forkert".into() };
        assert!(!soap(sender).to_write_error().is_temporary());
        assert!(!soap(SoapError::UnknownRelation("Noget".into())).to_write_error().is_temporary());
        let status =
            |status| ClientError::Status { service: "adresse", operation: "importer", status, message: "x".into() };
        assert!(status(52).to_write_error().is_temporary());
        assert!(!status(40).to_write_error().is_temporary());
        let other = SorId::from_running_number(1);
        let unit = FkUuid::parse("0b0e5a2e-6d38-4c1b-9c39-8e3f1a6f1a01").unwrap();
        let held = ClientError::OtherSorId { unit, shown: "x".into(), wanted: other };
        assert!(!held.to_write_error().is_temporary(), "never retried into an overwrite");
    }

    #[test]
    fn a_client_secret_is_refused_and_not_shown() {
        let cfg = FkOrgConfig { client_secret: Some("hemmelig-42".into()), ..FkOrgConfig::default() };
        let err = FkOrgClient::new(&cfg).unwrap_err().to_string();
        assert!(!err.contains("hemmelig-42") && err.contains("fkorg.client_pkcs12"), "{err}");
        assert!(!format!("{cfg:?}").contains("hemmelig-42"));
    }

    #[test]
    fn a_bad_configuration_is_refused_before_any_request() {
        let cfg = FkOrgConfig { endpoint: "not a url".into(), ..FkOrgConfig::default() };
        assert!(matches!(FkOrgClient::new(&cfg), Err(ClientError::Config(_))));
        let cfg = FkOrgConfig { page_size: 0, ..FkOrgConfig::default() };
        assert!(matches!(FkOrgClient::new(&cfg), Err(ClientError::Config(_))));
        let cfg = FkOrgConfig { kle: vec!["29.09.00".into(), "sundhed".into()], ..FkOrgConfig::default() };
        let err = FkOrgClient::new(&cfg).unwrap_err().to_string();
        assert!(err.contains("fkorg.kle") && err.contains("sundhed"), "{err}");
    }
}
