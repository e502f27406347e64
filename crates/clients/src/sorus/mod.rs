//! Writing to SOR through the SOR update service (SORUS): SOAP 1.1 envelopes ([`envelope`]), the
//! HTTP client ([`client::SorusClient`], an [`crate::port::SorWriter`]), the DGWS/SOSI ID card
//! behind a pluggable [`TokenProvider`], and the retry helper with backoff and jitter ([`retry_with_backoff`], shared with the engine).

pub mod client;
pub mod envelope;

use std::fmt;

use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Utc};

/// The retry helper lives with the engine; here for the SORUS client's users.
pub use crate::retry::{retry_with_backoff, RetryPolicy};
pub use client::{SorusClient, SorusError};
pub use envelope::IdCard;

use crate::domain::Cvr;
use crate::markup::escape_xml;

/// Why no ID card could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no DGWS ID card: {0}")]
pub struct TokenError(pub String);

/// Supplies the DGWS/SOSI ID card for each request. A real deployment gets a signed card (FOCES,
/// level 3) from the national security token service and caches it while valid; tests and the
/// demo use [`SelfDeclaredIdCard`]. Implementations never log the card.
#[allow(async_fn_in_trait)]
pub trait TokenProvider {
    async fn id_card(&self) -> Result<IdCard, TokenError>;
}

/// An unsigned, self-declared system ID card (DGWS authentication level 1): enough for the
/// stand-in, refused by the real service. For tests and the demo only.
#[derive(Clone, PartialEq, Eq)]
pub struct SelfDeclaredIdCard {
    /// `medcom:ITSystemName`.
    pub system_name: String,
    /// `medcom:CareProviderID` (CVR number of the organisation that runs sorsync).
    pub care_provider: Cvr,
    /// How long each card is valid from the moment it is made.
    pub validity: ChronoDuration,
}

impl fmt::Debug for SelfDeclaredIdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelfDeclaredIdCard").field("system_name", &self.system_name).finish_non_exhaustive()
    }
}

impl SelfDeclaredIdCard {
    pub fn new(system_name: impl Into<String>, care_provider: Cvr) -> Self {
        SelfDeclaredIdCard { system_name: system_name.into(), care_provider, validity: ChronoDuration::hours(24) }
    }

    /// The `saml:Assertion` element, shaped as a DGWS 1.0 system ID card, made at `now`.
    pub fn assertion_at(&self, now: DateTime<Utc>) -> String {
        let t = |d: DateTime<Utc>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
        let card_id = uuid::Uuid::new_v4();
        let name = escape_xml(&self.system_name);
        let cvr = self.care_provider;
        format!(
            concat!(
                "<saml:Assertion xmlns:saml=\"{saml}\" xmlns:sosi=\"{sosi}\" xmlns:medcom=\"{medcom}\" ",
                "IssueInstant=\"{now}\" Version=\"2.0\" ID=\"IDCard\">",
                "<saml:Issuer>{name}</saml:Issuer>",
                "<saml:Subject><saml:NameID Format=\"medcom:cvrnumber\">{cvr}</saml:NameID></saml:Subject>",
                "<saml:Conditions NotBefore=\"{now}\" NotOnOrAfter=\"{until}\"/>",
                "<saml:AttributeStatement ID=\"IDCardData\">",
                "<saml:Attribute Name=\"sosi:IDCardID\"><saml:AttributeValue>{card_id}</saml:AttributeValue></saml:Attribute>",
                "<saml:Attribute Name=\"sosi:IDCardVersion\"><saml:AttributeValue>1.0.1</saml:AttributeValue></saml:Attribute>",
                "<saml:Attribute Name=\"sosi:IDCardType\"><saml:AttributeValue>system</saml:AttributeValue></saml:Attribute>",
                "<saml:Attribute Name=\"sosi:AuthenticationLevel\"><saml:AttributeValue>1</saml:AttributeValue></saml:Attribute>",
                "</saml:AttributeStatement>",
                "<saml:AttributeStatement ID=\"SystemLog\">",
                "<saml:Attribute Name=\"medcom:ITSystemName\"><saml:AttributeValue>{name}</saml:AttributeValue></saml:Attribute>",
                "<saml:Attribute Name=\"medcom:CareProviderID\" NameFormat=\"medcom:cvrnumber\"><saml:AttributeValue>{cvr}</saml:AttributeValue></saml:Attribute>",
                "</saml:AttributeStatement>",
                "</saml:Assertion>"
            ),
            saml = envelope::SAML_NS,
            sosi = envelope::SOSI_NS,
            medcom = envelope::MEDCOM_NS,
            now = t(now),
            until = t(now + self.validity),
            name = name,
            cvr = cvr,
            card_id = card_id,
        )
    }
}

impl<T: TokenProvider> TokenProvider for std::sync::Arc<T> {
    async fn id_card(&self) -> Result<IdCard, TokenError> {
        T::id_card(self).await
    }
}

impl TokenProvider for SelfDeclaredIdCard {
    async fn id_card(&self) -> Result<IdCard, TokenError> {
        Ok(IdCard::from_assertion_xml(self.assertion_at(Utc::now())))
    }
}
