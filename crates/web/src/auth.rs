//! Sign-in: argon2 password hashes, session cookies (HttpOnly, SameSite=Lax, Secure when
//! configured), CSRF tokens, the login rate limit, and the extractors that give handlers the
//! signed-in user and the interface language.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::i18n::Lang;
use super::{AppState, WebError};
use crate::domain::KommuneKode;
use crate::review::Role;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sorsync_session";
/// The login form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "sorsync_login";
/// The header JSON calls carry the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Sessions last a working day.
pub const SESSION_HOURS: i64 = 12;
/// Failed sign-ins allowed for one user name from one address within [`FAILURE_WINDOW`]; then that
/// pair is refused until the window passes. Other addresses are not locked out.
pub const MAX_FAILURES: usize = 5;
/// Failed sign-ins of one user name (from any address) after which each further attempt for that
/// name waits (doubling, up to [`MAX_DELAY`]): slows an attack from many addresses without
/// locking the real user out.
pub const USER_DELAY_AFTER: usize = 5;
/// Failed sign-ins from one address after which each attempt from it waits: slows one machine
/// trying many names, without locking out an office behind the same proxy.
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// Longest user name a sign-in accepts (bytes).
pub const MAX_USER_NAME_LEN: usize = 128;
/// Longest password a sign-in accepts (bytes).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// argon2 runs at once at most; further sign-ins wait for a slot.
pub const MAX_CONCURRENT_HASHES: usize = 4;
/// The longest wait before a password is checked.
pub const MAX_DELAY: Duration = Duration::from_secs(8);
/// How many counters the limiter keeps at most (memory stays bounded under a flood).
pub const MAX_LIMITER_ENTRIES: usize = 100_000;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// An argon2id hash (PHC string) of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, WebError> {
    let mut salt_bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| WebError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| WebError::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the stored hash (false for a hash that cannot be read).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A password for a demo account: 16 letters and digits.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect()
}

/// sha256 (hex) of a session token: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when `secure`.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}")
}

/// What the limiter says about a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginLimit {
    /// Check the password now.
    Go,
    /// Check the password after this wait.
    Wait(Duration),
    /// Refuse: this user name failed too often from this address.
    Refuse,
}

/// Failed sign-ins, kept for [`FAILURE_WINDOW`], counted three ways: per (user name, address)
/// pair (which refuses), per user name and per address (which only slow down). One attacker
/// can thus lock out only their own address for a name, never an office or the real user.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    pairs: HashMap<(String, Option<IpAddr>), Vec<Instant>>,
    users: HashMap<String, Vec<Instant>>,
    addresses: HashMap<IpAddr, Vec<Instant>>,
}

fn recent(times: &mut Vec<Instant>, now: Instant) -> usize {
    times.retain(|t| now.saturating_duration_since(*t) < FAILURE_WINDOW);
    times.len()
}

fn prune<K: Eq + std::hash::Hash>(map: &mut HashMap<K, Vec<Instant>>, now: Instant) {
    map.retain(|_, times| recent(times, now) > 0);
    if map.len() > MAX_LIMITER_ENTRIES {
        map.clear();
    }
}

/// 250 ms doubling for each failure beyond `after`, at most [`MAX_DELAY`].
fn backoff(failures: usize, after: usize) -> Duration {
    if failures < after {
        return Duration::ZERO;
    }
    let steps = (failures - after).min(10) as u32;
    (Duration::from_millis(250) * 2u32.pow(steps)).min(MAX_DELAY)
}

impl LoginLimiter {
    fn user_key(user: &str) -> String {
        user.chars().take(MAX_USER_NAME_LEN).collect::<String>().to_lowercase()
    }

    /// [`LoginLimiter::check`], and unless refused, the attempt counted as a failure already;
    /// [`LoginLimiter::record_success`] takes it back.
    pub fn begin_attempt(&mut self, user: &str, ip: Option<SocketAddr>, now: Instant) -> LoginLimit {
        let limit = self.check(user, ip, now);
        if limit != LoginLimit::Refuse {
            self.record_failure(user, ip, now);
        }
        limit
    }

