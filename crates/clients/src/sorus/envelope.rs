//! The SOAP 1.1 envelopes of the SOR update service (SORUS): building and parsing requests,
//! answers and faults, in this one module so that it can be aligned with the official WSDL.
//!
//! The real WSDL is not public here. Published for SORUS v3: the endpoint path
//! ([`SORUS_V3_PATH`]), the namespace ([`SORUS_NS`]), the operation `MoveSorEntity`, and (v2
//! change notes) that requests and answers are wrapped in an extra object. Every other name we
//! guessed is in the [`unconfirmed`] block; the SOAP 1.1, WS-Security, SAML 2.0 and DGWS 1.0 names
//! around them are public standards.
//!
//! An envelope carries, in its Header, a DGWS/SOSI ID card (a `saml:Assertion` inside
//! `wsse:Security`, supplied whole by a [`TokenProvider`](super::TokenProvider)) and a `medcom:Header`
//! whose `MessageID` is the change's idempotency key; the Body holds one operation.
//! Parsing takes untrusted bytes and never panics: any input gives a value or an [`EnvelopeError`].

use std::borrow::Cow;
use std::fmt;
use std::io;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};

use crate::domain::{FkUuid, SorId};
use crate::markup::escape_xml;
use crate::port::{ChangeOutcome, FieldValue, IdempotencyKey, SorChange};

/// SOAP 1.1 envelope namespace (standard).
pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// WS-Security 1.0 (standard).
pub const WSSE_NS: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// WS-Security utility (standard).
pub const WSU_NS: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
/// SAML 2.0 assertion (standard; DGWS ID cards are SAML assertions).
pub const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// DGWS 1.0 `medcom` namespace (public DGWS specification).
pub const MEDCOM_NS: &str = "http://www.medcom.dk/dgws/2006/04/dgws-1.0.xsd";
/// SOSI namespace of ID-card attributes (public DGWS specification).
pub const SOSI_NS: &str = "http://www.sosi.dk/sosi/2006/04/sosi-1.0.xsd";

/// SORUS v3's namespace (published).
pub const SORUS_NS: &str = "http://sundhedsdatastyrelsen.dk/SOROpdateringService/2019/10/08/";
/// SORUS v3's endpoint path on the national service platform (published; v4 lives at `/sor-opdatering/v4/`).
pub const SORUS_V3_PATH: &str = "/sor-opdatering/v3/SOROpdateringService";

/// Every SORUS name that is a guess, in one place. Align these with the official WSDL when it is
/// available; nothing else in sorsync spells them.
pub mod unconfirmed {
    use super::Operation;

    /// (unconfirmed) The wrapper objects (published: requests and answers are wrapped; their names
    /// are not): a request `X` holds `X` + [`REQUEST_WRAPPER_SUFFIX`], its answer `XResponse`
    /// holds `X` + [`RESPONSE_WRAPPER_SUFFIX`].
    pub const REQUEST_WRAPPER_SUFFIX: &str = "Request";
    pub const RESPONSE_WRAPPER_SUFFIX: &str = "Result";

    /// Per operation: request element, answer element, SOAPAction header value. Only
    /// `MoveSorEntity` is published (v2 change notes); the rest (unconfirmed).
    pub const OPERATIONS: [(Operation, &str, &str, &str); 5] = [
        (Operation::Create, "CreateSorEntity", "CreateSorEntityResponse", "CreateSorEntity"),
        (Operation::Update, "UpdateSorEntity", "UpdateSorEntityResponse", "UpdateSorEntity"),
        (Operation::Move, "MoveSorEntity", "MoveSorEntityResponse", "MoveSorEntity"),
        (Operation::Close, "CloseSorEntity", "CloseSorEntityResponse", "CloseSorEntity"),
        (Operation::Lookup, "GetChangeByRequestId", "GetChangeByRequestIdResponse", "GetChangeByRequestId"),
    ];

    /// (unconfirmed) Element names inside the operations.
    pub const SOR_IDENTIFIER: &str = "SorIdentifier";
    pub const PARENT_SOR_IDENTIFIER: &str = "ParentSorIdentifier";
    pub const NEW_PARENT_SOR_IDENTIFIER: &str = "NewParentSorIdentifier";
    pub const FKORG_UUID: &str = "ExternalOrganisationUuid";
    pub const FROM_DATE: &str = "FromDate";
    pub const TO_DATE: &str = "ToDate";
    pub const REQUEST_ID: &str = "RequestId";
    pub const APPLIED: &str = "Applied";

    /// (unconfirmed) How each field of an update (`crate::port::FieldValue::field`) is
    /// spelled; a cleared field is sent as an empty element with `xsi:nil="true"`.
    pub const FIELD_ELEMENTS: [(&str, &str); 4] = [
        ("name", "EntityName"),
        ("address", "PostalAddressText"),
        ("phone", "TelephoneNumberIdentifier"),
        ("email", "EmailAddressIdentifier"),
    ];

