//! The store's side of review: proposals, decisions, approved links and role grants. The rules
//! (what a run records, who may decide) live in [`crate::review`]; this is storage only.

use crate::domain::{FkUnit, FkUuid, KommuneKode, SorId, SorUnit};
use crate::matching::json::ProposalDto;
use crate::matching::ProposalKind;

use super::review_sql::{self, DecideOutcome, InsertDecision, InsertProposal, ProposalRow, ReviewRows, UndoRecord};
use super::sql;
use super::{code, kommune_from, now, Pool, Store, StoreError};

/// Where a proposal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProposalStatus {
    Pending,
    Approved,
    Rejected,
    /// A later run proposed something else for the same units, or no longer proposed it.
    Superseded,
}

impl ProposalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Pending => "pending",
            ProposalStatus::Approved => "approved",
            ProposalStatus::Rejected => "rejected",
            ProposalStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(ProposalStatus::Pending),
            "approved" => Some(ProposalStatus::Approved),
            "rejected" => Some(ProposalStatus::Rejected),
            "superseded" => Some(ProposalStatus::Superseded),
            _ => None,
        }
    }
}

/// What a person (or rule) decided on a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Approved,
    Rejected,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::Rejected => "rejected",
        }
    }
}

/// What makes two proposals "the same" across runs: the kind and the units it is about.
/// `parent_sor_id` is a create's parent or a move's new parent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProposalKey {
    pub kind: ProposalKind,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    pub parent_sor_id: Option<String>,
}

/// A proposal to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProposal {
    pub key: ProposalKey,
    /// Links only.
    pub confidence: Option<f64>,
    /// The proposal as the JSON contract shows it.
    pub payload: ProposalDto,
    /// [`units_data_hash`] of the units it was made from.
    pub data_hash: String,
}

/// A recorded proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProposal {
    pub id: i64,
    pub kommune: KommuneKode,
    pub key: ProposalKey,
    pub confidence: Option<f64>,
    /// The proposal, parsed once at the store edge.
    pub payload: ProposalDto,
    pub data_hash: String,
    pub fk_snapshot_id: i64,
    pub sor_snapshot_id: i64,
    pub status: ProposalStatus,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// An earlier decision, with the key and data of the proposal it was on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastDecision {
    pub key: ProposalKey,
    pub data_hash: String,
    pub verdict: Verdict,
}

/// An approved link (read as the `links` table's row).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApprovedLink {
    pub fk_uuid: String,
    pub sor_id: String,
    pub approved_by: String,
    pub approved_at: String,
}

/// One municipality's review state, as a run is planned against it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewState {
    /// Pending proposals, oldest first.
    pub pending: Vec<StoredProposal>,
    /// Approved proposals nothing was sent for yet, oldest first: a run that proposes the same
    /// key from changed data supersedes them.
    pub approved_unsent: Vec<StoredProposal>,
    /// Every decision, oldest first.
    pub decided: Vec<PastDecision>,
    /// Approved links as (fk_uuid, sor_id).
    pub links: Vec<(String, String)>,
}

/// What a run does to the store: pending proposals to supersede (by id) and candidates to insert
/// (by index into the candidates given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunPlan {
    pub supersede: Vec<i64>,
    pub insert: Vec<usize>,
}

/// A role held by a user for a municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    pub user_name: String,
    pub kommune: KommuneKode,
    /// `sor_admin`, `org_admin`, `operator` or `read_only`.
    pub role: String,
    pub granted_by: String,
    pub granted_at: String,
}

/// sha256 (hex) of the units' own values: equal hashes mean the proposal was made from the same data.
pub fn units_data_hash(fk: Option<&FkUnit>, sor: Option<&SorUnit>) -> String {
    super::rows::units_data_hash(fk, sor)
}

fn key_of(
    kind: &str,
    fk: &Option<String>,
    sor: &Option<String>,
    parent: &Option<String>,
) -> Result<ProposalKey, StoreError> {
    let kind = ProposalKind::parse(kind)
        .ok_or_else(|| StoreError::UnreadableValue(format!("unknown proposal kind {kind:?}")))?;
    Ok(ProposalKey { kind, fk_uuid: fk.clone(), sor_id: sor.clone(), parent_sor_id: parent.clone() })
}

