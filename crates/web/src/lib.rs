//! The web app (`sorsync serve`): server-rendered pages for municipal administrators and a JSON
//! API that mirrors every page (described at `/api/openapi.json`). Every route is listed once,
//! in [`routes::ROUTES`].
//!
//! Invariants:
//! - everything shown is escaped: pages are maud templates (auto-escaping); the only raw markup is
//!   SVG from `crate::preview::render_svg`, which escapes its text;
//! - every mutating request carries the session's CSRF token (a form field, or the `X-CSRF-Token`
//!   header on JSON calls); the login form uses a double-submit cookie;
//! - the web layer checks roles for every route, and every decision still goes through
//!   `crate::review::decide`, which checks the role again: the library is the guard;
//! - passwords are stored as argon2 hashes and session tokens as sha256 hashes; neither is logged.

// A library says things through tracing or its return values; the terminal is the binary's.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod api;
pub mod auth;
pub mod cases;
pub mod explain;
pub mod i18n;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod saml;
pub mod views;

// The layers below, by the names the code here uses (`crate::domain::...`, `crate::review::...`).
use sorsync_app::{apply, config, review, waves};
use sorsync_core::{contacts, domain, markup, matching, preview};
use sorsync_store as store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use chrono::NaiveDate;

use crate::domain::{FkTree, KommuneKode, SorTree};
use crate::review::{grant, ReviewError, Role};
use crate::store::{Register, Store, StoreError};

pub use auth::hash_password;

/// How the server runs.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set this when the app is served over TLS, e.g. behind a proxy).
    pub secure_cookies: bool,
    /// The day the pages compute with (what-if dates, closed units). None: today.
    pub today: Option<NaiveDate>,
    /// Trust a request header (e.g. `X-Remote-User`) as the signed-in user name, set by a reverse
    /// proxy that authenticates users: only from the proxies' addresses, with the shared secret,
    /// for known accounts. Sessions still work.
    pub proxy: Option<auth::ProxySignIn>,
    /// Sign-in through Adgangsstyring (SAML). Local accounts are off then, unless
    /// `[saml] local_accounts = true`.
    pub saml: Option<Arc<saml::SamlSp>>,
}

/// The server's shared state: the store, the configuration, the login limiter and a small cache
/// of loaded trees (by snapshot id; snapshots never change).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: WebConfig,
    limiter: Mutex<auth::LoginLimiter>,
    /// Slots for argon2 runs (sign-ins): bounds their memory and CPU under a flood.
    hash_permits: tokio::sync::Semaphore,
    fk_trees: Mutex<HashMap<i64, Arc<FkTree>>>,
    sor_trees: Mutex<HashMap<i64, Arc<SorTree>>>,
    /// Each municipality's pending proposals in queue order with names, rebuilt when the store's
    /// queue version changes (a run, a decision from any process).
    queues: tokio::sync::Mutex<HashMap<KommuneKode, Arc<views::QueueCache>>>,
    /// Random per process: CSRF tokens of proxy-identified users are derived from it.
    proxy_csrf_secret: String,
}