    /// (unconfirmed) Fault codes (local part after `soap:`) that mean "try again later". Every
    /// other `Server...` code is also treated as temporary; `Client...` codes and anything else are
    /// permanent. DGWS's `processing_problem` is a server-side problem too.
    pub const TEMPORARY_FAULT_CODES: [&str; 4] = ["Server.Busy", "Server.Timeout", "Server", "processing_problem"];
}

use unconfirmed::*;

const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One SORUS operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Create,
    Update,
    Move,
    Close,
    /// Whether a change with a given idempotency key was applied, and its outcome.
    Lookup,
}

impl Operation {
    fn names(self) -> (&'static str, &'static str, &'static str) {
        OPERATIONS
            .iter()
            .find(|(op, ..)| *op == self)
            .map(|&(_, req, resp, action)| (req, resp, action))
            .unwrap_or(("", "", ""))
    }
    /// The request element's local name.
    pub fn request_element(self) -> &'static str {
        self.names().0
    }
    /// The answer element's local name.
    pub fn response_element(self) -> &'static str {
        self.names().1
    }
    /// The value of the `SOAPAction` HTTP header (quoted when sent).
    pub fn soap_action(self) -> &'static str {
        self.names().2
    }
    /// The extra object a request is wrapped in (inside the request element).
    pub fn request_wrapper(self) -> String {
        format!("{}{REQUEST_WRAPPER_SUFFIX}", self.request_element())
    }
    /// The extra object an answer is wrapped in (inside the answer element).
    pub fn response_wrapper(self) -> String {
        format!("{}{RESPONSE_WRAPPER_SUFFIX}", self.request_element())
    }
    pub fn of_change(change: &SorChange) -> Self {
        match change {
            SorChange::Create { .. } => Operation::Create,
            SorChange::Update { .. } => Operation::Update,
            SorChange::Move { .. } => Operation::Move,
            SorChange::Close { .. } => Operation::Close,
        }
    }
    fn from_request_element(local: &str) -> Option<Self> {
        OPERATIONS.iter().find(|(_, req, ..)| *req == local).map(|(op, ..)| *op)
    }
    fn from_response_element(local: &str) -> Option<Self> {
        OPERATIONS.iter().find(|(_, _, resp, _)| *resp == local).map(|(op, ..)| *op)
    }
}

/// A DGWS/SOSI ID card: the whole `saml:Assertion` element, as the token provider made (and, for a
/// real card, signed) it. It is inserted verbatim, never re-serialised, and never shown in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct IdCard {
    assertion_xml: String,
}

impl IdCard {
    /// Wraps an already serialised `saml:Assertion` element.
    pub fn from_assertion_xml(assertion_xml: String) -> Self {
        IdCard { assertion_xml }
    }
    pub fn assertion_xml(&self) -> &str {
        &self.assertion_xml
    }
}

impl fmt::Debug for IdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdCard(<hidden>)")
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    Change(SorChange),
    Lookup,
}

impl RequestBody {
    pub fn operation(&self) -> Operation {
        match self {
            RequestBody::Change(c) => Operation::of_change(c),
            RequestBody::Lookup => Operation::Lookup,
        }
    }
}

/// A request as the service receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `medcom:Header/medcom:Linking/medcom:MessageID`: the idempotency key.
    pub message_id: IdempotencyKey,
    pub body: RequestBody,
}

/// A SOAP fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The fault code's local part, e.g. `Client.Validation` or `Server.Busy`.
    pub code: String,
    pub message: String,
}

impl Fault {
    /// A fault the caller may retry (the service is busy or timed out).
    pub fn busy(message: impl Into<String>) -> Self {
        Fault { code: "Server.Busy".into(), message: message.into() }
    }
    /// The request was well formed but breaks a rule (unknown unit, closed parent, empty name).
    pub fn validation(message: impl Into<String>) -> Self {
        Fault { code: "Client.Validation".into(), message: message.into() }
    }
    /// The request could not be read.
    pub fn malformed(message: impl Into<String>) -> Self {
        Fault { code: "Client.Malformed".into(), message: message.into() }
    }
    /// True when retrying later may help.
    pub fn is_temporary(&self) -> bool {
        TEMPORARY_FAULT_CODES.contains(&self.code.as_str()) || self.code.starts_with("Server.")
    }
}

/// An answer as the client receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// A change was applied (now or, for a repeated key, before).
    Applied {
        operation: Operation,
        outcome: ChangeOutcome,
    },
    /// The answer to a lookup: the outcome of the change with that key, if SOR has it.
    Lookup(Option<ChangeOutcome>),
    Fault(Fault),
}

