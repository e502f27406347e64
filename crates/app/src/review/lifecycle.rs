//! A proposal's whole life in one word: the review status (pending, approved, rejected,
//! superseded) combined with what applying it did (applying, applied, failed).

use std::collections::HashMap;

use crate::domain::KommuneKode;
use crate::matching::ProposalKind;
use crate::store::{ChangeRecord, ChangeState, ProposalStatus, Store, StoreError, StoredProposal};

/// Where a proposal is: pending -> approved / rejected -> applied / failed, or superseded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    Pending,
    Approved,
    Rejected,
    Superseded,
    /// Approved; some of its changes were sent and not all answered yet.
    Applying,
    /// Approved and every change it makes applied.
    Applied,
    /// Approved; a change was rejected by the register (quarantined, with the reason).
    Failed,
}

impl Lifecycle {
    pub const ALL: [Lifecycle; 7] = [
        Lifecycle::Pending,
        Lifecycle::Approved,
        Lifecycle::Rejected,
        Lifecycle::Superseded,
        Lifecycle::Applying,
        Lifecycle::Applied,
        Lifecycle::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Pending => "pending",
            Lifecycle::Approved => "approved",
            Lifecycle::Rejected => "rejected",
            Lifecycle::Superseded => "superseded",
            Lifecycle::Applying => "applying",
            Lifecycle::Applied => "applied",
            Lifecycle::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Lifecycle::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// How many changes applying a proposal of `kind` makes: a create is the SOR create and the
/// write-back of its new SOR-ID; every other kind is one change.
pub fn changes_per_proposal(kind: ProposalKind) -> usize {
    match kind {
        // The new SOR unit, then its SOR-ID written back to FK-ORG.
        ProposalKind::Create => 2,
        // A link's one change is its write-back.
        ProposalKind::Link
        | ProposalKind::Update
        | ProposalKind::Close
        | ProposalKind::Move
        | ProposalKind::WriteBack => 1,
    }
}

/// A proposal with its lifecycle state and, when it failed, why.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposalLife {
    pub proposal: StoredProposal,
    pub state: Lifecycle,
    pub failure: Option<String>,
}

/// The lifecycle state of `p` given the changes recorded for it.
pub fn lifecycle(p: &StoredProposal, changes: &[&ChangeRecord]) -> (Lifecycle, Option<String>) {
    match p.status {
        ProposalStatus::Pending => return (Lifecycle::Pending, None),
        ProposalStatus::Rejected => return (Lifecycle::Rejected, None),
        ProposalStatus::Superseded => return (Lifecycle::Superseded, None),
        ProposalStatus::Approved => {}
    }
    if let Some(failed) = changes.iter().find(|c| c.state == ChangeState::Failed) {
        return (Lifecycle::Failed, failed.reason.clone());
    }
    let applied = changes.iter().filter(|c| c.state == ChangeState::Applied).count();
    if changes.is_empty() {
        (Lifecycle::Approved, None)
    } else if applied >= changes_per_proposal(p.key.kind) {
        (Lifecycle::Applied, None)
    } else {
        (Lifecycle::Applying, None)
    }
}

/// The municipality's proposals (oldest first) with their lifecycle states.
pub async fn proposals_with_lifecycle(store: &Store, kommune: KommuneKode) -> Result<Vec<ProposalLife>, StoreError> {
    let proposals = store.proposals(kommune, None).await?;
    let changes = store.changes(kommune).await?;
    let mut by_proposal: HashMap<i64, Vec<&ChangeRecord>> = HashMap::new();
    for c in &changes {
        by_proposal.entry(c.proposal_id).or_default().push(c);
    }
    Ok(proposals
        .into_iter()
        .map(|p| {
            let (state, failure) = lifecycle(&p, by_proposal.get(&p.id).map_or(&[][..], Vec::as_slice));
            ProposalLife { proposal: p, state, failure }
        })
        .collect())
}
