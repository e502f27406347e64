//! Readiness and status per municipality: the readiness checklist computed from data (role
//! grants, the plan's dates, the latest FK-ORG snapshot, review progress), coverage, open
//! proposals and the last run. [`readiness`] is pure; [`gather`] reads the store.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Serialize;

use crate::domain::{FkUuid, KommuneKode};
use crate::matching::ProposalKind;
use crate::store::{ProposalStatus, Register, Store, StoreError, WaveRunItem};

use super::pipeline::coverage;
use super::plan::{PlannedMunicipality, WavePlan};
use super::runner::Metrics;

/// One item of the readiness checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessItem {
    SorAdministrator,
    OrganisationAdministrator,
    ServiceAgreement,
    ScopeConfigured,
    FirstReview,
}

impl ReadinessItem {
    pub const ALL: [ReadinessItem; 5] = [
        ReadinessItem::SorAdministrator,
        ReadinessItem::OrganisationAdministrator,
        ReadinessItem::ServiceAgreement,
        ReadinessItem::ScopeConfigured,
        ReadinessItem::FirstReview,
    ];

    /// Short name for output.
    pub fn key(self) -> &'static str {
        match self {
            ReadinessItem::SorAdministrator => "sor_admin",
            ReadinessItem::OrganisationAdministrator => "org_admin",
            ReadinessItem::ServiceAgreement => "service_agreement",
            ReadinessItem::ScopeConfigured => "scope",
            ReadinessItem::FirstReview => "first_review",
        }
    }
}

/// What readiness is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadinessFacts {
    pub has_sor_admin: bool,
    pub has_org_admin: bool,
    pub service_agreement_approved: Option<NaiveDate>,
    /// The plan chose a scope.
    pub scope_chosen: bool,
    /// Scope entries naming no unit of the latest FK-ORG snapshot (None: no snapshot yet).
    pub scope_missing: Option<usize>,
    /// Link proposals decided (approved or rejected) by a person, and still pending. A decision
    /// of a rule (auto-approval, the sync policy) is no review: it does not count.
    pub links_decided: usize,
    pub links_pending: usize,
    pub first_review_threshold: f64,
    pub today: NaiveDate,
}

/// The checklist: which items are met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Readiness {
    pub met: Vec<ReadinessItem>,
    pub missing: Vec<ReadinessItem>,
}

impl Readiness {
    /// "3/5".
    pub fn score(&self) -> String {
        format!("{}/{}", self.met.len(), ReadinessItem::ALL.len())
    }
}

/// Computes the checklist. Pure.
pub fn readiness(f: &ReadinessFacts) -> Readiness {
    let decided_share = if f.links_decided + f.links_pending == 0 {
        0.0
    } else {
        f.links_decided as f64 / (f.links_decided + f.links_pending) as f64
    };
    let ok = |item: ReadinessItem| match item {
        ReadinessItem::SorAdministrator => f.has_sor_admin,
        ReadinessItem::OrganisationAdministrator => f.has_org_admin,
        ReadinessItem::ServiceAgreement => f.service_agreement_approved.is_some_and(|d| d <= f.today),
        ReadinessItem::ScopeConfigured => f.scope_chosen && f.scope_missing == Some(0),
        ReadinessItem::FirstReview => f.links_decided > 0 && decided_share >= f.first_review_threshold,
    };
    let (met, missing) = ReadinessItem::ALL.into_iter().partition(|i| ok(*i));
    Readiness { met, missing }
}

/// The audit log's actions that are a person's decision on a proposal (writes, undos and the
/// rules' decisions are not).
const PERSON_DECISIONS: [&str; 7] =
    ["approve", "reject", "no_match", "create_new", "choose_alternative", "link_by_hand", "close_sor_only"];

/// The last run of a municipality, as status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LastRun {
    pub run_id: i64,
    pub dry_run: bool,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `ok`, `needs_attention`, `failed`, `skipped`, or `interrupted` (no end recorded).
    pub outcome: String,
    pub error: Option<String>,
}

/// Everything status and reports say about one municipality.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MunicipalityStatus {
    pub wave: String,
    /// The kommunekode, three digits.
    #[schemars(with = "String")]
    pub kommune: KommuneKode,
    pub name: String,
    pub status: String,
    pub readiness: Readiness,
    pub units_in_scope: usize,
    pub linked: usize,
    pub coverage: f64,
    /// SOR units in the SOR snapshot the municipality is matched against (0: none yet).
    pub sor_units: u64,
    pub pending: usize,
    /// Current (not superseded) proposals by kind.
    pub proposals_by_kind: BTreeMap<String, usize>,
    /// Changes applied to SOR, summed over the recorded runs.
    pub applied_changes: usize,
    pub last_run: Option<LastRun>,
    /// Errors of the latest run that failed.
    pub errors: Vec<String>,
}

/// Reads the store and computes the status of every municipality of `wave` (None: all waves).
pub async fn gather(
    store: &Store,
    plan: &WavePlan,
    wave: Option<&str>,
    kommune: Option<KommuneKode>,
    today: NaiveDate,
) -> Result<Vec<MunicipalityStatus>, StoreError> {
    let grants = store.role_grants().await?;
    let mut out = Vec::new();
    for (w, m) in plan.municipalities() {
        if wave.is_some_and(|n| n != w.name) || kommune.is_some_and(|k| k != m.kommune) {
            continue;
        }
        let has = |role: &str| grants.iter().any(|g| g.kommune == m.kommune && g.role == role);
        out.push(one(store, plan, &w.name, m, has("sor_admin"), has("org_admin"), today).await?);
    }
    Ok(out)
}

