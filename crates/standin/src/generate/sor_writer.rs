//! Writes SOR units as a SOR XML 1.0.0 export (`SorTree` > `InstitutionOwnerEntity` >
//! `HealthInstitutionEntity` > nested `OrganizationalUnitEntity`), in the element order the XSD wants.

use std::collections::HashMap;
use std::io::{self, Write};

use chrono::NaiveDate;

use super::codes;
use crate::domain::{Address, SorId, SorKind, SorUnit};
use crate::markup::escape_xml;

const NAMESPACES: &str = concat!(
    " xmlns:xkom-1=\"http://rep.oio.dk/xkom.dk/xml/schemas/2006/01/06/\"",
    " xmlns:dkcc=\"http://rep.oio.dk/ebxml/xml/schemas/dkcc/2003/02/13/\"",
    " xmlns:dkcc2005=\"http://rep.oio.dk/ebxml/xml/schemas/dkcc/2005/03/15/\"",
    " xmlns:xkom=\"http://rep.oio.dk/xkom.dk/xml/schemas/2005/03/15/\"",
    " xmlns=\"urn:oio:sundhedsstyrelsen:organisation:1.0.0\"",
);

/// Writes the XML declaration, the `SorTree` start tag, `CreatedAtTime` and `SnapshotDate`.
pub fn write_header<W: Write>(w: &mut W, snapshot: NaiveDate) -> io::Result<()> {
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SorTree{NAMESPACES}>\n\t<CreatedAtTime>{snapshot}T06:00:00+01:00</CreatedAtTime>\n\t<SnapshotDate>{snapshot}</SnapshotDate>\n"
    )
}

pub fn write_footer<W: Write>(w: &mut W) -> io::Result<()> {
    w.write_all(b"</SorTree>\n")
}

/// A whole SOR file holding `units` (one or more institution owners with their descendants).
pub fn write_sor_tree<W: Write>(w: &mut W, snapshot: NaiveDate, units: &[SorUnit], region: u32) -> io::Result<()> {
    write_header(w, snapshot)?;
    write_owner_entities(w, units, region)?;
    write_footer(w)
}

struct X<'w, W: Write> {
    w: &'w mut W,
    depth: usize,
}

