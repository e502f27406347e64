//! Stand-in for FK-ORG's GraphQL read API: the subset of `schemaOrganisationV1.gql` that sorsync
//! uses (`organisationEnhedListe`, `brugerListe` with Relay paging), with the same type and field
//! names, behind an OAuth2 client-credentials token endpoint and KOMBIT's transaction headers.
//! Faults (latency, a share of 503 answers, a share of requests that hang until the client times
//! out) can be injected, deterministically from a seed.
//!
//! Writes come, as on FK-ORG, through the SOAP service "Organisation 6" at the published paths
//! (`/organisation/adresse/6/`, `/organisation/organisationenhed/6/`: `importer`, `laes`, `ret`;
//! envelopes in [`crate::sources::fkorg_soap`]). The GraphQL schema has no mutation, like the
//! real one. Units keep their relations as Organisation 6 shows them (addresses, KLE tasks,
//! parent, organisation); what `ret` writes shows up in later GraphQL reads.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::{
    ComplexObject, EmptyMutation, EmptySubscription, Enum, InputObject, InputValueError, InputValueResult, Object,
    Scalar, ScalarType, Schema, SimpleObject, Value as GqlValue,
};
use axum::body::Bytes;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::tls::ClientCertificate;
use crate::domain::fkorg::roles;
use crate::domain::{FkStatus, FkTree, FkUuid};
use crate::sources::fkorg_client::ORGANISATION_SERVICE;
use crate::sources::fkorg_soap::{self as soap, Operation, Service};
use crate::sources::oioidws;

/// Where the GraphQL API is served, as on the real FK-ORG.
pub const GRAPHQL_PATH: &str = "/organisation/organisationhent/1";
/// The token endpoint, at KOMBIT's path.
pub const TOKEN_PATH: &str = "/runtime/api/rest/oauth/v1/issue";
/// The most units or users one page may ask for (`first`).
pub const MAX_PAGE_SIZE: i32 = 500;

/// Counters a test can read to see what the stand-in did.
#[derive(Debug, Default)]
pub struct StandInStats {
    /// Every request to the GraphQL endpoint, accepted or not.
    pub graphql_requests: AtomicU64,
    /// GraphQL requests answered 503 by fault injection.
    pub injected_failures: AtomicU64,
    /// GraphQL requests held back (to make clients time out) by fault injection.
    pub injected_hangs: AtomicU64,
    /// GraphQL requests refused with 400 or 401.
    pub refused: AtomicU64,
    pub tokens_issued: AtomicU64,
    /// Token requests refused (wrong credentials or grant type).
    pub token_refusals: AtomicU64,
    /// Every Organisation 6 SOAP request, as received (tests validate them against the schemas).
    pub soap_requests: Mutex<Vec<String>>,
    /// The `scope` of every token issued to a client certificate.
    pub token_scopes: Mutex<Vec<String>>,
    /// Organisation 6 requests refused for their OIOIDWS security (SOAP Fault).
    pub soap_refused: AtomicU64,
}

impl StandInStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// How the stand-in behaves.
#[derive(Debug, Clone)]
pub struct StandInOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Added to every GraphQL request before it is answered.
    pub latency: Duration,
    /// Share of GraphQL requests (0.0 to 1.0) that answer 503 Service Unavailable.
    pub fail_rate: f64,
    /// Share of GraphQL requests (0.0 to 1.0) that hang for `hang_time` before answering 504,
    /// so that clients time out.
    pub hang_rate: f64,
    pub hang_time: Duration,
    /// Seed for the fault injection, so a run can be repeated.
    pub seed: u64,
    /// How long an issued token is valid.
    pub token_ttl: Duration,
    /// Counters; clone the `Arc` before spawning to read them.
    pub stats: Arc<StandInStats>,
    /// KLE task numbers per unit, served as the units' `Opgaver` relations.
    pub tasks: HashMap<FkUuid, Vec<String>>,
    /// Serve HTTPS with this configuration (see [`super::tls`]): the token endpoint issues
    /// tokens only to a client certificate from the stand-in's CA, as KOMBIT's does. `None`:
    /// plain HTTP on loopback, where no token is issued (set both with [`StandInOptions::with_certs`]).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// IT systems (UUIDs) each unit is assigned to in FK-ORG's administration module, served as
    /// the units' `TilknyttedeItSystemer` relations.
    pub it_systems: HashMap<FkUuid, Vec<uuid::Uuid>>,
    /// OIOIDWS: the STS at [`oioidws::STS_PATH`] and the checks on every Organisation 6 request
    /// (from the certificate directory, [`super::tls::StandInCerts::security`]). `None`: the STS
    /// and the SOAP services refuse everything.
    pub security: Option<Arc<super::sts::Security>>,
}

impl StandInOptions {
    /// HTTPS with the certificates in `certs`, the STS and OIOIDWS on the SOAP services.
    pub fn with_certs(mut self, certs: &super::tls::StandInCerts) -> std::io::Result<Self> {
        self.tls = Some(certs.server_config()?);
        self.security = Some(certs.security()?);
        Ok(self)
    }
}

impl Default for StandInOptions {
    fn default() -> Self {
        StandInOptions {
            port: 0,
            latency: Duration::ZERO,
            fail_rate: 0.0,
            hang_rate: 0.0,
            hang_time: Duration::from_secs(60),
            seed: 0,
            token_ttl: Duration::from_secs(3600),
            stats: Arc::new(StandInStats::default()),
            tasks: HashMap::new(),
            it_systems: HashMap::new(),
            tls: None,
            security: None,
        }
    }
}

/// Starts the stand-in on 127.0.0.1 (port from `opts`, 0 = any free port) serving `tree`.
/// Returns the bound address and the server task.
pub async fn spawn(tree: FkTree, opts: StandInOptions) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, opts.port)).await?;
    let addr = listener.local_addr()?;
    let tls = opts.tls.clone();
    let app = router(tree, opts);
    let handle = tokio::spawn(async move {
        match tls {
            Some(config) => super::tls::serve_tls(listener, app, config).await,
            None => {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!(error = %e, "FK-ORG stand-in stopped");
                }
            }
        }
    });
    Ok((addr, handle))
}

