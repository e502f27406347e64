//! How much a run leaves to people, and how often the policy's own decisions are wrong, against a
//! careful SOR administrator's expected decision for every case (`expected.csv` of the generator:
//! `case;decision;sor_id;parent_sor_id`). Pure; used by `benches/decisions.rs`.

use std::collections::{BTreeMap, HashMap};

use super::cases::{CaseKey, Correspondence};
use super::policy::SyncPolicy;
use super::Proposals;
use crate::domain::SorId;

/// A careful administrator's decision for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Link(SorId),
    New,
    NotInSor,
    SorOnlyKeep,
    SorOnlyClose,
}

/// Reads `expected.csv`: a header `case;decision;sor_id;parent_sor_id`, then one row per case.
/// The error names the line and the problem.
pub fn parse_expected(text: &str) -> Result<HashMap<String, Expected>, String> {
    let mut out = HashMap::new();
    let mut lines = text.trim_start_matches('\u{feff}').lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else { return Err("the file is empty".into()) };
    if !header.trim().to_lowercase().starts_with("case;decision") {
        return Err(format!("line 1: expected the header case;decision;sor_id;parent_sor_id, found {header:?}"));
    }
    for (i, line) in lines {
        let cols: Vec<&str> = line.split(';').map(str::trim).collect();
        let (case, decision) = (cols.first().copied().unwrap_or(""), cols.get(1).copied().unwrap_or(""));
        let sor = cols.get(2).copied().unwrap_or("");
        let e = match decision {
            "link" => {
                Expected::Link(SorId::parse(sor).map_err(|e| format!("line {}: case {case}: sor_id: {e}", i + 1))?)
            }
            "new" => Expected::New,
            "not_in_sor" => Expected::NotInSor,
            "sor_only_keep" => Expected::SorOnlyKeep,
            "sor_only_close" => Expected::SorOnlyClose,
            other => return Err(format!("line {}: case {case}: unknown decision {other:?}", i + 1)),
        };
        out.insert(case.to_string(), e);
    }
    Ok(out)
}

/// The work a run leaves to a person, and the policy's mistakes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecisionScore {
    pub fk_units: usize,
    pub cases: usize,
    /// Proposals a person must decide (each one decision).
    pub person_decisions: usize,
    /// ... by kind (`link`, `create`, `update`, ...).
    pub person_by_kind: BTreeMap<&'static str, usize>,
    /// Cases the policy decides without a person, compared with an expected decision.
    pub auto_cases_checked: usize,
    /// Of those, decided otherwise than the careful administrator would.
    pub wrong_auto: usize,
    /// The wrong ones by what was decided and what was expected, e.g. `not_in_sor[closed] -> link`.
    pub wrong_by: BTreeMap<String, usize>,
    /// A few of the wrong ones, for people reading the benchmark.
    pub wrong_examples: Vec<String>,
}

impl DecisionScore {
    pub fn add(&mut self, o: DecisionScore) {
        self.fk_units += o.fk_units;
        self.cases += o.cases;
        self.person_decisions += o.person_decisions;
        for (k, n) in o.person_by_kind {
            *self.person_by_kind.entry(k).or_insert(0) += n;
        }
        self.auto_cases_checked += o.auto_cases_checked;
        self.wrong_auto += o.wrong_auto;
        for (k, n) in o.wrong_by {
            *self.wrong_by.entry(k).or_insert(0) += n;
        }
        let room = 20usize.saturating_sub(self.wrong_examples.len());
        self.wrong_examples.extend(o.wrong_examples.into_iter().take(room));
    }

    /// Decisions for a person per 100 FK-ORG units.
    pub fn person_per_100(&self) -> f64 {
        100.0 * self.person_decisions as f64 / self.fk_units.max(1) as f64
    }

    /// Wrong decisions taken without a person per 1,000 FK-ORG units.
    pub fn wrong_auto_per_1000(&self) -> f64 {
        1000.0 * self.wrong_auto as f64 / self.fk_units.max(1) as f64
    }
}

/// Scores one municipality's run: `fk_units` in its FK-ORG file, the run's proposals and cases,
/// the policy, and the expected decisions.
pub fn score(
    fk_units: usize,
    proposals: &Proposals,
    policy: &SyncPolicy,
    expected: &HashMap<String, Expected>,
) -> DecisionScore {
    let mut s = DecisionScore { fk_units, cases: proposals.cases.len(), ..DecisionScore::default() };
    for p in &proposals.proposals {
        if policy.rule(p).is_none() {
            s.person_decisions += 1;
            *s.person_by_kind.entry(p.kind().as_str()).or_insert(0) += 1;
        }
    }
    // SOR units an FK-ORG unit is expected to be linked to.
    let expected_linked: HashMap<SorId, &str> = expected
        .iter()
        .filter_map(|(case, e)| match e {
            Expected::Link(s) => Some((*s, case.as_str())),
            _ => None,
        })
        .collect();
    // FK-ORG cases a person looks at: a SOR unit they may turn out to be is not decided by the
    // policy alone (the person links it by hand), so keeping it as SOR-only meanwhile is no mistake.
    let person_fk: std::collections::HashSet<String> =
        proposals.cases.iter().filter(|c| !c.auto()).map(|c| c.key.to_string()).collect();
    for c in proposals.cases.iter().filter(|c| c.auto()) {
        let key = c.key.to_string();
        let wanted = expected.get(&key);
        let right = match (&c.correspondence, c.key) {
            (Correspondence::SorOnlyKeep, CaseKey::Sor(sor_id)) => {
                if let Some(fk) = expected_linked.get(&sor_id) {
                    let ok = person_fk.contains(*fk);
                    Some((ok, format!("kept SOR unit {sor_id} {:?} as SOR-only; it is FK-ORG unit {fk}", c.name)))
                } else {
                    wanted.map(|w| (*w == Expected::SorOnlyKeep, format!("kept SOR unit {sor_id} {:?}: {w:?}", c.name)))
                }
            }
            (Correspondence::Linked { sor_id, .. }, _) => wanted
                .map(|w| (*w == Expected::Link(*sor_id), format!("linked {:?} to {sor_id}; expected {w:?}", c.name))),
            (Correspondence::New { .. }, _) => {
                wanted.map(|w| (*w == Expected::New, format!("created {:?}; expected {w:?}", c.name)))
            }
            (Correspondence::NotInSor(reason), _) => wanted.map(|w| {
                (*w == Expected::NotInSor, format!("{:?} not in SOR ({}); expected {w:?}", c.name, reason.key()))
            }),
            (Correspondence::SorOnlyKeep, CaseKey::Fk(_)) => None,
        };
        if let Some((ok, why)) = right {
            s.auto_cases_checked += 1;
            if !ok {
                s.wrong_auto += 1;
                let decided = match &c.correspondence {
                    Correspondence::NotInSor(r) => format!("not_in_sor[{}]", r.key()),
                    other => other.key().to_string(),
                };
                let wanted = match wanted {
                    Some(Expected::Link(_)) => "link",
                    Some(Expected::New) => "new",
                    Some(Expected::NotInSor) => "not_in_sor",
                    Some(Expected::SorOnlyKeep) => "sor_only_keep",
                    Some(Expected::SorOnlyClose) => "sor_only_close",
                    None => "link (of the SOR unit)",
                };
                *s.wrong_by.entry(format!("{decided} -> {wanted}")).or_insert(0) += 1;
                if s.wrong_examples.len() < 20 {
                    s.wrong_examples.push(why);
                }
            }
        }
    }
    s
}
