//! Builds one municipality's FK-ORG and SOR trees and the ground truth between them (pure).
//!
//! The health side is built unit by unit: each unit is created in FK-ORG and, unless a difference
//! says otherwise, in SOR under the SOR counterpart of its nearest FK-ORG ancestor that has one,
//! with a name written as SOR would write it. The administration side exists only in FK-ORG.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::names::{self, pick, NameRates, PlaceNames, UnitName};
use super::{
    codes, rng_for, target_sizes, DifferenceRates, DifferenceStats, GeneratedMunicipality, GeneratorConfig,
    Municipality, RoughRates, RoughStats, UnitKind, UnitMeta, KORSBAEK,
};
use crate::domain::{Address, Ean, FkStatus, FkUnit, FkUuid, SorId, SorKind, SorUnit};

/// A place: postal address and main phone number.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub street: String,
    pub number: String,
    pub floor: Option<String>,
    pub postcode: String,
    pub town: String,
    /// 8 digits.
    pub phone: String,
}

impl Place {
    pub fn address(&self) -> Address {
        Address {
            street: self.street.clone(),
            building: Some(self.number.clone()),
            floor: self.floor.clone(),
            suite: None,
            postcode: self.postcode.clone(),
            district: self.town.clone(),
        }
    }
    /// FK-ORG's canonical address text: "Skolevej 12, 1., 4640 Faxe".
    pub fn canonical_text(&self) -> String {
        match &self.floor {
            Some(f) => format!("{} {}, {}., {} {}", self.street, self.number, f, self.postcode, self.town),
            None => format!("{} {}, {} {}", self.street, self.number, self.postcode, self.town),
        }
    }
}

/// A unit as its children see it.
#[derive(Debug, Clone)]
struct Node {
    fk: usize,
    /// The SOR counterpart of this unit or of its nearest ancestor that has one.
    sor: SorId,
    place: Place,
    /// The proper part of the name ("Solgården"), used to prefix generic child names in SOR.
    proper: String,
    /// The proper name SOR uses when it differs (rough profile: renamed in SOR).
    sor_proper: Option<String>,
    /// SOR leaves this unit's level out, so SOR names its generic children with its name
    /// ("Øst Team 2"): SOR would not hold several "Team 2" side by side (rough profile).
    context_in_sor: bool,
    /// No SOR counterpart for this subtree yet.
    blocked: bool,
    closed_fk: Option<NaiveDate>,
    closed_sor: Option<NaiveDate>,
}

/// What to create.
struct Spec {
    name: UnitName,
    kind: UnitKind,
    unit_type: &'static str,
    own_place: bool,
    town: Option<String>,
    generic: bool,
    group: bool,
    may_be_new: bool,
    may_close: bool,
    /// A level SOR may skip in the rough profile (a district between a service and its groups).
    skippable: bool,
}

impl Spec {
    fn new(name: UnitName, kind: UnitKind) -> Self {
        Spec {
            name,
            kind,
            unit_type: codes::UNIT_TYPE_ADMINISTRATIVE,
            own_place: false,
            town: None,
            generic: false,
            group: false,
            may_be_new: false,
            may_close: false,
            skippable: false,
        }
    }
    /// A grouping unit that SOR may leave out.
    fn group(name: &str, kind: UnitKind) -> Self {
        Spec { group: true, ..Spec::new(UnitName::plain(name), kind) }
    }
    /// A unit at its own address.
    fn place(name: UnitName, kind: UnitKind, town: Option<String>) -> Self {
        Spec { own_place: true, town, may_be_new: true, may_close: true, ..Spec::new(name, kind) }
    }
    /// A generic child ("Afsnit A", "Team Aften").
    fn generic(name: &str, kind: UnitKind) -> Self {
        Spec {
            generic: true,
            may_be_new: true,
            may_close: true,
            unit_type: codes::UNIT_TYPE_CLINICAL,
            ..Spec::new(UnitName::plain(name), kind)
        }
    }
    fn clinical(mut self) -> Self {
        self.unit_type = codes::UNIT_TYPE_CLINICAL;
        self
    }
    fn skippable(mut self) -> Self {
        self.skippable = true;
        self
    }
    fn fixed(mut self) -> Self {
        self.may_be_new = false;
        self.may_close = false;
        self
    }
}

pub(crate) struct Builder<'a> {
    pub rng: ChaCha8Rng,
    cfg: &'a GeneratorConfig,
    rates: DifferenceRates,
    name_rates: NameRates,
    pub k: Municipality,
    pub fk: Vec<FkUnit>,
    pub meta: Vec<UnitMeta>,
    pub sor: Vec<SorUnit>,
    pub truth: Vec<(FkUuid, SorId)>,
    pub stats: DifferenceStats,
    sor_seq: u64,
    ean_seq: u64,
    key_seq: u32,
    places: PlaceNames,
    home_care: Option<Node>,
    /// The rough profile's rates (noise applied) and what it drew; None in the standard profile.
    rough: Option<RoughRates>,
    rough_stats: RoughStats,
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    p > 0.0 && rng.gen::<f64>() < p.min(1.0)
}

/// Rounds `x` up or down at random so that the expectation is `x`.
fn round_random(rng: &mut ChaCha8Rng, x: f64) -> usize {
    let f = x.max(0.0).floor();
    f as usize + usize::from(rng.gen::<f64>() < x - f)
}

/// A street name as people abbreviate it: "Stationsvej" -> "Stationsv.", "Søndergade" ->
/// "Sønderg.", "Niels Bohrs Allé" -> "Niels Bohrs Alle". None when there is nothing to abbreviate.
pub fn abbreviate_street(street: &str) -> Option<String> {
    if let Some(stem) = street.strip_suffix("Allé") {
        return Some(format!("{stem}Alle"));
    }
    for (full, short) in [("vej", "v."), ("Vej", "V."), ("gade", "g.")] {
        if let Some(stem) = street.strip_suffix(full) {
            if !stem.is_empty() {
                return Some(format!("{stem}{short}"));
            }
        }
    }
    None
}

pub(crate) fn datetime(d: NaiveDate) -> Option<DateTime<FixedOffset>> {
    let offset = FixedOffset::east_opt(3600)?;
    d.and_hms_opt(0, 0, 0)?.and_local_timezone(offset).single()
}