/// The stand-in's routes, for serving on a listener of the caller's choice.
pub fn router(tree: FkTree, opts: StandInOptions) -> Router {
    let data = Arc::new(Data::new(tree, &opts.tasks, &opts.it_systems));
    let schema = Schema::build(QueryRoot { data: data.clone() }, EmptyMutation, EmptySubscription).finish();
    let app = Arc::new(App {
        schema,
        data,
        rng: Mutex::new(ChaCha8Rng::seed_from_u64(opts.seed)),
        tokens: Mutex::new(HashMap::new()),
        transaction_ids: Mutex::new(std::collections::HashSet::new()),
        opts,
    });
    Router::new()
        .route(GRAPHQL_PATH, post(graphql))
        .route(TOKEN_PATH, post(token))
        .route(oioidws::STS_PATH, post(sts))
        .route(Service::Adresse.path(), post(soap_adresse))
        .route(Service::OrganisationEnhed.path(), post(soap_enhed))
        .with_state(app)
}

type FkSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

struct App {
    schema: FkSchema,
    data: Arc<Data>,
    opts: StandInOptions,
    rng: Mutex<ChaCha8Rng>,
    tokens: Mutex<HashMap<String, Instant>>,
    /// Every x-TransaktionsId seen: each request must bring a new one.
    transaction_ids: Mutex<std::collections::HashSet<uuid::Uuid>>,
}

impl App {
    fn token_is_valid(&self, token: &str) -> bool {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.get(token).is_some_and(|&expires| Instant::now() < expires)
    }

    /// Draws the fault for one request (one draw per request, so a seed repeats a run).
    fn draw_fault(&self) -> Fault {
        if self.opts.fail_rate <= 0.0 && self.opts.hang_rate <= 0.0 {
            return Fault::None;
        }
        let r = self.rng.lock().unwrap_or_else(|p| p.into_inner()).gen::<f64>();
        if r < self.opts.fail_rate {
            Fault::Fail
        } else if r < self.opts.fail_rate + self.opts.hang_rate {
            Fault::Hang
        } else {
            Fault::None
        }
    }
}

enum Fault {
    None,
    Fail,
    Hang,
}

fn refusal(status: StatusCode, message: String) -> Response {
    let mut resp = (status, Json(serde_json::json!({ "message": message }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    resp
}

/// Checks KOMBIT's transaction headers; the message names the header that is missing or wrong.
/// Returns the transaction id.
fn check_transaction_headers(headers: &HeaderMap) -> Result<uuid::Uuid, String> {
    let id = headers.get("x-TransaktionsId").ok_or("missing header x-TransaktionsId (a UUID per request)")?;
    let id = id.to_str().unwrap_or("");
    let Ok(transaction_id) = uuid::Uuid::parse_str(id.trim()) else {
        return Err(format!("header x-TransaktionsId: {id:?} is not a UUID"));
    };
    let time = headers.get("x-TransaktionsTid").ok_or("missing header x-TransaktionsTid (an ISO 8601 date-time)")?;
    let time = time.to_str().unwrap_or("");
    if !matches!(crate::sources::fkorg_json::parse_iso_datetime(time), Some(Some(_))) {
        return Err(format!("header x-TransaktionsTid: {time:?} is not an ISO 8601 date-time"));
    }
    Ok(transaction_id)
}

async fn graphql(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let stats = &app.opts.stats;
    stats.graphql_requests.fetch_add(1, Ordering::Relaxed);
    if !app.opts.latency.is_zero() {
        tokio::time::sleep(app.opts.latency).await;
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
    let Some(token) = bearer else {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        return refusal(StatusCode::UNAUTHORIZED, "missing header Authorization: Bearer <token>".into());
    };
    if !app.token_is_valid(token.trim()) {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        return refusal(StatusCode::UNAUTHORIZED, "the bearer token is not valid or has expired".into());
    }
    let transaction_id = match check_transaction_headers(&headers) {
        Ok(id) => id,
        Err(message) => {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            return refusal(StatusCode::BAD_REQUEST, message);
        }
    };
    let is_new = app.transaction_ids.lock().unwrap_or_else(|p| p.into_inner()).insert(transaction_id);
    if !is_new {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        let message =
            format!("header x-TransaktionsId: {transaction_id} was already used; send a new UUID per request");
        return refusal(StatusCode::BAD_REQUEST, message);
    }
    match app.draw_fault() {
        Fault::None => {}
        Fault::Fail => {
            stats.injected_failures.fetch_add(1, Ordering::Relaxed);
            return refusal(StatusCode::SERVICE_UNAVAILABLE, "stand-in: injected failure (--fail-rate)".into());
        }
        Fault::Hang => {
            stats.injected_hangs.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(app.opts.hang_time).await;
            return refusal(StatusCode::GATEWAY_TIMEOUT, "stand-in: injected hang (--hang-rate)".into());
        }
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            return refusal(StatusCode::BAD_REQUEST, format!("the body is not a GraphQL request: {e}"));
        }
    };
    Json(app.schema.execute(request).await).into_response()
}

async fn token(
    State(app): State<Arc<App>>,
    certificate: Option<Extension<ClientCertificate>>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let stats = &app.opts.stats;
    let oauth_error = |status: StatusCode, error: &str, description: &str| {
        stats.token_refusals.fetch_add(1, Ordering::Relaxed);
        (status, Json(serde_json::json!({ "error": error, "error_description": description }))).into_response()
    };
    let Ok(Form(form)) = form else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "expected a form-encoded body");
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only client_credentials is supported");
    }
    let shown = certificate.is_some_and(|Extension(ClientCertificate(shown))| shown);
    if app.opts.tls.is_none() {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the stand-in issues tokens only over HTTPS to a client certificate (start it with --certs DIR)",
        );
    }
    // KOMBIT's way: the client certificate is the credential; client_id names the service
    // and the scope names it and the municipality the token is for.
    if !shown {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "a client certificate issued by the stand-in's CA is required (TLS client authentication)",
        );
    }
    if form.get("client_id").map(String::as_str) != Some(ORGANISATION_SERVICE) {
        let message = format!("client_id must be {ORGANISATION_SERVICE}");
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &message);
    }
    let scope = form.get("scope").map(String::as_str).unwrap_or_default();
    let parts: Vec<&str> = scope.split(',').map(str::trim).collect();
    let entity = parts.iter().find_map(|p| p.strip_prefix("entityid:"));
    let cvr = parts.iter().find_map(|p| p.strip_prefix("anvenderkontekst:"));
    let cvr = match (entity, cvr.map(crate::domain::Cvr::parse)) {
        (Some(ORGANISATION_SERVICE), Some(Ok(cvr))) => cvr,
        _ => {
            let message = format!("scope must be entityid:{ORGANISATION_SERVICE},anvenderkontekst:<CVR>");
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &message);
        }
    };
    if app.data.tree.cvr.is_some_and(|own| own != cvr) {
        return oauth_error(StatusCode::FORBIDDEN, "invalid_scope", &format!("no service agreement for CVR {cvr}"));
    }
    stats.token_scopes.lock().unwrap_or_else(|p| p.into_inner()).push(scope.to_string());
    let token = format!("standin-{}", uuid::Uuid::new_v4().simple());
    let ttl = app.opts.token_ttl;
    {
        let mut tokens = app.tokens.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        tokens.retain(|_, &mut expires| expires > now);
        tokens.insert(token.clone(), now.checked_add(ttl).unwrap_or(now + Duration::from_secs(86_400 * 365)));
    }
    stats.tokens_issued.fetch_add(1, Ordering::Relaxed);
    Json(serde_json::json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl.as_secs() }))
        .into_response()
}

