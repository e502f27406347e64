//! Generated municipalities at national scale, with ground truth and change over time.
//!
//! Real municipal data is not public, so tests, benchmarks and the demo use generated data that
//! looks like the real thing: the 98 real municipalities ([`municipalities`]), FK-ORG trees with
//! administration and health branches, SOR trees (IE > SI > OE) that differ from FK-ORG the way
//! the real registers do, users with and without phone numbers, and a second snapshot some weeks
//! later ([`evolve`]).
//!
//! Generation is pure ([`generate_municipality`], [`evolve::evolve`]): it builds domain values
//! (`FkUnit`, `FkUser`, `SorUnit`) from a seed. The writers ([`fkorg_writer`], [`sor_writer`],
//! [`output`]) turn them into files. Every municipality has its own ChaCha RNG seeded from the
//! seed and its kommunekode, so generating one municipality alone (`--only`) gives the same data
//! as generating it with all the others.

mod build;
pub mod evolve;
pub mod expected;
pub mod fkorg_writer;
pub use crate::domain::municipalities;
pub mod names;
pub mod output;
pub mod sor_writer;
mod users;

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::domain::{Cvr, FkUnit, FkUser, FkUuid, SorId, SorUnit};
pub use municipalities::{Municipality, KORSBAEK, MUNICIPALITIES, PILOTS};

/// How often each difference between the two registers occurs. The rates marked "noise" are
/// multiplied by [`GeneratorConfig::noise`] (and capped at 1); the others describe structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DifferenceRates {
    /// noise: SOR uses a synonym for the type word ("Plejehjem" for "Plejecenter"). Default 0.25.
    pub synonym: f64,
    /// noise: type word and proper name swapped ("Solgården Plejecenter"). Default 0.06.
    pub word_order: f64,
    /// noise: an abbreviation ("Plejectr.", "Hj.sygepl.", "&"). Default 0.08.
    pub abbreviation: f64,
    /// noise: the municipality's name added (" - Faxe Kommune", " (Faxe)"). Default 0.12.
    pub municipality_suffix: f64,
    /// noise: æ/ø/å written ae/oe/aa (in SOR, or in FK-ORG by a third of these). Default 0.15.
    pub ascii_letters: f64,
    /// noise: upper, lower or sentence case. Default 0.05.
    pub case: f64,
    /// noise: one typing error. Default 0.03.
    pub typo: f64,
    /// noise: a generic child name ("Afsnit A") prefixed with its parent's name in SOR. Default 0.3.
    pub generic_parent_prefix: f64,
    /// noise: an FK-ORG grouping unit ("Plejecentre", "Område Nord") has no SOR counterpart, so SOR
    /// is flatter. Default 0.5.
    pub flatten: f64,
    /// noise: the FK-ORG address text is written differently from the canonical form. Default 0.4.
    pub address_format: f64,
    /// noise: the FK-ORG phone is written differently ("+45 55 44 33 22"). Default 0.4.
    pub phone_format: f64,
    /// noise: a health-relevant FK-ORG leaf is closed (INAKTIV with tilTidspunkt) while SOR is
    /// still open (a third of them closed in SOR too). Default 0.02.
    pub closed_fk: f64,
    /// noise: share of SOR units that are old closed units (ToDate) with no FK-ORG counterpart.
    /// Default 0.03.
    pub closed_sor: f64,
    /// noise: a health-relevant FK-ORG unit has no SOR counterpart yet. Default 0.06.
    pub fk_without_sor: f64,
    /// noise: share of SOR units that exist only in SOR (hospital liaisons, coordinators).
    /// Default 0.05.
    pub sor_only: f64,
    /// structure: share of SOR units that belong to private providers (own private IE). Default 0.04.
    pub private_providers: f64,
    /// structure: share of private providers the municipality also keeps in FK-ORG. Default 0.5.
    pub private_in_fkorg: f64,
    /// structure: a linked FK-ORG unit already carries its SOR-ID (address role SOR). Default 0.15.
    pub fk_carries_sor_id: f64,
    /// structure: an FK-ORG unit whose SOR counterpart has an EAN carries it. Default 0.2.
    pub fk_carries_ean: f64,
    /// structure: a (non-generic) SOR OE has its own EAN. Default 0.35.
    pub sor_own_ean: f64,
    /// structure: a SOR OE without its own EAN says it inherits the parent's. Default 0.5.
    pub sor_ean_inherited: f64,
    /// structure: a SOR unit that shares its parent's address leaves it out (inherits). Default 0.7.
    pub sor_address_inherited: f64,
}

