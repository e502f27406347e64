//! The wave plan: which municipalities are onboarded in which wave, with each municipality's
//! FK-ORG scope filter, SOR placement, dates, status and plan-level thresholds. Read from TOML
//! and checked; every problem names the file, the wave and the municipality. Pure: no IO except
//! [`load_plan`] reading the file.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::municipalities::Municipality as KnownMunicipality;
use crate::domain::{Cvr, FkTree, FkUuid, KommuneKode, SorId};
use crate::matching::Scope;

/// Where a municipality is in its onboarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Planned,
    Preparing,
    Ready,
    Pilot,
    Live,
    Paused,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Planned, Status::Preparing, Status::Ready, Status::Pilot, Status::Live, Status::Paused];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Preparing => "preparing",
            Status::Ready => "ready",
            Status::Pilot => "pilot",
            Status::Live => "live",
            Status::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a scope filter: an FK-ORG unit by UUID, or by its name (`enhedsnavn`, compared
/// without regard to case and surrounding space; every unit with that name counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UnitRef {
    Uuid(FkUuid),
    Name(String),
}

impl UnitRef {
    fn from_text(s: &str) -> UnitRef {
        match FkUuid::parse(s) {
            Ok(u) => UnitRef::Uuid(u),
            Err(_) => UnitRef::Name(s.trim().to_string()),
        }
    }
}

impl fmt::Display for UnitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitRef::Uuid(u) => write!(f, "{u}"),
            UnitRef::Name(n) => write!(f, "{n:?}"),
        }
    }
}

/// Which FK-ORG subtrees are health-relevant for a municipality.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeFilter {
    /// The municipality chose the whole tree on purpose (counts as configured).
    #[serde(default)]
    pub whole_tree: bool,
    /// Subtree roots to consider; empty = the whole tree.
    #[serde(default)]
    pub include: Vec<UnitRef>,
    /// Subtree roots to leave out (wins over `include`).
    #[serde(default)]
    pub exclude: Vec<UnitRef>,
    /// Scope chosen in FK-ORG itself: units assigned to one of these IT systems in FK-ORG's
    /// administration module (`organisationEnhedListe(itSystemer:)`).
    #[serde(default)]
    pub it_systems: Vec<uuid::Uuid>,
    /// ... and/or units with one of these KLE tasks (`organisationEnhedListe(opgaver:)`), e.g. "29.09.00".
    #[serde(default)]
    pub kle: Vec<String>,
}

/// A scope filter applied to one FK-ORG tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedScope {
    pub scope: Scope,
    /// Entries that name no unit of the tree.
    pub missing: Vec<UnitRef>,
}

impl ScopeFilter {
    /// True when the municipality made a choice (a whole-tree decision or at least one root).
    pub fn is_configured(&self) -> bool {
        self.whole_tree || !self.include.is_empty() || !self.exclude.is_empty() || self.from_fkorg()
    }

    /// True when FK-ORG is to be asked for the scope (IT systems and/or KLE tasks).
    pub fn from_fkorg(&self) -> bool {
        !self.it_systems.is_empty() || !self.kle.is_empty()
    }

    /// The filter to pass to `organisationEnhedListe`.
    pub fn fkorg_filter(&self) -> crate::sources::fkorg_client::ScopeFilter {
        crate::sources::fkorg_client::ScopeFilter {
            it_systems: self.it_systems.clone(),
            kle_numbers: self.kle.clone(),
            kle_role: None,
        }
    }

    /// [`Self::resolve`] with the units FK-ORG gave for [`Self::fkorg_filter`]: they are the
    /// subtree roots to consider (instead of `include`); `exclude` still leaves subtrees out. An
    /// empty answer from FK-ORG selects nothing, never the whole tree.
    pub fn resolve_with_fkorg(&self, tree: &FkTree, from_fkorg: &[FkUuid]) -> ResolvedScope {
        let mut resolved = ScopeFilter { include: Vec::new(), ..self.clone() }.resolve(tree);
        let mut include: Vec<FkUuid> = from_fkorg.iter().copied().filter(|u| tree.get(*u).is_some()).collect();
        if include.is_empty() {
            include.push(FkUuid::from_uuid(uuid::Uuid::nil()));
        }
        resolved.scope.include = include;
        resolved
    }

