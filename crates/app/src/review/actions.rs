//! Decisions beyond approve/reject, each checked against the SOR-administrator role in the
//! library: link two units by hand, choose one of a link's alternatives, create a new SOR unit
//! instead of a proposed link, "no match"; and auto-approval of links in a configured confidence
//! band (recorded as automatic, with the rule as the actor).

use super::{require_role, Actor, ReviewError, Role};
use crate::domain::{FkTree, FkUuid, KommuneKode, SorId, SorTree};
use crate::matching::json::ProposalDto;
use crate::matching::policy::{Rule, SyncPolicy};
use crate::matching::ProposalKind;
use crate::store::{units_data_hash, NewProposal, ProposalKey, ProposalStatus, Register, Store, StoreError, Verdict};

/// Link proposals whose confidence lies in `min..=max` may be approved by a rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfidenceBand {
    pub min: f64,
    pub max: f64,
}

impl ConfidenceBand {
    /// The lowest confidence a rule may ever approve a link at, whatever the configuration says:
    /// configuration can only raise it (the same floor as the sync policy's `link_auto_min`).
    pub const FLOOR: f64 = crate::matching::policy::SyncPolicy::LINK_AUTO_FLOOR;

    /// The band as the library applies it: its lower bound raised to [`ConfidenceBand::FLOOR`].
    pub fn floored(self) -> ConfidenceBand {
        ConfidenceBand { min: self.min.max(Self::FLOOR), max: self.max }
    }

    pub fn contains(&self, confidence: f64) -> bool {
        confidence >= self.min && confidence <= self.max
    }

    /// The actor name recorded for approvals by this rule, e.g. `rule:auto-approve[0.98,1]`.
    pub fn actor_name(&self) -> String {
        format!("rule:auto-approve[{},{}]", self.min, self.max)
    }
}

/// What [`auto_approve`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoApproval {
    /// Proposals approved by the rule.
    pub approved: Vec<i64>,
    /// In the band but left for a person: flagged links, or a unit already linked.
    pub left_for_review: Vec<i64>,
}

/// Approves `kommune`'s pending link proposals whose confidence lies in `band` (its lower bound
/// never below [`ConfidenceBand::FLOOR`]) and that carry no flags, recorded as automatic with the
/// rule as the actor and `run_by` (who started the run: an operator or SOR administrator of the
/// municipality) in the reason. Configured in `[review]` and off by default: callers (the waves
/// runner) call this only when the configuration names a band.
#[tracing::instrument(skip_all, fields(kommune = %kommune, min = band.min, max = band.max, user = %run_by.user_name))]
pub async fn auto_approve(
    store: &Store,
    run_by: &Actor,
    kommune: KommuneKode,
    band: ConfidenceBand,
) -> Result<AutoApproval, ReviewError> {
    if !store.has_role(&run_by.user_name, kommune, Role::SorAdmin.as_str()).await? {
        require_role(store, run_by, kommune, Role::Operator, "start auto-approval").await?;
    }
    let band = band.floored();
    let rule = band.actor_name();
    let mut out = AutoApproval::default();
    for p in store.proposals(kommune, Some(ProposalStatus::Pending)).await? {
        let Some(confidence) = p.confidence.filter(|_| p.key.kind == ProposalKind::Link) else { continue };
        if !band.contains(confidence) {
            continue;
        }
        if !p.payload.flags().is_empty() {
            out.left_for_review.push(p.id);
            continue;
        }
        let reason = format!(
            "confidence {confidence:.3} within the auto-approval band {}..{}; run by {}",
            band.min, band.max, run_by.user_name
        );
        match store.record_decision(kommune, p.id, Verdict::Approved, &rule, Some(&reason), true).await {
            Ok(_) => out.approved.push(p.id),
            Err(e) if e.is_decision_conflict() => out.left_for_review.push(p.id),
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(approved = out.approved.len(), left = out.left_for_review.len(), "Auto-approval done.");
    Ok(out)
}

/// Why a decision by hand could not be made (besides roles and the store).
#[derive(Debug, thiserror::Error)]
pub enum ByHandError {
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error("municipality {0} has no FK-ORG snapshot or no SOR snapshot: import both first")]
    NoSnapshots(KommuneKode),
    #[error("FK-ORG unit {0} is not in municipality {1}'s latest FK-ORG snapshot")]
    UnknownFkUnit(FkUuid, KommuneKode),
    #[error("SOR unit {0} is not in the latest SOR snapshot used for municipality {1}")]
    UnknownSorUnit(SorId, KommuneKode),
    #[error("proposal {id} is a {kind} proposal; this needs a link proposal")]
    NotALink { id: i64, kind: ProposalKind },
    #[error("SOR unit {sor_id} is not one of proposal {id}'s alternatives ({alternatives})")]
    NotAnAlternative { id: i64, sor_id: SorId, alternatives: String },
    #[error(
        "cannot create FK-ORG unit {0} in SOR: its parent unit is not linked to SOR yet (link or create the parent first)"
    )]
    ParentNotInSor(FkUuid),
    #[error("the store holds a proposal sorsync cannot read: {0}")]
    Unreadable(String),
    #[error(
        "SOR unit {0} is an institution owner or health institution: those are maintained by their owners and \
         Sundhedsdatastyrelsen, not closed from here"
    )]
    NotOurs(SorId),
}

