//! OIOIDWS for FK-ORG's SOAP service "Organisation 6" (`specs/fkorg-soap-6/wsdl/policies/OIOIDWS.wsdl`):
//! a SAML 2.0 token from KOMBIT's STS (a WS-Trust Issue request signed with the system's
//! certificate, for one municipality's CVR), and every SOAP request carrying that token in a
//! WS-Security header and signed with the same certificate (holder-of-key): the Body, the
//! Timestamp and the WS-Addressing headers, exclusive canonicalisation, SHA-256.
//!
//! Used by the client ([`super::fkorg_client`]) and by the stand-in's STS and SOAP endpoints
//! (`sorsync_standin::sts`, `sorsync_standin::fkorg`), which check what the client built.
//!
//! **Signatures are made and checked by libxmlsec1** through `samael` ([`samael::crypto::Crypto`]),
//! never by our own canonicalisation. samael's `sign_xml` registers only attributes named `ID` as
//! XML IDs (SAML's), while WS-Security points at elements by `wsu:Id`. We sign a copy of the
//! envelope that starts with an internal DTD subset declaring exactly those `wsu:Id` attributes of
//! type ID (libxml2 registers DTD-declared IDs while parsing), and take the DTD off the signed
//! result: a DTD without default attributes does not change the document's content, and
//! canonical XML leaves the DTD out, so the digests and the signature are the same as for the sent
//! message (which must not carry a DTD: SOAP forbids it). Checking needs no such step:
//! `verify_signed_xml` takes the ID attribute's name (`Id`, which libxmlsec1 matches by local
//! name). libxmlsec1 checks the first `ds:Signature` of a document, so the message signature comes
//! first in the Security header (the layout is Lax) and the token (with the STS's own signature)
//! after it; the token is checked on its own, as the STS signed it.
//!
//! Parsing takes untrusted bytes and never panics.

use std::ops::Range;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use openssl::pkey::{Id as KeyId, PKey, Private};
use openssl::x509::X509;
use samael::crypto::{CertificateDer, Crypto, CryptoProvider};

use crate::markup::escape_xml;
use crate::sorus::envelope::{parse_document, Node};

pub const WSSE_NS: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const WSU_NS: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
pub const WSSE11_NS: &str = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd";
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const WST_NS: &str = "http://docs.oasis-open.org/ws-sx/ws-trust/200512";
pub const WSP_NS: &str = "http://www.w3.org/ns/ws-policy";
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// Token type of a SAML 2.0 token (WS-Security SAML token profile 1.1), as the policy names it.
pub const SAML20_TOKEN_TYPE: &str = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0";
/// `wsse:KeyIdentifier` value type that names a SAML 2.0 assertion by its ID.
pub const SAML_ID_VALUE_TYPE: &str = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLID";
const X509V3: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
const BASE64_BINARY: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";
const ISSUE: &str = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue";
const PUBLIC_KEY: &str = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/PublicKey";
const ANONYMOUS: &str = "http://www.w3.org/2005/08/addressing/anonymous";
const HOLDER_OF_KEY: &str = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";

/// KOMBIT's STS (specs/README.md, "Writing to FK-ORG"): the path of its certificate endpoint and
/// its SAML entity id; the entity id of the service the token is for is
/// [`super::fkorg_client::ORGANISATION_SERVICE`].
pub const STS_PATH: &str = "/runtime/services/kombittrust/14/certificatemixed";
pub const STS_ENTITY: &str = "https://saml.n2adgangsstyring.stoettesystemerne.dk/runtime";

/// The names OIOIDWS needs that the published material here does not confirm; each is spelled
/// only here.
pub mod unconfirmed {
    /// (unconfirmed) The claim dialect the Issue request names the municipality in.
    pub const CLAIMS_DIALECT: &str = "http://docs.oasis-open.org/wsfed/authorization/200706/authclaims";
    /// (unconfirmed) The namespace of `ClaimType`/`Value` in that dialect.
    pub const AUTH_NS: &str = "http://docs.oasis-open.org/wsfed/authorization/200706";
    /// (unconfirmed) The claim and SAML attribute that carry the municipality's CVR ("anvenderkontekst").
    pub const CVR_CLAIM: &str = "dk:gov:saml:attribute:CvrNumberIdentifier";
    /// (unconfirmed) The STS is spoken to in SOAP 1.2 with WS-Addressing, like Organisation 6; the
    /// request's soapAction is WS-Trust's Issue action.
    pub const ISSUE_ACTION: &str = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue";
}

