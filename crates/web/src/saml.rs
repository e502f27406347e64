//! Sign-in through KOMBIT's Fælleskommunal Adgangsstyring (the Context Handler): sorsync as a SAML
//! 2.0 service provider by the OIOSAML 3 profile.
//!
//! `GET /saml/metadata` (our metadata), `GET /saml/login` (a signed AuthnRequest, redirect binding,
//! to the IdP's single sign-on URL from its metadata), `POST /saml/acs` (the Response: the assertion
//! encrypted to our certificate with AES-256-GCM/CBC and RSA-OAEP, signed by the IdP's certificate
//! from its metadata), `GET /saml/logout`.
//!
//! XML signatures are checked by `samael` (libxmlsec1), which also checks Issuer, Audience,
//! Recipient, Destination, NotBefore/NotOnOrAfter and InResponseTo. This module adds what samael
//! leaves out: decryption with the algorithms the Context Handler uses (samael knows only AES-128
//! and OAEP with SHA-1), a required AudienceRestriction, one use per AuthnRequest id, refusal of
//! replayed assertion ids, and the privilege list (roles per municipality by CVR).
//!
//! Roles come only from the assertion and are taken afresh at every sign-in.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use openssl::pkey::{PKey, Private};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use samael::crypto::{AllowedSignatureAlgorithm, CertificateDer};
use samael::metadata::{EntityDescriptor, KeyDescriptor};
use samael::schema::Assertion;
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml;

use crate::config::SamlConfig;
use crate::domain::{Cvr, KommuneKode};
use crate::review::Role;

/// The privilege attribute's names: OIOSAML 3, and the older profile's.
pub const PRIVILEGE_ATTRIBUTES: [&str; 2] =
    ["https://data.gov.dk/model/core/eid/privilegesIntermediate", "dk:gov:saml:attribute:Privileges_intermediate"];
/// The basic privilege profile's namespaces (1.0/1.1 and 1.2).
pub const PRIVILEGE_NAMESPACES: [&str; 2] =
    ["http://itst.dk/oiosaml/basic_privilege_profile", "http://digst.dk/oiosaml/basic_privilege_profile"];
/// A PrivilegeGroup's Scope names a municipality by this prefix and its CVR number.
pub const CVR_SCOPE_PREFIX: &str = "urn:dk:gov:saml:cvrNumberIdentifier:";
/// The persistent NameID format OIOSAML 3 asks for.
pub const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const ASSERTION_NS: &[u8] = b"urn:oasis:names:tc:SAML:2.0:assertion";
const PROTOCOL_NS: &[u8] = b"urn:oasis:names:tc:SAML:2.0:protocol";
const XMLENC_NS: &[u8] = b"http://www.w3.org/2001/04/xmlenc#";
const DSIG_NS: &[u8] = b"http://www.w3.org/2000/09/xmldsig#";

/// How long an AuthnRequest may wait for its answer.
pub const REQUEST_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Clock difference tolerated between the IdP and us.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// Outstanding AuthnRequests kept at most (a flood of /saml/login cannot grow memory without bound).
pub const MAX_OUTSTANDING: usize = 10_000;
/// Longest SAMLResponse (base64) accepted.
pub const MAX_RESPONSE_LEN: usize = 512 * 1024;

/// Why SAML sign-in could not start or an answer was refused. The messages name the check, never
/// the assertion's content.
#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error("[saml]: {0}")]
    Config(String),
    #[error("the SAML answer was refused: {0}")]
    Refused(String),
    #[error("SAML: {0}")]
    Internal(String),
}

fn refused(why: impl Into<String>) -> SamlError {
    SamlError::Refused(why.into())
}

/// Who signed in, as the assertion says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlIdentity {
    /// The sorsync user name: the assertion's NameID.
    pub user_name: String,
    /// The roles the privilege list grants here, by municipality.
    pub grants: Vec<(KommuneKode, Role)>,
    /// The NameID's SessionIndex, for logout.
    pub session_index: Option<String>,
}

/// The service provider: our keys, the IdP's metadata, outstanding requests and seen assertions.
pub struct SamlSp {
    sp: ServiceProvider,
    config: SamlConfig,
    key: PKey<Private>,
    idp_sso_url: String,
    idp_slo_url: Option<String>,
    idp_signing_certs: Vec<CertificateDer>,
    /// AuthnRequest id -> when it stops being answerable.
    outstanding: Mutex<HashMap<String, Instant>>,
    /// Assertion id -> until when it must not come again.
    seen: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for SamlSp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlSp")
            .field("entity_id", &self.config.entity_id)
            .field("idp", &self.sp.idp_metadata.entity_id)
            .field("idp_sso_url", &self.idp_sso_url)
            .finish_non_exhaustive()
    }
}

/// Reads a PEM certificate file into DER.
pub fn read_cert_pem(path: &std::path::Path) -> Result<Vec<u8>, SamlError> {
    let pem =
        std::fs::read(path).map_err(|e| SamlError::Config(format!("cannot read cert {}: {e}", path.display())))?;
    let x509 = openssl::x509::X509::from_pem(&pem)
        .map_err(|_| SamlError::Config(format!("{} is not a PEM certificate", path.display())))?;
    x509.to_der().map_err(|e| SamlError::Internal(e.to_string()))
}

/// Reads a PEM private key file (never shown in errors).
pub fn read_key_pem(path: &std::path::Path) -> Result<PKey<Private>, SamlError> {
    let pem = std::fs::read(path).map_err(|e| SamlError::Config(format!("cannot read key {}: {e}", path.display())))?;
    PKey::private_key_from_pem(&pem)
        .map_err(|_| SamlError::Config(format!("{} is not a PEM private key", path.display())))
}