impl<'a> Builder<'a> {
    pub fn new(k: Municipality, cfg: &'a GeneratorConfig) -> Self {
        let mut rng = rng_for(cfg.seed, k.code, 1);
        let rates = cfg.rates.with_noise(cfg.noise);
        let rough = match cfg.profile {
            super::Profile::Standard => None,
            super::Profile::Rough => Some(cfg.rough.clone().unwrap_or_default().with_noise(cfg.noise)),
        };
        let name_rates = NameRates {
            synonym: rates.synonym,
            word_order: rates.word_order,
            abbreviation: rates.abbreviation,
            municipality_suffix: rates.municipality_suffix,
            ascii_letters: rates.ascii_letters * 2.0 / 3.0,
            case: rates.case,
            typo: rates.typo,
            generic_parent_prefix: rates.generic_parent_prefix,
        };
        let places = PlaceNames::shuffled(&mut rng);
        Builder {
            rng,
            cfg,
            rates,
            name_rates,
            k,
            fk: Vec::new(),
            meta: Vec::new(),
            sor: Vec::new(),
            truth: Vec::new(),
            stats: DifferenceStats::default(),
            sor_seq: 0,
            ean_seq: 0,
            key_seq: 0,
            places,
            home_care: None,
            rough,
            rough_stats: RoughStats::default(),
        }
    }

    /// True with probability `rate(rough rates)` in the rough profile; never in the standard one
    /// (and then without drawing, so the standard profile's output does not change).
    fn rough_chance(&mut self, rate: impl Fn(&RoughRates) -> f64) -> bool {
        match &self.rough {
            Some(r) => {
                let p = rate(r);
                chance(&mut self.rng, p)
            }
            None => false,
        }
    }

    /// The generic name a rough municipality uses instead of `standard` (e.g. "Team 2" for "Gruppe 2").
    fn rough_name(&self, standard: String, rough: String) -> String {
        if self.rough.is_some() {
            rough
        } else {
            standard
        }
    }

    fn today(&self) -> NaiveDate {
        self.cfg.snapshot_date
    }

    pub fn uuid(&mut self) -> FkUuid {
        FkUuid::from_uuid(uuid::Builder::from_random_bytes(self.rng.gen()).into_uuid())
    }

    fn next_sor_id(&mut self) -> SorId {
        self.sor_seq += 1;
        SorId::from_running_number(u64::from(self.k.code) * 100_000 + self.sor_seq)
    }

    fn next_ean(&mut self) -> Ean {
        self.ean_seq += 1;
        Ean::from_body(579_000_000_000 + u64::from(self.k.code) * 100_000 + self.ean_seq)
    }

    /// A day between `min_days` and `max_days` before the snapshot.
    pub fn past(&mut self, min_days: i64, max_days: i64) -> NaiveDate {
        let d = self.rng.gen_range(min_days..=max_days.max(min_days));
        self.today() - Duration::days(d)
    }

    fn landline(&mut self) -> String {
        let prefix = pick(&mut self.rng, self.k.region().landline_prefixes());
        format!("{prefix}{:06}", self.rng.gen_range(0..1_000_000))
    }

    fn new_place(&mut self, town: Option<String>) -> Place {
        let street = pick(&mut self.rng, names::STREETS).to_string();
        let number = if chance(&mut self.rng, 0.15) {
            format!("{}{}", self.rng.gen_range(1..120), ['A', 'B', 'C'][self.rng.gen_range(0..3)])
        } else {
            self.rng.gen_range(1..160).to_string()
        };
        let floor = chance(&mut self.rng, 0.15).then(|| ["st", "1", "2", "3"][self.rng.gen_range(0..4)].to_string());
        let (postcode, town) = match town {
            Some(t) => {
                let base: u32 = self.k.postcode.parse().unwrap_or(4000);
                (format!("{}", base + 10 * self.rng.gen_range(1..9)), t)
            }
            None => (self.k.postcode.to_string(), self.k.town.to_string()),
        };
        let phone = self.landline();
        Place { street, number, floor, postcode, town, phone }
    }

    /// The address text FK-ORG holds, sometimes written differently from the canonical form.
    pub fn fk_address_text(&mut self, p: &Place) -> String {
        if self.rough_chance(|r| r.street_abbreviation_fk) {
            if let Some(street) = abbreviate_street(&p.street) {
                self.rough_stats.street_abbreviation_fk += 1;
                let abbreviated = Place { street, ..p.clone() };
                return abbreviated.canonical_text();
            }
        }
        if !chance(&mut self.rng, self.rates.address_format) {
            return p.canonical_text();
        }
        self.stats.address_format += 1;
        let floor = p.floor.as_deref().map(|f| format!(", {f}. sal")).unwrap_or_default();
        match self.rng.gen_range(0..5) {
            0 => format!("{} {}{} {} {}", p.street, p.number, floor, p.postcode, p.town),
            1 => format!("{} {}{},{} {}", p.street, p.number, floor, p.postcode, p.town),
            2 => format!("{} {}{}, DK-{} {}", p.street, p.number, floor, p.postcode, p.town),
            3 => format!("{} {}{}, {} {}", p.street.replace("vej", "v."), p.number, floor, p.postcode, p.town),
            _ => p.canonical_text().to_lowercase(),
        }
    }

    /// The phone as FK-ORG holds it, sometimes formatted differently.
    pub fn fk_phone_text(&mut self, phone: &str) -> String {
        if phone.len() != 8 || !chance(&mut self.rng, self.rates.phone_format) {
            return phone.to_string();
        }
        self.stats.phone_format += 1;
        let (a, b, c, d) = (&phone[0..2], &phone[2..4], &phone[4..6], &phone[6..8]);
        match self.rng.gen_range(0..6) {
            0 => format!("+45 {a} {b} {c} {d}"),
            1 => format!("{a} {b} {c} {d}"),
            2 => format!("{a}{b} {c}{d}"),
            3 => format!("+45{phone}"),
            4 => format!("0045 {phone}"),
            _ => format!("{a}-{b}-{c}-{d}"),
        }
    }

    fn email_for(&self, name: &str) -> String {
        let local: String = names::ascii_fold(&name.to_lowercase())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        format!("{}@{}", names::truncate_chars(&local, 40), self.k.mail_domain())
    }

