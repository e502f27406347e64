//! Streaming reader for the SOR XML export (1.0.0, and the national 2.0.0 file).
//!
//! The file nests `InstitutionOwnerEntity > HealthInstitutionEntity > OrganizationalUnitEntity`
//! (OE entities nest in each other to any depth); each entity holds its record element
//! (`InstitutionOwner`, `HealthInstitution`, `OrganizationalUnit`) first, then its children. Elements
//! are matched on their local names, so any namespace prefix (`xkom-1:`, `dkcc:`, `dkcc2005:`) works;
//! only the root's namespace is checked. Elements we do not use are skipped whole.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::PrefixDeclaration;
use quick_xml::Reader;

use super::sor_record::{line_of, tree_error_record, FieldNames, Location, RawAddress, RawUnit};
use super::{Problem, ReadError, RecordRef};
use crate::domain::{SorId, SorKind, SorTree, SorUnit};

/// Namespaces of the root `SorTree` element we accept: the 1.0.0 export and the national 2.0.0 file.
pub const SOR_XML_NAMESPACES: [&str; 2] =
    ["urn:oio:sundhedsstyrelsen:organisation:1.0.0", "urn:oio:sundhedsstyrelsen:organisation:2.0.0"];

const FIELD_NAMES: FieldNames = FieldNames {
    sor_id: "SorIdentifier",
    name: "EntityName",
    ean: "EanLocationCode",
    ean_inherited: "EntityInheritedIndicator",
    from: "FromDate",
    to: "ToDate",
    updated_at: "UpdatedAt",
    first_from: "FirstFromDate",
};

/// The elements the reader knows. Everything else is [`Tag::Other`] and skipped with its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Other,
    SorTree,
    OwnerEntity,
    InstitutionEntity,
    UnitEntity,
    Owner,
    Institution,
    Unit,
    SorIdentifier,
    EntityName,
    UnitType,
    ShakIdentifier,
    EanLocationCodeEntity,
    OptionalEanLocationCode,
    EanLocationCode,
    EntityInheritedIndicator,
    PostalAddress,
    VisitingAddress,
    ActivityAddress,
    AddressPostal,
    StreetName,
    StreetBuilding,
    Floor,
    Suite,
    PostCode,
    District,
    VirtualAddress,
    Telephone,
    Email,
    Website,
    SorStatus,
    FromDate,
    ToDate,
    UpdatedAt,
    FirstFromDate,
}

fn tag_of(local_name: &[u8]) -> Tag {
    match local_name {
        b"SorTree" => Tag::SorTree,
        b"InstitutionOwnerEntity" => Tag::OwnerEntity,
        b"HealthInstitutionEntity" => Tag::InstitutionEntity,
        b"OrganizationalUnitEntity" => Tag::UnitEntity,
        b"InstitutionOwner" => Tag::Owner,
        b"HealthInstitution" => Tag::Institution,
        b"OrganizationalUnit" => Tag::Unit,
        b"SorIdentifier" => Tag::SorIdentifier,
        b"EntityName" => Tag::EntityName,
        b"UnitType" | b"InstitutionType" | b"OwnerType" => Tag::UnitType,
        b"ShakIdentifier" => Tag::ShakIdentifier,
        b"EanLocationCodeEntity" => Tag::EanLocationCodeEntity,
        b"OptionalEanLocationCode" => Tag::OptionalEanLocationCode,
        b"EanLocationCode" => Tag::EanLocationCode,
        b"EntityInheritedIndicator" => Tag::EntityInheritedIndicator,
        b"PostalAddressInformation" => Tag::PostalAddress,
        b"VisitingAddressInformation" => Tag::VisitingAddress,
        b"ActivityAddressInformation" => Tag::ActivityAddress,
        b"AddressPostal" => Tag::AddressPostal,
        b"StreetName" => Tag::StreetName,
        b"StreetBuildingIdentifier" => Tag::StreetBuilding,
        b"FloorIdentifier" => Tag::Floor,
        b"SuiteIdentifier" => Tag::Suite,
        b"PostCodeIdentifier" => Tag::PostCode,
        b"DistrictName" => Tag::District,
        b"VirtualAddressInformation" => Tag::VirtualAddress,
        b"TelephoneNumberIdentifier" => Tag::Telephone,
        b"EmailAddressIdentifier" => Tag::Email,
        b"Website" => Tag::Website,
        b"SorStatus" => Tag::SorStatus,
        b"FromDate" => Tag::FromDate,
        b"ToDate" => Tag::ToDate,
        b"UpdatedAt" => Tag::UpdatedAt,
        b"FirstFromDate" => Tag::FirstFromDate,
        _ => Tag::Other,
    }
}

