//! The SOAP 1.2 messages of FK-ORG's write service "Organisation 6" (`adresse` and
//! `organisationenhed`: `importer`, `laes`, `ret`), built and parsed here without IO, for the
//! FK-ORG client ([`super::fkorg_client`]) and the stand-in (`sorsync_standin::fkorg`).
//!
//! Every name comes from KOMBIT's published WSDLs and schemas (`specs/fkorg-soap-6/`): the
//! payload of each Body is one `*Input`/`*Output` element of the service's namespace with its own
//! namespace declarations, so it validates on its own against `AdresseOperationer.xsd` or
//! `OrganisationEnhedOperationer.xsd` (the tests do that with xmllint).
//!
//! A unit's relations are carried over as they were read: [`Relation`] holds every part the
//! schema gives a relation (Virkning, ReferenceID, and for addresses and tasks Rolle, Type and
//! Indeks), so a `ret` built from a `laes` keeps every other relation of the unit.
//! Parsing takes untrusted bytes and never panics.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::markup::escape_xml;
use crate::sorus::envelope::{parse_document, EnvelopeError, Node};

/// SOAP 1.2 envelope namespace (standard).
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// Common types of the STS services (`SagDokObjekt.xsd`).
pub const SAGDOK_NS: &str = "urn:oio:sagdok:3.0.0";
/// STS 6 general definitions (`GenerelleDefinitioner.xsd`: `AdresseTekst`).
pub const STS_NS: &str = "urn:oio:sts:6";
/// Organisation's shared definitions (`OrganisationFaelles.xsd`: `Gyldighed`).
pub const ORG_FAELLES_NS: &str = "http://stoettesystemerne.dk/organisation/6/";
/// KOMBIT's request header (`RequestHeader.xsd`), one `TransactionUUID` per call.
pub const REQUEST_HEADER_NS: &str = "http://kombit.dk/xml/schemas/RequestHeader/1/";
/// The classification type of a unit's addresses (OS2sync; also in the GraphQL schema's example).
pub const UNIT_ADDRESS_TYPE: &str = "9b33c0a0-a566-4ec0-8200-325cb1e5bb9a";

/// `StandardRetur/StatusKode` values (as OS2sync reads them).
pub mod status {
    pub const OK: i64 = 20;
    /// The request is not valid.
    pub const BAD_REQUEST: i64 = 40;
    pub const NOT_FOUND: i64 = 44;
    /// The object exists already (importer) or is passivated.
    pub const EXISTS: i64 = 49;
    /// Anything from 50 up is a server-side problem.
    pub const SERVER_ERROR: i64 = 50;
}

/// The two services sorsync writes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Adresse,
    OrganisationEnhed,
}

impl Service {
    /// The path segment in `.../organisation/<service>/6/` and in the soapAction.
    pub fn name(self) -> &'static str {
        match self {
            Service::Adresse => "adresse",
            Service::OrganisationEnhed => "organisationenhed",
        }
    }

    /// The namespace of the service's Input/Output elements.
    pub fn namespace(self) -> &'static str {
        match self {
            Service::Adresse => "http://stoettesystemerne.dk/organisation/adresse/6/",
            Service::OrganisationEnhed => "http://stoettesystemerne.dk/organisation/organisationenhed/6/",
        }
    }

    /// The endpoint path on the FK-ORG host, as published: `/organisation/<service>/6/`.
    pub fn path(self) -> &'static str {
        match self {
            Service::Adresse => "/organisation/adresse/6/",
            Service::OrganisationEnhed => "/organisation/organisationenhed/6/",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Service::Adresse => "adr",
            Service::OrganisationEnhed => "oe",
        }
    }
}

/// The operations sorsync uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Importer,
    Laes,
    Ret,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Importer => "importer",
            Operation::Laes => "laes",
            Operation::Ret => "ret",
        }
    }

    pub fn input_element(self) -> &'static str {
        match self {
            Operation::Importer => "ImportInput",
            Operation::Laes => "LaesInput",
            Operation::Ret => "RetInput",
        }
    }

    pub fn output_element(self) -> &'static str {
        match self {
            Operation::Importer => "ImportOutput",
            Operation::Laes => "LaesOutput",
            Operation::Ret => "RetOutput",
        }
    }

    fn from_input_element(local: &str) -> Option<Self> {
        [Operation::Importer, Operation::Laes, Operation::Ret].into_iter().find(|o| o.input_element() == local)
    }
}

/// The soapAction of an operation: `http://kombit.dk/sts/organisation/<service>/<operation>`.
pub fn soap_action(service: Service, operation: Operation) -> String {
    format!("http://kombit.dk/sts/organisation/{}/{}", service.name(), operation.name())
}

/// Why a message could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("not a SOAP 1.2 message: {0}")]
    NotSoap(String),
    #[error("SOAP fault {code}: {reason}")]
    Fault { code: String, reason: String },
    #[error("missing {0}")]
    Missing(String),
    #[error("{element}: {value:?} {problem}")]
    BadValue { element: String, value: String, problem: String },
    #[error("relation {0} cannot be carried over by sorsync (not in the schema's RelationListe)")]
    UnknownRelation(String),
}