/// Why a token or a signature could not be made or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityError {
    #[error("{0}")]
    Key(String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("{0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> SecurityError {
    SecurityError::Invalid(message.into())
}

/// The system's certificate and private key: the TLS client identity, the key the STS request
/// and the SOAP messages are signed with.
#[derive(Clone)]
pub struct Identity {
    cert_der: Vec<u8>,
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    key_der: Vec<u8>,
    signature_method: &'static str,
    subject: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("subject", &self.subject).finish_non_exhaustive()
    }
}

impl Identity {
    /// From a PEM certificate and a PEM private key (PKCS#8, PKCS#1 or SEC1). `what` names the
    /// files in errors.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8], what: &str) -> Result<Identity, SecurityError> {
        let cert = X509::from_pem(cert_pem)
            .map_err(|e| SecurityError::Key(format!("{what}: the certificate is not PEM ({e})")))?;
        let key = PKey::private_key_from_pem(key_pem)
            .map_err(|e| SecurityError::Key(format!("{what}: the private key is not PEM ({e})")))?;
        Identity::new(cert, key, what)
    }

    /// From a PKCS#12 file (`.p12`/`.pfx`) with its password.
    pub fn from_pkcs12(der: &[u8], password: &str, what: &str) -> Result<Identity, SecurityError> {
        let p12 = openssl::pkcs12::Pkcs12::from_der(der)
            .map_err(|e| SecurityError::Key(format!("{what}: not a PKCS#12 file ({e})")))?;
        let parsed = p12.parse2(password).map_err(|_| {
            SecurityError::Key(format!("{what}: cannot open the PKCS#12 file (wrong password, or damaged)"))
        })?;
        let (Some(cert), Some(key)) = (parsed.cert, parsed.pkey) else {
            return Err(SecurityError::Key(format!("{what}: the PKCS#12 file holds no certificate with its key")));
        };
        Identity::new(cert, key, what)
    }

    fn new(cert: X509, key: PKey<Private>, what: &str) -> Result<Identity, SecurityError> {
        let public = cert.public_key().map_err(|e| SecurityError::Key(format!("{what}: {e}")))?;
        if !public.public_eq(&key) {
            return Err(SecurityError::Key(format!("{what}: the private key does not belong to the certificate")));
        }
        let signature_method = match key.id() {
            KeyId::RSA => RSA_SHA256,
            KeyId::EC => ECDSA_SHA256,
            other => {
                return Err(SecurityError::Key(format!("{what}: a {other:?} key cannot sign (RSA or EC expected)")))
            }
        };
        let err = |e: openssl::error::ErrorStack| SecurityError::Key(format!("{what}: {e}"));
        let subject = subject_of(&cert);
        Ok(Identity {
            cert_der: cert.to_der().map_err(err)?,
            cert_pem: cert.to_pem().map_err(err)?,
            key_pem: key.private_key_to_pem_pkcs8().map_err(err)?,
            key_der: key.private_key_to_pkcs8().map_err(err)?,
            signature_method,
            subject,
        })
    }

    /// Certificate and key as one PEM, for the TLS client (reqwest's identity).
    pub fn tls_pem(&self) -> Vec<u8> {
        let mut pem = self.cert_pem.clone();
        pem.push(b'\n');
        pem.extend_from_slice(&self.key_pem);
        pem
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate's subject, for the token's NameID and for messages.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    fn certificate_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.cert_der)
    }
}

