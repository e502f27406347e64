//! The propose step with the store, shared by `sorsync propose --kommune CODE` and the wave runner:
//! match the latest snapshots of a municipality within its scope and record the proposals
//! ([`propose_for`]); and the same step as a simulation that writes nothing ([`simulate`]).

use std::collections::BTreeMap;

use crate::domain::{FkStatus, FkTree, FkUuid, KommuneKode, SorId, SorTree};
use crate::matching::structure::scope_mask;
use crate::matching::{close_vanished, propose, Feedback, MatchOptions, Proposal, ProposalKind, Proposals, Scope};
use crate::review::{record_run, ReviewError, RunSummary, Snapshot};
use crate::store::{ProposalStatus, Register, Store, StoreError, StoredProposal};

/// Why the propose step could not run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("no FK-ORG snapshot for municipality {0}: run `sorsync import fkorg` first")]
    NoFkSnapshot(KommuneKode),
    #[error("no SOR snapshot (neither for the municipality nor national): run `sorsync import sor` first")]
    NoSorSnapshot,
    #[error("loading a snapshot: {0}")]
    Store(#[from] StoreError),
    #[error("recording the proposals: {0}")]
    Review(#[from] ReviewError),
    #[error("the matcher stopped unexpectedly: {0}")]
    Matcher(String),
    #[error("the stored wave plan cannot be read: {0}")]
    BadPlan(String),
}

/// What one store-backed propose run did and which snapshots it used.
#[derive(Debug)]
pub struct StoreRun {
    pub summary: RunSummary,
    pub fk_snapshot_id: i64,
    pub sor_snapshot_id: i64,
    /// The proposals this run recorded.
    pub new: Vec<StoredProposal>,
    /// Every proposal the matcher made this run (recorded or not), by kind.
    pub by_kind: BTreeMap<String, usize>,
}

/// Runs the matcher on the latest snapshots of `kommune` (SOR: the municipality's own snapshot,
/// else the latest national one) within `opts.scope` and records the proposals.
pub async fn propose_for(store: &Store, kommune: KommuneKode, opts: &MatchOptions) -> Result<StoreRun, PipelineError> {
    let fk_id =
        store.latest_snapshot_id(Register::FkOrg, Some(kommune)).await?.ok_or(PipelineError::NoFkSnapshot(kommune))?;
    let sor_id = match store.latest_snapshot_id(Register::Sor, Some(kommune)).await? {
        Some(id) => id,
        None => store.latest_snapshot_id(Register::Sor, None).await?.ok_or(PipelineError::NoSorSnapshot)?,
    };
    let fk = store.load_fkorg(fk_id).await?;
    let sor = store.load_sor(sor_id).await?;
    let approved = store.approved_link_ids(kommune).await?;
    let mut opts = opts.clone();
    opts.feedback = feedback(store, kommune, &fk, &sor).await?;
    let (fk, sor, proposals) = match_off_runtime(fk, sor, approved, opts).await?;
    let summary =
        record_run(store, kommune, Snapshot { id: fk_id, tree: &fk }, Snapshot { id: sor_id, tree: &sor }, &proposals)
            .await?;
    let mut new = Vec::with_capacity(summary.new.len());
    for id in &summary.new {
        new.push(store.proposal(*id).await?);
    }
    Ok(StoreRun { summary, fk_snapshot_id: fk_id, sor_snapshot_id: sor_id, new, by_kind: by_kind(&proposals) })
}

/// What people decided before for `kommune`, for the matcher to learn from: units decided "new"
/// (an approved create), units decided "not in SOR" (a rejected create), and pairs that are not
/// the same unit (a rejected link).
/// A rejected pair counts only while both units' data is what it was decided on (like the review
/// rule that brings a rejected pair back when one side changed).
pub async fn feedback(
    store: &Store,
    kommune: KommuneKode,
    fk: &FkTree,
    sor: &SorTree,
) -> Result<Feedback, PipelineError> {
    let mut out = Feedback::default();
    for p in store.proposals(kommune, None).await? {
        if let (ProposalKind::Link, ProposalStatus::Rejected, Some(f), Some(s)) =
            (p.key.kind, p.status, p.key.fk_uuid.as_deref(), p.key.sor_id.as_deref())
        {
            if let (Ok(f), Ok(s)) = (FkUuid::parse(f), SorId::parse(s)) {
                if crate::store::units_data_hash(fk.get(f), sor.get(s)) == p.data_hash {
                    out.rejected.insert((f, s));
                }
            }
        }
        let (ProposalKind::Create, Some(fk)) = (p.key.kind, p.key.fk_uuid.as_deref()) else { continue };
        let Ok(fk) = FkUuid::parse(fk) else { continue };
        match p.status {
            ProposalStatus::Approved => {
                out.not_in_sor.remove(&fk);
                out.created.insert(fk);
            }
            ProposalStatus::Rejected => {
                out.created.remove(&fk);
                out.not_in_sor.insert(fk);
            }
            ProposalStatus::Pending | ProposalStatus::Superseded => {}
        }
    }
    Ok(out)
}

/// The scope the stored wave plan configures for `kommune`, resolved against the municipality's
/// latest FK-ORG snapshot. None when no plan is stored, the municipality is not in it, or it has
/// no FK-ORG snapshot yet. `sorsync propose --kommune` uses it, so that a store-backed run always
/// covers the municipality's configured scope, whoever starts it.
pub async fn configured_scope(store: &Store, kommune: KommuneKode) -> Result<Option<Scope>, PipelineError> {
    let Some(stored) = store.wave_plan().await? else { return Ok(None) };
    let plan: super::plan::WavePlan =
        serde_json::from_str(&stored.plan_json).map_err(|e| PipelineError::BadPlan(e.to_string()))?;
    let Some((_, m)) = plan.municipality(kommune) else { return Ok(None) };
    let Some(fk) = store.latest_fkorg(kommune).await? else { return Ok(None) };
    Ok(Some(m.scope.resolve(&fk).scope))
}

/// The sync policy for `kommune`: `base` (the configured `[policy]`) with the overrides the
/// stored wave plan gives the municipality, if any.
pub async fn configured_policy(
    store: &Store,
    kommune: KommuneKode,
    base: &crate::matching::policy::SyncPolicy,
) -> Result<crate::matching::policy::SyncPolicy, PipelineError> {
    let Some(stored) = store.wave_plan().await? else { return Ok(base.clone()) };
    let plan: super::plan::WavePlan =
        serde_json::from_str(&stored.plan_json).map_err(|e| PipelineError::BadPlan(e.to_string()))?;
    match plan.municipality(kommune) {
        Some((_, m)) => m.sync_policy(base).map_err(PipelineError::BadPlan),
        None => Ok(base.clone()),
    }
}

/// Matching is CPU work: it runs on a blocking thread so the runtime keeps serving others.
async fn match_off_runtime(
    fk: FkTree,
    sor: SorTree,
    approved: Vec<(FkUuid, SorId)>,
    opts: MatchOptions,
) -> Result<(FkTree, SorTree, Proposals), PipelineError> {
    tokio::task::spawn_blocking(move || {
        let proposals = proposals_within_scope(&fk, &sor, &approved, &opts);
        (fk, sor, proposals)
    })
    .await
    .map_err(|e| PipelineError::Matcher(e.to_string()))
}

/// The proposals for one municipality: the matcher's, plus closes for approved links whose
/// FK-ORG unit vanished, without any proposal about an FK-ORG unit outside the scope (the matcher
/// keeps links recorded on the unit itself wherever they are). Pure.
pub fn proposals_within_scope(
    fk: &FkTree,
    sor: &SorTree,
    approved: &[(FkUuid, SorId)],
    opts: &MatchOptions,
) -> Proposals {
    let mut proposals = propose(fk, sor, opts);
    proposals.proposals.extend(close_vanished(fk, sor, approved, opts.today));
    if opts.scope != Scope::default() {
        let mask = scope_mask(fk, &opts.scope);
        let in_scope = |u: FkUuid| fk.index_of(u).is_none_or(|i| mask[i]);
        proposals.proposals.retain(|p| match p {
            Proposal::Link(l) => in_scope(l.fk_uuid),
            Proposal::Create(c) => in_scope(c.fk_uuid),
            Proposal::Update(u) => in_scope(u.fk_uuid),
            Proposal::Close(c) => in_scope(c.fk_uuid),
            Proposal::Move(m) => in_scope(m.fk_uuid),
            Proposal::WriteBack(w) => in_scope(w.fk_uuid),
        });
    }
    proposals
}

/// Proposals counted by kind (`link`, `create`, ...).
pub fn by_kind(proposals: &Proposals) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for p in &proposals.proposals {
        *out.entry(p.kind().to_string()).or_insert(0) += 1;
    }
    out
}