    /// The matcher's [`Scope`] for `tree`, and the entries that name no unit in it.
    pub fn resolve(&self, tree: &FkTree) -> ResolvedScope {
        let mut missing = Vec::new();
        let mut find = |refs: &[UnitRef]| -> Vec<FkUuid> {
            let mut out = Vec::new();
            for r in refs {
                let found: Vec<FkUuid> = match r {
                    UnitRef::Uuid(u) => tree.get(*u).map(|x| x.uuid).into_iter().collect(),
                    UnitRef::Name(n) => {
                        let want = n.to_lowercase();
                        tree.units
                            .iter()
                            .filter(|u| u.enhedsnavn.trim().to_lowercase() == want)
                            .map(|u| u.uuid)
                            .collect()
                    }
                };
                if found.is_empty() {
                    missing.push(r.clone());
                }
                out.extend(found);
            }
            out
        };
        let include = find(&self.include);
        let exclude = find(&self.exclude);
        // An include list whose every entry is missing must not widen to the whole tree.
        let include = if !self.include.is_empty() && include.is_empty() {
            vec![FkUuid::from_uuid(uuid::Uuid::nil())]
        } else {
            include
        };
        ResolvedScope { scope: Scope { include, exclude }, missing }
    }
}

/// Where new SOR units of the municipality go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SorPlacement {
    /// The municipality's SOR institution owner (IE).
    pub owner: Option<SorId>,
    /// Health institutions (SI) new units are placed under.
    pub health_institutions: Vec<SorId>,
}

/// One municipality in a wave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedMunicipality {
    pub name: String,
    pub kommune: KommuneKode,
    pub cvr: Cvr,
    pub status: Status,
    pub scope: ScopeFilter,
    pub sor: SorPlacement,
    /// The day the service agreement was approved (None: not yet).
    pub service_agreement_approved: Option<NaiveDate>,
    pub start: Option<NaiveDate>,
    pub go_live: Option<NaiveDate>,
    /// `[wave.municipality.policy]`: this municipality's overrides of the configured sync policy,
    /// as (key, value) in file order.
    #[serde(default)]
    pub policy: Vec<(String, String)>,
}

impl PlannedMunicipality {
    /// The sync policy for this municipality: `base` (the configured one) with its overrides.
    pub fn sync_policy(
        &self,
        base: &crate::matching::policy::SyncPolicy,
    ) -> Result<crate::matching::policy::SyncPolicy, String> {
        base.with(&self.policy)
    }
}

/// One wave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wave {
    pub name: String,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub municipalities: Vec<PlannedMunicipality>,
}

/// Plan-wide thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Share (0..=1) of link proposals that must be decided for "first review done".
    pub first_review: f64,
    /// More pending proposals than this after a run: the municipality needs a person (exit 2).
    pub max_pending: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { first_review: 0.8, max_pending: 0 }
    }
}

/// A checked wave plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WavePlan {
    pub thresholds: Thresholds,
    pub waves: Vec<Wave>,
}

impl WavePlan {
    pub fn wave(&self, name: &str) -> Option<&Wave> {
        self.waves.iter().find(|w| w.name == name)
    }

    /// Every municipality with its wave's name, in plan order.
    pub fn municipalities(&self) -> impl Iterator<Item = (&Wave, &PlannedMunicipality)> {
        self.waves.iter().flat_map(|w| w.municipalities.iter().map(move |m| (w, m)))
    }

    pub fn municipality(&self, kommune: KommuneKode) -> Option<(&Wave, &PlannedMunicipality)> {
        self.municipalities().find(|(_, m)| m.kommune == kommune)
    }
}

