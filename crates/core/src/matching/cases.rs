//! Cases: the unit of review. One per in-scope FK-ORG unit and one per open SOR unit that nothing
//! in FK-ORG corresponds to. A case's decision is the correspondence (linked to a SOR unit, new in
//! SOR under a named parent, not in SOR, or, for a SOR-only unit, kept as SOR-only); updates, moves,
//! closures and the write-back of the SOR-ID follow from it. Pure.

use std::collections::HashSet;

use super::policy::{Rule, SyncPolicy, Who};
use super::proposals::Registered;
use super::structure::Run;
use super::{MatchOptions, Proposal};
use crate::domain::{FkTree, FkUuid, SorId, SorTree};

/// What a case is about: an FK-ORG unit, or a SOR unit only SOR has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseKey {
    Fk(FkUuid),
    Sor(SorId),
}

impl std::fmt::Display for CaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaseKey::Fk(u) => write!(f, "{u}"),
            CaseKey::Sor(s) => write!(f, "{s}"),
        }
    }
}

/// Why a unit is proposed as not in SOR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotInSorReason {
    /// Closed in FK-ORG and without a counterpart.
    Closed,
    /// The municipality does not register units of this kind at this level in SOR.
    NotRegistered { kind: String },
    /// It would be registered, but SOR has no place for it (no linked parent, sibling or ancestor).
    NoPlace,
}

impl NotInSorReason {
    pub fn key(&self) -> &'static str {
        match self {
            NotInSorReason::Closed => "closed",
            NotInSorReason::NotRegistered { .. } => "kind_not_registered",
            NotInSorReason::NoPlace => "no_place_in_sor",
        }
    }
}

/// A case's proposed decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Correspondence {
    Linked {
        sor_id: SorId,
        confidence: f64,
    },
    New {
        parent_sor_id: SorId,
    },
    NotInSor(NotInSorReason),
    /// A SOR unit nothing in FK-ORG corresponds to: kept as it is (closing it needs a person).
    SorOnlyKeep,
}

impl Correspondence {
    /// The decision's name, as in the JSON contract and the generator's `expected.csv`:
    /// `link`, `new`, `not_in_sor`, `sor_only_keep`.
    pub fn key(&self) -> &'static str {
        match self {
            Correspondence::Linked { .. } => "link",
            Correspondence::New { .. } => "new",
            Correspondence::NotInSor(_) => "not_in_sor",
            Correspondence::SorOnlyKeep => "sor_only_keep",
        }
    }
}

/// One case with its proposed decision and whether the policy takes it without a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub key: CaseKey,
    pub name: String,
    pub correspondence: Correspondence,
    /// The rule that decides the correspondence without a person; None: a person decides.
    pub rule: Option<Rule>,
}

impl Case {
    pub fn auto(&self) -> bool {
        self.rule.is_some()
    }
}

/// The cases of a run, FK-ORG units in tree order first, then SOR-only units in SOR order.
pub fn build(
    fk: &FkTree,
    sor: &SorTree,
    opts: &MatchOptions,
    run: &Run,
    registered: &Registered,
    proposals: &[Proposal],
) -> Vec<Case> {
    let policy: &SyncPolicy = &opts.policy;
    let mut out = Vec::new();
    let mut linked_sor: HashSet<SorId> = HashSet::new();
    let mut link_of = std::collections::HashMap::new();
    let mut create_of = std::collections::HashMap::new();
    for p in proposals {
        match p {
            Proposal::Link(l) => {
                linked_sor.insert(l.sor_id);
                link_of.insert(l.fk_uuid, p);
            }
            Proposal::Create(c) => {
                create_of.insert(c.fk_uuid, c.parent_sor_id);
            }
            _ => {}
        }
    }
    let not_in_sor_rule = |reason: &NotInSorReason| {
        (policy.not_in_sor == Who::Auto).then(|| Rule(format!("policy:not_in_sor[{}]", reason.key())))
    };
    for &f in fk.tree.preorder() {
        if !run.in_scope[f] {
            continue;
        }
        let u = &fk.units[f];
        let (correspondence, rule) = if let Some(p @ Proposal::Link(l)) = link_of.get(&u.uuid) {
            (Correspondence::Linked { sor_id: l.sor_id, confidence: l.confidence }, policy.rule(p))
        } else if let Some(parent) = create_of.get(&u.uuid) {
            let rule = (policy.create == Who::Auto).then(|| Rule("policy:create=auto".to_string()));
            (Correspondence::New { parent_sor_id: *parent }, rule)
        } else {
            let reason = if u.is_closed(opts.today) {
                NotInSorReason::Closed
            } else if registered.clearly_unwanted(f) {
                NotInSorReason::NotRegistered { kind: registered.kind_of(f).to_string() }
            } else {
                NotInSorReason::NoPlace
            };
            let rule = not_in_sor_rule(&reason);
            (Correspondence::NotInSor(reason), rule)
        };
        out.push(Case { key: CaseKey::Fk(u.uuid), name: u.enhedsnavn.clone(), correspondence, rule });
    }
    for &s in sor.tree.preorder() {
        let su = &sor.units[s];
        if su.is_closed_on(opts.today) || run.rev[s].is_some() || linked_sor.contains(&su.sor_id) {
            continue;
        }
        out.push(Case {
            key: CaseKey::Sor(su.sor_id),
            name: su.name.clone(),
            correspondence: Correspondence::SorOnlyKeep,
            rule: Some(Rule("policy:sor_only=keep".to_string())),
        });
    }
    out
}