impl From<StoreError> for ByHandError {
    fn from(e: StoreError) -> Self {
        ByHandError::Review(ReviewError::Store(e))
    }
}

/// The latest snapshots of `kommune` (SOR: its own, else the national one), loaded.
async fn latest(store: &Store, kommune: KommuneKode) -> Result<((i64, FkTree), (i64, SorTree)), ByHandError> {
    let fk_id =
        store.latest_snapshot_id(Register::FkOrg, Some(kommune)).await?.ok_or(ByHandError::NoSnapshots(kommune))?;
    let (sor_id, _) = store.sor_snapshot_for(kommune).await?.ok_or(ByHandError::NoSnapshots(kommune))?;
    Ok(((fk_id, store.load_fkorg(fk_id).await?), (sor_id, store.load_sor(sor_id).await?)))
}

/// Pending link proposals that involve `fk` or `sor`, except `except`.
async fn competing_links(
    store: &Store,
    kommune: KommuneKode,
    fk: &str,
    sor: Option<&str>,
    except: Option<i64>,
) -> Result<Vec<i64>, StoreError> {
    Ok(store
        .proposals(kommune, Some(ProposalStatus::Pending))
        .await?
        .into_iter()
        .filter(|p| Some(p.id) != except && p.key.kind == ProposalKind::Link)
        .filter(|p| p.key.fk_uuid.as_deref() == Some(fk) || (sor.is_some() && p.key.sor_id.as_deref() == sor))
        .map(|p| p.id)
        .collect())
}

fn link_proposal(fk: &FkTree, sor: &SorTree, fk_uuid: FkUuid, sor_id: SorId, basis: &str) -> NewProposal {
    let fk_unit = fk.get(fk_uuid);
    let sor_unit = sor.get(sor_id);
    NewProposal {
        key: ProposalKey {
            kind: ProposalKind::Link,
            fk_uuid: Some(fk_uuid.to_string()),
            sor_id: Some(sor_id.to_string()),
            parent_sor_id: None,
        },
        confidence: None,
        payload: ProposalDto::Link {
            fk_uuid: fk_uuid.to_string(),
            sor_id: sor_id.to_string(),
            confidence: 1.0,
            explanation: Vec::new(),
            alternatives: Vec::new(),
            basis: basis.to_string(),
            flags: Vec::new(),
            fk_name: fk_unit.map(|u| u.enhedsnavn.clone()).unwrap_or_default(),
            sor_name: sor_unit.map(|u| u.name.clone()),
        },
        data_hash: units_data_hash(fk_unit, sor_unit),
    }
}

