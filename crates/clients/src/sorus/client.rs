//! HTTP client for the SOR update service: one SOAP POST per call, with the ID card from a
//! [`TokenProvider`] and the idempotency key as `MessageID`; every failure is classed as temporary
//! or permanent for the apply engine, which does the retrying.

use std::fmt;
use std::time::Duration;

use reqwest::{StatusCode, Url};

use super::envelope::{self, Operation, RequestBody, Response};
use super::{SelfDeclaredIdCard, TokenProvider};
use crate::config::SorConfig;
use crate::net::describe;
use crate::port::{ChangeOutcome, IdempotencyKey, SorChange, SorWriter, WriteError};
use sorsync_core::secrets::redact_password;

/// The longest answer read from SORUS (1 MiB): SOAP answers to one change are a few kB.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Why the client could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SorusError {
    #[error("the SOR writer is not configured right: {0}")]
    Config(String),
}

/// Client for SORUS. `P` supplies the ID card; tests and the demo use [`SelfDeclaredIdCard`].
pub struct SorusClient<P: TokenProvider = SelfDeclaredIdCard> {
    http: reqwest::Client,
    url: Url,
    /// The URL with any password hidden, for messages and Debug.
    shown: String,
    timeout: Duration,
    tokens: P,
}

impl<P: TokenProvider> fmt::Debug for SorusClient<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SorusClient").field("url", &self.shown).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl<P: TokenProvider> SorusClient<P> {
    /// Checks the configuration and prepares the HTTP client (TLS through rustls); sends nothing yet.
    pub fn new(cfg: &SorConfig, tokens: P) -> Result<Self, SorusError> {
        let shown = redact_password(&cfg.url);
        let url =
            Url::parse(&cfg.url).map_err(|e| SorusError::Config(format!("sor.url {shown:?} is not a URL: {e}")))?;
        crate::net::check_scheme("sor.url", &url).map_err(|e| SorusError::Config(e.replace(url.as_str(), &shown)))?;
        if cfg.timeout_secs == 0 || cfg.connect_timeout_secs == 0 {
            return Err(SorusError::Config("sor.timeout_secs and sor.connect_timeout_secs must be at least 1".into()));
        }
        // No redirects: one would re-send the ID card to wherever it points.
        let http = crate::net::client_builder()
            .connect_timeout(Duration::from_secs(cfg.connect_timeout_secs))
            .build()
            .map_err(|e| SorusError::Config(format!("cannot set up HTTP: {e}")))?;
        Ok(SorusClient { http, url, shown, timeout: Duration::from_secs(cfg.timeout_secs), tokens })
    }

    /// Replaces `sor.timeout_secs` (tests use a fraction of a second).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL with any password hidden.
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    /// Sends one request and reads the answer; every failure comes back classed.
    #[tracing::instrument(skip_all, fields(key = %key, op = ?body.operation()))]
    async fn call(&self, key: &IdempotencyKey, body: &RequestBody) -> Result<Response, WriteError> {
        let card = self.tokens.id_card().await.map_err(|e| WriteError::Temporary(e.to_string()))?;
        let xml = envelope::build_request(&card, key, body, chrono::Utc::now())
            .map_err(|e| WriteError::Permanent(format!("cannot build the request: {e}")))?;
        let action = format!("\"{}\"", body.operation().soap_action());
        let sent = self
            .http
            .post(self.url.clone())
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", action)
            .body(xml)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_builder() => return Err(WriteError::Permanent(describe(&e))),
            Err(e) => return Err(WriteError::Temporary(format!("SOR ({}): {}", self.shown, describe(&e)))),
        };
        let status = resp.status();
        let bytes = read_capped(resp, &self.shown).await?;
        match envelope::parse_response(&bytes) {
            Ok(Response::Fault(f)) => {
                let message = format!("SOR fault {}: {}", f.code, f.message);
                tracing::debug!(code = %f.code, temporary = f.is_temporary(), "SOR answered with a fault.");
                Err(if f.is_temporary() { WriteError::Temporary(message) } else { WriteError::Permanent(message) })
            }
            Ok(answer) => Ok(answer),
            Err(e) => {
                let message = format!(
                    "SOR answered HTTP {} that cannot be read ({e}): {}",
                    status.as_u16(),
                    envelope::snippet(&bytes)
                );
                // A success we cannot read may still have been applied: temporary, so the engine looks
                // the key up. 4xx other than 408/429 will not change by retrying.
                let temporary = status.is_success()
                    || status.is_server_error()
                    || status == StatusCode::REQUEST_TIMEOUT
                    || status == StatusCode::TOO_MANY_REQUESTS;
                Err(if temporary { WriteError::Temporary(message) } else { WriteError::Permanent(message) })
            }
        }
    }
}

impl<P: TokenProvider> SorWriter for SorusClient<P> {
    async fn apply(&self, key: &IdempotencyKey, change: &SorChange) -> Result<ChangeOutcome, WriteError> {
        let expected = Operation::of_change(change);
        match self.call(key, &RequestBody::Change(change.clone())).await? {
            Response::Applied { operation, outcome } if operation == expected => {
                tracing::debug!(key = %key, op = change.op(), "SOR applied the change.");
                Ok(outcome)
            }
            other => Err(WriteError::Permanent(format!(
                "SOR's answer to {} does not fit the request: {other:?}",
                expected.request_element()
            ))),
        }
    }