/// Why an envelope could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("not a SOAP 1.1 envelope: {0}")]
    NotSoap(String),
    #[error("the header carries no ID card (saml:Assertion inside wsse:Security)")]
    MissingIdCard,
    #[error("missing {0}")]
    Missing(String),
    #[error("{element}: {value:?} {problem}")]
    BadValue { element: String, value: String, problem: String },
    #[error("unknown operation {0}")]
    UnknownOperation(String),
    #[error("field {0:?} is not one SORUS can change (name, address, phone, email)")]
    UnknownField(String),
    #[error("cannot write the envelope: {0}")]
    Write(String),
}

impl From<io::Error> for EnvelopeError {
    fn from(e: io::Error) -> Self {
        EnvelopeError::Write(e.to_string())
    }
}

// ---- building ----

type W = Writer<Vec<u8>>;
/// Writes part of an envelope.
type Part<'a> = &'a dyn Fn(&mut W) -> io::Result<()>;

fn text(w: &mut W, s: &str) -> io::Result<()> {
    w.write_event(Event::Text(BytesText::from_escaped(escape_xml(s))))
}

fn leaf(w: &mut W, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name).write_inner_content(|w| text(w, value))?;
    Ok(())
}

/// Writes a whole envelope: declaration, Header (when `header` writes one), Body with `body`.
fn envelope(header: Option<Part<'_>>, body: Part<'_>) -> Result<String, EnvelopeError> {
    let mut w = Writer::new(Vec::new());
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("soap:Envelope")
        .with_attribute(("xmlns:soap", SOAP_ENV_NS))
        .with_attribute(("xmlns:sorus", SORUS_NS))
        .with_attribute(("xmlns:xsi", XSI_NS))
        .write_inner_content(|w| {
            if let Some(h) = header {
                w.create_element("soap:Header").write_inner_content(h)?;
            }
            w.create_element("soap:Body").write_inner_content(body)?;
            Ok(())
        })?;
    String::from_utf8(w.into_inner()).map_err(|e| EnvelopeError::Write(e.to_string()))
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn field_element(field: &str) -> Result<&'static str, EnvelopeError> {
    FIELD_ELEMENTS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, e)| *e)
        .ok_or_else(|| EnvelopeError::UnknownField(field.to_string()))
}

fn write_fields(w: &mut W, fields: &[FieldValue]) -> io::Result<()> {
    for f in fields {
        // Checked before writing starts (see `check_fields`).
        let Ok(el) = field_element(&f.field) else { continue };
        let name = format!("sorus:{el}");
        match &f.value {
            Some(v) => leaf(w, &name, v)?,
            None => {
                w.create_element(name.as_str()).with_attribute(("xsi:nil", "true")).write_empty()?;
            }
        }
    }
    Ok(())
}

fn check_fields(fields: &[FieldValue]) -> Result<(), EnvelopeError> {
    fields.iter().try_for_each(|f| field_element(&f.field).map(|_| ()))
}

/// Writes `<sorus:X><sorus:XRequest>content</sorus:XRequest></sorus:X>` (the wrapped request).
fn write_wrapped_request(w: &mut W, op: Operation, content: impl Fn(&mut W) -> io::Result<()>) -> io::Result<()> {
    let el = format!("sorus:{}", op.request_element());
    let wrapper = format!("sorus:{}", op.request_wrapper());
    w.create_element(el.as_str())
        .write_inner_content(|w| w.create_element(wrapper.as_str()).write_inner_content(&content).map(|_| ()))?;
    Ok(())
}

/// Writes `<sorus:XResponse><sorus:XResult>content</sorus:XResult></sorus:XResponse>`.
fn write_wrapped_response(w: &mut W, op: Operation, content: impl Fn(&mut W) -> io::Result<()>) -> io::Result<()> {
    let el = format!("sorus:{}", op.response_element());
    let wrapper = format!("sorus:{}", op.response_wrapper());
    w.create_element(el.as_str())
        .write_inner_content(|w| w.create_element(wrapper.as_str()).write_inner_content(&content).map(|_| ()))?;
    Ok(())
}

fn write_change(w: &mut W, change: &SorChange) -> io::Result<()> {
    let p = |n: &str| format!("sorus:{n}");
    write_wrapped_request(w, Operation::of_change(change), |w| match change {
        SorChange::Create { parent, name, fk_uuid, fields, from_date } => {
            leaf(w, &p(PARENT_SOR_IDENTIFIER), &parent.to_string())?;
            leaf(w, &p(field_element("name").unwrap_or("EntityName")), name)?;
            leaf(w, &p(FKORG_UUID), &fk_uuid.to_string())?;
            leaf(w, &p(FROM_DATE), &date(*from_date))?;
            write_fields(w, fields)
        }
        SorChange::Update { sor_id, fields } => {
            leaf(w, &p(SOR_IDENTIFIER), &sor_id.to_string())?;
            write_fields(w, fields)
        }
        SorChange::Move { sor_id, new_parent } => {
            leaf(w, &p(SOR_IDENTIFIER), &sor_id.to_string())?;
            leaf(w, &p(NEW_PARENT_SOR_IDENTIFIER), &new_parent.to_string())
        }
        SorChange::Close { sor_id, to_date } => {
            leaf(w, &p(SOR_IDENTIFIER), &sor_id.to_string())?;
            leaf(w, &p(TO_DATE), &date(*to_date))
        }
    })?;
    Ok(())
}