/// The stored payload text as its typed form: the one place proposals are parsed.
fn payload_of(id: i64, text: &str) -> Result<ProposalDto, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::UnreadableValue(format!("proposal {id}: {e}")))
}

/// The typed payload as the text the store keeps.
fn payload_text(p: &ProposalDto) -> String {
    serde_json::to_string(p).unwrap_or_else(|_| "{}".to_string())
}

fn stored(row: ProposalRow) -> Result<StoredProposal, StoreError> {
    let status = ProposalStatus::parse(&row.status)
        .ok_or_else(|| StoreError::UnreadableValue(format!("proposal {} has status {:?}", row.id, row.status)))?;
    Ok(StoredProposal {
        id: row.id,
        kommune: kommune_from(row.kommunekode)?,
        key: key_of(&row.kind, &row.fk_uuid, &row.sor_id, &row.parent_sor_id)?,
        confidence: row.confidence,
        payload: payload_of(row.id, &row.payload)?,
        data_hash: row.data_hash,
        fk_snapshot_id: row.fk_snapshot_id,
        sor_snapshot_id: row.sor_snapshot_id,
        status,
        created_at: row.created_at,
    })
}

fn decided(proposal_id: i64, outcome: DecideOutcome) -> Result<i64, StoreError> {
    match outcome {
        DecideOutcome::Recorded(id) => Ok(id),
        DecideOutcome::NoSuchProposal => Err(StoreError::NoSuchProposal(proposal_id)),
        DecideOutcome::NotPending(status) => Err(StoreError::ProposalNotPending { id: proposal_id, status }),
        DecideOutcome::LinkConflict(fk_uuid, sor_id) => Err(StoreError::AlreadyLinked { proposal_id, fk_uuid, sor_id }),
        DecideOutcome::FkUnitTaken(fk_uuid, other) => Err(StoreError::FkUnitTaken { proposal_id, fk_uuid, other }),
        DecideOutcome::CaseNotLinked(fk_uuid, sor_id, linked) => {
            Err(StoreError::CaseNotLinked { proposal_id, fk_uuid, sor_id, linked })
        }
    }
}

fn review_state(rows: &ReviewRows) -> ReviewState {
    ReviewState {
        // Rows that cannot be read are left out of planning; listing them reports the problem.
        pending: rows.pending.iter().cloned().filter_map(|r| stored(r).ok()).collect(),
        approved_unsent: rows.approved_unsent.iter().cloned().filter_map(|r| stored(r).ok()).collect(),
        decided: rows
            .decided
            .iter()
            .filter_map(|d| {
                Some(super::review::PastDecision {
                    key: key_of(&d.kind, &d.fk_uuid, &d.sor_id, &d.parent_sor_id).ok()?,
                    data_hash: d.data_hash.clone(),
                    verdict: if d.decision == "approved" { Verdict::Approved } else { Verdict::Rejected },
                })
            })
            .collect(),
        links: rows.links.clone(),
    }
}

impl Store {
    /// In one transaction (no other review write for `kommune` in between): reads the
    /// municipality's review state, lets `plan` choose, supersedes and inserts. Returns the ids of
    /// the inserted proposals, in the order of `plan.insert`.
    #[tracing::instrument(skip_all, fields(kommune = %kommune, candidates = candidates.len()))]
    pub async fn record_proposals(
        &self,
        kommune: KommuneKode,
        fk_snapshot_id: i64,
        sor_snapshot_id: i64,
        candidates: &[NewProposal],
        plan: impl FnOnce(&ReviewState) -> RunPlan,
    ) -> Result<Vec<i64>, StoreError> {
        let texts: Vec<String> = candidates.iter().map(|c| payload_text(&c.payload)).collect();
        let rows: Vec<InsertProposal<'_>> = candidates
            .iter()
            .zip(&texts)
            .map(|(c, text)| InsertProposal {
                kind: c.key.kind.as_str(),
                fk_uuid: c.key.fk_uuid.as_deref(),
                sor_id: c.key.sor_id.as_deref(),
                parent_sor_id: c.key.parent_sor_id.as_deref(),
                confidence: c.confidence,
                payload: text,
                data_hash: &c.data_hash,
            })
            .collect();
        let created_at = now();
        let plan = |r: &ReviewRows| {
            let p = plan(&review_state(r));
            (p.supersede, p.insert)
        };
        Ok(on_db!(
            self,
            review_sql::record_run(code(kommune), fk_snapshot_id, sor_snapshot_id, &created_at, &rows, plan)
        )?)
    }