impl SamlSp {
    /// Loads the IdP's metadata and our certificate and key.
    pub fn load(config: &SamlConfig) -> Result<Self, SamlError> {
        let metadata = std::fs::read_to_string(&config.idp_metadata).map_err(|e| {
            SamlError::Config(format!("cannot read idp_metadata {}: {e}", config.idp_metadata.display()))
        })?;
        let idp: EntityDescriptor = metadata.parse().map_err(|e| {
            SamlError::Config(format!("idp_metadata {} is not SAML metadata: {e}", config.idp_metadata.display()))
        })?;
        let cert = read_cert_pem(&config.cert)?;
        let key = read_key_pem(&config.key)?;
        Self::new(config.clone(), idp, cert, key)
    }

    /// The service provider from parts (tests and the stand-in).
    pub fn new(
        config: SamlConfig,
        idp: EntityDescriptor,
        cert_der: Vec<u8>,
        key: PKey<Private>,
    ) -> Result<Self, SamlError> {
        let base = config.base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("https://")
            || base.starts_with("http://127.0.0.1")
            || base.starts_with("http://localhost"))
        {
            return Err(SamlError::Config(format!("base_url {base:?} must be https:// (plain http only on loopback)")));
        }
        if config.entity_id.trim().is_empty() {
            return Err(SamlError::Config("entity_id is empty".into()));
        }
        let sp = ServiceProviderBuilder::default()
            .entity_id(Some(config.entity_id.clone()))
            .key(Some(key.clone()))
            .certificate(Some(CertificateDer::from(cert_der)))
            .metadata_url(Some(format!("{base}/saml/metadata")))
            .acs_url(Some(format!("{base}/saml/acs")))
            .slo_url(Some(format!("{base}/saml/logout")))
            .idp_metadata(idp)
            .authn_name_id_format(Some(PERSISTENT.to_string()))
            .max_issue_delay(chrono::Duration::minutes(10))
            .max_clock_skew(chrono::Duration::seconds(CLOCK_SKEW_SECS))
            .allowed_signature_algorithms(Some(vec![
                AllowedSignatureAlgorithm::RsaSha256,
                AllowedSignatureAlgorithm::RsaSha384,
                AllowedSignatureAlgorithm::RsaSha512,
                AllowedSignatureAlgorithm::EcdsaSha256,
                AllowedSignatureAlgorithm::EcdsaSha384,
                AllowedSignatureAlgorithm::EcdsaSha512,
            ]))
            .build()
            .map_err(|e| SamlError::Config(e.to_string()))?;
        let idp_sso_url = sp
            .sso_binding_location(HTTP_REDIRECT)
            .ok_or_else(|| SamlError::Config("the IdP's metadata has no HTTP-Redirect SingleSignOnService".into()))?;
        let idp_slo_url = sp.slo_binding_location(HTTP_REDIRECT);
        let idp_signing_certs = sp
            .idp_signing_certs()
            .map_err(|e| SamlError::Config(format!("the IdP's certificates: {e}")))?
            .ok_or_else(|| SamlError::Config("the IdP's metadata has no signing certificate".into()))?;
        if sp.idp_metadata.entity_id.as_deref().unwrap_or("").is_empty() {
            return Err(SamlError::Config("the IdP's metadata has no entityID".into()));
        }
        Ok(SamlSp {
            sp,
            config,
            key,
            idp_sso_url,
            idp_slo_url,
            idp_signing_certs,
            outstanding: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
        })
    }

    /// The configuration it was made from.
    pub fn config(&self) -> &SamlConfig {
        &self.config
    }

    /// Where the IdP sends answers.
    pub fn acs_url(&self) -> String {
        format!("{}/saml/acs", self.config.base_url.trim_end_matches('/'))
    }

    /// Our metadata: entity id, ACS (POST), logout (redirect), signing and encryption certificate,
    /// persistent NameID, signed requests.
    pub fn metadata_xml(&self) -> Result<String, SamlError> {
        let mut md = self.sp.metadata().map_err(|e| SamlError::Internal(e.to_string()))?;
        if let Some(descriptors) = md.sp_sso_descriptors.as_mut() {
            for d in descriptors.iter_mut() {
                d.authn_requests_signed = Some(true);
                d.want_assertions_signed = Some(true);
                d.name_id_formats = Some(vec![PERSISTENT.to_string()]);
                if let Some(slo) = d.single_logout_services.as_mut() {
                    for e in slo.iter_mut() {
                        e.binding = HTTP_REDIRECT.to_string();
                    }
                }
                if let Some(keys) = d.key_descriptors.as_mut() {
                    let signing: Vec<KeyDescriptor> = keys.iter().take(1).cloned().collect();
                    let mut encryption: Vec<KeyDescriptor> = keys.iter().skip(1).take(1).cloned().collect();
                    for k in encryption.iter_mut() {
                        k.key_use = Some("encryption".into());
                        k.encryption_methods = Some(
                            [
                                "http://www.w3.org/2009/xmlenc11#aes256-gcm",
                                "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
                                "http://www.w3.org/2009/xmlenc11#rsa-oaep",
                                "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
                            ]
                            .iter()
                            .map(|a| samael::metadata::EncryptionMethod { algorithm: a.to_string() })
                            .collect(),
                        );
                    }
                    *keys = signing.into_iter().chain(encryption).collect();
                }
            }
        }
        md.to_string().map_err(|e| SamlError::Internal(e.to_string()))
    }

    /// A signed AuthnRequest as a redirect URL to the IdP; its id is remembered until answered
    /// or [`REQUEST_LIFETIME`] has passed.
    pub fn login_redirect(&self, relay_state: &str) -> Result<String, SamlError> {
        let mut request =
            self.sp.make_authentication_request(&self.idp_sso_url).map_err(|e| SamlError::Internal(e.to_string()))?;
        // samael's ids carry 32 random bits; ours 128.
        request.id = format!("_{}", uuid::Uuid::new_v4().simple());
        let now = Instant::now();
        {
            let mut outstanding = self.outstanding.lock().unwrap_or_else(|e| e.into_inner());
            outstanding.retain(|_, until| *until > now);
            if outstanding.len() >= MAX_OUTSTANDING {
                return Err(SamlError::Refused("too many sign-ins under way; try again in a few minutes".into()));
            }
            outstanding.insert(request.id.clone(), now + REQUEST_LIFETIME);
        }
        let url = request
            .signed_redirect(relay_state, &self.key)
            .map_err(|e| SamlError::Internal(format!("signing the AuthnRequest: {e}")))?
            .ok_or_else(|| SamlError::Internal("the AuthnRequest has no destination".into()))?;
        Ok(url.to_string())
    }

    /// The ids of the AuthnRequests still waiting for an answer.
    fn outstanding_ids(&self) -> Vec<String> {
        let now = Instant::now();
        let mut outstanding = self.outstanding.lock().unwrap_or_else(|e| e.into_inner());
        outstanding.retain(|_, until| *until > now);
        outstanding.keys().cloned().collect()
    }

    /// Checks a Response from the ACS (the form field `SAMLResponse`, base64) and returns who
    /// signed in with their roles here. `municipality_by_cvr` names the municipality of a CVR.
    pub fn consume(
        &self,
        saml_response: &str,
        municipality_by_cvr: impl Fn(Cvr) -> Option<KommuneKode>,
    ) -> Result<SamlIdentity, SamlError> {
        if saml_response.len() > MAX_RESPONSE_LEN {
            return Err(refused("the answer is too long"));
        }
        let compact: String = saml_response.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = B64.decode(compact.as_bytes()).map_err(|_| refused("SAMLResponse is not base64"))?;
        let xml = String::from_utf8(bytes).map_err(|_| refused("SAMLResponse is not UTF-8"))?;
        let ids = self.outstanding_ids();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();

        let layout = response_layout(&xml)?;
        let assertion = match (layout.encrypted.clone(), layout.plain_assertions) {
            (Some(range), 0) => {
                self.check_response_envelope(&xml, &layout, &id_refs)?;
                let assertion_xml = decrypt_assertion(&xml[range], &self.key)?;
                self.sp
                    .parse_xml_response(&assertion_xml, Some(&id_refs))
                    .map_err(|e| refused(format!("the assertion: {e}")))?
            }
            (None, 1) if !self.config.require_encryption => {
                self.check_response_envelope(&xml, &layout, &id_refs)?;
                self.sp.parse_xml_response(&xml, Some(&id_refs)).map_err(|e| refused(format!("the response: {e}")))?
            }
            (None, 1) => return Err(refused("the assertion is not encrypted (require_encryption = true)")),
            _ => return Err(refused("the response must hold exactly one assertion")),
        };
        self.accept_assertion(&assertion, municipality_by_cvr)
    }

    /// Status, Destination, InResponseTo and (when present) the signature of the Response around
    /// an encrypted assertion.
    fn check_response_envelope(&self, xml: &str, layout: &ResponseLayout, ids: &[&str]) -> Result<(), SamlError> {
        if layout.signed {
            use samael::crypto::CryptoProvider as _;
            samael::crypto::Crypto::reduce_xml_to_signed_with_allowed_algorithms(
                xml,
                &self.idp_signing_certs,
                samael::crypto::ReduceMode::ValidateAndMarkNoAncestors,
                self.sp.allowed_signature_algorithms.as_deref(),
            )
            .map_err(|_| refused("the response's signature does not verify"))?;
        }
        if layout.status.as_deref() != Some("urn:oasis:names:tc:SAML:2.0:status:Success") {
            return Err(refused(format!(
                "the IdP answered {}",
                layout.status.as_deref().unwrap_or("without a status")
            )));
        }
        if let Some(destination) = &layout.destination {
            if *destination != self.acs_url() {
                return Err(refused("Destination is not our ACS"));
            }
        }
        if let Some(irt) = &layout.in_response_to {
            if !ids.contains(&irt.as_str()) {
                return Err(refused("InResponseTo is not a request we sent (or it was answered already)"));
            }
        }
        if let Some(issuer) = &layout.issuer {
            if Some(issuer.as_str()) != self.sp.idp_metadata.entity_id.as_deref() {
                return Err(refused("the response's Issuer is not the IdP"));
            }
        }
        Ok(())
    }

    /// What samael does not check, then the identity and roles.
    fn accept_assertion(
        &self,
        assertion: &Assertion,
        municipality_by_cvr: impl Fn(Cvr) -> Option<KommuneKode>,
    ) -> Result<SamlIdentity, SamlError> {
        let conditions = assertion.conditions.as_ref().ok_or_else(|| refused("the assertion has no Conditions"))?;
        let audiences = conditions.audience_restrictions.as_deref().unwrap_or(&[]);
        if audiences.is_empty() || !audiences.iter().all(|r| r.audience.contains(&self.config.entity_id)) {
            return Err(refused("the assertion is not for us (Audience)"));
        }
        let subject = assertion.subject.as_ref().ok_or_else(|| refused("the assertion has no Subject"))?;
        let name_id = subject.name_id.as_ref().map(|n| n.value.trim().to_string()).unwrap_or_default();
        if name_id.is_empty() || name_id.len() > 256 || name_id.chars().any(char::is_control) {
            return Err(refused("the assertion's NameID is empty, too long or has control characters"));
        }
        let in_response_to = subject
            .subject_confirmations
            .iter()
            .flatten()
            .filter_map(|c| c.subject_confirmation_data.as_ref())
            .filter_map(|d| d.in_response_to.clone())
            .next()
            .ok_or_else(|| refused("the assertion answers no request"))?;
        // Replay: each assertion id once, remembered until well after it expires.
        let now = Instant::now();
        let keep = conditions
            .not_on_or_after
            .map(|t| (t - chrono::Utc::now()).num_seconds().max(0) as u64)
            .unwrap_or(3600)
            .saturating_add(2 * CLOCK_SKEW_SECS as u64)
            .max(REQUEST_LIFETIME.as_secs());
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.retain(|_, until| *until > now);
            if seen.contains_key(&assertion.id) {
                return Err(refused("this assertion was used already (replay)"));
            }
            seen.insert(assertion.id.clone(), now + Duration::from_secs(keep));
        }
        // The request is answered: it cannot be answered again.
        let removed = self.outstanding.lock().unwrap_or_else(|e| e.into_inner()).remove(&in_response_to);
        if removed.is_none() {
            return Err(refused("InResponseTo is not a request we sent (or it was answered already)"));
        }
        let mut grants = Vec::new();
        for statement in assertion.attribute_statements.iter().flatten() {
            for attribute in &statement.attributes {
                if !attribute.name.as_deref().is_some_and(|n| PRIVILEGE_ATTRIBUTES.contains(&n)) {
                    continue;
                }
                for value in attribute.values.iter().filter_map(|v| v.value.as_deref()) {
                    for (cvr, privilege) in privileges_in(value)? {
                        let Some(kommune) = municipality_by_cvr(cvr) else { continue };
                        for role in self.roles_for(&privilege) {
                            if !grants.contains(&(kommune, role)) {
                                grants.push((kommune, role));
                            }
                        }
                    }
                }
            }
        }
        grants.sort_by_key(|(k, r)| (k.as_u16(), r.as_str()));
        let session_index = assertion.authn_statements.iter().flatten().find_map(|s| s.session_index.clone());
        Ok(SamlIdentity { user_name: name_id, grants, session_index })
    }

    /// Our roles a user-system role URI grants.
    fn roles_for(&self, privilege: &str) -> Vec<Role> {
        let p = &self.config.privileges;
        let mut roles = Vec::new();
        for (uri, role) in [
            (&p.sor_admin, Role::SorAdmin),
            (&p.org_admin, Role::OrgAdmin),
            (&p.operator, Role::Operator),
            (&p.read_only, Role::ReadOnly),
        ] {
            if uri.as_deref().is_some_and(|u| u.trim() == privilege.trim()) {
                roles.push(role);
            }
        }
        roles
    }

    /// A signed LogoutRequest to the IdP (redirect binding), when its metadata has a logout
    /// endpoint.
    pub fn logout_redirect(&self, user_name: &str, session_index: Option<&str>) -> Result<Option<String>, SamlError> {
        let Some(slo) = &self.idp_slo_url else { return Ok(None) };
        let id = format!("_{}", uuid::Uuid::new_v4().simple());
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let session = session_index
            .map(|s| format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", crate::markup::escape_xml(s)))
            .unwrap_or_default();
        let xml = format!(
            "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" \
             IssueInstant=\"{now}\" Destination=\"{dest}\"><saml:Issuer>{issuer}</saml:Issuer>\
             <saml:NameID Format=\"{PERSISTENT}\">{name}</saml:NameID>{session}</samlp:LogoutRequest>",
            dest = crate::markup::escape_xml(slo),
            issuer = crate::markup::escape_xml(&self.config.entity_id),
            name = crate::markup::escape_xml(user_name),
        );
        signed_redirect_url(slo, "SAMLRequest", &xml, "", &self.key).map(Some)
    }
}