impl Default for DifferenceRates {
    fn default() -> Self {
        DifferenceRates {
            synonym: 0.25,
            word_order: 0.06,
            abbreviation: 0.08,
            municipality_suffix: 0.12,
            ascii_letters: 0.15,
            case: 0.05,
            typo: 0.03,
            generic_parent_prefix: 0.3,
            flatten: 0.5,
            address_format: 0.4,
            phone_format: 0.4,
            closed_fk: 0.02,
            closed_sor: 0.03,
            fk_without_sor: 0.06,
            sor_only: 0.05,
            private_providers: 0.04,
            private_in_fkorg: 0.5,
            fk_carries_sor_id: 0.15,
            fk_carries_ean: 0.2,
            sor_own_ean: 0.35,
            sor_ean_inherited: 0.5,
            sor_address_inherited: 0.7,
        }
    }
}

impl DifferenceRates {
    /// The rates with the noise rates multiplied by `noise` (capped at 1).
    pub fn with_noise(&self, noise: f64) -> DifferenceRates {
        let n = |r: f64| (r * noise.max(0.0)).min(1.0);
        DifferenceRates {
            synonym: n(self.synonym),
            word_order: n(self.word_order),
            abbreviation: n(self.abbreviation),
            municipality_suffix: n(self.municipality_suffix),
            ascii_letters: n(self.ascii_letters),
            case: n(self.case),
            typo: n(self.typo),
            generic_parent_prefix: n(self.generic_parent_prefix),
            flatten: n(self.flatten),
            address_format: n(self.address_format),
            phone_format: n(self.phone_format),
            closed_fk: n(self.closed_fk),
            closed_sor: n(self.closed_sor),
            fk_without_sor: n(self.fk_without_sor),
            sor_only: n(self.sor_only),
            ..self.clone()
        }
    }
}

/// Users (role holders) in FK-ORG and their phone numbers. KLIK found that a third of role
/// holders had neither a direct (landline) nor a mobile number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserRates {
    /// Users per FK-ORG unit. Default 0.5.
    pub users_per_unit: f64,
    /// Landline only. Default 0.20.
    pub landline_only: f64,
    /// Mobile only. Default 0.30.
    pub mobile_only: f64,
    /// Both. Default 0.17. The rest (default 0.33) have neither.
    pub both: f64,
    /// Share of registered numbers that are malformed ("1234", "ring til receptionen"). Default 0.03.
    pub malformed: f64,
    /// Share of users with a second membership. Default 0.15.
    pub second_membership: f64,
    /// Share of memberships that are the manager function. Default 0.1.
    pub manager: f64,
}

impl Default for UserRates {
    fn default() -> Self {
        UserRates {
            users_per_unit: 0.5,
            landline_only: 0.20,
            mobile_only: 0.30,
            both: 0.17,
            malformed: 0.03,
            second_membership: 0.15,
            manager: 0.1,
        }
    }
}

/// What changes between the first snapshot and the evolved one (`--evolve`), as shares of the
/// health-relevant FK-ORG units (at least one of each kind when there are enough units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvolveRates {
    /// Weeks between the snapshots. Default 6.
    pub weeks: u32,
    pub rename: f64,
    pub moves: f64,
    pub close: f64,
    pub create: f64,
    pub address: f64,
    pub phone: f64,
}

impl Default for EvolveRates {
    fn default() -> Self {
        EvolveRates { weeks: 6, rename: 0.02, moves: 0.01, close: 0.01, create: 0.015, address: 0.02, phone: 0.03 }
    }
}

/// Which kind of noise the generator draws. Two deliberately different profiles, so that a matcher
/// tuned on one can be checked on the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// The original generator (the default; its output does not change).
    #[default]
    Standard,
    /// Other noise on top of other rates: street abbreviations, SOR levels skipped and added, units
    /// renamed or moved in SOR, generic names, missing addresses and phones, small municipalities,
    /// new care homes under administrative FK-ORG levels (see [`RoughRates`]).
    Rough,
}

