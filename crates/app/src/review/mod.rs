//! Review rules: what a run records as proposals, who may decide on them, and what a decision
//! does. Every mutating call (CLI, web, worker) goes through these functions, so the rules hold
//! whatever the caller:
//! - a pair rejected before is not proposed again while both units' data is unchanged;
//! - an approved link persists: its units are not proposed for another pending link;
//! - a re-run adds only what changed (a pending proposal with the same units and data stays as it
//!   is; one no longer proposed, or proposed from changed data, becomes superseded; so does an
//!   approved one nothing was sent for yet when the same change is proposed from changed data);
//! - one FK-ORG unit gets one SOR unit: a create or link is not approved while another approved,
//!   unapplied create or link exists for the same FK-ORG unit;
//! - only a SOR administrator of the proposal's municipality may approve or reject it, link by
//!   hand, choose an alternative, decide "create new" or "no match";
//! - an auto-approval rule approves only unflagged links in its configured band, recorded as automatic.

mod actions;
mod lifecycle;
mod undo;

use std::collections::{HashMap, HashSet};

use crate::domain::{FkTree, FkUuid, KommuneKode, SorId, SorTree};
use crate::matching::json::ProposalDto;
use crate::matching::{Proposal, ProposalKind, Proposals};
use crate::store::{
    units_data_hash, NewProposal, ProposalKey, ReviewState, RunPlan, Store, StoreError, StoredProposal, Verdict,
};

pub use actions::{
    apply_policy, auto_approve, choose_alternative, close_sor_only, create_new, decide_case, link_by_hand, no_match,
    policy_rule, AutoApproval, ByHandError, ConfidenceBand, PolicyDecisions,
};
pub use lifecycle::{changes_per_proposal, lifecycle, proposals_with_lifecycle, Lifecycle, ProposalLife};
pub use undo::{undo_last, UndoOutcome};

/// What a user may do for a municipality (issue 6): SOR administrators decide (approve, reject,
/// link by hand, choose an alternative, create new, no match); operators run plans and applies;
/// organisation administrators see previews only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Approves and rejects proposals.
    SorAdmin,
    /// Sees previews only.
    OrgAdmin,
    /// Runs batches; no approvals.
    Operator,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::SorAdmin, Role::OrgAdmin, Role::Operator, Role::ReadOnly];

    /// The name in the store and on the command line: `sor_admin`, `org_admin`, `operator`, `read_only`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SorAdmin => "sor_admin",
            Role::OrgAdmin => "org_admin",
            Role::Operator => "operator",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How a person would say it.
    pub fn title(self) -> &'static str {
        match self {
            Role::SorAdmin => "SOR administrator",
            Role::OrgAdmin => "organisation administrator",
            Role::Operator => "operator",
            Role::ReadOnly => "read-only user",
        }
    }
}

/// Who is acting. (Issue 8 adds sign-in; until then the name is taken as given.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_name: String,
}

impl Actor {
    pub fn new(user_name: impl Into<String>) -> Self {
        Actor { user_name: user_name.into() }
    }
}

/// A person's decision on a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// A stored snapshot together with its loaded tree.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a, T> {
    pub id: i64,
    pub tree: &'a T,
}

/// What [`record_run`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Ids of the proposals recorded by this run.
    pub new: Vec<i64>,
    /// Proposals equal (same units, same data) to a pending one from an earlier run: kept as they are.
    pub unchanged: usize,
    /// Proposals rejected before from the same data: not proposed again.
    pub skipped_rejected: usize,
    /// Proposals approved before from the same data (waiting to be applied): not proposed again.
    pub skipped_approved: usize,
    /// Link proposals for units that are in an approved link already.
    pub skipped_linked: usize,
    /// Earlier pending proposals no longer proposed (or proposed from changed data).
    pub superseded: usize,
    /// Pending proposals for the municipality after the run.
    pub pending: usize,
}