/// `CN=...,O=...` of a certificate's subject.
fn subject_of(cert: &X509) -> String {
    cert.subject_name()
        .entries()
        .map(|e| {
            let name = e.object().nid().short_name().unwrap_or("?");
            format!("{name}={}", String::from_utf8_lossy(e.data().as_slice()))
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A `ds:Signature` template over `references` (each a same-document `#id`), for libxmlsec1
/// to fill in. `enveloped`: the signature sits inside what it signs (a SAML assertion).
fn signature_template(method: &str, references: &[&str], enveloped: bool, key_info: &str) -> String {
    let mut s = format!(
        "<ds:Signature xmlns:ds=\"{DS_NS}\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/>\
         <ds:SignatureMethod Algorithm=\"{method}\"/>"
    );
    for r in references {
        s.push_str(&format!("<ds:Reference URI=\"#{}\"><ds:Transforms>", escape_xml(r)));
        if enveloped {
            s.push_str(&format!("<ds:Transform Algorithm=\"{ENVELOPED}\"/>"));
        }
        s.push_str(&format!(
            "<ds:Transform Algorithm=\"{EXC_C14N}\"/></ds:Transforms><ds:DigestMethod Algorithm=\"{SHA256}\"/>\
             <ds:DigestValue></ds:DigestValue></ds:Reference>"
        ));
    }
    s.push_str("</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue>");
    s.push_str(key_info);
    s.push_str("</ds:Signature>");
    s
}

/// The elements whose `wsu:Id` a signature may point at, as written by this module (QNames).
const WSU_ID_ELEMENTS: [&str; 7] =
    ["soap:Body", "wsu:Timestamp", "wsa:Action", "wsa:MessageID", "wsa:To", "wsa:ReplyTo", "wsse:BinarySecurityToken"];

/// Signs the first `ds:Signature` template in `xml` with `key` (see the module text for the DTD
/// step that makes libxmlsec1 resolve `wsu:Id`). `root` is the root element's QName.
fn sign(xml: &str, root: &str, identity: &Identity) -> Result<String, SecurityError> {
    let body = xml.strip_prefix(r#"<?xml version="1.0" encoding="UTF-8"?>"#).unwrap_or(xml);
    let mut dtd = format!("<!DOCTYPE {root} [");
    for element in WSU_ID_ELEMENTS {
        dtd.push_str(&format!("<!ATTLIST {element} wsu:Id ID #IMPLIED>"));
    }
    dtd.push_str("]>");
    let with_dtd = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{dtd}\n{body}");
    let signed =
        Crypto::sign_xml(with_dtd.as_bytes(), &identity.key_der).map_err(|e| SecurityError::Sign(e.to_string()))?;
    // Take the DTD off again: it holds only the ID declarations written above.
    let start = signed.find("<!DOCTYPE").ok_or_else(|| SecurityError::Sign("libxmlsec1 dropped the DTD".into()))?;
    let end =
        signed[start..].find("]>").map(|i| start + i + 2).ok_or_else(|| SecurityError::Sign("no DTD end".into()))?;
    let rest = signed[end..].trim_start();
    let out = format!("{}{rest}", &signed[..start]);
    if out.contains("<ds:SignatureValue></ds:SignatureValue>") || out.contains("<ds:SignatureValue/>") {
        return Err(SecurityError::Sign("the signature value was not filled in".into()));
    }
    Ok(out)
}

/// Checks the first `ds:Signature` of `xml` with the public key of `cert_der`; `id_attribute`
/// is `Id` (WS-Security's `wsu:Id`) or `ID` (SAML).
pub fn verify(xml: &str, cert_der: &[u8], id_attribute: &str) -> Result<(), SecurityError> {
    Crypto::verify_signed_xml(xml.as_bytes(), &CertificateDer::from(cert_der.to_vec()), Some(id_attribute))
        .map_err(|e| invalid(format!("the signature does not verify: {e}")))
}

/// The byte range of the first element `local` in namespace `ns` of `xml`, tags included.
pub fn element_span(xml: &str, ns: &str, local: &str) -> Option<Range<usize>> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let mut reader = quick_xml::NsReader::from_str(xml);
    let mut depth = 0usize;
    let mut start = None;
    loop {
        let before = reader.buffer_position() as usize;
        let (resolved, event) = reader.read_resolved_event().ok()?;
        let is_it = |name: &[u8]| {
            matches!(&resolved, ResolveResult::Bound(n) if n.as_ref() == ns.as_bytes()) && name == local.as_bytes()
        };
        match event {
            Event::Start(e) => {
                if start.is_some() {
                    depth += 1;
                } else if is_it(e.local_name().as_ref()) {
                    start = Some(before);
                    depth = 1;
                }
            }
            Event::Empty(e) if start.is_none() && is_it(e.local_name().as_ref()) => {
                return Some(before..reader.buffer_position() as usize);
            }
            Event::End(_) if start.is_some() => {
                depth -= 1;
                if depth == 0 {
                    return Some(start?..reader.buffer_position() as usize);
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

// ---- the WS-Security header and signed envelopes ----

/// The WS-Addressing and KOMBIT headers of one request.
pub struct Addressing<'a> {
    pub action: &'a str,
    pub to: &'a str,
    pub message_id: String,
}

/// What goes into the Security header besides the timestamp and the signature.
enum Token<'a> {
    /// The STS request: the certificate itself (`wsse:BinarySecurityToken`).
    Certificate,
    /// A SOAP call: the SAML assertion from the STS (verbatim), named by its ID.
    Saml { assertion: &'a str, id: &'a str },
}

fn signed_envelope(
    identity: &Identity,
    addressing: &Addressing<'_>,
    extra_headers: &str,
    token: Token<'_>,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<String, SecurityError> {
    let ids = ["_body", "_ts", "_action", "_msgid", "_to", "_replyto"];
    let (token_xml, key_info) = match token {
        Token::Certificate => (
            format!(
                "<wsse:BinarySecurityToken wsu:Id=\"_bst\" ValueType=\"{X509V3}\" EncodingType=\"{BASE64_BINARY}\">{}</wsse:BinarySecurityToken>",
                identity.certificate_base64()
            ),
            "<ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI=\"#_bst\" \
             ValueType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3\"/>\
             </wsse:SecurityTokenReference></ds:KeyInfo>"
                .to_string(),
        ),
        Token::Saml { assertion, id } => (
            assertion.to_string(),
            format!(
                "<ds:KeyInfo><wsse:SecurityTokenReference wsse11:TokenType=\"{SAML20_TOKEN_TYPE}\">\
                 <wsse:KeyIdentifier ValueType=\"{SAML_ID_VALUE_TYPE}\">{}</wsse:KeyIdentifier>\
                 </wsse:SecurityTokenReference></ds:KeyInfo>",
                escape_xml(id)
            ),
        ),
    };
    let template = signature_template(identity.signature_method, &ids, false, &key_info);
    let bst_first = matches!(token_xml.as_str(), t if t.starts_with("<wsse:BinarySecurityToken"));
    let (before_sig, after_sig) = if bst_first { (token_xml.as_str(), "") } else { ("", token_xml.as_str()) };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soap:Envelope xmlns:soap=\"{SOAP12_NS}\" xmlns:wsa=\"{WSA_NS}\" xmlns:wsse=\"{WSSE_NS}\" \
         xmlns:wsse11=\"{WSSE11_NS}\" xmlns:wsu=\"{WSU_NS}\">\
         <soap:Header>\
         <wsa:Action wsu:Id=\"_action\" soap:mustUnderstand=\"true\">{action}</wsa:Action>\
         <wsa:MessageID wsu:Id=\"_msgid\">{message_id}</wsa:MessageID>\
         <wsa:To wsu:Id=\"_to\" soap:mustUnderstand=\"true\">{to}</wsa:To>\
         <wsa:ReplyTo wsu:Id=\"_replyto\"><wsa:Address>{ANONYMOUS}</wsa:Address></wsa:ReplyTo>\
         {extra_headers}\
         <wsse:Security soap:mustUnderstand=\"true\">\
         <wsu:Timestamp wsu:Id=\"_ts\"><wsu:Created>{created}</wsu:Created><wsu:Expires>{expires}</wsu:Expires></wsu:Timestamp>\
         {before_sig}{template}{after_sig}\
         </wsse:Security>\
         </soap:Header>\
         <soap:Body wsu:Id=\"_body\">{payload}</soap:Body>\
         </soap:Envelope>",
        action = escape_xml(addressing.action),
        message_id = escape_xml(&addressing.message_id),
        to = escape_xml(addressing.to),
        created = time(now),
        expires = time(now + chrono::Duration::minutes(5)),
    );
    sign(&xml, "soap:Envelope", identity)
}

/// A SOAP 1.2 request to Organisation 6: WS-Addressing headers, KOMBIT's RequestHeader
/// (`request_header`, already serialised), and a Security header with the STS's `token` and the
/// message's signature with `identity`.
pub fn secured_request(
    identity: &Identity,
    token: &StsToken,
    addressing: &Addressing<'_>,
    request_header: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<String, SecurityError> {
    signed_envelope(
        identity,
        addressing,
        request_header,
        Token::Saml { assertion: &token.assertion, id: &token.id },
        payload,
        now,
    )
}

// ---- the STS exchange ----

/// A token from the STS: the SAML assertion as issued (kept byte for byte, its signature covers
/// it), its ID, and when it expires.
#[derive(Debug, Clone)]
pub struct StsToken {
    pub assertion: String,
    pub id: String,
    pub expires: DateTime<Utc>,
}

/// The WS-Trust Issue request for a token to `service` on behalf of the municipality `cvr`,
/// signed with `identity` (its certificate travels as a BinarySecurityToken).
pub fn issue_request(
    identity: &Identity,
    sts_url: &str,
    service: &str,
    cvr: &str,
    now: DateTime<Utc>,
) -> Result<String, SecurityError> {
    use unconfirmed::{AUTH_NS, CLAIMS_DIALECT, CVR_CLAIM, ISSUE_ACTION};
    let payload = format!(
        "<wst:RequestSecurityToken xmlns:wst=\"{WST_NS}\" xmlns:wsp=\"{WSP_NS}\" xmlns:auth=\"{AUTH_NS}\" \
         xmlns:wsa=\"{WSA_NS}\" xmlns:wsse=\"{WSSE_NS}\" xmlns:wsu=\"{WSU_NS}\">\
         <wst:TokenType>{SAML20_TOKEN_TYPE}</wst:TokenType>\
         <wst:RequestType>{ISSUE}</wst:RequestType>\
         <wsp:AppliesTo><wsa:EndpointReference><wsa:Address>{service}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>\
         <wst:Claims Dialect=\"{CLAIMS_DIALECT}\"><auth:ClaimType Uri=\"{CVR_CLAIM}\"><auth:Value>{cvr}</auth:Value></auth:ClaimType></wst:Claims>\
         <wst:KeyType>{PUBLIC_KEY}</wst:KeyType>\
         <wst:UseKey><wsse:BinarySecurityToken ValueType=\"{X509V3}\" EncodingType=\"{BASE64_BINARY}\">{cert}</wsse:BinarySecurityToken></wst:UseKey>\
         </wst:RequestSecurityToken>",
        service = escape_xml(service),
        cvr = escape_xml(cvr),
        cert = identity.certificate_base64(),
    );
    let addressing =
        Addressing { action: ISSUE_ACTION, to: sts_url, message_id: format!("urn:uuid:{}", uuid::Uuid::new_v4()) };
    signed_envelope(identity, &addressing, "", Token::Certificate, &payload, now)
}

/// Reads the STS's answer: the assertion (verbatim), its ID and its expiry.
pub fn read_issue_response(xml: &[u8]) -> Result<StsToken, SecurityError> {
    let text = std::str::from_utf8(xml).map_err(|_| invalid("the STS answer is not UTF-8"))?;
    let root = parse_document(xml).map_err(|e| invalid(format!("the STS answer is not XML: {e}")))?;
    if let Some(fault) = root.child("Body").and_then(|b| b.child("Fault")) {
        let reason = fault.child("Reason").and_then(|r| r.child("Text")).map(|t| t.value().to_string());
        return Err(invalid(format!("the STS refused: {}", reason.unwrap_or_else(|| "(no reason)".into()))));
    }
    let span =
        element_span(text, SAML_NS, "Assertion").ok_or_else(|| invalid("the STS answer holds no SAML assertion"))?;
    let assertion = text[span].to_string();
    let parsed = parse_document(assertion.as_bytes()).map_err(|e| invalid(format!("the assertion: {e}")))?;
    let id = attr(&parsed, "ID").ok_or_else(|| invalid("the assertion has no ID"))?.to_string();
    let expires = parsed
        .child("Conditions")
        .and_then(|c| attr(c, "NotOnOrAfter"))
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| invalid("the assertion has no Conditions/@NotOnOrAfter"))?;
    Ok(StsToken { assertion, id, expires })
}

pub(crate) fn attr<'a>(node: &'a Node, name: &str) -> Option<&'a str> {
    node.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

// ---- what the stand-in checks and issues ----

/// A checked request's Security header: who signed it and, for a SOAP call, the token's claims.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The certificate the message is signed with (DER).
    pub signer: Vec<u8>,
    /// The CVR the token (or the Issue request) names.
    pub cvr: Option<String>,
}

/// The parts of a signed request that must be signed, and that each is signed exactly once:
/// every `wsu:Id` in the document is unique, and the signature's references cover the Body, the
/// Timestamp, Action, MessageID and To (against signature wrapping); the Timestamp is current.
fn check_layout(root: &Node, now: DateTime<Utc>) -> Result<(), SecurityError> {
    let mut ids = Vec::new();
    collect_ids(root, &mut ids);
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != ids.len() {
        return Err(invalid("a wsu:Id value occurs twice"));
    }
    let header = root.child("Header").ok_or_else(|| invalid("no SOAP Header"))?;
    let security = header.child("Security").ok_or_else(|| invalid("no wsse:Security header (OIOIDWS)"))?;
    let signature = security.child("Signature").ok_or_else(|| invalid("the message is not signed"))?;
    let signed: Vec<&str> = signature
        .child("SignedInfo")
        .map(|si| si.children.iter().filter(|c| c.name == "Reference").filter_map(|r| attr(r, "URI")).collect())
        .unwrap_or_default();
    let id_of = |n: Option<&Node>, what: &str| -> Result<String, SecurityError> {
        n.and_then(|n| attr(n, "Id")).map(|i| format!("#{i}")).ok_or_else(|| invalid(format!("{what} has no wsu:Id")))
    };
    let must = [
        (root.child("Body"), "the Body"),
        (security.child("Timestamp"), "the Timestamp"),
        (header.child("Action"), "wsa:Action"),
        (header.child("MessageID"), "wsa:MessageID"),
        (header.child("To"), "wsa:To"),
    ];
    for (node, what) in must {
        let id = id_of(node, what)?;
        if !signed.contains(&id.as_str()) {
            return Err(invalid(format!("{what} is not signed")));
        }
    }
    let method = signature
        .child("SignedInfo")
        .and_then(|si| si.child("SignatureMethod"))
        .and_then(|m| attr(m, "Algorithm"))
        .unwrap_or_default();
    if method != RSA_SHA256 && method != ECDSA_SHA256 {
        return Err(invalid(format!("signature method {method:?} is not accepted (RSA or ECDSA with SHA-256)")));
    }
    let ts = security.child("Timestamp").ok_or_else(|| invalid("no Timestamp"))?;
    let at = |name: &str| {
        ts.child(name)
            .and_then(|n| DateTime::parse_from_rfc3339(n.value()).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| invalid(format!("the Timestamp has no valid {name}")))
    };
    let skew = chrono::Duration::minutes(5);
    if at("Created")? > now + skew || at("Expires")? <= now {
        return Err(invalid("the Timestamp is not current"));
    }
    Ok(())
}

fn collect_ids(node: &Node, out: &mut Vec<String>) {
    out.extend(node.attrs.iter().filter(|(k, _)| k == "Id" || k == "ID").map(|(_, v)| v.clone()));
    for c in &node.children {
        collect_ids(c, out);
    }
}

fn certificate_from_base64(text: &str) -> Result<X509, SecurityError> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let der =
        base64::engine::general_purpose::STANDARD.decode(clean).map_err(|_| invalid("a certificate is not base64"))?;
    X509::from_der(&der).map_err(|_| invalid("a certificate is not an X.509 certificate"))
}

/// Whether `cert` was issued by `ca` (its signature checks with the CA's key) and is in date.
pub fn issued_by(cert: &X509, ca: &X509) -> bool {
    let Ok(ca_key) = ca.public_key() else { return false };
    let now = openssl::asn1::Asn1Time::days_from_now(0);
    let in_date = now.as_ref().is_ok_and(|now| cert.not_before() <= now && cert.not_after() >= now);
    in_date && cert.verify(&ca_key).unwrap_or(false)
}

/// Checks an Issue request as the STS does: signed by the certificate it carries, which `ca`
/// issued; returns that certificate and the CVR claimed, and the service it applies to.
pub fn check_issue_request(xml: &[u8], ca: &X509, now: DateTime<Utc>) -> Result<(Checked, String), SecurityError> {
    let text = std::str::from_utf8(xml).map_err(|_| invalid("not UTF-8"))?;
    let root = parse_document(xml).map_err(|e| invalid(format!("not a SOAP message: {e}")))?;
    check_layout(&root, now)?;
    let security = root.child("Header").and_then(|h| h.child("Security")).ok_or_else(|| invalid("no Security"))?;
    let bst = security.child("BinarySecurityToken").ok_or_else(|| invalid("no BinarySecurityToken"))?;
    let cert = certificate_from_base64(bst.value())?;
    if !issued_by(&cert, ca) {
        return Err(invalid("the certificate is not issued by a trusted CA, or is not in date"));
    }
    let der = cert.to_der().map_err(|e| invalid(e.to_string()))?;
    verify(text, &der, "Id")?;
    let rst = root
        .child("Body")
        .and_then(|b| b.child("RequestSecurityToken"))
        .ok_or_else(|| invalid("no RequestSecurityToken"))?;
    let service = rst
        .child("AppliesTo")
        .and_then(|a| a.child("EndpointReference"))
        .and_then(|e| e.child("Address"))
        .map(|a| a.value().to_string())
        .ok_or_else(|| invalid("no AppliesTo address"))?;
    let cvr = rst
        .child("Claims")
        .into_iter()
        .flat_map(|c| c.children.iter())
        .find(|c| c.name == "ClaimType" && attr(c, "Uri") == Some(unconfirmed::CVR_CLAIM))
        .and_then(|c| c.child("Value"))
        .map(|v| v.value().to_string());
    Ok((Checked { signer: der, cvr }, service))
}

/// A SAML 2.0 holder-of-key assertion for `subject_cert` (DER) to use `audience` on behalf of
/// `cvr`, valid `lifetime` from `now`, issued as the STS and signed with `sts`.
pub fn issue_assertion(
    sts: &Identity,
    subject_cert: &[u8],
    audience: &str,
    cvr: &str,
    now: DateTime<Utc>,
    lifetime: chrono::Duration,
) -> Result<(String, String), SecurityError> {
    let id = format!("_{}", uuid::Uuid::new_v4());
    let cert = X509::from_der(subject_cert).map_err(|e| invalid(e.to_string()))?;
    let subject = subject_of(&cert);
    let template = signature_template(sts.signature_method, &[&id], true, "");
    let xml = format!(
        "<saml:Assertion xmlns:saml=\"{SAML_NS}\" xmlns:xsi=\"{XSI_NS}\" ID=\"{id}\" IssueInstant=\"{now}\" Version=\"2.0\">\
         <saml:Issuer>{STS_ENTITY}</saml:Issuer>{template}\
         <saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName\">{subject}</saml:NameID>\
         <saml:SubjectConfirmation Method=\"{HOLDER_OF_KEY}\"><saml:SubjectConfirmationData xsi:type=\"saml:KeyInfoConfirmationDataType\">\
         <ds:KeyInfo xmlns:ds=\"{DS_NS}\"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\
         </saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>\
         <saml:Conditions NotBefore=\"{now}\" NotOnOrAfter=\"{until}\"><saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>\
         <saml:AttributeStatement><saml:Attribute Name=\"{claim}\"><saml:AttributeValue>{cvr}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>\
         </saml:Assertion>",
        now = time(now),
        until = time(now + lifetime),
        subject = escape_xml(&subject),
        cert = base64::engine::general_purpose::STANDARD.encode(subject_cert),
        audience = escape_xml(audience),
        claim = unconfirmed::CVR_CLAIM,
        cvr = escape_xml(cvr),
    );
    let signed = Crypto::sign_xml(xml.as_bytes(), &sts.key_der).map_err(|e| SecurityError::Sign(e.to_string()))?;
    // libxml2 writes an XML declaration first; the token is embedded in other documents.
    let start =
        signed.find("<saml:Assertion").ok_or_else(|| SecurityError::Sign("no assertion in the output".into()))?;
    Ok((signed[start..].trim_end().to_string(), id))
}

/// The STS's answer carrying `assertion`.
pub fn issue_response(assertion: &str, now: DateTime<Utc>, expires: DateTime<Utc>) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"{SOAP12_NS}\"><soap:Body>\
         <wst:RequestSecurityTokenResponseCollection xmlns:wst=\"{WST_NS}\" xmlns:wsu=\"{WSU_NS}\"><wst:RequestSecurityTokenResponse>\
         <wst:TokenType>{SAML20_TOKEN_TYPE}</wst:TokenType><wst:RequestedSecurityToken>{assertion}</wst:RequestedSecurityToken>\
         <wst:Lifetime><wsu:Created>{}</wsu:Created><wsu:Expires>{}</wsu:Expires></wst:Lifetime>\
         </wst:RequestSecurityTokenResponse></wst:RequestSecurityTokenResponseCollection></soap:Body></soap:Envelope>",
        time(now),
        time(expires)
    )
}