    /// Whether and when an attempt for `user` from `ip` may check its password.
    pub fn check(&mut self, user: &str, ip: Option<SocketAddr>, now: Instant) -> LoginLimit {
        let user = Self::user_key(user);
        let ip = ip.map(|a| a.ip());
        let pair = self.pairs.get_mut(&(user.clone(), ip)).map_or(0, |t| recent(t, now));
        if pair >= MAX_FAILURES {
            return LoginLimit::Refuse;
        }
        let by_user = self.users.get_mut(&user).map_or(0, |t| recent(t, now));
        let by_address = ip.and_then(|ip| self.addresses.get_mut(&ip)).map_or(0, |t| recent(t, now));
        let wait = backoff(by_user, USER_DELAY_AFTER).max(backoff(by_address, MAX_FAILURES_PER_ADDRESS));
        if wait.is_zero() {
            LoginLimit::Go
        } else {
            LoginLimit::Wait(wait)
        }
    }

    /// True when the attempt would be refused outright (see [`LoginLimiter::check`]).
    pub fn blocked(&mut self, user: &str, ip: Option<SocketAddr>, now: Instant) -> bool {
        self.check(user, ip, now) == LoginLimit::Refuse
    }

    pub fn record_failure(&mut self, user: &str, ip: Option<SocketAddr>, now: Instant) {
        let user = Self::user_key(user);
        let ip = ip.map(|a| a.ip());
        if self.pairs.len() + self.users.len() + self.addresses.len() > MAX_LIMITER_ENTRIES {
            prune(&mut self.pairs, now);
            prune(&mut self.users, now);
            prune(&mut self.addresses, now);
        }
        self.pairs.entry((user.clone(), ip)).or_default().push(now);
        self.users.entry(user).or_default().push(now);
        if let Some(ip) = ip {
            self.addresses.entry(ip).or_default().push(now);
        }
    }

    /// A successful sign-in clears that user name's failures from that address and takes back the
    /// attempt [`LoginLimiter::begin_attempt`] counted (the other per-name and per-address failures
    /// stay: they only slow down).
    pub fn record_success(&mut self, user: &str, ip: Option<SocketAddr>) {
        let user = Self::user_key(user);
        let ip = ip.map(|a| a.ip());
        self.pairs.remove(&(user.clone(), ip));
        if let Some(times) = self.users.get_mut(&user) {
            times.pop();
        }
        if let Some(times) = ip.and_then(|ip| self.addresses.get_mut(&ip)) {
            times.pop();
        }
    }
}

/// Checks a user name and password against the store, with the rate limit. Returns the new
/// session's (token, csrf token). The password is never logged.
pub async fn sign_in(
    state: &AppState,
    user: &str,
    password: &str,
    ip: Option<SocketAddr>,
) -> Result<(String, String), WebError> {
    let user = user.trim();
    if !state.local_accounts_enabled() {
        return Err(WebError::Forbidden("local accounts are off here: sign in through Adgangsstyring".into()));
    }
    // Counted as a failure when it starts (a success takes it back), so attempts that are still
    // running count against the limit too.
    let limit = state.limiter().begin_attempt(user, ip, Instant::now());
    match limit {
        LoginLimit::Refuse => {
            tracing::warn!(user, "Sign-in refused: too many failures from this address.");
            return Err(WebError::RateLimited);
        }
        LoginLimit::Wait(wait) => tokio::time::sleep(wait).await,
        LoginLimit::Go => {}
    }
    if user.is_empty() || user.len() > MAX_USER_NAME_LEN || password.len() > MAX_PASSWORD_LEN {
        tracing::info!(user_len = user.len(), "Sign-in failed: the name or password is empty or too long.");
        return Err(WebError::BadLogin);
    }
    let stored = state.store().web_password_hash(user).await?;
    let password = password.to_string();
    // At most MAX_CONCURRENT_HASHES argon2 runs at once (each takes ~19 MiB); others wait.
    let _permit = state.hash_permits().acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
    let ok = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => verify_password(&password, &hash),
        None => {
            // Same work for an unknown name, so timing does not tell which names exist.
            let _ = hash_password(&password);
            false
        }
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    if !ok {
        tracing::info!(user, "Sign-in failed.");
        return Err(WebError::BadLogin);
    }
    state.limiter().record_success(user, ip);
    let session = start_session(state, user).await?;
    tracing::info!(user, "Signed in.");
    Ok(session)
}