/// How many trees of each register the cache keeps.
const TREE_CACHE: usize = 16;

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                limiter: Mutex::new(auth::LoginLimiter::default()),
                hash_permits: tokio::sync::Semaphore::new(auth::MAX_CONCURRENT_HASHES),
                fk_trees: Mutex::new(HashMap::new()),
                sor_trees: Mutex::new(HashMap::new()),
                queues: tokio::sync::Mutex::new(HashMap::new()),
                proxy_csrf_secret: auth::random_token(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    /// Whether local password accounts may sign in (always without SAML; with SAML only when
    /// `[saml] local_accounts = true`).
    pub fn local_accounts_enabled(&self) -> bool {
        self.inner.config.saml.as_ref().is_none_or(|sp| sp.config().local_accounts)
    }

    /// The server's secret key (random per process): MACs of login form tokens.
    pub fn server_key(&self) -> &[u8] {
        self.inner.proxy_csrf_secret.as_bytes()
    }

    /// The CSRF token of a user identified by the proxy header (stable for the process's life).
    pub fn proxy_csrf(&self, user: &str) -> String {
        auth::token_hash(&format!("{}:{user}", self.inner.proxy_csrf_secret))
    }

    pub fn today(&self) -> NaiveDate {
        self.inner.config.today.unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    fn hash_permits(&self) -> &tokio::sync::Semaphore {
        &self.inner.hash_permits
    }

    fn limiter(&self) -> std::sync::MutexGuard<'_, auth::LoginLimiter> {
        self.inner.limiter.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The FK-ORG tree of a snapshot (loaded once).
    pub async fn fk_tree(&self, snapshot_id: i64) -> Result<Arc<FkTree>, WebError> {
        if let Some(t) = self.inner.fk_trees.lock().unwrap_or_else(|e| e.into_inner()).get(&snapshot_id) {
            return Ok(t.clone());
        }
        let tree = Arc::new(self.store().load_fkorg(snapshot_id).await?);
        let mut cache = self.inner.fk_trees.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= TREE_CACHE {
            cache.clear();
        }
        cache.insert(snapshot_id, tree.clone());
        Ok(tree)
    }

    /// The SOR tree of a snapshot (loaded once).
    pub async fn sor_tree(&self, snapshot_id: i64) -> Result<Arc<SorTree>, WebError> {
        if let Some(t) = self.inner.sor_trees.lock().unwrap_or_else(|e| e.into_inner()).get(&snapshot_id) {
            return Ok(t.clone());
        }
        let tree = Arc::new(self.store().load_sor(snapshot_id).await?);
        let mut cache = self.inner.sor_trees.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= TREE_CACHE {
            cache.clear();
        }
        cache.insert(snapshot_id, tree.clone());
        Ok(tree)
    }

    /// The municipality's queue, from the cache when the store's queue version is unchanged.
    /// One rebuild at a time; requests for the same municipality wait for it.
    pub async fn queue_cache(&self, kommune: KommuneKode) -> Result<Arc<views::QueueCache>, WebError> {
        let version = self.store().review_queue_version(kommune).await?;
        let mut queues = self.inner.queues.lock().await;
        if let Some(q) = queues.get(&kommune).filter(|q| q.version == version) {
            return Ok(q.clone());
        }
        let built = Arc::new(views::QueueCache::build(self, kommune, version).await?);
        queues.insert(kommune, built.clone());
        Ok(built)
    }

    /// The municipality's latest FK-ORG tree and its SOR tree (its own snapshot, else the
    /// national one), when both were imported.
    pub async fn latest_trees(&self, kommune: KommuneKode) -> Result<Option<(Arc<FkTree>, Arc<SorTree>)>, WebError> {
        let store = self.store();
        let Some(fk_id) = store.latest_snapshot_id(Register::FkOrg, Some(kommune)).await? else { return Ok(None) };
        let sor_id = match store.latest_snapshot_id(Register::Sor, Some(kommune)).await? {
            Some(id) => id,
            None => match store.latest_snapshot_id(Register::Sor, None).await? {
                Some(id) => id,
                None => return Ok(None),
            },
        };
        Ok(Some((self.fk_tree(fk_id).await?, self.sor_tree(sor_id).await?)))
    }
}

/// Why a request was refused or failed. Pages show these as a page; the API as JSON.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("sign in first")]
    SignIn,
    #[error("{0}")]
    Forbidden(String),
    #[error("the form was not sent from this app (missing or wrong CSRF token): reload the page and try again")]
    Csrf,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many failed sign-ins: wait 15 minutes and try again")]
    RateLimited,
    #[error("wrong user name or password")]
    BadLogin,
    #[error("the store could not answer: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::SignIn | WebError::BadLogin => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            WebError::Store(_) | WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a user sees (internal details stay in the log).
    pub fn public_message(&self) -> String {
        match self {
            WebError::Store(e) => {
                tracing::error!(error = %e, "Store error while serving a request.");
                "the store could not answer; the error is in the server log".to_string()
            }
            WebError::Internal(e) => {
                tracing::error!(error = %e, "Internal error while serving a request.");
                "something went wrong; the error is in the server log".to_string()
            }
            other => other.to_string(),
        }
    }
}

