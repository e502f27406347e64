//! A stand-in for KOMBIT's Context Handler (`sorsync stand-in idp`): a SAML 2.0 identity provider on
//! loopback that serves its metadata, reads signed AuthnRequests (redirect binding), shows a small
//! page listing demo users and their roles, and answers with a Response whose assertion is signed
//! with its own key and (by default) encrypted to the service provider's certificate with
//! AES-256-GCM and RSA-OAEP-SHA256, carrying the OIOSAML 3 attributes and a base64 privilege list
//! scoped by CVR. Tests also use [`StandinIdp::response_xml`] directly to build answers that must
//! be refused (tampered, expired, for another audience).

use std::collections::HashMap;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use maud::html;
use openssl::pkey::{PKey, Private};
use samael::crypto::{CertificateDer, Crypto, CryptoProvider as _};
use samael::schema::{
    Assertion, AttributeStatement, AudienceRestriction, AuthnContext, AuthnContextClassRef, AuthnStatement, Conditions,
    Issuer, Subject, SubjectConfirmation, SubjectConfirmationData, SubjectNameID,
};
use samael::traits::ToXml;

use crate::domain::Cvr;
use crate::markup::escape_xml;

/// Why the stand-in IdP could not do something.
#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    #[error("stand-in IdP: {0}")]
    Bad(String),
    #[error("stand-in IdP: {0}")]
    Crypto(String),
}

fn crypto(e: impl std::fmt::Display) -> IdpError {
    IdpError::Crypto(e.to_string())
}

/// How the assertion travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Signed only (for an SP with `require_encryption = false`).
    None,
    /// AES-256-GCM, the key by RSA-OAEP with SHA-256 (what the Context Handler sends).
    Aes256Gcm,
    /// AES-256-CBC, the key by RSA-OAEP-MGF1P (SHA-1), the older combination.
    Aes256Cbc,
}

/// A demo user: the NameID, a label, and the privileges per municipality (CVR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub name_id: String,
    pub label: String,
    pub privileges: Vec<(Cvr, Vec<String>)>,
}

/// What one answer says. Tests change fields to make answers that must be refused.
#[derive(Debug, Clone)]
pub struct AssertionSpec {
    pub request_id: String,
    pub acs_url: String,
    pub audience: String,
    pub name_id: String,
    pub privileges: Vec<(Cvr, Vec<String>)>,
    pub issue_instant: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
    pub not_on_or_after: DateTime<Utc>,
    pub encryption: Encryption,
    /// Write the privilege list in the older namespace (`http://itst.dk/...`) and attribute name.
    pub old_profile: bool,
}

impl AssertionSpec {
    /// An answer to `request_id` valid for five minutes from now.
    pub fn new(request_id: &str, acs_url: &str, audience: &str, user: &DemoUser, encryption: Encryption) -> Self {
        let now = Utc::now();
        AssertionSpec {
            request_id: request_id.to_string(),
            acs_url: acs_url.to_string(),
            audience: audience.to_string(),
            name_id: user.name_id.clone(),
            privileges: user.privileges.clone(),
            issue_instant: now,
            not_before: now - chrono::Duration::seconds(5),
            not_on_or_after: now + chrono::Duration::minutes(5),
            encryption,
            old_profile: false,
        }
    }
}

/// A waiting AuthnRequest, as the login page shows it.
#[derive(Debug, Clone)]
struct Pending {
    request_id: String,
    acs_url: String,
    audience: String,
    relay_state: Option<String>,
}

/// What an AuthnRequest asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequestInfo {
    pub id: String,
    pub acs_url: String,
    pub issuer: String,
    pub relay_state: Option<String>,
}

/// The stand-in IdP.
pub struct StandinIdp {
    pub entity_id: String,
    pub base_url: String,
    key: PKey<Private>,
    cert_der: Vec<u8>,
    /// The SP's certificate: AuthnRequests must be signed with it, assertions are encrypted to it.
    sp_cert_der: Vec<u8>,
    /// The only ACS answers go to, and the SP's entity id (audience).
    sp_acs_url: String,
    sp_entity_id: String,
    pub users: Vec<DemoUser>,
    pub encryption: Encryption,
    pending: Mutex<HashMap<String, Pending>>,
}