/// Starts a session for `user` (who has proved who they are): (token, csrf token).
pub async fn start_session(state: &AppState, user: &str) -> Result<(String, String), WebError> {
    let token = random_token();
    let csrf = random_token();
    let expires = chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    let expires = expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    state.store().create_web_session(&token_hash(&token), user, &csrf, &expires).await?;
    Ok((token, csrf))
}

/// The login form's double-submit cookie name: `__Host-` prefixed when cookies are Secure, so no
/// other origin (a sibling subdomain, plain http) can set it.
pub fn login_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-sorsync_login"
    } else {
        LOGIN_COOKIE
    }
}

/// How long a login form's token is good for.
pub const LOGIN_TOKEN_SECONDS: i64 = 3600;

/// A login form token: `nonce.expiry.mac`, the MAC (HMAC-SHA256 with the server's key) over the
/// nonce and expiry. Sent as the cookie and as the form field; only tokens this server issued
/// and that have not expired are accepted.
pub fn issue_login_token(server_key: &[u8]) -> String {
    let nonce = random_token();
    let expires = chrono::Utc::now().timestamp() + LOGIN_TOKEN_SECONDS;
    let mac = login_mac(server_key, &nonce, expires);
    format!("{nonce}.{expires}.{mac}")
}

fn login_mac(server_key: &[u8], nonce: &str, expires: i64) -> String {
    let mac = (|| {
        let key = openssl::pkey::PKey::hmac(server_key).ok()?;
        let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).ok()?;
        signer.update(format!("login:{nonce}:{expires}").as_bytes()).ok()?;
        signer.sign_to_vec().ok()
    })();
    mac.map(|m| hex(&m)).unwrap_or_default()
}

/// Whether the login form's cookie and field carry the same token, issued by this server (its
/// MAC verifies) and not expired.
pub fn login_token_ok(server_key: &[u8], cookie_value: Option<&str>, form_value: Option<&str>) -> bool {
    let (Some(c), Some(f)) = (cookie_value, form_value) else { return false };
    if !same_token(c, f) {
        return false;
    }
    let mut parts = c.splitn(3, '.');
    let (Some(nonce), Some(expires), Some(mac)) = (parts.next(), parts.next(), parts.next()) else { return false };
    let Ok(expires) = expires.parse::<i64>() else { return false };
    let expected = login_mac(server_key, nonce, expires);
    !expected.is_empty() && same_token(mac, &expected) && expires >= chrono::Utc::now().timestamp()
}

/// Sign-in by a header an authenticating reverse proxy sets. The header is believed only on
/// connections from the proxies' addresses and only with the shared secret in its own header; the
/// proxy must strip both headers from what clients send.
#[derive(Clone)]
pub struct ProxySignIn {
    user_header: String,
    addresses: Vec<IpAddr>,
    secret: Option<(String, String)>,
}

impl std::fmt::Debug for ProxySignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxySignIn")
            .field("user_header", &self.user_header)
            .field("addresses", &self.addresses)
            .field("secret_header", &self.secret.as_ref().map(|(h, _)| h))
            .finish()
    }
}