impl From<EnvelopeError> for SoapError {
    fn from(e: EnvelopeError) -> Self {
        match e {
            EnvelopeError::Missing(what) => SoapError::Missing(what),
            other => SoapError::Xml(other.to_string()),
        }
    }
}

impl SoapError {
    /// A Receiver fault is the server's problem (may pass); everything else is the message's.
    pub fn is_temporary(&self) -> bool {
        matches!(self, SoapError::Fault { code, .. } if code.ends_with("Receiver"))
    }
}

// ---- the data carried ----

/// A UnikId: a UUID or a URN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    Uuid(String),
    Urn(String),
}

impl Id {
    pub fn uuid(u: impl ToString) -> Self {
        Id::Uuid(u.to_string())
    }

    /// The UUID, lower case, when it is one.
    pub fn as_uuid(&self) -> Option<String> {
        match self {
            Id::Uuid(u) => Some(u.to_ascii_lowercase()),
            Id::Urn(_) => None,
        }
    }
}

/// One end of a Virkning: a time stamp, or the open end (`GraenseIndikator`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tidspunkt {
    /// As FK-ORG wrote it (xsd:dateTime).
    At(String),
    Open,
}

impl Tidspunkt {
    pub fn at(t: DateTime<Utc>) -> Self {
        Tidspunkt::At(t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    fn instant(&self) -> Option<DateTime<Utc>> {
        match self {
            Tidspunkt::At(text) => super::fkorg_json::parse_iso_datetime(text).flatten().map(|d| d.with_timezone(&Utc)),
            Tidspunkt::Open => None,
        }
    }
}

/// When a relation or property is in effect, and who made it so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Virkning {
    pub from: Option<Tidspunkt>,
    pub to: Option<Tidspunkt>,
    pub actor: Option<Id>,
    /// `Organisation`, `OrganisationEnhed`, `Bruger`, ...
    pub actor_type: Option<String>,
    pub note: Option<String>,
}

impl Virkning {
    /// From `now`, open-ended, made by the organisation `actor` (when known).
    pub fn from_now(now: DateTime<Utc>, actor: Option<Id>) -> Self {
        let actor_type = actor.as_ref().map(|_| "Organisation".to_string());
        Virkning { from: Some(Tidspunkt::at(now)), to: Some(Tidspunkt::Open), actor, actor_type, note: None }
    }

    /// In effect at `now`: started (or no start) and not ended.
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        let started = self.from.as_ref().and_then(Tidspunkt::instant).is_none_or(|from| from <= now);
        let ended = self.to.as_ref().and_then(Tidspunkt::instant).is_some_and(|to| to <= now);
        started && !ended
    }
}

/// A class reference with an optional label (`UuidLabelInputType`): a relation's Rolle or Type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub id: Id,
    pub label: Option<String>,
}

/// One relation of a unit, with every part the schema gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The element name: `Adresser`, `Opgaver`, `Overordnet`, `Tilhoerer`, ...
    pub kind: String,
    pub virkning: Option<Virkning>,
    pub reference: Option<Id>,
    /// `Adresser` and `Opgaver` only: Rolle, Type, Indeks.
    pub role: Option<Classified>,
    pub class: Option<Classified>,
    pub index: Option<String>,
}

impl Relation {
    /// In effect at `now` (a relation without a Virkning counts as in effect).
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        self.virkning.as_ref().is_none_or(|v| v.is_current(now))
    }

    /// The role's UUID, lower case.
    pub fn role_uuid(&self) -> Option<String> {
        self.role.as_ref().and_then(|r| r.id.as_uuid())
    }

    pub fn reference_uuid(&self) -> Option<String> {
        self.reference.as_ref().and_then(Id::as_uuid)
    }
}

/// The relation elements of a unit's `RelationListe`, in the order the schema demands.
const RELATION_ORDER: [&str; 16] = [
    "Adresser",
    "Ansatte",
    "Branche",
    "Enhedstype",
    "Opgaver",
    "Overordnet",
    "Produktionsenhed",
    "Skatteenhed",
    "Tilhoerer",
    "TilknyttedeBrugere",
    "TilknyttedeEnheder",
    "TilknyttedeFunktioner",
    "TilknyttedeInteressefaellesskaber",
    "TilknyttedeOrganisationer",
    "TilknyttedePersoner",
    "TilknyttedeItSystemer",
];

/// Relations with Rolle, Type and Indeks (`DynamicFlerRelationType`).
fn is_dynamic(kind: &str) -> bool {
    matches!(kind, "Adresser" | "Opgaver")
}

/// A unit as `organisationenhed laes` shows it (the newest registration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitRegistration {
    pub uuid: String,
    pub name: Option<String>,
    pub brugervendt_noegle: Option<String>,
    /// `Aktiv` or `Inaktiv` (the current Gyldighed).
    pub status: Option<String>,
    pub relations: Vec<Relation>,
}

impl UnitRegistration {
    /// The organisation the unit belongs to (`Tilhoerer`), the actor of our changes.
    pub fn organisation(&self) -> Option<&Id> {
        self.relations.iter().find(|r| r.kind == "Tilhoerer").and_then(|r| r.reference.as_ref())
    }

