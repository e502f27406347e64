//! Plans: the approved, not yet applied proposals of one municipality frozen as changes, each
//! with its idempotency key, together with the snapshots of both registers they were decided on.
//! Building the steps is pure ([`plan_steps`]); [`build_plan`] reads the store.
//!
//! Keys are derived from the proposal (id, key, data hash) and the step's operation only, never
//! from the day or the plan, so the same approved proposal always has the same keys: a change
//! that was sent once is recognised in any later plan.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::DfsPostOrder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::port::{FieldValue, IdempotencyKey, SorChange};
use crate::domain::{FkTree, FkUuid, KommuneKode, SorId};
use crate::matching::json::ProposalDto;
use crate::matching::ProposalKind;
use crate::review::{proposals_with_lifecycle, require_role, Actor, Lifecycle, ReviewError, Role};
use crate::store::{Register, Store, StoreError, StoredProposal};

/// The plan file format's version.
pub const PLAN_VERSION: u32 = 1;

/// A SOR unit a step refers to: one that exists, or the one a create earlier in the plan makes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitRef {
    SorId(SorId),
    /// The SOR-ID SOR assigns to the create with this key.
    CreatedBy(IdempotencyKey),
}

/// One change of a plan, before any parent created in the same plan is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PlannedChange {
    Create {
        parent: UnitRef,
        name: String,
        fk_uuid: FkUuid,
        fields: Vec<FieldValue>,
        from_date: NaiveDate,
    },
    Update {
        sor_id: SorId,
        fields: Vec<FieldValue>,
    },
    Move {
        sor_id: SorId,
        new_parent: UnitRef,
    },
    Close {
        sor_id: SorId,
        to_date: NaiveDate,
    },
    /// Writes the SOR-ID to the FK-ORG unit (an address with the SOR role).
    WriteBack {
        fk_uuid: FkUuid,
        sor: UnitRef,
    },
    /// Ends the FK-ORG unit's SOR address relation showing `sor_id` (virkning to now): the unit
    /// is now linked to another SOR unit, so the SOR-ID it shows must go before the new one is
    /// written back.
    EndWriteBack {
        fk_uuid: FkUuid,
        sor_id: SorId,
    },
}

impl PlannedChange {
    /// `create`, `update`, `move`, `close` or `write_back`.
    pub fn op(&self) -> &'static str {
        match self {
            PlannedChange::Create { .. } => "create",
            PlannedChange::Update { .. } => "update",
            PlannedChange::Move { .. } => "move",
            PlannedChange::Close { .. } => "close",
            PlannedChange::WriteBack { .. } => "write_back",
            PlannedChange::EndWriteBack { .. } => "end_write_back",
        }
    }

    /// The create this change waits for, if any.
    pub fn depends_on(&self) -> Option<&IdempotencyKey> {
        let r = match self {
            PlannedChange::Create { parent, .. } => parent,
            PlannedChange::Move { new_parent, .. } => new_parent,
            PlannedChange::WriteBack { sor, .. } => sor,
            PlannedChange::Update { .. } | PlannedChange::Close { .. } | PlannedChange::EndWriteBack { .. } => {
                return None
            }
        };
        match r {
            UnitRef::CreatedBy(k) => Some(k),
            UnitRef::SorId(_) => None,
        }
    }

    /// The SOR unit the change is about, when it exists already.
    pub fn sor_id(&self) -> Option<SorId> {
        match self {
            PlannedChange::Update { sor_id, .. }
            | PlannedChange::Move { sor_id, .. }
            | PlannedChange::Close { sor_id, .. } => Some(*sor_id),
            PlannedChange::WriteBack { sor: UnitRef::SorId(s), .. } => Some(*s),
            PlannedChange::EndWriteBack { sor_id, .. } => Some(*sor_id),
            _ => None,
        }
    }

    /// The SOR change to send, with parents created in the same plan looked up in `created`;
    /// None for a write-back or when a parent is not created yet.
    pub fn to_sor_change(&self, created: &HashMap<IdempotencyKey, SorId>) -> Option<SorChange> {
        let resolve = |r: &UnitRef| match r {
            UnitRef::SorId(s) => Some(*s),
            UnitRef::CreatedBy(k) => created.get(k).copied(),
        };
        Some(match self {
            PlannedChange::Create { parent, name, fk_uuid, fields, from_date } => SorChange::Create {
                parent: resolve(parent)?,
                name: name.clone(),
                fk_uuid: *fk_uuid,
                fields: fields.clone(),
                from_date: *from_date,
            },
            PlannedChange::Update { sor_id, fields } => SorChange::Update { sor_id: *sor_id, fields: fields.clone() },
            PlannedChange::Move { sor_id, new_parent } => {
                SorChange::Move { sor_id: *sor_id, new_parent: resolve(new_parent)? }
            }
            PlannedChange::Close { sor_id, to_date } => SorChange::Close { sor_id: *sor_id, to_date: *to_date },
            PlannedChange::WriteBack { .. } | PlannedChange::EndWriteBack { .. } => return None,
        })
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    pub key: IdempotencyKey,
    pub proposal_id: i64,
    pub change: PlannedChange,
    /// The unit's name, for people.
    pub label: String,
    /// The values before and after the change, as decided (for the audit log and exports).
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// A snapshot a plan was made against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRef {
    pub id: i64,
    pub content_hash: String,
    /// For SOR: true when it is the national file (the municipality had no SOR file of its own).
    #[serde(default)]
    pub national: bool,
}