impl Profile {
    pub fn is_standard(&self) -> bool {
        *self == Profile::Standard
    }
    /// The difference rates this profile starts from (a `--rates` file overrides single fields).
    pub fn default_rates(self) -> DifferenceRates {
        match self {
            Profile::Standard => DifferenceRates::default(),
            Profile::Rough => DifferenceRates {
                synonym: 0.35,
                word_order: 0.1,
                abbreviation: 0.15,
                municipality_suffix: 0.2,
                ascii_letters: 0.1,
                case: 0.08,
                typo: 0.05,
                generic_parent_prefix: 0.6,
                flatten: 0.6,
                address_format: 0.5,
                phone_format: 0.6,
                closed_fk: 0.02,
                closed_sor: 0.03,
                fk_without_sor: 0.05,
                sor_only: 0.07,
                fk_carries_sor_id: 0.05,
                fk_carries_ean: 0.1,
                sor_own_ean: 0.2,
                ..DifferenceRates::default()
            },
        }
    }
}

/// The rough profile's own differences (all noise: multiplied by [`GeneratorConfig::noise`]),
/// drawn on top of [`DifferenceRates`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoughRates {
    /// The street name abbreviated in FK-ORG ("Stationsvej" -> "Stationsv.", "gade" -> "g.",
    /// "Allé" -> "Alle"). Default 0.25.
    pub street_abbreviation_fk: f64,
    /// The same in SOR. Default 0.15.
    pub street_abbreviation_sor: f64,
    /// A home-care or nursing district that SOR skips: its children sit directly under the
    /// district's parent in SOR. Default 0.25.
    pub skip_level: f64,
    /// SOR has an extra level FK-ORG lacks ("Ældreområdet" above the care homes). Default 0.4.
    pub extra_sor_level: f64,
    /// A unit at its own address has an older, different name in SOR. Default 0.06.
    pub renamed: f64,
    /// A unit at its own address sits one level higher in SOR than in FK-ORG. Default 0.06.
    pub moved: f64,
    /// A generic child's FK-ORG name carries the parent's name ("Solgården Afsnit A"). Default 0.15.
    pub fk_context_name: f64,
    /// FK-ORG has no address on a unit that has one. Default 0.2.
    pub missing_fk_address: f64,
    /// FK-ORG has no phone on a unit that has one. Default 0.2.
    pub missing_fk_phone: f64,
    /// SOR leaves out a unit's own address (so it inherits its parent's). Default 0.15.
    pub missing_sor_address: f64,
    /// SOR leaves out a unit's own phone. Default 0.15.
    pub missing_sor_phone: f64,
    /// New care homes per 100 care homes registered in FK-ORG under an administrative unit SOR
    /// does not have (at least one per municipality). Default 3.
    pub new_under_admin_per_100: f64,
    /// structure: size multiplier of every third municipality (kommunekode divisible by 3), so
    /// that many are small. Default 0.25.
    pub small_municipality_scale: f64,
}

impl Default for RoughRates {
    fn default() -> Self {
        RoughRates {
            street_abbreviation_fk: 0.25,
            street_abbreviation_sor: 0.15,
            skip_level: 0.25,
            extra_sor_level: 0.4,
            renamed: 0.06,
            moved: 0.06,
            fk_context_name: 0.15,
            missing_fk_address: 0.2,
            missing_fk_phone: 0.2,
            missing_sor_address: 0.15,
            missing_sor_phone: 0.15,
            new_under_admin_per_100: 3.0,
            small_municipality_scale: 0.25,
        }
    }
}

impl RoughRates {
    /// The rates with the noise rates multiplied by `noise` (capped at 1).
    pub fn with_noise(&self, noise: f64) -> RoughRates {
        let n = |r: f64| (r * noise.max(0.0)).min(1.0);
        RoughRates {
            street_abbreviation_fk: n(self.street_abbreviation_fk),
            street_abbreviation_sor: n(self.street_abbreviation_sor),
            skip_level: n(self.skip_level),
            extra_sor_level: n(self.extra_sor_level),
            renamed: n(self.renamed),
            moved: n(self.moved),
            fk_context_name: n(self.fk_context_name),
            missing_fk_address: n(self.missing_fk_address),
            missing_fk_phone: n(self.missing_fk_phone),
            missing_sor_address: n(self.missing_sor_address),
            missing_sor_phone: n(self.missing_sor_phone),
            new_under_admin_per_100: self.new_under_admin_per_100 * noise.max(0.0),
            small_municipality_scale: self.small_municipality_scale,
        }
    }
}