impl std::fmt::Debug for StandinIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandinIdp").field("entity_id", &self.entity_id).finish_non_exhaustive()
    }
}

/// A new RSA key and a self-signed certificate (PEM key, DER certificate) for `common_name`.
pub fn generate_key_and_cert(common_name: &str) -> Result<(PKey<Private>, Vec<u8>), IdpError> {
    let rsa = openssl::rsa::Rsa::generate(2048).map_err(crypto)?;
    let key = PKey::from_rsa(rsa).map_err(crypto)?;
    let mut name = openssl::x509::X509NameBuilder::new().map_err(crypto)?;
    name.append_entry_by_nid(openssl::nid::Nid::COMMONNAME, common_name).map_err(crypto)?;
    let name = name.build();
    let mut b = openssl::x509::X509Builder::new().map_err(crypto)?;
    b.set_version(2).map_err(crypto)?;
    let mut serial = openssl::bn::BigNum::new().map_err(crypto)?;
    serial.rand(120, openssl::bn::MsbOption::MAYBE_ZERO, false).map_err(crypto)?;
    let serial = serial.to_asn1_integer().map_err(crypto)?;
    b.set_serial_number(&serial).map_err(crypto)?;
    b.set_subject_name(&name).map_err(crypto)?;
    b.set_issuer_name(&name).map_err(crypto)?;
    b.set_pubkey(&key).map_err(crypto)?;
    let not_before = openssl::asn1::Asn1Time::days_from_now(0).map_err(crypto)?;
    let not_after = openssl::asn1::Asn1Time::days_from_now(3650).map_err(crypto)?;
    b.set_not_before(&not_before).map_err(crypto)?;
    b.set_not_after(&not_after).map_err(crypto)?;
    b.sign(&key, openssl::hash::MessageDigest::sha256()).map_err(crypto)?;
    Ok((key, b.build().to_der().map_err(crypto)?))
}

/// Writes a key (0600) and certificate (PEM) to `dir/name.key` and `dir/name.crt`, unless both
/// exist; returns them as read.
pub fn key_and_cert_in(dir: &std::path::Path, name: &str) -> Result<(PKey<Private>, Vec<u8>), IdpError> {
    let key_path = dir.join(format!("{name}.key"));
    let cert_path = dir.join(format!("{name}.crt"));
    if key_path.exists() && cert_path.exists() {
        let key = PKey::private_key_from_pem(&std::fs::read(&key_path).map_err(crypto)?).map_err(crypto)?;
        let cert = openssl::x509::X509::from_pem(&std::fs::read(&cert_path).map_err(crypto)?)
            .map_err(crypto)?
            .to_der()
            .map_err(crypto)?;
        return Ok((key, cert));
    }
    std::fs::create_dir_all(dir).map_err(crypto)?;
    let (key, cert) = generate_key_and_cert(name)?;
    let pem = key.private_key_to_pem_pkcs8().map_err(crypto)?;
    write_private(&key_path, &pem)?;
    let cert_pem = openssl::x509::X509::from_der(&cert).map_err(crypto)?.to_pem().map_err(crypto)?;
    std::fs::write(&cert_path, cert_pem).map_err(crypto)?;
    Ok((key, cert))
}

/// Creates `path` readable by its owner only and writes `bytes`.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), IdpError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(crypto)?;
    f.write_all(bytes).map_err(crypto)?;
    Ok(())
}

/// The demo users for `municipalities` (CVR, kommunekode) with the privilege URIs of our roles:
/// one user per role and municipality (`sor-admin-320`, ...).
pub fn demo_users(municipalities: &[(Cvr, u16)], privileges: &[(&str, String)]) -> Vec<DemoUser> {
    let mut users = Vec::new();
    for (cvr, code) in municipalities {
        for (role, uri) in privileges {
            users.push(DemoUser {
                name_id: format!("{}-{code}", role.replace('_', "-")),
                label: format!("{role} {code}"),
                privileges: vec![(*cvr, vec![uri.clone()])],
            });
        }
    }
    users
}