    /// The municipality's proposals (only those with `status` when given), oldest first.
    #[tracing::instrument(skip_all, fields(kommune = %kommune))]
    pub async fn proposals(
        &self,
        kommune: KommuneKode,
        status: Option<ProposalStatus>,
    ) -> Result<Vec<StoredProposal>, StoreError> {
        let rows = on_db!(self, review_sql::proposals(code(kommune), status.map(ProposalStatus::as_str)))?;
        rows.into_iter().map(stored).collect()
    }

    /// One proposal.
    pub async fn proposal(&self, id: i64) -> Result<StoredProposal, StoreError> {
        let row = on_db!(self, review_sql::proposal(id))?;
        stored(row.ok_or(StoreError::NoSuchProposal(id))?)
    }

    /// Records a decision on a pending proposal of `kommune` (with its audit-log entry) and, for an
    /// approved link, the link; all or nothing. Does NOT check roles: call
    /// `sorsync_app::review::decide`, which does.
    #[tracing::instrument(skip_all, fields(kommune = %kommune, proposal_id, verdict = verdict.as_str()))]
    pub async fn record_decision(
        &self,
        kommune: KommuneKode,
        proposal_id: i64,
        verdict: Verdict,
        actor: &str,
        reason: Option<&str>,
        automatic: bool,
    ) -> Result<i64, StoreError> {
        let action = match (verdict, automatic) {
            (Verdict::Approved, true) => "auto_approve",
            (Verdict::Approved, false) => "approve",
            (Verdict::Rejected, _) => "reject",
        };
        self.record_decision_as(kommune, proposal_id, verdict, actor, reason, automatic, action).await
    }