/// A redirect-binding URL: `param` = base64(deflate(xml)), RelayState, SigAlg (RSA-SHA256) and the
/// Signature over them, in the order the binding prescribes.
pub fn signed_redirect_url(
    endpoint: &str,
    param: &str,
    xml: &str,
    relay_state: &str,
    key: &PKey<Private>,
) -> Result<String, SamlError> {
    let mut deflated = Vec::new();
    {
        let mut enc = flate2::write::DeflateEncoder::new(&mut deflated, flate2::Compression::default());
        enc.write_all(xml.as_bytes()).map_err(|e| SamlError::Internal(e.to_string()))?;
        enc.finish().map_err(|e| SamlError::Internal(e.to_string()))?;
    }
    let enc = |s: &str| url_encode(s);
    let mut query = format!("{param}={}", enc(&B64.encode(&deflated)));
    if !relay_state.is_empty() {
        query.push_str(&format!("&RelayState={}", enc(relay_state)));
    }
    query.push_str(&format!("&SigAlg={}", enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")));
    let mut signer = openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), key)
        .map_err(|e| SamlError::Internal(e.to_string()))?;
    signer.update(query.as_bytes()).map_err(|e| SamlError::Internal(e.to_string()))?;
    let signature = signer.sign_to_vec().map_err(|e| SamlError::Internal(e.to_string()))?;
    query.push_str(&format!("&Signature={}", enc(&B64.encode(signature))));
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{endpoint}{sep}{query}"))
}

