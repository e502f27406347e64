//! FK-ORG units, users and memberships, and the address roles that tell an address's meaning.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::ids::{Cvr, Ean, FkUuid, PNumber, SorId};
use super::sor::Address;
use super::tree::{Tree, TreeError};

/// The address-role UUIDs from KOMBIT's published guidance (see `shared/specs/README.md`).
/// Kept in one place so they can be changed if KOMBIT's classification changes.
pub mod roles {
    pub const UNIT_SOR_ID: &str = "b44138cf-72df-45d1-8821-83db39b62093";
    pub const UNIT_EAN: &str = "9ccaafe4-c4b2-4d25-942a-2ec5730d4ed8";
    pub const UNIT_P_NUMBER: &str = "7c6e2a82-ec39-4ec4-a2b7-fdfe667e1d2b";
    pub const UNIT_POSTAL: &str = "80b610c6-314b-485a-a014-a9a1d7070bc4";
    pub const UNIT_EMAIL: &str = "2b670843-ce42-411a-8fb5-311dfdd5caf0";
    pub const UNIT_MOBILE: &str = "8dcfa714-5ed3-4000-b551-2ba520e7d8ad";
    pub const UNIT_LANDLINE: &str = "02826f64-5613-468e-ace5-3f089cb3ed20";
    pub const UNIT_LOS_ID: &str = "ee78e99a-6220-48ea-81fe-e4db239ee10a";
    pub const USER_EMAIL: &str = "5d13e891-162a-456b-abf2-fd9b864df96d";
    pub const USER_MOBILE: &str = "5ef6be2d-59f4-4652-a680-585929924ba9";
    pub const USER_LANDLINE: &str = "47c05422-5379-4c27-9ddf-e02b52b3d961";
    pub const FUNCTION_WORKS_IN: &str = "02e61900-33e0-407f-a2a7-22f70221f003";
    pub const FUNCTION_MANAGER: &str = "46c73630-f7ad-4000-9624-c06131cde671";
}

/// `tilstand.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FkStatus {
    Aktiv,
    Inaktiv,
}

impl FkStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FkStatus::Aktiv => "AKTIV",
            FkStatus::Inaktiv => "INAKTIV",
        }
    }
}

/// An FK-ORG organisation unit (OrganisationEnhed) with its addresses sorted by role.
#[derive(Debug, Clone, PartialEq)]
pub struct FkUnit {
    pub uuid: FkUuid,
    pub enhedsnavn: String,
    pub brugervendt_noegle: Option<String>,
    pub parent: Option<FkUuid>,
    pub status: FkStatus,
    pub valid_from: Option<DateTime<FixedOffset>>,
    pub valid_to: Option<DateTime<FixedOffset>>,
    pub sor_id: Option<SorId>,
    pub ean: Option<Ean>,
    pub p_number: Option<PNumber>,
    /// Postal address as FK-ORG's free text, e.g. "Halfdansgade 10, 2., 2300 Koebenhavn S".
    pub postal_address: Option<String>,
    pub email: Option<String>,
    /// The phone address (role "mobile"); raw text as registered.
    pub mobile: Option<String>,
    /// The landline address ("Fastnet"); local systems put the unit's main number here.
    pub landline: Option<String>,
    pub los_id: Option<String>,
}

impl FkUnit {
    /// True when an FK-ORG unit is closed on `today` (INAKTIV, or its validity ended).
    pub fn is_closed(&self, today: NaiveDate) -> bool {
        self.status == FkStatus::Inaktiv || self.valid_to.is_some_and(|t| t.date_naive() <= today)
    }

    /// An active unit with only its identity; no validity dates, identifiers or addresses.
    pub fn new(uuid: FkUuid, enhedsnavn: impl Into<String>, parent: Option<FkUuid>) -> Self {
        FkUnit {
            uuid,
            enhedsnavn: enhedsnavn.into(),
            brugervendt_noegle: None,
            parent,
            status: FkStatus::Aktiv,
            valid_from: None,
            valid_to: None,
            sor_id: None,
            ean: None,
            p_number: None,
            postal_address: None,
            email: None,
            mobile: None,
            landline: None,
            los_id: None,
        }
    }
}

/// An FK-ORG user's membership of a unit (organisationFunktion).
#[derive(Debug, Clone, PartialEq)]
pub struct FkMembership {
    pub uuid: Option<FkUuid>,
    /// `medlemskabRolleTitel`, typically the job title.
    pub title: Option<String>,
    pub function_type: Option<FkUuid>,
    pub function_type_title: Option<String>,
    /// `medlemAf.uuid`: the unit.
    pub unit: Option<FkUuid>,
}