async fn sts(State(app): State<Arc<App>>, certificate: Option<Extension<ClientCertificate>>, body: Bytes) -> Response {
    let state =
        super::sts::StsState { security: app.opts.security.clone(), cvr: app.data.tree.cvr.map(|c| c.to_string()) };
    super::sts::issue(State(state), certificate, body).await
}

async fn soap_adresse(State(app): State<Arc<App>>, body: Bytes) -> Response {
    organisation6(&app, Service::Adresse, &body).await
}

async fn soap_enhed(State(app): State<Arc<App>>, body: Bytes) -> Response {
    organisation6(&app, Service::OrganisationEnhed, &body).await
}

/// One Organisation 6 call: a SOAP 1.2 answer with the operation's Output, or a Fault for a
/// message that is not one (Sender) .
async fn organisation6(app: &App, service: Service, body: &[u8]) -> Response {
    app.opts.stats.soap_requests.lock().unwrap_or_else(|p| p.into_inner()).push(String::from_utf8_lossy(body).into());
    if !app.opts.latency.is_zero() {
        tokio::time::sleep(app.opts.latency).await;
    }
    let soap_response = |status: StatusCode, xml: String| {
        (status, [(header::CONTENT_TYPE, "application/soap+xml; charset=utf-8")], xml).into_response()
    };
    let sender_fault = |reason: String| soap_response(StatusCode::BAD_REQUEST, soap::fault("Sender", &reason));
    let (op, request, transaction) = match soap::parse_request(service, body, chrono::Utc::now()) {
        Ok(parsed) => parsed,
        Err(e) => return sender_fault(e.to_string()),
    };
    // OIOIDWS: the STS's token for this municipality, the message signed by its holder.
    let Some(security) = &app.opts.security else {
        return sender_fault(
            "wsse:InvalidSecurity: the stand-in serves Organisation 6 only with --certs DIR (OIOIDWS)".into(),
        );
    };
    let own_cvr = app.data.tree.cvr.map(|c| c.to_string());
    if let Err(reason) = security.check_request(body, &soap::soap_action(service, op), own_cvr.as_deref()) {
        app.opts.stats.soap_refused.fetch_add(1, Ordering::Relaxed);
        return sender_fault(format!("wsse:InvalidSecurity: {reason}"));
    }
    let Some(transaction) = transaction.filter(|t| !t.is_empty()) else {
        return sender_fault("missing RequestHeader/TransactionUUID".into());
    };
    let payload = app.data.organisation6(service, op, request);
    soap_response(StatusCode::OK, soap::envelope(&transaction, &payload))
}

// ---- the data served ----

/// A unit or user address as served: built once from the domain tree.
#[derive(Clone, SimpleObject)]
struct Adresse {
    uuid: UuidScalar,
    adresse_tekst: String,
    brugervendt_noegle: Option<String>,
    adresse_rolle_titel: Option<String>,
    klassifikation: KlassifikationRelation,
}

#[derive(Clone, SimpleObject)]
struct KlassifikationRelation {
    #[graphql(name = "type")]
    kind: UuidScalar,
    rolle: UuidScalar,
    indeks: String,
}

/// The classification type of unit addresses (from the schema's example) and of user addresses.
const UNIT_ADDRESS_TYPE: &str = soap::UNIT_ADDRESS_TYPE;
const USER_ADDRESS_TYPE: &str = "e6d8a3ab-0c3a-4ba0-8e29-0b6a3e7a1c11";

struct Data {
    tree: FkTree,
    /// Units in pre-order, so the root comes first.
    order: Vec<usize>,
    /// What Organisation 6 holds and writes: read by GraphQL too.
    registry: std::sync::RwLock<Registry>,
    /// KLE numbers by the UUID of their class (the `Opgaver` relations' references).
    kle_numbers: HashMap<String, String>,
    user_addresses: Vec<Vec<Adresse>>,
}

/// An address object: its text and user-facing key.
#[derive(Debug, Clone)]
struct AddressObject {
    text: String,
    brugervendt_noegle: Option<String>,
}

/// The writable part of FK-ORG: every unit's relations (indexed like `tree.units`) and the
/// address objects they point at.
struct Registry {
    relations: Vec<Vec<soap::Relation>>,
    addresses: HashMap<String, AddressObject>,
}

impl Registry {
    /// The unit's addresses in effect now, as GraphQL shows them.
    fn unit_addresses(&self, i: usize) -> Vec<Adresse> {
        let now = chrono::Utc::now();
        let Some(relations) = self.relations.get(i) else { return Vec::new() };
        relations
            .iter()
            .filter(|r| r.kind == "Adresser" && r.is_current(now))
            .filter_map(|r| {
                let uuid = r.reference_uuid()?;
                let object = self.addresses.get(&uuid)?;
                let role = r.role_uuid()?;
                Some(Adresse {
                    uuid: UuidScalar(uuid),
                    adresse_tekst: object.text.clone(),
                    brugervendt_noegle: object.brugervendt_noegle.clone(),
                    adresse_rolle_titel: UNIT_ROLES.iter().find(|(r, _)| *r == role).map(|(_, t)| t.to_string()),
                    klassifikation: KlassifikationRelation {
                        kind: UuidScalar(r.class.as_ref().and_then(|c| c.id.as_uuid()).unwrap_or_default()),
                        rolle: UuidScalar(role),
                        indeks: r.index.clone().unwrap_or_default(),
                    },
                })
            })
            .collect()
    }
}

/// A relation as the stand-in seeds it: in effect from the open start.
fn seeded_relation(kind: &str, reference: &str, dynamic: Option<(&str, Option<&str>, &str, &str)>) -> soap::Relation {
    let class =
        |id: &str, label: Option<&str>| soap::Classified { id: soap::Id::uuid(id), label: label.map(str::to_string) };
    soap::Relation {
        kind: kind.to_string(),
        virkning: Some(soap::Virkning {
            from: Some(soap::Tidspunkt::Open),
            to: Some(soap::Tidspunkt::Open),
            ..soap::Virkning::default()
        }),
        reference: Some(soap::Id::uuid(reference)),
        role: dynamic.map(|(role, label, _, _)| class(role, label)),
        class: dynamic.map(|(_, _, kind, _)| class(kind, None)),
        index: dynamic.map(|(_, _, _, index)| index.to_string()),
    }
}