/// Builds a request envelope: the ID card and `key` (as `MessageID`) in the Header, `body` in the Body.
/// `now` stamps the WS-Security timestamp.
pub fn build_request(
    card: &IdCard,
    key: &IdempotencyKey,
    body: &RequestBody,
    now: DateTime<Utc>,
) -> Result<String, EnvelopeError> {
    if let RequestBody::Change(SorChange::Create { fields, .. } | SorChange::Update { fields, .. }) = body {
        check_fields(fields)?;
    }
    if key.0.trim().is_empty() {
        return Err(EnvelopeError::Missing("an idempotency key (MessageID)".into()));
    }
    let created = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let header = |w: &mut W| -> io::Result<()> {
        w.create_element("wsse:Security")
            .with_attribute(("xmlns:wsse", WSSE_NS))
            .with_attribute(("xmlns:wsu", WSU_NS))
            .with_attribute(("soap:mustUnderstand", "1"))
            .write_inner_content(|w| {
                w.create_element("wsu:Timestamp").write_inner_content(|w| leaf(w, "wsu:Created", &created))?;
                // The card is a signed XML element: copied byte for byte.
                w.write_event(Event::Text(BytesText::from_escaped(card.assertion_xml())))
            })?;
        w.create_element("medcom:Header")
            .with_attribute(("xmlns:medcom", MEDCOM_NS))
            .with_attribute(("soap:mustUnderstand", "1"))
            .write_inner_content(|w| {
                leaf(w, "medcom:SecurityLevel", "3")?;
                w.create_element("medcom:Linking").write_inner_content(|w| leaf(w, "medcom:MessageID", &key.0))?;
                leaf(w, "medcom:RequireNonRepudiationReceipt", "no")
            })?;
        Ok(())
    };
    let body_writer = |w: &mut W| -> io::Result<()> {
        match body {
            RequestBody::Change(c) => write_change(w, c),
            RequestBody::Lookup => {
                write_wrapped_request(w, Operation::Lookup, |w| leaf(w, &format!("sorus:{REQUEST_ID}"), &key.0))
            }
        }
    };
    envelope(Some(&header), &body_writer)
}

/// The answer to an applied change: the SOR-ID for a create, an empty answer element otherwise.
pub fn build_applied_response(operation: Operation, outcome: &ChangeOutcome) -> Result<String, EnvelopeError> {
    envelope(None, &|w: &mut W| {
        write_wrapped_response(w, operation, |w| match outcome {
            ChangeOutcome::Created { sor_id } => leaf(w, &format!("sorus:{SOR_IDENTIFIER}"), &sor_id.to_string()),
            ChangeOutcome::Done => Ok(()),
        })
    })
}

/// The answer to a lookup: `Applied` true with the outcome, or false.
pub fn build_lookup_response(found: Option<&ChangeOutcome>) -> Result<String, EnvelopeError> {
    envelope(None, &|w: &mut W| {
        write_wrapped_response(w, Operation::Lookup, |w| {
            leaf(w, &format!("sorus:{APPLIED}"), if found.is_some() { "true" } else { "false" })?;
            if let Some(ChangeOutcome::Created { sor_id }) = found {
                leaf(w, &format!("sorus:{SOR_IDENTIFIER}"), &sor_id.to_string())?;
            }
            Ok(())
        })
    })
}

/// A SOAP 1.1 fault envelope.
pub fn build_fault(fault: &Fault) -> Result<String, EnvelopeError> {
    envelope(None, &|w: &mut W| {
        w.create_element("soap:Fault").write_inner_content(|w| {
            leaf(w, "faultcode", &format!("soap:{}", fault.code))?;
            leaf(w, "faultstring", &fault.message)
        })?;
        Ok(())
    })
}

// ---- reading ----

/// The deepest nesting accepted: a SORUS envelope is a few levels deep; anything far deeper is
/// refused before it can cost anything.
const MAX_DEPTH: usize = 64;

/// A parsed element: namespace, local name, attributes (local name, value), children, text.
/// Shared with the FK-ORG SOAP envelopes ([`crate::sources::fkorg_soap`]), which parse the same way.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub(crate) ns: Option<String>,
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
    pub(crate) text: String,
}