    fn push_fk(&mut self, unit: FkUnit, kind: UnitKind, health: bool) -> usize {
        self.fk.push(unit);
        self.meta.push(UnitMeta { kind, health, wanted_in_sor: false });
        self.fk.len() - 1
    }

    fn bare_fk(&mut self, name: String, parent: Option<FkUuid>) -> FkUnit {
        let uuid = self.uuid();
        let from = self.past(60, 5_000);
        let brugervendt_noegle = chance(&mut self.rng, 0.3).then(|| {
            self.key_seq += 1;
            format!("{}-{:05}", self.k.code, self.key_seq)
        });
        FkUnit { brugervendt_noegle, valid_from: datetime(from), ..FkUnit::new(uuid, name, parent) }
    }

    fn bare_sor(&mut self, kind: SorKind, name: String, parent: Option<SorId>, unit_type: &str) -> SorUnit {
        let id = self.next_sor_id();
        let mut u = SorUnit::new(id, kind, names::truncate_chars(&name, 60), parent);
        u.unit_type = Some(unit_type.to_string());
        let first = self.past(400, 6_000);
        u.first_from_date = Some(first);
        u.from_date = Some(first);
        u.updated_at = Some(self.past(1, 380));
        u
    }

    /// Makes `u` INAKTIV from `day`, and valid from well before that.
    fn close_fk(&mut self, u: &mut FkUnit, day: NaiveDate) {
        u.status = FkStatus::Inaktiv;
        u.valid_to = datetime(day);
        if u.valid_from.is_some_and(|f| f.date_naive() >= day) {
            u.valid_from = datetime(day - Duration::days(self.rng.gen_range(200..3_000)));
        }
    }

    /// An FK-ORG unit with no SOR counterpart by nature (administration, kitchens, ...).
    fn fk_only(&mut self, parent: &Node, name: &str, kind: UnitKind, health: bool) -> Node {
        let mut u = self.bare_fk(name.to_string(), Some(self.fk[parent.fk].uuid));
        if let Some(day) = parent.closed_fk {
            self.close_fk(&mut u, day);
        }
        if chance(&mut self.rng, 0.2) {
            let phone = self.landline();
            u.landline = Some(self.fk_phone_text(&phone));
        }
        let idx = self.push_fk(u, kind, health);
        Node {
            fk: idx,
            blocked: true,
            proper: name.to_string(),
            sor_proper: None,
            context_in_sor: false,
            ..parent.clone()
        }
    }

    /// A health-relevant unit: in FK-ORG and (normally) in SOR.
    fn health(&mut self, parent: &Node, spec: Spec) -> Node {
        let place = if spec.own_place {
            self.new_place(spec.town.clone())
        } else {
            let mut p = parent.place.clone();
            if chance(&mut self.rng, 0.3) {
                p.phone = self.landline();
            }
            p
        };
        let mut in_sor = !parent.blocked;
        let mut blocked = parent.blocked;
        // a level SOR leaves out: not wanted in SOR, its children still are
        let mut level_left_out = false;
        if in_sor && spec.group && chance(&mut self.rng, self.rates.flatten) {
            in_sor = false;
            level_left_out = true;
            self.stats.flattened_fk_units += 1;
        } else if in_sor && spec.may_be_new && chance(&mut self.rng, self.rates.fk_without_sor) {
            in_sor = false;
            blocked = true;
        } else if in_sor && spec.skippable && self.rough_chance(|r| r.skip_level) {
            in_sor = false;
            level_left_out = true;
            self.rough_stats.skipped_level += 1;
        }
        if blocked {
            self.stats.fk_without_sor += 1;
        }
        let mut closed_fk = parent.closed_fk;
        let mut closed_sor = parent.closed_sor;
        if closed_fk.is_none() && in_sor && spec.may_close && chance(&mut self.rng, self.rates.closed_fk) {
            let day = self.past(3, 150);
            closed_fk = Some(day);
            if chance(&mut self.rng, 1.0 / 3.0) {
                closed_sor = Some(day);
            }
        }
        if closed_fk.is_some() {
            self.stats.closed_fk += 1;
        }

        let mut fk_name = spec.name.render();
        if names::has_danish_letters(&fk_name) && chance(&mut self.rng, self.rates.ascii_letters / 3.0) {
            fk_name = names::ascii_fold(&fk_name);
            self.stats.ascii_letters += 1;
        }
        if spec.generic && self.rough_chance(|r| r.fk_context_name) {
            fk_name = format!("{} {fk_name}", parent.proper);
            self.rough_stats.fk_context_name += 1;
        }
        let mut u = self.bare_fk(fk_name.clone(), Some(self.fk[parent.fk].uuid));
        if let Some(day) = closed_fk {
            self.close_fk(&mut u, day);
        }
        if spec.own_place || chance(&mut self.rng, 0.4) {
            u.postal_address = Some(self.fk_address_text(&place));
            if self.rough_chance(|r| r.missing_fk_address) {
                u.postal_address = None;
                self.rough_stats.missing_fk_address += 1;
            }
        }
        if spec.own_place || place.phone != parent.place.phone || chance(&mut self.rng, 0.3) {
            let phone = place.phone.clone();
            u.landline = Some(self.fk_phone_text(&phone));
            if self.rough_chance(|r| r.missing_fk_phone) {
                u.landline = None;
                self.rough_stats.missing_fk_phone += 1;
            }
        }
        if chance(&mut self.rng, 0.08) {
            u.mobile = Some(format!("2{:07}", self.rng.gen_range(0..10_000_000)));
        }
        if spec.own_place {
            u.email = Some(self.email_for(&spec.name.render()));
        }

        let mut sor_id = parent.sor;
        let mut sor_proper = None;
        if in_sor {
            let parent_name = parent.sor_proper.as_deref().unwrap_or(parent.proper.as_str());
            let generic_parent = spec.generic.then_some(parent_name);
            let official = self.k.official_name();
            let mut sor_name = spec.name.clone();
            if spec.own_place && spec.name.type_word.is_some() && self.rough_chance(|r| r.renamed) {
                sor_name.proper = self.places.take();
                sor_proper = Some(sor_name.proper.clone());
                self.rough_stats.renamed += 1;
            }
            let name_rates = if spec.generic && parent.context_in_sor {
                names::NameRates { generic_parent_prefix: 1.0, ..self.name_rates }
            } else {
                self.name_rates
            };
            let (name, d) =
                names::sor_variant(&mut self.rng, &sor_name, self.k.name, &official, generic_parent, &name_rates);
            self.count_name_diffs(d);
            let mut sor_parent = parent.sor;
            if spec.own_place && self.rough_chance(|r| r.moved) {
                if let Some(up) = self.sor_grandparent(parent.sor) {
                    sor_parent = up;
                    self.rough_stats.moved += 1;
                }
            }
            let mut s = self.bare_sor(SorKind::OrganizationalUnit, name, Some(sor_parent), spec.unit_type);
            if !spec.generic && chance(&mut self.rng, self.rates.sor_own_ean) {
                s.own.ean = Some(self.next_ean());
                self.stats.sor_own_ean += 1;
            } else if chance(&mut self.rng, self.rates.sor_ean_inherited) {
                s.own.ean_inherited_indicator = true;
                self.stats.sor_inherited_ean += 1;
            }
            if spec.own_place || !chance(&mut self.rng, self.rates.sor_address_inherited) {
                let mut address = place.address();
                if self.rough_chance(|r| r.street_abbreviation_sor) {
                    if let Some(street) = abbreviate_street(&address.street) {
                        address.street = street;
                        self.rough_stats.street_abbreviation_sor += 1;
                    }
                }
                s.own.postal = Some(address);
                if self.rough_chance(|r| r.missing_sor_address) {
                    s.own.postal = None;
                    self.rough_stats.missing_sor_address += 1;
                }
            } else {
                self.stats.sor_inherited_address += 1;
            }
            if place.phone != parent.place.phone || !chance(&mut self.rng, self.rates.sor_address_inherited) {
                s.own.phone = Some(place.phone.clone());
                if self.rough_chance(|r| r.missing_sor_phone) {
                    s.own.phone = None;
                    self.rough_stats.missing_sor_phone += 1;
                }
            }
            if spec.own_place && chance(&mut self.rng, 0.5) {
                s.own.email = u.email.clone();
            }
            s.to_date = closed_sor;
            if closed_sor.is_some() {
                self.stats.closed_sor += 1;
            }
            sor_id = s.sor_id;
            if chance(&mut self.rng, self.rates.fk_carries_sor_id) {
                u.sor_id = Some(s.sor_id);
                self.stats.fk_with_sor_id += 1;
            }
            if s.own.ean.is_some() && chance(&mut self.rng, self.rates.fk_carries_ean) {
                u.ean = s.own.ean;
                self.stats.fk_with_ean += 1;
            }
            self.truth.push((u.uuid, s.sor_id));
            self.sor.push(s);
        }
        let wanted = !level_left_out && closed_fk.is_none();
        let idx = self.push_fk(u, spec.kind, true);
        self.meta[idx].wanted_in_sor = wanted;
        Node {
            fk: idx,
            sor: sor_id,
            place,
            proper: if spec.name.proper.is_empty() { fk_name } else { spec.name.proper.clone() },
            sor_proper,
            context_in_sor: level_left_out && self.rough.is_some(),
            blocked,
            closed_fk,
            closed_sor,
        }
    }

