//! Apply-time checks that a plan file still says what the store approved: every step's proposal
//! exists, belongs to the plan's municipality, is still approved (not rejected or superseded since
//! the plan was made), and the step is exactly what [`plan_steps`] builds from the stored proposal
//! now. A plan file is the operator's to keep, not the SOR administrators' decision: it is never
//! trusted on its own.

use std::collections::{BTreeSet, HashMap};

use super::plan::{plan_steps, Plan, PlanStep};
use crate::store::{ProposalStatus, Store, StoreError};

/// Why a step of a plan file is not what the store approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRefused {
    pub key: String,
    pub proposal_id: i64,
    pub problem: String,
}

impl std::fmt::Display for StepRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {} (proposal {}): {}", self.key, self.proposal_id, self.problem)
    }
}

fn refused(step: &PlanStep, problem: impl Into<String>) -> StepRefused {
    StepRefused { key: step.key.0.clone(), proposal_id: step.proposal_id, problem: problem.into() }
}

/// The first step of `plan` that the store does not back, if any (Ok(None): every step is approved
/// and unchanged).
pub async fn refused_step(store: &Store, plan: &Plan) -> Result<Option<StepRefused>, StoreError> {
    let ids: BTreeSet<i64> = plan.steps.iter().map(|s| s.proposal_id).collect();
    let mut proposals = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(step) = plan.steps.iter().find(|s| s.proposal_id == id) else { continue };
        let p = match store.proposal(id).await {
            Ok(p) => p,
            Err(StoreError::NoSuchProposal(_)) => return Ok(Some(refused(step, "the store has no such proposal"))),
            Err(e) => return Err(e),
        };
        if p.kommune != plan.kommune {
            let problem = format!("the proposal is for municipality {}, the plan for {}", p.kommune, plan.kommune);
            return Ok(Some(refused(step, problem)));
        }
        if p.status != ProposalStatus::Approved {
            let problem = format!("the proposal is {}, not approved", p.status.as_str());
            return Ok(Some(refused(step, problem)));
        }
        proposals.push(p);
    }
    proposals.sort_by_key(|p| p.id);
    let fk = store.load_fkorg(plan.fk_snapshot.id).await?;
    let links = store.approved_link_ids(plan.kommune).await?;
    let ours_before = super::plan::written_back_ever(store, plan.kommune).await?;
    let expected = match plan_steps(plan.kommune, &proposals, Some(&fk), &links, &ours_before, plan.effective_date) {
        Ok(steps) => steps,
        Err(e) => {
            let step = plan.steps.first();
            return Ok(step.map(|s| refused(s, format!("the approved proposals cannot be planned: {e}"))));
        }
    };
    let by_key: HashMap<&str, &PlanStep> = expected.iter().map(|s| (s.key.0.as_str(), s)).collect();
    for step in &plan.steps {
        match by_key.get(step.key.0.as_str()) {
            None => return Ok(Some(refused(step, "no approved proposal makes a change with this key"))),
            Some(e) if *e != step => {
                return Ok(Some(refused(step, "the step differs from what the approved proposal makes")));
            }
            Some(_) => {}
        }
    }
    Ok(None)
}