/// A saved plan (`sorsync plan --out plan.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub version: u32,
    /// Derived from the steps' keys: the same steps make the same id.
    pub plan_id: String,
    pub kommune: KommuneKode,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_by: String,
    /// The day creates start and closures end.
    pub effective_date: NaiveDate,
    pub fk_snapshot: SnapshotRef,
    pub sor_snapshot: SnapshotRef,
    /// SOR units in the SOR snapshot: the base of the closure limit's share.
    pub sor_units: usize,
    pub steps: Vec<PlanStep>,
}

/// Counts per kind of change, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanCounts {
    pub creates: usize,
    pub updates: usize,
    pub moves: usize,
    pub closes: usize,
    pub write_backs: usize,
}

impl Plan {
    pub fn counts(&self) -> PlanCounts {
        let mut c = PlanCounts::default();
        for s in &self.steps {
            match s.change {
                PlannedChange::Create { .. } => c.creates += 1,
                PlannedChange::Update { .. } => c.updates += 1,
                PlannedChange::Move { .. } => c.moves += 1,
                PlannedChange::Close { .. } => c.closes += 1,
                PlannedChange::WriteBack { .. } | PlannedChange::EndWriteBack { .. } => c.write_backs += 1,
            }
        }
        c
    }

    /// One line: `municipality 350: 3 creates, 2 updates, 0 moves, 1 close, 4 write-backs (10 changes)`.
    pub fn summary(&self) -> String {
        let c = self.counts();
        format!(
            "municipality {}: {} creates, {} updates, {} moves, {} closes, {} write-backs ({} changes; FK-ORG snapshot {}, SOR snapshot {})",
            self.kommune,
            c.creates,
            c.updates,
            c.moves,
            c.closes,
            c.write_backs,
            self.steps.len(),
            self.fk_snapshot.id,
            self.sor_snapshot.id
        )
    }

    /// Reads a plan file's text.
    pub fn from_json(text: &str) -> Result<Plan, PlanError> {
        let plan: Plan = serde_json::from_str(text).map_err(|e| PlanError::Unreadable(e.to_string()))?;
        if plan.version != PLAN_VERSION {
            return Err(PlanError::Version(plan.version));
        }
        Ok(plan)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// Why a plan could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error("municipality {0} has no FK-ORG snapshot or no SOR snapshot: import both first")]
    NoSnapshots(KommuneKode),
    #[error("approved proposal {id} cannot be planned: {problem}")]
    BadProposal { id: i64, problem: String },
    #[error("the plan file cannot be read: {0}")]
    Unreadable(String),
    #[error("the plan file has version {0}; this sorsync reads version {PLAN_VERSION}: make the plan again")]
    Version(u32),
    /// Approved changes that wait for each other, e.g. two units each moved under the other.
    #[error(
        "the approved {what} form a cycle, so no order can make them: {}; reject one of them and make the plan again",
        describe_cycles(.cycles)
    )]
    Cycle {
        /// `moves` or `creates`.
        what: &'static str,
        /// Each cycle's steps, in plan order.
        cycles: Vec<Vec<String>>,
    },
}

fn describe_cycles(cycles: &[Vec<String>]) -> String {
    cycles.iter().map(|c| c.join(", ")).collect::<Vec<_>>().join("; and ")
}

impl From<StoreError> for PlanError {
    fn from(e: StoreError) -> Self {
        PlanError::Review(ReviewError::Store(e))
    }
}

