//! A municipality's overview: counts, coverage, open proposals by kind, the last runs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::progress;
use crate::auth::Signed;
use crate::domain::KommuneKode;
use crate::store::ProposalStatus;
use crate::{AppState, WebError};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct KindCount {
    pub kind: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunView {
    pub recorded_at: String,
    pub fk_snapshot_id: i64,
    pub sor_snapshot_id: i64,
    pub proposals: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OverviewView {
    pub kommune: String,
    pub name: Option<String>,
    pub roles: Vec<String>,
    pub fk_units: usize,
    pub sor_units: usize,
    pub links: usize,
    /// Approved links per FK-ORG unit, 0..=1.
    pub coverage: f64,
    pub pending_by_kind: Vec<KindCount>,
    pub reviewed: i64,
    pub total: i64,
    pub runs: Vec<RunView>,
}

pub async fn overview(state: &AppState, signed: &Signed, kommune: KommuneKode) -> Result<OverviewView, WebError> {
    signed.require_any(kommune)?;
    let store = state.store();
    let trees = state.latest_trees(kommune).await?;
    let (fk_units, sor_units, name) = match &trees {
        Some((fk, sor)) => (fk.len(), sor.len(), fk.units.first().map(|u| u.enhedsnavn.clone())),
        None => (0, 0, None),
    };
    let links = store.link_count(kommune).await?;
    // The one coverage (waves::pipeline::coverage_in_store): in-scope AKTIV units, approved links.
    let coverage = match &trees {
        Some((fk, _)) => crate::waves::pipeline::coverage_in_store(store, kommune, fk)
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?
            .share(),
        None => 0.0,
    };
    let counts = store.proposal_counts(kommune).await?;
    let (reviewed, total) = progress(&counts);
    let pending_by_kind = counts
        .iter()
        .filter(|c| c.status == ProposalStatus::Pending.as_str())
        .map(|c| KindCount { kind: c.kind.clone(), count: c.count })
        .collect();
    let runs = store
        .recent_runs(kommune, 5)
        .await?
        .into_iter()
        .map(|r| RunView {
            recorded_at: r.recorded_at,
            fk_snapshot_id: r.fk_snapshot_id,
            sor_snapshot_id: r.sor_snapshot_id,
            proposals: r.proposals,
        })
        .collect();
    Ok(OverviewView {
        kommune: kommune.to_string(),
        name,
        roles: signed.roles_for(kommune).iter().map(|r| r.as_str().to_string()).collect(),
        fk_units,
        sor_units,
        links,
        coverage,
        pending_by_kind,
        reviewed,
        total,
        runs,
    })
}