    /// The parent of SOR unit `id` when it is an OE or SI (a unit moved up one level stays
    /// under the municipality's health institution).
    fn sor_grandparent(&self, id: SorId) -> Option<SorId> {
        let unit = self.sor.iter().rev().find(|u| u.sor_id == id)?;
        if unit.kind != SorKind::OrganizationalUnit {
            return None;
        }
        unit.parent
    }

    /// A SOR level the FK-ORG tree lacks (rough profile): a SOR-only OE under `parent`'s
    /// counterpart; units created under the returned node sit under it in SOR.
    fn extra_sor_level(&mut self, parent: &Node, name: String) -> Node {
        let mut s = self.bare_sor(SorKind::OrganizationalUnit, name, Some(parent.sor), codes::UNIT_TYPE_ADMINISTRATIVE);
        s.own.ean_inherited_indicator = true;
        let id = s.sor_id;
        self.sor.push(s);
        self.rough_stats.extra_sor_level += 1;
        Node { sor: id, ..parent.clone() }
    }

    fn count_name_diffs(&mut self, d: names::NameDiffs) {
        let s = &mut self.stats;
        s.synonym += u32::from(d.synonym);
        s.word_order += u32::from(d.word_order);
        s.abbreviation += u32::from(d.abbreviation);
        s.municipality_suffix += u32::from(d.municipality_suffix);
        s.ascii_letters += u32::from(d.ascii_letters);
        s.case += u32::from(d.case);
        s.typo += u32::from(d.typo);
        s.generic_parent_prefix += u32::from(d.parent_prefix);
    }

    /// A unit that exists only in SOR, optionally closed long ago.
    fn sor_only(&mut self, parent: SorId, name: String, closed: Option<NaiveDate>) -> SorId {
        let place = self.new_place(None);
        let mut s = self.bare_sor(SorKind::OrganizationalUnit, name, Some(parent), codes::UNIT_TYPE_CLINICAL);
        s.own.postal = Some(place.address());
        s.own.phone = Some(place.phone);
        s.to_date = closed;
        if let (Some(to), Some(from)) = (closed, s.from_date) {
            if from >= to {
                s.from_date = Some(to - Duration::days(900));
                s.first_from_date = s.from_date;
            }
            s.updated_at = Some(to);
        }
        let id = s.sor_id;
        self.sor.push(s);
        id
    }

    fn root_and_owner(&mut self) -> Node {
        let name = self.k.official_name();
        let place = Place {
            street: "Rådhuspladsen".to_string(),
            number: "1".to_string(),
            floor: None,
            postcode: self.k.postcode.to_string(),
            town: self.k.town.to_string(),
            phone: self.landline(),
        };
        let mut u = self.bare_fk(name.clone(), None);
        u.postal_address = Some(place.canonical_text());
        u.landline = Some(place.phone.clone());
        u.email = Some(format!("kommunen@{}", self.k.mail_domain()));
        let mut ie = self.bare_sor(SorKind::InstitutionOwner, name.clone(), None, codes::OWNER_TYPE_MUNICIPALITY);
        ie.own.postal = Some(place.address());
        ie.own.phone = Some(place.phone.clone());
        ie.own.email = u.email.clone();
        ie.own.website = Some(format!("www.{}", self.k.mail_domain()));
        self.truth.push((u.uuid, ie.sor_id));
        let sor = ie.sor_id;
        self.sor.push(ie);
        let idx = self.push_fk(u, UnitKind::Root, false);
        Node {
            fk: idx,
            sor,
            place,
            proper: name,
            sor_proper: None,
            context_in_sor: false,
            blocked: false,
            closed_fk: None,
            closed_sor: None,
        }
    }

