//! The review queue as CASES, not proposals: one row per FK-ORG unit (or SOR-only unit) that needs
//! a person, the consequential first (undecided correspondence, then closures, moves, names, the
//! rest), each with the unit's place in both trees and what would change. The keys decide a case
//! through the review library ([`decide_case`]); [`undo`] takes the person's last decision back.

use std::collections::HashMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::auth::Signed;
use super::{AppState, WebError};
use crate::domain::{normalise_phone, FkTree, FkUuid, KommuneKode, Phone, SorId, SorTree};
use crate::matching::json::ProposalDto;
use crate::matching::ProposalKind;
use crate::review::{Actor, Decision, Role, UndoOutcome};
use crate::store::{PendingRow, ProposalStatus};

/// How many runners-up a row offers (keys 1..3).
pub const MAX_ALTERNATIVES: usize = 3;

/// A case's correspondence: proposed (`link`, `create`) or decided (`linked`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct CorrespondenceView {
    /// `link` (proposed: linked to `sor_id`), `create` (proposed: new under `parent_sor_id`) or
    /// `linked` (decided: the case is linked to `sor_id`).
    pub kind: String,
    pub sor_id: Option<String>,
    pub sor_name: Option<String>,
    pub confidence: Option<f64>,
    pub parent_sor_id: Option<String>,
    pub parent_name: Option<String>,
}

/// One field a follow-up changes in SOR (or, for a write-back, in FK-ORG). Phone numbers are
/// compared and shown normalised.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FieldChange {
    /// `name`, `address`, `phone`, `email`, `parent` (a move), `closed` (a closure), `sor_id` (a write-back).
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A pending follow-up of a case.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FollowUpView {
    pub id: i64,
    pub kind: String,
    pub changes: Vec<FieldChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct CaseAlternative {
    pub sor_id: String,
    pub name: Option<String>,
    pub confidence: f64,
}

/// One case in the queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct CaseItem {
    /// The proposal the keys decide: the case's link or create while its correspondence is
    /// undecided, else its first follow-up.
    pub id: i64,
    /// The FK-ORG uuid, or the SOR-ID of a SOR-only unit.
    pub case: String,
    /// `correspondence` (undecided) or `follow_ups` (decided; what follows from it waits).
    pub stage: String,
    /// The kind of proposal `id`.
    pub kind: String,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    /// The link's confidence (None for the other kinds).
    pub confidence: Option<f64>,
    pub fk_name: Option<String>,
    pub sor_name: Option<String>,
    /// "parent > unit" in FK-ORG.
    pub fk_path: Option<String>,
    /// "parent > unit" in SOR (the proposed or linked unit; for a create, its new place).
    pub sor_path: Option<String>,
    pub correspondence: Option<CorrespondenceView>,
    pub follow_ups: Vec<FollowUpView>,
    pub alternatives: Vec<CaseAlternative>,
    /// Every pending proposal of the case.
    pub proposal_ids: Vec<i64>,
    /// Sort rank: 0 correspondence, 1 closure, 2 move, 3 name, 4 other updates, 5 write-back.
    #[serde(skip)]
    pub rank: u8,
}

impl CaseItem {
    /// Whether any of the case's proposals is of `kind`.
    pub fn has_kind(&self, kind: &str) -> bool {
        self.kind == kind || self.follow_ups.iter().any(|f| f.kind == kind)
    }
}

/// "parent > unit" of an FK-ORG unit.
pub fn fk_path(fk: &FkTree, uuid: FkUuid) -> Option<String> {
    let unit = fk.get(uuid)?;
    Some(match unit.parent.and_then(|p| fk.get(p)) {
        Some(parent) => format!("{} > {}", parent.enhedsnavn, unit.enhedsnavn),
        None => unit.enhedsnavn.clone(),
    })
}