impl From<ReviewError> for WebError {
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::NotPermitted { .. } => WebError::Forbidden(e.to_string()),
            ReviewError::Store(StoreError::NoSuchProposal(id)) => WebError::NotFound(format!("proposal {id}")),
            ReviewError::Store(e) if e.is_decision_conflict() => WebError::Conflict(e.to_string()),
            ReviewError::Store(e) => WebError::Store(e),
        }
    }
}

impl From<crate::review::ByHandError> for WebError {
    fn from(e: crate::review::ByHandError) -> Self {
        use crate::review::ByHandError as B;
        match e {
            B::Review(r) => r.into(),
            B::NoSnapshots(_) | B::UnknownFkUnit(..) | B::UnknownSorUnit(..) => WebError::NotFound(e.to_string()),
            B::NotALink { .. } | B::NotAnAlternative { .. } => WebError::BadRequest(e.to_string()),
            B::ParentNotInSor(_) | B::NotOurs(_) => WebError::Conflict(e.to_string()),
            B::Unreadable(m) => WebError::Internal(m),
        }
    }
}

/// Pages: an error page (or, when not signed in, the sign-in page).
impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if matches!(self, WebError::SignIn) {
            return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
        }
        let shown = pages::ErrorShown::of(&self);
        let mut response = (shown.status, Html(pages::error_page(shown.status, &shown.detail))).into_response();
        // pages::error_pages shows it in the layout and the user's language.
        response.extensions_mut().insert(shown);
        response
    }
}

/// The server: every route of [`routes::ROUTES`] (pages, the JSON API, static assets), with
/// error pages and security headers.
pub fn router(state: AppState) -> Router {
    routes::router()
        .layer(axum::middleware::from_fn_with_state(state.clone(), pages::error_pages))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// How long a client may take to send a request's headers: a connection that opens and then
/// trickles (or never finishes) its headers is closed, so idle sockets cannot pile up.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long shutting down waits for requests in flight.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the app on a bound listener until `shutdown` completes, then lets requests in flight
/// finish (up to [`SHUTDOWN_GRACE`]). Each connection is HTTP/1.1 with [`HEADER_READ_TIMEOUT`]
/// and knows its client address (for the sign-in limits).
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    store: Store,
    config: WebConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = router(AppState::new(store, config));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app.clone().layer(axum::Extension(axum::extract::ConnectInfo(remote)));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(
                hyper_util::rt::TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(client = %remote, "connection ended: {e}");
            }
        });
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("stopped with requests still running after {} s", SHUTDOWN_GRACE.as_secs());
    }
    Ok(())
}

/// Listens on `addr` and serves the app until `shutdown` completes. Returns the bound address
/// (useful with port 0) through `on_bound` before serving.
pub async fn serve(
    addr: SocketAddr,
    store: Store,
    config: WebConfig,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| ServeError::Bind { addr, source })?;
    let bound = listener.local_addr().map_err(|source| ServeError::Bind { addr, source })?;
    on_bound(bound);
    serve_listener(listener, store, config, shutdown).await
}

/// A demo account: its name, password and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub user_name: String,
    pub password: String,
    pub kommune: KommuneKode,
    pub role: Role,
}

/// Creates one account per role for each municipality (`sor-admin-101`, `org-admin-101`,
/// `operator-101`, `read-only-101`), each with a fresh random password, and grants the role
/// (as the operators' bootstrap). Existing accounts get a new password. For `sorsync demo`.
pub async fn demo_accounts(store: &Store, kommuner: &[KommuneKode]) -> Result<Vec<DemoAccount>, WebError> {
    let mut out = Vec::new();
    for &kommune in kommuner {
        for role in Role::ALL {
            let user_name = format!("{}-{}", role.as_str().replace('_', "-"), kommune);
            let password = auth::random_password();
            let hash = hash_password(&password)?;
            store.set_web_password_hash(&user_name, &hash).await?;
            grant(store, None, &user_name, kommune, role).await?;
            out.push(DemoAccount { user_name, password, kommune, role });
        }
    }
    Ok(out)
}