/// Why a review call was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "{user} may not {action} for municipality {kommune}: that needs the {} role for {kommune} \
         (grant it with `sorsync users grant {user} --kommune {kommune} --role {}`)",
        needed.title(),
        needed.as_str()
    )]
    NotPermitted { user: String, kommune: KommuneKode, action: &'static str, needed: Role },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stored form of a proposal: its key, payload (the JSON contract) and the hash of the data
/// of both units it was made from.
pub fn new_proposal(p: &Proposal, fk: &FkTree, sor: &SorTree) -> NewProposal {
    let (fk_uuid, sor_id, parent, confidence): (Option<FkUuid>, Option<SorId>, Option<SorId>, Option<f64>) = match p {
        Proposal::Link(l) => (Some(l.fk_uuid), Some(l.sor_id), None, Some(l.confidence)),
        Proposal::Create(c) => (Some(c.fk_uuid), None, Some(c.parent_sor_id), None),
        Proposal::Update(u) => (Some(u.fk_uuid), Some(u.sor_id), None, None),
        Proposal::Close(c) => (Some(c.fk_uuid), Some(c.sor_id), None, None),
        Proposal::Move(m) => (Some(m.fk_uuid), Some(m.sor_id), Some(m.new_parent_sor_id), None),
        Proposal::WriteBack(w) => (Some(w.fk_uuid), Some(w.sor_id), None, None),
    };
    let fk_unit = fk_uuid.and_then(|u| fk.get(u));
    // The SOR unit the proposal is about; for a create, the parent it goes under.
    let sor_unit = sor_id.or(parent).and_then(|s| sor.get(s));
    NewProposal {
        key: ProposalKey {
            kind: p.kind(),
            fk_uuid: fk_uuid.map(|u| u.to_string()),
            sor_id: sor_id.map(|s| s.to_string()),
            parent_sor_id: parent.map(|s| s.to_string()),
        },
        confidence,
        payload: ProposalDto::from(p),
        data_hash: units_data_hash(fk_unit, sor_unit),
    }
}

/// The candidates without what was applied already: a follow-up that was written to SOR never
/// returns, even while the SOR snapshot still shows the old value. An update keeps only the
/// fields whose new value differs from what was applied; a move, closure or write-back with the
/// same key as an applied one is left out. Pure.
pub fn without_applied(candidates: Vec<NewProposal>, applied: &[StoredProposal]) -> Vec<NewProposal> {
    let mut out = Vec::with_capacity(candidates.len());
    for mut c in candidates {
        if !c.key.kind.is_follow_up() {
            out.push(c);
            continue;
        }
        let same_key: Vec<&StoredProposal> = applied.iter().filter(|a| a.key == c.key).collect();
        if same_key.is_empty() {
            out.push(c);
            continue;
        }
        if let ProposalDto::Update { changes, .. } = &mut c.payload {
            changes.retain(|ch| {
                !same_key.iter().any(|a| match &a.payload {
                    ProposalDto::Update { changes: done, .. } => {
                        done.iter().any(|d| d.field == ch.field && d.to == ch.to)
                    }
                    _ => false,
                })
            });
            if !changes.is_empty() {
                out.push(c);
            }
        }
        // A move, closure or write-back with an applied twin: done already.
    }
    out
}

/// Decides what a run records, given the municipality's review state: pure, no IO.
pub fn plan_run(state: &ReviewState, candidates: &[NewProposal]) -> (RunPlan, RunSummary) {
    let linked_fk: HashSet<&str> = state.links.iter().map(|(f, _)| f.as_str()).collect();
    let linked_sor: HashSet<&str> = state.links.iter().map(|(_, s)| s.as_str()).collect();
    // The latest decision per key wins.
    let mut last_decision: HashMap<&ProposalKey, (&str, Verdict)> = HashMap::new();
    for d in &state.decided {
        last_decision.insert(&d.key, (d.data_hash.as_str(), d.verdict));
    }
    let pending: HashMap<&ProposalKey, &StoredProposal> = state.pending.iter().map(|p| (&p.key, p)).collect();
    // Links a person rejected from this very data: their follow-ups are not put up again either.
    let rejected_links: HashSet<(Option<&str>, Option<&str>)> = candidates
        .iter()
        .filter(|c| c.key.kind == ProposalKind::Link)
        .filter(|c| matches!(last_decision.get(&c.key), Some((h, Verdict::Rejected)) if *h == c.data_hash))
        .map(|c| (c.key.fk_uuid.as_deref(), c.key.sor_id.as_deref()))
        .collect();
    let mut kept: HashSet<i64> = HashSet::new();
    let mut seen: HashSet<&ProposalKey> = HashSet::new();
    let mut plan = RunPlan::default();
    let mut summary = RunSummary::default();
    for (i, c) in candidates.iter().enumerate() {
        if !seen.insert(&c.key) {
            continue;
        }
        if c.key.kind.is_follow_up() && rejected_links.contains(&(c.key.fk_uuid.as_deref(), c.key.sor_id.as_deref())) {
            summary.skipped_rejected += 1;
            continue;
        }
        if c.key.kind == ProposalKind::Link {
            let fk_linked = c.key.fk_uuid.as_deref().is_some_and(|f| linked_fk.contains(f));
            let sor_linked = c.key.sor_id.as_deref().is_some_and(|s| linked_sor.contains(s));
            if fk_linked || sor_linked {
                summary.skipped_linked += 1;
                continue;
            }
        }
        // An approved proposal nothing was sent for yet, made from data that changed since: the
        // new proposal replaces it (it would otherwise be applied next to the new one).
        // (An approved link holds its units in the links already, so only other kinds get here.)
        for old in state.approved_unsent.iter().filter(|p| p.key == c.key && p.data_hash != c.data_hash) {
            plan.supersede.push(old.id);
        }
        match last_decision.get(&c.key) {
            Some((hash, Verdict::Rejected)) if *hash == c.data_hash => {
                summary.skipped_rejected += 1;
                continue;
            }
            Some((hash, Verdict::Approved)) if *hash == c.data_hash => {
                summary.skipped_approved += 1;
                continue;
            }
            _ => {}
        }
        if let Some(p) = pending.get(&c.key) {
            if p.data_hash == c.data_hash {
                kept.insert(p.id);
                summary.unchanged += 1;
                continue;
            }
        }
        plan.insert.push(i);
    }
    let approved_superseded = std::mem::take(&mut plan.supersede);
    plan.supersede = state.pending.iter().map(|p| p.id).filter(|id| !kept.contains(id)).collect();
    plan.supersede.extend(approved_superseded);
    summary.superseded = plan.supersede.len();
    summary.pending = summary.unchanged + plan.insert.len();
    (plan, summary)
}

/// Records a run's proposals for `kommune` made from the two snapshots, following the rules at
/// the top of this module, in one transaction.
#[tracing::instrument(skip_all, fields(kommune = %kommune, fk_snapshot = fk.id, sor_snapshot = sor.id))]
pub async fn record_run(
    store: &Store,
    kommune: KommuneKode,
    fk: Snapshot<'_, FkTree>,
    sor: Snapshot<'_, SorTree>,
    proposals: &Proposals,
) -> Result<RunSummary, ReviewError> {
    let candidates: Vec<NewProposal> = proposals.proposals.iter().map(|p| new_proposal(p, fk.tree, sor.tree)).collect();
    let applied: Vec<StoredProposal> = proposals_with_lifecycle(store, kommune)
        .await?
        .into_iter()
        .filter(|l| l.state == Lifecycle::Applied)
        .map(|l| l.proposal)
        .collect();
    let candidates = without_applied(candidates, &applied);
    let mut summary = RunSummary::default();
    let ids = store
        .record_proposals(kommune, fk.id, sor.id, &candidates, |state| {
            let (plan, s) = plan_run(state, &candidates);
            summary = s;
            plan
        })
        .await?;
    summary.new = ids;
    tracing::info!(
        new = summary.new.len(),
        unchanged = summary.unchanged,
        superseded = summary.superseded,
        pending = summary.pending,
        "Proposals recorded."
    );
    Ok(summary)
}

/// Approves or rejects a pending proposal as `actor`, who must be a SOR administrator of the
/// proposal's municipality. An approved link is written to the approved links. Returns the
/// decision's id. When refused, nothing is written.
#[tracing::instrument(skip_all, fields(user = %actor.user_name, proposal_id))]
pub async fn decide(
    store: &Store,
    actor: &Actor,
    proposal_id: i64,
    decision: Decision,
    reason: Option<&str>,
) -> Result<i64, ReviewError> {
    let proposal = store.proposal(proposal_id).await?;
    let action = match decision {
        Decision::Approve => "approve proposals",
        Decision::Reject => "reject proposals",
    };
    require_role(store, actor, proposal.kommune, Role::SorAdmin, action).await?;
    let verdict = match decision {
        Decision::Approve => Verdict::Approved,
        Decision::Reject => Verdict::Rejected,
    };
    let id = store.record_decision(proposal.kommune, proposal_id, verdict, &actor.user_name, reason, false).await?;
    tracing::info!(decision_id = id, verdict = verdict.as_str(), "Decision recorded.");
    Ok(id)
}

/// Gives `user_name` `role` for `kommune`. With a granting actor, that actor must be a SOR
/// administrator of `kommune`; without one (None) it is the operators' bootstrap from the command
/// line (`sorsync users grant`), recorded as granted by "bootstrap". True when the grant is new.
pub async fn grant(
    store: &Store,
    granting: Option<&Actor>,
    user_name: &str,
    kommune: KommuneKode,
    role: Role,
) -> Result<bool, ReviewError> {
    if let Some(actor) = granting {
        require_role(store, actor, kommune, Role::SorAdmin, "grant roles").await?;
    }
    let by = granting.map_or("bootstrap", |a| a.user_name.as_str());
    Ok(store.record_grant_audited(user_name, kommune, role.as_str(), by).await?)
}

/// Takes `role` for `kommune` from `user_name` (audited as `revoke_role`) and ends all of the
/// user's sessions, so the role cannot be used from a session signed in before. `revoking`: the
/// SOR administrator of that municipality doing it, or None for the operators' bootstrap (the
/// command line's verified administrator). True when the grant existed.
pub async fn revoke(
    store: &Store,
    revoking: Option<&Actor>,
    user_name: &str,
    kommune: KommuneKode,
    role: Role,
) -> Result<bool, ReviewError> {
    if let Some(actor) = revoking {
        require_role(store, actor, kommune, Role::SorAdmin, "revoke roles").await?;
    }
    let by = revoking.map_or("bootstrap", |a| a.user_name.as_str());
    let existed = store.revoke_grant(user_name, kommune, role.as_str(), by).await?;
    store.delete_sessions_of(user_name).await?;
    Ok(existed)
}

/// [`grant`] from the command line's bootstrap (store access is the administrator's), audited as
/// `bootstrap:<operating-system user>`.
pub async fn bootstrap_grant(
    store: &Store,
    os_user: &str,
    user_name: &str,
    kommune: KommuneKode,
    role: Role,
) -> Result<bool, ReviewError> {
    Ok(store.record_grant_audited(user_name, kommune, role.as_str(), &format!("bootstrap:{os_user}")).await?)
}

/// [`revoke`] from the command line's bootstrap: audited as `bootstrap:<operating-system user>`;
/// ends the user's sessions.
pub async fn bootstrap_revoke(
    store: &Store,
    os_user: &str,
    user_name: &str,
    kommune: KommuneKode,
    role: Role,
) -> Result<bool, ReviewError> {
    let existed = store.revoke_grant(user_name, kommune, role.as_str(), &format!("bootstrap:{os_user}")).await?;
    store.delete_sessions_of(user_name).await?;
    Ok(existed)
}

/// Refuses unless `actor` holds `needed` for `kommune`.
pub async fn require_role(
    store: &Store,
    actor: &Actor,
    kommune: KommuneKode,
    needed: Role,
    action: &'static str,
) -> Result<(), ReviewError> {
    if store.has_role(&actor.user_name, kommune, needed.as_str()).await? {
        Ok(())
    } else {
        Err(ReviewError::NotPermitted { user: actor.user_name.clone(), kommune, action, needed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PastDecision;

    fn candidate(kind: &str, fk: &str, sor: &str, hash: &str) -> NewProposal {
        NewProposal {
            key: ProposalKey {
                kind: ProposalKind::parse(kind).expect("kind"),
                fk_uuid: Some(fk.into()),
                sor_id: Some(sor.into()),
                parent_sor_id: None,
            },
            confidence: None,
            payload: ProposalDto::from_key_and_json(
                ProposalKind::parse(kind).expect("kind"),
                Some(fk),
                Some(sor),
                None,
                &serde_json::json!({}),
            )
            .expect("payload"),
            data_hash: hash.into(),
        }
    }

    #[test]
    fn a_rejected_pair_comes_back_only_when_its_data_changed() {
        let c = candidate("link", "f", "s", "h1");
        let state = ReviewState {
            decided: vec![PastDecision { key: c.key.clone(), data_hash: "h1".into(), verdict: Verdict::Rejected }],
            ..ReviewState::default()
        };
        let (plan, summary) = plan_run(&state, std::slice::from_ref(&c));
        assert!(plan.insert.is_empty());
        assert_eq!(summary.skipped_rejected, 1);
        let changed = candidate("link", "f", "s", "h2");
        let (plan, _) = plan_run(&state, &[changed]);
        assert_eq!(plan.insert, vec![0]);
    }

    #[test]
    fn units_in_an_approved_link_are_not_proposed_for_another_link() {
        let state = ReviewState { links: vec![("f".into(), "s".into())], ..ReviewState::default() };
        let cands =
            [candidate("link", "f", "s", "h"), candidate("link", "g", "s", "h"), candidate("update", "f", "s", "h")];
        let (plan, summary) = plan_run(&state, &cands);
        assert_eq!(plan.insert, vec![2]);
        assert_eq!(summary.skipped_linked, 2);
    }

    #[test]
    fn roles_read_back_from_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