/// "parent > unit" of a SOR unit.
pub fn sor_path(sor: &SorTree, id: SorId) -> Option<String> {
    let unit = sor.get(id)?;
    Some(match unit.parent.and_then(|p| sor.get(p)) {
        Some(parent) => format!("{} > {}", parent.name, unit.name),
        None => unit.name.clone(),
    })
}

fn sor_name(sor: &SorTree, id: &str) -> Option<String> {
    SorId::parse(id).ok().and_then(|s| sor.get(s)).map(|u| u.name.clone())
}

/// A phone number as it is compared: 8 digits when it is a Danish number.
pub fn phone_shown(raw: Option<&str>) -> Option<String> {
    match normalise_phone(raw) {
        Phone::Valid(n) => Some(n),
        Phone::Malformed(m) => Some(m),
        Phone::Missing => None,
    }
}

/// What a follow-up changes, from its payload.
pub fn follow_up_changes(dto: &ProposalDto, fk: &FkTree, sor: &SorTree) -> Vec<FieldChange> {
    match dto {
        ProposalDto::Update { changes, .. } => changes
            .iter()
            .filter_map(|c| {
                if c.field == "phone" {
                    let (from, to) = (phone_shown(c.from.as_deref()), phone_shown(c.to.as_deref()));
                    // Equal once normalised: no change.
                    (from != to).then(|| FieldChange { field: c.field.clone(), from, to })
                } else {
                    Some(FieldChange { field: c.field.clone(), from: c.from.clone(), to: c.to.clone() })
                }
            })
            .collect(),
        ProposalDto::Move { new_parent_sor_id, old_parent_sor_id, .. } => vec![FieldChange {
            field: "parent".into(),
            from: old_parent_sor_id.as_deref().map(|p| sor_name(sor, p).unwrap_or_else(|| p.to_string())),
            to: Some(sor_name(sor, new_parent_sor_id).unwrap_or_else(|| new_parent_sor_id.clone())),
        }],
        ProposalDto::Close { name, .. } => {
            vec![FieldChange { field: "closed".into(), from: Some(name.clone()), to: None }]
        }
        ProposalDto::WriteBack { fk_uuid, sor_id } => {
            let now = FkUuid::parse(fk_uuid).ok().and_then(|u| fk.get(u)).and_then(|u| u.sor_id);
            vec![FieldChange { field: "sor_id".into(), from: now.map(|s| s.to_string()), to: Some(sor_id.clone()) }]
        }
        ProposalDto::Link { .. } | ProposalDto::Create { .. } => Vec::new(),
    }
}

/// The rank of a follow-up: closures, moves, names, the rest, write-backs.
fn follow_up_rank(dto: &ProposalDto) -> u8 {
    match dto {
        ProposalDto::Close { .. } => 1,
        ProposalDto::Move { .. } => 2,
        ProposalDto::Update { changes, .. } if changes.iter().any(|c| c.field == "name") => 3,
        ProposalDto::Update { .. } => 4,
        ProposalDto::WriteBack { .. } => 5,
        ProposalDto::Link { .. } | ProposalDto::Create { .. } => 0,
    }
}

/// The case a pending proposal belongs to.
pub fn case_key(fk_uuid: Option<&str>, sor_id: Option<&str>, id: i64) -> String {
    fk_uuid.or(sor_id).map(str::to_string).unwrap_or_else(|| format!("proposal-{id}"))
}

/// The trees each proposal was made from, by (FK-ORG snapshot, SOR snapshot).
pub type TreesBySnapshots = HashMap<(i64, i64), (Arc<FkTree>, Arc<SorTree>)>;