/// The class UUIDs of a KLE task relation (stand-in values: KLE numbers are the data).
fn kle_class(number: &str) -> String {
    derived_uuid(&["kle", number]).0
}
const KLE_ROLE_LABEL: &str = "Udfoerende";
fn kle_role() -> String {
    derived_uuid(&["kle-rolle", KLE_ROLE_LABEL]).0
}
fn kle_type() -> String {
    derived_uuid(&["kle-type"]).0
}

/// A stable UUID derived from `parts`, for objects the domain does not keep an id for
/// (addresses, persons, the organisation).
fn derived_uuid(parts: &[&str]) -> UuidScalar {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    UuidScalar(uuid::Builder::from_random_bytes(bytes).into_uuid().to_string())
}

fn addresses(owner: FkUuid, kind: &str, list: &[(&str, &str, Option<String>)]) -> Vec<Adresse> {
    list.iter()
        .filter_map(|(role, title, text)| Some((role, title, text.clone()?)))
        .enumerate()
        .map(|(i, (role, title, text))| Adresse {
            uuid: derived_uuid(&[&owner.to_string(), role]),
            adresse_tekst: text,
            brugervendt_noegle: None,
            adresse_rolle_titel: Some(title.to_string()),
            klassifikation: KlassifikationRelation {
                kind: UuidScalar(kind.to_string()),
                rolle: UuidScalar(role.to_string()),
                indeks: (i + 1).to_string(),
            },
        })
        .collect()
}

impl Data {
    fn new(tree: FkTree, tasks: &HashMap<FkUuid, Vec<String>>, it_systems: &HashMap<FkUuid, Vec<uuid::Uuid>>) -> Self {
        let order = tree.tree.preorder().to_vec();
        let organisation = tree.cvr.map(|c| derived_uuid(&["organisation", &c.to_string()]).0);
        let mut address_objects = HashMap::new();
        let relations = tree
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let list = addresses(
                    u.uuid,
                    UNIT_ADDRESS_TYPE,
                    &[
                        (roles::UNIT_SOR_ID, "SOR-ID", u.sor_id.map(|s| s.to_string())),
                        (roles::UNIT_EAN, "EAN", u.ean.map(|s| s.to_string())),
                        (roles::UNIT_P_NUMBER, "P-nummer", u.p_number.map(|s| s.to_string())),
                        (roles::UNIT_POSTAL, "Postadresse", u.postal_address.clone()),
                        (roles::UNIT_EMAIL, "E-mail", u.email.clone()),
                        (roles::UNIT_MOBILE, "Telefon", u.mobile.clone()),
                        (roles::UNIT_LANDLINE, "Fastnet", u.landline.clone()),
                        (roles::UNIT_LOS_ID, "LOS ID", u.los_id.clone()),
                    ],
                );
                let mut relations = Vec::new();
                for a in list {
                    let r = seeded_relation(
                        "Adresser",
                        &a.uuid.0,
                        Some((&a.klassifikation.rolle.0, None, &a.klassifikation.kind.0, &a.klassifikation.indeks)),
                    );
                    address_objects
                        .insert(a.uuid.0.clone(), AddressObject { text: a.adresse_tekst, brugervendt_noegle: None });
                    relations.push(r);
                }
                for (k, number) in tasks.get(&u.uuid).into_iter().flatten().enumerate() {
                    let index = (k + 1).to_string();
                    let (class, role, kind) = (kle_class(number), kle_role(), kle_type());
                    relations.push(seeded_relation(
                        "Opgaver",
                        &class,
                        Some((&role, Some(KLE_ROLE_LABEL), &kind, &index)),
                    ));
                }
                for system in it_systems.get(&u.uuid).into_iter().flatten() {
                    relations.push(seeded_relation("TilknyttedeItSystemer", &system.to_string(), None));
                }
                if let Some(p) = tree.tree.parent(i) {
                    relations.push(seeded_relation("Overordnet", &tree.units[p].uuid.to_string(), None));
                }
                if let Some(org) = &organisation {
                    relations.push(seeded_relation("Tilhoerer", org, None));
                }
                relations
            })
            .collect();
        let user_addresses = tree
            .users
            .iter()
            .map(|u| {
                addresses(
                    u.uuid,
                    USER_ADDRESS_TYPE,
                    &[
                        (roles::USER_EMAIL, "E-mail", u.email.clone()),
                        (roles::USER_MOBILE, "Telefon", u.mobile.clone()),
                        (roles::USER_LANDLINE, "FastnetTelefon", u.landline.clone()),
                    ],
                )
            })
            .collect();
        let registry = Registry { relations, addresses: address_objects };
        let kle_numbers = tasks.values().flatten().map(|n| (kle_class(n), n.clone())).collect();
        Data { tree, order, registry: std::sync::RwLock::new(registry), kle_numbers, user_addresses }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Answers one Organisation 6 request: the Output payload.
    fn organisation6(&self, service: Service, op: Operation, request: soap::Request) -> String {
        use soap::status::{BAD_REQUEST, EXISTS, NOT_FOUND, OK, SERVER_ERROR};
        let basic = |status: i64, message: Option<&str>| soap::basic_output(service, op, status, message);
        let mut reg = self.registry.write().unwrap_or_else(|p| p.into_inner());
        match request {
            soap::Request::Laes { uuid } if service == Service::Adresse => match reg.addresses.get(&uuid) {
                Some(a) => soap::address_laes_output(&soap::AddressProperty {
                    uuid: &uuid,
                    text: &a.text,
                    brugervendt_noegle: a.brugervendt_noegle.as_deref(),
                    virkning: soap::Virkning {
                        from: Some(soap::Tidspunkt::Open),
                        to: Some(soap::Tidspunkt::Open),
                        ..soap::Virkning::default()
                    },
                }),
                None => basic(NOT_FOUND, Some("Adressen findes ikke")),
            },
            soap::Request::Laes { uuid } => {
                let Some(i) = FkUuid::parse(&uuid).ok().and_then(|u| self.tree.index_of(u)) else {
                    return basic(NOT_FOUND, Some("Organisationsenheden findes ikke"));
                };
                let u = &self.tree.units[i];
                let unit = soap::UnitRegistration {
                    uuid,
                    name: Some(u.enhedsnavn.clone()),
                    brugervendt_noegle: u.brugervendt_noegle.clone(),
                    status: Some(match u.status {
                        FkStatus::Aktiv => "Aktiv".to_string(),
                        FkStatus::Inaktiv => "Inaktiv".to_string(),
                    }),
                    relations: reg.relations[i].clone(),
                };
                soap::unit_laes_output(&unit).unwrap_or_else(|e| basic(SERVER_ERROR, Some(&e.to_string())))
            }
            soap::Request::AddressImport { uuid, text, brugervendt_noegle } => {
                if reg.addresses.contains_key(&uuid) {
                    return basic(EXISTS, Some("Objektet findes allerede"));
                }
                if text.trim().is_empty() {
                    return basic(BAD_REQUEST, Some("AdresseTekst er tom"));
                }
                reg.addresses.insert(uuid, AddressObject { text: text.trim().to_string(), brugervendt_noegle });
                basic(OK, None)
            }
            soap::Request::AddressRet { uuid, text } => match reg.addresses.get_mut(&uuid) {
                Some(a) => {
                    a.text = text.trim().to_string();
                    basic(OK, None)
                }
                None => basic(NOT_FOUND, Some("Adressen findes ikke")),
            },
            soap::Request::UnitRet { uuid, relations, other_lists } => {
                let Some(i) = FkUuid::parse(&uuid).ok().and_then(|u| self.tree.index_of(u)) else {
                    return basic(NOT_FOUND, Some("Organisationsenheden findes ikke"));
                };
                if !other_lists.is_empty() {
                    let message = format!("stand-in: ret changes only RelationListe, not {}", other_lists.join(", "));
                    return basic(BAD_REQUEST, Some(&message));
                }
                let Some(relations) = relations else { return basic(OK, None) };
                for r in relations.iter().filter(|r| r.kind == "Adresser") {
                    let Some(address) = r.reference_uuid().and_then(|a| reg.addresses.get(&a)) else {
                        return basic(BAD_REQUEST, Some("an Adresser relation refers to no address object"));
                    };
                    if r.role_uuid().as_deref() == Some(roles::UNIT_SOR_ID) {
                        if let Err(e) = crate::domain::SorId::parse(&address.text) {
                            return basic(BAD_REQUEST, Some(&format!("SOR address: {e}")));
                        }
                    }
                }
                // Each kind of relation present in the request replaces the unit's relations of
                // that kind; kinds not sent stay as they were.
                let sent: std::collections::HashSet<&str> = relations.iter().map(|r| r.kind.as_str()).collect();
                let mut kept: Vec<soap::Relation> =
                    reg.relations[i].iter().filter(|r| !sent.contains(r.kind.as_str())).cloned().collect();
                kept.extend(relations.iter().cloned());
                reg.relations[i] = kept;
                basic(OK, None)
            }
        }
    }
}

