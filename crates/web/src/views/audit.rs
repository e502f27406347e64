//! The audit log: who decided what, filtered and paged, newest first.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{url_encode, FormProblem};
use crate::auth::Signed;
use crate::domain::{FkUuid, KommuneKode, SorId};
use crate::matching::json::ProposalDto;
use crate::{AppState, WebError};

/// The audit log's filters, as query parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct AuditQuery {
    /// Only entries by this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only entries on or after this day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Only entries on or before this day (YYYY-MM-DD).
    pub to: Option<String>,
    /// From 1.
    pub page: Option<usize>,
}

impl AuditQuery {
    /// The query string for another page of the same filters.
    pub fn with_page(&self, page: usize) -> String {
        let mut parts = vec![format!("page={page}")];
        for (k, v) in [("actor", &self.actor), ("action", &self.action), ("from", &self.from), ("to", &self.to)] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", url_encode(v)));
            }
        }
        parts.join("&")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub automatic: bool,
    pub action: String,
    pub proposal_id: Option<i64>,
    pub detail: Option<String>,
    /// The proposal's kind and unit (FK-ORG name, else SOR name).
    pub kind: Option<String>,
    pub unit: Option<String>,
    /// The state before and after (a change's states, or the proposal's fields).
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuditView {
    pub kommune: String,
    pub filter: AuditQuery,
    /// Every action in the log, for the filter.
    pub actions: Vec<String>,
    /// How many entries match (the newest [`AUDIT_MAX`] are listed).
    pub matching: usize,
    /// Newest first.
    pub entries: Vec<AuditRow>,
    pub page: usize,
    pub pages: usize,
    /// Problems with the filter (a date that is not YYYY-MM-DD is left out).
    pub problems: Vec<FormProblem>,
}

/// The most audit entries one page lists.
pub const AUDIT_MAX: usize = 100;

pub async fn audit(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    q: AuditQuery,
) -> Result<AuditView, WebError> {
    signed.require_any(kommune)?;
    let log = state.store().audit_log(kommune).await?;
    let mut actions: Vec<String> = log.iter().map(|e| e.action.clone()).collect();
    actions.sort();
    actions.dedup();
    let nonempty = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let mut problems = Vec::new();
    let mut day = |v: &Option<String>| match nonempty(v) {
        Some(d) if NaiveDate::parse_from_str(&d, "%Y-%m-%d").is_ok() => Some(d),
        Some(d) => {
            problems.push(FormProblem::new("bad_date", Some(&d)));
            None
        }
        None => None,
    };
    let (from, to) = (day(&q.from), day(&q.to));
    let (actor, action) = (nonempty(&q.actor), nonempty(&q.action));
    let matches = |e: &&crate::store::AuditEntry| {
        let day = e.at.get(..10).unwrap_or("");
        actor.as_deref().is_none_or(|a| e.actor == a)
            && action.as_deref().is_none_or(|a| e.action == a)
            && from.as_deref().is_none_or(|f| day >= f)
            && to.as_deref().is_none_or(|t| day <= t)
    };
    let matching = log.iter().filter(matches).count();
    let pages = matching.div_ceil(AUDIT_MAX).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let shown: Vec<&crate::store::AuditEntry> =
        log.iter().rev().filter(matches).skip((page - 1) * AUDIT_MAX).take(AUDIT_MAX).collect();
    // The proposals' kinds and units, by name.
    type About = (String, Option<String>, Option<String>, Option<String>);
    let mut about: std::collections::HashMap<i64, About> = Default::default();
    if shown.iter().any(|e| e.proposal_id.is_some()) {
        let trees = state.latest_trees(kommune).await?;
        for p in state.store().proposals(kommune, None).await? {
            let fk_name = p
                .key
                .fk_uuid
                .as_deref()
                .and_then(|u| FkUuid::parse(u).ok())
                .and_then(|u| trees.as_ref().and_then(|(fk, _)| fk.get(u)).map(|u| u.enhedsnavn.clone()));
            let sor_name = p
                .key
                .sor_id
                .as_deref()
                .and_then(|s| SorId::parse(s).ok())
                .and_then(|s| trees.as_ref().and_then(|(_, sor)| sor.get(s)).map(|u| u.name.clone()));
            let payload_name = match &p.payload {
                ProposalDto::Link { fk_name, .. } => Some(fk_name.clone()),
                ProposalDto::Create { name, .. } | ProposalDto::Close { name, .. } => Some(name.clone()),
                _ => None,
            };
            let (before, after) = match &p.payload {
                ProposalDto::Update { changes, .. } => (
                    Some(changes.iter().map(|c| c.from.clone().unwrap_or_default()).collect::<Vec<_>>().join("; ")),
                    Some(changes.iter().map(|c| c.to.clone().unwrap_or_default()).collect::<Vec<_>>().join("; ")),
                ),
                _ => (None, None),
            };
            about.insert(p.id, (p.key.kind.as_str().to_string(), fk_name.or(payload_name).or(sor_name), before, after));
        }
    }
    let entries = shown
        .into_iter()
        .map(|e| {
            let known = e.proposal_id.and_then(|id| about.get(&id));
            AuditRow {
                id: e.id,
                at: e.at.clone(),
                actor: e.actor.clone(),
                automatic: e.automatic,
                action: e.action.clone(),
                proposal_id: e.proposal_id,
                detail: e.detail.clone(),
                kind: known.map(|k| k.0.clone()),
                unit: known.and_then(|k| k.1.clone()),
                before: e.before.clone().or_else(|| known.and_then(|k| k.2.clone())),
                after: e.after.clone().or_else(|| known.and_then(|k| k.3.clone())),
            }
        })
        .collect();
    Ok(AuditView { kommune: kommune.to_string(), filter: q, actions, matching, entries, page, pages, problems })
}