/// Links FK-ORG unit `fk_uuid` and SOR unit `sor_id` by hand (approved at once; competing pending
/// link proposals for either unit are superseded). Returns the new proposal's id.
pub async fn link_by_hand(
    store: &Store,
    actor: &Actor,
    kommune: KommuneKode,
    fk_uuid: FkUuid,
    sor_id: SorId,
    reason: Option<&str>,
) -> Result<i64, ByHandError> {
    require_role(store, actor, kommune, Role::SorAdmin, "link units by hand").await?;
    let ((fk_snap, fk), (sor_snap, sor)) = latest(store, kommune).await?;
    fk.get(fk_uuid).ok_or(ByHandError::UnknownFkUnit(fk_uuid, kommune))?;
    sor.get(sor_id).ok_or(ByHandError::UnknownSorUnit(sor_id, kommune))?;
    let new = link_proposal(&fk, &sor, fk_uuid, sor_id, "by_hand");
    let supersede =
        competing_links(store, kommune, &fk_uuid.to_string(), Some(sor_id.to_string().as_str()), None).await?;
    let id = store
        .record_by_hand(kommune, None, &supersede, &new, (fk_snap, sor_snap), &actor.user_name, reason, "link_by_hand")
        .await?;
    Ok(id)
}

/// Chooses `sor_id`, one of pending link proposal `proposal_id`'s alternatives, instead of its
/// SOR unit: the proposal is rejected and the alternative linked, in one transaction. Returns the
/// new proposal's id.
pub async fn choose_alternative(
    store: &Store,
    actor: &Actor,
    proposal_id: i64,
    sor_id: SorId,
    reason: Option<&str>,
) -> Result<i64, ByHandError> {
    let p = store.proposal(proposal_id).await?;
    require_role(store, actor, p.kommune, Role::SorAdmin, "choose another candidate").await?;
    let ProposalDto::Link { alternatives, .. } = &p.payload else {
        return Err(ByHandError::NotALink { id: proposal_id, kind: p.key.kind });
    };
    let alternatives: Vec<String> = alternatives.iter().map(|a| a.sor_id.clone()).collect();
    if !alternatives.iter().any(|a| *a == sor_id.to_string()) {
        return Err(ByHandError::NotAnAlternative { id: proposal_id, sor_id, alternatives: alternatives.join(", ") });
    }
    let fk_text = p.key.fk_uuid.clone().ok_or_else(|| ByHandError::Unreadable(format!("proposal {proposal_id}")))?;
    let fk_uuid = FkUuid::parse(&fk_text).map_err(|e| ByHandError::Unreadable(e.to_string()))?;
    let ((fk_snap, fk), (sor_snap, sor)) = latest(store, p.kommune).await?;
    sor.get(sor_id).ok_or(ByHandError::UnknownSorUnit(sor_id, p.kommune))?;
    let new = link_proposal(&fk, &sor, fk_uuid, sor_id, "alternative_chosen");
    let supersede =
        competing_links(store, p.kommune, &fk_text, Some(sor_id.to_string().as_str()), Some(proposal_id)).await?;
    let id = store
        .record_by_hand(
            p.kommune,
            Some((proposal_id, Verdict::Rejected, "reject")),
            &supersede,
            &new,
            (fk_snap, sor_snap),
            &actor.user_name,
            reason,
            "choose_alternative",
        )
        .await?;
    Ok(id)
}

/// Decides that the FK-ORG unit of pending proposal `proposal_id` (usually a link) is not in SOR
/// and must be created there, under the SOR unit its FK-ORG parent is linked to: the proposal is
/// rejected and an approved create proposal recorded, in one transaction. Returns the new
/// proposal's id.
pub async fn create_new(
    store: &Store,
    actor: &Actor,
    proposal_id: i64,
    reason: Option<&str>,
) -> Result<i64, ByHandError> {
    let p = store.proposal(proposal_id).await?;
    require_role(store, actor, p.kommune, Role::SorAdmin, "decide to create a new SOR unit").await?;
    let fk_text = p.key.fk_uuid.clone().ok_or_else(|| ByHandError::Unreadable(format!("proposal {proposal_id}")))?;
    let fk_uuid = FkUuid::parse(&fk_text).map_err(|e| ByHandError::Unreadable(e.to_string()))?;
    let ((fk_snap, fk), (sor_snap, sor)) = latest(store, p.kommune).await?;
    let unit = fk.get(fk_uuid).ok_or(ByHandError::UnknownFkUnit(fk_uuid, p.kommune))?;
    let parent_fk = unit.parent.ok_or(ByHandError::ParentNotInSor(fk_uuid))?;
    let links = store.approved_link_ids(p.kommune).await?;
    let parent_sor = links
        .iter()
        .find(|(f, _)| *f == parent_fk)
        .map(|(_, s)| *s)
        .or_else(|| fk.get(parent_fk).and_then(|u| u.sor_id))
        .filter(|s| sor.get(*s).is_some())
        .ok_or(ByHandError::ParentNotInSor(fk_uuid))?;
    let new = NewProposal {
        key: ProposalKey {
            kind: ProposalKind::Create,
            fk_uuid: Some(fk_text.clone()),
            sor_id: None,
            parent_sor_id: Some(parent_sor.to_string()),
        },
        confidence: None,
        payload: ProposalDto::Create {
            fk_uuid: fk_text.clone(),
            parent_sor_id: parent_sor.to_string(),
            name: unit.enhedsnavn.trim().to_string(),
            parent_fk_uuid: parent_fk.to_string(),
        },
        data_hash: units_data_hash(Some(unit), sor.get(parent_sor)),
    };
    let supersede = competing_links(store, p.kommune, &fk_text, None, Some(proposal_id)).await?;
    let id = store
        .record_by_hand(
            p.kommune,
            Some((proposal_id, Verdict::Rejected, "reject")),
            &supersede,
            &new,
            (fk_snap, sor_snap),
            &actor.user_name,
            reason,
            "create_new",
        )
        .await?;
    Ok(id)
}

