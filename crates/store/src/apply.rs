//! The store's side of applying: one row per change keyed by its idempotency key (recorded before
//! the call), and the append-only audit log. The rules live in [`crate::apply`]; this is storage only.

use crate::domain::KommuneKode;

use super::apply_sql::{self, AuditRow, ChangeRow, Finish, FinishChange, InsertAudit, InsertChange, InsertLink};
use super::{code, kommune_from, now, Pool, Store, StoreError};

/// Where a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeState {
    /// Recorded before the call; the answer has not been recorded (yet, or the process died).
    Sending,
    Applied,
    /// Rejected by the register: quarantined with the reason.
    Failed,
}

impl ChangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeState::Sending => "sending",
            ChangeState::Applied => "applied",
            ChangeState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sending" => Some(ChangeState::Sending),
            "applied" => Some(ChangeState::Applied),
            "failed" => Some(ChangeState::Failed),
            _ => None,
        }
    }
}

decoded_from_code!(ChangeState, ChangeState::parse, "change state");

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub key: String,
    pub kommune: KommuneKode,
    pub proposal_id: i64,
    pub plan_id: String,
    /// `create`, `update`, `move`, `close` or `write_back`.
    pub op: String,
    /// The change as sent (JSON).
    pub change_json: String,
    pub state: ChangeState,
    /// The register's answer (JSON) once applied.
    pub outcome_json: Option<String>,
    /// The SOR-ID the change is about (assigned by SOR for a create, once applied).
    pub sor_id: Option<String>,
    /// Why it failed.
    pub reason: Option<String>,
    pub attempts: i64,
    pub actor: String,
    pub started_at: String,
    pub finished_at: Option<String>,
}

/// A change about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChange<'a> {
    pub key: &'a str,
    pub kommune: KommuneKode,
    pub proposal_id: i64,
    pub plan_id: &'a str,
    pub op: &'a str,
    pub change_json: &'a str,
    pub sor_id: Option<&'a str>,
    pub actor: &'a str,
}

/// How a change ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEnd<'a> {
    Applied { outcome_json: &'a str, sor_id: Option<&'a str> },
    Failed { reason: &'a str },
}

/// What finishing a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeFinished {
    /// Recorded, with its audit entry (and link).
    Finished,
    /// Not 'sending' any more (settled by someone else meanwhile): nothing written.
    SettledElsewhere,
    /// The link to record clashes with an existing link (this FK-ORG unit's or this SOR-ID's):
    /// nothing written.
    LinkTaken { fk_uuid: String, sor_id: String },
}

/// An entry to append to the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub actor: String,
    /// True when a rule acted, not a person.
    pub automatic: bool,
    /// `approve`, `reject`, `auto_approve`, `link_by_hand`, `choose_alternative`, `create_new`,
    /// `no_match`, `write`, `write_failed`, `write_found` (settled after a crash by asking SOR),
    /// `allow_closures` (closures named to go over the limit; detail: their SOR-IDs).
    pub action: String,
    pub proposal_id: Option<i64>,
    pub key: Option<String>,
    /// JSON.
    pub before: Option<String>,
    /// JSON.
    pub after: Option<String>,
    pub detail: Option<String>,
}

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub kommune: KommuneKode,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub automatic: bool,
    pub action: String,
    pub proposal_id: Option<i64>,
    pub key: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub detail: Option<String>,
}

fn record(row: ChangeRow) -> Result<ChangeRecord, StoreError> {
    Ok(ChangeRecord {
        key: row.key,
        kommune: kommune_from(row.kommunekode)?,
        proposal_id: row.proposal_id,
        plan_id: row.plan_id,
        op: row.op,
        change_json: row.change_json,
        state: row.state,
        outcome_json: row.outcome_json,
        sor_id: row.sor_id,
        reason: row.reason,
        attempts: row.attempts,
        actor: row.actor,
        started_at: row.started_at,
        finished_at: row.finished_at,
    })
}

fn entry(row: AuditRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: row.id,
        kommune: kommune_from(row.kommunekode)?,
        at: row.at,
        actor: row.actor,
        automatic: row.automatic,
        action: row.action,
        proposal_id: row.proposal_id,
        key: row.key,
        before: row.before_json,
        after: row.after_json,
        detail: row.detail,
    })
}