    /// The unit's address relations with `role` in effect at `now`.
    pub fn current_addresses<'a>(
        &'a self,
        role: &'a str,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &'a Relation> + 'a {
        self.relations
            .iter()
            .filter(move |r| r.kind == "Adresser" && r.is_current(now) && r.role_uuid().as_deref() == Some(role))
    }
}

/// An address object as `adresse laes` shows it (its property in effect now).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressRegistration {
    pub uuid: String,
    pub text: Option<String>,
    pub brugervendt_noegle: Option<String>,
}

// ---- building ----

/// A small writer of XML text; every text goes through the one escaper.
#[derive(Default)]
struct Xml(String);

impl Xml {
    fn open(&mut self, name: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
    }
    fn open_with_ns(&mut self, name: &str, ns: &[(&str, &str)]) {
        self.0.push('<');
        self.0.push_str(name);
        for (prefix, uri) in ns {
            self.0.push_str(&format!(" xmlns:{prefix}=\"{}\"", escape_xml(uri)));
        }
        self.0.push('>');
    }
    fn close(&mut self, name: &str) {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }
    fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        self.0.push_str(&escape_xml(text));
        self.close(name);
    }
    fn empty(&mut self, name: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push_str("/>");
    }
}

fn write_id(x: &mut Xml, id: &Id) {
    match id {
        Id::Uuid(u) => x.leaf("sd:UUIDIdentifikator", u),
        Id::Urn(u) => x.leaf("sd:URNIdentifikator", u),
    }
}

fn write_tidspunkt(x: &mut Xml, name: &str, t: &Tidspunkt) {
    x.open(name);
    match t {
        Tidspunkt::At(text) => x.leaf("sd:TidsstempelDatoTid", text),
        Tidspunkt::Open => x.leaf("sd:GraenseIndikator", "true"),
    }
    x.close(name);
}

fn write_virkning(x: &mut Xml, v: &Virkning) {
    x.open("sd:Virkning");
    if let Some(t) = &v.from {
        write_tidspunkt(x, "sd:FraTidspunkt", t);
    }
    if let Some(t) = &v.to {
        write_tidspunkt(x, "sd:TilTidspunkt", t);
    }
    if let Some(a) = &v.actor {
        x.open("sd:AktoerRef");
        write_id(x, a);
        x.close("sd:AktoerRef");
    }
    if let Some(t) = &v.actor_type {
        x.leaf("sd:AktoerTypeKode", t);
    }
    if let Some(n) = &v.note {
        x.leaf("sd:NoteTekst", n);
    }
    x.close("sd:Virkning");
}

fn write_classified(x: &mut Xml, name: &str, c: &Classified) {
    x.open(name);
    write_id(x, &c.id);
    if let Some(l) = &c.label {
        x.leaf("sd:Label", l);
    }
    x.close(name);
}

fn write_relation(x: &mut Xml, r: &Relation) -> Result<(), SoapError> {
    let name = format!("sd:{}", r.kind);
    x.open(&name);
    if let Some(v) = &r.virkning {
        write_virkning(x, v);
    }
    if let Some(id) = &r.reference {
        x.open("sd:ReferenceID");
        write_id(x, id);
        x.close("sd:ReferenceID");
    }
    if is_dynamic(&r.kind) {
        let missing = |what: &str| SoapError::Missing(format!("{what} of a {} relation", r.kind));
        write_classified(x, "sd:Rolle", r.role.as_ref().ok_or_else(|| missing("Rolle"))?);
        write_classified(x, "sd:Type", r.class.as_ref().ok_or_else(|| missing("Type"))?);
        x.leaf("sd:Indeks", r.index.as_deref().ok_or_else(|| missing("Indeks"))?);
    }
    x.close(&name);
    Ok(())
}

/// Writes `relations` in the schema's order (stable within one kind).
fn write_relation_list(x: &mut Xml, list_element: &str, relations: &[Relation]) -> Result<(), SoapError> {
    let mut ordered: Vec<(usize, &Relation)> = Vec::with_capacity(relations.len());
    for r in relations {
        let pos = RELATION_ORDER
            .iter()
            .position(|k| *k == r.kind)
            .ok_or_else(|| SoapError::UnknownRelation(r.kind.clone()))?;
        ordered.push((pos, r));
    }
    ordered.sort_by_key(|(pos, _)| *pos);
    x.open(list_element);
    for (_, r) in ordered {
        write_relation(x, r)?;
    }
    x.close(list_element);
    Ok(())
}

fn payload_open(x: &mut Xml, service: Service, element: &str) -> String {
    let name = format!("{}:{element}", service.prefix());
    let mut ns = vec![(service.prefix(), service.namespace()), ("sd", SAGDOK_NS)];
    match service {
        Service::Adresse => ns.push(("sts", STS_NS)),
        Service::OrganisationEnhed => ns.push(("orgf", ORG_FAELLES_NS)),
    }
    x.open_with_ns(&name, &ns);
    name
}

