//! Link proposals between FK-ORG and SOR units, and the changes that follow from them
//! (create, update, close, move, write back). Pure: no IO, no clock (`today` is passed in).
//!
//! How a run works ([`propose`]):
//! 1. identifiers first: a SOR-ID recorded on the FK-ORG unit is a link;
//! 2. profiles ([`features`]): normalised names ([`normalise`], [`synonyms`]) with IDF weights,
//!    address, phone, email, EAN;
//! 3. blocking ([`blocking`]): candidates from inverted indexes, never the full product;
//! 4. rounds: a Fellegi-Sunter model fitted by EM ([`model`]) scores the candidates, a one-to-one
//!    assignment picks links ([`assign`]), and structure ([`structure`]: parents linked to each
//!    other, children linked to children) feeds the next round, until the links are stable;
//! 5. the other proposal kinds follow from the links ([`proposals`]).

pub mod assign;
pub mod blocking;
pub mod cases;
pub mod decisions;
pub mod eval;
pub mod features;
pub mod json;
pub mod model;
pub mod normalise;
pub mod policy;
pub mod proposals;
pub mod structure;
pub mod synonyms;
pub mod text;

use chrono::NaiveDate;

use crate::domain::{FkTree, FkUuid, SorId, SorTree};

/// Which part of the FK-ORG tree is health-relevant. Empty `include` means the whole tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Subtree roots to consider; empty = everything.
    pub include: Vec<FkUuid>,
    /// Subtree roots to leave out (wins over `include`).
    pub exclude: Vec<FkUuid>,
}

/// Everything a run depends on besides the two trees.
#[derive(Debug, Clone)]
pub struct MatchOptions {
    /// The day the run is for: decides which units are closed.
    pub today: NaiveDate,
    pub scope: Scope,
    /// Most candidate SOR units kept per FK-ORG unit after blocking.
    pub max_candidates_per_unit: usize,
    /// Fuzzy links below this confidence are not proposed.
    pub min_confidence: f64,
    /// Most runners-up kept on a link proposal.
    pub max_alternatives: usize,
    /// Who decides what: reported as each proposal's `auto` and used to place cases.
    pub policy: policy::SyncPolicy,
    /// What people decided before for this municipality.
    pub feedback: Feedback,
}

/// The municipality's earlier decisions, which a run learns from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feedback {
    /// FK-ORG units decided "new": created in SOR (the municipality registers units like them).
    pub created: std::collections::HashSet<FkUuid>,
    /// FK-ORG units decided "not in SOR" (the municipality does not register units like them).
    pub not_in_sor: std::collections::HashSet<FkUuid>,
    /// Pairs a person said are not the same unit: never matched again (so the runner-up can be).
    pub rejected: std::collections::HashSet<(FkUuid, SorId)>,
}

impl MatchOptions {
    /// Most candidate SOR units kept per FK-ORG unit unless configured otherwise.
    pub const DEFAULT_MAX_CANDIDATES: usize = 10;

    /// Defaults for a run on `today`.
    pub fn new(today: NaiveDate) -> Self {
        MatchOptions {
            today,
            scope: Scope::default(),
            max_candidates_per_unit: Self::DEFAULT_MAX_CANDIDATES,
            min_confidence: 0.5,
            max_alternatives: 3,
            policy: policy::SyncPolicy::default(),
            feedback: Feedback::default(),
        }
    }
}

/// Why a link is proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkBasis {
    /// The FK-ORG unit already carries this SOR-ID (address role SOR).
    SorIdOnUnit,
    /// Found by matching names, addresses, identifiers and structure.
    Matched,
}

/// Something a person should look at on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFlag {
    /// The SOR-ID recorded on the FK-ORG unit is not in the SOR file.
    SorUnitNotFound,
    /// The SOR unit is closed but the FK-ORG unit is open.
    SorUnitClosed,
    /// Another FK-ORG unit carries the same SOR-ID; this one got the link.
    SorIdOnSeveralUnits,
}

impl LinkFlag {
    pub fn key(self) -> &'static str {
        match self {
            LinkFlag::SorUnitNotFound => "sor_unit_not_found",
            LinkFlag::SorUnitClosed => "sor_unit_closed",
            LinkFlag::SorIdOnSeveralUnits => "sor_id_on_several_units",
        }
    }
}