impl Tag {
    fn is_record(self) -> bool {
        matches!(self, Tag::Owner | Tag::Institution | Tag::Unit)
    }
    fn kind(self) -> Option<SorKind> {
        match self {
            Tag::Owner | Tag::OwnerEntity => Some(SorKind::InstitutionOwner),
            Tag::Institution | Tag::InstitutionEntity => Some(SorKind::HealthInstitution),
            Tag::Unit | Tag::UnitEntity => Some(SorKind::OrganizationalUnit),
            _ => None,
        }
    }
}

fn entity_element(kind: SorKind) -> &'static str {
    match kind {
        SorKind::InstitutionOwner => "InstitutionOwnerEntity",
        SorKind::HealthInstitution => "HealthInstitutionEntity",
        SorKind::OrganizationalUnit => "OrganizationalUnitEntity",
    }
}

fn record_element(kind: SorKind) -> &'static str {
    match kind {
        SorKind::InstitutionOwner => "InstitutionOwner",
        SorKind::HealthInstitution => "HealthInstitution",
        SorKind::OrganizationalUnit => "OrganizationalUnit",
    }
}

/// Text of one address; buffers are reused from record to record.
#[derive(Debug, Default)]
struct AddressText {
    street: String,
    building: String,
    floor: String,
    suite: String,
    postcode: String,
    district: String,
}

impl AddressText {
    fn clear(&mut self) {
        for s in [
            &mut self.street,
            &mut self.building,
            &mut self.floor,
            &mut self.suite,
            &mut self.postcode,
            &mut self.district,
        ] {
            s.clear();
        }
    }
    fn raw(&self) -> RawAddress<'_> {
        RawAddress {
            street: &self.street,
            building: &self.building,
            floor: &self.floor,
            suite: &self.suite,
            postcode: &self.postcode,
            district: &self.district,
        }
    }
    fn field(&mut self, tag: Tag) -> Option<&mut String> {
        match tag {
            Tag::StreetName => Some(&mut self.street),
            Tag::StreetBuilding => Some(&mut self.building),
            Tag::Floor => Some(&mut self.floor),
            Tag::Suite => Some(&mut self.suite),
            Tag::PostCode => Some(&mut self.postcode),
            Tag::District => Some(&mut self.district),
            _ => None,
        }
    }
}

/// Text of the record being read; buffers are reused from record to record.
#[derive(Debug, Default)]
struct RecordText {
    sor_id: String,
    name: String,
    unit_type: String,
    shak: String,
    ean: String,
    ean_inherited: String,
    postal: AddressText,
    visiting: AddressText,
    activity: AddressText,
    phone: String,
    email: String,
    website: String,
    from: String,
    to: String,
    updated_at: String,
    first_from: String,
}

impl RecordText {
    fn clear(&mut self) {
        for s in [
            &mut self.sor_id,
            &mut self.name,
            &mut self.unit_type,
            &mut self.shak,
            &mut self.ean,
            &mut self.ean_inherited,
            &mut self.phone,
            &mut self.email,
            &mut self.website,
            &mut self.from,
            &mut self.to,
            &mut self.updated_at,
            &mut self.first_from,
        ] {
            s.clear();
        }
        self.postal.clear();
        self.visiting.clear();
        self.activity.clear();
    }