/// `LaesInput`: read one object by UUID.
pub fn laes_input(service: Service, uuid: &str) -> String {
    let mut x = Xml::default();
    let root = payload_open(&mut x, service, Operation::Laes.input_element());
    x.leaf("sd:UUIDIdentifikator", uuid);
    x.close(&root);
    x.0
}

/// An address object to create or change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressProperty<'a> {
    pub uuid: &'a str,
    pub text: &'a str,
    pub brugervendt_noegle: Option<&'a str>,
    pub virkning: Virkning,
}

fn write_address_attributes(x: &mut Xml, a: &AddressProperty<'_>) {
    x.open("adr:AttributListe");
    x.open("adr:Egenskab");
    write_virkning(x, &a.virkning);
    if let Some(b) = a.brugervendt_noegle {
        x.leaf("sd:BrugervendtNoegleTekst", b);
    }
    x.leaf("sts:AdresseTekst", a.text);
    x.close("adr:Egenskab");
    x.close("adr:AttributListe");
}

/// `adresse` `ImportInput`: a new address object (LivscyklusKode Importeret).
pub fn address_import_input(a: &AddressProperty<'_>, now: DateTime<Utc>) -> String {
    let mut x = Xml::default();
    let root = payload_open(&mut x, Service::Adresse, Operation::Importer.input_element());
    x.open("adr:Adresse");
    x.leaf("sd:UUIDIdentifikator", a.uuid);
    x.open("adr:Registrering");
    x.leaf("sd:Tidspunkt", &now.to_rfc3339_opts(SecondsFormat::Millis, true));
    x.leaf("sd:LivscyklusKode", "Importeret");
    write_address_attributes(&mut x, a);
    x.empty("adr:TilstandListe");
    x.empty("adr:RelationListe");
    x.close("adr:Registrering");
    x.close("adr:Adresse");
    x.close(&root);
    x.0
}

/// `adresse` `RetInput`: a new property (text) for an existing address object.
pub fn address_ret_input(a: &AddressProperty<'_>) -> String {
    let mut x = Xml::default();
    let root = payload_open(&mut x, Service::Adresse, Operation::Ret.input_element());
    x.leaf("sd:UUIDIdentifikator", a.uuid);
    write_address_attributes(&mut x, a);
    x.close(&root);
    x.0
}

/// `organisationenhed` `RetInput` with the unit's whole `RelationListe`.
pub fn unit_ret_input(uuid: &str, relations: &[Relation]) -> Result<String, SoapError> {
    let mut x = Xml::default();
    let root = payload_open(&mut x, Service::OrganisationEnhed, Operation::Ret.input_element());
    x.leaf("sd:UUIDIdentifikator", uuid);
    write_relation_list(&mut x, "oe:RelationListe", relations)?;
    x.close(&root);
    Ok(x.0)
}

/// A whole SOAP 1.2 envelope: KOMBIT's RequestHeader with `transaction`, and `payload` as Body.
pub fn envelope(transaction: &str, payload: &str) -> String {
    let mut x = Xml::default();
    x.0.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.open_with_ns("soap:Envelope", &[("soap", SOAP12_NS)]);
    x.open("soap:Header");
    x.open_with_ns("rh:RequestHeader", &[("rh", REQUEST_HEADER_NS)]);
    x.leaf("rh:TransactionUUID", transaction);
    x.close("rh:RequestHeader");
    x.close("soap:Header");
    x.open("soap:Body");
    x.0.push_str(payload);
    x.close("soap:Body");
    x.close("soap:Envelope");
    x.0
}

/// KOMBIT's RequestHeader with `transaction`, for the Header of a request.
pub fn request_header(transaction: &str) -> String {
    let mut x = Xml::default();
    x.open_with_ns("rh:RequestHeader", &[("rh", REQUEST_HEADER_NS)]);
    x.leaf("rh:TransactionUUID", transaction);
    x.close("rh:RequestHeader");
    x.0
}