impl Node {
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    pub(crate) fn required(&self, name: &str) -> Result<&Node, EnvelopeError> {
        self.child(name).ok_or_else(|| EnvelopeError::Missing(format!("{name} in {}", self.name)))
    }
    fn is_nil(&self) -> bool {
        self.attrs.iter().any(|(k, v)| k == "nil" && matches!(v.trim(), "true" | "1"))
    }
    pub(crate) fn value(&self) -> &str {
        self.text.trim()
    }
}

fn resolved_ns(r: &ResolveResult) -> Option<String> {
    match r {
        ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        _ => None,
    }
}

fn start_node(
    reader: &NsReader<&[u8]>,
    ns: Option<String>,
    e: &quick_xml::events::BytesStart,
) -> Result<Node, EnvelopeError> {
    let xml = |e: &dyn fmt::Display| EnvelopeError::Xml(format!("at byte {}: {e}", reader.buffer_position()));
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| xml(&e))?;
        let value = a.unescape_value().map_err(|e| xml(&e))?;
        attrs.push((String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(), value.into_owned()));
    }
    Ok(Node { ns, name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(), attrs, ..Node::default() })
}

/// Reads a whole document into a tree of [`Node`]s.
pub(crate) fn parse_document(bytes: &[u8]) -> Result<Node, EnvelopeError> {
    let body = std::str::from_utf8(bytes)
        .map_err(|e| EnvelopeError::Xml(format!("not UTF-8 (first bad byte at offset {})", e.valid_up_to())))?;
    let body = body.strip_prefix('\u{feff}').unwrap_or(body);
    let mut reader = NsReader::from_str(body);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (resolved_ns(&ns), event),
            Err(e) => return Err(EnvelopeError::Xml(format!("at byte {}: {e}", reader.buffer_position()))),
        };
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                return Err(EnvelopeError::Xml(format!(
                    "content after the root element: <{}>",
                    String::from_utf8_lossy(e.name().as_ref())
                )));
            }
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(EnvelopeError::Xml(format!("nested deeper than {MAX_DEPTH} elements")));
                }
                let node = start_node(&reader, ns, &e)?;
                stack.push(node);
            }
            Event::Empty(e) => {
                let node = start_node(&reader, ns, &e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let Some(node) = stack.pop() else {
                    return Err(EnvelopeError::Xml("an end tag without a start tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| EnvelopeError::Xml(format!("at byte {}: {e}", reader.buffer_position())))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(EnvelopeError::Xml("text outside the root element".into())),
                }
            }
            Event::CData(c) => {
                let s = String::from_utf8_lossy(&c).into_owned();
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&s);
                }
            }
            Event::DocType(_) => return Err(EnvelopeError::Xml("a DOCTYPE is not allowed in a SOAP message".into())),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(EnvelopeError::Xml("the document ends inside an element (truncated?)".into()));
    }
    root.ok_or_else(|| EnvelopeError::Xml("no root element".into()))
}

/// The Envelope's Header (if any) and the first element inside its Body.
fn envelope_parts(root: &Node) -> Result<(Option<&Node>, &Node), EnvelopeError> {
    if root.name != "Envelope" || root.ns.as_deref() != Some(SOAP_ENV_NS) {
        return Err(EnvelopeError::NotSoap(format!(
            "the root element is {} in namespace {}; expected Envelope in {SOAP_ENV_NS}",
            root.name,
            root.ns.as_deref().unwrap_or("(none)")
        )));
    }
    let header = root.children.iter().find(|c| c.name == "Header" && c.ns.as_deref() == Some(SOAP_ENV_NS));
    let body = root
        .children
        .iter()
        .find(|c| c.name == "Body" && c.ns.as_deref() == Some(SOAP_ENV_NS))
        .ok_or_else(|| EnvelopeError::NotSoap("no Body".into()))?;
    let first = body.children.first().ok_or_else(|| EnvelopeError::NotSoap("the Body is empty".into()))?;
    Ok((header, first))
}

fn sor_id(node: &Node, name: &str) -> Result<SorId, EnvelopeError> {
    let v = node.required(name)?.value();
    SorId::parse(v).map_err(|e| EnvelopeError::BadValue {
        element: name.to_string(),
        value: v.to_string(),
        problem: format!("is not a SOR-ID ({e})"),
    })
}

fn date_of(node: &Node, name: &str) -> Result<NaiveDate, EnvelopeError> {
    let v = node.required(name)?.value();
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| EnvelopeError::BadValue {
        element: name.to_string(),
        value: v.to_string(),
        problem: "is not a date (YYYY-MM-DD)".into(),
    })
}