    fn raw(&self, kind: SorKind, parent: Option<SorId>) -> RawUnit<'_> {
        RawUnit {
            kind,
            sor_id: &self.sor_id,
            name: &self.name,
            parent,
            unit_type: &self.unit_type,
            shak: &self.shak,
            ean: &self.ean,
            ean_inherited: &self.ean_inherited,
            postal: self.postal.raw(),
            visiting: self.visiting.raw(),
            activity: self.activity.raw(),
            phone: &self.phone,
            email: &self.email,
            website: &self.website,
            from: &self.from,
            to: &self.to,
            updated_at: &self.updated_at,
            first_from: &self.first_from,
        }
    }

    /// The buffer a leaf element's text goes to, judged by the element and the elements around
    /// it (`stack` ends with the leaf itself). `None` for text the reader does not use.
    fn field_for(&mut self, stack: &[Tag]) -> Option<&mut String> {
        let n = stack.len();
        let (leaf, parent) = (stack[n - 1], *stack.get(n.wrapping_sub(2))?);
        let grandparent = n.checked_sub(3).map(|i| stack[i]).unwrap_or(Tag::Other);
        match leaf {
            Tag::SorIdentifier if parent.is_record() => Some(&mut self.sor_id),
            Tag::EntityName if parent.is_record() => Some(&mut self.name),
            Tag::UnitType if parent.is_record() => Some(&mut self.unit_type),
            Tag::ShakIdentifier if parent.is_record() => Some(&mut self.shak),
            Tag::EanLocationCode
                if parent == Tag::EanLocationCodeEntity
                    && (grandparent.is_record() || grandparent == Tag::OptionalEanLocationCode) =>
            {
                Some(&mut self.ean)
            }
            Tag::EntityInheritedIndicator if parent == Tag::OptionalEanLocationCode => Some(&mut self.ean_inherited),
            Tag::Telephone if parent == Tag::VirtualAddress => Some(&mut self.phone),
            Tag::Email if parent == Tag::VirtualAddress => Some(&mut self.email),
            Tag::Website if parent == Tag::VirtualAddress => Some(&mut self.website),
            Tag::FromDate | Tag::ToDate | Tag::UpdatedAt | Tag::FirstFromDate
                if parent == Tag::SorStatus && grandparent.is_record() =>
            {
                Some(match leaf {
                    Tag::FromDate => &mut self.from,
                    Tag::ToDate => &mut self.to,
                    Tag::UpdatedAt => &mut self.updated_at,
                    _ => &mut self.first_from,
                })
            }
            Tag::StreetName | Tag::StreetBuilding | Tag::Floor | Tag::Suite | Tag::PostCode | Tag::District => {
                // Usually inside xkom:AddressPostal; accept the fields directly in the address too.
                let holder = if parent == Tag::AddressPostal { grandparent } else { parent };
                let address = match holder {
                    Tag::PostalAddress => &mut self.postal,
                    Tag::VisitingAddress => &mut self.visiting,
                    Tag::ActivityAddress => &mut self.activity,
                    _ => return None,
                };
                address.field(leaf)
            }
            _ => None,
        }
    }
}

/// An open `...Entity` element.
#[derive(Debug)]
struct EntityFrame {
    kind: SorKind,
    parent: Option<SorId>,
    /// Index in the unit list once the entity's record has been read.
    unit: Option<usize>,
}

struct XmlReader<'a> {
    path: &'a Path,
    /// The whole file, for line numbers in errors.
    bytes: &'a [u8],
    /// Length of the BOM skipped before the XML text (reader positions are relative to the text).
    offset: usize,
    stack: Vec<Tag>,
    entities: Vec<EntityFrame>,
    record: RecordText,
    /// Kind and start position of the record element being read, if any.
    open_record: Option<(SorKind, usize)>,
    text: String,
    units: Vec<SorUnit>,
    /// Byte position of each unit's record element, for line numbers in structural errors.
    unit_positions: Vec<usize>,
    root_seen: bool,
}

