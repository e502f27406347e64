//! Builds one municipality's FK-ORG and SOR trees and the ground truth between them (pure).
//!
//! The health side is built unit by unit: each unit is created in FK-ORG and, unless a difference
//! says otherwise, in SOR under the SOR counterpart of its nearest FK-ORG ancestor that has one,
//! with a name written as SOR would write it. The administration side exists only in FK-ORG.

mod administration;
mod health;

use administration::admin_dirs;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
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

    fn district(&mut self) -> String {
        if self.rng.gen_bool(0.5) {
            pick(&mut self.rng, names::COMPASS).to_string()
        } else {
            pick(&mut self.rng, names::TOWNS).to_string()
        }
    }
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