/// Builds the cases from the pending proposals (in any order), the approved links and the trees
/// each proposal was made from. Sorted: consequential first.
pub fn build_cases(rows: &[PendingRow], links: &HashMap<String, String>, trees: &TreesBySnapshots) -> Vec<CaseItem> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<&PendingRow>> = HashMap::new();
    for r in rows {
        let key = case_key(r.fk_uuid.as_deref(), r.sor_id.as_deref(), r.id);
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(r);
    }
    let mut cases: Vec<CaseItem> = Vec::with_capacity(order.len());
    for key in order {
        let Some(group) = groups.get(&key) else { continue };
        let Some((fk, sor)) = group.first().and_then(|r| trees.get(&(r.fk_snapshot_id, r.sor_snapshot_id))) else {
            continue;
        };
        cases.push(build_case(key, group, links, fk, sor));
    }
    cases.sort_by(|a, b| {
        a.rank
            .cmp(&b.rank)
            .then(a.confidence.unwrap_or(1.0).total_cmp(&b.confidence.unwrap_or(1.0)))
            .then(a.id.cmp(&b.id))
    });
    cases
}

fn build_case(
    key: String,
    group: &[&PendingRow],
    links: &HashMap<String, String>,
    fk: &FkTree,
    sor: &SorTree,
) -> CaseItem {
    let kind_of = |r: &PendingRow| ProposalKind::parse(&r.kind);
    // The correspondence proposal: the most confident pending link, else a pending create.
    let deciding = group
        .iter()
        .filter(|r| kind_of(r) == Some(ProposalKind::Link))
        .max_by(|a, b| a.confidence.unwrap_or(0.0).total_cmp(&b.confidence.unwrap_or(0.0)))
        .or_else(|| group.iter().find(|r| kind_of(r) == Some(ProposalKind::Create)))
        .copied();
    let mut follow_ups: Vec<(&PendingRow, u8)> = group
        .iter()
        .filter(|r| kind_of(r).is_some_and(ProposalKind::is_follow_up))
        .map(|r| (*r, follow_up_rank(&r.payload)))
        .collect();
    follow_ups.sort_by_key(|(r, rank)| (*rank, r.id));
    let primary = deciding.or_else(|| follow_ups.first().map(|(r, _)| *r)).unwrap_or(group[0]);
    let fk_uuid = primary.fk_uuid.clone().or_else(|| group.iter().find_map(|r| r.fk_uuid.clone()));
    let fk_unit = fk_uuid.as_deref().and_then(|u| FkUuid::parse(u).ok());
    let linked = fk_uuid.as_deref().and_then(|u| links.get(u)).cloned();
    let correspondence = match (deciding, &linked) {
        (Some(r), _) => Some(match &r.payload {
            ProposalDto::Create { parent_sor_id, .. } => CorrespondenceView {
                kind: "create".into(),
                sor_id: None,
                sor_name: None,
                confidence: None,
                parent_sor_id: Some(parent_sor_id.clone()),
                parent_name: sor_name(sor, parent_sor_id),
            },
            _ => CorrespondenceView {
                kind: "link".into(),
                sor_id: r.sor_id.clone(),
                sor_name: r
                    .sor_id
                    .as_deref()
                    .and_then(|s| sor_name(sor, s))
                    .or_else(|| r.payload.sor_name().map(str::to_string)),
                confidence: r.confidence,
                parent_sor_id: None,
                parent_name: None,
            },
        }),
        (None, Some(s)) => Some(CorrespondenceView {
            kind: "linked".into(),
            sor_id: Some(s.clone()),
            sor_name: sor_name(sor, s),
            confidence: None,
            parent_sor_id: None,
            parent_name: None,
        }),
        (None, None) => None,
    };
    let case_sor = match (&correspondence, &primary.sor_id) {
        (Some(c), _) if c.sor_id.is_some() => c.sor_id.clone(),
        (_, s) => s.clone(),
    };
    let sor_path_text = match &correspondence {
        Some(c) if c.kind == "create" => {
            let name = primary.payload.fk_name().unwrap_or_default().to_string();
            Some(match &c.parent_name {
                Some(p) => format!("{p} > {name}"),
                None => name,
            })
        }
        _ => case_sor.as_deref().and_then(|s| SorId::parse(s).ok()).and_then(|s| sor_path(sor, s)),
    };
    let alternatives = match deciding.map(|r| &r.payload) {
        Some(ProposalDto::Link { alternatives, .. }) => alternatives
            .iter()
            .take(MAX_ALTERNATIVES)
            .map(|a| CaseAlternative {
                sor_id: a.sor_id.clone(),
                name: sor_name(sor, &a.sor_id),
                confidence: a.confidence,
            })
            .collect(),
        _ => Vec::new(),
    };
    let rank = if deciding.is_some() { 0 } else { follow_ups.first().map_or(6, |(_, r)| *r) };
    let mut proposal_ids: Vec<i64> = group.iter().map(|r| r.id).collect();
    proposal_ids.sort_unstable();
    CaseItem {
        id: primary.id,
        case: key,
        stage: if deciding.is_some() { "correspondence" } else { "follow_ups" }.into(),
        kind: primary.kind.clone(),
        fk_uuid: fk_uuid.clone(),
        sor_id: case_sor.clone(),
        confidence: deciding.and_then(|r| r.confidence),
        fk_name: fk_unit
            .and_then(|u| fk.get(u))
            .map(|u| u.enhedsnavn.clone())
            .or_else(|| primary.payload.fk_name().map(str::to_string)),
        sor_name: case_sor.as_deref().and_then(|s| sor_name(sor, s)),
        fk_path: fk_unit.and_then(|u| fk_path(fk, u)),
        sor_path: sor_path_text,
        correspondence,
        follow_ups: follow_ups
            .iter()
            .map(|(r, _)| FollowUpView {
                id: r.id,
                kind: r.kind.clone(),
                changes: follow_up_changes(&r.payload, fk, sor),
            })
            .collect(),
        alternatives,
        proposal_ids,
        rank,
    }
}

