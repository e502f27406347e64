//! The waves dashboard and a municipality's wave report.

use schemars::JsonSchema;
use serde::Serialize;

use crate::auth::Signed;
use crate::domain::KommuneKode;
use crate::{AppState, WebError};

/// The waves dashboard (and, for one municipality, its wave report): the stored wave plan's
/// municipalities the user holds a role for, with readiness, coverage, proposals and runs.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WavesView {
    /// None when no wave plan is stored yet.
    pub report: Option<crate::waves::report::Report>,
}

pub async fn waves(state: &AppState, signed: &Signed, kommune: Option<KommuneKode>) -> Result<WavesView, WebError> {
    if let Some(k) = kommune {
        signed.require_any(k)?;
    }
    let plan = match crate::waves::runner::stored_plan(state.store()).await {
        Ok(plan) => plan,
        Err(crate::waves::runner::WaveError::NoPlan) => return Ok(WavesView { report: None }),
        Err(crate::waves::runner::WaveError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(WebError::Internal(e.to_string())),
    };
    let statuses = crate::waves::status::gather(state.store(), &plan, None, kommune, state.today()).await?;
    let mine: Vec<_> = statuses.into_iter().filter(|s| !signed.roles_for(s.kommune).is_empty()).collect();
    Ok(WavesView { report: Some(crate::waves::report::build("Waves", mine)) })
}