/// How much of a municipality's in-scope FK-ORG tree is linked.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Coverage {
    /// Active FK-ORG units inside the scope.
    pub units_in_scope: usize,
    /// Of those, units in an approved link.
    pub linked: usize,
}

impl Coverage {
    /// `linked / units_in_scope` (0 for an empty scope).
    pub fn share(&self) -> f64 {
        if self.units_in_scope == 0 {
            0.0
        } else {
            self.linked as f64 / self.units_in_scope as f64
        }
    }
}

/// Coverage of `fk` within `scope` by `links` (FK-ORG UUIDs of approved links). Pure.
pub fn coverage<'a>(fk: &FkTree, scope: &Scope, links: impl IntoIterator<Item = &'a FkUuid>) -> Coverage {
    let mask = scope_mask(fk, scope);
    let linked: std::collections::HashSet<FkUuid> = links.into_iter().copied().collect();
    let mut c = Coverage::default();
    for (i, u) in fk.units.iter().enumerate() {
        if mask[i] && u.status == FkStatus::Aktiv {
            c.units_in_scope += 1;
            if linked.contains(&u.uuid) {
                c.linked += 1;
            }
        }
    }
    c
}

/// THE scope of a municipality: the stored wave plan's scope for it, resolved against `fk`, or the
/// whole tree when no stored plan names the municipality. Every count of "units in scope" (waves,
/// contacts, the overview, the demo) takes its scope from here, and coverage from [`coverage_in_store`].
pub async fn municipality_scope(store: &Store, kommune: KommuneKode, fk: &FkTree) -> Result<Scope, PipelineError> {
    let Some(stored) = store.wave_plan().await? else { return Ok(Scope::default()) };
    let plan: super::plan::WavePlan =
        serde_json::from_str(&stored.plan_json).map_err(|e| PipelineError::BadPlan(e.to_string()))?;
    Ok(plan.municipality(kommune).map(|(_, m)| m.scope.resolve(fk).scope).unwrap_or_default())
}