/// A SOAP 1.2 fault: `code` is `Sender` or `Receiver`.
pub fn fault(code: &str, reason: &str) -> String {
    let mut x = Xml::default();
    x.0.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.open_with_ns("soap:Envelope", &[("soap", SOAP12_NS)]);
    x.open("soap:Body");
    x.open("soap:Fault");
    x.open("soap:Code");
    x.leaf("soap:Value", &format!("soap:{code}"));
    x.close("soap:Code");
    x.open("soap:Reason");
    x.0.push_str(r#"<soap:Text xml:lang="da">"#);
    x.0.push_str(&escape_xml(reason));
    x.close("soap:Text");
    x.close("soap:Reason");
    x.close("soap:Fault");
    x.close("soap:Body");
    x.close("soap:Envelope");
    x.0
}

fn write_standard_retur(x: &mut Xml, status: i64, message: Option<&str>) {
    x.open("sd:StandardRetur");
    x.leaf("sd:StatusKode", &status.to_string());
    if let Some(m) = message {
        x.leaf("sd:FejlbeskedTekst", m);
    }
    x.close("sd:StandardRetur");
}

/// An `*Output` holding only `StandardRetur` (importer, ret, or a laes that found nothing).
pub fn basic_output(service: Service, operation: Operation, status: i64, message: Option<&str>) -> String {
    let mut x = Xml::default();
    let root = payload_open(&mut x, service, operation.output_element());
    write_standard_retur(&mut x, status, message);
    x.close(&root);
    x.0
}

/// `adresse` `LaesOutput` with the object's one registration.
pub fn address_laes_output(a: &AddressProperty<'_>) -> String {
    let mut x = Xml::default();
    let root = payload_open(&mut x, Service::Adresse, Operation::Laes.output_element());
    write_standard_retur(&mut x, status::OK, None);
    x.open("adr:FiltreretOejebliksbillede");
    x.open("adr:ObjektType");
    x.leaf("sd:UUIDIdentifikator", a.uuid);
    x.close("adr:ObjektType");
    x.open("adr:Registrering");
    x.leaf("sd:LivscyklusKode", "Importeret");
    write_address_attributes(&mut x, a);
    x.empty("adr:TilstandListe");
    x.empty("adr:RelationListe");
    x.close("adr:Registrering");
    x.close("adr:FiltreretOejebliksbillede");
    x.close(&root);
    x.0
}

/// `organisationenhed` `LaesOutput` with the unit's one registration.
pub fn unit_laes_output(unit: &UnitRegistration) -> Result<String, SoapError> {
    let mut x = Xml::default();
    let root = payload_open(&mut x, Service::OrganisationEnhed, Operation::Laes.output_element());
    write_standard_retur(&mut x, status::OK, None);
    x.open("oe:FiltreretOejebliksbillede");
    x.open("oe:ObjektType");
    x.leaf("sd:UUIDIdentifikator", &unit.uuid);
    x.close("oe:ObjektType");
    x.open("oe:Registrering");
    x.leaf("sd:LivscyklusKode", "Importeret");
    x.open("oe:AttributListe");
    x.open("oe:Egenskab");
    write_virkning(&mut x, &Virkning { from: Some(Tidspunkt::Open), to: Some(Tidspunkt::Open), ..Virkning::default() });
    if let Some(b) = &unit.brugervendt_noegle {
        x.leaf("sd:BrugervendtNoegleTekst", b);
    }
    if let Some(n) = &unit.name {
        x.leaf("sd:EnhedNavn", n);
    }
    x.close("oe:Egenskab");
    x.close("oe:AttributListe");
    x.open("oe:TilstandListe");
    if let Some(s) = &unit.status {
        x.open("orgf:Gyldighed");
        write_virkning(
            &mut x,
            &Virkning { from: Some(Tidspunkt::Open), to: Some(Tidspunkt::Open), ..Virkning::default() },
        );
        x.leaf("orgf:GyldighedStatusKode", s);
        x.close("orgf:Gyldighed");
    }
    x.close("oe:TilstandListe");
    write_relation_list(&mut x, "oe:RelationListe", &unit.relations)?;
    x.close("oe:Registrering");
    x.close("oe:FiltreretOejebliksbillede");
    x.close(&root);
    Ok(x.0)
}

// ---- parsing ----

/// A parsed message: the RequestHeader's transaction (if any) and the Body's payload element.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) transaction: Option<String>,
    pub(crate) payload: Node,
}

/// Reads a SOAP 1.2 envelope. A Fault in the Body is returned as [`SoapError::Fault`].
pub(crate) fn parse_message(bytes: &[u8]) -> Result<Message, SoapError> {
    let root = parse_document(bytes)?;
    if root.name != "Envelope" || root.ns.as_deref() != Some(SOAP12_NS) {
        return Err(SoapError::NotSoap(format!(
            "the root element is {} in namespace {}; expected Envelope in {SOAP12_NS}",
            root.name,
            root.ns.as_deref().unwrap_or("(none)")
        )));
    }
    let transaction = root
        .child("Header")
        .and_then(|h| h.child("RequestHeader"))
        .and_then(|h| h.child("TransactionUUID"))
        .map(|t| t.value().to_string());
    let Node { children, .. } = root;
    let body = children
        .into_iter()
        .find(|c| c.name == "Body" && c.ns.as_deref() == Some(SOAP12_NS))
        .ok_or_else(|| SoapError::NotSoap("no Body".into()))?;
    let payload = body.children.into_iter().next().ok_or_else(|| SoapError::NotSoap("an empty Body".into()))?;
    if payload.name == "Fault" && payload.ns.as_deref() == Some(SOAP12_NS) {
        let code = payload
            .child("Code")
            .and_then(|c| c.child("Value"))
            .map(|v| v.value().rsplit(':').next().unwrap_or_default().to_string())
            .unwrap_or_else(|| "(no code)".into());
        let reason =
            payload.child("Reason").and_then(|r| r.child("Text")).map(|t| t.value().to_string()).unwrap_or_default();
        return Err(SoapError::Fault { code, reason });
    }
    Ok(Message { transaction, payload })
}

/// Checks that `payload` is `element` of `service`.
pub(crate) fn expect_element(payload: &Node, service: Service, element: &str) -> Result<(), SoapError> {
    if payload.name != element || payload.ns.as_deref() != Some(service.namespace()) {
        return Err(SoapError::NotSoap(format!(
            "expected {element} of {}, got {} in namespace {}",
            service.namespace(),
            payload.name,
            payload.ns.as_deref().unwrap_or("(none)")
        )));
    }
    Ok(())
}