/// Reads a whole SOR XML file from `bytes` (may start with a BOM). `path` is used in errors.
pub fn read_sor_xml(path: &Path, bytes: &[u8]) -> Result<SorTree, ReadError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ReadError::new(path, Problem::InvalidUtf8 { offset: e.valid_up_to() }))?;
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if body.trim().is_empty() {
        return Err(ReadError::new(path, Problem::Empty));
    }
    let mut reader = XmlReader {
        path,
        bytes,
        offset: text.len() - body.len(),
        stack: Vec::with_capacity(32),
        entities: Vec::with_capacity(16),
        record: RecordText::default(),
        open_record: None,
        text: String::with_capacity(256),
        units: Vec::new(),
        unit_positions: Vec::new(),
        root_seen: false,
    };
    reader.read(body)?;
    let XmlReader { units, unit_positions, .. } = reader;
    let ids: Vec<SorId> = units.iter().map(|u| u.sor_id).collect();
    SorTree::new(units).map_err(|err| {
        let record = tree_error_record(&err).map(|(id, name)| {
            // The later record is the one in error (the second of two duplicates).
            let at = SorId::parse(id).ok().and_then(|id| ids.iter().rposition(|&i| i == id)).map(|i| unit_positions[i]);
            let id = match at {
                Some(pos) => format!("{id} at line {}", line_of(bytes, pos)),
                None => id.to_string(),
            };
            RecordRef { id, name: Some(name.to_string()) }
        });
        match record {
            Some(r) => ReadError::at(path, r, Problem::Structure(err)),
            None => ReadError::new(path, Problem::Structure(err)),
        }
    })
}

