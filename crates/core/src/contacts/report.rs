//! Building the contact-number report from an FK-ORG tree: pure, no IO.
//!
//! # What KLIK counts
//! KLIK's role gallery shows role holders: people holding a role in a unit. We count **people**, not
//! memberships: an AKTIV user with at least one membership of an AKTIV unit in the tree is one role
//! holder, however many units they belong to. The phone numbers live on the user, so a person
//! without numbers is fixed once, and is listed once with all their units (title, unit, path per
//! membership). Per top-level branch a person counts once in every branch where they hold a role,
//! so branch counts may add up to more than the municipality's. A user listed twice in the data
//! (same uuid) is one person. The title is the membership's `medlemskabRolleTitel`, or the
//! function type's title when that is blank.
//!
//! A role holder *lacks both numbers* when neither the user's landline (KLIK "Direkte nummer") nor
//! the user's mobile (KLIK "Mobil nummer") is a valid Danish number after
//! [`normalise_phone`]: absent, blank and malformed all count as missing. Malformed values are
//! reported with the field and the raw text.
//!
//! # Units without a phone
//! A unit goes to SOR when it is AKTIV and in [`Scope`]. It has a phone for SOR when it has a valid
//! own landline or mobile, or when the nearest ancestor that also goes to SOR and has a valid phone
//! gives it one (SOR inherits virtual addresses from the parent). Ancestors that do not go to SOR
//! (out of scope or INAKTIV) do not pass a phone down: they have no SOR counterpart. The SOR units
//! above the scope (institution owner, health institution) may have a phone we cannot see here.

use std::collections::{HashMap, HashSet};

use crate::domain::{normalise_phone, Cvr, FkStatus, FkTree, FkUuid, KommuneKode, Phone};

/// Which part of the FK-ORG tree goes to SOR: subtrees to include (empty = the whole tree) minus
/// subtrees to exclude. Roots that are not in the tree are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub include: Vec<FkUuid>,
    pub exclude: Vec<FkUuid>,
}

impl Scope {
    /// The whole tree.
    pub fn everything() -> Self {
        Scope::default()
    }

    /// One flag per unit (by tree index): in scope or not. INAKTIV units are not excluded here.
    fn flags(&self, tree: &FkTree) -> Vec<bool> {
        let n = tree.len();
        let mut flags = vec![self.include.is_empty(); n];
        for id in &self.include {
            if let Some(i) = tree.index_of(*id) {
                for d in tree.tree.descendants(i) {
                    flags[d] = true;
                }
            }
        }
        for id in &self.exclude {
            if let Some(i) = tree.index_of(*id) {
                for d in tree.tree.descendants(i) {
                    flags[d] = false;
                }
            }
        }
        flags
    }
}

/// Which phone field a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhoneField {
    /// User: KLIK "Direkte nummer" (FastnetTelefon). Unit: "Fastnet".
    Landline,
    /// User: KLIK "Mobil nummer" (Telefon). Unit: the phone address.
    Mobile,
}

impl PhoneField {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneField::Landline => "landline",
            PhoneField::Mobile => "mobile",
        }
    }
}

/// A registered value that is not a Danish phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedPhone {
    pub field: PhoneField,
    pub raw: String,
}

/// One of a person's roles: the membership title and the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub unit_uuid: FkUuid,
    pub unit_name: String,
    /// Root / ... / unit.
    pub unit_path: String,
    /// `medlemskabRolleTitel`, falling back to the function type's title.
    pub title: Option<String>,
    /// Tree index of the top-level branch the unit belongs to (the root itself for the root).
    branch: usize,
}

/// A role holder as the report lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub uuid: FkUuid,
    pub user_name: String,
    pub name: Option<String>,
    /// Raw values as registered (None when absent).
    pub landline_raw: Option<String>,
    pub mobile_raw: Option<String>,
    /// Valid numbers, normalised to 8 digits.
    pub landline: Option<String>,
    pub mobile: Option<String>,
    pub malformed: Vec<MalformedPhone>,
    /// Every role the person holds in AKTIV units, in membership order.
    pub placements: Vec<Placement>,
}

impl Person {
    /// Neither a valid direct number nor a valid mobile number.
    pub fn lacks_both(&self) -> bool {
        self.landline.is_none() && self.mobile.is_none()
    }
}

/// How many role holders have which numbers (valid numbers only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumberCounts {
    pub both: usize,
    pub landline_only: usize,
    pub mobile_only: usize,
    pub neither: usize,
}

/// Counts for one top-level branch (a child of the root, or the root's own role holders).
#[derive(Debug, Clone, PartialEq)]
pub struct BranchCount {
    pub uuid: FkUuid,
    pub name: String,
    /// True for the entry that holds the role holders of the root unit itself.
    pub is_root: bool,
    pub role_holders: usize,
    pub missing_both: usize,
}

