//! Undo of a person's last decision: a SOR administrator who pressed the wrong key takes it back
//! before anything was sent. The library checks the role; the store does the rest in one
//! transaction (proposal back to pending, an approved link removed with its unsent follow-ups,
//! the decision marked undone so the next run ignores it, an `undo` entry in the audit log).

use super::{require_role, Actor, ReviewError, Role};
use crate::domain::KommuneKode;
use crate::store::{Store, UndoRecord};

/// What [`undo_last`] did, or why it changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoOutcome {
    /// The decision is undone; its proposal waits for a person again.
    Undone {
        decision_id: i64,
        proposal_id: i64,
        /// `link`, `create`, `update`, ...
        kind: String,
        /// `approved` or `rejected`: what was taken back.
        verdict: String,
        /// An approved link was removed from the approved links.
        link_removed: bool,
        /// Follow-ups of the link that wait for a person again.
        follow_ups_back_to_pending: Vec<i64>,
    },
    /// Nothing of the person's in this municipality is left to undo.
    NothingToUndo,
    /// Something was sent to SOR or FK-ORG for the decision already: it cannot be taken back here.
    AlreadySent { decision_id: i64, proposal_id: i64 },
    /// A later run replaced the proposal since (its status now).
    Replaced { decision_id: i64, proposal_id: i64, status: String },
    /// The last decision chose another candidate, created a new unit or linked by hand.
    MadeByHand { decision_id: i64, proposal_id: i64 },
}

impl UndoOutcome {
    pub fn is_undone(&self) -> bool {
        matches!(self, UndoOutcome::Undone { .. })
    }

    /// What to tell the person, in English (the web app has the Danish text).
    pub fn message(&self) -> String {
        match self {
            UndoOutcome::Undone { proposal_id, verdict, link_removed, follow_ups_back_to_pending, .. } => {
                let mut m = format!("undone: proposal {proposal_id} ({verdict}) waits for a decision again");
                if *link_removed {
                    m.push_str("; the link is removed");
                }
                if !follow_ups_back_to_pending.is_empty() {
                    m.push_str(&format!("; {} follow-up(s) wait again", follow_ups_back_to_pending.len()));
                }
                m
            }
            UndoOutcome::NothingToUndo => "there is no decision of yours to undo in this municipality".into(),
            UndoOutcome::AlreadySent { proposal_id, .. } => format!(
                "cannot undo the decision on proposal {proposal_id}: its change was sent to SOR or FK-ORG already"
            ),
            UndoOutcome::Replaced { proposal_id, status, .. } => format!(
                "cannot undo the decision on proposal {proposal_id}: a later run replaced it (it is {status} now)"
            ),
            UndoOutcome::MadeByHand { proposal_id, .. } => format!(
                "cannot undo the decision on proposal {proposal_id}: it chose another candidate or created a new unit; \
                 decide the case again instead"
            ),
        }
    }
}

/// Undoes `actor`'s own last decision (approve, reject, no match; never an automatic one) in
/// `kommune`, when nothing was sent for it yet. `actor` must be a SOR administrator of `kommune`.
/// Pressing it again undoes the decision before that one.
#[tracing::instrument(skip_all, fields(user = %actor.user_name, kommune = %kommune))]
pub async fn undo_last(store: &Store, actor: &Actor, kommune: KommuneKode) -> Result<UndoOutcome, ReviewError> {
    require_role(store, actor, kommune, Role::SorAdmin, "undo decisions").await?;
    let outcome = match store.undo_decision(kommune, &actor.user_name).await? {
        UndoRecord::Undone(u) => UndoOutcome::Undone {
            decision_id: u.decision_id,
            proposal_id: u.proposal_id,
            kind: u.kind,
            verdict: u.decision,
            link_removed: u.link_removed,
            follow_ups_back_to_pending: u.restored,
        },
        UndoRecord::NothingToUndo => UndoOutcome::NothingToUndo,
        UndoRecord::Sent { decision_id, proposal_id } => UndoOutcome::AlreadySent { decision_id, proposal_id },
        UndoRecord::Changed { decision_id, proposal_id, status } => {
            UndoOutcome::Replaced { decision_id, proposal_id, status }
        }
        UndoRecord::ByHand { decision_id, proposal_id } => UndoOutcome::MadeByHand { decision_id, proposal_id },
    };
    tracing::info!(undone = outcome.is_undone(), "Undo: {}", outcome.message());
    Ok(outcome)
}