// ---- GraphQL types (names as in schemaOrganisationV1.gql) ----

macro_rules! string_scalar {
    ($ty:ident, $name:literal, $check:expr) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        struct $ty(String);

        #[Scalar(name = $name)]
        impl ScalarType for $ty {
            fn parse(value: GqlValue) -> InputValueResult<Self> {
                match value {
                    GqlValue::String(s) => {
                        let check: fn(&str) -> bool = $check;
                        if check(&s) {
                            Ok($ty(s))
                        } else {
                            Err(InputValueError::custom(format!("{s:?} is not a valid {}", $name)))
                        }
                    }
                    other => Err(InputValueError::expected_type(other)),
                }
            }
            fn to_value(&self) -> GqlValue {
                GqlValue::String(self.0.clone())
            }
        }
    };
}

string_scalar!(UuidScalar, "UUID", |s| uuid::Uuid::parse_str(s).is_ok());
string_scalar!(CvrScalar, "CVR", |s| crate::domain::Cvr::parse(s).is_ok());
string_scalar!(DateTimeScalar, "DateTime", |s| matches!(
    crate::sources::fkorg_json::parse_iso_datetime(s),
    Some(Some(_))
));
string_scalar!(CursorScalar, "Cursor", |_| true);
string_scalar!(CprScalar, "CPR", |s| s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit()));
string_scalar!(KleScalar, "KLE", |s| {
    let parts: Vec<&str> = s.split('.').collect();
    (1..=3).contains(&parts.len()) && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
});

/// `KleFilter` of the schema: units with one of these KLE numbers (in this role, when given).
#[derive(InputObject)]
struct KleFilter {
    rolle: Option<UuidScalar>,
    kle_nummer: Vec<KleScalar>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "TilstandStatus")]
enum TilstandStatus {
    #[graphql(name = "AKTIV")]
    Aktiv,
    #[graphql(name = "INAKTIV")]
    Inaktiv,
}

impl TilstandStatus {
    fn from_domain(s: FkStatus) -> Self {
        match s {
            FkStatus::Aktiv => TilstandStatus::Aktiv,
            FkStatus::Inaktiv => TilstandStatus::Inaktiv,
        }
    }
}

#[derive(SimpleObject)]
struct Tilstand {
    status: TilstandStatus,
    fra_tidspunkt: Option<DateTimeScalar>,
    til_tidspunkt: Option<DateTimeScalar>,
}

#[derive(SimpleObject)]
struct PageInfo {
    start_cursor: Option<CursorScalar>,
    end_cursor: Option<CursorScalar>,
    has_next_page: bool,
    has_previous_page: bool,
}

#[derive(SimpleObject)]
struct OrganisationEnhedConnection {
    edges: Option<Vec<Option<OrganisaionEnhedEdge>>>,
    page_info: PageInfo,
}

/// The schema's spelling ("Organisaion") is kept so that queries naming the type still work.
#[derive(SimpleObject)]
struct OrganisaionEnhedEdge {
    cursor: Option<CursorScalar>,
    node: OrganisationEnhed,
}

#[derive(SimpleObject)]
struct BrugerConnection {
    edges: Option<Vec<Option<BrugerEdge>>>,
    page_info: PageInfo,
}

#[derive(SimpleObject)]
struct BrugerEdge {
    cursor: Option<CursorScalar>,
    node: Bruger,
}

#[derive(SimpleObject)]
struct Virksomhed {
    uuid: UuidScalar,
    cvr_nummer_tekst: CvrScalar,
}

#[derive(SimpleObject)]
#[graphql(complex)]
struct Organisation {
    uuid: UuidScalar,
    organisationsnavn: String,
    brugervendt_noegle: String,
    virksomhed: Virksomhed,
    #[graphql(skip)]
    data: Arc<Data>,
}

#[ComplexObject]
impl Organisation {
    /// The root unit.
    async fn organisation_enhed(&self) -> OrganisationEnhed {
        OrganisationEnhed {
            data: self.data.clone(),
            i: self.data.order[0],
            cvr: self.virksomhed.cvr_nummer_tekst.clone(),
        }
    }
}