/// Decides that pending proposal `proposal_id` has no match: it is rejected (and, like any
/// rejection, not proposed again while both units' data is unchanged), recorded as "no match".
pub async fn no_match(
    store: &Store,
    actor: &Actor,
    proposal_id: i64,
    reason: Option<&str>,
) -> Result<i64, ReviewError> {
    let p = store.proposal(proposal_id).await?;
    require_role(store, actor, p.kommune, Role::SorAdmin, "decide there is no match").await?;
    Ok(store
        .record_decision_as(p.kommune, proposal_id, Verdict::Rejected, &actor.user_name, reason, false, "no_match")
        .await?)
}

/// What [`apply_policy`] decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyDecisions {
    /// Proposals approved by a rule of the policy, with the rule.
    pub approved: Vec<(i64, String)>,
    /// Proposals the policy would decide but could not (a competing link, a case decided otherwise).
    pub left_for_review: Vec<i64>,
}

/// Decides `kommune`'s pending proposals that the sync policy decides without a person, each
/// recorded as automatic with the rule as the actor and `run_by` in the reason: first the links
/// (a case's correspondence), then the follow-ups of cases linked to their SOR unit (a follow-up
/// whose case is undecided or decided otherwise is never approved). `run_by` must be an operator
/// or SOR administrator of the municipality.
#[tracing::instrument(skip_all, fields(kommune = %kommune, user = %run_by.user_name))]
pub async fn apply_policy(
    store: &Store,
    run_by: &Actor,
    kommune: KommuneKode,
    policy: &SyncPolicy,
) -> Result<PolicyDecisions, ReviewError> {
    if !store.has_role(&run_by.user_name, kommune, Role::SorAdmin.as_str()).await? {
        require_role(store, run_by, kommune, Role::Operator, "let the sync policy decide").await?;
    }
    let mut out = PolicyDecisions::default();
    // Correspondences first, so that their follow-ups can follow in the same call.
    for correspondence in [true, false] {
        let linked: std::collections::HashMap<String, String> =
            store.approved_link_ids(kommune).await?.into_iter().map(|(f, s)| (f.to_string(), s.to_string())).collect();
        for p in store.proposals(kommune, Some(ProposalStatus::Pending)).await? {
            if p.key.kind.decides_correspondence() != correspondence {
                continue;
            }
            let Some(rule) = policy_rule(policy, &p.payload) else { continue };
            if p.key.kind.is_follow_up() {
                let case_linked = match (&p.key.fk_uuid, &p.key.sor_id) {
                    (Some(f), Some(s)) => linked.get(f) == Some(s),
                    _ => false,
                };
                if !case_linked {
                    continue;
                }
            }
            let reason = format!("decided by the sync policy ({rule}); run by {}", run_by.user_name);
            match store.record_decision(kommune, p.id, Verdict::Approved, &rule.0, Some(&reason), true).await {
                Ok(_) => out.approved.push((p.id, rule.0)),
                Err(e) if e.is_decision_conflict() => out.left_for_review.push(p.id),
                Err(e) => return Err(e.into()),
            }
        }
    }
    tracing::info!(approved = out.approved.len(), left = out.left_for_review.len(), "Sync policy applied.");
    Ok(out)
}