/// Percent-encoding of a query value (unreserved characters kept).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What the Response element holds, read without trusting it.
#[derive(Debug, Default)]
struct ResponseLayout {
    /// Byte range of the one EncryptedAssertion child.
    encrypted: Option<std::ops::Range<usize>>,
    encrypted_count: usize,
    plain_assertions: usize,
    signed: bool,
    status: Option<String>,
    destination: Option<String>,
    in_response_to: Option<String>,
    issuer: Option<String>,
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Walks the Response: its attributes, Issuer, StatusCode, and where its assertions are.
fn response_layout(xml: &str) -> Result<ResponseLayout, SamlError> {
    let mut reader = quick_xml::NsReader::from_str(xml);
    let mut layout = ResponseLayout::default();
    let mut depth = 0usize;
    let mut in_issuer = false;
    let mut start_of_encrypted = None;
    loop {
        let before = reader.buffer_position() as usize;
        let (ns, event) = reader.read_resolved_event().map_err(|_| refused("the response is not well-formed XML"))?;
        let in_ns = |want: &[u8]| matches!(&ns, ResolveResult::Bound(n) if n.as_ref() == want);
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let local = e.local_name();
                let local = local.as_ref();
                if depth == 0 {
                    if !(in_ns(PROTOCOL_NS) && local == b"Response") {
                        return Err(refused("the root element is not a SAML Response"));
                    }
                    layout.destination = attr(e, b"Destination");
                    layout.in_response_to = attr(e, b"InResponseTo");
                } else if depth == 1 {
                    if in_ns(ASSERTION_NS) && local == b"EncryptedAssertion" {
                        layout.encrypted_count += 1;
                        start_of_encrypted = Some(before);
                        if empty {
                            return Err(refused("the EncryptedAssertion is empty"));
                        }
                    } else if in_ns(ASSERTION_NS) && local == b"Assertion" {
                        layout.plain_assertions += 1;
                    } else if in_ns(DSIG_NS) && local == b"Signature" {
                        layout.signed = true;
                    } else if in_ns(ASSERTION_NS) && local == b"Issuer" && !empty {
                        in_issuer = true;
                    }
                } else if depth == 2 && in_ns(PROTOCOL_NS) && local == b"StatusCode" && layout.status.is_none() {
                    layout.status = attr(e, b"Value");
                }
                if !empty {
                    depth += 1;
                }
                if depth > 64 {
                    return Err(refused("the response is nested too deeply"));
                }
            }
            Event::Text(ref t) if in_issuer => {
                layout.issuer = Some(t.unescape().map(|s| s.trim().to_string()).unwrap_or_default());
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                in_issuer = false;
                if depth == 1 && e.local_name().as_ref() == b"EncryptedAssertion" {
                    if let Some(start) = start_of_encrypted.take() {
                        layout.encrypted = Some(start..reader.buffer_position() as usize);
                    }
                }
            }
            Event::Eof => break,
            Event::DocType(_) => return Err(refused("the response has a DOCTYPE")),
            _ => {}
        }
    }
    if layout.encrypted_count > 1 {
        return Err(refused("the response must hold exactly one assertion"));
    }
    Ok(layout)
}