pub(crate) fn insert_audit<'a>(kommune: KommuneKode, at: &'a str, e: &'a NewAuditEntry) -> InsertAudit<'a> {
    InsertAudit {
        kommunekode: code(kommune),
        at,
        actor: &e.actor,
        automatic: e.automatic,
        action: &e.action,
        proposal_id: e.proposal_id,
        key: e.key.as_deref(),
        before_json: e.before.as_deref(),
        after_json: e.after.as_deref(),
        detail: e.detail.as_deref(),
    }
}

impl Store {
    /// Records `change` as 'sending' before it is sent, unless its key is known already; returns
    /// the change as the store now has it (an earlier run's state when the key was known) and
    /// whether this call put it in 'sending' (false: someone else recorded it first; if it is
    /// 'sending', it is in flight and must be looked up before it is sent). With `resend_failed`,
    /// a failed change goes back to 'sending'.
    #[tracing::instrument(skip_all, fields(key = change.key))]
    pub async fn begin_change(
        &self,
        change: &NewChange<'_>,
        resend_failed: bool,
    ) -> Result<(ChangeRecord, bool), StoreError> {
        let started_at = now();
        let row = InsertChange {
            key: change.key,
            kommunekode: code(change.kommune),
            proposal_id: change.proposal_id,
            plan_id: change.plan_id,
            op: change.op,
            change_json: change.change_json,
            sor_id: change.sor_id,
            actor: change.actor,
            started_at: &started_at,
        };
        let (row, ours) = on_db!(self, apply_sql::begin_change(&row, resend_failed))?;
        Ok((record(row)?, ours))
    }

    /// Records how a change ended with its audit entry and, when `link` is given as
    /// (fk_uuid, sor_id), the new link; all or nothing. Only a change in 'sending' is finished;
    /// nothing is written when it was settled by someone else meanwhile, or when either unit is
    /// linked to another already (the link that is in the way is returned, never dropped silently).
    #[tracing::instrument(skip_all, fields(key))]
    pub async fn finish_change(
        &self,
        kommune: KommuneKode,
        key: &str,
        end: ChangeEnd<'_>,
        attempts: u32,
        audit: &NewAuditEntry,
        link: Option<(&str, &str)>,
    ) -> Result<ChangeFinished, StoreError> {
        let at = now();
        let (state, outcome_json, sor_id, reason) = match end {
            ChangeEnd::Applied { outcome_json, sor_id } => ("applied", Some(outcome_json), sor_id, None),
            ChangeEnd::Failed { reason } => ("failed", None, None, Some(reason)),
        };
        let f =
            FinishChange { key, state, outcome_json, sor_id, reason, attempts: i64::from(attempts), finished_at: &at };
        let a = insert_audit(kommune, &at, audit);
        let l = link.map(|(fk_uuid, sor_id)| InsertLink { fk_uuid, sor_id, by: &audit.actor, at: &at });
        Ok(match on_db!(self, apply_sql::finish_change(&f, &a, l.as_ref()))? {
            Finish::Finished => ChangeFinished::Finished,
            Finish::NotSending => ChangeFinished::SettledElsewhere,
            Finish::LinkTaken { fk_uuid, sor_id } => ChangeFinished::LinkTaken { fk_uuid, sor_id },
        })
    }

    /// One change by its key.
    pub async fn change(&self, key: &str) -> Result<Option<ChangeRecord>, StoreError> {
        on_db!(self, apply_sql::change(key))?.map(record).transpose()
    }

    /// The municipality's changes, oldest first.
    pub async fn changes(&self, kommune: KommuneKode) -> Result<Vec<ChangeRecord>, StoreError> {
        on_db!(self, apply_sql::changes(code(kommune)))?.into_iter().map(record).collect()
    }

    /// Appends an entry to the audit log. Returns its id.
    pub async fn append_audit(&self, kommune: KommuneKode, e: &NewAuditEntry) -> Result<i64, StoreError> {
        let at = now();
        Ok(on_db!(self, apply_sql::append_audit(&insert_audit(kommune, &at, e)))?)
    }

    /// The municipality's audit log, oldest first.
    pub async fn audit_log(&self, kommune: KommuneKode) -> Result<Vec<AuditEntry>, StoreError> {
        on_db!(self, apply_sql::audit(code(kommune)))?.into_iter().map(entry).collect()
    }
}
