//! SOR entities (institution owner, health institution, organisational unit) and SOR's
//! inheritance rules for addresses, virtual addresses and EAN numbers.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::ids::{Ean, SorId};
use super::tree::{Tree, TreeError};

/// The SOR level of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SorKind {
    /// Institutionsejer (institution owner), e.g. a municipality.
    InstitutionOwner,
    /// Sundhedsinstitution (health institution).
    HealthInstitution,
    /// Organisatorisk enhed (organisational unit), nests to any depth.
    OrganizationalUnit,
}

impl SorKind {
    /// The short code SOR uses: IE, SI or OE.
    pub fn code(self) -> &'static str {
        match self {
            SorKind::InstitutionOwner => "IE",
            SorKind::HealthInstitution => "SI",
            SorKind::OrganizationalUnit => "OE",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        match s.trim() {
            "IE" => Some(SorKind::InstitutionOwner),
            "SI" => Some(SorKind::HealthInstitution),
            "OE" => Some(SorKind::OrganizationalUnit),
            _ => None,
        }
    }
}

/// A Danish postal address as SOR holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub street: String,
    /// House number with letter (StreetBuildingIdentifier), e.g. "8" or "12B".
    pub building: Option<String>,
    pub floor: Option<String>,
    pub suite: Option<String>,
    pub postcode: String,
    pub district: String,
}

/// A value as it takes effect on a unit: its own, or inherited from the nearest ancestor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective<T> {
    pub value: Option<T>,
    /// True when `value` came from an ancestor (or, for visiting/activity, from another address).
    pub inherited: bool,
}

impl<T> Default for Effective<T> {
    fn default() -> Self {
        Effective { value: None, inherited: false }
    }
}

impl<T: Clone> Effective<T> {
    fn own_or(own: &Option<T>, fallback: &Effective<T>) -> Self {
        match own {
            Some(v) => Effective { value: Some(v.clone()), inherited: false },
            None => Effective { value: fallback.value.clone(), inherited: fallback.value.is_some() },
        }
    }
}

/// What a SOR entity records itself, before inheritance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SorOwnValues {
    pub ean: Option<Ean>,
    /// `OptionalEanLocationCode/EntityInheritedIndicator`: the unit takes its parent's EAN.
    pub ean_inherited_indicator: bool,
    pub postal: Option<Address>,
    pub visiting: Option<Address>,
    pub activity: Option<Address>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
}

/// The values that take effect once SOR's inheritance rules are applied.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SorEffectiveValues {
    pub ean: Effective<Ean>,
    pub postal: Effective<Address>,
    pub visiting: Effective<Address>,
    pub activity: Effective<Address>,
    pub phone: Effective<String>,
    pub email: Effective<String>,
    pub website: Effective<String>,
}

/// One SOR entity (IE, SI or OE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SorUnit {
    pub sor_id: SorId,
    pub kind: SorKind,
    pub name: String,
    pub parent: Option<SorId>,
    /// SNOMED-CT based code: UnitType for OE, InstitutionType for SI, OwnerType for IE.
    pub unit_type: Option<String>,
    pub shak: Option<String>,
    pub own: SorOwnValues,
    /// Filled by [`SorTree::new`].
    pub effective: SorEffectiveValues,
    pub from_date: Option<NaiveDate>,
    pub to_date: Option<NaiveDate>,
    pub updated_at: Option<NaiveDate>,
    pub first_from_date: Option<NaiveDate>,
}

impl SorUnit {
    /// A new unit with only its identity; everything else empty.
    pub fn new(sor_id: SorId, kind: SorKind, name: impl Into<String>, parent: Option<SorId>) -> Self {
        SorUnit {
            sor_id,
            kind,
            name: name.into(),
            parent,
            unit_type: None,
            shak: None,
            own: SorOwnValues::default(),
            effective: SorEffectiveValues::default(),
            from_date: None,
            to_date: None,
            updated_at: None,
            first_from_date: None,
        }
    }

    /// Closed on `today` when it has a ToDate on or before today.
    pub fn is_closed_on(&self, today: NaiveDate) -> bool {
        self.to_date.is_some_and(|t| t <= today)
    }
}

/// A whole SOR file as a navigable tree (a forest when it holds several institution owners),
/// with inheritance applied.
#[derive(Debug, Clone)]
pub struct SorTree {
    pub units: Vec<SorUnit>,
    pub tree: Tree,
    index: HashMap<SorId, usize>,
}