/// How often each rough-profile difference was drawn in one municipality.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoughStats {
    pub street_abbreviation_fk: u32,
    pub street_abbreviation_sor: u32,
    pub skipped_level: u32,
    pub extra_sor_level: u32,
    pub renamed: u32,
    pub moved: u32,
    pub fk_context_name: u32,
    pub missing_fk_address: u32,
    pub missing_fk_phone: u32,
    pub missing_sor_address: u32,
    pub missing_sor_phone: u32,
    pub new_under_admin: u32,
}

/// Everything that decides the generated data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratorConfig {
    /// The noise profile (written to the manifest only when it is not the standard one, so the
    /// standard profile's files stay as they were).
    #[serde(skip_serializing_if = "Profile::is_standard")]
    pub profile: Profile,
    pub seed: u64,
    /// Multiplies the sizes (1.0: about 150,000 FK-ORG units and 20,000 SOR units nationally).
    pub scale: f64,
    /// Multiplies the noise rates in [`DifferenceRates`]. 0 gives registers that differ only in
    /// structure; 1 is the default realism.
    pub noise: f64,
    /// The day the snapshot is taken (dates in the data are relative to it).
    pub snapshot_date: NaiveDate,
    pub rates: DifferenceRates,
    pub users: UserRates,
    pub evolve: EvolveRates,
    /// The rough profile's own rates (only with [`Profile::Rough`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rough: Option<RoughRates>,
}

impl GeneratorConfig {
    /// The default configuration of `profile`.
    pub fn for_profile(profile: Profile) -> Self {
        GeneratorConfig {
            profile,
            rates: profile.default_rates(),
            rough: (profile == Profile::Rough).then(RoughRates::default),
            ..GeneratorConfig::default()
        }
    }
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            profile: Profile::Standard,
            rough: None,
            seed: 1,
            scale: 1.0,
            noise: 1.0,
            snapshot_date: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default(),
            rates: DifferenceRates::default(),
            users: UserRates::default(),
            evolve: EvolveRates::default(),
        }
    }
}

/// SOR type codes used in the generated SOR files. Kept as data in one place: the codes marked
/// (unconfirmed) are placeholders until we know the real ones.
pub mod codes {
    /// OE UnitType "administrativ enhed".
    pub const UNIT_TYPE_ADMINISTRATIVE: &str = "550811000005108";
    /// OE UnitType "klinisk enhed".
    pub const UNIT_TYPE_CLINICAL: &str = "550851000005109";
    /// OE UnitType "service enhed".
    pub const UNIT_TYPE_SERVICE: &str = "550821000005102";
    /// IE OwnerType of private owners, as in the SOR sample files.
    pub const OWNER_TYPE_PRIVATE: &str = "550891000005100";
    /// IE OwnerType of a municipality (unconfirmed).
    pub const OWNER_TYPE_MUNICIPALITY: &str = "550901000005107";
    /// SI InstitutionType of a municipal health institution (unconfirmed).
    pub const INSTITUTION_TYPE: &str = "550631000005105";
    /// SI InstitutionType of a private provider's institution (unconfirmed).
    pub const INSTITUTION_TYPE_PRIVATE: &str = "550641000005101";
}

/// The rate knobs as read from a TOML file (`--rates FILE`): sections `[rates]`, `[users]` and
/// `[evolve]` with any of the fields of [`DifferenceRates`], [`UserRates`] and [`EvolveRates`];
/// fields left out keep their defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RatesFile {
    pub rates: DifferenceRates,
    pub users: UserRates,
    pub evolve: EvolveRates,
    /// The rough profile's own rates (`[rough]`; only used with the rough profile).
    pub rough: RoughRates,
}

/// The largest scale: SOR-IDs are numbered in a block of 100,000 per municipality.
pub const MAX_SCALE: f64 = 40.0;