/// A problem with a wave plan, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}{}: {problem}", .wave.as_ref().map(|w| format!(", wave {w:?}")).unwrap_or_default(), .municipality.as_ref().map(|m| format!(", municipality {m}")).unwrap_or_default())]
pub struct PlanError {
    pub file: String,
    pub wave: Option<String>,
    /// Name and kommunekode as far as they are known, e.g. `Faxe (320)` or `entry 3`.
    pub municipality: Option<String>,
    pub problem: String,
}

// --- The TOML form -------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanToml {
    #[serde(default)]
    thresholds: Option<ThresholdsToml>,
    #[serde(default, rename = "wave")]
    waves: Vec<WaveToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsToml {
    first_review: Option<f64>,
    max_pending: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaveToml {
    name: String,
    start: Option<DateToml>,
    end: Option<DateToml>,
    #[serde(default, rename = "municipality")]
    municipalities: Vec<MunicipalityToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MunicipalityToml {
    name: Option<String>,
    kommunekode: Option<toml::Value>,
    cvr: Option<toml::Value>,
    status: Option<String>,
    service_agreement_approved: Option<DateToml>,
    start: Option<DateToml>,
    go_live: Option<DateToml>,
    #[serde(default)]
    scope: ScopeToml,
    #[serde(default)]
    sor: SorToml,
    #[serde(default)]
    policy: std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeToml {
    #[serde(default)]
    whole_tree: bool,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    it_systems: Vec<String>,
    #[serde(default)]
    kle: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SorToml {
    owner: Option<String>,
    #[serde(default)]
    health_institutions: Vec<String>,
}

/// A date written as a TOML date (`2026-09-01`) or a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DateToml {
    Native(toml::value::Datetime),
    Text(String),
}

impl DateToml {
    fn parse(&self) -> Result<NaiveDate, String> {
        let text = match self {
            DateToml::Native(d) => d.to_string(),
            DateToml::Text(s) => s.clone(),
        };
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)"))
    }
}

fn text_of(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => format!("{i:03}"),
        other => other.to_string(),
    }
}

/// Reads and checks a wave plan file.
pub fn load_plan(path: &Path) -> Result<WavePlan, PlanError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PlanError {
        file: file.clone(),
        wave: None,
        municipality: None,
        problem: format!("cannot read the file: {e}"),
    })?;
    parse_plan(&text, &file)
}