/// An FK-ORG user (Bruger) with person name and addresses.
#[derive(Debug, Clone, PartialEq)]
pub struct FkUser {
    pub uuid: FkUuid,
    pub brugernavn: String,
    pub person_name: Option<String>,
    pub status: FkStatus,
    pub email: Option<String>,
    /// KLIK "Mobil nummer" (Bruger.Adresse.Telefon), raw text.
    pub mobile: Option<String>,
    /// KLIK "Direkte nummer" (Bruger.Adresse.FastnetTelefon), raw text.
    pub landline: Option<String>,
    pub memberships: Vec<FkMembership>,
}

/// One municipality's FK-ORG organisation as a navigable tree, with its users.
#[derive(Debug, Clone)]
pub struct FkTree {
    pub cvr: Option<Cvr>,
    pub units: Vec<FkUnit>,
    pub users: Vec<FkUser>,
    pub tree: Tree,
    index: HashMap<FkUuid, usize>,
}

impl FkTree {
    /// Checks the structure: unique uuids, known parents, no cycles, exactly one root.
    pub fn new(cvr: Option<Cvr>, units: Vec<FkUnit>, users: Vec<FkUser>) -> Result<Self, TreeError> {
        let (tree, index) =
            Tree::build(units.iter().map(|u| (&u.uuid, u.enhedsnavn.as_str(), u.parent.as_ref())), true)?;
        Ok(FkTree { cvr, units, users, tree, index })
    }

    pub fn get(&self, id: FkUuid) -> Option<&FkUnit> {
        self.index.get(&id).map(|&i| &self.units[i])
    }
    pub fn index_of(&self, id: FkUuid) -> Option<usize> {
        self.index.get(&id).copied()
    }
    pub fn len(&self) -> usize {
        self.units.len()
    }
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }
    /// Names from the root down to unit `i`, joined with " / ".
    pub fn path_names(&self, i: usize) -> String {
        self.tree.path(i).iter().map(|&n| self.units[n].enhedsnavn.as_str()).collect::<Vec<_>>().join(" / ")
    }
}

/// Parses FK-ORG's free-text postal address, e.g. "Halfdansgade 10, 2. tv, 2300 København S". The
/// text is typed by people, so commas are optional ("Byagervej 38 4710 Hals"), the postcode may
/// carry a country prefix ("DK-4640") and a floor may sit between number and postcode.
pub fn parse_fk_address(text: &str) -> Option<Address> {
    let ws: Vec<&str> = text.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    if ws.is_empty() {
        return None;
    }
    let postcode_of = |w: &str| {
        let digits = w.strip_prefix("DK-").or_else(|| w.strip_prefix("dk-")).unwrap_or(w);
        (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.to_string())
    };
    // The postcode: the last four-digit word after the first word (a street comes first).
    let pc_at = (1..ws.len()).rev().find(|&i| postcode_of(ws[i]).is_some());
    let end = pc_at.unwrap_or(ws.len());
    let num_at = (1..end).find(|&k| ws[k].starts_with(|c: char| c.is_ascii_digit()));
    let (street, building, floor_from) = match num_at {
        Some(k) => {
            let mut b = ws[k].to_string();
            let mut next = k + 1;
            if let Some(letter) = ws[..end].get(k + 1).filter(|w| w.len() == 1 && w.chars().all(char::is_alphabetic)) {
                b.push_str(letter);
                next += 1;
            }
            (ws[..k].join(" "), Some(b), next)
        }
        None => (ws[..end].join(" "), None, end),
    };
    let floor = (floor_from < end).then(|| ws[floor_from..end].join(" "));
    let (postcode, district) = match pc_at {
        Some(i) => (postcode_of(ws[i]).unwrap_or_default(), ws[i + 1..].join(" ")),
        None => (String::new(), String::new()),
    };
    Some(Address { street, building, floor, suite: None, postcode, district })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fk_free_text_addresses_parse_into_street_number_and_postcode() {
        let a = parse_fk_address("Halfdansgade 10 B, 2. tv, 2300 København S").unwrap();
        assert_eq!(a.street, "Halfdansgade");
        assert_eq!(a.building.as_deref(), Some("10B"));
        assert_eq!(a.postcode, "2300");
        assert_eq!(a.district, "København S");
        assert_eq!(a.floor.as_deref(), Some("2. tv"));
        // As people type them: no commas, a country prefix, a floor before the postcode.
        for (text, street, number, postcode, town) in [
            ("Byagervej 38 4710 Hals", "Byagervej", "38", "4710", "Hals"),
            ("Plejehjemsvej 112, DK-4640 Faxe", "Plejehjemsvej", "112", "4640", "Faxe"),
            ("Parkvej 115C, st. sal 4640 Faxe", "Parkvej", "115C", "4640", "Faxe"),
            ("Rådhuset, 4640 Faxe", "Rådhuset", "", "4640", "Faxe"),
        ] {
            let a = parse_fk_address(text).unwrap();
            assert_eq!(
                (a.street.as_str(), a.building.as_deref().unwrap_or(""), a.postcode.as_str(), a.district.as_str()),
                (street, number, postcode, town),
                "{text}"
            );
        }
    }
}