/// Checks a SOAP call as an OIOIDWS service does: the token is the STS's (its signature checks
/// with `sts_cert`), for `audience`, current; the message is signed by the token's holder-of-key
/// certificate over Body, Timestamp and addressing headers; the Action is `action`.
pub fn check_secured_request(
    xml: &[u8],
    sts_cert: &[u8],
    audience: &str,
    action: &str,
    now: DateTime<Utc>,
) -> Result<Checked, SecurityError> {
    let text = std::str::from_utf8(xml).map_err(|_| invalid("not UTF-8"))?;
    let root = parse_document(xml).map_err(|e| invalid(format!("not a SOAP message: {e}")))?;
    check_layout(&root, now)?;
    let header = root.child("Header").ok_or_else(|| invalid("no Header"))?;
    if header.child("Action").map(Node::value) != Some(action) {
        return Err(invalid(format!("wsa:Action must be {action}")));
    }
    let span = element_span(text, SAML_NS, "Assertion").ok_or_else(|| invalid("no SAML token from the STS"))?;
    let assertion_text = &text[span];
    verify(assertion_text, sts_cert, "ID").map_err(|e| invalid(format!("the token is not the STS's: {e}")))?;
    let assertion = parse_document(assertion_text.as_bytes()).map_err(|e| invalid(e.to_string()))?;
    if assertion.child("Issuer").map(Node::value) != Some(STS_ENTITY) {
        return Err(invalid("the token's issuer is not the STS"));
    }
    let conditions = assertion.child("Conditions").ok_or_else(|| invalid("the token has no Conditions"))?;
    let at = |name: &str| {
        attr(conditions, name)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| invalid(format!("the token has no valid {name}")))
    };
    if at("NotBefore")? > now + chrono::Duration::minutes(5) || at("NotOnOrAfter")? <= now {
        return Err(invalid("the token has expired or is not yet valid"));
    }
    let audience_ok = conditions
        .child("AudienceRestriction")
        .is_some_and(|r| r.children.iter().any(|a| a.name == "Audience" && a.value() == audience));
    if !audience_ok {
        return Err(invalid(format!("the token is not for {audience}")));
    }
    let holder = assertion
        .child("Subject")
        .and_then(|s| s.child("SubjectConfirmation"))
        .filter(|c| attr(c, "Method") == Some(HOLDER_OF_KEY))
        .and_then(|c| c.child("SubjectConfirmationData"))
        .and_then(|d| d.child("KeyInfo"))
        .and_then(|k| k.child("X509Data"))
        .and_then(|x| x.child("X509Certificate"))
        .ok_or_else(|| invalid("the token names no holder-of-key certificate"))?;
    let holder = certificate_from_base64(holder.value())?.to_der().map_err(|e| invalid(e.to_string()))?;
    verify(text, &holder, "Id")
        .map_err(|e| invalid(format!("the message is not signed by the token's holder: {e}")))?;
    let cvr = assertion
        .child("AttributeStatement")
        .into_iter()
        .flat_map(|s| s.children.iter())
        .find(|a| a.name == "Attribute" && attr(a, "Name") == Some(unconfirmed::CVR_CLAIM))
        .and_then(|a| a.child("AttributeValue"))
        .map(|v| v.value().to_string());
    Ok(Checked { signer: holder, cvr })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "test");
        let cert = params.self_signed(&key).unwrap();
        Identity::from_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes(), "test").unwrap()
    }

    #[test]
    fn a_signed_request_verifies_and_a_changed_one_does_not() {
        let client = identity();
        let sts = identity();
        let now = Utc::now();
        let (assertion, id) =
            issue_assertion(&sts, client.certificate_der(), "urn:svc", "29189846", now, chrono::Duration::hours(1))
                .unwrap();
        verify(&assertion, sts.certificate_der(), "ID").unwrap();
        let token = StsToken { assertion, id, expires: now + chrono::Duration::hours(1) };
        let addressing = Addressing { action: "urn:act", to: "https://127.0.0.1/x", message_id: "urn:uuid:1".into() };
        let xml = secured_request(&client, &token, &addressing, "", "<p:X xmlns:p=\"urn:p\">1</p:X>", now).unwrap();
        assert!(!xml.contains("DOCTYPE"), "{xml}");
        let checked = check_secured_request(xml.as_bytes(), sts.certificate_der(), "urn:svc", "urn:act", now).unwrap();
        assert_eq!(checked.cvr.as_deref(), Some("29189846"));
        let tampered = xml.replace(">1</p:X>", ">2</p:X>");
        assert!(check_secured_request(tampered.as_bytes(), sts.certificate_der(), "urn:svc", "urn:act", now).is_err());
        let other = identity();
        assert!(check_secured_request(xml.as_bytes(), other.certificate_der(), "urn:svc", "urn:act", now).is_err());
    }
}