    async fn lookup(&self, key: &IdempotencyKey) -> Result<Option<ChangeOutcome>, WriteError> {
        match self.call(key, &RequestBody::Lookup).await? {
            Response::Lookup(found) => Ok(found),
            other => {
                Err(WriteError::Permanent(format!("SOR's answer to a lookup does not fit the request: {other:?}")))
            }
        }
    }
}

/// Reads at most [`MAX_ANSWER_BYTES`] of an answer, in chunks; a longer one is a temporary failure
/// (a proxy's error page or a broken server, not SORUS).
async fn read_capped(resp: reqwest::Response, shown: &str) -> Result<Vec<u8>, WriteError> {
    crate::net::read_capped(resp, MAX_ANSWER_BYTES).await.map_err(|e| match e {
        crate::net::ReadFailure::TooLong { cap } => {
            WriteError::Temporary(format!("SOR ({shown}): the answer is longer than {cap} bytes; not read"))
        }
        crate::net::ReadFailure::Broken(e) => {
            WriteError::Temporary(format!("SOR ({shown}): the answer broke off: {}", describe(&e)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Cvr;

    fn card() -> SelfDeclaredIdCard {
        SelfDeclaredIdCard::new("sorsync", Cvr::parse("11111111").unwrap())
    }

    #[test]
    fn a_bad_configuration_is_refused_before_any_request() {
        let bad = |url: &str, timeout_secs| SorConfig { url: url.into(), timeout_secs, ..SorConfig::default() };
        assert!(SorusClient::new(&bad("not a url", 5), card()).is_err());
        assert!(SorusClient::new(&bad("ftp://127.0.0.1/sorus", 5), card()).is_err());
        assert!(SorusClient::new(&bad("http://127.0.0.1:1/sorus", 0), card()).is_err());
        assert!(SorusClient::new(&SorConfig::default(), card()).is_ok());
    }

    #[test]
    fn plain_http_is_refused_to_another_machine_and_passwords_never_show() {
        let cfg = |url: &str| SorConfig { url: url.into(), ..SorConfig::default() };
        let err = SorusClient::new(&cfg("http://sor.example.dk/sorus"), card()).unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
        assert!(SorusClient::new(&cfg("http://localhost:8702/sorus"), card()).is_ok());
        assert!(SorusClient::new(&cfg("http://[::1]:8702/sorus"), card()).is_ok());
        let client = SorusClient::new(&cfg("https://sorsync:hemmelig@sor.example.dk/sorus"), card()).unwrap();
        assert!(!format!("{client:?}").contains("hemmelig"));
        assert!(!client.shown_url().contains("hemmelig"));
        let err = SorusClient::new(&cfg("http://sorsync:hemmelig@sor.example.dk/sorus"), card()).unwrap_err();
        assert!(!err.to_string().contains("hemmelig"), "{err}");
    }

    #[tokio::test]
    async fn an_answer_over_one_mebibyte_is_not_read_and_is_a_temporary_failure() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let _ = sock.read(&mut buf).await;
            let size = MAX_ANSWER_BYTES + 10;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {size}\r\n\r\n");
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(&vec![b'x'; size]).await;
        });
        let cfg = SorConfig { url: format!("http://127.0.0.1:{port}/sorus"), ..SorConfig::default() };
        let client = SorusClient::new(&cfg, card()).unwrap();
        let err = client.lookup(&IdempotencyKey("k".into())).await.unwrap_err();
        assert!(err.is_temporary(), "{err}");
        assert!(err.to_string().contains("longer than 1048576 bytes"), "{err}");
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_so_the_id_card_goes_nowhere_else() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = format!("http://{}/steal", elsewhere.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let _ = sock.read(&mut buf).await;
            let head = format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\n\r\n");
            let _ = sock.write_all(head.as_bytes()).await;
        });
        let cfg = SorConfig { url: format!("http://127.0.0.1:{port}/sorus"), ..SorConfig::default() };
        let client = SorusClient::new(&cfg, card()).unwrap();
        let err = client.lookup(&IdempotencyKey("k".into())).await.unwrap_err();
        assert!(err.to_string().contains("HTTP 307"), "{err}");
        let followed = tokio::time::timeout(Duration::from_millis(300), elsewhere.accept()).await;
        assert!(followed.is_err(), "the client followed the redirect to another address");
    }

    #[tokio::test]
    async fn nothing_listening_is_a_temporary_failure() {
        // Port 1 on loopback: nothing listens there.
        let cfg = SorConfig { url: "http://127.0.0.1:1/sorus".into(), ..SorConfig::default() };
        let client = SorusClient::new(&cfg, card()).unwrap();
        let err = client.lookup(&IdempotencyKey("k".into())).await.unwrap_err();
        assert!(err.is_temporary(), "{err}");
    }
}
