//! The proposals' JSON contract (`{"proposals":[{"kind":"link",...}]}`): serde DTOs converted by
//! hand from the core types, so a change in the core cannot change the wire format by accident.

use serde::{Deserialize, Serialize};

use super::cases::{Case, CaseKey, Correspondence};
use super::policy::SyncPolicy;
use super::{LinkBasis, Proposal, ProposalKind, Proposals};

/// `propose --format json`: the proposals (each with its case and whether the sync policy decides
/// it without a person) and the cases with their proposed decisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalsDto {
    pub proposals: Vec<ProposalOutDto>,
    #[serde(default)]
    pub cases: Vec<CaseDto>,
}

/// One proposal of the contract: the proposal's own fields, plus `case` (the FK-ORG uuid, or the
/// SOR-ID of a SOR-only case) and `auto` (the default policy decides it without a person; a
/// follow-up the policy applies by itself once its case is decided is `true` even while its case
/// waits for a person).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalOutDto {
    #[serde(flatten)]
    pub proposal: ProposalDto,
    pub case: String,
    pub auto: bool,
}

/// One case: `decision` is `link` (with `sor_id`, `confidence`), `new` (with `parent_sor_id`),
/// `not_in_sor` (with `reason`) or `sor_only_keep`; `auto` says whether the policy takes that
/// decision without a person, `rule` which rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseDto {
    pub case: String,
    /// `fkorg` or `sor`.
    pub side: String,
    pub name: String,
    pub decision: String,
    pub sor_id: Option<String>,
    pub parent_sor_id: Option<String>,
    pub confidence: Option<f64>,
    pub reason: Option<String>,
    pub auto: bool,
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContributionDto {
    pub feature: String,
    pub value: String,
    pub weight: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlternativeDto {
    pub sor_id: String,
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeDto {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProposalDto {
    Link {
        fk_uuid: String,
        sor_id: String,
        confidence: f64,
        explanation: Vec<ContributionDto>,
        alternatives: Vec<AlternativeDto>,
        /// "sor_id_on_unit" or "matched".
        basis: String,
        flags: Vec<String>,
        fk_name: String,
        sor_name: Option<String>,
    },
    Create {
        fk_uuid: String,
        parent_sor_id: String,
        name: String,
        parent_fk_uuid: String,
    },
    Update {
        fk_uuid: String,
        sor_id: String,
        changes: Vec<ChangeDto>,
    },
    Close {
        sor_id: String,
        fk_uuid: String,
        name: String,
    },
    Move {
        sor_id: String,
        new_parent_sor_id: String,
        fk_uuid: String,
        old_parent_sor_id: Option<String>,
    },
    WriteBack {
        fk_uuid: String,
        sor_id: String,
    },
}

impl ProposalDto {
    pub fn kind(&self) -> ProposalKind {
        match self {
            ProposalDto::Link { .. } => ProposalKind::Link,
            ProposalDto::Create { .. } => ProposalKind::Create,
            ProposalDto::Update { .. } => ProposalKind::Update,
            ProposalDto::Close { .. } => ProposalKind::Close,
            ProposalDto::Move { .. } => ProposalKind::Move,
            ProposalDto::WriteBack { .. } => ProposalKind::WriteBack,
        }
    }

    /// The FK-ORG unit's name as the proposal gives it (links and creates), for people.
    pub fn fk_name(&self) -> Option<&str> {
        match self {
            ProposalDto::Link { fk_name, .. } => Some(fk_name),
            ProposalDto::Create { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The SOR unit's name as the proposal gives it (links and closures), for people.
    pub fn sor_name(&self) -> Option<&str> {
        match self {
            ProposalDto::Link { sor_name, .. } => sor_name.as_deref(),
            ProposalDto::Close { name, .. } => Some(name),
            _ => None,
        }
    }

    /// A link's flags (empty for the other kinds).
    pub fn flags(&self) -> &[String] {
        match self {
            ProposalDto::Link { flags, .. } => flags,
            _ => &[],
        }
    }
}

impl ProposalDto {
    /// A payload from its kind, the units of its key and any other fields as JSON (missing text
    /// fields are empty, missing lists empty, a missing confidence 1). For tests and tools that
    /// write proposals by hand; runs make payloads with `From<&Proposal>`.
    pub fn from_key_and_json(
        kind: ProposalKind,
        fk_uuid: Option<&str>,
        sor_id: Option<&str>,
        parent_sor_id: Option<&str>,
        fields: &serde_json::Value,
    ) -> Result<ProposalDto, serde_json::Error> {
        let mut v = serde_json::json!({
            "kind": kind.as_str(),
            "fk_uuid": fk_uuid.unwrap_or(""),
            "sor_id": sor_id.unwrap_or(""),
            "confidence": 1.0,
            "explanation": [],
            "alternatives": [],
            "basis": "matched",
            "flags": [],
            "fk_name": "",
            "sor_name": null,
            "name": "",
            "parent_fk_uuid": "",
            "changes": [],
            "old_parent_sor_id": null,
        });
        let parent_field = if kind == ProposalKind::Move { "new_parent_sor_id" } else { "parent_sor_id" };
        v[parent_field] = serde_json::json!(parent_sor_id.unwrap_or(""));
        if let (Some(obj), Some(extra)) = (v.as_object_mut(), fields.as_object()) {
            for (k, x) in extra {
                obj.insert(k.clone(), x.clone());
            }
        }
        v["kind"] = serde_json::json!(kind.as_str());
        serde_json::from_value(v)
    }
}

impl From<&Proposal> for ProposalDto {
    fn from(p: &Proposal) -> Self {
        match p {
            Proposal::Link(l) => ProposalDto::Link {
                fk_uuid: l.fk_uuid.to_string(),
                sor_id: l.sor_id.to_string(),
                confidence: l.confidence,
                explanation: l
                    .explanation
                    .iter()
                    .map(|c| ContributionDto { feature: c.feature.clone(), value: c.value.clone(), weight: c.weight })
                    .collect(),
                alternatives: l
                    .alternatives
                    .iter()
                    .map(|a| AlternativeDto { sor_id: a.sor_id.to_string(), confidence: a.confidence })
                    .collect(),
                basis: match l.basis {
                    LinkBasis::SorIdOnUnit => "sor_id_on_unit".into(),
                    LinkBasis::Matched => "matched".into(),
                },
                flags: l.flags.iter().map(|f| f.key().to_string()).collect(),
                fk_name: l.fk_name.clone(),
                sor_name: l.sor_name.clone(),
            },
            Proposal::Create(c) => ProposalDto::Create {
                fk_uuid: c.fk_uuid.to_string(),
                parent_sor_id: c.parent_sor_id.to_string(),
                name: c.name.clone(),
                parent_fk_uuid: c.parent_fk_uuid.to_string(),
            },
            Proposal::Update(u) => ProposalDto::Update {
                fk_uuid: u.fk_uuid.to_string(),
                sor_id: u.sor_id.to_string(),
                changes: u
                    .changes
                    .iter()
                    .map(|c| ChangeDto { field: c.field.to_string(), from: c.from.clone(), to: c.to.clone() })
                    .collect(),
            },
            Proposal::Close(c) => ProposalDto::Close {
                sor_id: c.sor_id.to_string(),
                fk_uuid: c.fk_uuid.to_string(),
                name: c.name.clone(),
            },
            Proposal::Move(m) => ProposalDto::Move {
                sor_id: m.sor_id.to_string(),
                new_parent_sor_id: m.new_parent_sor_id.to_string(),
                fk_uuid: m.fk_uuid.to_string(),
                old_parent_sor_id: m.old_parent_sor_id.map(|s| s.to_string()),
            },
            Proposal::WriteBack(w) => {
                ProposalDto::WriteBack { fk_uuid: w.fk_uuid.to_string(), sor_id: w.sor_id.to_string() }
            }
        }
    }
}

impl ProposalsDto {
    /// The contract of a run, with `auto` as `policy` decides.
    pub fn new(p: &Proposals, policy: &SyncPolicy) -> Self {
        ProposalsDto {
            proposals: p
                .proposals
                .iter()
                .map(|x| ProposalOutDto {
                    proposal: ProposalDto::from(x),
                    case: x.case().to_string(),
                    auto: policy.rule(x).is_some(),
                })
                .collect(),
            cases: p.cases.iter().map(CaseDto::from).collect(),
        }
    }
}

impl From<&Case> for CaseDto {
    fn from(c: &Case) -> Self {
        let (sor_id, parent_sor_id, confidence, reason) = match &c.correspondence {
            Correspondence::Linked { sor_id, confidence } => (Some(sor_id.to_string()), None, Some(*confidence), None),
            Correspondence::New { parent_sor_id } => (None, Some(parent_sor_id.to_string()), None, None),
            Correspondence::NotInSor(r) => (None, None, None, Some(r.key().to_string())),
            Correspondence::SorOnlyKeep => (None, None, None, None),
        };
        CaseDto {
            case: c.key.to_string(),
            side: match c.key {
                CaseKey::Fk(_) => "fkorg".into(),
                CaseKey::Sor(_) => "sor".into(),
            },
            name: c.name.clone(),
            decision: c.correspondence.key().to_string(),
            sor_id,
            parent_sor_id,
            confidence,
            reason,
            auto: c.auto(),
            rule: c.rule.as_ref().map(|r| r.0.clone()),
        }
    }
}