/// The rule of `policy` that decides a stored proposal without a person, if any.
pub fn policy_rule(policy: &SyncPolicy, p: &ProposalDto) -> Option<Rule> {
    match p {
        ProposalDto::Link { confidence, flags, basis, .. } => {
            policy.rule_for(ProposalKind::Link, Some(*confidence), !flags.is_empty(), basis == "sor_id_on_unit", &[])
        }
        ProposalDto::Update { changes, .. } => {
            let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
            policy.rule_for(ProposalKind::Update, None, false, false, &fields)
        }
        other => policy.rule_for(other.kind(), None, false, false, &[]),
    }
}

/// [`super::decide`], and when it approves a link, the policy's automatic decisions on that case's
/// pending follow-ups at once (the address, phone and e-mail that follow from the link by the
/// default policy), recorded as automatic with the rule and "after USER linked the unit". A
/// person deciding a case thus decides its consequences that need no person too. Returns the
/// decision's id and the follow-ups the policy approved.
pub async fn decide_case(
    store: &Store,
    actor: &Actor,
    proposal_id: i64,
    decision: super::Decision,
    reason: Option<&str>,
    policy: &SyncPolicy,
) -> Result<(i64, Vec<i64>), ReviewError> {
    let id = super::decide(store, actor, proposal_id, decision, reason).await?;
    let p = store.proposal(proposal_id).await?;
    let mut followed = Vec::new();
    if decision != super::Decision::Approve || p.key.kind != ProposalKind::Link {
        return Ok((id, followed));
    }
    for f in store.proposals(p.kommune, Some(ProposalStatus::Pending)).await? {
        if !f.key.kind.is_follow_up() || f.key.fk_uuid != p.key.fk_uuid || f.key.sor_id != p.key.sor_id {
            continue;
        }
        let Some(rule) = policy_rule(policy, &f.payload) else { continue };
        let why = format!("decided by the sync policy ({rule}) after {} linked the unit", actor.user_name);
        match store.record_decision(p.kommune, f.id, Verdict::Approved, &rule.0, Some(&why), true).await {
            Ok(_) => followed.push(f.id),
            Err(StoreError::ProposalNotPending { .. } | StoreError::CaseNotLinked { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok((id, followed))
}

/// Decides that SOR-only unit `sor_id` (an open organisational unit nothing in FK-ORG is linked
/// to) is to be closed in SOR: an approved closure recorded as `close_sor_only`, planned like any
/// closure (and held by the closure limit). Never automatic. Returns the new proposal's id.
pub async fn close_sor_only(
    store: &Store,
    actor: &Actor,
    kommune: KommuneKode,
    sor_id: SorId,
    reason: Option<&str>,
) -> Result<i64, ByHandError> {
    require_role(store, actor, kommune, Role::SorAdmin, "close a SOR-only unit").await?;
    let ((fk_snap, _), (sor_snap, sor)) = latest(store, kommune).await?;
    let unit = sor.get(sor_id).ok_or(ByHandError::UnknownSorUnit(sor_id, kommune))?;
    if unit.kind != crate::domain::SorKind::OrganizationalUnit {
        return Err(ByHandError::NotOurs(sor_id));
    }
    if let Some((fk, _)) = store.approved_link_ids(kommune).await?.into_iter().find(|(_, s)| *s == sor_id) {
        return Err(ByHandError::Review(ReviewError::Store(StoreError::AlreadyLinked {
            proposal_id: 0,
            fk_uuid: fk.to_string(),
            sor_id: sor_id.to_string(),
        })));
    }
    let new = NewProposal {
        key: ProposalKey {
            kind: ProposalKind::Close,
            fk_uuid: None,
            sor_id: Some(sor_id.to_string()),
            parent_sor_id: None,
        },
        confidence: None,
        payload: ProposalDto::Close { sor_id: sor_id.to_string(), fk_uuid: String::new(), name: unit.name.clone() },
        data_hash: units_data_hash(None, Some(unit)),
    };
    let id = store
        .record_by_hand(kommune, None, &[], &new, (fk_snap, sor_snap), &actor.user_name, reason, "close_sor_only")
        .await?;
    Ok(id)
}
