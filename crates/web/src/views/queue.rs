//! The review queue: one case per unit, filtered and paged, from a per-municipality cache.

use std::collections::HashSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{find_unit, progress, unit_ref, url_encode, FormProblem, Found, UnitRef};
use crate::auth::Signed;
use crate::cases::CaseItem;
use crate::domain::{FkTree, FkUuid, KommuneKode, SorId, SorTree};
use crate::matching::json::ProposalDto;
use crate::review::Role;
use crate::store::{QueueFilter, QueueRow};
use crate::{AppState, WebError};

/// Rows per queue page.
pub const PAGE_SIZE: usize = 50;

/// The queue's filters, as query parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct QueueQuery {
    pub kind: Option<String>,
    /// `high`, `medium` or `low`.
    pub band: Option<String>,
    /// Only proposals about FK-ORG units in this unit's subtree.
    pub subtree: Option<String>,
    /// From 1.
    pub page: Option<usize>,
    /// Set after a bulk approval: how many were approved.
    pub approved: Option<usize>,
    /// The marked row on the page (from 0); it stays across decisions.
    pub cursor: Option<usize>,
    /// Set after an undo: its outcome (`undone`, `nothing_to_undo`, ...).
    pub notice: Option<String>,
}

impl QueueQuery {
    /// The filter; an unknown kind or band is left out and named as a problem.
    fn filter(&self) -> (QueueFilter, Vec<FormProblem>) {
        let mut problems = Vec::new();
        let kind = match self.kind.as_deref().filter(|k| !k.is_empty()) {
            Some(k) if KINDS.contains(&k) => Some(k.to_string()),
            Some(k) => {
                problems.push(FormProblem::new("unknown_kind", Some(k)));
                None
            }
            None => None,
        };
        let (min, max) = match self.band.as_deref().filter(|b| !b.is_empty()) {
            Some("high") => (Some(0.9), None),
            Some("medium") => (Some(0.7), Some(0.9)),
            Some("low") => (None, Some(0.7)),
            Some(b) => {
                problems.push(FormProblem::new("unknown_band", Some(b)));
                (None, None)
            }
            None => (None, None),
        };
        (QueueFilter { kind, min_confidence: min, max_confidence: max }, problems)
    }

    /// The query string for this page of the same filters with the row `cursor` marked.
    pub fn with_cursor(&self, page: usize, cursor: usize) -> String {
        format!("{}&cursor={cursor}", self.with_page(page))
    }

    /// The query string for another page of the same filters.
    pub fn with_page(&self, page: usize) -> String {
        let mut parts = vec![format!("page={page}")];
        for (k, v) in [("kind", &self.kind), ("band", &self.band), ("subtree", &self.subtree)] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", url_encode(v)));
            }
        }
        parts.join("&")
    }
}

pub const KINDS: [&str; 6] = ["close", "move", "create", "update", "link", "write_back"];

/// A pending proposal as the queue and the bulk confirmation list it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct QueueItem {
    pub id: i64,
    pub kind: String,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    pub confidence: Option<f64>,
    pub fk_name: Option<String>,
    pub sor_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct QueueView {
    pub kommune: String,
    pub filter: QueueQuery,
    pub page: usize,
    pub pages: usize,
    pub matching: usize,
    pub reviewed: i64,
    pub total: i64,
    pub can_decide: bool,
    /// The marked row (from 0).
    pub cursor: usize,
    /// Cases, consequential first.
    pub items: Vec<CaseItem>,
    /// Problems with the filter (left out of it), shown with the form.
    pub problems: Vec<FormProblem>,
    /// The unit the subtree filter chose (by uuid or name).
    pub subtree_unit: Option<UnitRef>,
    /// Several units match the subtree filter's name: choose one.
    pub subtree_matches: Vec<UnitRef>,
    /// The page asked for lies beyond the last; the last is shown.
    pub clamped: bool,
}

pub(super) fn item(row: QueueRow, fk: Option<&FkTree>, sor: Option<&SorTree>) -> QueueItem {
    let dto: Option<ProposalDto> = serde_json::from_str(&row.payload).ok();
    let payload_fk_name = match &dto {
        Some(ProposalDto::Link { fk_name, .. }) => Some(fk_name.clone()),
        Some(ProposalDto::Create { name, .. }) | Some(ProposalDto::Close { name, .. }) => Some(name.clone()),
        _ => None,
    };
    let mut it = named_item(row.id, row.kind, row.fk_uuid, row.sor_id, row.confidence, fk, sor);
    it.fk_name = it.fk_name.or(payload_fk_name);
    it
}