/// THE coverage of a municipality as the store holds it: of the AKTIV FK-ORG units of `fk` (its
/// latest snapshot) within [`municipality_scope`], those in an approved link ([`coverage`]). The
/// overview, the waves page and `waves status`, the demo and wave runs all show this number.
pub async fn coverage_in_store(store: &Store, kommune: KommuneKode, fk: &FkTree) -> Result<Coverage, PipelineError> {
    let scope = municipality_scope(store, kommune, fk).await?;
    let links = store.approved_link_ids(kommune).await?;
    Ok(coverage(fk, &scope, links.iter().map(|(f, _)| f)))
}

/// What a propose run would do, computed without writing anything.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub by_kind: BTreeMap<String, usize>,
    /// Coverage by the approved links as they are.
    pub now: Coverage,
    /// Coverage if every proposed link were approved.
    pub if_approved: Coverage,
}

/// Simulates the propose step on trees read from files or the API, with the approved links the
/// store holds: nothing is written anywhere.
pub async fn simulate(
    fk: FkTree,
    sor: SorTree,
    approved: Vec<(FkUuid, SorId)>,
    opts: MatchOptions,
) -> Result<Simulation, PipelineError> {
    let scope = opts.scope.clone();
    let approved_fk: Vec<FkUuid> = approved.iter().map(|(f, _)| *f).collect();
    let (fk, _sor, proposals) = match_off_runtime(fk, sor, approved, opts).await?;
    let now = coverage(&fk, &scope, &approved_fk);
    let mut all = approved_fk.clone();
    all.extend(proposals.links().map(|l| l.fk_uuid));
    let if_approved = coverage(&fk, &scope, &all);
    Ok(Simulation { by_kind: by_kind(&proposals), now, if_approved })
}