/// Checks a wave plan given as TOML text; `file` names it in errors. Stops at the first problem.
pub fn parse_plan(text: &str, file: &str) -> Result<WavePlan, PlanError> {
    let err = |wave: Option<&str>, municipality: Option<String>, problem: String| PlanError {
        file: file.to_string(),
        wave: wave.map(str::to_string),
        municipality,
        problem,
    };
    let raw: PlanToml = toml::from_str(text).map_err(|e| err(None, None, format!("not a valid wave plan: {e}")))?;
    let mut thresholds = Thresholds::default();
    if let Some(t) = raw.thresholds {
        if let Some(f) = t.first_review {
            if !(0.0..=1.0).contains(&f) {
                return Err(err(None, None, format!("thresholds.first_review {f} is not a share between 0 and 1")));
            }
            thresholds.first_review = f;
        }
        if let Some(m) = t.max_pending {
            thresholds.max_pending = m;
        }
    }
    let mut seen_waves: HashMap<String, ()> = HashMap::new();
    let mut seen: HashMap<KommuneKode, String> = HashMap::new();
    let mut waves = Vec::with_capacity(raw.waves.len());
    for w in raw.waves {
        let wname = w.name.trim().to_string();
        if wname.is_empty() {
            return Err(err(None, None, "a wave has an empty name".into()));
        }
        if seen_waves.insert(wname.clone(), ()).is_some() {
            return Err(err(Some(&wname), None, "the wave name is used twice".into()));
        }
        let wave_date = |d: &Option<DateToml>, field: &str| -> Result<Option<NaiveDate>, PlanError> {
            d.as_ref().map(|d| d.parse().map_err(|p| err(Some(&wname), None, format!("{field}: {p}")))).transpose()
        };
        let start = wave_date(&w.start, "start")?;
        let end = wave_date(&w.end, "end")?;
        let mut municipalities = Vec::with_capacity(w.municipalities.len());
        for (i, m) in w.municipalities.into_iter().enumerate() {
            let code_text = m.kommunekode.as_ref().map(text_of);
            let label = match (&m.name, &code_text) {
                (Some(n), Some(c)) => format!("{n} ({c})"),
                (None, Some(c)) => c.clone(),
                (Some(n), None) => n.clone(),
                (None, None) => format!("entry {}", i + 1),
            };
            let merr = |problem: String| err(Some(&wname), Some(label.clone()), problem);
            let code_text = code_text.ok_or_else(|| merr("kommunekode is missing".into()))?;
            let kommune = KommuneKode::parse(&code_text)
                .map_err(|_| merr(format!("kommunekode {code_text:?} is not three digits")))?;
            let known = KnownMunicipality::by_code(kommune.as_u16())
                .ok_or_else(|| merr(format!("kommunekode {kommune} is not a Danish municipality")))?;
            let name = m.name.clone().unwrap_or_else(|| known.name.to_string());
            let cvr_text = m.cvr.as_ref().map(text_of).ok_or_else(|| merr("cvr is missing".into()))?;
            let cvr = Cvr::parse(&cvr_text).map_err(|_| merr(format!("cvr {cvr_text:?} is not eight digits")))?;
            // KOMBIT's test municipality Korsbæk has 11111111, which fails the check.
            if kommune.as_u16() != 999 && !cvr.passes_modulus11() {
                return Err(merr(format!("cvr {cvr} fails the modulus-11 check")));
            }
            let status_text = m.status.clone().unwrap_or_else(|| "planned".into());
            let status = Status::parse(&status_text).ok_or_else(|| {
                let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                merr(format!("status {status_text:?} is not one of {}", all.join(", ")))
            })?;
            if let Some(other) = seen.insert(kommune, wname.clone()) {
                return Err(merr(format!("municipality {kommune} is already planned in wave {other:?}")));
            }
            let date = |d: &Option<DateToml>, field: &str| -> Result<Option<NaiveDate>, PlanError> {
                d.as_ref().map(|d| d.parse().map_err(|p| merr(format!("{field}: {p}")))).transpose()
            };
            let sor_id = |s: &str, field: &str| SorId::parse(s).map_err(|e| merr(format!("{field}: {e}")));
            let owner = m.sor.owner.as_deref().map(|s| sor_id(s, "sor.owner")).transpose()?;
            let health_institutions = m
                .sor
                .health_institutions
                .iter()
                .map(|s| sor_id(s, "sor.health_institutions"))
                .collect::<Result<Vec<_>, _>>()?;
            let policy = crate::config::policy_entries(&m.policy);
            crate::matching::policy::SyncPolicy::default().with(&policy).map_err(|e| merr(format!("policy: {e}")))?;
            municipalities.push(PlannedMunicipality {
                name,
                kommune,
                cvr,
                status,
                scope: ScopeFilter {
                    whole_tree: m.scope.whole_tree,
                    include: m.scope.include.iter().map(|s| UnitRef::from_text(s)).collect(),
                    exclude: m.scope.exclude.iter().map(|s| UnitRef::from_text(s)).collect(),
                    it_systems: m
                        .scope
                        .it_systems
                        .iter()
                        .map(|s| {
                            uuid::Uuid::parse_str(s.trim())
                                .map_err(|_| merr(format!("scope.it_systems: {s:?} is not an IT system's UUID")))
                        })
                        .collect::<Result<_, _>>()?,
                    kle: m
                        .scope
                        .kle
                        .iter()
                        .map(|s| {
                            if crate::sources::fkorg_client::is_kle_number(s) {
                                Ok(s.trim().to_string())
                            } else {
                                Err(merr(format!("scope.kle: {s:?} is not a KLE number like \"29.09.00\"")))
                            }
                        })
                        .collect::<Result<_, _>>()?,
                },
                sor: SorPlacement { owner, health_institutions },
                service_agreement_approved: date(&m.service_agreement_approved, "service_agreement_approved")?,
                start: date(&m.start, "start")?,
                go_live: date(&m.go_live, "go_live")?,
                policy,
            });
        }
        waves.push(Wave { name: wname, start, end, municipalities });
    }
    Ok(WavePlan { thresholds, waves })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
[thresholds]
first_review = 0.9

[[wave]]
name = "pilots"
start = 2026-09-01

[[wave.municipality]]
name = "Faxe"
kommunekode = 320
cvr = "29132000"
status = "pilot"
service_agreement_approved = 2026-08-15
scope.include = ["Sundhed og Ældre"]
scope.exclude = ["0b8c6a56-0000-4000-8000-000000000001"]
"#;

    fn faxe_cvr() -> String {
        KnownMunicipality::by_code(320).map(|m| m.cvr().to_string()).unwrap_or_default()
    }

    #[test]
    fn a_plan_reads_with_its_scope_dates_and_thresholds() {
        let text = OK.replace("29132000", &faxe_cvr());
        let plan = parse_plan(&text, "plan.toml").expect("the plan reads");
        assert_eq!(plan.thresholds.first_review, 0.9);
        let (w, m) = plan.municipalities().next().expect("one municipality");
        assert_eq!(w.name, "pilots");
        assert_eq!(m.status, Status::Pilot);
        assert_eq!(m.scope.include, vec![UnitRef::Name("Sundhed og Ældre".into())]);
        assert!(matches!(m.scope.exclude[0], UnitRef::Uuid(_)));
        assert_eq!(m.service_agreement_approved, NaiveDate::from_ymd_opt(2026, 8, 15));
    }

    #[test]
    fn a_scope_chosen_in_fk_org_reads_and_bad_entries_are_named() {
        let text = OK.replace("29132000", &faxe_cvr()).replace(
            "scope.include = [\"Sundhed og Ældre\"]",
            "scope.it_systems = [\"0b8c6a56-0000-4000-8000-0000000000aa\"]\nscope.kle = [\"29.09.00\", \"27.24\"]",
        );
        let plan = parse_plan(&text, "w.toml").unwrap();
        let m = &plan.waves[0].municipalities[0];
        assert!(m.scope.from_fkorg() && m.scope.is_configured());
        assert_eq!(m.scope.kle, ["29.09.00", "27.24"]);
        let filter = m.scope.fkorg_filter();
        assert_eq!(filter.it_systems.len(), 1);
        let bad = text.replace("\"27.24\"", "\"sundhed\"");
        let err = parse_plan(&bad, "w.toml").unwrap_err().to_string();
        assert!(err.contains("w.toml") && err.contains("scope.kle") && err.contains("sundhed"), "{err}");
        let bad = text.replace("0b8c6a56-0000-4000-8000-0000000000aa", "it-system");
        let err = parse_plan(&bad, "w.toml").unwrap_err().to_string();
        assert!(err.contains("scope.it_systems"), "{err}");
    }

    #[test]
    fn a_bad_status_is_named_with_file_wave_and_municipality() {
        let text = OK.replace("29132000", &faxe_cvr()).replace("\"pilot\"", "\"done\"");
        let e = parse_plan(&text, "plan.toml").expect_err("bad status");
        assert_eq!(e.wave.as_deref(), Some("pilots"));
        assert_eq!(e.municipality.as_deref(), Some("Faxe (320)"));
        assert!(
            e.to_string().starts_with("plan.toml, wave \"pilots\", municipality Faxe (320): status \"done\""),
            "{e}"
        );
    }
}