    /// [`Store::record_decision`] with the audit log's name for the action (`no_match`, ...).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_decision_as(
        &self,
        kommune: KommuneKode,
        proposal_id: i64,
        verdict: Verdict,
        actor: &str,
        reason: Option<&str>,
        automatic: bool,
        action: &str,
    ) -> Result<i64, StoreError> {
        let decided_at = now();
        let d = InsertDecision {
            proposal_id,
            decision: verdict.as_str(),
            actor,
            reason,
            automatic,
            decided_at: &decided_at,
            action,
        };
        decided(proposal_id, on_db!(self, review_sql::decide(code(kommune), d))?)
    }

    /// A decision by hand, all or nothing: optionally decides `first` (a pending proposal, with
    /// its verdict and action name), supersedes the pending proposals `supersede`, records `new`
    /// (made from the given snapshots) and approves it as `action`. Returns the new proposal's id.
    /// Does NOT check roles: the functions in `sorsync_app::review` do.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_by_hand(
        &self,
        kommune: KommuneKode,
        first: Option<(i64, Verdict, &str)>,
        supersede: &[i64],
        new: &NewProposal,
        snapshots: (i64, i64),
        actor: &str,
        reason: Option<&str>,
        action: &str,
    ) -> Result<i64, StoreError> {
        let decided_at = now();
        let first = first.map(|(proposal_id, verdict, first_action)| InsertDecision {
            proposal_id,
            decision: verdict.as_str(),
            actor,
            reason,
            automatic: false,
            decided_at: &decided_at,
            action: first_action,
        });
        let first_id = first.as_ref().map(|f| f.proposal_id);
        let text = payload_text(&new.payload);
        let row = InsertProposal {
            kind: new.key.kind.as_str(),
            fk_uuid: new.key.fk_uuid.as_deref(),
            sor_id: new.key.sor_id.as_deref(),
            parent_sor_id: new.key.parent_sor_id.as_deref(),
            confidence: new.confidence,
            payload: &text,
            data_hash: &new.data_hash,
        };
        let then = InsertDecision {
            proposal_id: 0,
            decision: Verdict::Approved.as_str(),
            actor,
            reason,
            automatic: false,
            decided_at: &decided_at,
            action,
        };
        let (id, outcome) = on_db!(
            self,
            review_sql::decide_by_hand(code(kommune), first, supersede, &row, snapshots.0, snapshots.1, then)
        )?;
        decided(if id == 0 { first_id.unwrap_or(0) } else { id }, outcome)?;
        Ok(id)
    }

    /// Undoes `actor`'s last decision in `kommune` that still stands (see
    /// `review_sql::undo_last`), all or nothing, with its `undo` audit entry. Does NOT check roles:
    /// call `sorsync_app::review::undo_last`, which does.
    pub async fn undo_decision(&self, kommune: KommuneKode, actor: &str) -> Result<UndoRecord, StoreError> {
        Ok(on_db!(self, review_sql::undo_last(code(kommune), actor, &now()))?)
    }

    /// The approved links of `kommune` as checked ids (for the matcher and the preview).
    pub async fn approved_link_ids(&self, kommune: KommuneKode) -> Result<Vec<(FkUuid, SorId)>, StoreError> {
        self.links(kommune)
            .await?
            .iter()
            .map(|l| {
                let fk = FkUuid::parse(&l.fk_uuid).map_err(|e| StoreError::UnreadableValue(e.to_string()))?;
                let sor = SorId::parse(&l.sor_id).map_err(|e| StoreError::UnreadableValue(e.to_string()))?;
                Ok((fk, sor))
            })
            .collect()
    }

    /// The municipality's approved links.
    pub async fn links(&self, kommune: KommuneKode) -> Result<Vec<ApprovedLink>, StoreError> {
        Ok(on_db!(self, review_sql::links(code(kommune)))?)
    }

    /// Gives `user_name` `role` for `kommune`. True when the grant is new. Does NOT check who
    /// grants: call `sorsync_app::review::grant`.
    pub async fn record_grant(
        &self,
        user_name: &str,
        kommune: KommuneKode,
        role: &str,
        granted_by: &str,
    ) -> Result<bool, StoreError> {
        Ok(on_db!(self, review_sql::grant(user_name, code(kommune), role, granted_by, &now()))?)
    }

    /// Whether `user_name` holds `role` for `kommune`.
    pub async fn has_role(&self, user_name: &str, kommune: KommuneKode, role: &str) -> Result<bool, StoreError> {
        Ok(on_db!(self, review_sql::has_role(user_name, code(kommune), role))?)
    }

    /// Every role grant, by municipality and user.
    pub async fn role_grants(&self) -> Result<Vec<RoleGrant>, StoreError> {
        let rows = on_db!(self, review_sql::grants())?;
        rows.into_iter()
            .map(|g| {
                Ok(RoleGrant {
                    user_name: g.user_name,
                    kommune: kommune_from(g.kommunekode)?,
                    role: g.role,
                    granted_by: g.granted_by,
                    granted_at: g.granted_at,
                })
            })
            .collect()
    }

    /// The SOR snapshot used for `kommune`: its own latest, else the latest national one, as
    /// (id, national). The one place that rule lives (plans, freshness checks, decisions by hand).
    pub async fn sor_snapshot_for(&self, kommune: KommuneKode) -> Result<Option<(i64, bool)>, StoreError> {
        if let Some(id) = self.latest_snapshot_id(super::Register::Sor, Some(kommune)).await? {
            return Ok(Some((id, false)));
        }
        Ok(self.latest_snapshot_id(super::Register::Sor, None).await?.map(|id| (id, true)))
    }

    /// The id of the latest snapshot of `register` for `kommune` (None: national), if any.
    pub async fn latest_snapshot_id(
        &self,
        register: super::Register,
        kommune: Option<KommuneKode>,
    ) -> Result<Option<i64>, StoreError> {
        Ok(on_db!(self, sql::latest_snapshot_id(register.as_str(), kommune.map(code)))?)
    }
}
