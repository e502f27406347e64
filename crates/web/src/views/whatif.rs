//! What-if: a unit and an edit, and what it would do in SOR.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{find_unit, search, unit_ref, url_encode, warning_view, FormProblem, Found, UnitRef, WarningView};
use crate::auth::Signed;
use crate::domain::{KommuneKode, SorId};
use crate::i18n::Lang;
use crate::preview::render_svg::render_svg_in;
use crate::preview::{preview, Edit};
use crate::review::Role;
use crate::{AppState, WebError};

/// The what-if form's fields, as query parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