    /// An FK-ORG unit whose counterpart is a SOR health institution (SI) under the IE.
    fn institution(&mut self, parent: &Node, fk_name: &str, si_name: &str, kind: UnitKind) -> Node {
        let place = self.new_place(None);
        let mut u = self.bare_fk(fk_name.to_string(), Some(self.fk[parent.fk].uuid));
        u.postal_address = Some(self.fk_address_text(&place));
        let phone = place.phone.clone();
        u.landline = Some(self.fk_phone_text(&phone));
        let mut si =
            self.bare_sor(SorKind::HealthInstitution, si_name.to_string(), Some(parent.sor), codes::INSTITUTION_TYPE);
        si.own.ean = Some(self.next_ean());
        si.own.postal = Some(place.address());
        si.own.phone = Some(place.phone.clone());
        self.truth.push((u.uuid, si.sor_id));
        let sor = si.sor_id;
        self.sor.push(si);
        let idx = self.push_fk(u, kind, true);
        Node {
            fk: idx,
            sor,
            place,
            proper: fk_name.to_string(),
            sor_proper: None,
            context_in_sor: false,
            blocked: false,
            closed_fk: None,
            closed_sor: None,
        }
    }

    fn admin(&mut self, parent: &Node, name: &str, kind: UnitKind) -> Node {
        self.fk_only(parent, name, kind, false)
    }

    fn district(&mut self) -> String {
        if self.rng.gen_bool(0.5) {
            pick(&mut self.rng, names::COMPASS).to_string()
        } else {
            pick(&mut self.rng, names::TOWNS).to_string()
        }
    }

    // ---- the health side -------------------------------------------------------------------

