//! Sign-in: argon2 password hashes, session cookies (HttpOnly, SameSite=Lax, Secure when
//! configured), CSRF tokens, the login rate limit, and the extractors that give handlers the
//! signed-in user and the interface language.

use std::collections::HashMap;
use std::net::SocketAddr;
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
/// Failed sign-ins allowed per user name within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// Failed sign-ins allowed per client address within [`FAILURE_WINDOW`] (higher: an office or a
/// proxy puts many people behind one address; still stops one machine from trying many names).
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
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

/// Failed sign-ins per user name and per client address, kept for [`FAILURE_WINDOW`].
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: HashMap<String, Vec<Instant>>,
}

impl LoginLimiter {
    /// The counters a sign-in touches, with their limits.
    fn keys(user: &str, ip: Option<SocketAddr>) -> Vec<(String, usize)> {
        let mut keys = vec![(format!("user:{}", user.to_lowercase()), MAX_FAILURES)];
        if let Some(addr) = ip {
            keys.push((format!("ip:{}", addr.ip()), MAX_FAILURES_PER_ADDRESS));
        }
        keys
    }

    /// Starts a sign-in attempt: refused (None) when the user name or the address has used up its
    /// failures, else counted at once as a failure, so that attempts running at the same time see
    /// each other (a slow client cannot start 300 attempts that are all checked before any is
    /// counted). [`LoginLimiter::record_success`] takes the count back.
    pub fn begin(&mut self, user: &str, ip: Option<SocketAddr>, now: Instant) -> Option<Attempt> {
        if self.blocked(user, ip, now) {
            return None;
        }
        self.record_failure(user, ip, now);
        Some(Attempt { at: now })
    }

    /// True when the user name or the address has used up its failures.
    pub fn blocked(&mut self, user: &str, ip: Option<SocketAddr>, now: Instant) -> bool {
        self.failures.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
            !times.is_empty()
        });
        Self::keys(user, ip).iter().any(|(k, limit)| self.failures.get(k).is_some_and(|t| t.len() >= *limit))
    }

    pub fn record_failure(&mut self, user: &str, ip: Option<SocketAddr>, now: Instant) {
        for (k, _) in Self::keys(user, ip) {
            self.failures.entry(k).or_default().push(now);
        }
    }

    /// A successful sign-in clears the user name's failures and takes back the count its attempt
    /// added to the address (the address's other failures stay).
    pub fn record_success(&mut self, user: &str, ip: Option<SocketAddr>, attempt: Attempt) {
        self.failures.remove(&format!("user:{}", user.to_lowercase()));
        if let Some(addr) = ip {
            if let Some(times) = self.failures.get_mut(&format!("ip:{}", addr.ip())) {
                if let Some(i) = times.iter().position(|t| *t == attempt.at) {
                    times.remove(i);
                }
            }
        }
    }
}

/// A sign-in attempt in progress (counted by [`LoginLimiter::begin`]).
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    at: Instant,
}

/// The longest user name a sign-in accepts (longer ones are refused before any work or log).
pub const MAX_USER_NAME_CHARS: usize = 100;
/// The longest password a sign-in accepts.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Password checks (argon2, about 19 MiB and a good part of a core each) running at once; the
/// rest wait their turn, so a burst of sign-ins cannot take the server's memory.
const ARGON2_AT_ONCE: usize = 2;
/// How long a sign-in waits for its turn before it is told to try again.
const ARGON2_WAIT: Duration = Duration::from_secs(20);
static ARGON2_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(ARGON2_AT_ONCE);

/// Checks a user name and password against the store, with the rate limit. Returns the new
/// session's (token, csrf token). The password is never logged.
pub async fn sign_in(
    state: &AppState,
    user: &str,
    password: &str,
    ip: Option<SocketAddr>,
) -> Result<(String, String), WebError> {
    let user = user.trim();
    if user.is_empty() || user.chars().count() > MAX_USER_NAME_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(WebError::BadLogin);
    }
    let Some(attempt) = state.limiter().begin(user, ip, Instant::now()) else {
        tracing::warn!(user, "Sign-in refused: too many failures.");
        return Err(WebError::RateLimited);
    };
    let stored = state.store().web_password_hash(user).await?;
    let Ok(Ok(permit)) = tokio::time::timeout(ARGON2_WAIT, ARGON2_SLOTS.acquire()).await else {
        tracing::warn!(user, "Sign-in refused: too many sign-ins at once.");
        return Err(WebError::RateLimited);
    };
    let password = password.to_string();
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
    drop(permit);
    if !ok {
        tracing::info!(user, "Sign-in failed.");
        return Err(WebError::BadLogin);
    }
    state.limiter().record_success(user, ip, attempt);
    let token = random_token();
    let csrf = random_token();
    let expires = chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS);
    let expires = expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    state.store().create_web_session(&token_hash(&token), user, &csrf, &expires).await?;
    tracing::info!(user, "Signed in.");
    Ok((token, csrf))
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
        if let Some(name) = state.config().proxy_user_header.as_deref() {
            let user = parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|u| !u.is_empty());
            if let Some(user) = user {
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
    fn one_address_trying_many_names_is_blocked_after_twenty_failures() {
        let mut l = LoginLimiter::default();
        let t0 = Instant::now();
        let ip: SocketAddr = "10.0.0.7:5000".parse().unwrap();
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            let name = format!("user{i}");
            assert!(!l.blocked(&name, Some(ip), t0), "blocked after {i} failures");
            l.record_failure(&name, Some(ip), t0);
        }
        assert!(l.blocked("someone-new", Some(ip), t0));
        assert!(!l.blocked("someone-new", Some("10.0.0.8:5000".parse().unwrap()), t0));
    }

    #[test]
    fn attempts_count_when_they_start_so_a_burst_cannot_outrun_the_limit() {
        let mut l = LoginLimiter::default();
        let t0 = Instant::now();
        let ip: SocketAddr = "10.0.0.7:5000".parse().unwrap();
        // 300 attempts begun before any has finished: only the first five get to check a password.
        let started = (0..300).filter_map(|_| l.begin("anna", Some(ip), t0)).count();
        assert_eq!(started, MAX_FAILURES);
        // A success takes its own count back from the address, so an office signing in does not
        // lock itself out.
        let mut l = LoginLimiter::default();
        for i in 0..3 * MAX_FAILURES_PER_ADDRESS {
            let name = format!("user{i}");
            let attempt = l.begin(&name, Some(ip), t0).expect("a colleague's sign-in is not blocked");
            l.record_success(&name, Some(ip), attempt);
        }
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