impl StandinIdp {
    /// A stand-in IdP at `base_url` for the SP with `sp_entity_id`, `sp_acs_url` and certificate.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        entity_id: &str,
        base_url: &str,
        key: PKey<Private>,
        cert_der: Vec<u8>,
        sp_entity_id: &str,
        sp_acs_url: &str,
        sp_cert_der: Vec<u8>,
        users: Vec<DemoUser>,
    ) -> Self {
        StandinIdp {
            entity_id: entity_id.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            cert_der,
            sp_cert_der,
            sp_acs_url: sp_acs_url.to_string(),
            sp_entity_id: sp_entity_id.to_string(),
            users,
            encryption: Encryption::Aes256Gcm,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// The IdP's metadata: entity id, signing certificate, SSO and logout by the redirect binding.
    pub fn metadata_xml(&self) -> String {
        let cert = B64.encode(&self.cert_der);
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" \
             xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"{id}\">\
             <md:IDPSSODescriptor WantAuthnRequestsSigned=\"true\" \
             protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
             <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}\
             </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\
             <md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" \
             Location=\"{base}/slo\"/>\
             <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>\
             <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" \
             Location=\"{base}/sso\"/>\
             </md:IDPSSODescriptor></md:EntityDescriptor>",
            id = escape_xml(&self.entity_id),
            base = escape_xml(&self.base_url),
        )
    }

    /// Reads a signed AuthnRequest from a redirect URL's query (the signature must verify with the
    /// SP's certificate; the ACS must be the SP's).
    pub fn read_authn_request(&self, query: &str) -> Result<AuthnRequestInfo, IdpError> {
        let url = url::Url::parse(&format!("http://idp.invalid/sso?{query}"))
            .map_err(|_| IdpError::Bad("a bad URL".into()))?;
        let verifier = samael::crypto::UrlVerifier::from_x509(&CertificateDer::from(self.sp_cert_der.clone()))
            .map_err(|e| IdpError::Crypto(e.to_string()))?;
        if !verifier.verify_signed_request_url(&url).unwrap_or(false) {
            return Err(IdpError::Bad("the AuthnRequest is not signed with the SP's key".into()));
        }
        let pairs: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let request = pairs.get("SAMLRequest").ok_or_else(|| IdpError::Bad("no SAMLRequest".into()))?;
        let deflated = B64.decode(request.as_bytes()).map_err(|_| IdpError::Bad("SAMLRequest is not base64".into()))?;
        let mut xml = String::new();
        flate2::read::DeflateDecoder::new(&deflated[..])
            .take(256 * 1024)
            .read_to_string(&mut xml)
            .map_err(|_| IdpError::Bad("SAMLRequest does not inflate".into()))?;
        let parsed: samael::schema::AuthnRequest =
            xml.parse().map_err(|_| IdpError::Bad("SAMLRequest is not an AuthnRequest".into()))?;
        let issuer = parsed.issuer.and_then(|i| i.value).unwrap_or_default();
        if issuer != self.sp_entity_id {
            return Err(IdpError::Bad("the AuthnRequest's issuer is not the SP".into()));
        }
        let acs_url = parsed.assertion_consumer_service_url.unwrap_or_else(|| self.sp_acs_url.clone());
        if acs_url != self.sp_acs_url {
            return Err(IdpError::Bad("the AuthnRequest asks for another ACS".into()));
        }
        Ok(AuthnRequestInfo { id: parsed.id, acs_url, issuer, relay_state: pairs.get("RelayState").cloned() })
    }

    /// A Response to `spec`: the assertion signed (RSA-SHA256) and, as `spec.encryption` says,
    /// encrypted to the SP's certificate.
    pub fn response_xml(&self, spec: &AssertionSpec) -> Result<String, IdpError> {
        let assertion = self.signed_assertion(spec)?;
        self.wrap_response(spec, &assertion)
    }

    /// A Response around an already signed assertion (tests change it in between), encrypted as
    /// `spec.encryption` says.
    pub fn wrap_response(&self, spec: &AssertionSpec, assertion: &str) -> Result<String, IdpError> {
        let body = match spec.encryption {
            Encryption::None => assertion.to_string(),
            e => encrypt_assertion(assertion, &self.sp_cert_der, e)?,
        };
        let id = format!("_{}", uuid::Uuid::new_v4().simple());
        let now = spec.issue_instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(format!(
            "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" \
             IssueInstant=\"{now}\" Destination=\"{dest}\" InResponseTo=\"{irt}\">\
             <saml2:Issuer>{issuer}</saml2:Issuer><samlp:Status><samlp:StatusCode \
             Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>{body}</samlp:Response>",
            dest = escape_xml(&spec.acs_url),
            irt = escape_xml(&spec.request_id),
            issuer = escape_xml(&self.entity_id),
        ))
    }

    /// The signed assertion's XML.
    pub fn signed_assertion(&self, spec: &AssertionSpec) -> Result<String, IdpError> {
        let id = format!("_{}", uuid::Uuid::new_v4().simple());
        let issuer = Issuer { value: Some(self.entity_id.clone()), ..Default::default() };
        let (attribute_name, namespace) = if spec.old_profile {
            ("dk:gov:saml:attribute:Privileges_intermediate", "http://itst.dk/oiosaml/basic_privilege_profile")
        } else {
            (
                "https://data.gov.dk/model/core/eid/privilegesIntermediate",
                "http://digst.dk/oiosaml/basic_privilege_profile",
            )
        };
        let mut list =
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><bpp:PrivilegeList xmlns:bpp=\"{namespace}\">");
        for (cvr, privileges) in &spec.privileges {
            list.push_str(&format!("<PrivilegeGroup Scope=\"urn:dk:gov:saml:cvrNumberIdentifier:{cvr}\">"));
            for p in privileges {
                list.push_str(&format!("<Privilege>{}</Privilege>", escape_xml(p)));
            }
            list.push_str("</PrivilegeGroup>");
        }
        list.push_str("</bpp:PrivilegeList>");
        let attr = |name: &str, value: String| samael::attribute::Attribute {
            friendly_name: None,
            name: Some(name.to_string()),
            name_format: Some("urn:oasis:names:tc:SAML:2.0:attrname-format:uri".to_string()),
            values: vec![samael::attribute::AttributeValue { attribute_type: None, value: Some(value) }],
        };
        let first_cvr = spec.privileges.first().map(|(c, _)| c.to_string()).unwrap_or_default();
        let mut signature = samael::signature::Signature::template(&id, &CertificateDer::from(self.cert_der.clone()));
        for r in signature.signed_info.reference.iter_mut() {
            r.digest_method.algorithm = samael::signature::DigestAlgorithm::Sha256;
        }
        let assertion = Assertion {
            id: id.clone(),
            issue_instant: spec.issue_instant,
            version: "2.0".to_string(),
            issuer,
            signature: Some(signature),
            subject: Some(Subject {
                name_id: Some(SubjectNameID {
                    format: Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".to_string()),
                    value: spec.name_id.clone(),
                }),
                subject_confirmations: Some(vec![SubjectConfirmation {
                    method: Some("urn:oasis:names:tc:SAML:2.0:cm:bearer".to_string()),
                    name_id: None,
                    subject_confirmation_data: Some(SubjectConfirmationData {
                        not_before: None,
                        not_on_or_after: Some(spec.not_on_or_after),
                        recipient: Some(spec.acs_url.clone()),
                        in_response_to: Some(spec.request_id.clone()),
                        address: None,
                        content: None,
                    }),
                }]),
            }),
            conditions: Some(Conditions {
                not_before: Some(spec.not_before),
                not_on_or_after: Some(spec.not_on_or_after),
                audience_restrictions: Some(vec![AudienceRestriction { audience: vec![spec.audience.clone()] }]),
                one_time_use: None,
                proxy_restriction: None,
            }),
            authn_statements: Some(vec![AuthnStatement {
                authn_instant: Some(spec.issue_instant),
                session_index: Some(format!("_{}", uuid::Uuid::new_v4().simple())),
                session_not_on_or_after: None,
                subject_locality: None,
                authn_context: Some(AuthnContext {
                    value: Some(AuthnContextClassRef {
                        value: Some("https://data.gov.dk/concept/core/nsis/loa/Substantial".to_string()),
                    }),
                }),
            }]),
            attribute_statements: Some(vec![AttributeStatement {
                attributes: vec![
                    attr("https://data.gov.dk/model/core/specVersion", "OIO-SAML-3.0".to_string()),
                    attr("https://data.gov.dk/model/core/eid/professional/cvr", first_cvr),
                    attr(attribute_name, B64.encode(list.as_bytes())),
                ],
            }]),
        };
        let unsigned = assertion.to_string().map_err(crypto)?;
        let key_der = self.key.private_key_to_der().map_err(crypto)?;
        let signed = Crypto::sign_xml(unsigned.as_str(), &key_der).map_err(crypto)?;
        Ok(strip_declaration(&signed).to_string())
    }

    /// The routes: `/metadata`, `/sso` (GET: the login page; POST: the answer), `/slo`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/metadata", get(metadata))
            .route("/sso", get(sso_page).post(sso_answer))
            .route("/slo", get(slo))
            .with_state(self)
    }

    /// Remembers a request and returns its handle (for the page's form).
    fn remember(&self, info: AuthnRequestInfo) -> String {
        let handle = uuid::Uuid::new_v4().simple().to_string();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.len() > 1000 {
            pending.clear();
        }
        pending.insert(
            handle.clone(),
            Pending {
                request_id: info.id,
                acs_url: info.acs_url,
                audience: self.sp_entity_id.clone(),
                relay_state: info.relay_state,
            },
        );
        handle
    }
}