    fn care_homes(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let group = self.health(dir, Spec::group("Plejecentre", UnitKind::HealthGroup));
        // an extra SOR level below the group's counterpart (not where SOR leaves the group out:
        // there the extra level would be the group's counterpart under another name)
        let group = if group.sor != dir.sor && self.rough_chance(|r| r.extra_sor_level) {
            let name = pick(&mut self.rng, &["Ældreområdet", "Drift og Udvikling", "Område Pleje"]);
            self.extra_sor_level(&group, name.to_string())
        } else {
            group
        };
        let mut parents = vec![group.clone()];
        if budget > 80 {
            parents.clear();
            let n = (budget / 60).clamp(2, 8);
            for area in names::COMPASS.iter().take(n) {
                parents.push(self.health(&group, Spec::group(&format!("Område {area}"), UnitKind::HealthGroup)));
            }
        }
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let parent = parents[i % parents.len()].clone();
            let mut name = UnitName::typed("Plejecenter", self.places.take());
            name.proper_first = chance(&mut self.rng, 0.1);
            let home = self.health(&parent, Spec::place(name, UnitKind::CareHome, None).clinical());
            let sections = self.rng.gen_range(2..=4);
            for s in 0..sections {
                let n = format!("Afsnit {}", (b'A' + s as u8) as char);
                self.health(&home, Spec::generic(&n, UnitKind::CareSection));
            }
            for team in ["Team Aften", "Team Nat"] {
                if chance(&mut self.rng, 0.5) {
                    self.health(&home, Spec::generic(team, UnitKind::CareSection));
                }
            }
            if chance(&mut self.rng, 0.25) {
                self.health(&home, Spec::new(UnitName::plain("Demensafsnittet"), UnitKind::CareSection).clinical());
            }
            if chance(&mut self.rng, 0.4) {
                let kitchen = self.rough_name("Køkkenet".into(), "Køkken".into());
                self.fk_only(&home, &kitchen, UnitKind::CareService, true);
            }
            if chance(&mut self.rng, 0.3) {
                self.fk_only(&home, "Aktivitetscentret", UnitKind::CareService, true);
            }
            i += 1;
        }
        if let Some(r) = self.rough.clone() {
            let n = round_random(&mut self.rng, i as f64 * r.new_under_admin_per_100 / 100.0).max(1);
            for _ in 0..n {
                self.new_care_home_under_admin(dir);
            }
        }
    }

    /// A genuinely new care home that FK-ORG already has, under an administrative unit (a building
    /// project) that SOR does not have: the care home and its sections are creates, the project is not.
    fn new_care_home_under_admin(&mut self, dir: &Node) {
        let project = pick(
            &mut self.rng,
            &["Byggeprojekt Nye Plejeboliger", "Ældreboliger under opførelse", "Projekt Fremtidens Plejecenter"],
        );
        let admin = self.fk_only(dir, project, UnitKind::Admin, true);
        let name = UnitName::typed("Plejecenter", self.places.take());
        let home = self.health(&admin, Spec::place(name, UnitKind::CareHome, None).clinical().fixed());
        for n in ["Afsnit A", "Afsnit B"] {
            self.health(&home, Spec::generic(n, UnitKind::CareSection).fixed());
        }
        self.rough_stats.new_under_admin += 1;
    }

    fn home_care(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let hp = self.health(dir, Spec::group("Hjemmeplejen", UnitKind::HealthGroup));
        self.home_care = Some(hp.clone());
        let hp_sor = if hp.sor != dir.sor && self.rough_chance(|r| r.extra_sor_level) {
            let name = pick(&mut self.rng, &["Udførerområdet", "Leverandørområdet", "Drift og Udvikling"]);
            self.extra_sor_level(&hp, name.to_string())
        } else {
            hp.clone()
        };
        self.fk_only(&hp, "Visitationen", UnitKind::Admin, true);
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let d = self.district();
            let town = (!names::COMPASS.contains(&d.as_str())).then(|| d.clone());
            let district = self.health(
                &hp_sor,
                Spec::place(UnitName::typed("Hjemmepleje", d), UnitKind::HomeCareDistrict, town).skippable(),
            );
            for g in 1..=self.rng.gen_range(2..=4) {
                let name = self.rough_name(format!("Gruppe {g}"), format!("Team {g}"));
                self.health(&district, Spec::generic(&name, UnitKind::HomeCareGroup));
            }
            for team in ["Team Aften", "Team Nat"] {
                if chance(&mut self.rng, 0.6) {
                    self.health(&district, Spec::generic(team, UnitKind::HomeCareGroup));
                }
            }
            i += 1;
        }
    }

    fn nursing(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let hs = self.health(dir, Spec::new(UnitName::plain("Hjemmesygeplejen"), UnitKind::Nursing).clinical());
        let acute = self.health(
            &hs,
            Spec::place(UnitName::typed("Akutteam", self.k.name), UnitKind::AcuteTeam, None).clinical().fixed(),
        );
        for team in ["Team Dag", "Team Aften", "Team Nat"] {
            if chance(&mut self.rng, 0.5) {
                self.health(&acute, Spec::generic(team, UnitKind::AcuteTeam));
            }
        }
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let town = pick(&mut self.rng, names::TOWNS).to_string();
            if i % 2 == 0 {
                let name = UnitName::typed("Sygeplejeklinik", town.clone());
                self.health(&hs, Spec::place(name, UnitKind::NursingClinic, Some(town)).clinical());
            } else {
                let d = self.district();
                let name = UnitName::typed("Hjemmesygepleje", d);
                let district = self.health(&hs, Spec::place(name, UnitKind::Nursing, None).clinical().skippable());
                for team in ["Team Dag", "Team Aften"] {
                    self.health(&district, Spec::generic(team, UnitKind::Nursing));
                }
            }
            i += 1;
        }
    }

    fn rehabilitation(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let tr = self.health(dir, Spec::group("Træning og Rehabilitering", UnitKind::HealthGroup));
        self.health(&tr, Spec::new(UnitName::plain("Hjerneskadeteamet"), UnitKind::Rehabilitation).clinical());
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            if i % 3 == 2 {
                let name = UnitName::typed("Aflastningspladser", self.places.take());
                self.health(&tr, Spec::place(name, UnitKind::Rehabilitation, None).clinical());
            } else {
                let town = pick(&mut self.rng, names::TOWNS).to_string();
                let name = UnitName::typed("Genoptræningscenter", town.clone());
                let c = self.health(&tr, Spec::place(name, UnitKind::Rehabilitation, Some(town)).clinical());
                if chance(&mut self.rng, 0.5) {
                    self.health(&c, Spec::generic("Team Genoptræning", UnitKind::Rehabilitation));
                }
            }
            i += 1;
        }
    }

    fn health_visitors(&mut self, parent: &Node, budget: usize) {
        let start = self.sor.len();
        let sp = self.health(
            parent,
            Spec::place(UnitName::plain("Sundhedsplejen"), UnitKind::HealthVisitors, None).clinical().fixed(),
        );
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let d = self.district();
            self.health(&sp, Spec::new(UnitName::typed("Sundhedsplejen", d), UnitKind::HealthVisitors).clinical());
            i += 1;
        }
    }

    fn dental(&mut self, dental: &Node, budget: usize) {
        let start = self.sor.len();
        self.health(dental, Spec::new(UnitName::plain("Specialtandplejen"), UnitKind::DentalClinic).clinical());
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let school = format!("{}skolen", pick(&mut self.rng, names::PLACE_PREFIXES));
            let name = UnitName::typed("Tandklinik", school);
            self.health(dental, Spec::place(name, UnitKind::DentalClinic, None).clinical());
            i += 1;
        }
    }

    fn residential(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let sp = self.health(dir, Spec::group("Socialpsykiatri og Handicap", UnitKind::HealthGroup));
        let rc = self.health(
            &sp,
            Spec::place(UnitName::typed("Rusmiddelcenter", self.k.name), UnitKind::Addiction, None).clinical(),
        );
        for n in ["Alkoholbehandling", "Stofbehandling", "Ungeindsats"] {
            self.health(&rc, Spec::new(UnitName::plain(n), UnitKind::Addiction).clinical());
        }
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let name = UnitName::typed("Botilbud", self.places.take());
            let b = self.health(&sp, Spec::place(name, UnitKind::Residential, None));
            if chance(&mut self.rng, 0.5) {
                for a in ["Afdeling 1", "Afdeling 2"] {
                    self.health(&b, Spec::generic(a, UnitKind::Residential));
                }
            }
            i += 1;
        }
    }

    /// Units that exist only in SOR, and old units closed in SOR long ago.
    fn sor_extras(&mut self, si: SorId, n_only: usize, n_closed: usize) {
        const ONLY: &[&str] = &[
            "Udskrivningskoordinatorer",
            "Hospitalsforbindelse",
            "Kommunal akutfunktion på sygehuset",
            "Demenskoordinatorer",
            "Forløbskoordination",
            "Sygeplejeklinik ved lægehuset",
            "Hjælpemiddeldepot",
            "Kommunikationsenhed (EDI)",
            "Sårklinik",
            "Lungeteam",
            "Diabetesteam",
            "Tværsektorielt team",
        ];
        for i in 0..n_only {
            let base = ONLY[i % ONLY.len()];
            let name = match i / ONLY.len() {
                0 if i % 3 == 1 => format!("{base} {}", self.k.name),
                0 => base.to_string(),
                r => format!("{base} {}", r + 1),
            };
            self.sor_only(si, name, None);
            self.stats.sor_only += 1;
        }
        for _ in 0..n_closed {
            let to = self.past(200, 3_000);
            let name = format!(
                "{} {}",
                pick(&mut self.rng, &["Plejecenter", "Plejehjemmet", "Ældrecenter"]),
                self.places.take()
            );
            let id = self.sor_only(si, name, Some(to));
            self.stats.closed_sor += 1;
            if chance(&mut self.rng, 0.4) {
                self.sor_only(id, "Afsnit A".to_string(), Some(to));
                self.stats.closed_sor += 1;
            }
        }
    }

    /// Private providers: their own IE (private owner) with SI and OEs; some also in FK-ORG.
    fn private_providers(&mut self, n_units: usize) {
        if n_units == 0 {
            return;
        }
        let n_providers = n_units.div_ceil(4).clamp(1, 4);
        let mut pool: Vec<&str> = names::PRIVATE_PROVIDERS.to_vec();
        pool.shuffle(&mut self.rng);
        let mut made = 0;
        for (p, provider) in pool.iter().cycle().take(n_providers).enumerate() {
            let share = (n_units - made) / (n_providers - p);
            let place = self.new_place(None);
            let mut ie =
                self.bare_sor(SorKind::InstitutionOwner, format!("{provider} ApS"), None, codes::OWNER_TYPE_PRIVATE);
            ie.own.postal = Some(place.address());
            ie.own.phone = Some(place.phone.clone());
            let ie_id = ie.sor_id;
            self.sor.push(ie);
            let mut si = self.bare_sor(
                SorKind::HealthInstitution,
                provider.to_string(),
                Some(ie_id),
                codes::INSTITUTION_TYPE_PRIVATE,
            );
            si.own.ean = Some(self.next_ean());
            let si_id = si.sor_id;
            self.sor.push(si);
            made += 2;
            let mut oe = self.bare_sor(
                SorKind::OrganizationalUnit,
                format!("{provider}, {}", self.k.name),
                Some(si_id),
                codes::UNIT_TYPE_CLINICAL,
            );
            oe.own.ean_inherited_indicator = true;
            let oe_id = oe.sor_id;
            self.sor.push(oe);
            made += 1;
            self.stats.private_sor_units += 3;
            for t in 0..share.saturating_sub(3) {
                let d = names::COMPASS[t % names::COMPASS.len()];
                self.sor_only(oe_id, format!("Team {d}"), None);
                self.stats.private_sor_units += 1;
                made += 1;
            }
            if let Some(hp) = self.home_care.clone() {
                if chance(&mut self.rng, self.rates.private_in_fkorg) {
                    let name = if self.rng.gen_bool(0.5) {
                        format!("Privat leverandør - {provider}")
                    } else {
                        format!("{provider} (privat)")
                    };
                    let mut u = self.bare_fk(name, Some(self.fk[hp.fk].uuid));
                    let phone = place.phone.clone();
                    u.landline = Some(self.fk_phone_text(&phone));
                    self.truth.push((u.uuid, oe_id));
                    self.push_fk(u, UnitKind::PrivateProvider, true);
                    self.stats.private_fk_units += 1;
                }
            }
        }
    }

    // ---- the administration side ------------------------------------------------------------

    fn admin_fill(&mut self, dirs: &AdminDirs, target: usize) {
        let mut i = 0usize;
        while self.fk.len() < target && i < target * 2 {
            let roll: f64 = self.rng.gen();
            if roll < 0.22 {
                let name = if self.rng.gen_bool(0.5) {
                    format!("{}skolen", pick(&mut self.rng, names::PLACE_PREFIXES))
                } else {
                    format!("{} Skole", pick(&mut self.rng, names::TOWNS))
                };
                let s = self.admin(&dirs.schools, &name, UnitKind::School);
                for c in ["Indskoling", "Mellemtrin", "Udskoling", "SFO"] {
                    self.admin(&s, c, UnitKind::School);
                }
                if chance(&mut self.rng, 0.3) {
                    self.admin(&s, "Skolens administration", UnitKind::School);
                }
            } else if roll < 0.50 {
                if chance(&mut self.rng, 0.15) {
                    let d = self.district();
                    self.admin(&dirs.daycare, &format!("Dagplejen {d}"), UnitKind::Daycare);
                } else {
                    let name = format!("Børnehuset {}", self.places.take());
                    let b = self.admin(&dirs.daycare, &name, UnitKind::Daycare);
                    for c in ["Vuggestuen", "Børnehaven"] {
                        self.admin(&b, c, UnitKind::Daycare);
                    }
                }
            } else if roll < 0.60 {
                const TEAMS: &[&str] = &[
                    "Sygedagpenge",
                    "Ungeindsats",
                    "Virksomhedsservice",
                    "Ydelser",
                    "Integration",
                    "Fleksjob",
                    "Ressourceforløb",
                    "Rehabiliteringsteam",
                    "Jobafklaring",
                    "Kontanthjælp",
                ];
                let t = pick(&mut self.rng, TEAMS);
                self.admin(&dirs.jobcentre, &format!("Team {t}"), UnitKind::Admin);
            } else if roll < 0.72 {
                const TECH: &[&str] = &[
                    "Vej og Park",
                    "Byggesag",
                    "Natur og Miljø",
                    "Materielgården",
                    "Affald og Genbrug",
                    "Trafik",
                    "Plan og Udvikling",
                    "Ejendomsservice",
                ];
                let t = pick(&mut self.rng, TECH);
                let d = self.district();
                self.admin(&dirs.technical, &format!("{t} {d}"), UnitKind::Admin);
            } else if roll < 0.80 {
                let name = match self.rng.gen_range(0..4) {
                    0 => format!("Bibliotek {}", pick(&mut self.rng, names::TOWNS)),
                    1 => format!("Kulturhuset {}", self.places.take()),
                    2 => format!("Idrætscenter {}", pick(&mut self.rng, names::TOWNS)),
                    _ => "Musikskolen".to_string(),
                };
                self.admin(&dirs.culture, &name, UnitKind::Admin);
            } else if roll < 0.92 {
                const CENTRAL: &[&str] = &[
                    "Team Løn",
                    "Regnskab",
                    "Budget og Analyse",
                    "HR",
                    "IT-drift",
                    "Indkøb",
                    "Digitalisering",
                    "Jura",
                    "Kommunikation",
                    "Sekretariatet",
                ];
                let t = pick(&mut self.rng, CENTRAL);
                self.admin(&dirs.central, t, UnitKind::Admin);
            } else {
                const FAMILY: &[&str] =
                    &["Plejefamilier", "Familiecentret", "PPR", "Familierådgivningen", "Ungdomsskolen"];
                let t = pick(&mut self.rng, FAMILY);
                self.admin(&dirs.family, t, UnitKind::Admin);
            }
            i += 1;
        }
    }
}