#[derive(SimpleObject)]
struct Person {
    uuid: UuidScalar,
    navn: Option<String>,
    brugervendt_noegle: Option<String>,
}

/// An organisation unit, resolved lazily from the tree.
struct OrganisationEnhed {
    data: Arc<Data>,
    i: usize,
    /// The CVR the query asked for, for `tilhoerer` when the data holds none.
    cvr: CvrScalar,
}

fn filter_addresses(list: &[Adresse], rolle: Option<Vec<UuidScalar>>) -> Vec<Adresse> {
    match rolle {
        None => list.to_vec(),
        Some(roles) => {
            let wanted: Vec<String> = roles.into_iter().map(|r| r.0.to_ascii_lowercase()).collect();
            list.iter().filter(|a| wanted.contains(&a.klassifikation.rolle.0)).cloned().collect()
        }
    }
}

fn time(t: Option<chrono::DateTime<chrono::FixedOffset>>) -> Option<DateTimeScalar> {
    t.map(|d| DateTimeScalar(d.to_rfc3339()))
}

#[Object]
impl OrganisationEnhed {
    async fn uuid(&self) -> UuidScalar {
        UuidScalar(self.data.tree.units[self.i].uuid.to_string())
    }
    async fn enhedsnavn(&self) -> &str {
        &self.data.tree.units[self.i].enhedsnavn
    }
    async fn brugervendt_noegle(&self) -> Option<&str> {
        self.data.tree.units[self.i].brugervendt_noegle.as_deref()
    }
    async fn underliggende_enheder(&self) -> Vec<OrganisationEnhed> {
        self.data.tree.tree.children(self.i).iter().map(|&c| self.at(c)).collect()
    }
    async fn overordnet_enhed(&self) -> Option<OrganisationEnhed> {
        self.data.tree.tree.parent(self.i).map(|p| self.at(p))
    }
    async fn tilstand(&self) -> Tilstand {
        let u = &self.data.tree.units[self.i];
        Tilstand {
            status: TilstandStatus::from_domain(u.status),
            fra_tidspunkt: time(u.valid_from),
            til_tidspunkt: time(u.valid_to),
        }
    }
    async fn tilhoerer(&self) -> Organisation {
        organisation(&self.data, &self.cvr)
    }
    async fn adresser(&self, rolle: Option<Vec<UuidScalar>>) -> Vec<Adresse> {
        filter_addresses(&self.data.read().unit_addresses(self.i), rolle)
    }
    /// The unit's KLE tasks in effect now.
    async fn opgaver(&self) -> Vec<Opgave> {
        let now = chrono::Utc::now();
        let registry = self.data.read();
        registry.relations[self.i]
            .iter()
            .filter(|r| r.kind == "Opgaver" && r.is_current(now))
            .filter_map(|r| {
                let uuid = r.reference_uuid()?;
                Some(Opgave {
                    kle_emne_nummer: self.data.kle_numbers.get(&uuid).map(|n| KleScalar(n.clone())),
                    kle_emne_titel: None,
                    opgave_rolle_titel: r.role.as_ref().and_then(|c| c.label.clone()),
                    klassifikation: Some(KlassifikationRelation {
                        kind: UuidScalar(r.class.as_ref().and_then(|c| c.id.as_uuid()).unwrap_or_default()),
                        rolle: UuidScalar(r.role_uuid().unwrap_or_default()),
                        indeks: r.index.clone().unwrap_or_default(),
                    }),
                    uuid: UuidScalar(uuid),
                })
            })
            .collect()
    }
    /// The IT systems the unit is assigned to in FK-ORG's administration module.
    async fn it_systemer(&self) -> Vec<ItSystem> {
        let now = chrono::Utc::now();
        let registry = self.data.read();
        registry.relations[self.i]
            .iter()
            .filter(|r| r.kind == "TilknyttedeItSystemer" && r.is_current(now))
            .filter_map(|r| Some(ItSystem { uuid: UuidScalar(r.reference_uuid()?), it_system_navn: None }))
            .collect()
    }
}

/// A KLE task of a unit.
#[derive(SimpleObject)]
struct Opgave {
    uuid: UuidScalar,
    kle_emne_nummer: Option<KleScalar>,
    kle_emne_titel: Option<String>,
    opgave_rolle_titel: Option<String>,
    klassifikation: Option<KlassifikationRelation>,
}

/// An IT system as registered in FK-ORG's administration module.
#[derive(SimpleObject)]
struct ItSystem {
    uuid: UuidScalar,
    it_system_navn: Option<String>,
}

impl OrganisationEnhed {
    fn at(&self, i: usize) -> OrganisationEnhed {
        OrganisationEnhed { data: self.data.clone(), i, cvr: self.cvr.clone() }
    }
}

fn organisation(data: &Arc<Data>, cvr: &CvrScalar) -> Organisation {
    let root = &data.tree.units[data.order[0]];
    Organisation {
        uuid: derived_uuid(&["organisation", &cvr.0]),
        organisationsnavn: root.enhedsnavn.clone(),
        brugervendt_noegle: cvr.0.clone(),
        virksomhed: Virksomhed { uuid: derived_uuid(&["virksomhed", &cvr.0]), cvr_nummer_tekst: cvr.clone() },
        data: data.clone(),
    }
}

/// A user, resolved lazily from the tree.
struct Bruger {
    data: Arc<Data>,
    i: usize,
    cvr: CvrScalar,
}

#[derive(SimpleObject)]
#[graphql(complex)]
struct BrugerMedlemskab {
    uuid: UuidScalar,
    medlemskab_rolle_titel: Option<String>,
    brugervendt_noegle: Option<String>,
    funktions_type_uuid: Option<UuidScalar>,
    funktions_type_titel: Option<String>,
    start: Option<DateTimeScalar>,
    slut: Option<DateTimeScalar>,
    #[graphql(skip)]
    unit: Option<FkUuid>,
    #[graphql(skip)]
    data: Arc<Data>,
    #[graphql(skip)]
    cvr: CvrScalar,
}

#[ComplexObject]
impl BrugerMedlemskab {
    /// The unit the user is a member of.
    async fn medlem_af(&self) -> Option<OrganisationEnhed> {
        let i = self.data.tree.index_of(self.unit?)?;
        Some(OrganisationEnhed { data: self.data.clone(), i, cvr: self.cvr.clone() })
    }
}

