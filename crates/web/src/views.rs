//! What each page shows, as data: the JSON API returns these as they are and the pages render
//! them, so the API mirrors the pages by construction.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::auth::Signed;
use super::{AppState, WebError};
use crate::contacts::report::{build_report, Scope};
use crate::domain::{Address, FkTree, FkUuid, KommuneKode, SorId, SorTree};
use crate::i18n::Lang;
use crate::markup::escape_xml;
use crate::matching::json::ProposalDto;
use crate::matching::{Change as MatchChange, CloseProposal, CreateProposal, MoveProposal, Proposal, UpdateProposal};
use crate::preview::render_svg::render_svg_in;
use crate::preview::{preview, preview_proposals, Edit};
use crate::review::Role;
use crate::store::{ProposalStatus, QueueFilter, QueueRow};

/// Rows per queue page.
pub const PAGE_SIZE: usize = 50;
/// The most proposals one bulk approval takes.
pub const BULK_MAX: usize = 500;

pub fn parse_kommune(s: &str) -> Result<KommuneKode, WebError> {
    KommuneKode::parse(s).map_err(|_| WebError::NotFound(format!("municipality {s}")))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MunicipalityRef {
    pub kommune: String,
    /// The municipality's name (from the wave plan, else its FK-ORG root unit), when known.
    pub name: Option<String>,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HomeView {
    pub user: String,
    pub municipalities: Vec<MunicipalityRef>,
}

/// The signed-in user's municipalities and roles (without names; [`named_home`] adds them).
pub fn home(signed: &Signed) -> HomeView {
    let mut municipalities: Vec<MunicipalityRef> = Vec::new();
    for (k, r) in &signed.roles {
        let code = k.to_string();
        match municipalities.iter_mut().find(|m| m.kommune == code) {
            Some(m) => m.roles.push(r.as_str().to_string()),
            None => {
                municipalities.push(MunicipalityRef { kommune: code, name: None, roles: vec![r.as_str().to_string()] })
            }
        }
    }
    HomeView { user: signed.user.clone(), municipalities }
}

/// [`home`] with the municipalities' names.
pub async fn named_home(state: &AppState, signed: &Signed) -> Result<HomeView, WebError> {
    let mut municipalities: Vec<MunicipalityRef> = Vec::new();
    for (k, r) in &signed.roles {
        let code = k.to_string();
        match municipalities.iter_mut().find(|m| m.kommune == code) {
            Some(m) => m.roles.push(r.as_str().to_string()),
            None => {
                municipalities.push(MunicipalityRef { kommune: code, name: None, roles: vec![r.as_str().to_string()] })
            }
        }
    }
    let kommuner: Vec<KommuneKode> =
        municipalities.iter().filter_map(|m| KommuneKode::parse(&m.kommune).ok()).collect();
    let names = municipality_names(state, &kommuner).await?;
    for m in &mut municipalities {
        m.name = KommuneKode::parse(&m.kommune).ok().and_then(|k| names.get(&k).cloned());
    }
    Ok(HomeView { user: signed.user.clone(), municipalities })
}

/// The names of `kommuner`: from the stored wave plan, else (for a few) the root unit of the
/// latest FK-ORG snapshot ("Faxe Kommune" -> "Faxe").
pub async fn municipality_names(
    state: &AppState,
    kommuner: &[KommuneKode],
) -> Result<std::collections::HashMap<KommuneKode, String>, WebError> {
    let mut names = std::collections::HashMap::new();
    if let Ok(plan) = crate::waves::runner::stored_plan(state.store()).await {
        for m in plan.waves.iter().flat_map(|w| &w.municipalities) {
            names.insert(m.kommune, m.name.clone());
        }
    }
    if kommuner.len() <= 12 {
        for &k in kommuner {
            if names.contains_key(&k) {
                continue;
            }
            if let Some((fk, _)) = state.latest_trees(k).await? {
                if let Some(root) = fk.units.first() {
                    let name = root.enhedsnavn.trim();
                    names.insert(k, name.strip_suffix(" Kommune").unwrap_or(name).to_string());
                }
            }
        }
    }
    Ok(names)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KindCount {
    pub kind: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunView {
    pub recorded_at: String,
    pub fk_snapshot_id: i64,
    pub sor_snapshot_id: i64,
    pub proposals: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// (decided, decided + pending): superseded proposals are not counted.
fn progress(counts: &[crate::store::StatusCount]) -> (i64, i64) {
    let sum =
        |statuses: &[&str]| counts.iter().filter(|c| statuses.contains(&c.status.as_str())).map(|c| c.count).sum();
    let reviewed: i64 = sum(&["approved", "rejected"]);
    (reviewed, reviewed + sum(&["pending"]))
}

/// The queue's filters, as query parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
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

/// A problem with a form's input, shown on the page: a catalogue key and the value it is about.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FormProblem {
    pub key: String,
    pub value: Option<String>,
}

impl FormProblem {
    pub fn new(key: &str, value: Option<&str>) -> FormProblem {
        FormProblem { key: key.to_string(), value: value.map(str::to_string) }
    }
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueItem {
    pub id: i64,
    pub kind: String,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    pub confidence: Option<f64>,
    pub fk_name: Option<String>,
    pub sor_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
    pub items: Vec<super::cases::CaseItem>,
    /// Problems with the filter (left out of it), shown with the form.
    pub problems: Vec<FormProblem>,
    /// The unit the subtree filter chose (by uuid or name).
    pub subtree_unit: Option<UnitRef>,
    /// Several units match the subtree filter's name: choose one.
    pub subtree_matches: Vec<UnitRef>,
    /// The page asked for lies beyond the last; the last is shown.
    pub clamped: bool,
}

fn item(row: QueueRow, fk: Option<&FkTree>, sor: Option<&SorTree>) -> QueueItem {
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
    pub items: Vec<super::cases::CaseItem>,
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
        let mut trees = super::cases::TreesBySnapshots::new();
        for r in &rows {
            let key = (r.fk_snapshot_id, r.sor_snapshot_id);
            if let std::collections::hash_map::Entry::Vacant(e) = trees.entry(key) {
                e.insert((state.fk_tree(key.0).await?, state.sor_tree(key.1).await?));
            }
        }
        let links: std::collections::HashMap<String, String> =
            store.links(kommune).await?.into_iter().map(|l| (l.fk_uuid, l.sor_id)).collect();
        let items = super::cases::build_cases(&rows, &links, &trees);
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
    let matches = |it: &&super::cases::CaseItem| {
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
    let items: Vec<super::cases::CaseItem> =
        cache.items.iter().filter(matches).skip(offset).take(PAGE_SIZE).cloned().collect();
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

/// A unit looked up by uuid or by (part of) its name.
pub enum Found {
    One(usize),
    Several(Vec<UnitRef>),
    None,
}

/// Finds a unit by its uuid, its exact name, or a unique part of its name.
pub fn find_unit(fk: &FkTree, text: &str) -> Found {
    let text = text.trim();
    if let Ok(u) = FkUuid::parse(text) {
        return fk.index_of(u).map(Found::One).unwrap_or(Found::None);
    }
    let lower = text.to_lowercase();
    let exact: Vec<usize> = (0..fk.len()).filter(|&i| fk.units[i].enhedsnavn.trim().to_lowercase() == lower).collect();
    if exact.len() == 1 {
        return Found::One(exact[0]);
    }
    let matches = search_indices(fk, Some(text));
    match matches.as_slice() {
        [] => Found::None,
        [one] => Found::One(*one),
        many => Found::Several(many.iter().map(|&i| unit_ref(fk, i)).collect()),
    }
}

/// One side of the side-by-side comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldRow {
    pub field: String,
    pub fk: Option<String>,
    pub sor: Option<String>,
    pub differs: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContributionView {
    pub feature: String,
    pub value: String,
    pub weight: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlternativeView {
    pub sor_id: String,
    pub name: Option<String>,
    pub confidence: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeView {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WarningView {
    pub kind: String,
    pub sor_id: Option<String>,
    /// In English.
    pub message: String,
    /// The message as a code and arguments, for the page's language (None: the catalogue's text
    /// for `kind`).
    #[serde(skip)]
    pub text: Option<crate::preview::Text>,
}

fn warning_view(w: &crate::preview::Warning) -> WarningView {
    WarningView {
        kind: w.kind.key().to_string(),
        sor_id: w.sor_id.map(|s| s.to_string()),
        message: w.message.clone(),
        text: Some(w.text.clone()),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProposalView {
    pub id: i64,
    pub kommune: String,
    pub kind: String,
    pub status: String,
    pub confidence: Option<f64>,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    pub fk_name: Option<String>,
    pub sor_name: Option<String>,
    pub fields: Vec<FieldRow>,
    pub explanation: Vec<ContributionView>,
    pub alternatives: Vec<AlternativeView>,
    pub changes: Vec<ChangeView>,
    /// What the proposal would do in SOR: a summary line, the warnings and the drawing (SVG).
    pub preview_summary: Option<String>,
    /// The summary's counts, for the page's language.
    #[serde(skip)]
    pub preview_counts: Option<crate::preview::Summary>,
    pub warnings: Vec<WarningView>,
    pub preview_svg: Option<String>,
    pub can_decide: bool,
    /// The link's reasons in plain words; the points of the evidence for add up to the confidence.
    pub reasons: Vec<super::explain::ReasonView>,
    /// "parent > unit" of both units.
    pub fk_path: Option<String>,
    pub sor_path: Option<String>,
    /// The parents' names.
    pub fk_parent: Option<String>,
    pub sor_parent: Option<String>,
    /// The proposal's case as the queue shows it (None when nothing of it waits).
    pub case: Option<super::cases::CaseItem>,
    /// The next and previous cases in the queue (their deciding proposals).
    pub next_id: Option<i64>,
    pub previous_id: Option<i64>,
}

fn address_text(a: &Address) -> String {
    let mut s = a.street.clone();
    if let Some(b) = &a.building {
        s.push(' ');
        s.push_str(b);
    }
    format!("{s}, {} {}", a.postcode, a.district)
}

fn fields(fk: Option<&crate::domain::FkUnit>, sor: Option<&crate::domain::SorUnit>) -> Vec<FieldRow> {
    let row = |field: &str, f: Option<String>, s: Option<String>| {
        let norm = |v: &Option<String>| v.as_deref().map(|x| x.trim().to_lowercase());
        let differs = fk.is_some() && sor.is_some() && norm(&f) != norm(&s);
        FieldRow { field: field.to_string(), fk: f, sor: s, differs }
    };
    vec![
        row("name", fk.map(|u| u.enhedsnavn.clone()), sor.map(|u| u.name.clone())),
        row(
            "address",
            fk.and_then(|u| u.postal_address.clone()),
            sor.and_then(|u| u.effective.postal.value.as_ref().map(address_text)),
        ),
        row(
            "phone",
            // Compared and shown normalised ("+45 56 98 40 62" is "56984062").
            fk.and_then(|u| super::cases::phone_shown(u.landline.as_deref().or(u.mobile.as_deref()))),
            sor.and_then(|u| super::cases::phone_shown(u.effective.phone.value.as_deref())),
        ),
        row("email", fk.and_then(|u| u.email.clone()), sor.and_then(|u| u.effective.email.value.clone())),
        row(
            "ean",
            fk.and_then(|u| u.ean.map(|e| e.to_string())),
            sor.and_then(|u| u.effective.ean.value.map(|e| e.to_string())),
        ),
    ]
}

/// The core proposal behind a stored one, for the consequence preview (links and write-backs
/// change nothing in SOR's tree and give None).
fn proposal_from_dto(dto: &ProposalDto) -> Option<Proposal> {
    let fk = |s: &str| FkUuid::parse(s).ok();
    let sor = |s: &str| SorId::parse(s).ok();
    Some(match dto {
        ProposalDto::Create { fk_uuid, parent_sor_id, name, parent_fk_uuid } => Proposal::Create(CreateProposal {
            fk_uuid: fk(fk_uuid)?,
            parent_sor_id: sor(parent_sor_id)?,
            name: name.clone(),
            parent_fk_uuid: fk(parent_fk_uuid)?,
        }),
        ProposalDto::Close { sor_id, fk_uuid, name } => {
            Proposal::Close(CloseProposal { sor_id: sor(sor_id)?, fk_uuid: fk(fk_uuid)?, name: name.clone() })
        }
        ProposalDto::Move { sor_id, new_parent_sor_id, fk_uuid, old_parent_sor_id } => Proposal::Move(MoveProposal {
            sor_id: sor(sor_id)?,
            fk_uuid: fk(fk_uuid)?,
            new_parent_sor_id: sor(new_parent_sor_id)?,
            old_parent_sor_id: old_parent_sor_id.as_deref().and_then(sor),
        }),
        ProposalDto::Update { fk_uuid, sor_id, changes } => Proposal::Update(UpdateProposal {
            fk_uuid: fk(fk_uuid)?,
            sor_id: sor(sor_id)?,
            changes: changes
                .iter()
                .map(|c| MatchChange {
                    field: match c.field.as_str() {
                        "name" => "name",
                        "address" => "address",
                        "phone" => "phone",
                        "email" => "email",
                        _ => "other",
                    },
                    from: c.from.clone(),
                    to: c.to.clone(),
                })
                .collect(),
        }),
        ProposalDto::Link { .. } | ProposalDto::WriteBack { .. } => return None,
    })
}

pub async fn proposal(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    id: i64,
) -> Result<ProposalView, WebError> {
    proposal_in(state, signed, kommune, id, Lang::En).await
}

/// [`proposal`] with the drawing in language `l`.
pub async fn proposal_in(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    id: i64,
    l: Lang,
) -> Result<ProposalView, WebError> {
    signed.require_any(kommune)?;
    let store = state.store();
    let p = match store.proposal(id).await {
        Ok(p) if p.kommune == kommune => p,
        Ok(_) | Err(crate::store::StoreError::NoSuchProposal(_)) => {
            return Err(WebError::NotFound(format!("proposal {id} of municipality {kommune}")))
        }
        Err(e) => return Err(e.into()),
    };
    let fk = state.fk_tree(p.fk_snapshot_id).await?;
    let sor = state.sor_tree(p.sor_snapshot_id).await?;
    let fk_unit = p.key.fk_uuid.as_deref().and_then(|u| FkUuid::parse(u).ok()).and_then(|u| fk.get(u));
    let sor_unit = p.key.sor_id.as_deref().and_then(|s| SorId::parse(s).ok()).and_then(|s| sor.get(s));
    let dto: Option<ProposalDto> = Some(p.payload.clone());
    let (explanation, alternatives, changes) = match &dto {
        Some(ProposalDto::Link { explanation, alternatives, .. }) => (
            explanation
                .iter()
                .map(|c| ContributionView { feature: c.feature.clone(), value: c.value.clone(), weight: c.weight })
                .collect(),
            alternatives
                .iter()
                .map(|a| AlternativeView {
                    sor_id: a.sor_id.clone(),
                    name: SorId::parse(&a.sor_id).ok().and_then(|s| sor.get(s)).map(|u| u.name.clone()),
                    confidence: a.confidence,
                })
                .collect(),
            Vec::new(),
        ),
        Some(ProposalDto::Update { changes, .. }) => (
            Vec::new(),
            Vec::new(),
            changes
                .iter()
                .map(|c| ChangeView { field: c.field.clone(), from: c.from.clone(), to: c.to.clone() })
                .collect(),
        ),
        _ => (Vec::new(), Vec::new(), Vec::new()),
    };
    let core = dto.as_ref().and_then(proposal_from_dto);
    let mut preview_counts = None;
    let (preview_summary, warnings, preview_svg) = match core {
        Some(core) => {
            let links = store.approved_link_ids(kommune).await?;
            match preview_proposals(&fk, &sor, &links, std::slice::from_ref(&core), state.today()) {
                Ok(pv) => (
                    {
                        preview_counts = Some(pv.summary);
                        Some(pv.summary.line())
                    },
                    pv.warnings.iter().map(warning_view).collect(),
                    Some(render_svg_in(&pv, &fk, &sor, &links, &|t| l.say(t), 0)),
                ),
                Err(e) => (Some(e.to_string()), Vec::new(), None),
            }
        }
        None => (None, Vec::new(), None),
    };
    let reasons = match &p.payload {
        ProposalDto::Link { explanation, confidence, .. } => super::explain::reasons(
            explanation,
            *confidence,
            fk_unit.map(|u| u.enhedsnavn.as_str()),
            sor_unit.map(|u| u.name.as_str()),
        ),
        _ => Vec::new(),
    };
    let fk_parent = fk_unit.and_then(|u| u.parent).and_then(|p| fk.get(p)).map(|u| u.enhedsnavn.clone());
    let sor_parent = sor_unit.and_then(|u| u.parent).and_then(|p| sor.get(p)).map(|u| u.name.clone());
    let fk_path = fk_unit.and_then(|u| super::cases::fk_path(&fk, u.uuid));
    let sor_path = sor_unit.and_then(|u| super::cases::sor_path(&sor, u.sor_id));
    let queue = state.queue_cache(kommune).await?;
    let at = queue.items.iter().position(|c| c.proposal_ids.contains(&p.id));
    let case = at.map(|i| queue.items[i].clone());
    let next_id = match at {
        Some(i) => queue.items.get(i + 1).map(|c| c.id),
        None => queue.items.first().map(|c| c.id),
    };
    let previous_id = at.and_then(|i| i.checked_sub(1)).map(|i| queue.items[i].id);
    Ok(ProposalView {
        reasons,
        fk_path,
        sor_path,
        fk_parent,
        sor_parent,
        case,
        next_id,
        previous_id,
        id: p.id,
        kommune: kommune.to_string(),
        kind: p.key.kind.as_str().to_string(),
        status: p.status.as_str().to_string(),
        confidence: p.confidence,
        fk_uuid: p.key.fk_uuid.clone(),
        sor_id: p.key.sor_id.clone(),
        fk_name: fk_unit.map(|u| u.enhedsnavn.clone()),
        sor_name: sor_unit.map(|u| u.name.clone()),
        fields: fields(fk_unit, sor_unit),
        explanation,
        alternatives,
        changes,
        preview_summary,
        preview_counts,
        warnings,
        preview_svg,
        can_decide: p.status == ProposalStatus::Pending && signed.roles_for(kommune).contains(&Role::SorAdmin),
    })
}

/// The explanation as a horizontal bar chart: one bar per feature, its length the weight (a
/// negative weight to the left, in red). Text is escaped.
pub fn bar_chart_svg(explanation: &[ContributionView]) -> String {
    const ROW: usize = 22;
    const LABEL_W: usize = 230;
    const HALF: f64 = 150.0;
    let max = explanation.iter().map(|c| c.weight.abs()).fold(0.0_f64, f64::max).max(1e-9);
    let height = explanation.len() * ROW + 10;
    let width = LABEL_W + 2 * HALF as usize + 80;
    let zero = LABEL_W as f64 + HALF;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(out, r##"<line x1="{zero}" y1="0" x2="{zero}" y2="{height}" stroke="#999"/>"##);
    for (i, c) in explanation.iter().enumerate() {
        let y = i * ROW + 5;
        let len = c.weight.abs() / max * HALF;
        let (x, fill) = if c.weight >= 0.0 { (zero, "#2e7d32") } else { (zero - len, "#c62828") };
        let label = format!("{} ({})", c.feature, c.value);
        let _ = write!(
            out,
            r#"<text x="0" y="{}"><title>{}</title>{}</text><rect x="{x:.1}" y="{y}" width="{len:.1}" height="{}" fill="{fill}"/><text x="{:.1}" y="{}">{:+.2}</text>"#,
            y + 13,
            escape_xml(&label),
            escape_xml(&truncate(&label, 34)),
            ROW - 6,
            zero + HALF + 8.0,
            y + 13,
            c.weight
        );
    }
    out.push_str("</svg>");
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkQuery {
    pub threshold: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkView {
    pub kommune: String,
    pub threshold: f64,
    pub count: usize,
    pub items: Vec<QueueItem>,
}

/// The pending links with confidence >= `threshold` (at most [`BULK_MAX`]), for the
/// confirmation. Only a SOR administrator gets here.
pub async fn bulk(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    q: &BulkQuery,
) -> Result<BulkView, WebError> {
    signed.require(kommune, &[Role::SorAdmin])?;
    let threshold = q.threshold.unwrap_or(0.95);
    if !(0.5..=1.0).contains(&threshold) {
        return Err(WebError::BadRequest("the threshold is a confidence between 0.5 and 1".into()));
    }
    let filter = QueueFilter { kind: Some("link".into()), min_confidence: Some(threshold), max_confidence: None };
    let (rows, _) = state.store().review_queue_page(kommune, &filter, 0, BULK_MAX).await?;
    let trees = state.latest_trees(kommune).await?;
    let (fk, sor) = match &trees {
        Some((f, s)) => (Some(&**f), Some(&**s)),
        None => (None, None),
    };
    let items: Vec<QueueItem> = rows.into_iter().map(|r| item(r, fk, sor)).collect();
    Ok(BulkView { kommune: kommune.to_string(), threshold, count: items.len(), items })
}

/// The what-if form's fields, as query parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WhatIfQuery {
    /// Search for the unit to edit.
    pub q: Option<String>,
    pub unit: Option<String>,
    /// `close`, `create`, `move` or `rename`.
    pub action: Option<String>,
    /// Search for the parent (create, move).
    pub uq: Option<String>,
    pub under: Option<String>,
    pub name: Option<String>,
    pub date: Option<String>,
    /// How many levels below the affected branches the drawing opens ("… N more").
    pub open: Option<usize>,
}

/// The most levels the what-if drawing opens.
pub const MAX_OPEN: usize = 6;

impl WhatIfQuery {
    /// The query string of this what-if with the drawing opened `open` levels.
    pub fn with_open(&self, open: usize) -> String {
        let mut parts = vec![format!("open={open}")];
        for (k, v) in [
            ("unit", &self.unit),
            ("action", &self.action),
            ("uq", &self.uq),
            ("under", &self.under),
            ("name", &self.name),
            ("date", &self.date),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", url_encode(v)));
            }
        }
        parts.join("&")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitRef {
    pub uuid: String,
    pub name: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WhatIfView {
    pub kommune: String,
    pub query: WhatIfQuery,
    pub matches: Vec<UnitRef>,
    pub under_matches: Vec<UnitRef>,
    pub unit: Option<UnitRef>,
    pub under: Option<UnitRef>,
    /// "N to create, ..." in English (creates that cannot be placed in SOR are not counted).
    pub summary: Option<String>,
    pub changes: Vec<String>,
    pub warnings: Vec<WarningView>,
    pub svg: Option<String>,
    /// The first problem with the form, in English.
    pub problem: Option<String>,
    /// The problems with the form, as catalogue keys.
    pub problems: Vec<FormProblem>,
    /// The closing day used (an empty date is today).
    pub date_used: Option<NaiveDate>,
    /// The changes with both places of a move, for the page.
    pub change_items: Vec<WhatIfChange>,
    /// The summary's counts, for the page's language.
    #[serde(skip)]
    pub counts: Option<crate::preview::Summary>,
}

/// One change in SOR as the what-if page lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WhatIfChange {
    /// `create`, `update`, `close` or `move`.
    pub action: String,
    pub name: String,
    pub sor_id: Option<String>,
    /// For a move: the SOR parent now and after.
    pub old_parent: Option<String>,
    pub new_parent: Option<String>,
    /// False for a create whose FK-ORG parent has no SOR counterpart (nothing is created in SOR).
    pub placed: bool,
    /// Why, in English.
    pub because: String,
    #[serde(skip)]
    pub because_text: Option<crate::preview::Text>,
}

fn unit_ref(fk: &FkTree, i: usize) -> UnitRef {
    UnitRef { uuid: fk.units[i].uuid.to_string(), name: fk.units[i].enhedsnavn.clone(), path: fk.path_names(i) }
}

fn search(fk: &FkTree, q: Option<&str>) -> Vec<UnitRef> {
    search_indices(fk, q).into_iter().map(|i| unit_ref(fk, i)).collect()
}

/// The first 25 units whose name contains `q` (any case).
fn search_indices(fk: &FkTree, q: Option<&str>) -> Vec<usize> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else { return Vec::new() };
    let q = q.to_lowercase();
    (0..fk.len()).filter(|&i| fk.units[i].enhedsnavn.to_lowercase().contains(&q)).take(25).collect()
}

/// Closures dated further back than this many days get a warning.
const LONG_AGO_DAYS: i64 = 365;

/// What-if: organisation administrators (and SOR administrators) pick a unit and an edit and
/// see what it would do in SOR.
pub async fn whatif(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    query: WhatIfQuery,
) -> Result<WhatIfView, WebError> {
    whatif_in(state, signed, kommune, query, Lang::En).await
}

/// [`whatif`] with the drawing in language `l`. Units are chosen by uuid or by name; problems
/// with the form are shown on the page ([`WhatIfView::problems`]), not as an error page.
pub async fn whatif_in(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    query: WhatIfQuery,
    l: Lang,
) -> Result<WhatIfView, WebError> {
    signed.require(kommune, &[Role::OrgAdmin, Role::SorAdmin])?;
    let (fk, sor) = state
        .latest_trees(kommune)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("FK-ORG and SOR snapshots for municipality {kommune}")))?;
    let mut problems = Vec::new();
    let mut matches = search(&fk, query.q.as_deref());
    let mut under_matches = Vec::new();
    let pick = |s: Option<&str>, list: &mut Vec<UnitRef>, problems: &mut Vec<FormProblem>| match s
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => match find_unit(&fk, s) {
            Found::One(i) => Some(i),
            Found::Several(m) => {
                *list = m;
                problems.push(FormProblem::new("choose_one", Some(s)));
                None
            }
            Found::None => {
                problems.push(FormProblem::new("unknown_unit", Some(s)));
                None
            }
        },
    };
    let unit = pick(query.unit.as_deref(), &mut matches, &mut problems);
    // The new parent: chosen from the list, else the typed name when it names one unit.
    let under = match query.under.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(u) => pick(Some(u), &mut under_matches, &mut problems),
        None => pick(query.uq.as_deref(), &mut under_matches, &mut problems),
    };
    let mut view = WhatIfView {
        kommune: kommune.to_string(),
        matches,
        under_matches,
        unit: unit.map(|i| unit_ref(&fk, i)),
        under: under.map(|i| unit_ref(&fk, i)),
        query,
        summary: None,
        changes: Vec::new(),
        warnings: Vec::new(),
        svg: None,
        problem: None,
        problems,
        date_used: None,
        change_items: Vec::new(),
        counts: None,
    };
    let (Some(u), Some(action)) = (unit, view.query.action.clone().filter(|a| !a.is_empty())) else {
        view.problem = view.problems.first().map(|p| p.key.clone());
        return Ok(view);
    };
    let today = state.today();
    // An empty date is the calendar's today (as in the CLI), not the data's day.
    let calendar_today = chrono::Local::now().date_naive();
    let name = view.query.name.clone().unwrap_or_default();
    let edit = match action.as_str() {
        "close" => {
            let date = match view.query.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                    Ok(date) => Some(date),
                    Err(_) => {
                        view.problems.push(FormProblem::new("bad_date", Some(d)));
                        None
                    }
                },
                None => Some(calendar_today),
            };
            view.date_used = date;
            date.map(|date| Edit::Close { unit: fk.units[u].uuid, date })
        }
        "rename" if !name.trim().is_empty() => Some(Edit::Rename { unit: fk.units[u].uuid, name: name.trim().into() }),
        // A new unit goes below the chosen unit unless another parent was chosen.
        "create" if !name.trim().is_empty() => Some(Edit::Create {
            name: name.trim().into(),
            under: fk.units[under.unwrap_or(u)].uuid,
            address: None,
            phone: None,
        }),
        "move" => under.map(|p| Edit::Move { unit: fk.units[u].uuid, under: fk.units[p].uuid }),
        "rename" | "create" => None,
        other => {
            view.problems.push(FormProblem::new("unknown_action", Some(other)));
            None
        }
    };
    let Some(edit) = edit else {
        if view.problems.is_empty() {
            view.problems.push(FormProblem::new("fill_in", None));
        }
        view.problem = view.problems.first().map(|p| p.key.clone());
        return Ok(view);
    };
    let links = state.store().approved_link_ids(kommune).await?;
    match preview(&fk, &sor, &links, std::slice::from_ref(&edit), today) {
        Ok(pv) => {
            let sor_name = |id: Option<SorId>| id.and_then(|i| sor.get(i)).map(|u| u.name.clone());
            let mut counts = pv.summary;
            for c in &pv.changes {
                let placed = !(c.action == crate::preview::Action::Create && c.parent_sor_id.is_none());
                if !placed {
                    counts.create = counts.create.saturating_sub(1);
                }
                view.change_items.push(WhatIfChange {
                    action: c.action.as_str().to_string(),
                    name: c.name.clone(),
                    sor_id: c.sor_id.map(|s| s.to_string()),
                    old_parent: if c.action == crate::preview::Action::Move { sor_name(c.parent_sor_id) } else { None },
                    new_parent: sor_name(c.new_parent_sor_id),
                    placed,
                    because: c.because.clone(),
                    because_text: Some(c.because_text.clone()),
                });
            }
            view.summary = Some(counts.line());
            view.counts = Some(counts);
            view.changes = pv
                .changes
                .iter()
                .map(|c| {
                    let id = c.sor_id.map(|s| format!(" [{s}]")).unwrap_or_default();
                    format!("{}: {}{id} – {}", c.action.as_str(), c.name, c.because)
                })
                .collect();
            if let Some(date) = view.date_used.filter(|d| (calendar_today - *d).num_days() > LONG_AGO_DAYS) {
                view.warnings.push(WarningView {
                    kind: "long_ago".into(),
                    sor_id: None,
                    message: format!("the date {date} is more than a year back: is it right?"),
                    text: None,
                });
            }
            let limit = crate::apply::ClosureLimit::default().limit(sor.len());
            if counts.close > limit {
                view.warnings.push(WarningView {
                    kind: "closure_limit".into(),
                    sor_id: None,
                    message: format!(
                        "the change closes {} SOR units; apply closes at most {limit} a day unless they are named",
                        counts.close
                    ),
                    text: None,
                });
            }
            view.warnings.extend(pv.warnings.iter().map(warning_view));
            let open = view.query.open.unwrap_or(0).min(MAX_OPEN);
            view.svg = Some(render_svg_in(&pv, &fk, &sor, &links, &|t| l.say(t), open));
        }
        Err(e) => {
            view.problems.push(FormProblem::new("preview_failed", None));
            view.problem = Some(e.to_string());
        }
    }
    Ok(view)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersonView {
    pub name: Option<String>,
    pub user_name: String,
    /// The roles (membership titles) the person holds, one per placement.
    pub roles: Vec<String>,
    pub units: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A local path to go back to after a form (anything else: `fallback`), so no form can send the
/// user to another site.
pub fn local_path(back: Option<&str>, fallback: String) -> String {
    match back {
        Some(b) if is_local_path(b) => b.to_string(),
        _ => fallback,
    }
}

/// Whether `b` is a path on this site however a browser reads it: it starts with one `/`, and
/// holds no backslash, whitespace or control character (browsers drop a TAB or line break inside
/// a URL, so `/<TAB>/evil.example` would become `//evil.example`, another site).
fn is_local_path(b: &str) -> bool {
    b.starts_with('/')
        && !b.starts_with("//")
        && !b.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        && !b.to_ascii_lowercase().contains("%5c")
}

/// The one-click decisions on a pending link proposal besides approve/reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Link to one of the alternatives instead.
    ChooseAlternative,
    /// The unit is not in SOR: create it.
    CreateNew,
    /// No SOR unit matches.
    NoMatch,
}

impl Act {
    pub fn parse(s: &str) -> Result<Act, WebError> {
        match s {
            "choose_alternative" => Ok(Act::ChooseAlternative),
            "create_new" => Ok(Act::CreateNew),
            "no_match" => Ok(Act::NoMatch),
            other => Err(WebError::BadRequest(format!(
                "unknown action {other:?}: choose_alternative, create_new or no_match"
            ))),
        }
    }
}

/// Does `act` on proposal `id` of `kommune` through the review library (which checks the role
/// again). Returns the id of the proposal it records (for no-match: the decision's id).
pub async fn act(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    id: i64,
    act: Act,
    sor_id: Option<&str>,
    reason: Option<&str>,
) -> Result<i64, WebError> {
    signed.require(kommune, &[Role::SorAdmin])?;
    match state.store().proposal(id).await {
        Ok(p) if p.kommune == kommune => {}
        Ok(_) | Err(crate::store::StoreError::NoSuchProposal(_)) => {
            return Err(WebError::NotFound(format!("proposal {id} of municipality {kommune}")))
        }
        Err(e) => return Err(e.into()),
    }
    let actor = crate::review::Actor::new(signed.user.clone());
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let store = state.store();
    Ok(match act {
        Act::ChooseAlternative => {
            let s = sor_id.ok_or_else(|| WebError::BadRequest("choose which SOR unit (sor_id)".into()))?;
            let s = SorId::parse(s).map_err(|e| WebError::BadRequest(e.to_string()))?;
            crate::review::choose_alternative(store, &actor, id, s, reason).await?
        }
        Act::CreateNew => crate::review::create_new(store, &actor, id, reason).await?,
        Act::NoMatch => crate::review::no_match(store, &actor, id, reason).await?,
    })
}

/// The audit log's filters, as query parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The waves dashboard (and, for one municipality, its wave report): the stored wave plan's
/// municipalities the user holds a role for, with readiness, coverage, proposals and runs.
#[derive(Debug, Clone, Serialize)]
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
