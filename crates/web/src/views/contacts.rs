//! The contact-number report: role holders without a phone number, units without one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::UnitRef;
use crate::auth::Signed;
use crate::contacts::report::{build_report, Scope};
use crate::domain::KommuneKode;
use crate::{AppState, WebError};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PersonView {
    pub name: Option<String>,
    pub user_name: String,
    /// The roles (membership titles) the person holds, one per placement.
    pub roles: Vec<String>,
    pub units: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ContactsView {
    pub kommune: String,
    pub name: String,
    pub role_holders: usize,
    pub missing_both: usize,
    pub share_missing: f64,
    pub units_in_scope: usize,
    pub missing: Vec<PersonView>,
    pub units_without_phone: Vec<UnitRef>,
}

/// The municipality's contact report (the pages and the downloads show the same one).
pub async fn contact_report(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
) -> Result<crate::contacts::report::ContactReport, WebError> {
    signed.require_any(kommune)?;
    let (fk, _) = state
        .latest_trees(kommune)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("FK-ORG snapshot for municipality {kommune}")))?;
    // The one scope (waves::pipeline::municipality_scope), as waves and coverage count it.
    let scope = crate::waves::pipeline::municipality_scope(state.store(), kommune, &fk)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(build_report(&fk, Some(kommune), &Scope { include: scope.include, exclude: scope.exclude }))
}

pub async fn contacts(state: &AppState, signed: &Signed, kommune: KommuneKode) -> Result<ContactsView, WebError> {
    let r = contact_report(state, signed, kommune).await?;
    Ok(ContactsView {
        kommune: kommune.to_string(),
        name: r.name.clone(),
        role_holders: r.role_holders(),
        missing_both: r.missing_both_count(),
        share_missing: r.share_missing(),
        units_in_scope: r.units_in_scope,
        missing: r
            .missing_both
            .iter()
            .map(|p| PersonView {
                name: p.name.clone(),
                user_name: p.user_name.clone(),
                roles: p.placements.iter().filter_map(|pl| pl.title.clone()).collect(),
                units: p.placements.iter().map(|pl| pl.unit_path.clone()).collect(),
            })
            .collect(),
        units_without_phone: r
            .units_without_phone
            .iter()
            .map(|u| UnitRef { uuid: u.uuid.to_string(), name: u.name.clone(), path: u.path.clone() })
            .collect(),
    })
}