struct AdminDirs {
    schools: Node,
    daycare: Node,
    family: Node,
    jobcentre: Node,
    technical: Node,
    culture: Node,
    central: Node,
}

fn admin_dirs(b: &mut Builder, root: &Node) -> (AdminDirs, Node) {
    let bu = b.admin(root, "Børn og Unge", UnitKind::Directorate);
    let schools = b.admin(&bu, "Skoler", UnitKind::Admin);
    let daycare = b.admin(&bu, "Dagtilbud", UnitKind::Admin);
    let family = b.admin(&bu, "Børn og Familie", UnitKind::Admin);
    let be = b.admin(root, "Beskæftigelse og Integration", UnitKind::Directorate);
    let jobcentre = b.admin(&be, &format!("Jobcenter {}", b.k.name), UnitKind::Admin);
    let tm = b.admin(root, "Teknik og Miljø", UnitKind::Directorate);
    let technical = b.admin(&tm, "Drift og Anlæg", UnitKind::Admin);
    let kf = b.admin(root, "Kultur og Fritid", UnitKind::Directorate);
    let culture = b.admin(&kf, &format!("{} Bibliotekerne", b.k.name), UnitKind::Admin);
    let central = b.admin(root, "Økonomi og Personale", UnitKind::Directorate);
    b.admin(root, "Borgerservice", UnitKind::Directorate);
    (AdminDirs { schools, daycare, family, jobcentre, technical, culture, central }, bu)
}