/// One piece of evidence on a link, in a SOR administrator's terms.
///
/// `weight` is this piece's share of the link's confidence: the weights of a link add up to its
/// confidence; a negative weight speaks against the link. `value` is what was compared (for the
/// name: "FK-ORG name / SOR name"; otherwise a short description of the level).
///
/// The `feature` keys, each one plain phrase:
///
/// | key | phrase |
/// |---|---|
/// | `sor_id_recorded` | the FK-ORG unit already carries this SOR-ID (value: the SOR-ID) |
/// | `same_name` | the same name, which no other unit has |
/// | `same_common_name` | the same name, but other units are called so too ("Afsnit A") |
/// | `very_similar_name` | nearly the same name (spelling, word order, abbreviations) |
/// | `similar_name` / `partly_similar_name` | the names are alike / share some words |
/// | `different_name` | the names differ |
/// | `same_kind_of_unit` | the names use different words for the same kind of unit (value: "Plejecenter and Plejehjemmet"; weight 0, it is part of the name's) |
/// | `same_address` / `same_street` / `same_postcode` / `different_address` | addresses compared (street abbreviations such as "Stationsv." count as the same street) |
/// | `same_phone` / `different_phone` | phone numbers compared after normalising (+45, spaces) |
/// | `same_email` / `different_email` | e-mail addresses compared |
/// | `same_ean` / `different_ean` | EAN numbers compared |
/// | `parents_linked` / `parents_linked_elsewhere` | the parents are already linked to each other / to other units |
/// | `ancestors_linked` | the units sit under units already linked to each other, one register having a level in between the other lacks |
/// | `children_linked` / `some_children_linked` / `children_linked_elsewhere` | the children are linked to this unit's children |
/// | `little_evidence` | the confidence is held down because little besides the name agrees (value says what) |
///
/// Features with nothing to compare (a missing address, unlinked parents) are left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub feature: String,
    pub value: String,
    pub weight: f64,
}