/// One `EncryptedKey` found in the EncryptedAssertion.
#[derive(Debug, Default, Clone)]
struct EncryptedKeyParts {
    algorithm: String,
    digest: Option<String>,
    mgf: Option<String>,
    cipher: String,
}

/// Decrypts an EncryptedAssertion element (its XML text) with our key: RSA-OAEP (xmlenc
/// `rsa-oaep-mgf1p`, or xmlenc11 `rsa-oaep` with SHA-1/256/512 digests and MGF1) for the key, then
/// AES-256-GCM or AES-256-CBC (AES-128 too) for the assertion. Returns the assertion's XML.
pub fn decrypt_assertion(encrypted_xml: &str, key: &PKey<Private>) -> Result<String, SamlError> {
    let mut reader = quick_xml::NsReader::from_str(encrypted_xml);
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut data_algorithm = None;
    let mut data_cipher = String::new();
    let mut keys: Vec<EncryptedKeyParts> = Vec::new();
    loop {
        let (ns, event) =
            reader.read_resolved_event().map_err(|_| refused("the EncryptedAssertion is not well-formed"))?;
        let ns = match &ns {
            ResolveResult::Bound(n) => n.as_ref().to_vec(),
            _ => Vec::new(),
        };
        let in_key = stack.iter().any(|l| l == b"EncryptedKey");
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = e.local_name().as_ref().to_vec();
                if local == b"EncryptedKey" && ns == XMLENC_NS {
                    keys.push(EncryptedKeyParts::default());
                } else if local == b"EncryptionMethod" && ns == XMLENC_NS {
                    let alg = attr(e, b"Algorithm").unwrap_or_default();
                    if in_key || local == b"EncryptedKey" {
                        if let Some(k) = keys.last_mut() {
                            k.algorithm = alg;
                        }
                    } else if stack.last().is_some_and(|l| l == b"EncryptedData") {
                        data_algorithm = Some(alg);
                    }
                } else if local == b"DigestMethod" && in_key {
                    if let Some(k) = keys.last_mut() {
                        k.digest = attr(e, b"Algorithm");
                    }
                } else if local == b"MGF" && in_key {
                    if let Some(k) = keys.last_mut() {
                        k.mgf = attr(e, b"Algorithm");
                    }
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(local);
                    if stack.len() > 32 {
                        return Err(refused("the EncryptedAssertion is nested too deeply"));
                    }
                }
            }
            Event::Text(ref t) if stack.last().is_some_and(|l| l == b"CipherValue") => {
                let text = t.unescape().map_err(|_| refused("a CipherValue is not text"))?;
                if in_key {
                    if let Some(k) = keys.last_mut() {
                        k.cipher.push_str(&text);
                    }
                } else {
                    data_cipher.push_str(&text);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            Event::DocType(_) => return Err(refused("DOCTYPE in the EncryptedAssertion")),
            _ => {}
        }
    }
    let data_algorithm = data_algorithm.ok_or_else(|| refused("the EncryptedData names no algorithm"))?;
    if keys.is_empty() {
        return Err(refused("the EncryptedAssertion has no EncryptedKey"));
    }
    let data = b64(&data_cipher)?;
    let mut last_error = refused("no EncryptedKey could be decrypted with our key");
    for k in &keys {
        let session_key = match decrypt_key(k, key) {
            Ok(sk) => sk,
            Err(e) => {
                last_error = e;
                continue;
            }
        };
        let plain = decrypt_data(&data_algorithm, &session_key, &data)?;
        let text = String::from_utf8(plain).map_err(|_| refused("the decrypted assertion is not UTF-8"))?;
        let text = text.trim_start_matches('\u{feff}').trim();
        let text = match text.strip_prefix("<?xml") {
            Some(rest) => rest.split_once("?>").map(|(_, r)| r.trim()).unwrap_or(""),
            None => text,
        };
        if text.is_empty() {
            return Err(refused("the decrypted assertion is empty"));
        }
        return Ok(text.to_string());
    }
    Err(last_error)
}