impl<'a> XmlReader<'a> {
    fn read(&mut self, body: &str) -> Result<(), ReadError> {
        let mut xml = Reader::from_str(body);
        xml.config_mut().trim_text(true);
        loop {
            let event = xml.read_event().map_err(|e| self.xml_error(&xml, e))?;
            match event {
                Event::Start(e) => {
                    let tag = tag_of(e.local_name().as_ref());
                    if self.stack.is_empty() {
                        self.check_root(&e, &xml)?;
                    } else if tag == Tag::Other || tag == Tag::SorTree {
                        xml.read_to_end(e.name()).map_err(|err| self.xml_error(&xml, err))?;
                        continue;
                    }
                    self.start(tag, &xml)?;
                }
                Event::Empty(e) => {
                    let tag = tag_of(e.local_name().as_ref());
                    if self.stack.is_empty() {
                        self.check_root(&e, &xml)?;
                    } else if tag == Tag::Other || tag == Tag::SorTree {
                        continue;
                    }
                    self.start(tag, &xml)?;
                    self.end(&xml)?;
                }
                Event::End(_) => self.end(&xml)?,
                Event::Text(t) => {
                    if !self.stack.is_empty() {
                        let s = t.unescape().map_err(|e| self.xml_error(&xml, e))?;
                        self.text.push_str(&s);
                    }
                }
                Event::CData(t) => {
                    if !self.stack.is_empty() {
                        let s = t.decode().map_err(|e| self.xml_error(&xml, e.into()))?;
                        self.text.push_str(&s);
                    }
                }
                Event::Eof => {
                    if self.stack.is_empty() {
                        if !self.root_seen {
                            return Err(self.position_error("the file holds no root element".into(), &xml));
                        }
                        return Ok(());
                    }
                    return Err(self.truncated());
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            }
        }
    }

    fn check_root(&mut self, e: &BytesStart<'_>, xml: &Reader<&[u8]>) -> Result<(), ReadError> {
        if self.root_seen {
            return Err(self.position_error("more content after the SorTree element".into(), xml));
        }
        let name = e.name();
        let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        if local != "SorTree" {
            return Err(ReadError::new(self.path, Problem::WrongRoot { found: local }));
        }
        let prefix = name.prefix();
        let mut namespace = None;
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.xml_error(xml, err.into()))?;
            let declares = match (attr.key.as_namespace_binding(), prefix) {
                (Some(PrefixDeclaration::Default), None) => true,
                (Some(PrefixDeclaration::Named(p)), Some(q)) => p == q.as_ref(),
                _ => false,
            };
            if declares {
                namespace = Some(String::from_utf8_lossy(&attr.value).into_owned());
            }
        }
        match namespace {
            Some(ns) if SOR_XML_NAMESPACES.contains(&ns.trim()) => Ok(()),
            Some(ns) => {
                Err(ReadError::new(self.path, Problem::WrongRoot { found: format!("SorTree in namespace {ns}") }))
            }
            None => Err(ReadError::new(self.path, Problem::WrongRoot { found: "SorTree without a namespace".into() })),
        }
    }

    fn start(&mut self, tag: Tag, xml: &Reader<&[u8]>) -> Result<(), ReadError> {
        self.text.clear();
        let parent = self.stack.last().copied();
        match tag {
            Tag::OwnerEntity | Tag::InstitutionEntity | Tag::UnitEntity => {
                let kind = tag.kind().unwrap_or(SorKind::OrganizationalUnit);
                let allowed = match tag {
                    Tag::OwnerEntity => parent == Some(Tag::SorTree),
                    Tag::InstitutionEntity => parent == Some(Tag::OwnerEntity),
                    _ => matches!(parent, Some(Tag::InstitutionEntity | Tag::UnitEntity)),
                };
                if !allowed {
                    return Err(self.misplaced(entity_element(kind), xml));
                }
                let parent_id = match self.entities.last() {
                    None => None,
                    Some(frame) => match frame.unit {
                        Some(i) => Some(self.units[i].sor_id),
                        None => {
                            let message = format!(
                                "{} starts before its parent's {} record is complete",
                                entity_element(kind),
                                record_element(frame.kind)
                            );
                            return Err(self.position_error(message, xml));
                        }
                    },
                };
                self.entities.push(EntityFrame { kind, parent: parent_id, unit: None });
            }
            Tag::Owner | Tag::Institution | Tag::Unit => {
                let kind = tag.kind().unwrap_or(SorKind::OrganizationalUnit);
                let fits = matches!(self.entities.last(), Some(f) if f.kind == kind && f.unit.is_none())
                    && parent.and_then(Tag::kind) == Some(kind);
                if !fits || self.open_record.is_some() {
                    return Err(self.misplaced(record_element(kind), xml));
                }
                self.record.clear();
                self.open_record = Some((kind, self.offset + xml.buffer_position() as usize));
            }
            Tag::SorTree => self.root_seen = true,
            _ => {}
        }
        self.stack.push(tag);
        Ok(())
    }

    fn end(&mut self, xml: &Reader<&[u8]>) -> Result<(), ReadError> {
        let Some(&tag) = self.stack.last() else {
            return Ok(());
        };
        match tag {
            Tag::Owner | Tag::Institution | Tag::Unit => self.finish_record()?,
            Tag::OwnerEntity | Tag::InstitutionEntity | Tag::UnitEntity => {
                if let Some(frame) = self.entities.pop() {
                    if frame.unit.is_none() {
                        let message =
                            format!("{} without its {} record", entity_element(frame.kind), record_element(frame.kind));
                        return Err(self.position_error(message, xml));
                    }
                }
            }
            _ => {
                if self.open_record.is_some() {
                    if let Some(field) = self.record.field_for(&self.stack) {
                        field.push_str(&self.text);
                    }
                }
            }
        }
        self.text.clear();
        self.stack.pop();
        Ok(())
    }

    fn finish_record(&mut self) -> Result<(), ReadError> {
        let Some((kind, position)) = self.open_record.take() else {
            return Ok(());
        };
        let parent = self.entities.last().and_then(|f| f.parent);
        let location = Location::Byte { bytes: self.bytes, offset: position };
        let unit = self.record.raw(kind, parent).into_unit(self.path, &FIELD_NAMES, record_element(kind), location)?;
        if let Some(frame) = self.entities.last_mut() {
            frame.unit = Some(self.units.len());
        }
        self.units.push(unit);
        self.unit_positions.push(position);
        Ok(())
    }

    /// The file ends inside an open element: name the innermost record we know of.
    fn truncated(&self) -> ReadError {
        if let Some((kind, position)) = self.open_record {
            let location = Location::Byte { bytes: self.bytes, offset: position };
            let record = self.record.raw(kind, None).record_ref(record_element(kind), location);
            return ReadError::at(self.path, record, Problem::Truncated);
        }
        let last = self.entities.iter().rev().find_map(|f| f.unit);
        match last {
            Some(i) => {
                let u = &self.units[i];
                let location = line_of(self.bytes, self.unit_positions[i]);
                let record = RecordRef { id: format!("{} at line {location}", u.sor_id), name: Some(u.name.clone()) };
                ReadError::at(self.path, record, Problem::Truncated)
            }
            None => ReadError::new(self.path, Problem::Truncated),
        }
    }

    fn misplaced(&self, element: &str, xml: &Reader<&[u8]>) -> ReadError {
        let inside = match self.stack.last() {
            Some(&Tag::SorTree) => "SorTree".to_string(),
            Some(&tag) => match tag.kind() {
                Some(kind) if tag.is_record() => record_element(kind).to_string(),
                Some(kind) => entity_element(kind).to_string(),
                None => format!("{tag:?}"),
            },
            None => String::new(),
        };
        self.position_error(format!("{element} is not allowed here (inside {inside})"), xml)
    }

    fn position_error(&self, message: String, xml: &Reader<&[u8]>) -> ReadError {
        let position = self.offset + xml.buffer_position() as usize;
        let message = format!("{message} (line {})", line_of(self.bytes, position));
        ReadError::new(self.path, Problem::Xml { position: position as u64, message })
    }

    fn xml_error(&self, xml: &Reader<&[u8]>, err: quick_xml::Error) -> ReadError {
        use quick_xml::errors::{IllFormedError, SyntaxError};
        match err {
            quick_xml::Error::Syntax(
                SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedPIOrXmlDecl,
            )
            | quick_xml::Error::IllFormed(IllFormedError::MissingEndTag(_)) => self.truncated(),
            other => {
                // Escape errors come from decoding a text event the reader has already passed.
                let position = match other {
                    quick_xml::Error::Escape(_) => xml.buffer_position(),
                    _ => xml.error_position(),
                };
                let position = self.offset + position as usize;
                let message = format!("{other} (line {})", line_of(self.bytes, position));
                ReadError::new(self.path, Problem::Xml { position: position as u64, message })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SorTree xmlns="urn:oio:sundhedsstyrelsen:organisation:1.0.0" xmlns:x="urn:unknown">
  <CreatedAtTime>2010-01-26T00:00:00+01:00</CreatedAtTime>
  <InstitutionOwnerEntity>
    <x:Extension><InstitutionOwner><SorIdentifier>1</SorIdentifier></InstitutionOwner></x:Extension>
    <InstitutionOwner>
      <SorIdentifier>347801000016001</SorIdentifier>
      <EntityName>Roskilde Øjenklinik</EntityName>
      <x:Unknown a="1"><SorIdentifier>999</SorIdentifier></x:Unknown>
      <SorStatus><FromDate>2009-10-08</FromDate><FirstFromDate>2009-10-08</FirstFromDate></SorStatus>
    </InstitutionOwner>
  </InstitutionOwnerEntity>
</SorTree>"#;

    fn read(text: &[u8]) -> Result<SorTree, ReadError> {
        read_sor_xml(Path::new("t.xml"), text)
    }

    #[test]
    fn unknown_elements_are_skipped_with_everything_inside_them() {
        let tree = read(SMALL.as_bytes()).expect("reads");
        assert_eq!(tree.len(), 1);
        assert_eq!(tree.units[0].sor_id.to_string(), "347801000016001");
    }

    #[test]
    fn a_file_with_a_bom_reads_like_one_without() {
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), SMALL.as_bytes()].concat();
        assert_eq!(read(&with_bom).expect("reads").units, read(SMALL.as_bytes()).expect("reads").units);
    }

    #[test]
    fn a_record_outside_its_entity_is_a_structure_error() {
        let text = SMALL.replace("<InstitutionOwnerEntity>", "").replace("</InstitutionOwnerEntity>", "");
        let err = read(text.as_bytes()).expect_err("misplaced record");
        assert!(err.to_string().contains("InstitutionOwner is not allowed here (inside SorTree)"), "{err}");
    }

    #[test]
    fn errors_after_a_bom_point_at_the_right_byte() {
        let text = "\u{feff}<SorTree xmlns=\"urn:oio:sundhedsstyrelsen:organisation:1.0.0\"></Other>";
        let err = read(text.as_bytes()).expect_err("mismatched end tag");
        assert!(matches!(err.problem, Problem::Xml { position: 65, .. }), "{err}");
    }
}