/// The key of step `op` of a proposal: from its id, kind, units and data hash only.
pub fn step_key(kommune: KommuneKode, p: &StoredProposal, op: &str) -> IdempotencyKey {
    let mut h = Sha256::new();
    for part in [
        p.id.to_string().as_str(),
        p.key.kind.as_str(),
        p.key.fk_uuid.as_deref().unwrap_or(""),
        p.key.sor_id.as_deref().unwrap_or(""),
        p.key.parent_sor_id.as_deref().unwrap_or(""),
        p.data_hash.as_str(),
        op,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let hex: String = h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    IdempotencyKey(format!("sorsync-{kommune}-p{}-{op}-{hex}", p.id))
}

fn bad(p: &StoredProposal, problem: impl Into<String>) -> PlanError {
    PlanError::BadProposal { id: p.id, problem: problem.into() }
}

fn sor_of(p: &StoredProposal, s: &str, what: &str) -> Result<SorId, PlanError> {
    SorId::parse(s).map_err(|e| bad(p, format!("{what}: {e}")))
}

fn fk_of(p: &StoredProposal, s: &str) -> Result<FkUuid, PlanError> {
    FkUuid::parse(s).map_err(|e| bad(p, format!("FK-ORG unit: {e}")))
}

/// A write-back's "before": the SOR-ID the FK-ORG unit shows in the snapshot (null: none).
fn write_back_before(fk: Option<&FkTree>, fk_uuid: FkUuid) -> serde_json::Value {
    let current = fk.and_then(|t| t.get(fk_uuid)).and_then(|u| u.sor_id).map(|s| s.to_string());
    serde_json::json!({ "fk_uuid": fk_uuid.to_string(), "sor_id": current })
}

/// The fields a new SOR unit gets from its FK-ORG unit.
fn create_fields(fk: Option<&FkTree>, fk_uuid: FkUuid) -> Vec<FieldValue> {
    let Some(u) = fk.and_then(|t| t.get(fk_uuid)) else { return Vec::new() };
    let mut out = Vec::new();
    if let Some(a) = &u.postal_address {
        out.push(FieldValue { field: "address".into(), value: Some(a.clone()) });
    }
    if let Some(p) = u.landline.as_ref().or(u.mobile.as_ref()) {
        out.push(FieldValue { field: "phone".into(), value: Some(p.clone()) });
    }
    if let Some(e) = &u.email {
        out.push(FieldValue { field: "email".into(), value: Some(e.clone()) });
    }
    out
}

/// The FK-ORG unit and SOR unit a follow-up is about: it is planned only while its case is
/// decided as exactly this link.
fn follow_up_units(p: &StoredProposal) -> Option<(&str, &str)> {
    match &p.payload {
        ProposalDto::Update { fk_uuid, sor_id, .. }
        | ProposalDto::Close { fk_uuid, sor_id, .. }
        | ProposalDto::Move { fk_uuid, sor_id, .. }
        | ProposalDto::WriteBack { fk_uuid, sor_id } => Some((fk_uuid.as_str(), sor_id.as_str())),
        ProposalDto::Link { .. } | ProposalDto::Create { .. } => None,
    }
}

/// The steps for the approved `proposals` (oldest first), pure: creates parent-first (a create
/// under an FK-ORG unit created in the same plan waits for that create's SOR-ID; under one linked
/// already, in `links`, it goes under the linked SOR unit), then write-backs, moves (one under a
/// unit moved in the same plan after that move), updates and closures last. Moves (or creates)
/// that wait for each other in a cycle are refused ([`PlanError::Cycle`], naming the units). A follow-up (update, move, closure, write-back) is left out unless its FK-ORG
/// unit is linked to its SOR unit in `links`: a case decided otherwise, or not yet, changes
/// nothing. Each linked unit gets one write-back; a SOR-ID sorsync wrote back to a unit before
/// (`ours_before`, still in effect) that is not its linked one now gets an end step first.
pub fn plan_steps(
    kommune: KommuneKode,
    proposals: &[StoredProposal],
    fk: Option<&FkTree>,
    links: &[(FkUuid, SorId)],
    ours_before: &[(FkUuid, SorId)],
    effective_date: NaiveDate,
) -> Result<Vec<PlanStep>, PlanError> {
    let linked: HashMap<String, SorId> = links.iter().map(|(f, s)| (f.to_string(), *s)).collect();
    let is_linked = |f: &str, s: &str| linked.get(f).is_some_and(|l| l.to_string() == s);
    // One FK-ORG unit gets one SOR unit: two creates or links for it would make two.
    let mut unit_of: HashMap<&str, i64> = HashMap::new();
    for p in proposals.iter().filter(|p| p.key.kind.decides_correspondence()) {
        if let Some(f) = p.key.fk_uuid.as_deref() {
            if let Some(first) = unit_of.insert(f, p.id) {
                return Err(bad(
                    p,
                    format!(
                        "FK-ORG unit {f} has two approved creates or links (proposals {first} and {}): reject one",
                        p.id
                    ),
                ));
            }
        }
    }
    // FK-ORG unit -> the key of the create that makes its SOR unit.
    let mut creates_by_fk: HashMap<String, IdempotencyKey> = HashMap::new();
    for p in proposals {
        if let ProposalDto::Create { fk_uuid, .. } = &p.payload {
            creates_by_fk.insert(fk_uuid.clone(), step_key(kommune, p, "create"));
        }
    }
    let mut creates: Vec<PlanStep> = Vec::new();
    let (mut write_backs, mut moves, mut updates, mut closes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut ends: Vec<PlanStep> = Vec::new();
    let mut written_back: HashSet<FkUuid> = HashSet::new();
    let mut write_back = |p: &StoredProposal, fk_uuid: FkUuid, sor: UnitRef, name: &str, out: &mut Vec<PlanStep>| {
        if !written_back.insert(fk_uuid) {
            return;
        }
        let after = match &sor {
            UnitRef::SorId(s) => serde_json::json!({ "fk_uuid": fk_uuid.to_string(), "sor_id": s.to_string() }),
            UnitRef::CreatedBy(k) => {
                serde_json::json!({ "fk_uuid": fk_uuid.to_string(), "sor_id": { "created_by": k } })
            }
        };
        out.push(PlanStep {
            key: step_key(kommune, p, "write_back"),
            proposal_id: p.id,
            change: PlannedChange::WriteBack { fk_uuid, sor },
            label: name.to_string(),
            before: write_back_before(fk, fk_uuid),
            after,
        });
    };
    // Links first, so that a unit's write-back comes from its link rather than from a separate
    // write-back proposal of the same unit.
    let ordered = proposals
        .iter()
        .filter(|p| p.key.kind == ProposalKind::Link)
        .chain(proposals.iter().filter(|p| p.key.kind != ProposalKind::Link));
    for p in ordered {
        match follow_up_units(p) {
            // A SOR-only unit's closure: only while nothing in FK-ORG is linked to it.
            Some(("", s)) if links.iter().any(|(_, l)| l.to_string() == s) => continue,
            Some(("", _)) => {}
            Some((f, s)) if !is_linked(f, s) => continue,
            _ => {}
        }
        match &p.payload {
            ProposalDto::Link { fk_uuid, sor_id, fk_name, .. } => {
                let fk_uuid = fk_of(p, fk_uuid)?;
                let sor_id = sor_of(p, sor_id, "SOR unit")?;
                // sorsync wrote another SOR-ID to this unit before (its SOR unit was closed and
                // the unit linked anew): a person decided it is `sor_id` now, so that SOR address
                // relation is ended first. Only a SOR-ID sorsync wrote itself is ended; one set
                // in FK-ORG by someone else holds the write-back back (never overwritten). At
                // apply time FK-ORG is read live: nothing is sent when it no longer shows it.
                let ours = ours_before.iter().filter(|(f, old)| *f == fk_uuid && *old != sor_id).map(|(_, old)| *old);
                for old in ours.collect::<std::collections::BTreeSet<_>>() {
                    ends.push(PlanStep {
                        key: step_key(kommune, p, "end_write_back"),
                        proposal_id: p.id,
                        change: PlannedChange::EndWriteBack { fk_uuid, sor_id: old },
                        label: fk_name.clone(),
                        before: serde_json::json!({ "fk_uuid": fk_uuid.to_string(), "sor_id": old.to_string() }),
                        after: serde_json::json!({ "fk_uuid": fk_uuid.to_string(), "sor_id": null }),
                    });
                }
                write_back(p, fk_uuid, UnitRef::SorId(sor_id), fk_name, &mut write_backs);
            }
            ProposalDto::WriteBack { fk_uuid, sor_id } => {
                let fk_uuid = fk_of(p, fk_uuid)?;
                let sor_id = sor_of(p, sor_id, "SOR unit")?;
                let label = fk.and_then(|t| t.get(fk_uuid)).map(|u| u.enhedsnavn.clone()).unwrap_or_default();
                write_back(p, fk_uuid, UnitRef::SorId(sor_id), &label, &mut write_backs);
            }
            ProposalDto::Create { fk_uuid, parent_sor_id, name, parent_fk_uuid } => {
                let fk_uuid = fk_of(p, fk_uuid)?;
                let parent = match (creates_by_fk.get(parent_fk_uuid), linked.get(parent_fk_uuid)) {
                    (Some(k), _) => UnitRef::CreatedBy(k.clone()),
                    (None, Some(s)) => UnitRef::SorId(*s),
                    (None, None) => UnitRef::SorId(sor_of(p, parent_sor_id, "parent SOR unit")?),
                };
                let key = step_key(kommune, p, "create");
                let fields = create_fields(fk, fk_uuid);
                let after = serde_json::json!({
                    "name": name,
                    "parent": parent,
                    "fields": fields,
                    "from_date": effective_date,
                });
                creates.push(PlanStep {
                    key: key.clone(),
                    proposal_id: p.id,
                    change: PlannedChange::Create {
                        parent,
                        name: name.clone(),
                        fk_uuid,
                        fields,
                        from_date: effective_date,
                    },
                    label: name.clone(),
                    before: serde_json::Value::Null,
                    after,
                });
                write_back(p, fk_uuid, UnitRef::CreatedBy(key), name, &mut write_backs);
            }
            ProposalDto::Update { sor_id, changes, .. } => {
                let sor_id = sor_of(p, sor_id, "SOR unit")?;
                let mut fields = Vec::new();
                let (mut before, mut after) = (BTreeMap::new(), BTreeMap::new());
                for c in changes {
                    before.insert(c.field.clone(), c.from.clone());
                    after.insert(c.field.clone(), c.to.clone());
                    fields.push(FieldValue { field: c.field.clone(), value: c.to.clone() });
                }
                if fields.is_empty() {
                    return Err(bad(p, "the update changes no field"));
                }
                updates.push(PlanStep {
                    key: step_key(kommune, p, "update"),
                    proposal_id: p.id,
                    change: PlannedChange::Update { sor_id, fields },
                    label: String::new(),
                    before: serde_json::to_value(before).unwrap_or_default(),
                    after: serde_json::to_value(after).unwrap_or_default(),
                });
            }
            ProposalDto::Move { sor_id, new_parent_sor_id, old_parent_sor_id, .. } => {
                let sor_id = sor_of(p, sor_id, "SOR unit")?;
                let new_parent = sor_of(p, new_parent_sor_id, "new parent SOR unit")?;
                moves.push(PlanStep {
                    key: step_key(kommune, p, "move"),
                    proposal_id: p.id,
                    change: PlannedChange::Move { sor_id, new_parent: UnitRef::SorId(new_parent) },
                    label: String::new(),
                    before: serde_json::json!({ "parent": old_parent_sor_id }),
                    after: serde_json::json!({ "parent": new_parent.to_string() }),
                });
            }
            ProposalDto::Close { sor_id, name, .. } => {
                let sor_id = sor_of(p, sor_id, "SOR unit")?;
                closes.push(PlanStep {
                    key: step_key(kommune, p, "close"),
                    proposal_id: p.id,
                    change: PlannedChange::Close { sor_id, to_date: effective_date },
                    label: name.clone(),
                    before: serde_json::json!({ "to_date": null }),
                    after: serde_json::json!({ "to_date": effective_date }),
                });
            }
        }
    }
    let mut steps = creates_in_order(creates)?;
    steps.extend(ends);
    steps.extend(write_backs);
    steps.extend(moves_in_order(moves)?);
    steps.extend(updates);
    steps.extend(closes);
    Ok(steps)
}

/// Orders `steps` so that each comes after the steps of the list it waits for, depth first in
/// the given order: a step's prerequisites not placed yet go just before it, so steps that wait
/// for nothing keep their order. `unit` is what a step makes or moves and `waits_for` the unit it
/// waits for; a step waiting for a unit no step of the list has keeps its place. Steps that wait
/// for each other in a cycle are refused: [`PlanError::Cycle`], each step described by `describe`.
fn in_dependency_order<K: Eq + Hash>(
    steps: Vec<PlanStep>,
    what: &'static str,
    unit: impl Fn(&PlanStep) -> Option<K>,
    waits_for: impl Fn(&PlanStep) -> Option<K>,
    describe: impl Fn(&PlanStep) -> String,
) -> Result<Vec<PlanStep>, PlanError> {
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(steps.len(), steps.len());
    let nodes: Vec<NodeIndex> = steps.iter().map(|_| graph.add_node(())).collect();
    let mut by_unit: HashMap<K, Vec<NodeIndex>> = HashMap::new();
    for (s, n) in steps.iter().zip(&nodes) {
        if let Some(u) = unit(s) {
            by_unit.entry(u).or_default().push(*n);
        }
    }
    // An edge from each step to the steps it waits for.
    for (s, n) in steps.iter().zip(&nodes) {
        for prerequisite in waits_for(s).and_then(|u| by_unit.get(&u)).into_iter().flatten() {
            graph.add_edge(*n, *prerequisite, ());
        }
    }
    let mut cycles: Vec<Vec<NodeIndex>> = tarjan_scc(&graph)
        .into_iter()
        .filter(|c| c.len() > 1 || c.iter().any(|n| graph.contains_edge(*n, *n)))
        .collect();
    if !cycles.is_empty() {
        for c in &mut cycles {
            c.sort();
        }
        cycles.sort();
        let cycles = cycles.iter().map(|c| c.iter().map(|n| describe(&steps[n.index()])).collect()).collect();
        return Err(PlanError::Cycle { what, cycles });
    }
    // Post-order along "waits for": every prerequisite comes out before the step waiting for it.
    let mut order = Vec::with_capacity(steps.len());
    let mut dfs = DfsPostOrder::empty(&graph);
    for n in &nodes {
        dfs.move_to(*n);
        while let Some(done) = dfs.next(&graph) {
            order.push(done.index());
        }
    }
    let mut slots: Vec<Option<PlanStep>> = steps.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect())
}

/// Creates parent-first: a create under a unit created in the same plan comes after that create.
fn creates_in_order(creates: Vec<PlanStep>) -> Result<Vec<PlanStep>, PlanError> {
    in_dependency_order(
        creates,
        "creates",
        |s| Some(s.key.clone()),
        |s| s.change.depends_on().cloned(),
        |s| format!("{} (proposal {})", s.label, s.proposal_id),
    )
}

/// Moves under a unit that is moved in the same plan come after that move, so every unit is
/// moved under a parent already in its new place and no move puts a unit under its own
/// descendant on the way. (A move under a unit created in the same plan comes after it anyway:
/// every create comes before every move.)
fn moves_in_order(moves: Vec<PlanStep>) -> Result<Vec<PlanStep>, PlanError> {
    let new_parent = |s: &PlanStep| match &s.change {
        PlannedChange::Move { new_parent: UnitRef::SorId(parent), .. } => Some(*parent),
        _ => None,
    };
    in_dependency_order(
        moves,
        "moves",
        |s| s.change.sor_id(),
        new_parent,
        |s| match (s.change.sor_id(), &s.change) {
            (Some(unit), PlannedChange::Move { new_parent, .. }) => {
                format!("SOR unit {unit} under {} (proposal {})", describe_unit(new_parent), s.proposal_id)
            }
            _ => format!("proposal {}", s.proposal_id),
        },
    )
}

fn describe_unit(r: &UnitRef) -> String {
    match r {
        UnitRef::SorId(s) => s.to_string(),
        UnitRef::CreatedBy(k) => format!("the unit create {k} makes"),
    }
}

/// The plan id of a list of steps.
pub fn plan_id(steps: &[PlanStep]) -> String {
    let mut h = Sha256::new();
    for s in steps {
        h.update(s.key.0.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// SOR-IDs written back to FK-ORG units.
type WrittenBack = Vec<(FkUuid, SorId)>;

/// The SOR-IDs sorsync has written back to FK-ORG units of `kommune`: (ever written, not ended
/// since).
async fn written_back(store: &Store, kommune: KommuneKode) -> Result<(WrittenBack, WrittenBack), StoreError> {
    let (mut ever, mut in_effect): (WrittenBack, WrittenBack) = (Vec::new(), Vec::new());
    for c in store.changes(kommune).await? {
        if c.state != crate::store::ChangeState::Applied {
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&c.change_json) else { continue };
        let fk = v.get("fk_uuid").and_then(|f| f.as_str()).and_then(|f| FkUuid::parse(f).ok());
        let unit = |key: &str| v.get(key).and_then(|s| s.as_str()).and_then(|s| SorId::parse(s).ok());
        match (c.op.as_str(), fk) {
            ("write_back", Some(f)) => {
                if let Some(s) = unit("sor_id") {
                    ever.push((f, s));
                    in_effect.push((f, s));
                }
            }
            ("end_write_back", Some(f)) => {
                if let Some(s) = unit("end_sor_id") {
                    in_effect.retain(|w| *w != (f, s));
                }
            }
            _ => {}
        }
    }
    Ok((ever, in_effect))
}

/// The SOR-IDs sorsync wrote back to units of `kommune` and has not ended: what a new plan may end.
async fn written_back_in_effect(store: &Store, kommune: KommuneKode) -> Result<WrittenBack, StoreError> {
    Ok(written_back(store, kommune).await?.1)
}

/// Every SOR-ID sorsync ever wrote back to units of `kommune`, ended or not: what a plan's check
/// needs once the plan's own end steps have applied.
pub(crate) async fn written_back_ever(store: &Store, kommune: KommuneKode) -> Result<Vec<(FkUuid, SorId)>, StoreError> {
    Ok(written_back(store, kommune).await?.0)
}

/// Freezes `kommune`'s approved proposals that are not applied yet (including ones that failed
/// before: applying reports them as quarantined unless told to send them again) into a plan made
/// against the latest snapshots of both registers, stamped `now` (the caller reads the clock).
/// `actor` must be an operator or a SOR administrator of `kommune`.
#[tracing::instrument(skip_all, fields(kommune = %kommune, user = %actor.user_name))]
pub async fn build_plan(
    store: &Store,
    kommune: KommuneKode,
    actor: &Actor,
    effective_date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    require_operator(store, actor, kommune, "make plans").await?;
    let fk_id =
        store.latest_snapshot_id(Register::FkOrg, Some(kommune)).await?.ok_or(PlanError::NoSnapshots(kommune))?;
    let (sor_id, national) = store.sor_snapshot_for(kommune).await?.ok_or(PlanError::NoSnapshots(kommune))?;
    let fk_info = store.snapshot(fk_id).await?;
    let sor_info = store.snapshot(sor_id).await?;
    let fk = store.load_fkorg(fk_id).await?;
    let approved: Vec<StoredProposal> = proposals_with_lifecycle(store, kommune)
        .await?
        .into_iter()
        .filter(|l| matches!(l.state, Lifecycle::Approved | Lifecycle::Applying | Lifecycle::Failed))
        .map(|l| l.proposal)
        .collect();
    let links = store.approved_link_ids(kommune).await?;
    let ours_before = written_back_in_effect(store, kommune).await?;
    let steps = plan_steps(kommune, &approved, Some(&fk), &links, &ours_before, effective_date)?;
    Ok(Plan {
        version: PLAN_VERSION,
        plan_id: plan_id(&steps),
        kommune,
        created_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        created_by: actor.user_name.clone(),
        effective_date,
        fk_snapshot: SnapshotRef { id: fk_id, content_hash: fk_info.content_hash, national: false },
        sor_snapshot: SnapshotRef { id: sor_id, content_hash: sor_info.content_hash, national },
        sor_units: usize::try_from(sor_info.units).unwrap_or(usize::MAX),
        steps,
    })
}

/// Refuses unless `actor` is an operator or a SOR administrator of `kommune`.
pub async fn require_operator(
    store: &Store,
    actor: &Actor,
    kommune: KommuneKode,
    action: &'static str,
) -> Result<(), ReviewError> {
    if store.has_role(&actor.user_name, kommune, Role::SorAdmin.as_str()).await? {
        return Ok(());
    }
    require_role(store, actor, kommune, Role::Operator, action).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ProposalKey, ProposalStatus};

    fn proposal(
        id: i64,
        kind: &str,
        fk: u128,
        sor: Option<u64>,
        parent: Option<u64>,
        payload: serde_json::Value,
    ) -> StoredProposal {
        StoredProposal {
            id,
            kommune: KommuneKode::parse("350").expect("code"),
            key: ProposalKey {
                kind: ProposalKind::parse(kind).expect("kind"),
                fk_uuid: Some(FkUuid::from_uuid(uuid::Uuid::from_u128(fk)).to_string()),
                sor_id: sor.map(|s| SorId::from_running_number(s).to_string()),
                parent_sor_id: parent.map(|s| SorId::from_running_number(s).to_string()),
            },
            confidence: None,
            payload: ProposalDto::from_key_and_json(
                ProposalKind::parse(kind).expect("kind"),
                Some(&FkUuid::from_uuid(uuid::Uuid::from_u128(fk)).to_string()),
                sor.map(|s| SorId::from_running_number(s).to_string()).as_deref(),
                parent.map(|s| SorId::from_running_number(s).to_string()).as_deref(),
                &payload,
            )
            .expect("payload"),
            data_hash: format!("h{id}"),
            fk_snapshot_id: 1,
            sor_snapshot_id: 2,
            status: ProposalStatus::Approved,
            created_at: "2026-11-22T00:00:00Z".into(),
        }
    }

    /// FK-ORG unit 5 linked to SOR unit 5.
    fn linked_5() -> Vec<(FkUuid, SorId)> {
        vec![(FkUuid::from_uuid(uuid::Uuid::from_u128(5)), SorId::from_running_number(5))]
    }

    #[test]
    fn follow_ups_of_a_case_not_linked_to_their_sor_unit_are_not_planned() {
        let k = KommuneKode::parse("350").expect("code");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let ps = vec![
            proposal(1, "close", 5, Some(5), None, serde_json::json!({})),
            proposal(
                2,
                "update",
                6,
                Some(6),
                None,
                serde_json::json!({"changes": [{"field": "phone", "from": null, "to": "11223344"}]}),
            ),
            // Linked to another SOR unit than the one this move is about.
            proposal(3, "move", 5, Some(7), Some(8), serde_json::json!({})),
        ];
        let steps = plan_steps(k, &ps, None, &linked_5(), &[], day).expect("steps");
        let planned: Vec<i64> = steps.iter().map(|s| s.proposal_id).collect();
        assert_eq!(planned, vec![1], "only the closure of the linked unit 5 -> 5");
    }

    #[test]
    fn a_link_and_a_write_back_of_the_same_unit_write_back_once() {
        let k = KommuneKode::parse("350").expect("code");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let ps = vec![
            proposal(1, "write_back", 5, Some(5), None, serde_json::json!({})),
            proposal(2, "link", 5, Some(5), None, serde_json::json!({"fk_name": "Solhøj"})),
        ];
        let steps = plan_steps(k, &ps, None, &linked_5(), &[], day).expect("steps");
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert_eq!(steps[0].proposal_id, 2, "the link's write-back");
    }

    #[test]
    fn a_sor_id_sorsync_wrote_before_is_ended_before_the_newly_linked_one_is_written() {
        let k = KommuneKode::parse("350").expect("code");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let unit = FkUuid::from_uuid(uuid::Uuid::from_u128(5));
        let (old, new) = (SorId::from_running_number(4), SorId::from_running_number(5));
        let ps = vec![proposal(2, "link", 5, Some(5), None, serde_json::json!({"fk_name": "Solhøj"}))];
        // sorsync wrote SOR-ID 4 (and 5, harmless) before; the unit is linked to 5 now.
        let steps = plan_steps(k, &ps, None, &linked_5(), &[(unit, old), (unit, new)], day).expect("steps");
        let ops: Vec<&str> = steps.iter().map(|s| s.change.op()).collect();
        assert_eq!(ops, ["end_write_back", "write_back"], "{steps:?}");
        assert_eq!(steps[0].change, PlannedChange::EndWriteBack { fk_uuid: unit, sor_id: old });
        assert_ne!(steps[0].key, steps[1].key);
        assert_eq!(steps[0].change.sor_id(), Some(old));
        assert!(steps[0].change.to_sor_change(&HashMap::new()).is_none(), "not a SOR change");
        // A SOR-ID sorsync did not write (only FK-ORG shows it) is not ended: the write-back is
        // held back at apply time instead.
        let steps = plan_steps(k, &ps, None, &linked_5(), &[], day).expect("steps");
        assert_eq!(steps.iter().map(|s| s.change.op()).collect::<Vec<_>>(), ["write_back"]);
    }

    fn fk(n: u128) -> String {
        FkUuid::from_uuid(uuid::Uuid::from_u128(n)).to_string()
    }

    #[test]
    fn creates_come_parent_first_and_closures_last() {
        let k = KommuneKode::parse("350").expect("code");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let ps = vec![
            proposal(1, "close", 5, Some(5), None, serde_json::json!({})),
            // The grandchild first, then the child, then the parent: all three created in this plan.
            proposal(2, "create", 12, None, Some(1), serde_json::json!({"name": "C", "parent_fk_uuid": fk(11)})),
            proposal(3, "create", 11, None, Some(1), serde_json::json!({"name": "B", "parent_fk_uuid": fk(10)})),
            proposal(4, "create", 10, None, Some(1), serde_json::json!({"name": "A", "parent_fk_uuid": fk(1)})),
        ];
        let steps = plan_steps(k, &ps, None, &linked_5(), &[], day).expect("steps");
        let order: Vec<(&str, &str)> = steps.iter().map(|s| (s.change.op(), s.label.as_str())).collect();
        assert_eq!(
            order,
            vec![
                ("create", "A"),
                ("create", "B"),
                ("create", "C"),
                ("write_back", "C"),
                ("write_back", "B"),
                ("write_back", "A"),
                ("close", "")
            ]
        );
        let a_key = steps[0].key.clone();
        assert!(matches!(&steps[1].change, PlannedChange::Create { parent: UnitRef::CreatedBy(k), .. } if *k == a_key));
        assert!(matches!(&steps[0].change, PlannedChange::Create { parent: UnitRef::SorId(_), .. }));
    }

    #[test]
    fn a_create_waits_only_for_its_parent_and_the_rest_keep_their_order() {
        let k = KommuneKode::parse("350").expect("code");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let ps = vec![
            proposal(1, "create", 12, None, Some(1), serde_json::json!({"name": "X", "parent_fk_uuid": fk(10)})),
            proposal(2, "create", 13, None, Some(1), serde_json::json!({"name": "Y", "parent_fk_uuid": fk(1)})),
            proposal(3, "create", 10, None, Some(1), serde_json::json!({"name": "A", "parent_fk_uuid": fk(1)})),
        ];
        let steps = plan_steps(k, &ps, None, &[], &[], day).expect("steps");
        let creates: Vec<&str> = steps.iter().filter(|s| s.change.op() == "create").map(|s| s.label.as_str()).collect();
        assert_eq!(creates, ["A", "X", "Y"], "X's parent just before X; Y where it was");
    }

    /// FK-ORG units `n` linked to SOR units `n`.
    fn linked(units: &[u64]) -> Vec<(FkUuid, SorId)> {
        units
            .iter()
            .map(|n| (FkUuid::from_uuid(uuid::Uuid::from_u128(u128::from(*n))), SorId::from_running_number(*n)))
            .collect()
    }

    /// The move of linked unit `n` under SOR unit `to`.
    fn move_of(id: i64, n: u64, to: u64) -> StoredProposal {
        proposal(id, "move", u128::from(n), Some(n), Some(to), serde_json::json!({}))
    }

    #[test]
    fn a_move_under_a_unit_moved_in_the_same_plan_comes_after_that_move() {
        let k = KommuneKode::parse("350").expect("code");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        // 5 goes under 6, which itself goes under 9 (say from under 5); 7 is moved on its own.
        let ps = vec![move_of(1, 5, 6), move_of(2, 7, 8), move_of(3, 6, 9)];
        let steps = plan_steps(k, &ps, None, &linked(&[5, 6, 7]), &[], day).expect("steps");
        let moves: Vec<i64> = steps.iter().filter(|s| s.change.op() == "move").map(|s| s.proposal_id).collect();
        assert_eq!(moves, [3, 1, 2], "6 is in its new place before 5 goes under it; 7's move keeps its place");
        // Without a dependency the order is the proposals' order.
        let ps = vec![move_of(1, 5, 8), move_of(2, 7, 8), move_of(3, 6, 9)];
        let steps = plan_steps(k, &ps, None, &linked(&[5, 6, 7]), &[], day).expect("steps");
        let moves: Vec<i64> = steps.iter().filter(|s| s.change.op() == "move").map(|s| s.proposal_id).collect();
        assert_eq!(moves, [1, 2, 3]);
    }

    #[test]
    fn moves_that_form_a_cycle_are_refused_naming_the_units() {
        let k = KommuneKode::parse("350").expect("code");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let sor = |n| SorId::from_running_number(n).to_string();
        // 5 under 6, 6 under 7, 7 under 5: whichever goes first, one unit ends under its own descendant.
        let ps = vec![move_of(1, 5, 6), move_of(2, 8, 9), move_of(3, 6, 7), move_of(4, 7, 5)];
        let err = plan_steps(k, &ps, None, &linked(&[5, 6, 7, 8]), &[], day).expect_err("a cycle");
        assert!(matches!(&err, PlanError::Cycle { what: "moves", cycles } if cycles.len() == 1), "{err:?}");
        let message = err.to_string();
        assert!(message.starts_with("the approved moves form a cycle"), "{message}");
        for (unit, parent, proposal) in [(5, 6, 1), (6, 7, 3), (7, 5, 4)] {
            let named = format!("SOR unit {} under {} (proposal {proposal})", sor(unit), sor(parent));
            assert!(message.contains(&named), "{named} in {message}");
        }
        assert!(!message.contains(&sor(8)), "a move outside the cycle is not named: {message}");
        // Two units moved under each other, and a unit moved under itself.
        let ps = vec![move_of(1, 5, 6), move_of(2, 6, 5), move_of(3, 7, 7)];
        let err = plan_steps(k, &ps, None, &linked(&[5, 6, 7]), &[], day).expect_err("two cycles");
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "SOR unit {} under {} (proposal 1), SOR unit {} under {} (proposal 2); and SOR unit {} under {} \
                 (proposal 3)",
                sor(5),
                sor(6),
                sor(6),
                sor(5),
                sor(7),
                sor(7)
            )),
            "{message}"
        );
    }

    #[test]
    fn creates_that_wait_for_each_other_are_refused() {
        let k = KommuneKode::parse("350").expect("code");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let ps = vec![
            proposal(1, "create", 10, None, Some(1), serde_json::json!({"name": "A", "parent_fk_uuid": fk(11)})),
            proposal(2, "create", 11, None, Some(1), serde_json::json!({"name": "B", "parent_fk_uuid": fk(10)})),
        ];
        let err = plan_steps(k, &ps, None, &[], &[], day).expect_err("a cycle");
        assert_eq!(
            err.to_string(),
            "the approved creates form a cycle, so no order can make them: A (proposal 1), B (proposal 2); reject \
             one of them and make the plan again"
        );
    }

    #[test]
    fn two_approved_creates_for_one_fk_unit_are_refused() {
        let k = KommuneKode::parse("350").expect("code");
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
        let ps = vec![
            proposal(1, "create", 10, None, Some(1), serde_json::json!({"name": "A"})),
            proposal(2, "create", 10, None, Some(2), serde_json::json!({"name": "A"})),
        ];
        let err = plan_steps(k, &ps, None, &[], &[], day).expect_err("two creates");
        assert!(err.to_string().contains("two approved creates or links (proposals 1 and 2)"), "{err}");
    }

    #[test]
    fn keys_depend_on_the_proposal_not_on_the_day() {
        let k = KommuneKode::parse("350").expect("code");
        let ps = vec![proposal(7, "close", 5, Some(5), None, serde_json::json!({}))];
        let a = plan_steps(k, &ps, None, &linked_5(), &[], NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"))
            .expect("steps");
        let b = plan_steps(k, &ps, None, &linked_5(), &[], NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"))
            .expect("steps");
        assert_eq!(a[0].key, b[0].key);
        let other = vec![proposal(8, "close", 5, Some(5), None, serde_json::json!({}))];
        assert_ne!(
            plan_steps(k, &other, None, &linked_5(), &[], NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"))
                .expect("steps")[0]
                .key,
            a[0].key
        );
    }
}