async fn one(
    store: &Store,
    plan: &WavePlan,
    wave: &str,
    m: &PlannedMunicipality,
    has_sor_admin: bool,
    has_org_admin: bool,
    today: NaiveDate,
) -> Result<MunicipalityStatus, StoreError> {
    let k = m.kommune;
    let fk = store.latest_fkorg(k).await?;
    let links = store.approved_link_ids(k).await?;
    let linked_fk: Vec<FkUuid> = links.iter().map(|(f, _)| *f).collect();
    let (scope_missing, cov) = match &fk {
        Some(tree) => {
            let resolved = m.scope.resolve(tree);
            (Some(resolved.missing.len()), coverage(tree, &resolved.scope, &linked_fk))
        }
        None => (None, Default::default()),
    };
    let proposals = store.proposals(k, None).await?;
    // Proposals a person decided (an automatic decision is no first review).
    let by_person: std::collections::HashSet<i64> = store
        .audit_log(k)
        .await?
        .into_iter()
        .filter(|e| !e.automatic && PERSON_DECISIONS.contains(&e.action.as_str()))
        .filter_map(|e| e.proposal_id)
        .collect();
    let mut by_kind = BTreeMap::new();
    let (mut pending, mut links_decided, mut links_pending) = (0, 0, 0);
    for p in &proposals {
        if p.status == ProposalStatus::Superseded {
            continue;
        }
        *by_kind.entry(p.key.kind.as_str().to_string()).or_insert(0) += 1;
        let is_link = p.key.kind == ProposalKind::Link;
        match p.status {
            ProposalStatus::Pending => {
                pending += 1;
                links_pending += usize::from(is_link);
            }
            _ => links_decided += usize::from(is_link && by_person.contains(&p.id)),
        }
    }
    let readiness = readiness(&ReadinessFacts {
        has_sor_admin,
        has_org_admin,
        service_agreement_approved: m.service_agreement_approved,
        scope_chosen: m.scope.is_configured(),
        scope_missing,
        links_decided,
        links_pending,
        first_review_threshold: plan.thresholds.first_review,
        today,
    });
    let sor_id = match store.latest_snapshot_id(Register::Sor, Some(k)).await? {
        Some(id) => Some(id),
        None => store.latest_snapshot_id(Register::Sor, None).await?,
    };
    let sor_units = match sor_id {
        Some(id) => store.snapshot(id).await?.units,
        None => 0,
    };
    let items = store.wave_items_of(k).await?;
    let (applied_changes, last_run, errors) = summarise_items(&items);
    Ok(MunicipalityStatus {
        wave: wave.to_string(),
        kommune: k,
        name: m.name.clone(),
        status: m.status.as_str().to_string(),
        readiness,
        units_in_scope: cov.units_in_scope,
        linked: cov.linked,
        coverage: cov.share(),
        sor_units,
        pending,
        proposals_by_kind: by_kind,
        applied_changes,
        last_run,
        errors,
    })
}

/// Applied changes over real runs, the latest run (real or dry), and the latest errors. Pure.
pub fn summarise_items(items: &[WaveRunItem]) -> (usize, Option<LastRun>, Vec<String>) {
    let applied = items
        .iter()
        .filter(|i| !i.dry_run)
        .filter_map(|i| i.metrics.as_deref().and_then(|j| serde_json::from_str::<Metrics>(j).ok()))
        .map(|m| m.applied_changes)
        .sum();
    let last = items.iter().max_by_key(|i| i.run_id).map(|i| LastRun {
        run_id: i.run_id,
        dry_run: i.dry_run,
        started_at: i.started_at.clone(),
        finished_at: i.finished_at.clone(),
        outcome: i.outcome.clone().unwrap_or_else(|| "interrupted".to_string()),
        error: i.error.clone(),
    });
    let errors = last.as_ref().and_then(|l| l.error.clone()).into_iter().collect();
    (applied, last, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> ReadinessFacts {
        ReadinessFacts {
            has_sor_admin: false,
            has_org_admin: true,
            service_agreement_approved: NaiveDate::from_ymd_opt(2026, 12, 1),
            scope_chosen: true,
            scope_missing: Some(0),
            links_decided: 8,
            links_pending: 2,
            first_review_threshold: 0.8,
            today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default(),
        }
    }

    #[test]
    fn an_agreement_dated_in_the_future_is_not_yet_approved() {
        let r = readiness(&facts());
        assert_eq!(r.missing, vec![ReadinessItem::SorAdministrator, ReadinessItem::ServiceAgreement]);
        assert_eq!(r.score(), "3/5");
    }

    #[test]
    fn the_first_review_needs_the_threshold_share_decided() {
        let f = ReadinessFacts { links_decided: 7, links_pending: 3, ..facts() };
        assert!(readiness(&f).missing.contains(&ReadinessItem::FirstReview));
        let none = ReadinessFacts { links_decided: 0, links_pending: 0, ..facts() };
        assert!(readiness(&none).missing.contains(&ReadinessItem::FirstReview));
    }

    #[test]
    fn a_scope_naming_a_unit_that_does_not_exist_is_not_configured() {
        let f = ReadinessFacts { scope_missing: Some(1), ..facts() };
        assert!(readiness(&f).missing.contains(&ReadinessItem::ScopeConfigured));
        let no_snapshot = ReadinessFacts { scope_missing: None, ..facts() };
        assert!(readiness(&no_snapshot).missing.contains(&ReadinessItem::ScopeConfigured));
    }
}