/// The fields of an update or create, in document order. For a create the name is its own element
/// and is not repeated here.
fn fields_of(op: &Node, skip_name: bool) -> Vec<FieldValue> {
    op.children
        .iter()
        .filter_map(|c| {
            let field = FIELD_ELEMENTS.iter().find(|(_, el)| *el == c.name)?.0;
            if skip_name && field == "name" {
                return None;
            }
            let value = (!c.is_nil()).then(|| c.value().to_string());
            Some(FieldValue { field: field.to_string(), value })
        })
        .collect()
}

/// Reads a request envelope (the stand-in's side). Requires an ID card and a MessageID.
pub fn parse_request(bytes: &[u8]) -> Result<Request, EnvelopeError> {
    let root = parse_document(bytes)?;
    let (header, op) = envelope_parts(&root)?;
    let header = header.ok_or(EnvelopeError::MissingIdCard)?;
    let has_card = header
        .children
        .iter()
        .filter(|c| c.name == "Security")
        .any(|s| s.children.iter().any(|a| a.name == "Assertion" && a.ns.as_deref() == Some(SAML_NS)));
    if !has_card {
        return Err(EnvelopeError::MissingIdCard);
    }
    let message_id = header
        .children
        .iter()
        .find(|c| c.name == "Header" && c.ns.as_deref() == Some(MEDCOM_NS))
        .and_then(|h| h.child("Linking"))
        .and_then(|l| l.child("MessageID"))
        .map(|m| m.value().to_string())
        .filter(|m| !m.is_empty())
        .ok_or_else(|| EnvelopeError::Missing("medcom:Header/medcom:Linking/medcom:MessageID".into()))?;
    let operation =
        Operation::from_request_element(&op.name).ok_or_else(|| EnvelopeError::UnknownOperation(op.name.clone()))?;
    let op = op.required(&operation.request_wrapper())?;
    let body = match operation {
        Operation::Create => {
            let name_el = field_element("name").unwrap_or("EntityName");
            let fk = op.required(FKORG_UUID)?.value();
            let fk_uuid = FkUuid::parse(fk).map_err(|e| EnvelopeError::BadValue {
                element: FKORG_UUID.into(),
                value: fk.to_string(),
                problem: e.to_string(),
            })?;
            RequestBody::Change(SorChange::Create {
                parent: sor_id(op, PARENT_SOR_IDENTIFIER)?,
                name: op.required(name_el)?.value().to_string(),
                fk_uuid,
                fields: fields_of(op, true),
                from_date: date_of(op, FROM_DATE)?,
            })
        }
        Operation::Update => {
            RequestBody::Change(SorChange::Update { sor_id: sor_id(op, SOR_IDENTIFIER)?, fields: fields_of(op, false) })
        }
        Operation::Move => RequestBody::Change(SorChange::Move {
            sor_id: sor_id(op, SOR_IDENTIFIER)?,
            new_parent: sor_id(op, NEW_PARENT_SOR_IDENTIFIER)?,
        }),
        Operation::Close => RequestBody::Change(SorChange::Close {
            sor_id: sor_id(op, SOR_IDENTIFIER)?,
            to_date: date_of(op, TO_DATE)?,
        }),
        Operation::Lookup => {
            let id = op.required(REQUEST_ID)?.value();
            if id != message_id {
                return Err(EnvelopeError::BadValue {
                    element: REQUEST_ID.into(),
                    value: id.to_string(),
                    problem: "differs from the MessageID in the header".into(),
                });
            }
            RequestBody::Lookup
        }
    };
    Ok(Request { message_id: IdempotencyKey(message_id), body })
}

/// Reads an answer envelope (the client's side): an applied change, a lookup answer, or a fault.
pub fn parse_response(bytes: &[u8]) -> Result<Response, EnvelopeError> {
    let root = parse_document(bytes)?;
    let (_, first) = envelope_parts(&root)?;
    if first.name == "Fault" && first.ns.as_deref() == Some(SOAP_ENV_NS) {
        let code = first.required("faultcode")?.value();
        let code = code.split_once(':').map(|(_, local)| local).unwrap_or(code).to_string();
        let message = first.child("faultstring").map(|s| s.value().to_string()).unwrap_or_default();
        return Ok(Response::Fault(Fault { code, message }));
    }
    let operation = Operation::from_response_element(&first.name)
        .ok_or_else(|| EnvelopeError::UnknownOperation(first.name.clone()))?;
    let first = first.required(&operation.response_wrapper())?;
    let created = || -> Result<Option<SorId>, EnvelopeError> {
        first.child(SOR_IDENTIFIER).map(|_| sor_id(first, SOR_IDENTIFIER)).transpose()
    };
    match operation {
        Operation::Lookup => {
            let applied = first.required(APPLIED)?.value();
            match applied {
                "true" | "1" => Ok(Response::Lookup(Some(match created()? {
                    Some(sor_id) => ChangeOutcome::Created { sor_id },
                    None => ChangeOutcome::Done,
                }))),
                "false" | "0" => Ok(Response::Lookup(None)),
                other => Err(EnvelopeError::BadValue {
                    element: APPLIED.into(),
                    value: other.to_string(),
                    problem: "is not true or false".into(),
                }),
            }
        }
        Operation::Create => {
            let sor_id =
                created()?.ok_or_else(|| EnvelopeError::Missing(format!("{SOR_IDENTIFIER} in {}", first.name)))?;
            Ok(Response::Applied { operation, outcome: ChangeOutcome::Created { sor_id } })
        }
        _ => Ok(Response::Applied { operation, outcome: ChangeOutcome::Done }),
    }
}