/// What a key does to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseAction {
    /// The proposed correspondence (link or create), or, once it is decided, the follow-ups.
    Approve,
    /// "Not in SOR" for an undecided case; reject the follow-ups of a decided one.
    Reject,
    /// Create the unit in SOR instead of the proposed link.
    New,
    /// Link to this runner-up instead.
    Alternative(SorId),
}

impl CaseAction {
    /// `approve`, `reject`, `new`, or `alternative` with `sor_id`.
    pub fn parse(action: &str, sor_id: Option<&str>) -> Result<CaseAction, WebError> {
        match action {
            "approve" => Ok(CaseAction::Approve),
            "reject" => Ok(CaseAction::Reject),
            "new" => Ok(CaseAction::New),
            "alternative" => {
                let s = sor_id
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| WebError::BadRequest("choose which runner-up (sor_id)".into()))?;
                Ok(CaseAction::Alternative(SorId::parse(s).map_err(|e| WebError::BadRequest(e.to_string()))?))
            }
            other => {
                Err(WebError::BadRequest(format!("unknown action {other:?}: approve, reject, new or alternative")))
            }
        }
    }
}

/// What [`decide_case`] decided.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct CaseDecided {
    pub case: String,
    /// The proposals decided (for a new link or create: the proposal it recorded).
    pub decided: Vec<i64>,
}