#[Object]
impl Bruger {
    async fn uuid(&self) -> UuidScalar {
        UuidScalar(self.data.tree.users[self.i].uuid.to_string())
    }
    async fn brugernavn(&self) -> &str {
        &self.data.tree.users[self.i].brugernavn
    }
    async fn brugervendt_noegle(&self) -> Option<String> {
        None
    }
    async fn tilstand(&self) -> Tilstand {
        let u = &self.data.tree.users[self.i];
        Tilstand { status: TilstandStatus::from_domain(u.status), fra_tidspunkt: None, til_tidspunkt: None }
    }
    async fn person(&self) -> Option<Person> {
        let u = &self.data.tree.users[self.i];
        Some(Person {
            uuid: derived_uuid(&["person", &u.uuid.to_string()]),
            navn: u.person_name.clone(),
            brugervendt_noegle: None,
        })
    }
    async fn adresser(&self, rolle: Option<Vec<UuidScalar>>) -> Vec<Adresse> {
        filter_addresses(&self.data.user_addresses[self.i], rolle)
    }
    /// Memberships, optionally only those whose function type is one of `rolle`.
    async fn har_medlemskab(&self, rolle: Option<Vec<UuidScalar>>) -> Vec<BrugerMedlemskab> {
        let u = &self.data.tree.users[self.i];
        let wanted: Option<Vec<String>> = rolle.map(|r| r.into_iter().map(|x| x.0.to_ascii_lowercase()).collect());
        u.memberships
            .iter()
            .enumerate()
            .filter(|(_, m)| match (&wanted, m.function_type) {
                (None, _) => true,
                (Some(w), Some(f)) => w.contains(&f.to_string()),
                (Some(_), None) => false,
            })
            .map(|(k, m)| BrugerMedlemskab {
                uuid: m
                    .uuid
                    .map(|x| UuidScalar(x.to_string()))
                    .unwrap_or_else(|| derived_uuid(&["medlemskab", &u.uuid.to_string(), &k.to_string()])),
                medlemskab_rolle_titel: m.title.clone(),
                brugervendt_noegle: None,
                funktions_type_uuid: m.function_type.map(|x| UuidScalar(x.to_string())),
                funktions_type_titel: m.function_type_title.clone(),
                start: None,
                slut: None,
                unit: m.unit,
                data: self.data.clone(),
                cvr: self.cvr.clone(),
            })
            .collect()
    }
}

struct QueryRoot {
    data: Arc<Data>,
}

/// Cursors are opaque to clients: hex of "kind:position".
fn encode_cursor(kind: &str, position: usize) -> CursorScalar {
    CursorScalar(format!("{kind}:{position}").bytes().map(|b| format!("{b:02x}")).collect())
}

fn decode_cursor(kind: &str, cursor: &CursorScalar) -> Option<usize> {
    let hex = cursor.0.as_bytes();
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        hex.chunks(2).map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok()).collect();
    let text = String::from_utf8(bytes?).ok()?;
    text.strip_prefix(kind)?.strip_prefix(':')?.parse().ok()
}

/// The window of `total` items after `after`, at most `first` long.
fn page_window(
    kind: &str,
    total: usize,
    first: Option<i32>,
    after: Option<&CursorScalar>,
) -> async_graphql::Result<std::ops::Range<usize>> {
    let first = first.unwrap_or(MAX_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(format!("first must be between 1 and {MAX_PAGE_SIZE}, got {first}").into());
    }
    let start = match after {
        None => 0,
        Some(c) => decode_cursor(kind, c)
            .and_then(|i| i.checked_add(1))
            .ok_or("after: not a cursor given by this server for this list")?,
    };
    let start = start.min(total);
    Ok(start..(start + first as usize).min(total))
}

fn page_info(kind: &str, range: &std::ops::Range<usize>, total: usize) -> PageInfo {
    PageInfo {
        start_cursor: (!range.is_empty()).then(|| encode_cursor(kind, range.start)),
        end_cursor: (!range.is_empty()).then(|| encode_cursor(kind, range.end - 1)),
        has_next_page: range.end < total,
        has_previous_page: range.start > 0,
    }
}

impl QueryRoot {
    fn check_cvr(&self, cvr: &CvrScalar) -> async_graphql::Result<()> {
        match self.data.tree.cvr {
            Some(own) if own.to_string() != cvr.0 => Err(format!("no organisation with CVR {}", cvr.0).into()),
            _ => Ok(()),
        }
    }

    /// The CVR nodes report in `tilhoerer` when asked by uuid.
    fn own_cvr(&self) -> CvrScalar {
        CvrScalar(self.data.tree.cvr.map(|c| c.to_string()).unwrap_or_else(|| "11111111".to_string()))
    }
}

/// The stand-in pages forward only (`first`/`after`), as sorsync reads.
fn forward_only(last: Option<i32>, before: Option<&CursorScalar>) -> async_graphql::Result<()> {
    if last.is_some() || before.is_some() {
        return Err("the stand-in pages forward only: use first and after, not last and before".into());
    }
    Ok(())
}

#[derive(InputObject)]
struct AdresseRolleFilter {
    rolle: UuidScalar,
    tekst: String,
}

#[derive(InputObject)]
struct PersonFilter {
    navn: Option<String>,
    cpr: Option<CprScalar>,
}

/// `BrugerFilter` of the schema.
#[derive(InputObject)]
struct BrugerFilter {
    brugernavn: Option<String>,
    adresse_rolle_filter: Option<AdresseRolleFilter>,
    bruger_type_uuid: Option<UuidScalar>,
    person_filter: Option<PersonFilter>,
}

#[Object]
impl QueryRoot {
    /// The organisation with this CVR (none for another CVR).
    async fn organisation(&self, cvr: CvrScalar) -> Option<Organisation> {
        self.check_cvr(&cvr).ok()?;
        Some(organisation(&self.data, &cvr))
    }

    /// Units by uuid (null for an unknown one).
    async fn organisation_enhed(&self, uuid: Vec<UuidScalar>) -> Option<Vec<Option<OrganisationEnhed>>> {
        let cvr = self.own_cvr();
        Some(
            uuid.iter()
                .map(|u| {
                    let i = FkUuid::parse(&u.0).ok().and_then(|u| self.data.tree.index_of(u))?;
                    Some(OrganisationEnhed { data: self.data.clone(), i, cvr: cvr.clone() })
                })
                .collect(),
        )
    }

    /// Users by uuid (null for an unknown one).
    async fn bruger(&self, uuid: Vec<UuidScalar>) -> Option<Vec<Option<Bruger>>> {
        let cvr = self.own_cvr();
        Some(
            uuid.iter()
                .map(|u| {
                    let id = FkUuid::parse(&u.0).ok()?;
                    let i = self.data.tree.users.iter().position(|x| x.uuid == id)?;
                    Some(Bruger { data: self.data.clone(), i, cvr: cvr.clone() })
                })
                .collect(),
        )
    }