/// What kind of unit an FK-ORG unit is (for users' titles and for the evolved snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Root,
    Directorate,
    Admin,
    School,
    Daycare,
    HealthDirectorate,
    HealthGroup,
    CareHome,
    CareSection,
    CareService,
    HomeCareDistrict,
    HomeCareGroup,
    Nursing,
    NursingClinic,
    AcuteTeam,
    Rehabilitation,
    HealthVisitors,
    Dental,
    DentalClinic,
    Residential,
    Addiction,
    PrivateProvider,
}

/// Facts about a generated FK-ORG unit that the files do not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitMeta {
    pub kind: UnitKind,
    /// In the health-relevant part of the tree (what a municipality's SOR filter would choose).
    pub health: bool,
    /// A careful SOR administrator wants this unit in SOR: it has a counterpart, or it is a health
    /// unit at a level the municipality registers that SOR lacks so far (a create). False for
    /// administration, kitchens, and grouping levels SOR leaves out.
    pub wanted_in_sor: bool,
}

/// How often each difference was drawn in one municipality (written to the manifest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DifferenceStats {
    pub synonym: u32,
    pub word_order: u32,
    pub abbreviation: u32,
    pub municipality_suffix: u32,
    pub ascii_letters: u32,
    pub case: u32,
    pub typo: u32,
    pub generic_parent_prefix: u32,
    pub flattened_fk_units: u32,
    pub address_format: u32,
    pub phone_format: u32,
    pub closed_fk: u32,
    pub closed_sor: u32,
    pub fk_without_sor: u32,
    pub sor_only: u32,
    pub private_sor_units: u32,
    pub private_fk_units: u32,
    pub fk_with_sor_id: u32,
    pub fk_with_ean: u32,
    pub sor_own_ean: u32,
    pub sor_inherited_ean: u32,
    pub sor_inherited_address: u32,
    pub users_landline_only: u32,
    pub users_mobile_only: u32,
    pub users_both: u32,
    pub users_neither: u32,
    pub users_malformed_number: u32,
}

/// One generated municipality: both registers and the ground truth.
#[derive(Debug, Clone)]
pub struct GeneratedMunicipality {
    pub kommune: Municipality,
    pub cvr: Cvr,
    pub snapshot_date: NaiveDate,
    /// Root first; every parent before its children.
    pub fk_units: Vec<FkUnit>,
    /// Parallel to `fk_units`.
    pub fk_meta: Vec<UnitMeta>,
    pub fk_users: Vec<FkUser>,
    /// The municipality's IE, SI and OEs, then the private providers' IEs with theirs; every
    /// parent before its children.
    pub sor_units: Vec<SorUnit>,
    /// Pairs that are the same real unit (root <-> IE, health directorate <-> SI, OEs).
    pub truth: Vec<(FkUuid, SorId)>,
    pub stats: DifferenceStats,
    /// The rough profile's differences (None in the standard profile).
    pub rough_stats: Option<RoughStats>,
}

/// The RNG for one municipality and purpose, independent of which others are generated.
pub(crate) fn rng_for(seed: u64, kommunekode: u16, purpose: u64) -> ChaCha8Rng {
    let mut x = seed ^ (u64::from(kommunekode) << 32) ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64 finaliser, so that neighbouring seeds give unrelated streams
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    ChaCha8Rng::seed_from_u64(x)
}

/// The target sizes at scale 1 for a municipality of `population` inhabitants:
/// FK-ORG units from 300 (smallest) to about 10,000 (København), SOR units from 50 to 2,000.
pub fn target_sizes(population: u32) -> (f64, f64) {
    let r = (f64::from(population.saturating_sub(1_800)) / 658_200.0).clamp(0.0, 1.5);
    let fk = 300.0 + 9_700.0 * r.powf(0.82);
    let sor = 50.0 + 1_950.0 * r.powf(1.06);
    (fk, sor)
}

/// Builds one municipality (pure: no IO, no clock).
pub fn generate_municipality(kommune: &Municipality, cfg: &GeneratorConfig) -> GeneratedMunicipality {
    if kommune.code == KORSBAEK.code {
        build::korsbaek(cfg)
    } else {
        build::municipality(kommune, cfg)
    }
}