impl<W: Write> X<'_, W> {
    fn indent(&mut self) -> io::Result<()> {
        for _ in 0..self.depth {
            self.w.write_all(b"\t")?;
        }
        Ok(())
    }
    fn open(&mut self, tag: &str) -> io::Result<()> {
        self.indent()?;
        writeln!(self.w, "<{tag}>")?;
        self.depth += 1;
        Ok(())
    }
    fn close(&mut self, tag: &str) -> io::Result<()> {
        self.depth -= 1;
        self.indent()?;
        writeln!(self.w, "</{tag}>")
    }
    fn leaf(&mut self, tag: &str, text: &str) -> io::Result<()> {
        self.indent()?;
        writeln!(self.w, "<{tag}>{}</{tag}>", escape_xml(text))
    }

    fn address(&mut self, tag: &str, a: &Address) -> io::Result<()> {
        self.open(tag)?;
        self.open("xkom-1:AddressPostal")?;
        self.leaf("dkcc2005:StreetName", &a.street)?;
        if let Some(b) = &a.building {
            self.leaf("dkcc:StreetBuildingIdentifier", b)?;
        }
        if let Some(f) = &a.floor {
            self.leaf("dkcc:FloorIdentifier", f)?;
        }
        if let Some(s) = &a.suite {
            self.leaf("dkcc:SuiteIdentifier", s)?;
        }
        self.leaf("dkcc2005:PostCodeIdentifier", &a.postcode)?;
        self.leaf("dkcc2005:DistrictName", &a.district)?;
        self.indent()?;
        self.w.write_all(
            b"<dkcc:CountryIdentificationCode scheme=\"iso3166-alpha2\">DK</dkcc:CountryIdentificationCode>\n",
        )?;
        self.close("xkom-1:AddressPostal")?;
        self.close(tag)
    }

    /// `VirtualAddressInformation`; the XSD requires a phone number in it, so without one it is left out.
    fn virtual_address(&mut self, u: &SorUnit) -> io::Result<()> {
        let Some(phone) = u.own.phone.as_deref().filter(|p| p.len() >= 8) else {
            return Ok(());
        };
        self.open("VirtualAddressInformation")?;
        if let Some(e) = &u.own.email {
            self.leaf("xkom:EmailAddressIdentifier", e)?;
        }
        if let Some(site) = &u.own.website {
            self.leaf("Website", site)?;
        }
        self.leaf("TelephoneNumberIdentifier", phone)?;
        self.close("VirtualAddressInformation")
    }

    fn status(
        &mut self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        updated: Option<NaiveDate>,
        first: Option<NaiveDate>,
    ) -> io::Result<()> {
        let from = from.or(first).unwrap_or_default();
        self.open("SorStatus")?;
        self.leaf("FromDate", &from.to_string())?;
        if let Some(t) = to {
            self.leaf("ToDate", &t.to_string())?;
        }
        if let Some(u) = updated {
            self.leaf("UpdatedAt", &u.to_string())?;
        }
        self.leaf("FirstFromDate", &first.unwrap_or(from).to_string())?;
        self.close("SorStatus")
    }

    fn ean_entity(&mut self, u: &SorUnit, ean: &str, region: u32) -> io::Result<()> {
        self.open("EanLocationCodeEntity")?;
        self.leaf("EanLocationCode", ean)?;
        self.leaf("OnlyInternalIndicator", "false")?;
        self.leaf("NonActiveIndicator", "false")?;
        self.leaf("SystemSupplier", "641000055002")?;
        self.leaf("SystemType", "1611000045003")?;
        self.leaf("CommunicationSupplier", "41000035001")?;
        self.leaf("RegionCode", &region.to_string())?;
        self.leaf("EdiAdministrator", "116")?;
        self.status(u.from_date, None, u.updated_at, u.first_from_date)?;
        self.close("EanLocationCodeEntity")
    }

    fn optional_ean(&mut self, u: &SorUnit, region: u32) -> io::Result<()> {
        self.open("OptionalEanLocationCode")?;
        match u.own.ean {
            Some(e) if !u.own.ean_inherited_indicator => self.ean_entity(u, &e.to_string(), region)?,
            _ => self.leaf("EntityInheritedIndicator", if u.own.ean_inherited_indicator { "true" } else { "false" })?,
        }
        self.close("OptionalEanLocationCode")
    }

    fn unit(&mut self, units: &[SorUnit], children: &[Vec<usize>], i: usize, region: u32) -> io::Result<()> {
        let u = &units[i];
        let id = u.sor_id.to_string();
        match u.kind {
            SorKind::InstitutionOwner => {
                self.open("InstitutionOwnerEntity")?;
                self.open("InstitutionOwner")?;
                self.leaf("SorIdentifier", &id)?;
                self.leaf("EntityName", &u.name)?;
                self.leaf("OwnerType", u.unit_type.as_deref().unwrap_or(codes::OWNER_TYPE_MUNICIPALITY))?;
                if let Some(e) = u.own.ean {
                    self.ean_entity(u, &e.to_string(), region)?;
                }
                match &u.own.postal {
                    Some(a) => self.address("PostalAddressInformation", a)?,
                    None => {
                        self.indent()?;
                        self.w.write_all(b"<PostalAddressInformation/>\n")?;
                    }
                }
                if u.own.phone.is_some() {
                    self.virtual_address(u)?;
                } else {
                    self.open("VirtualAddressInformation")?;
                    self.leaf("TelephoneNumberIdentifier", "00000000")?;
                    self.close("VirtualAddressInformation")?;
                }
                self.status(u.from_date, u.to_date, u.updated_at, u.first_from_date)?;
                self.close("InstitutionOwner")?;
                for &c in &children[i] {
                    if units[c].kind == SorKind::HealthInstitution {
                        self.unit(units, children, c, region)?;
                    }
                }
                self.close("InstitutionOwnerEntity")
            }
            SorKind::HealthInstitution => {
                self.open("HealthInstitutionEntity")?;
                self.open("HealthInstitution")?;
                self.leaf("SorIdentifier", &id)?;
                self.leaf("EntityName", &u.name)?;
                self.leaf("InstitutionType", u.unit_type.as_deref().unwrap_or(codes::INSTITUTION_TYPE))?;
                if let Some(s) = &u.shak {
                    self.leaf("ShakIdentifier", s)?;
                }
                self.optional_ean(u, region)?;
                if let Some(a) = &u.own.postal {
                    self.address("PostalAddressInformation", a)?;
                }
                if let Some(a) = &u.own.visiting {
                    self.address("VisitingAddressInformation", a)?;
                }
                self.virtual_address(u)?;
                self.status(u.from_date, u.to_date, u.updated_at, u.first_from_date)?;
                self.close("HealthInstitution")?;
                for &c in &children[i] {
                    if units[c].kind == SorKind::OrganizationalUnit {
                        self.unit(units, children, c, region)?;
                    }
                }
                self.close("HealthInstitutionEntity")
            }
            SorKind::OrganizationalUnit => {
                self.open("OrganizationalUnitEntity")?;
                self.open("OrganizationalUnit")?;
                self.leaf("SorIdentifier", &id)?;
                self.leaf("EntityName", &u.name)?;
                if let Some(t) = &u.unit_type {
                    self.leaf("UnitType", t)?;
                }
                if let Some(s) = &u.shak {
                    self.leaf("ShakIdentifier", s)?;
                }
                self.optional_ean(u, region)?;
                self.open("GeographicalParent")?;
                self.leaf("GeographicalParentRelation", "2")?;
                self.close("GeographicalParent")?;
                if let Some(a) = &u.own.postal {
                    self.address("PostalAddressInformation", a)?;
                }
                if let Some(a) = &u.own.visiting {
                    self.address("VisitingAddressInformation", a)?;
                }
                if let Some(a) = &u.own.activity {
                    self.address("ActivityAddressInformation", a)?;
                }
                self.virtual_address(u)?;
                self.status(u.from_date, u.to_date, u.updated_at, u.first_from_date)?;
                let clinical = u.unit_type.as_deref() == Some(codes::UNIT_TYPE_CLINICAL);
                self.open("OrganizationalUnitInformation")?;
                self.leaf("AmbulantActivityIndicator", if clinical { "true" } else { "false" })?;
                self.leaf("PatientsAdmittedIndicator", "false")?;
                self.leaf("ReportingLevelIndicator", "false")?;
                self.close("OrganizationalUnitInformation")?;
                self.close("OrganizationalUnit")?;
                for &c in &children[i] {
                    self.unit(units, children, c, region)?;
                }
                self.close("OrganizationalUnitEntity")
            }
        }
    }
}

/// Writes every institution owner in `units` (entities whose parent is absent) with its
/// descendants, indented for a file directly under `SorTree`. Units whose parent is not in
/// `units` are skipped.
pub fn write_owner_entities<W: Write>(w: &mut W, units: &[SorUnit], region: u32) -> io::Result<()> {
    let index: HashMap<SorId, usize> = units.iter().enumerate().map(|(i, u)| (u.sor_id, i)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
    let mut roots = Vec::new();
    for (i, u) in units.iter().enumerate() {
        match u.parent.and_then(|p| index.get(&p)) {
            Some(&p) => children[p].push(i),
            None if u.kind == SorKind::InstitutionOwner => roots.push(i),
            None => {}
        }
    }
    let mut x = X { w, depth: 1 };
    for r in roots {
        x.unit(units, &children, r, region)?;
    }
    Ok(())
}
