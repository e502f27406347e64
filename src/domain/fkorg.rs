//! FK-ORG units, users and memberships, and the address roles that tell an address's meaning.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};

use super::ids::{Cvr, Ean, FkUuid, PNumber, SorId};
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