/// Decides the case of pending proposal `id` with one key, through the review library (which
/// checks the role again): an undecided case by its link or create, a decided one by its follow-ups.
pub async fn decide_case(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    id: i64,
    action: CaseAction,
    reason: Option<&str>,
) -> Result<CaseDecided, WebError> {
    signed.require(kommune, &[Role::SorAdmin])?;
    let store = state.store();
    let p = match store.proposal(id).await {
        Ok(p) if p.kommune == kommune => p,
        Ok(_) | Err(crate::store::StoreError::NoSuchProposal(_)) => {
            return Err(WebError::NotFound(format!("proposal {id} of municipality {kommune}")))
        }
        Err(e) => return Err(e.into()),
    };
    if p.status != ProposalStatus::Pending {
        return Err(WebError::Conflict(format!(
            "proposal {id} is {}: the case was decided already",
            p.status.as_str()
        )));
    }
    let case = case_key(p.key.fk_uuid.as_deref(), p.key.sor_id.as_deref(), p.id);
    let actor = Actor::new(signed.user.clone());
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if p.key.kind.decides_correspondence() {
        let decided = match action {
            CaseAction::Approve => {
                // What follows from the link by the sync policy is decided with it.
                let base = crate::matching::policy::SyncPolicy::default();
                let policy = crate::waves::pipeline::configured_policy(store, kommune, &base)
                    .await
                    .map_err(|e| WebError::Internal(e.to_string()))?;
                let (decided, followed) =
                    crate::review::decide_case(store, &actor, id, Decision::Approve, reason, &policy).await?;
                let mut all = vec![decided];
                all.extend(followed);
                return Ok(CaseDecided { case, decided: all });
            }
            CaseAction::Reject => crate::review::no_match(store, &actor, id, reason).await?,
            CaseAction::New if p.key.kind == ProposalKind::Create => {
                crate::review::decide(store, &actor, id, Decision::Approve, reason).await?
            }
            CaseAction::New => crate::review::create_new(store, &actor, id, reason).await?,
            CaseAction::Alternative(s) => crate::review::choose_alternative(store, &actor, id, s, reason).await?,
        };
        return Ok(CaseDecided { case, decided: vec![decided] });
    }
    let decision = match action {
        CaseAction::Approve => Decision::Approve,
        CaseAction::Reject => Decision::Reject,
        CaseAction::New | CaseAction::Alternative(_) => {
            return Err(WebError::Conflict(
                "this case's correspondence is decided already: approve or reject what follows from it".into(),
            ))
        }
    };
    // Every pending follow-up of the case, in the queue's order.
    let mut follow_ups: Vec<_> = store
        .proposals(kommune, Some(ProposalStatus::Pending))
        .await?
        .into_iter()
        .filter(|q| q.key.kind.is_follow_up())
        .filter(|q| case_key(q.key.fk_uuid.as_deref(), q.key.sor_id.as_deref(), q.id) == case)
        .collect();
    follow_ups.sort_by_key(|q| (follow_up_rank(&q.payload), q.id));
    let mut decided = Vec::new();
    for q in follow_ups {
        match crate::review::decide(store, &actor, q.id, decision, reason).await {
            Ok(_) => decided.push(q.id),
            // The first one refused (e.g. the case is not linked to its SOR unit) stops here.
            Err(e) if decided.is_empty() => return Err(e.into()),
            Err(_) => {}
        }
    }
    Ok(CaseDecided { case, decided })
}

/// What [`undo`] did, for the API and the page's notice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct UndoView {
    pub undone: bool,
    /// `undone`, `nothing_to_undo`, `undo_sent`, `undo_replaced` or `undo_by_hand`.
    pub outcome: String,
    pub proposal_id: Option<i64>,
    pub message: String,
}

/// Undoes the signed-in SOR administrator's last decision in `kommune` (`review::undo_last`).
pub async fn undo(state: &AppState, signed: &Signed, kommune: KommuneKode) -> Result<UndoView, WebError> {
    signed.require(kommune, &[Role::SorAdmin])?;
    let outcome = crate::review::undo_last(state.store(), &Actor::new(signed.user.clone()), kommune).await?;
    let (key, proposal_id) = match &outcome {
        UndoOutcome::Undone { proposal_id, .. } => ("undone", Some(*proposal_id)),
        UndoOutcome::NothingToUndo => ("nothing_to_undo", None),
        UndoOutcome::AlreadySent { proposal_id, .. } => ("undo_sent", Some(*proposal_id)),
        UndoOutcome::Replaced { proposal_id, .. } => ("undo_replaced", Some(*proposal_id)),
        UndoOutcome::MadeByHand { proposal_id, .. } => ("undo_by_hand", Some(*proposal_id)),
    };
    Ok(UndoView { undone: outcome.is_undone(), outcome: key.into(), proposal_id, message: outcome.message() })
}