fn strip_declaration(xml: &str) -> &str {
    let t = xml.trim();
    match t.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map(|(_, r)| r.trim()).unwrap_or(t),
        None => t,
    }
}

/// Encrypts a signed assertion to the SP's certificate (XML Encryption, Element type).
pub fn encrypt_assertion(assertion_xml: &str, sp_cert_der: &[u8], how: Encryption) -> Result<String, IdpError> {
    use openssl::symm::{encrypt_aead, Cipher, Crypter, Mode};
    let mut session_key = [0u8; 32];
    openssl::rand::rand_bytes(&mut session_key).map_err(crypto)?;
    let (data_alg, cipher_bytes) = match how {
        Encryption::Aes256Gcm => {
            let mut iv = [0u8; 12];
            openssl::rand::rand_bytes(&mut iv).map_err(crypto)?;
            let mut tag = [0u8; 16];
            let body =
                encrypt_aead(Cipher::aes_256_gcm(), &session_key, Some(&iv), &[], assertion_xml.as_bytes(), &mut tag)
                    .map_err(crypto)?;
            ("http://www.w3.org/2009/xmlenc11#aes256-gcm", [&iv[..], &body, &tag].concat())
        }
        Encryption::Aes256Cbc | Encryption::None => {
            let mut iv = [0u8; 16];
            openssl::rand::rand_bytes(&mut iv).map_err(crypto)?;
            let mut plain = assertion_xml.as_bytes().to_vec();
            let pad = 16 - plain.len() % 16;
            plain.extend(std::iter::repeat_n(pad as u8, pad));
            let mut c = Crypter::new(Cipher::aes_256_cbc(), Mode::Encrypt, &session_key, Some(&iv)).map_err(crypto)?;
            c.pad(false);
            let mut out = vec![0u8; plain.len() + 16];
            let n = c.update(&plain, &mut out).map_err(crypto)?;
            let m = c.finalize(&mut out[n..]).map_err(crypto)?;
            out.truncate(n + m);
            ("http://www.w3.org/2001/04/xmlenc#aes256-cbc", [&iv[..], &out].concat())
        }
    };
    let cert = openssl::x509::X509::from_der(sp_cert_der).map_err(crypto)?;
    let public = cert.public_key().map_err(crypto)?;
    let mut ctx = openssl::pkey_ctx::PkeyCtx::new(&public).map_err(crypto)?;
    ctx.encrypt_init().map_err(crypto)?;
    ctx.set_rsa_padding(openssl::rsa::Padding::PKCS1_OAEP).map_err(crypto)?;
    let key_method = if how == Encryption::Aes256Gcm {
        ctx.set_rsa_oaep_md(openssl::md::Md::sha256()).map_err(crypto)?;
        ctx.set_rsa_mgf1_md(openssl::md::Md::sha256()).map_err(crypto)?;
        "<xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#rsa-oaep\">\
         <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\
         <xenc11:MGF xmlns:xenc11=\"http://www.w3.org/2009/xmlenc11#\" \
         Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha256\"/></xenc:EncryptionMethod>"
    } else {
        "<xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\">\
         <ds:DigestMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\"/></xenc:EncryptionMethod>"
    };
    let mut wrapped = Vec::new();
    ctx.encrypt_to_vec(&session_key, &mut wrapped).map_err(crypto)?;
    Ok(format!(
        "<saml2:EncryptedAssertion xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\">\
         <xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" \
         Type=\"http://www.w3.org/2001/04/xmlenc#Element\">\
         <xenc:EncryptionMethod Algorithm=\"{data_alg}\"/>\
         <ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><xenc:EncryptedKey>{key_method}\
         <xenc:CipherData><xenc:CipherValue>{key}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>\
         <xenc:CipherData><xenc:CipherValue>{data}</xenc:CipherValue></xenc:CipherData>\
         </xenc:EncryptedData></saml2:EncryptedAssertion>",
        key = B64.encode(wrapped),
        data = B64.encode(cipher_bytes),
    ))
}

