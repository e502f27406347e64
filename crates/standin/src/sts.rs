//! The stand-in's OIOIDWS: an STS at KOMBIT's path ([`oioidws::STS_PATH`]) that issues a signed
//! SAML 2.0 holder-of-key token to a WS-Trust Issue request signed with a client certificate from
//! the stand-in CA (over TLS with that certificate), for the municipality the stand-in serves;
//! and the check every Organisation 6 request must pass ([`Security::check_request`]): the STS's
//! token, for FK-ORG's organisation service, and the message signed by the token's holder.
//! Both checks are [`oioidws`]'s, made with libxmlsec1.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use openssl::x509::X509;

use super::tls::ClientCertificate;
use crate::sources::fkorg_client::ORGANISATION_SERVICE;
use crate::sources::fkorg_soap;
use crate::sources::oioidws::{self, Identity};

/// The CA client certificates must come from, the STS's signing identity, and counters.
pub struct Security {
    ca: X509,
    sts: Identity,
    /// How long an issued token is valid.
    pub token_lifetime: chrono::Duration,
    /// Tokens issued by the STS.
    pub tokens_issued: AtomicU64,
    /// Issue requests refused.
    pub refused: AtomicU64,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security").field("sts", &self.sts).finish_non_exhaustive()
    }
}

impl Security {
    pub fn new(ca: X509, sts: Identity) -> Self {
        Security {
            ca,
            sts,
            token_lifetime: chrono::Duration::hours(8),
            tokens_issued: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    pub fn count(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// The STS's certificate (DER), which the services trust.
    pub fn sts_certificate(&self) -> &[u8] {
        self.sts.certificate_der()
    }

    /// Checks an Organisation 6 request's OIOIDWS security; `cvr`: the municipality served (the
    /// token must be for it). The error is the reason for a SOAP Fault.
    pub fn check_request(&self, body: &[u8], action: &str, cvr: Option<&str>) -> Result<(), String> {
        let checked = oioidws::check_secured_request(
            body,
            self.sts.certificate_der(),
            ORGANISATION_SERVICE,
            action,
            chrono::Utc::now(),
        )
        .map_err(|e| format!("OIOIDWS: {e}"))?;
        if let (Some(own), Some(claimed)) = (cvr, checked.cvr.as_deref()) {
            if own != claimed {
                return Err(format!("OIOIDWS: the token is for CVR {claimed}, this organisation is {own}"));
            }
        }
        if checked.cvr.is_none() {
            return Err("OIOIDWS: the token names no municipality (CVR)".into());
        }
        Ok(())
    }

    /// Answers one Issue request (or a SOAP Fault saying why not).
    fn issue(&self, body: &[u8], shown: bool, cvr: Option<&str>) -> Result<String, String> {
        if !shown {
            return Err("a client certificate from the stand-in's CA is required (TLS client authentication)".into());
        }
        let now = chrono::Utc::now();
        let (checked, service) = oioidws::check_issue_request(body, &self.ca, now).map_err(|e| e.to_string())?;
        if service != ORGANISATION_SERVICE {
            return Err(format!(
                "no service agreement for {service:?}; this STS issues tokens to {ORGANISATION_SERVICE}"
            ));
        }
        let claimed = checked.cvr.ok_or("the request names no municipality (CVR claim)")?;
        if crate::domain::Cvr::parse(&claimed).is_err() {
            return Err(format!("{claimed:?} is not a CVR number"));
        }
        if let Some(own) = cvr.filter(|own| *own != claimed) {
            return Err(format!("no service agreement for CVR {claimed} (this stand-in serves {own})"));
        }
        let (assertion, _) = oioidws::issue_assertion(
            &self.sts,
            &checked.signer,
            ORGANISATION_SERVICE,
            &claimed,
            now,
            self.token_lifetime,
        )
        .map_err(|e| e.to_string())?;
        Ok(oioidws::issue_response(&assertion, now, now + self.token_lifetime))
    }
}

/// The state the STS route needs.
#[derive(Clone)]
pub struct StsState {
    pub security: Option<Arc<Security>>,
    /// The CVR the stand-in serves, if its data names one.
    pub cvr: Option<String>,
}

fn soap_answer(status: StatusCode, xml: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/soap+xml; charset=utf-8")], xml).into_response()
}

/// `POST` [`oioidws::STS_PATH`].
pub async fn issue(
    State(state): State<StsState>,
    certificate: Option<Extension<ClientCertificate>>,
    body: Bytes,
) -> Response {
    let Some(security) = state.security else {
        let reason = "the stand-in's STS needs certificates: start it with --certs DIR";
        return soap_answer(StatusCode::SERVICE_UNAVAILABLE, fkorg_soap::fault("Receiver", reason));
    };
    let shown = certificate.is_some_and(|Extension(ClientCertificate(shown))| shown);
    match security.issue(&body, shown, state.cvr.as_deref()) {
        Ok(xml) => {
            security.tokens_issued.fetch_add(1, Ordering::Relaxed);
            soap_answer(StatusCode::OK, xml)
        }
        Err(reason) => {
            security.refused.fetch_add(1, Ordering::Relaxed);
            tracing::info!(reason = %reason, "STS refused an Issue request");
            soap_answer(
                StatusCode::BAD_REQUEST,
                fkorg_soap::fault("Sender", &format!("wst:FailedAuthentication: {reason}")),
            )
        }
    }
}