/// `StandardRetur`: the status code and the error text.
pub(crate) fn standard_retur(output: &Node) -> Result<(i64, Option<String>), SoapError> {
    let retur = output.required("StandardRetur")?;
    let code = retur.required("StatusKode")?.value();
    let status = code.parse::<i64>().map_err(|_| SoapError::BadValue {
        element: "StatusKode".into(),
        value: code.to_string(),
        problem: "is not a number".into(),
    })?;
    let message = retur.child("FejlbeskedTekst").map(|m| m.value().to_string()).filter(|m| !m.is_empty());
    Ok((status, message))
}

fn id_of(node: &Node) -> Result<Id, SoapError> {
    if let Some(u) = node.child("UUIDIdentifikator") {
        let text = u.value();
        uuid::Uuid::parse_str(text).map_err(|_| SoapError::BadValue {
            element: format!("{}/UUIDIdentifikator", node.name),
            value: text.to_string(),
            problem: "is not a UUID".into(),
        })?;
        return Ok(Id::Uuid(text.to_ascii_lowercase()));
    }
    if let Some(u) = node.child("URNIdentifikator") {
        return Ok(Id::Urn(u.value().to_string()));
    }
    Err(SoapError::Missing(format!("UUIDIdentifikator or URNIdentifikator in {}", node.name)))
}

fn tidspunkt_of(node: &Node) -> Result<Tidspunkt, SoapError> {
    if let Some(t) = node.child("TidsstempelDatoTid") {
        let text = t.value();
        if super::fkorg_json::parse_iso_datetime(text).flatten().is_none() {
            return Err(SoapError::BadValue {
                element: format!("{}/TidsstempelDatoTid", node.name),
                value: text.to_string(),
                problem: "is not a date-time".into(),
            });
        }
        return Ok(Tidspunkt::At(text.to_string()));
    }
    if node.child("GraenseIndikator").is_some() {
        return Ok(Tidspunkt::Open);
    }
    Err(SoapError::Missing(format!("TidsstempelDatoTid or GraenseIndikator in {}", node.name)))
}

fn virkning_of(node: &Node) -> Result<Virkning, SoapError> {
    Ok(Virkning {
        from: node.child("FraTidspunkt").map(tidspunkt_of).transpose()?,
        to: node.child("TilTidspunkt").map(tidspunkt_of).transpose()?,
        actor: node.child("AktoerRef").map(id_of).transpose()?,
        actor_type: node.child("AktoerTypeKode").map(|n| n.value().to_string()),
        note: node.child("NoteTekst").map(|n| n.value().to_string()),
    })
}

fn classified_of(node: &Node) -> Result<Classified, SoapError> {
    Ok(Classified { id: id_of(node)?, label: node.child("Label").map(|l| l.value().to_string()) })
}

/// The relations of a `RelationListe`, each checked against the schema's shape.
pub(crate) fn relations_of(list: &Node) -> Result<Vec<Relation>, SoapError> {
    list.children
        .iter()
        .map(|r| {
            if !RELATION_ORDER.contains(&r.name.as_str()) {
                return Err(SoapError::UnknownRelation(r.name.clone()));
            }
            let dynamic = is_dynamic(&r.name);
            Ok(Relation {
                kind: r.name.clone(),
                virkning: r.child("Virkning").map(virkning_of).transpose()?,
                reference: r.child("ReferenceID").map(id_of).transpose()?,
                role: if dynamic { Some(classified_of(r.required("Rolle")?)?) } else { None },
                class: if dynamic { Some(classified_of(r.required("Type")?)?) } else { None },
                index: if dynamic { Some(r.required("Indeks")?.value().to_string()) } else { None },
            })
        })
        .collect()
}

/// The newest registration in a `LaesOutput`'s `FiltreretOejebliksbillede`, and the object's UUID.
fn newest_registration(output: &Node) -> Result<(String, &Node), SoapError> {
    let picture = output.required("FiltreretOejebliksbillede")?;
    let uuid = picture.required("ObjektType")?.required("UUIDIdentifikator")?.value().to_ascii_lowercase();
    let registration = picture
        .children
        .iter()
        .rfind(|c| c.name == "Registrering")
        .ok_or_else(|| SoapError::Missing("Registrering in FiltreretOejebliksbillede".into()))?;
    Ok((uuid, registration))
}

/// The property in effect at `now` among `Egenskab` elements (else the last one).
fn current_property(list: &Node, now: DateTime<Utc>) -> Result<Option<&Node>, SoapError> {
    let mut last = None;
    for e in list.children.iter().filter(|c| c.name == "Egenskab") {
        let current = e.child("Virkning").map(virkning_of).transpose()?.is_none_or(|v| v.is_current(now));
        if current {
            return Ok(Some(e));
        }
        last = Some(e);
    }
    Ok(last)
}