async fn metadata(State(idp): State<Arc<StandinIdp>>) -> Response {
    ([(header::CONTENT_TYPE, "application/samlmetadata+xml; charset=utf-8")], idp.metadata_xml()).into_response()
}

async fn sso_page(State(idp): State<Arc<StandinIdp>>, uri: axum::http::Uri) -> Response {
    let info = match idp.read_authn_request(uri.query().unwrap_or("")) {
        Ok(info) => info,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let handle = idp.remember(info);
    let page = html! {
        (maud::DOCTYPE)
        html lang="da" {
            head { meta charset="utf-8"; title { "Stand-in Adgangsstyring" } }
            body {
                h1 { "Stand-in for Fælleskommunal Adgangsstyring" }
                p { "Vælg en demobruger / choose a demo user:" }
                form method="post" action="/sso" {
                    input type="hidden" name="handle" value=(handle);
                    @for (i, u) in idp.users.iter().enumerate() {
                        p { button type="submit" name="user" value=(i) id={ "user-" (u.name_id) } { (u.name_id) " (" (u.label) ")" } }
                    }
                }
            }
        }
    };
    Html(page.into_string()).into_response()
}

#[derive(Debug, serde::Deserialize)]
struct Choice {
    handle: String,
    user: usize,
}

/// Signs the answer for the chosen user and posts it to the ACS (a form the browser submits; one
/// button, so it works without script).
async fn sso_answer(State(idp): State<Arc<StandinIdp>>, Form(choice): Form<Choice>) -> Response {
    let pending = idp.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(&choice.handle);
    let (Some(p), Some(user)) = (pending, idp.users.get(choice.user)) else {
        return (StatusCode::BAD_REQUEST, "unknown request or user").into_response();
    };
    let spec = AssertionSpec::new(&p.request_id, &p.acs_url, &p.audience, user, idp.encryption);
    let xml = match idp.response_xml(&spec) {
        Ok(x) => x,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let page = html! {
        (maud::DOCTYPE)
        html lang="da" {
            head { meta charset="utf-8"; title { "Stand-in Adgangsstyring" } }
            body {
                form method="post" action=(p.acs_url) id="saml-post" {
                    input type="hidden" name="SAMLResponse" value=(B64.encode(xml.as_bytes()));
                    @if let Some(r) = &p.relay_state { input type="hidden" name="RelayState" value=(r); }
                    button type="submit" id="continue" { "Fortsæt / Continue" }
                }
            }
        }
    };
    Html(page.into_string()).into_response()
}

#[derive(Debug, serde::Deserialize)]
struct SloQuery {
    #[serde(rename = "SAMLRequest")]
    _request: Option<String>,
}

/// Logout: the stand-in keeps no sessions of its own; back to the SP's sign-in page.
async fn slo(State(idp): State<Arc<StandinIdp>>, Query(_q): Query<SloQuery>) -> Response {
    let back = idp.sp_acs_url.trim_end_matches("/saml/acs").to_string() + "/login";
    (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response()
}

/// Serves the stand-in IdP on `listener` (loopback) until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    idp: Arc<StandinIdp>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other("the stand-in IdP binds to loopback only"));
    }
    axum::serve(listener, idp.router()).with_graceful_shutdown(shutdown).await
}