fn finish(b: Builder) -> GeneratedMunicipality {
    let cfg = b.cfg;
    let mut users_rng = rng_for(cfg.seed, b.k.code, 2);
    let mut stats = b.stats;
    let fk_users = super::users::users(&mut users_rng, cfg, &b.k, &b.fk, &b.meta, &mut stats);
    GeneratedMunicipality {
        kommune: b.k,
        cvr: b.k.cvr(),
        snapshot_date: cfg.snapshot_date,
        fk_units: b.fk,
        fk_meta: b.meta,
        fk_users,
        sor_units: b.sor,
        truth: b.truth,
        stats,
        rough_stats: b.rough.is_some().then_some(b.rough_stats),
    }
}

/// One of the 98 municipalities.
pub(crate) fn municipality(k: &Municipality, cfg: &GeneratorConfig) -> GeneratedMunicipality {
    let mut b = Builder::new(*k, cfg);
    let scale = cfg.scale.clamp(0.0, super::MAX_SCALE);
    let (fk_t, sor_t) = target_sizes(k.population);
    // the rough profile makes every third municipality small, where EM has little data
    let scale = match &b.rough {
        Some(r) if k.code.is_multiple_of(3) => scale * r.small_municipality_scale,
        _ => scale,
    };
    let (fk_target, sor_target) = (fk_t * scale, sor_t * scale);
    let r = b.rates.clone();

    let root = b.root_and_owner();
    let (dirs, bu) = admin_dirs(&mut b, &root);
    let dir_name = match k.code {
        101 => "Sundheds- og Omsorgsforvaltningen",
        c if c % 3 == 0 => "Sundhed og Omsorg",
        c if c % 3 == 1 => "Sundhed og Ældre",
        _ => "Social, Sundhed og Ældre",
    };
    let si_name = format!("{} Sundhed og Ældre", k.official_name());
    let dir = b.institution(&root, dir_name, &si_name, UnitKind::HealthDirectorate);
    let dental_si = format!("{} Kommunale Tandpleje", k.genitive());
    let dental = b.institution(&bu, "Den Kommunale Tandpleje", &dental_si, UnitKind::Dental);

    let core = (sor_target * (1.0 - r.sor_only - r.private_providers - r.closed_sor)).max(0.0);
    let share = |w: f64| (core * w).round() as usize;
    b.care_homes(&dir, share(0.42));
    b.home_care(&dir, share(0.22));
    b.nursing(&dir, share(0.10));
    b.rehabilitation(&dir, share(0.06));
    // health visitors sit under the health directorate or under Børn og Unge; in SOR under the SI
    let visitors_parent =
        if b.rng.gen_bool(0.5) { dir.clone() } else { Node { sor: dir.sor, blocked: false, ..bu.clone() } };
    b.health_visitors(&visitors_parent, share(0.05));
    b.dental(&dental, share(0.07));
    b.residential(&dir, share(0.08));

    let n_only = round_random(&mut b.rng, sor_target * r.sor_only);
    let n_closed = round_random(&mut b.rng, sor_target * r.closed_sor);
    b.sor_extras(dir.sor, n_only, n_closed);
    let n_private = round_random(&mut b.rng, sor_target * r.private_providers);
    b.private_providers(n_private);

    b.admin_fill(&dirs, fk_target.round() as usize);
    finish(b)
}

/// KOMBIT's example municipality Korsbæk (CVR 11111111, kommunekode 999 here): a care-home
/// administration "Ældreforvaltning" with "Plejecenter A", "Plejecenter B" and
/// "Plejecenter Evigglad", and their SOR counterparts.
pub(crate) fn korsbaek(cfg: &GeneratorConfig) -> GeneratedMunicipality {
    let mut b = Builder::new(KORSBAEK, cfg);
    let root = b.root_and_owner();
    let (dirs, _bu) = admin_dirs(&mut b, &root);
    let si_name = format!("{} Sundhed og Ældre", KORSBAEK.official_name());
    let dir = b.institution(&root, "Sundhed og Omsorg", &si_name, UnitKind::HealthDirectorate);
    let forv = b.health(&dir, Spec::place(UnitName::plain("Ældreforvaltning"), UnitKind::HealthGroup, None).fixed());
    for home in ["A", "B", "Evigglad"] {
        let h = b.health(
            &forv,
            Spec::place(UnitName::typed("Plejecenter", home), UnitKind::CareHome, None).clinical().fixed(),
        );
        for s in ["Afsnit 1", "Afsnit 2"] {
            b.health(&h, Spec::generic(s, UnitKind::CareSection).fixed());
        }
    }
    let hp = b.health(&dir, Spec::new(UnitName::plain("Hjemmeplejen"), UnitKind::HealthGroup).fixed());
    b.home_care = Some(hp.clone());
    b.health(&hp, Spec::place(UnitName::typed("Hjemmepleje", "Korsbæk"), UnitKind::HomeCareDistrict, None).fixed());
    b.admin_fill(&dirs, 40);
    finish(b)
}