/// A unit from `organisationenhed` `LaesOutput`.
pub(crate) fn unit_of_laes_output(output: &Node, now: DateTime<Utc>) -> Result<UnitRegistration, SoapError> {
    let (uuid, reg) = newest_registration(output)?;
    let property = match reg.child("AttributListe") {
        Some(list) => current_property(list, now)?,
        None => None,
    };
    let status = reg
        .child("TilstandListe")
        .into_iter()
        .flat_map(|t| t.children.iter().filter(|c| c.name == "Gyldighed"))
        .find(|g| g.child("Virkning").map(virkning_of).and_then(Result::ok).is_none_or(|v| v.is_current(now)))
        .and_then(|g| g.child("GyldighedStatusKode"))
        .map(|s| s.value().to_string());
    let relations = match reg.child("RelationListe") {
        Some(list) => relations_of(list)?,
        None => Vec::new(),
    };
    Ok(UnitRegistration {
        uuid,
        name: property.and_then(|p| p.child("EnhedNavn")).map(|n| n.value().to_string()),
        brugervendt_noegle: property.and_then(|p| p.child("BrugervendtNoegleTekst")).map(|n| n.value().to_string()),
        status,
        relations,
    })
}

/// An address from `adresse` `LaesOutput`.
pub(crate) fn address_of_laes_output(output: &Node, now: DateTime<Utc>) -> Result<AddressRegistration, SoapError> {
    let (uuid, reg) = newest_registration(output)?;
    let property = match reg.child("AttributListe") {
        Some(list) => current_property(list, now)?,
        None => None,
    };
    Ok(AddressRegistration {
        uuid,
        text: property.and_then(|p| p.child("AdresseTekst")).map(|n| n.value().to_string()),
        brugervendt_noegle: property.and_then(|p| p.child("BrugervendtNoegleTekst")).map(|n| n.value().to_string()),
    })
}

/// A request as the stand-in reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Laes {
        uuid: String,
    },
    AddressImport {
        uuid: String,
        text: String,
        brugervendt_noegle: Option<String>,
    },
    AddressRet {
        uuid: String,
        text: String,
    },
    /// `relations: None` when the RetInput carries no RelationListe; `other_lists` names the
    /// AttributListe/TilstandListe it carries.
    UnitRet {
        uuid: String,
        relations: Option<Vec<Relation>>,
        other_lists: Vec<String>,
    },
}

fn address_text(attributes: &Node, now: DateTime<Utc>) -> Result<(String, Option<String>), SoapError> {
    let property = current_property(attributes, now)?.ok_or_else(|| SoapError::Missing("Egenskab".into()))?;
    let text = property.required("AdresseTekst")?.value().to_string();
    let bvn = property.child("BrugervendtNoegleTekst").map(|n| n.value().to_string());
    Ok((text, bvn))
}

