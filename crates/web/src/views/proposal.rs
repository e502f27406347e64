//! A proposal's detail page: both units side by side, the explanation, alternatives, the
//! consequence preview; and the one-click actions on it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{warning_view, WarningView};
use crate::auth::Signed;
use crate::domain::{Address, FkUuid, KommuneKode, SorId};
use crate::i18n::Lang;
use crate::matching::json::ProposalDto;
use crate::matching::{Change as MatchChange, CloseProposal, CreateProposal, MoveProposal, Proposal, UpdateProposal};
use crate::preview::preview_proposals;
use crate::preview::render_svg::render_svg_in;
use crate::review::Role;
use crate::store::ProposalStatus;
use crate::{AppState, WebError};

/// One side of the side-by-side comparison.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FieldRow {
    pub field: String,
    pub fk: Option<String>,
    pub sor: Option<String>,
    pub differs: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ContributionView {
    pub feature: String,
    pub value: String,
    pub weight: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AlternativeView {
    pub sor_id: String,
    pub name: Option<String>,
    pub confidence: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChangeView {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
    pub reasons: Vec<crate::explain::ReasonView>,
    /// "parent > unit" of both units.
    pub fk_path: Option<String>,
    pub sor_path: Option<String>,
    /// The parents' names.
    pub fk_parent: Option<String>,
    pub sor_parent: Option<String>,
    /// The proposal's case as the queue shows it (None when nothing of it waits).
    pub case: Option<crate::cases::CaseItem>,
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
            fk.and_then(|u| crate::cases::phone_shown(u.landline.as_deref().or(u.mobile.as_deref()))),
            sor.and_then(|u| crate::cases::phone_shown(u.effective.phone.value.as_deref())),
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
        ProposalDto::Link { explanation, confidence, .. } => crate::explain::reasons(
            explanation,
            *confidence,
            fk_unit.map(|u| u.enhedsnavn.as_str()),
            sor_unit.map(|u| u.name.as_str()),
        ),
        _ => Vec::new(),
    };
    let fk_parent = fk_unit.and_then(|u| u.parent).and_then(|p| fk.get(p)).map(|u| u.enhedsnavn.clone());
    let sor_parent = sor_unit.and_then(|u| u.parent).and_then(|p| sor.get(p)).map(|u| u.name.clone());
    let fk_path = fk_unit.and_then(|u| crate::cases::fk_path(&fk, u.uuid));
    let sor_path = sor_unit.and_then(|u| crate::cases::sor_path(&sor, u.sor_id));
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