impl BranchCount {
    pub fn share_missing(&self) -> f64 {
        share(self.missing_both, self.role_holders)
    }
}

/// An in-scope unit that would reach SOR without any phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitWithoutPhone {
    pub uuid: FkUuid,
    pub name: String,
    pub path: String,
    /// Own phone values that were registered but are not Danish phone numbers.
    pub malformed: Vec<MalformedPhone>,
}

/// The contact-number report for one municipality.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactReport {
    pub kommune: Option<KommuneKode>,
    pub cvr: Option<Cvr>,
    /// The root unit's name, usually the municipality's.
    pub name: String,
    pub counts: NumberCounts,
    /// Role holders with at least one malformed number (whether or not the other one is valid).
    pub malformed: usize,
    /// Branches in tree order; the root's own entry first when the root has role holders.
    pub by_branch: Vec<BranchCount>,
    /// Role holders lacking both numbers, sorted by path of their first unit, then name.
    pub missing_both: Vec<Person>,
    /// Role holders with one valid number and one malformed: reachable, but the data needs fixing.
    pub malformed_but_reachable: Vec<Person>,
    /// AKTIV in-scope units.
    pub units_in_scope: usize,
    /// In-scope units that would go to SOR without any phone, in tree order.
    pub units_without_phone: Vec<UnitWithoutPhone>,
}