/// Reads a request to `service`: the operation and what it carries; the transaction id too.
pub fn parse_request(
    service: Service,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<(Operation, Request, Option<String>), SoapError> {
    let Message { transaction, payload } = parse_message(bytes)?;
    if payload.ns.as_deref() != Some(service.namespace()) {
        return Err(SoapError::NotSoap(format!(
            "the Body holds {} in namespace {}; this endpoint serves {}",
            payload.name,
            payload.ns.as_deref().unwrap_or("(none)"),
            service.namespace()
        )));
    }
    let op = Operation::from_input_element(&payload.name)
        .ok_or_else(|| SoapError::NotSoap(format!("operation {} is not served here", payload.name)))?;
    let uuid_of = |n: &Node| -> Result<String, SoapError> {
        let text = n.required("UUIDIdentifikator")?.value();
        uuid::Uuid::parse_str(text).map_err(|_| SoapError::BadValue {
            element: "UUIDIdentifikator".into(),
            value: text.to_string(),
            problem: "is not a UUID".into(),
        })?;
        Ok(text.to_ascii_lowercase())
    };
    let request = match (service, op) {
        (_, Operation::Laes) => Request::Laes { uuid: uuid_of(&payload)? },
        (Service::Adresse, Operation::Importer) => {
            let adresse = payload.required("Adresse")?;
            let reg = adresse.required("Registrering")?;
            let (text, brugervendt_noegle) = address_text(reg.required("AttributListe")?, now)?;
            Request::AddressImport { uuid: uuid_of(adresse)?, text, brugervendt_noegle }
        }
        (Service::Adresse, Operation::Ret) => {
            let (text, _) = address_text(payload.required("AttributListe")?, now)?;
            Request::AddressRet { uuid: uuid_of(&payload)?, text }
        }
        (Service::OrganisationEnhed, Operation::Ret) => Request::UnitRet {
            uuid: uuid_of(&payload)?,
            relations: payload.child("RelationListe").map(relations_of).transpose()?,
            other_lists: ["AttributListe", "TilstandListe"]
                .into_iter()
                .filter(|n| payload.child(n).is_some())
                .map(str::to_string)
                .collect(),
        },
        (Service::OrganisationEnhed, Operation::Importer) => {
            return Err(SoapError::NotSoap("importer of organisation units is not served here".into()))
        }
    };
    Ok((op, request, transaction))
}

/// The payload of a `soap:Body` in an envelope built by [`envelope`] (for validating it alone).
/// Also for a signed request, whose Body carries a `wsu:Id`.
pub fn body_payload(envelope: &str) -> Option<&str> {
    let open = envelope.find("<soap:Body")?;
    let start = open + envelope[open..].find('>')? + 1;
    let end = envelope.rfind("</soap:Body>")?;
    envelope.get(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn unit() -> UnitRegistration {
        let dynamic = |kind: &str, reference: &str, role: &str, index: &str| Relation {
            kind: kind.into(),
            virkning: Some(Virkning { from: Some(Tidspunkt::Open), ..Virkning::default() }),
            reference: Some(Id::uuid(reference)),
            role: Some(Classified { id: Id::uuid(role), label: Some("x & y".into()) }),
            class: Some(Classified { id: Id::uuid(UNIT_ADDRESS_TYPE), label: None }),
            index: Some(index.into()),
        };
        UnitRegistration {
            uuid: "0b0e5a2e-6d38-4c1b-9c39-00000000000a".into(),
            name: Some("Sundhed & Omsorg".into()),
            brugervendt_noegle: Some("SO".into()),
            status: Some("Aktiv".into()),
            relations: vec![
                Relation {
                    kind: "Tilhoerer".into(),
                    virkning: None,
                    reference: Some(Id::uuid("0b0e5a2e-6d38-4c1b-9c39-00000000000b")),
                    role: None,
                    class: None,
                    index: None,
                },
                dynamic("Opgaver", "0b0e5a2e-6d38-4c1b-9c39-00000000000c", "0b0e5a2e-6d38-4c1b-9c39-00000000000d", "1"),
                dynamic("Adresser", "0b0e5a2e-6d38-4c1b-9c39-00000000000e", UNIT_ADDRESS_TYPE, "2"),
            ],
        }
    }

    #[test]
    fn a_unit_survives_laes_output_and_reading_back_with_its_relations_in_schema_order() {
        let u = unit();
        let payload = unit_laes_output(&u).unwrap();
        let env = envelope("t-1", &payload);
        let msg = parse_message(env.as_bytes()).unwrap();
        assert_eq!(msg.transaction.as_deref(), Some("t-1"));
        let back = unit_of_laes_output(&msg.payload, now()).unwrap();
        assert_eq!(back.name, u.name);
        assert_eq!(back.status.as_deref(), Some("Aktiv"));
        let kinds: Vec<&str> = back.relations.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["Adresser", "Opgaver", "Tilhoerer"], "schema order");
        let mut expected = u.relations.clone();
        expected.sort_by_key(|r| RELATION_ORDER.iter().position(|k| *k == r.kind));
        assert_eq!(back.relations, expected);
        assert_eq!(back.organisation(), Some(&Id::uuid("0b0e5a2e-6d38-4c1b-9c39-00000000000b")));
    }

    #[test]
    fn a_relation_outside_the_schema_is_refused_not_dropped() {
        let mut u = unit();
        u.relations[0].kind = "Noget".into();
        assert_eq!(unit_ret_input(&u.uuid, &u.relations), Err(SoapError::UnknownRelation("Noget".into())));
    }

    #[test]
    fn an_ended_relation_is_not_current() {
        let mut v = Virkning::from_now(now() - chrono::Duration::days(2), None);
        assert!(v.is_current(now()));
        v.to = Some(Tidspunkt::at(now() - chrono::Duration::days(1)));
        assert!(!v.is_current(now()));
    }

    #[test]
    fn faults_and_garbage_are_errors_not_panics() {
        let f = fault("Receiver", "nede");
        let err = parse_message(f.as_bytes()).unwrap_err();
        assert!(err.is_temporary(), "{err}");
        assert!(!parse_message(fault("Sender", "forkert").as_bytes()).unwrap_err().is_temporary());
        for bad in ["", "<a>", "<x:Envelope xmlns:x=\"urn:other\"/>", "\u{0}\u{1}"] {
            assert!(parse_message(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn requests_are_read_back_as_built() {
        let a = AddressProperty {
            uuid: "0b0e5a2e-6d38-4c1b-9c39-00000000000f",
            text: "347801000016001",
            brugervendt_noegle: Some("sor"),
            virkning: Virkning::from_now(now(), None),
        };
        let env = envelope("t", &address_import_input(&a, now()));
        let (op, req, _) = parse_request(Service::Adresse, env.as_bytes(), now()).unwrap();
        assert_eq!(op, Operation::Importer);
        assert_eq!(
            req,
            Request::AddressImport { uuid: a.uuid.into(), text: a.text.into(), brugervendt_noegle: Some("sor".into()) }
        );
        let u = unit();
        let env = envelope("t", &unit_ret_input(&u.uuid, &u.relations).unwrap());
        assert!(parse_request(Service::Adresse, env.as_bytes(), now()).is_err(), "wrong endpoint");
        let (_, req, _) = parse_request(Service::OrganisationEnhed, env.as_bytes(), now()).unwrap();
        let Request::UnitRet { relations: Some(r), .. } = req else { panic!("{req:?}") };
        assert_eq!(r.len(), 3);
    }
}