    /// The units of one organisation with the given status, root first, in Relay pages.
    /// `opgaver` keeps the units with a current KLE task among `kleNummer` (in role `rolle` when
    /// given); `itSystemer` the units assigned to one of those IT systems; both together, the
    /// units that pass both.
    #[allow(clippy::too_many_arguments)] // the arguments are the schema's
    async fn organisation_enhed_liste(
        &self,
        cvr: CvrScalar,
        status: TilstandStatus,
        opgaver: Option<KleFilter>,
        it_systemer: Option<Vec<UuidScalar>>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<CursorScalar>,
        before: Option<CursorScalar>,
    ) -> async_graphql::Result<Option<OrganisationEnhedConnection>> {
        self.check_cvr(&cvr)?;
        forward_only(last, before.as_ref())?;
        let d = &self.data;
        let now = chrono::Utc::now();
        let registry = d.read();
        let has = |i: usize, kind: &str, references: &[String], role: Option<&str>| {
            registry.relations[i].iter().any(|r| {
                r.kind == kind
                    && r.is_current(now)
                    && r.reference_uuid().is_some_and(|u| references.contains(&u))
                    && role.is_none_or(|role| r.role_uuid().as_deref() == Some(role))
            })
        };
        let tasks: Option<(Vec<String>, Option<String>)> = opgaver.map(|f| {
            let classes = f.kle_nummer.iter().map(|k| kle_class(&k.0)).collect();
            (classes, f.rolle.map(|r| r.0.to_ascii_lowercase()))
        });
        let systems: Option<Vec<String>> =
            it_systemer.map(|v| v.into_iter().map(|u| u.0.to_ascii_lowercase()).collect());
        let matching: Vec<usize> = d
            .order
            .iter()
            .copied()
            .filter(|&i| TilstandStatus::from_domain(d.tree.units[i].status) == status)
            .filter(|&i| tasks.as_ref().is_none_or(|(classes, role)| has(i, "Opgaver", classes, role.as_deref())))
            .filter(|&i| systems.as_ref().is_none_or(|s| has(i, "TilknyttedeItSystemer", s, None)))
            .collect();
        drop(registry);
        let range = page_window("enhed", matching.len(), first, after.as_ref())?;
        let edges = range
            .clone()
            .map(|k| {
                Some(OrganisaionEnhedEdge {
                    cursor: Some(encode_cursor("enhed", k)),
                    node: OrganisationEnhed { data: d.clone(), i: matching[k], cvr: cvr.clone() },
                })
            })
            .collect();
        Ok(Some(OrganisationEnhedConnection {
            edges: Some(edges),
            page_info: page_info("enhed", &range, matching.len()),
        }))
    }

    /// The users of one organisation with the given status, in Relay pages.
    #[allow(clippy::too_many_arguments)] // the arguments are the schema's
    async fn bruger_liste(
        &self,
        cvr: CvrScalar,
        status: TilstandStatus,
        bruger_filter: Option<BrugerFilter>,
        first: Option<i32>,
        last: Option<i32>,
        after: Option<CursorScalar>,
        before: Option<CursorScalar>,
    ) -> async_graphql::Result<Option<BrugerConnection>> {
        self.check_cvr(&cvr)?;
        forward_only(last, before.as_ref())?;
        let d = &self.data;
        let filter = bruger_filter.unwrap_or(BrugerFilter {
            brugernavn: None,
            adresse_rolle_filter: None,
            bruger_type_uuid: None,
            person_filter: None,
        });
        if filter.bruger_type_uuid.is_some() || filter.person_filter.as_ref().is_some_and(|p| p.cpr.is_some()) {
            return Err(
                "the stand-in filters users by brugernavn, adresseRolleFilter and personFilter.navn only".into()
            );
        }
        let keeps = |i: usize| {
            let u = &d.tree.users[i];
            filter.brugernavn.as_ref().is_none_or(|n| u.brugernavn == *n)
                && filter
                    .person_filter
                    .as_ref()
                    .and_then(|p| p.navn.as_ref())
                    .is_none_or(|n| u.person_name.as_ref() == Some(n))
                && filter.adresse_rolle_filter.as_ref().is_none_or(|f| {
                    let role = f.rolle.0.to_ascii_lowercase();
                    d.user_addresses[i].iter().any(|a| a.klassifikation.rolle.0 == role && a.adresse_tekst == f.tekst)
                })
        };
        let matching: Vec<usize> = (0..d.tree.users.len())
            .filter(|&i| TilstandStatus::from_domain(d.tree.users[i].status) == status)
            .filter(|&i| keeps(i))
            .collect();
        let range = page_window("bruger", matching.len(), first, after.as_ref())?;
        let edges = range
            .clone()
            .map(|k| {
                Some(BrugerEdge {
                    cursor: Some(encode_cursor("bruger", k)),
                    node: Bruger { data: d.clone(), i: matching[k], cvr: cvr.clone() },
                })
            })
            .collect();
        Ok(Some(BrugerConnection { edges: Some(edges), page_info: page_info("bruger", &range, matching.len()) }))
    }
}

/// The address roles a unit can carry, with the title the stand-in shows for each.
const UNIT_ROLES: [(&str, &str); 8] = [
    (roles::UNIT_SOR_ID, "SOR-ID"),
    (roles::UNIT_EAN, "EAN"),
    (roles::UNIT_P_NUMBER, "P-nummer"),
    (roles::UNIT_POSTAL, "Postadresse"),
    (roles::UNIT_EMAIL, "E-mail"),
    (roles::UNIT_MOBILE, "Telefon"),
    (roles::UNIT_LANDLINE, "Fastnet"),
    (roles::UNIT_LOS_ID, "LOS ID"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_other_lists() {
        let c = encode_cursor("enhed", 41);
        assert_eq!(decode_cursor("enhed", &c), Some(41));
        assert_eq!(decode_cursor("bruger", &c), None);
        assert_eq!(decode_cursor("enhed", &CursorScalar("zz".into())), None);
    }

    #[test]
    fn page_windows_respect_first_and_after() {
        assert_eq!(page_window("enhed", 5, Some(2), None).unwrap(), 0..2);
        let after = encode_cursor("enhed", 3);
        assert_eq!(page_window("enhed", 5, Some(2), Some(&after)).unwrap(), 4..5);
        assert!(page_window("enhed", 5, Some(501), None).is_err());
        assert!(page_window("enhed", 5, Some(0), None).is_err());
    }
}