impl SorTree {
    /// Checks the structure and applies the inheritance rules:
    /// postal address, phone, email and website come from the nearest ancestor that has them;
    /// an EAN marked inherited (`EntityInheritedIndicator=true`) is the parent's effective EAN (so it
    /// chains up to the nearest ancestor with a code), even if one is given; otherwise only the unit's own;
    /// visiting address defaults to postal, activity address to visiting.
    pub fn new(mut units: Vec<SorUnit>) -> Result<Self, TreeError> {
        let (tree, index) = Tree::build(units.iter().map(|u| (&u.sor_id, u.name.as_str(), u.parent.as_ref())), false)?;
        for &i in tree.preorder() {
            let parent_eff = tree.parent(i).map(|p| units[p].effective.clone()).unwrap_or_default();
            let u = &mut units[i];
            let own = &u.own;
            // An EAN is inherited only when the unit says so (EntityInheritedIndicator=true); a unit
            // marked not-inherited without a code of its own has no EAN (as in the real samples).
            let ean = if own.ean_inherited_indicator {
                Effective { value: parent_eff.ean.value, inherited: parent_eff.ean.value.is_some() }
            } else {
                Effective { value: own.ean, inherited: false }
            };
            let postal = Effective::own_or(&own.postal, &parent_eff.postal);
            let visiting = Effective::own_or(&own.visiting, &postal);
            let activity = Effective::own_or(&own.activity, &visiting);
            u.effective = SorEffectiveValues {
                ean,
                phone: Effective::own_or(&own.phone, &parent_eff.phone),
                email: Effective::own_or(&own.email, &parent_eff.email),
                website: Effective::own_or(&own.website, &parent_eff.website),
                postal,
                visiting,
                activity,
            };
        }
        Ok(SorTree { units, tree, index })
    }

    pub fn get(&self, id: SorId) -> Option<&SorUnit> {
        self.index.get(&id).map(|&i| &self.units[i])
    }
    pub fn index_of(&self, id: SorId) -> Option<usize> {
        self.index.get(&id).copied()
    }
    pub fn len(&self) -> usize {
        self.units.len()
    }
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(street: &str) -> Address {
        Address { street: street.into(), postcode: "4000".into(), district: "Roskilde".into(), ..Default::default() }
    }

    #[test]
    fn children_inherit_address_phone_and_marked_ean() {
        let ie = SorId::from_running_number(1);
        let si = SorId::from_running_number(2);
        let oe = SorId::from_running_number(3);
        let mut a = SorUnit::new(ie, SorKind::InstitutionOwner, "Kommune", None);
        a.own.postal = Some(addr("Torvet"));
        a.own.phone = Some("46361266".into());
        let mut b = SorUnit::new(si, SorKind::HealthInstitution, "Sundhed", Some(ie));
        b.own.ean = Some(Ean::from_body(579000012152));
        let mut c = SorUnit::new(oe, SorKind::OrganizationalUnit, "Plejecenter", Some(si));
        c.own.ean_inherited_indicator = true;
        c.own.ean = Some(Ean::from_body(579000099999));
        c.own.visiting = Some(addr("Vej"));
        let t = SorTree::new(vec![a, b, c]).unwrap();
        let c = t.get(oe).unwrap();
        assert_eq!(c.effective.postal.value.as_ref().unwrap().street, "Torvet");
        assert!(c.effective.postal.inherited);
        assert_eq!(c.effective.visiting.value.as_ref().unwrap().street, "Vej");
        assert!(!c.effective.visiting.inherited);
        assert_eq!(c.effective.activity.value.as_ref().unwrap().street, "Vej");
        assert_eq!(c.effective.ean.value, Some(Ean::from_body(579000012152)));
        assert!(c.effective.ean.inherited);
        assert_eq!(c.effective.phone.value.as_deref(), Some("46361266"));
        let b = t.get(si).unwrap();
        assert!(!b.effective.ean.inherited);
    }

    #[test]
    fn a_unit_not_marked_as_inheriting_has_no_ean_without_its_own() {
        let ie = SorId::from_running_number(1);
        let oe = SorId::from_running_number(2);
        let mut a = SorUnit::new(ie, SorKind::InstitutionOwner, "Kommune", None);
        a.own.ean = Some(Ean::from_body(579000012152));
        let b = SorUnit::new(oe, SorKind::OrganizationalUnit, "Afsnit", Some(ie));
        let t = SorTree::new(vec![a, b]).unwrap();
        assert_eq!(t.get(oe).unwrap().effective.ean, Effective { value: None, inherited: false });
    }
}