impl ProxySignIn {
    /// The proxy sign-in for a server bound to `bind`. Refused on an address other than loopback
    /// unless the proxies' addresses and a shared secret (header and value) are given; on
    /// loopback the addresses default to loopback.
    pub fn new(
        user_header: &str,
        addresses: &[IpAddr],
        secret_header: Option<&str>,
        secret: Option<&str>,
        bind: SocketAddr,
    ) -> Result<Self, String> {
        let user_header = user_header.trim().to_ascii_lowercase();
        if user_header.is_empty() || axum::http::HeaderName::from_bytes(user_header.as_bytes()).is_err() {
            return Err("the proxy user header is not a header name".into());
        }
        let secret = match (secret_header.map(str::trim).filter(|h| !h.is_empty()), secret.filter(|s| !s.is_empty())) {
            (Some(h), Some(v)) => {
                if v.len() < 16 {
                    return Err("the proxy secret is shorter than 16 characters".into());
                }
                Some((h.to_ascii_lowercase(), v.to_string()))
            }
            (None, None) => None,
            _ => return Err("give both the proxy secret header and the secret (SORSYNC_PROXY_SECRET)".into()),
        };
        let loopback = bind.ip().is_loopback();
        if !loopback && (addresses.is_empty() || secret.is_none()) {
            return Err(format!(
                "the proxy header on {bind} (not loopback) needs the proxies' addresses and a shared secret header"
            ));
        }
        let addresses = if addresses.is_empty() {
            vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]
        } else {
            addresses.to_vec()
        };
        Ok(ProxySignIn { user_header, addresses, secret })
    }

    /// The user the proxy names, when the request carries the header. Refused when the header
    /// comes from another address, without the secret, or with an unreasonable name.
    pub fn user_from(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Result<Option<String>, WebError> {
        let Some(value) = headers.get(self.user_header.as_str()) else { return Ok(None) };
        let from_proxy = peer.is_some_and(|p| self.addresses.contains(&p));
        if !from_proxy {
            tracing::warn!(peer = ?peer, "Proxy header refused: not from a configured proxy address.");
            return Err(WebError::Forbidden("the sign-in header is accepted only from the configured proxy".into()));
        }
        if let Some((secret_header, secret)) = &self.secret {
            let given = headers.get(secret_header.as_str()).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_token(given, secret) {
                tracing::warn!(peer = ?peer, "Proxy header refused: wrong or missing shared secret.");
                return Err(WebError::Forbidden(
                    "the sign-in header is accepted only from the configured proxy".into(),
                ));
            }
        }
        let user = value.to_str().map(str::trim).unwrap_or("");
        if user.is_empty() || user.len() > 128 || user.chars().any(char::is_control) {
            return Err(WebError::Forbidden("the proxy named no usable user".into()));
        }
        Ok(Some(user.to_string()))
    }
}

/// The signed-in user of a request: name, CSRF token and roles.
#[derive(Debug, Clone)]
pub struct Signed {
    pub user: String,
    pub csrf: String,
    pub roles: Vec<(KommuneKode, Role)>,
    /// The hash of the session token (for signing out).
    pub session_hash: String,
}

impl Signed {
    /// The roles held for `kommune`.
    pub fn roles_for(&self, kommune: KommuneKode) -> Vec<Role> {
        self.roles.iter().filter(|(k, _)| *k == kommune).map(|(_, r)| *r).collect()
    }

    /// Ok when the user holds one of `any_of` for `kommune`.
    pub fn require(&self, kommune: KommuneKode, any_of: &[Role]) -> Result<(), WebError> {
        if self.roles_for(kommune).iter().any(|r| any_of.contains(r)) {
            return Ok(());
        }
        let names: Vec<&str> = any_of.iter().map(|r| r.title()).collect();
        Err(WebError::Forbidden(format!(
            "{} may not do this for municipality {kommune}: it needs one of these roles there: {}",
            self.user,
            names.join(", ")
        )))
    }

    /// Ok when the user holds any role for `kommune` (may read its pages).
    pub fn require_any(&self, kommune: KommuneKode) -> Result<(), WebError> {
        self.require(kommune, &Role::ALL)
    }

    /// Ok when `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), WebError> {
        match token {
            Some(t) if same_token(t, &self.csrf) => Ok(()),
            _ => {
                tracing::warn!(user = %self.user, "Request refused: missing or wrong CSRF token.");
                Err(WebError::Csrf)
            }
        }
    }

    /// Ok when the request's `X-CSRF-Token` header is this session's token.
    pub fn check_csrf_header(&self, headers: &HeaderMap) -> Result<(), WebError> {
        self.check_csrf(headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()))
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(proxy) = state.config().proxy.as_ref() {
            let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
            if let Some(user) = proxy.user_from(&parts.headers, peer)? {
                if state.store().web_password_hash(&user).await?.is_none() {
                    tracing::warn!(user = %user, "Proxy sign-in refused: no such account.");
                    return Err(WebError::Forbidden("the proxy named a user this app does not know".into()));
                }
                let user = user.as_str();
                let roles = state
                    .store()
                    .roles_of(user)
                    .await?
                    .into_iter()
                    .filter_map(|(k, r)| Role::parse(&r).map(|r| (k, r)))
                    .collect();
                let csrf = state.proxy_csrf(user);
                return Ok(Signed { user: user.to_string(), csrf, roles, session_hash: String::new() });
            }
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(WebError::SignIn)?;
        let session_hash = token_hash(token);
        let (user, csrf, roles) = state.store().web_session_with_roles(&session_hash).await?.ok_or(WebError::SignIn)?;
        let roles = roles.into_iter().filter_map(|(k, r)| Role::parse(&r).map(|r| (k, r))).collect();
        Ok(Signed { user, csrf, roles, session_hash })
    }
}

