//! HTTP client for the SOR update service: one SOAP POST per call, with the ID card from a
//! [`TokenProvider`] and the idempotency key as `MessageID`; every failure is classed as temporary
//! or permanent for the apply engine, which does the retrying.

use std::fmt;
use std::time::Duration;

use reqwest::{StatusCode, Url};

use super::envelope::{self, Operation, RequestBody, Response};
use super::{SelfDeclaredIdCard, TokenProvider};
use crate::apply::port::{ChangeOutcome, IdempotencyKey, SorChange, SorWriter, WriteError};
use crate::config::SorConfig;

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
    timeout: Duration,
    tokens: P,
}

impl<P: TokenProvider> fmt::Debug for SorusClient<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SorusClient")
            .field("url", &self.url.as_str())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<P: TokenProvider> SorusClient<P> {
    /// Checks the configuration and prepares the HTTP client (TLS through rustls); sends nothing yet.
    pub fn new(cfg: &SorConfig, tokens: P) -> Result<Self, SorusError> {
        let url =
            Url::parse(&cfg.url).map_err(|e| SorusError::Config(format!("sor.url {:?} is not a URL: {e}", cfg.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SorusError::Config(format!("sor.url {:?} must start with https:// or http://", cfg.url)));
        }
        if cfg.timeout_secs == 0 || cfg.connect_timeout_secs == 0 {
            return Err(SorusError::Config("sor.timeout_secs and sor.connect_timeout_secs must be at least 1".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(cfg.connect_timeout_secs))
            .user_agent(concat!("sorsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SorusError::Config(format!("cannot set up HTTP: {e}")))?;
        Ok(SorusClient { http, url, timeout: Duration::from_secs(cfg.timeout_secs), tokens })
    }

    /// Replaces `sor.timeout_secs` (tests use a fraction of a second).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn url(&self) -> &Url {
        &self.url
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
            Err(e) => return Err(WriteError::Temporary(format!("SOR ({}): {}", self.url, describe(&e)))),
        };
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| {
            WriteError::Temporary(format!("SOR ({}): the answer broke off: {}", self.url, describe(&e)))
        })?;
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

/// A reqwest error in words: what happened and its causes.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut msg = kind.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
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

    #[tokio::test]
    async fn nothing_listening_is_a_temporary_failure() {
        // Port 1 on loopback: nothing listens there.
        let cfg = SorConfig { url: "http://127.0.0.1:1/sorus".into(), ..SorConfig::default() };
        let client = SorusClient::new(&cfg, card()).unwrap();
        let err = client.lookup(&IdempotencyKey("k".into())).await.unwrap_err();
        assert!(err.is_temporary(), "{err}");
    }
}