impl ContactReport {
    pub fn role_holders(&self) -> usize {
        let c = self.counts;
        c.both + c.landline_only + c.mobile_only + c.neither
    }
    pub fn missing_both_count(&self) -> usize {
        self.counts.neither
    }
    /// Share of role holders lacking both numbers, 0.0..=1.0 (0 when there are no role holders).
    pub fn share_missing(&self) -> f64 {
        share(self.counts.neither, self.role_holders())
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn non_blank(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
}

/// Reads one phone field: the valid number, or the malformed raw text noted in `malformed`.
fn check_phone(raw: Option<&str>, field: PhoneField, malformed: &mut Vec<MalformedPhone>) -> Option<String> {
    match normalise_phone(raw) {
        Phone::Valid(n) => Some(n),
        Phone::Malformed(raw) => {
            malformed.push(MalformedPhone { field, raw });
            None
        }
        Phone::Missing => None,
    }
}

/// Builds the report for one municipality. `kommune` is the municipality code when the caller knows
/// it (the FK-ORG data carries only the CVR).
pub fn build_report(tree: &FkTree, kommune: Option<KommuneKode>, scope: &Scope) -> ContactReport {
    let root = tree.tree.roots().first().copied();
    let name = root.map(|r| tree.units[r].enhedsnavn.clone()).unwrap_or_default();
    // The top-level branch of unit `i`: the ancestor just below the root (the root for the root).
    let branch_of = |i: usize| -> usize {
        let mut branch = i;
        for a in tree.tree.ancestors(i) {
            if tree.tree.parent(a).is_some() {
                branch = a;
            }
        }
        branch
    };

    let mut counts = NumberCounts::default();
    let mut malformed = 0;
    let mut missing_both = Vec::new();
    let mut malformed_but_reachable = Vec::new();
    // Branch index -> (role holders, missing both).
    let mut branch_counts: HashMap<usize, (usize, usize)> = HashMap::new();

    // A user listed twice (e.g. overlapping pages) is still one person: the first record counts.
    let mut seen_users = HashSet::new();
    for user in tree.users.iter().filter(|u| u.status == FkStatus::Aktiv) {
        if !seen_users.insert(user.uuid) {
            continue;
        }
        let mut placements = Vec::new();
        for m in &user.memberships {
            let Some(i) = m.unit.and_then(|u| tree.index_of(u)) else { continue };
            let unit = &tree.units[i];
            if unit.status != FkStatus::Aktiv {
                continue;
            }
            placements.push(Placement {
                unit_uuid: unit.uuid,
                unit_name: unit.enhedsnavn.clone(),
                // Filled in below for the people the report lists.
                unit_path: String::new(),
                title: non_blank(&m.title).or_else(|| non_blank(&m.function_type_title)),
                branch: branch_of(i),
            });
        }
        if placements.is_empty() {
            continue;
        }
        let mut bad = Vec::new();
        let landline = check_phone(user.landline.as_deref(), PhoneField::Landline, &mut bad);
        let mobile = check_phone(user.mobile.as_deref(), PhoneField::Mobile, &mut bad);
        let person = Person {
            uuid: user.uuid,
            user_name: user.brugernavn.clone(),
            name: user.person_name.clone(),
            landline_raw: user.landline.clone(),
            mobile_raw: user.mobile.clone(),
            landline,
            mobile,
            malformed: bad,
            placements,
        };
        match (&person.landline, &person.mobile) {
            (Some(_), Some(_)) => counts.both += 1,
            (Some(_), None) => counts.landline_only += 1,
            (None, Some(_)) => counts.mobile_only += 1,
            (None, None) => counts.neither += 1,
        }
        let branches: HashSet<usize> = person.placements.iter().map(|p| p.branch).collect();
        for b in branches {
            let e = branch_counts.entry(b).or_default();
            e.0 += 1;
            if person.lacks_both() {
                e.1 += 1;
            }
        }
        if !person.malformed.is_empty() {
            malformed += 1;
        }
        let list = if person.lacks_both() {
            &mut missing_both
        } else if !person.malformed.is_empty() {
            &mut malformed_but_reachable
        } else {
            continue;
        };
        let mut person = person;
        for p in &mut person.placements {
            if let Some(i) = tree.index_of(p.unit_uuid) {
                p.unit_path = tree.path_names(i);
            }
        }
        list.push(person);
    }
    let order = |p: &Person| (p.placements[0].unit_path.clone(), p.name.clone(), p.user_name.clone());
    missing_both.sort_by_cached_key(order);
    malformed_but_reachable.sort_by_cached_key(order);

    let mut by_branch = Vec::new();
    if let Some(r) = root {
        let branch_entry = |i: usize, is_root: bool| {
            let (role_holders, missing) = branch_counts.get(&i).copied().unwrap_or_default();
            BranchCount {
                uuid: tree.units[i].uuid,
                name: tree.units[i].enhedsnavn.clone(),
                is_root,
                role_holders,
                missing_both: missing,
            }
        };
        if branch_counts.contains_key(&r) {
            by_branch.push(branch_entry(r, true));
        }
        for &c in tree.tree.children(r) {
            if tree.units[c].status == FkStatus::Aktiv || branch_counts.contains_key(&c) {
                by_branch.push(branch_entry(c, false));
            }
        }
    }

    let (units_in_scope, units_without_phone) = units_without_phone(tree, scope);
    ContactReport {
        kommune,
        cvr: tree.cvr,
        name,
        counts,
        malformed,
        by_branch,
        missing_both,
        malformed_but_reachable,
        units_in_scope,
        units_without_phone,
    }
}

/// Walks the tree parents-first and finds the in-scope AKTIV units with no own and no inherited phone.
fn units_without_phone(tree: &FkTree, scope: &Scope) -> (usize, Vec<UnitWithoutPhone>) {
    let in_scope = scope.flags(tree);
    // Effective valid phone of each unit that goes to SOR; for the others, what passes through them
    // to their children (nothing: units that do not go to SOR pass no phone down).
    let mut effective: Vec<Option<String>> = vec![None; tree.len()];
    let mut count = 0;
    let mut out = Vec::new();
    for &i in tree.tree.preorder() {
        let unit = &tree.units[i];
        if !in_scope[i] || unit.status != FkStatus::Aktiv {
            continue;
        }
        count += 1;
        let mut bad = Vec::new();
        let own_landline = check_phone(unit.landline.as_deref(), PhoneField::Landline, &mut bad);
        let own_mobile = check_phone(unit.mobile.as_deref(), PhoneField::Mobile, &mut bad);
        let inherited = tree.tree.parent(i).and_then(|p| effective[p].clone());
        // SOR takes the landline as the unit's main number and falls back to the mobile.
        effective[i] = own_landline.or(own_mobile).or(inherited);
        if effective[i].is_none() {
            out.push(UnitWithoutPhone {
                uuid: unit.uuid,
                name: unit.enhedsnavn.clone(),
                path: tree.path_names(i),
                malformed: bad,
            });
        }
    }
    (count, out)
}

/// One row of a multi-municipality summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub kommune: Option<KommuneKode>,
    pub cvr: Option<Cvr>,
    pub name: String,
    pub role_holders: usize,
    pub missing_both: usize,
    pub share_missing: f64,
    pub malformed: usize,
    pub units_in_scope: usize,
    pub units_without_phone: usize,
}

/// The summary of several municipalities, highest share missing first (ties: kommune code, name).
pub fn summarise(reports: &[ContactReport]) -> Vec<SummaryRow> {
    let mut rows: Vec<SummaryRow> = reports
        .iter()
        .map(|r| SummaryRow {
            kommune: r.kommune,
            cvr: r.cvr,
            name: r.name.clone(),
            role_holders: r.role_holders(),
            missing_both: r.missing_both_count(),
            share_missing: r.share_missing(),
            malformed: r.malformed,
            units_in_scope: r.units_in_scope,
            units_without_phone: r.units_without_phone.len(),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.share_missing
            .total_cmp(&a.share_missing)
            .then_with(|| a.kommune.cmp(&b.kommune))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// Totals over a summary: role holders, missing both, share.
pub fn totals(rows: &[SummaryRow]) -> (usize, usize, f64) {
    let rh: usize = rows.iter().map(|r| r.role_holders).sum();
    let mb: usize = rows.iter().map(|r| r.missing_both).sum();
    (rh, mb, share(mb, rh))
}