/// A runner-up for a link.
#[derive(Debug, Clone, PartialEq)]
pub struct Alternative {
    pub sor_id: SorId,
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkProposal {
    pub fk_uuid: FkUuid,
    pub sor_id: SorId,
    /// Calibrated probability that the two units are the same.
    pub confidence: f64,
    pub basis: LinkBasis,
    pub flags: Vec<LinkFlag>,
    pub explanation: Vec<Contribution>,
    pub alternatives: Vec<Alternative>,
    /// Names, for people reading the proposal.
    pub fk_name: String,
    pub sor_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateProposal {
    pub fk_uuid: FkUuid,
    pub parent_sor_id: SorId,
    pub name: String,
    pub parent_fk_uuid: FkUuid,
}

/// One field that differs on a linked pair: SOR has `from`, FK-ORG (the source) has `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateProposal {
    pub fk_uuid: FkUuid,
    pub sor_id: SorId,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CloseProposal {
    pub sor_id: SorId,
    pub fk_uuid: FkUuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MoveProposal {
    pub sor_id: SorId,
    pub fk_uuid: FkUuid,
    pub new_parent_sor_id: SorId,
    pub old_parent_sor_id: Option<SorId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WriteBackProposal {
    pub fk_uuid: FkUuid,
    pub sor_id: SorId,
}

/// One proposal for a person (or an automatic rule) to decide on.
#[derive(Debug, Clone, PartialEq)]
pub enum Proposal {
    Link(LinkProposal),
    Create(CreateProposal),
    Update(UpdateProposal),
    Close(CloseProposal),
    Move(MoveProposal),
    WriteBack(WriteBackProposal),
}

impl Proposal {
    /// The case the proposal belongs to: its FK-ORG unit.
    pub fn case(&self) -> cases::CaseKey {
        let fk = match self {
            Proposal::Link(l) => l.fk_uuid,
            Proposal::Create(c) => c.fk_uuid,
            Proposal::Update(u) => u.fk_uuid,
            Proposal::Close(c) => c.fk_uuid,
            Proposal::Move(m) => m.fk_uuid,
            Proposal::WriteBack(w) => w.fk_uuid,
        };
        cases::CaseKey::Fk(fk)
    }

    pub fn kind(&self) -> ProposalKind {
        match self {
            Proposal::Link(_) => ProposalKind::Link,
            Proposal::Create(_) => ProposalKind::Create,
            Proposal::Update(_) => ProposalKind::Update,
            Proposal::Close(_) => ProposalKind::Close,
            Proposal::Move(_) => ProposalKind::Move,
            Proposal::WriteBack(_) => ProposalKind::WriteBack,
        }
    }
}

/// The kinds of proposal. A link or a create decides a case's correspondence; the others are
/// follow-ups of a linked case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProposalKind {
    Link,
    Create,
    Update,
    Close,
    Move,
    WriteBack,
}

impl ProposalKind {
    pub const ALL: [ProposalKind; 6] = [
        ProposalKind::Link,
        ProposalKind::Create,
        ProposalKind::Update,
        ProposalKind::Close,
        ProposalKind::Move,
        ProposalKind::WriteBack,
    ];

    /// The name in the JSON contract and the store: `link`, `create`, `update`, `close`, `move`, `write_back`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalKind::Link => "link",
            ProposalKind::Create => "create",
            ProposalKind::Update => "update",
            ProposalKind::Close => "close",
            ProposalKind::Move => "move",
            ProposalKind::WriteBack => "write_back",
        }
    }

    pub fn parse(s: &str) -> Option<ProposalKind> {
        ProposalKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A link or a create: decides what the case's FK-ORG unit is in SOR.
    pub fn decides_correspondence(self) -> bool {
        matches!(self, ProposalKind::Link | ProposalKind::Create)
    }

    /// Follows from a decided link (an update, a move, a closure or a write-back of a linked unit).
    pub fn is_follow_up(self) -> bool {
        !self.decides_correspondence()
    }
}

impl std::fmt::Display for ProposalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of a run: links first (most confident first), then the other kinds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Proposals {
    pub proposals: Vec<Proposal>,
    /// One per in-scope FK-ORG unit and per SOR-only unit, with its proposed correspondence.
    pub cases: Vec<cases::Case>,
    pub stats: RunStats,
}

/// Numbers about a run, for logs and benchmarks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    pub candidate_pairs: usize,
    pub pair_scorings: usize,
    pub rounds: usize,
    /// Share of candidate pairs the fitted model takes for matches.
    pub lambda: f64,
}

impl Proposals {
    pub fn links(&self) -> impl Iterator<Item = &LinkProposal> {
        self.proposals.iter().filter_map(|p| match p {
            Proposal::Link(l) => Some(l),
            _ => None,
        })
    }
}

/// Proposes links and changes between one municipality's FK-ORG tree and a SOR tree.
pub fn propose(fk: &FkTree, sor: &SorTree, opts: &MatchOptions) -> Proposals {
    let vocab = synonyms::Vocabulary::builtin();
    let run = structure::run(fk, sor, opts, &vocab);
    let mut out = Vec::new();
    let links = run.link_proposals(fk, sor, opts);
    out.extend(links.into_iter().map(Proposal::Link));
    let registered = proposals::Registered::learn(fk, opts, &vocab, &run);
    out.extend(proposals::follow_up(fk, sor, opts, &vocab, &run, &registered));
    let cases = cases::build(fk, sor, opts, &run, &registered, &out);
    Proposals { proposals: out, cases, stats: run.stats.clone() }
}

/// Close proposals for SOR units whose approved FK-ORG counterpart has vanished from FK-ORG (gone
/// between snapshots, not merely INAKTIV: closed FK-ORG units are handled by [`propose`] itself).
/// `approved` are the links people approved earlier; SOR units already closed on `today` are left alone.
pub fn close_vanished(fk: &FkTree, sor: &SorTree, approved: &[(FkUuid, SorId)], today: NaiveDate) -> Vec<Proposal> {
    approved
        .iter()
        .filter(|(fk_uuid, _)| fk.get(*fk_uuid).is_none())
        .filter_map(|&(fk_uuid, sor_id)| {
            let unit = sor.get(sor_id).filter(|u| !u.is_closed_on(today))?;
            Some(Proposal::Close(CloseProposal { sor_id, fk_uuid, name: unit.name.clone() }))
        })
        .collect()
}