fn b64(s: &str) -> Result<Vec<u8>, SamlError> {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    B64.decode(compact.as_bytes()).map_err(|_| refused("a CipherValue is not base64"))
}

/// The digest a URI names (SHA-1 when none is given, as XML Encryption says).
fn md_for(uri: Option<&str>) -> Result<&'static openssl::md::MdRef, SamlError> {
    use openssl::md::Md;
    Ok(match uri {
        None => Md::sha1(),
        Some("http://www.w3.org/2000/09/xmldsig#sha1") | Some("http://www.w3.org/2009/xmlenc11#mgf1sha1") => Md::sha1(),
        Some("http://www.w3.org/2001/04/xmlenc#sha256") | Some("http://www.w3.org/2009/xmlenc11#mgf1sha256") => {
            Md::sha256()
        }
        Some("http://www.w3.org/2001/04/xmldsig-more#sha384") | Some("http://www.w3.org/2009/xmlenc11#mgf1sha384") => {
            Md::sha384()
        }
        Some("http://www.w3.org/2001/04/xmlenc#sha512") | Some("http://www.w3.org/2009/xmlenc11#mgf1sha512") => {
            Md::sha512()
        }
        Some(other) => return Err(refused(format!("unsupported digest {other:?} for RSA-OAEP"))),
    })
}

fn decrypt_key(k: &EncryptedKeyParts, key: &PKey<Private>) -> Result<Vec<u8>, SamlError> {
    use openssl::pkey_ctx::PkeyCtx;
    use openssl::rsa::Padding;
    let (oaep, mgf) = match k.algorithm.as_str() {
        // rsa-oaep-mgf1p: MGF1 with SHA-1 always; the digest may be given.
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" => (md_for(k.digest.as_deref())?, md_for(None)?),
        "http://www.w3.org/2009/xmlenc11#rsa-oaep" => (md_for(k.digest.as_deref())?, md_for(k.mgf.as_deref())?),
        other => return Err(refused(format!("unsupported key transport {other:?} (RSA-OAEP expected)"))),
    };
    let input = b64(&k.cipher)?;
    let internal = |e: openssl::error::ErrorStack| SamlError::Internal(e.to_string());
    let mut ctx = PkeyCtx::new(key).map_err(internal)?;
    ctx.decrypt_init().map_err(internal)?;
    ctx.set_rsa_padding(Padding::PKCS1_OAEP).map_err(internal)?;
    ctx.set_rsa_oaep_md(oaep).map_err(internal)?;
    ctx.set_rsa_mgf1_md(mgf).map_err(internal)?;
    let mut out = Vec::new();
    ctx.decrypt_to_vec(&input, &mut out).map_err(|_| refused("the EncryptedKey does not decrypt with our key"))?;
    Ok(out)
}

fn decrypt_data(algorithm: &str, key: &[u8], data: &[u8]) -> Result<Vec<u8>, SamlError> {
    use openssl::symm::{decrypt_aead, Cipher, Crypter, Mode};
    let (cipher, gcm) = match algorithm {
        "http://www.w3.org/2009/xmlenc11#aes256-gcm" => (Cipher::aes_256_gcm(), true),
        "http://www.w3.org/2009/xmlenc11#aes128-gcm" => (Cipher::aes_128_gcm(), true),
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => (Cipher::aes_256_cbc(), false),
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => (Cipher::aes_128_cbc(), false),
        other => return Err(refused(format!("unsupported data encryption {other:?} (AES-GCM or AES-CBC expected)"))),
    };
    if key.len() != cipher.key_len() {
        return Err(refused("the decrypted key has the wrong length for the cipher"));
    }
    if gcm {
        const IV: usize = 12;
        const TAG: usize = 16;
        if data.len() < IV + TAG {
            return Err(refused("the encrypted assertion is too short"));
        }
        let (iv, rest) = data.split_at(IV);
        let (body, tag) = rest.split_at(rest.len() - TAG);
        decrypt_aead(cipher, key, Some(iv), &[], body, tag)
            .map_err(|_| refused("the encrypted assertion does not decrypt (GCM tag)"))
    } else {
        const IV: usize = 16;
        if data.len() < IV + 16 || !(data.len() - IV).is_multiple_of(16) {
            return Err(refused("the encrypted assertion has a wrong length for CBC"));
        }
        let (iv, body) = data.split_at(IV);
        let internal = |_| refused("the encrypted assertion does not decrypt (CBC)");
        let mut c = Crypter::new(cipher, Mode::Decrypt, key, Some(iv)).map_err(internal)?;
        c.pad(false);
        let mut out = vec![0u8; body.len() + 16];
        let n = c.update(body, &mut out).map_err(internal)?;
        let m = c.finalize(&mut out[n..]).map_err(internal)?;
        out.truncate(n + m);
        // XML Encryption padding: the last byte says how many bytes to drop (1..=16).
        let pad = usize::from(*out.last().ok_or_else(|| refused("the encrypted assertion is empty"))?);
        if pad == 0 || pad > 16 || pad > out.len() {
            return Err(refused("the encrypted assertion's padding is wrong"));
        }
        out.truncate(out.len() - pad);
        Ok(out)
    }
}