/// The client's address, when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == "lang").and_then(|(_, v)| Lang::parse(v))
        });
        let from_cookie = || cookie(&parts.headers, "lang").and_then(Lang::parse);
        let from_header = || {
            parts
                .headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|first| Lang::parse(first.trim().get(..2).unwrap_or("")))
        };
        Ok(from_query.or_else(from_cookie).or_else(from_header).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_and_no_other() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2"));
        assert!(!h.contains("correct horse"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn the_sixth_failure_within_a_quarter_of_an_hour_is_blocked_and_expires_later() {
        let mut l = LoginLimiter::default();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(!l.blocked("anna", None, t0));
            l.record_failure("anna", None, t0);
        }
        assert!(l.blocked("anna", None, t0));
        assert!(l.blocked("ANNA", None, t0), "user names are compared without case");
        assert!(!l.blocked("bo", None, t0));
        assert!(!l.blocked("anna", None, t0 + FAILURE_WINDOW + Duration::from_secs(1)));
    }

    #[test]
    fn one_address_trying_many_names_is_slowed_after_twenty_failures_but_not_locked_out() {
        let mut l = LoginLimiter::default();
        let t0 = Instant::now();
        let ip: SocketAddr = "10.0.0.7:5000".parse().unwrap();
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            let name = format!("user{i}");
            assert_eq!(l.check(&name, Some(ip), t0), LoginLimit::Go, "slowed after {i} failures");
            l.record_failure(&name, Some(ip), t0);
        }
        // An office behind that address is slowed down, never refused.
        assert!(matches!(l.check("someone-new", Some(ip), t0), LoginLimit::Wait(_)));
        assert_eq!(l.check("someone-new", Some("10.0.0.8:5000".parse().unwrap()), t0), LoginLimit::Go);
    }

    #[test]
    fn an_attacker_failing_for_a_name_locks_only_their_own_address_out_for_it() {
        let mut l = LoginLimiter::default();
        let t0 = Instant::now();
        let attacker: SocketAddr = "203.0.113.9:4000".parse().unwrap();
        let office: SocketAddr = "198.51.100.1:4000".parse().unwrap();
        for _ in 0..50 {
            l.record_failure("anna", Some(attacker), t0);
        }
        assert_eq!(l.check("anna", Some(attacker), t0), LoginLimit::Refuse);
        match l.check("anna", Some(office), t0) {
            LoginLimit::Wait(d) => assert!(d <= MAX_DELAY, "a bounded wait, not a lockout"),
            other => panic!("anna from the office: {other:?}"),
        }
        assert_eq!(l.check("bo", Some(office), t0), LoginLimit::Go, "others behind the office address are not touched");
    }

    #[test]
    fn attempts_count_when_they_start_so_concurrent_ones_cannot_pass_the_limit() {
        let mut l = LoginLimiter::default();
        let t0 = Instant::now();
        let ip: SocketAddr = "203.0.113.9:4000".parse().unwrap();
        // Five attempts begun, none finished yet: the sixth is refused already.
        for _ in 0..MAX_FAILURES {
            assert_ne!(l.begin_attempt("anna", Some(ip), t0), LoginLimit::Refuse);
        }
        assert_eq!(l.begin_attempt("anna", Some(ip), t0), LoginLimit::Refuse);
        // A success takes its own count back and clears the pair.
        let mut l = LoginLimiter::default();
        assert_eq!(l.begin_attempt("bo", Some(ip), t0), LoginLimit::Go);
        l.record_success("bo", Some(ip));
        assert_eq!(l.check("bo", Some(ip), t0), LoginLimit::Go);
        assert!(l.users.get("bo").is_none_or(Vec::is_empty));
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; sorsync_session=abc; lang=en".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "lang"), Some("en"));
        assert_eq!(cookie(&h, "x"), None);
    }
}