fn named_item(
    id: i64,
    kind: String,
    fk_uuid: Option<String>,
    sor_id: Option<String>,
    confidence: Option<f64>,
    fk: Option<&FkTree>,
    sor: Option<&SorTree>,
) -> QueueItem {
    let fk_name = fk_uuid
        .as_deref()
        .and_then(|u| FkUuid::parse(u).ok())
        .and_then(|u| fk.and_then(|t| t.get(u)))
        .map(|u| u.enhedsnavn.clone());
    let sor_name = sor_id
        .as_deref()
        .and_then(|s| SorId::parse(s).ok())
        .and_then(|s| sor.and_then(|t| t.get(s)))
        .map(|u| u.name.clone());
    QueueItem { id, kind, fk_uuid, sor_id, confidence, fk_name, sor_name }
}

/// One municipality's cases that wait for a person, in queue order, and the progress counts;
/// valid for one queue version.
#[derive(Debug, Clone)]
pub struct QueueCache {
    pub version: crate::store::QueueVersion,
    pub items: Vec<CaseItem>,
    pub reviewed: i64,
    pub total: i64,
}

impl QueueCache {
    pub async fn build(
        state: &AppState,
        kommune: KommuneKode,
        version: crate::store::QueueVersion,
    ) -> Result<QueueCache, WebError> {
        let store = state.store();
        let rows = store.pending_in_queue_order(kommune).await?;
        let mut trees = crate::cases::TreesBySnapshots::new();
        for r in &rows {
            let key = (r.fk_snapshot_id, r.sor_snapshot_id);
            if let std::collections::hash_map::Entry::Vacant(e) = trees.entry(key) {
                e.insert((state.fk_tree(key.0).await?, state.sor_tree(key.1).await?));
            }
        }
        let links: std::collections::HashMap<String, String> =
            store.links(kommune).await?.into_iter().map(|l| (l.fk_uuid, l.sor_id)).collect();
        let items = crate::cases::build_cases(&rows, &links, &trees);
        let counts = store.proposal_counts(kommune).await?;
        let (reviewed, total) = progress(&counts);
        Ok(QueueCache { version, items, reviewed, total })
    }
}

pub async fn queue(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    query: QueueQuery,
) -> Result<QueueView, WebError> {
    signed.require_any(kommune)?;
    let (filter, mut problems) = query.filter();
    let page = query.page.unwrap_or(1).max(1);
    let mut subtree_unit = None;
    let mut subtree_matches = Vec::new();
    let under: Option<HashSet<String>> = match query.subtree.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(root) => match state.latest_trees(kommune).await? {
            None => {
                problems.push(FormProblem::new("no_data", None));
                None
            }
            Some((fk, _)) => match find_unit(&fk, root) {
                Found::One(i) => {
                    subtree_unit = Some(unit_ref(&fk, i));
                    Some(fk.tree.descendants(i).into_iter().map(|d| fk.units[d].uuid.to_string()).collect())
                }
                Found::Several(m) => {
                    subtree_matches = m;
                    problems.push(FormProblem::new("choose_one", Some(root)));
                    None
                }
                Found::None => {
                    problems.push(FormProblem::new("unknown_unit", Some(root)));
                    None
                }
            },
        },
    };
    let cache = state.queue_cache(kommune).await?;
    let matches = |it: &&CaseItem| {
        let c = it.confidence.unwrap_or(1.0);
        filter.kind.as_deref().is_none_or(|k| it.has_kind(k))
            && filter.min_confidence.is_none_or(|m| c >= m)
            && filter.max_confidence.is_none_or(|m| c < m)
            && under.as_ref().is_none_or(|u| it.fk_uuid.as_ref().is_some_and(|f| u.contains(f)))
    };
    let matching = cache.items.iter().filter(matches).count();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    // Beyond the last page (the last cases were decided, or a typed page number): the last page.
    let clamped = page > pages;
    let page = page.min(pages);
    let offset = (page - 1).saturating_mul(PAGE_SIZE);
    let items: Vec<CaseItem> = cache.items.iter().filter(matches).skip(offset).take(PAGE_SIZE).cloned().collect();
    let cursor = query.cursor.unwrap_or(0).min(items.len().saturating_sub(1));
    Ok(QueueView {
        kommune: kommune.to_string(),
        filter: query,
        page,
        pages,
        cursor,
        matching,
        reviewed: cache.reviewed,
        total: cache.total,
        can_decide: signed.roles_for(kommune).contains(&Role::SorAdmin),
        items,
        problems,
        subtree_unit,
        subtree_matches,
        clamped,
    })
}