/// The (CVR, user-system role URI) pairs of a base64 PrivilegeList, in either namespace of the
/// basic privilege profile. Groups whose Scope is not a CVR are left out.
pub fn privileges_in(base64_value: &str) -> Result<Vec<(Cvr, String)>, SamlError> {
    let compact: String = base64_value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > 256 * 1024 {
        return Err(refused("the privilege list is too long"));
    }
    let bytes = B64.decode(compact.as_bytes()).map_err(|_| refused("the privilege attribute is not base64"))?;
    let xml = String::from_utf8(bytes).map_err(|_| refused("the privilege list is not UTF-8"))?;
    let mut reader = quick_xml::NsReader::from_str(&xml);
    let mut out = Vec::new();
    let mut scope: Option<Option<Cvr>> = None;
    let mut in_privilege = false;
    let mut text = String::new();
    let mut depth = 0usize;
    loop {
        let (ns, event) =
            reader.read_resolved_event().map_err(|_| refused("the privilege list is not well-formed XML"))?;
        let in_profile =
            matches!(&ns, ResolveResult::Bound(n) if PRIVILEGE_NAMESPACES.iter().any(|p| p.as_bytes() == n.as_ref()));
        // The profile's schema leaves the children unqualified; some IdPs qualify them.
        let ours = in_profile || matches!(ns, ResolveResult::Unbound);
        match event {
            Event::Start(ref e) => {
                depth += 1;
                if depth > 16 {
                    return Err(refused("the privilege list is nested too deeply"));
                }
                let local = e.local_name();
                if depth == 1 && !(in_profile && local.as_ref() == b"PrivilegeList") {
                    return Err(refused("the privilege attribute is not a basic privilege profile PrivilegeList"));
                }
                if ours && local.as_ref() == b"PrivilegeGroup" {
                    let s = attr(e, b"Scope").unwrap_or_default();
                    scope = Some(s.strip_prefix(CVR_SCOPE_PREFIX).and_then(|c| Cvr::parse(c).ok()));
                } else if ours && local.as_ref() == b"Privilege" && scope.is_some() {
                    in_privilege = true;
                    text.clear();
                }
            }
            Event::Empty(ref e) if depth == 0 && !(in_profile && e.local_name().as_ref() == b"PrivilegeList") => {
                return Err(refused("the privilege attribute is not a basic privilege profile PrivilegeList"));
            }
            Event::Text(ref t) if in_privilege => {
                text.push_str(&t.unescape().map_err(|_| refused("a Privilege is not text"))?);
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                let local = e.local_name();
                if local.as_ref() == b"Privilege" && in_privilege {
                    in_privilege = false;
                    if let Some(Some(cvr)) = scope {
                        out.push((cvr, text.trim().to_string()));
                    }
                } else if local.as_ref() == b"PrivilegeGroup" {
                    scope = None;
                }
            }
            Event::Eof => break,
            Event::DocType(_) => return Err(refused("DOCTYPE in the privilege list")),
            _ => {}
        }
    }
    Ok(out)
}

/// The municipality with this CVR number (the 98 municipalities and Korsbæk).
pub fn municipality_by_cvr(cvr: Cvr) -> Option<KommuneKode> {
    use crate::domain::municipalities::{KORSBAEK, MUNICIPALITIES};
    MUNICIPALITIES
        .iter()
        .chain(std::iter::once(&KORSBAEK))
        .find(|m| m.cvr() == cvr)
        .and_then(|m| KommuneKode::parse(&format!("{:03}", m.code)).ok())
}

// ---------------------------------------------------------------------------------------------
// The routes.

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::auth::{self, ClientAddr, SESSION_COOKIE, SESSION_HOURS};
use super::{AppState, WebError};

fn sp_of(state: &AppState) -> Result<&SamlSp, WebError> {
    state.config().saml.as_deref().ok_or_else(|| WebError::NotFound("SAML sign-in is not configured".into()))
}

impl From<SamlError> for WebError {
    fn from(e: SamlError) -> Self {
        match e {
            SamlError::Refused(_) => {
                tracing::warn!(error = %e, "SAML sign-in refused.");
                WebError::Forbidden("the sign-in through Adgangsstyring was refused; sign in again".into())
            }
            other => WebError::Internal(other.to_string()),
        }
    }
}

/// `GET /saml/metadata`: our SP metadata.
pub async fn metadata(State(state): State<AppState>) -> Result<Response, WebError> {
    let xml = sp_of(&state)?.metadata_xml()?;
    Ok(([(header::CONTENT_TYPE, "application/samlmetadata+xml; charset=utf-8")], xml).into_response())
}

/// `GET /saml/login`: to the IdP with a signed AuthnRequest.
pub async fn login(State(state): State<AppState>) -> Result<Response, WebError> {
    let url = sp_of(&state)?.login_redirect("")?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response())
}

/// The ACS form (HTTP-POST binding).
#[derive(Debug, serde::Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    _relay_state: Option<String>,
}

/// `POST /saml/acs`: checks the answer, takes the user's roles afresh, starts a session.
pub async fn acs(
    State(state): State<AppState>,
    ClientAddr(ip): ClientAddr,
    Form(form): Form<AcsForm>,
) -> Result<Response, WebError> {
    let sp = sp_of(&state)?;
    let identity = sp.consume(&form.saml_response, municipality_by_cvr)?;
    let store = state.store();
    store.ensure_external_user(&identity.user_name).await?;
    let grants: Vec<(KommuneKode, &str)> = identity.grants.iter().map(|(k, r)| (*k, r.as_str())).collect();
    store.replace_grants(&identity.user_name, &grants, "saml").await?;
    let (token, _csrf) = auth::start_session(&state, &identity.user_name).await?;
    tracing::info!(user = %identity.user_name, n_roles = grants.len(), ip = ?ip.map(|a| a.ip()), "Signed in through SAML.");
    let cookie = auth::set_cookie(SESSION_COOKIE, &token, SESSION_HOURS * 3600, state.config().secure_cookies);
    Ok((StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, "/".to_string())]).into_response())
}