/// A short, printable start of an answer that could not be read, for error messages.
pub fn snippet(bytes: &[u8]) -> Cow<'_, str> {
    let s = String::from_utf8_lossy(bytes);
    match s.char_indices().nth(200) {
        Some((i, _)) => Cow::Owned(format!("{}...", &s[..i])),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> IdCard {
        IdCard::from_assertion_xml(format!(
            "<saml:Assertion xmlns:saml=\"{SAML_NS}\" ID=\"IDCard\"><saml:Issuer>test</saml:Issuer></saml:Assertion>"
        ))
    }

    fn key() -> IdempotencyKey {
        IdempotencyKey("k-1".into())
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z").map(|d| d.with_timezone(&Utc)).unwrap()
    }

    fn round_trip(change: SorChange) {
        let xml = build_request(&card(), &key(), &RequestBody::Change(change.clone()), now()).unwrap();
        let req = parse_request(xml.as_bytes()).unwrap();
        assert_eq!(req, Request { message_id: key(), body: RequestBody::Change(change) });
    }

    #[test]
    fn every_change_survives_building_and_parsing() {
        let parent = SorId::from_running_number(7);
        let unit = SorId::from_running_number(8);
        round_trip(SorChange::Create {
            parent,
            name: "Plejecenter <Solgården> & Co".into(),
            fk_uuid: FkUuid::parse("0b0e5a2e-6d38-4c1b-9c39-8e3f1a6f1a01").unwrap(),
            fields: vec![
                FieldValue { field: "phone".into(), value: Some("46 31 40 00".into()) },
                FieldValue { field: "address".into(), value: Some("Evigheden 1, 4000 Korsbæk".into()) },
            ],
            from_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        });
        round_trip(SorChange::Update {
            sor_id: unit,
            fields: vec![
                FieldValue { field: "name".into(), value: Some("Nyt navn".into()) },
                FieldValue { field: "email".into(), value: None },
            ],
        });
        round_trip(SorChange::Move { sor_id: unit, new_parent: parent });
        round_trip(SorChange::Close { sor_id: unit, to_date: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap() });
        let xml = build_request(&card(), &key(), &RequestBody::Lookup, now()).unwrap();
        assert_eq!(parse_request(xml.as_bytes()).unwrap().body, RequestBody::Lookup);
    }

    #[test]
    fn the_id_card_and_the_key_are_in_the_header() {
        let xml = build_request(&card(), &key(), &RequestBody::Lookup, now()).unwrap();
        assert!(xml.contains("<saml:Issuer>test</saml:Issuer>"), "{xml}");
        assert!(xml.contains("<medcom:MessageID>k-1</medcom:MessageID>"), "{xml}");
        assert_eq!(format!("{:?}", card()), "IdCard(<hidden>)");
    }

    #[test]
    fn an_unknown_field_is_refused_before_sending() {
        let change = SorChange::Update {
            sor_id: SorId::from_running_number(8),
            fields: vec![FieldValue { field: "colour".into(), value: Some("red".into()) }],
        };
        let err = build_request(&card(), &key(), &RequestBody::Change(change), now()).unwrap_err();
        assert_eq!(err, EnvelopeError::UnknownField("colour".into()));
    }

    #[test]
    fn answers_and_faults_survive_building_and_parsing() {
        let id = SorId::from_running_number(99);
        let created = ChangeOutcome::Created { sor_id: id };
        let xml = build_applied_response(Operation::Create, &created).unwrap();
        assert_eq!(
            parse_response(xml.as_bytes()).unwrap(),
            Response::Applied { operation: Operation::Create, outcome: created.clone() }
        );
        let xml = build_applied_response(Operation::Close, &ChangeOutcome::Done).unwrap();
        assert_eq!(
            parse_response(xml.as_bytes()).unwrap(),
            Response::Applied { operation: Operation::Close, outcome: ChangeOutcome::Done }
        );
        for found in [None, Some(&created), Some(&ChangeOutcome::Done)] {
            let xml = build_lookup_response(found).unwrap();
            assert_eq!(parse_response(xml.as_bytes()).unwrap(), Response::Lookup(found.cloned()));
        }
        let busy = Fault::busy("try later");
        let Response::Fault(f) = parse_response(build_fault(&busy).unwrap().as_bytes()).unwrap() else { panic!() };
        assert!(f.is_temporary());
        let invalid = Fault::validation("parent <x> is closed");
        let Response::Fault(f) = parse_response(build_fault(&invalid).unwrap().as_bytes()).unwrap() else { panic!() };
        assert_eq!(f, invalid);
        assert!(!f.is_temporary());
    }

    #[test]
    fn fault_codes_are_classed_by_their_kind() {
        let f = |c: &str| Fault { code: c.into(), message: String::new() };
        assert!(f("Server.Timeout").is_temporary());
        assert!(f("Server").is_temporary());
        assert!(f("processing_problem").is_temporary());
        assert!(!f("Client.Validation").is_temporary());
        assert!(!f("invalid_idcard").is_temporary());
    }

    #[test]
    fn randomly_damaged_envelopes_never_panic_the_parsers() {
        use rand::{Rng, SeedableRng};
        let change = SorChange::Update {
            sor_id: SorId::from_running_number(8),
            fields: vec![FieldValue { field: "name".into(), value: Some("Æblehaven & Co".into()) }],
        };
        let request = build_request(&card(), &key(), &RequestBody::Change(change), now()).unwrap().into_bytes();
        let answer = build_lookup_response(Some(&ChangeOutcome::Created { sor_id: SorId::from_running_number(9) }))
            .unwrap()
            .into_bytes();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
        for valid in [request, answer] {
            for _ in 0..2000 {
                let mut damaged = valid.clone();
                for _ in 0..rng.gen_range(1..4) {
                    let at = rng.gen_range(0..damaged.len());
                    match rng.gen_range(0..3) {
                        0 => damaged[at] = rng.gen(),
                        1 => {
                            damaged.remove(at);
                        }
                        _ => damaged.insert(at, *b"<>&\"/:=".get(rng.gen_range(0..7)).unwrap_or(&b'<')),
                    }
                }
                let _ = parse_request(&damaged);
                let _ = parse_response(&damaged);
            }
        }
    }

    #[test]
    fn malformed_input_is_an_error_never_a_panic() {
        let valid = build_request(&card(), &key(), &RequestBody::Lookup, now()).unwrap();
        let mut inputs: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"   ".to_vec(),
            b"\xff\xfe<x/>".to_vec(),
            b"not xml at all".to_vec(),
            b"<a><b></a>".to_vec(),
            b"<a>".to_vec(),
            b"<?xml version=\"1.0\"?>".to_vec(),
            b"<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>".to_vec(),
            b"<x>&unknown;</x>".to_vec(),
            b"<x/><y/>".to_vec(),
            b"<x a=\"1\" a=\"2\"/>".to_vec(),
            format!("<soap:Envelope xmlns:soap=\"{SOAP_ENV_NS}\"/>").into_bytes(),
            format!("<soap:Envelope xmlns:soap=\"{SOAP_ENV_NS}\"><soap:Body/></soap:Envelope>").into_bytes(),
            format!("<soap:Envelope xmlns:soap=\"{SOAP_ENV_NS}\"><soap:Body><Fault/></soap:Body></soap:Envelope>")
                .into_bytes(),
            "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body/></soap:Envelope>"
                .as_bytes()
                .to_vec(),
            "<a>".repeat(10_000).into_bytes(),
            valid.replace("k-1</sorus:RequestId>", "other</sorus:RequestId>").into_bytes(),
            valid.replace("GetChangeByRequestId>", "DeleteEverything>").into_bytes(),
            valid
                .replace("<saml:Issuer>test</saml:Issuer>", "")
                .replace("saml:Assertion", "saml:NotACard")
                .into_bytes(),
        ];
        // Every prefix of a valid envelope, cut at each byte.
        inputs.extend((0..valid.len()).step_by(7).map(|n| valid.as_bytes()[..n].to_vec()));
        for input in &inputs {
            assert!(parse_request(input).is_err(), "accepted {:?}", String::from_utf8_lossy(input));
            let _ = parse_response(input);
        }
        let applied = build_applied_response(Operation::Create, &ChangeOutcome::Done).unwrap();
        assert!(parse_response(applied.as_bytes()).is_err(), "a create answer without a SOR-ID is refused");
        let bad_id = build_applied_response(
            Operation::Create,
            &ChangeOutcome::Created { sor_id: SorId::from_running_number(5) },
        )
        .unwrap()
        .replace("5100001600", "5100001601");
        assert!(matches!(parse_response(bad_id.as_bytes()), Err(EnvelopeError::BadValue { .. })));
    }
}
