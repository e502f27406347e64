//! The waves dashboard and a municipality's wave report.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::json;

use crate::auth::Signed;
use crate::domain::KommuneKode;
use crate::{AppState, WebError};

/// The waves dashboard (and, for one municipality, its wave report): the stored wave plan's
/// municipalities the user holds a role for, with readiness, coverage, proposals and runs.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WavesView {
    /// None when no wave plan is stored yet.
    #[schemars(with = "Option<WaveReportSchema>")]
    pub report: Option<crate::waves::report::Report>,
}

/// The JSON Schema of the wave report (`crate::waves::report::Report`, as `sorsync waves report
/// --format json` writes it), written here because the report's types are the app layer's. The
/// API test checks real reports against it.
#[derive(Debug)]
pub struct WaveReportSchema;

impl JsonSchema for WaveReportSchema {
    fn schema_name() -> Cow<'static, str> {
        "WaveReport".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let count = json!({"type": "integer", "minimum": 0});
        let by_kind = json!({"type": "object", "additionalProperties": count});
        let readiness_items = json!({"type": "array", "items": {"type": "string", "enum": [
            "sor_administrator", "organisation_administrator", "service_agreement", "scope_configured", "first_review"
        ]}});
        let nullable_string = json!({"type": ["string", "null"]});
        let totals = json!({
            "description": "Sums over the municipalities of a wave (or of the report).",
            "type": "object",
            "required": ["municipalities", "units_in_scope", "sor_units", "linked", "coverage", "proposals_by_kind",
                         "pending", "applied_changes", "failed"],
            "properties": {
                "municipalities": count, "units_in_scope": count, "sor_units": count, "linked": count,
                "coverage": {"type": "number", "description": "linked / units_in_scope"},
                "proposals_by_kind": by_kind, "pending": count, "applied_changes": count,
                "failed": {"type": "integer", "minimum": 0, "description": "Municipalities whose last run failed."}
            }
        });
        let last_run = json!({
            "type": ["object", "null"],
            "required": ["run_id", "dry_run", "started_at", "finished_at", "outcome", "error"],
            "properties": {
                "run_id": {"type": "integer"}, "dry_run": {"type": "boolean"}, "started_at": {"type": "string"},
                "finished_at": nullable_string,
                "outcome": {"type": "string",
                            "description": "ok, needs_attention, failed, skipped, or interrupted (no end recorded)"},
                "error": nullable_string
            }
        });
        let municipality = json!({
            "type": "object",
            "required": ["wave", "kommune", "name", "status", "readiness", "units_in_scope", "linked", "coverage",
                         "sor_units", "pending", "proposals_by_kind", "applied_changes", "last_run", "errors"],
            "properties": {
                "wave": {"type": "string"}, "kommune": {"type": "string"}, "name": {"type": "string"},
                "status": {"type": "string"},
                "readiness": {"type": "object", "required": ["met", "missing"],
                              "properties": {"met": readiness_items, "missing": readiness_items}},
                "units_in_scope": count, "linked": count, "coverage": {"type": "number"}, "sor_units": count,
                "pending": count, "proposals_by_kind": by_kind, "applied_changes": count, "last_run": last_run,
                "errors": {"type": "array", "items": {"type": "string"}}
            }
        });
        json_schema!({
            "description": "A wave report: per wave, its municipalities and totals.",
            "type": "object",
            "required": ["title", "waves", "totals"],
            "properties": {
                "title": {"type": "string"},
                "waves": {"type": "array", "items": {
                    "type": "object",
                    "required": ["wave", "municipalities", "totals"],
                    "properties": {
                        "wave": {"type": "string"},
                        "municipalities": {"type": "array", "items": municipality},
                        "totals": totals
                    }
                }},
                "totals": totals
            }
        })
    }
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