/// `POST /saml/logout` (form with the CSRF token): ends the session here, then at the IdP.
pub async fn logout(
    State(state): State<AppState>,
    signed: super::auth::Signed,
    Form(f): Form<LogoutForm>,
) -> Result<Response, WebError> {
    signed.check_csrf(f.csrf.as_deref())?;
    state.store().delete_web_session(&signed.session_hash).await?;
    let cookie = auth::set_cookie(SESSION_COOKIE, "", 0, state.config().secure_cookies);
    let to = match state.config().saml.as_deref() {
        Some(sp) => sp.logout_redirect(&signed.user, None)?.unwrap_or_else(|| "/login".into()),
        None => "/login".into(),
    };
    Ok((StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, to)]).into_response())
}

/// The sign-out form: the session's CSRF token.
#[derive(Debug, serde::Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

/// What the IdP sends to our logout endpoint.
#[derive(Debug, serde::Deserialize)]
pub struct LogoutQuery {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
}

/// `GET /saml/logout`: the IdP's answer to our logout (back to the sign-in page), or its own
/// signed LogoutRequest (the user's sessions end here).
pub async fn logout_from_idp(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    Query(q): Query<LogoutQuery>,
    _headers: HeaderMap,
) -> Result<Response, WebError> {
    let sp = sp_of(&state)?;
    if let Some(request) = q.saml_request {
        let user = sp.verified_logout_request(&uri, &request)?;
        let ended = state.store().delete_sessions_of(&user).await?;
        tracing::info!(user = %user, ended, "Signed out by the IdP.");
    }
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response())
}

impl SamlSp {
    /// The NameID of a LogoutRequest that came by the redirect binding signed by the IdP.
    pub fn verified_logout_request(&self, uri: &axum::http::Uri, request: &str) -> Result<String, SamlError> {
        let full = url::Url::parse(&format!("http://sp.invalid{uri}"))
            .map_err(|_| refused("a logout URL that cannot be read"))?;
        let verified = self.idp_signing_certs.iter().any(|cert| {
            samael::crypto::UrlVerifier::from_x509(cert)
                .ok()
                .and_then(|v| v.verify_signed_request_url(&full).ok())
                .unwrap_or(false)
        });
        if !verified {
            return Err(refused("the LogoutRequest is not signed by the IdP"));
        }
        let deflated = B64.decode(request.as_bytes()).map_err(|_| refused("SAMLRequest is not base64"))?;
        let mut xml = String::new();
        use std::io::Read as _;
        flate2::read::DeflateDecoder::new(&deflated[..])
            .take(256 * 1024)
            .read_to_string(&mut xml)
            .map_err(|_| refused("SAMLRequest does not inflate"))?;
        let parsed: samael::schema::LogoutRequest = xml.parse().map_err(|_| refused("not a LogoutRequest"))?;
        parsed
            .name_id
            .map(|n| n.value.trim().to_string())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| refused("the LogoutRequest names nobody"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(xml: &str) -> String {
        B64.encode(xml.as_bytes())
    }

    #[test]
    fn privileges_are_read_in_both_namespaces_with_unqualified_or_qualified_children() {
        let old = b64(r#"<?xml version="1.0" encoding="UTF-8"?>
            <bpp:PrivilegeList xmlns:bpp="http://itst.dk/oiosaml/basic_privilege_profile">
              <PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:64942212">
                <Privilege>http://a/roles/usersystemrole/sor_admin/1</Privilege>
                <Constraint Name="http://sts.kombit.dk/constraints/KLE/1">29.*</Constraint>
              </PrivilegeGroup>
              <PrivilegeGroup Scope="urn:dk:gov:saml:somethingElse:1"><Privilege>x</Privilege></PrivilegeGroup>
            </bpp:PrivilegeList>"#);
        let cvr = Cvr::parse("64942212").unwrap();
        assert_eq!(privileges_in(&old).unwrap(), vec![(cvr, "http://a/roles/usersystemrole/sor_admin/1".to_string())]);
        let new = b64(r#"<PrivilegeList xmlns="http://digst.dk/oiosaml/basic_privilege_profile">
              <PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:64942212"><Privilege>p</Privilege></PrivilegeGroup>
            </PrivilegeList>"#);
        assert_eq!(privileges_in(&new).unwrap(), vec![(cvr, "p".to_string())]);
    }

    #[test]
    fn a_privilege_list_in_another_namespace_or_with_a_doctype_is_refused() {
        assert!(privileges_in(&b64(r#"<PrivilegeList xmlns="urn:other"/>"#)).is_err());
        assert!(privileges_in(&b64(r#"<!DOCTYPE x [<!ENTITY a "b">]><x/>"#)).is_err());
        assert!(privileges_in("not base64 !").is_err());
    }

    #[test]
    fn municipalities_are_found_by_their_real_cvr() {
        let copenhagen = municipality_by_cvr(Cvr::parse("64942212").unwrap()).unwrap();
        assert_eq!(copenhagen.as_u16(), 101);
        assert!(municipality_by_cvr(Cvr::parse("12345674").unwrap()).is_none());
    }

    #[test]
    fn broken_encrypted_assertions_are_refused_without_panicking() {
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        for xml in [
            "",
            "<x/>",
            r#"<EncryptedAssertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion"><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/><xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey><xenc:CipherData><xenc:CipherValue>AA==</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></EncryptedAssertion>"#,
        ] {
            assert!(decrypt_assertion(xml, &key).is_err(), "{xml}");
        }
        assert!(decrypt_data("http://www.w3.org/2009/xmlenc11#aes256-gcm", &[0u8; 32], &[1, 2, 3]).is_err());
        assert!(decrypt_data("http://www.w3.org/2001/04/xmlenc#aes256-cbc", &[0u8; 32], &[0u8; 17]).is_err());
        assert!(decrypt_data("http://www.w3.org/2001/04/xmlenc#aes256-cbc", &[0u8; 16], &[0u8; 32]).is_err());
    }
}
