//! The SQL of proposals, decisions, links and role grants. Written once; [`review_backend!`]
//! compiles it per database, like [`super::sql`]. Mutations run in one transaction that keeps
//! other writers for the same municipality out (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
//! lock per municipality). Rows are read by column name into the row structs below.

const PROPOSAL_COLUMNS: &str = "SELECT id, kommunekode, kind, fk_uuid, sor_id, parent_sor_id, confidence, payload, \
     data_hash, fk_snapshot_id, sor_snapshot_id, status, created_at FROM proposals";
const INSERT_PROPOSAL: &str = "INSERT INTO proposals (kommunekode, kind, fk_uuid, sor_id, parent_sor_id, confidence, \
     payload, data_hash, fk_snapshot_id, sor_snapshot_id, status, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11) RETURNING id";
/// Supersedes a pending proposal, or an approved one nothing was sent for yet.
const SUPERSEDE: &str = "UPDATE proposals SET status = 'superseded' WHERE id = $1 AND (status = 'pending' \
     OR (status = 'approved' AND NOT EXISTS (SELECT 1 FROM changes c WHERE c.proposal_id = proposals.id)))";
/// Approved proposals nothing was sent for yet.
const APPROVED_UNSENT: &str = "WHERE kommunekode = $1 AND status = 'approved' \
     AND NOT EXISTS (SELECT 1 FROM changes c WHERE c.proposal_id = proposals.id) ORDER BY id";
/// Another approved create or link for the same FK-ORG unit, not applied yet.
const OTHER_APPROVED_FOR_FK: &str = "SELECT p.id FROM proposals p WHERE p.kommunekode = $1 AND p.fk_uuid = $2 \
     AND p.kind IN ('create', 'link') AND p.status = 'approved' AND p.id <> $3 \
     AND NOT EXISTS (SELECT 1 FROM changes c WHERE c.proposal_id = p.id AND c.state = 'applied') ORDER BY p.id LIMIT 1";
/// The SOR unit an FK-ORG unit's case is decided as (its approved link), if any.
const LINK_OF_FK: &str = "SELECT sor_id FROM links WHERE kommunekode = $1 AND fk_uuid = $2";
/// The FK-ORG unit a SOR unit is linked to, if any.
const LINK_OF_SOR: &str = "SELECT fk_uuid FROM links WHERE kommunekode = $1 AND sor_id = $2";
/// The follow-ups of a link (same FK-ORG unit, same SOR unit) that nothing was sent for yet: a
/// correspondence rejected or changed takes them with it.
const SUPERSEDE_FOLLOW_UPS: &str = "UPDATE proposals SET status = 'superseded' WHERE kommunekode = $1 \
     AND fk_uuid = $2 AND sor_id = $3 AND kind IN ('update', 'move', 'close', 'write_back') \
     AND (status = 'pending' OR (status = 'approved' AND NOT EXISTS \
     (SELECT 1 FROM changes c WHERE c.proposal_id = proposals.id)))";
const DECIDE_PROPOSAL: &str = "UPDATE proposals SET status = $1 WHERE id = $2 AND status = 'pending'";
/// Decisions that still stand (an undone one is as if it was never taken).
const PAST_DECISIONS: &str = "SELECT p.kind AS kind, p.fk_uuid AS fk_uuid, p.sor_id AS sor_id, \
     p.parent_sor_id AS parent_sor_id, d.data_hash AS data_hash, d.decision AS decision \
     FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE d.kommunekode = $1 \
     AND d.undone_at IS NULL ORDER BY d.id";
/// A person's last decision in a municipality that still stands (automatic ones are a rule's).
const LAST_DECISION_OF_ACTOR: &str = "SELECT id, proposal_id, decision, decided_at FROM decisions \
     WHERE kommunekode = $1 AND actor = $2 AND NOT automatic AND undone_at IS NULL ORDER BY id DESC LIMIT 1";
/// Changes recorded (sending, applied or failed) for a proposal.
const CHANGES_OF_PROPOSAL: &str = "SELECT COUNT(*) AS n FROM changes WHERE proposal_id = $1";
/// Changes recorded for the approved follow-ups of a link (same FK-ORG unit, same SOR unit).
const CHANGES_OF_FOLLOW_UPS: &str = "SELECT COUNT(*) AS n FROM changes c JOIN proposals p ON p.id = c.proposal_id \
     WHERE p.kommunekode = $1 AND p.fk_uuid = $2 AND p.sor_id = $3 \
     AND p.kind IN ('update', 'move', 'close', 'write_back') AND p.status = 'approved'";
/// The approved follow-ups of a link that nothing was sent for yet.
const APPROVED_UNSENT_FOLLOW_UPS: &str = "SELECT id FROM proposals WHERE kommunekode = $1 AND fk_uuid = $2 \
     AND sor_id = $3 AND kind IN ('update', 'move', 'close', 'write_back') AND status = 'approved' \
     AND NOT EXISTS (SELECT 1 FROM changes c WHERE c.proposal_id = proposals.id) ORDER BY id";
/// The follow-ups a link's rejection superseded: made in the same run as the link, never decided,
/// and not proposed again since (no other proposal with the same key stands).
const FOLLOW_UPS_SUPERSEDED_WITH_LINK: &str = "SELECT p.id FROM proposals p WHERE p.kommunekode = $1 \
     AND p.fk_uuid = $2 AND p.sor_id = $3 AND p.kind IN ('update', 'move', 'close', 'write_back') \
     AND p.status = 'superseded' AND p.fk_snapshot_id = $4 AND p.sor_snapshot_id = $5 \
     AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.proposal_id = p.id) \
     AND NOT EXISTS (SELECT 1 FROM proposals q WHERE q.kommunekode = p.kommunekode AND q.kind = p.kind \
     AND q.fk_uuid = p.fk_uuid AND q.sor_id = p.sor_id AND q.status <> 'superseded') ORDER BY p.id";
const BACK_TO_PENDING: &str = "UPDATE proposals SET status = 'pending' WHERE id = $1";
const DELETE_LINK: &str = "DELETE FROM links WHERE kommunekode = $1 AND fk_uuid = $2 AND sor_id = $3";
const MARK_UNDONE: &str = "UPDATE decisions SET undone_at = $1 WHERE id = $2";
const MARK_UNDONE_OF_PROPOSAL: &str =
    "UPDATE decisions SET undone_at = $1 WHERE proposal_id = $2 AND undone_at IS NULL";
const INSERT_DECISION: &str = "INSERT INTO decisions (proposal_id, kommunekode, kind, fk_uuid, sor_id, decision, \
     data_hash, actor, reason, automatic, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
const LINKS: &str =
    "SELECT fk_uuid, sor_id, approved_by, approved_at FROM links WHERE kommunekode = $1 ORDER BY fk_uuid";
const CONFLICTING_LINK: &str =
    "SELECT fk_uuid, sor_id FROM links WHERE kommunekode = $1 AND (fk_uuid = $2 OR sor_id = $3) LIMIT 1";
const INSERT_LINK: &str =
    "INSERT INTO links (kommunekode, fk_uuid, sor_id, approved_by, approved_at) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const INSERT_GRANT: &str = "INSERT INTO role_grants \
     (user_name, kommunekode, role, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (user_name, kommunekode, role) DO NOTHING";
const HAS_ROLE: &str = "SELECT COUNT(*) AS n FROM role_grants WHERE user_name = $1 AND kommunekode = $2 AND role = $3";
const GRANTS: &str = "SELECT user_name, kommunekode, role, granted_by, granted_at FROM role_grants \
     ORDER BY kommunekode, user_name, role";

fn proposals_for_kommune_sql(with_status: bool) -> String {
    if with_status {
        format!("{PROPOSAL_COLUMNS} WHERE kommunekode = $1 AND status = $2 ORDER BY id")
    } else {
        format!("{PROPOSAL_COLUMNS} WHERE kommunekode = $1 ORDER BY id")
    }
}

fn proposal_by_id_sql() -> String {
    format!("{PROPOSAL_COLUMNS} WHERE id = $1")
}

/// The audit log's "before" of a decision: the proposal as it was decided on (JSON).
fn decision_audit_before(p: &ProposalRow) -> String {
    let payload: serde_json::Value = serde_json::from_str(&p.payload).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "status": p.status,
        "kind": p.kind,
        "fk_uuid": p.fk_uuid,
        "sor_id": p.sor_id,
        "parent_sor_id": p.parent_sor_id,
        "confidence": p.confidence,
        "data_hash": p.data_hash,
        "fk_snapshot_id": p.fk_snapshot_id,
        "sor_snapshot_id": p.sor_snapshot_id,
        "proposal": payload,
    })
    .to_string()
}

fn decision_audit_after(decision: &str, decision_id: i64) -> String {
    serde_json::json!({ "status": decision, "decision_id": decision_id }).to_string()
}

/// The advisory-lock key for review writes of one municipality.
fn review_lock_key(kommunekode: i64) -> i64 {
    // "SORR" in the high bits: apart from the import locks ("SORS") and other users.
    const NAMESPACE: i64 = 0x534F_5252 << 32;
    NAMESPACE | kommunekode
}

/// A proposal row as the database holds it. `kind` and `status` stay text here: a row whose codes
/// (or payload) cannot be read is left out of planning one by one (`review::stored`), not the
/// whole municipality.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ProposalRow {
    pub id: i64,
    pub kommunekode: i64,
    pub kind: String,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    pub parent_sor_id: Option<String>,
    pub confidence: Option<f64>,
    pub payload: String,
    pub data_hash: String,
    pub fk_snapshot_id: i64,
    pub sor_snapshot_id: i64,
    pub status: String,
    pub created_at: String,
}

/// A decision joined with its proposal's key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct PastDecisionRow {
    pub kind: String,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    pub parent_sor_id: Option<String>,
    pub data_hash: String,
    pub decision: String,
}

/// A person's last decision that still stands.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LastDecision {
    pub id: i64,
    pub proposal_id: i64,
    /// "approved" or "rejected".
    pub decision: String,
    pub decided_at: String,
}

/// The two units of a link.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LinkedUnits {
    pub fk_uuid: String,
    pub sor_id: String,
}

/// A role grant as the database holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct GrantRow {
    pub user_name: String,
    pub kommunekode: i64,
    pub role: String,
    pub granted_by: String,
    pub granted_at: String,
}

/// A role of a user for a municipality.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct RoleRow {
    pub kommunekode: i64,
    pub role: String,
}

/// A proposal to insert.
#[derive(Debug, Clone)]
pub(crate) struct InsertProposal<'a> {
    pub kind: &'a str,
    pub fk_uuid: Option<&'a str>,
    pub sor_id: Option<&'a str>,
    pub parent_sor_id: Option<&'a str>,
    pub confidence: Option<f64>,
    pub payload: &'a str,
    pub data_hash: &'a str,
}

/// A decision to record.
#[derive(Debug, Clone)]
pub(crate) struct InsertDecision<'a> {
    pub proposal_id: i64,
    /// "approved" or "rejected".
    pub decision: &'a str,
    pub actor: &'a str,
    pub reason: Option<&'a str>,
    pub automatic: bool,
    pub decided_at: &'a str,
    /// The audit log's name for it: `approve`, `reject`, `auto_approve`, `link_by_hand`, ...
    pub action: &'a str,
}

/// What a decision ran into.
#[derive(Debug)]
pub(crate) enum DecideOutcome {
    Recorded(i64),
    NoSuchProposal,
    NotPending(String),
    /// A follow-up whose case is not decided as its link: (fk_uuid, sor_id, the SOR unit the
    /// case is linked to, if any).
    CaseNotLinked(String, String, Option<String>),
    /// An approved link already holds this FK-ORG unit or SOR unit: (fk_uuid, sor_id).
    LinkConflict(String, String),
    /// Another approved, unapplied create or link is for this FK-ORG unit: (fk_uuid, its id).
    FkUnitTaken(String, i64),
}

/// A decision undone by `review_backend!`'s `undo_last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoneDecision {
    pub decision_id: i64,
    pub proposal_id: i64,
    pub kind: String,
    /// "approved" or "rejected": what was undone.
    pub decision: String,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    /// An approved link's row removed from `links`.
    pub link_removed: bool,
    /// Follow-ups of the link back to pending (approved and unsent, or superseded by the rejection).
    pub restored: Vec<i64>,
}

/// What undoing a person's last decision ran into. Only `Undone` changed anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoRecord {
    Undone(UndoneDecision),
    /// The person has no decision in the municipality that still stands.
    NothingToUndo,
    /// Something was sent to SOR or FK-ORG for the proposal (or for its link's follow-ups).
    Sent {
        decision_id: i64,
        proposal_id: i64,
    },
    /// The proposal is no longer as the decision left it (a later run replaced it).
    Changed {
        decision_id: i64,
        proposal_id: i64,
        status: String,
    },
    /// The decision recorded a proposal made by hand (another candidate, create new, link by hand).
    ByHand {
        decision_id: i64,
        proposal_id: i64,
    },
}

/// The state a run is planned against.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReviewRows {
    pub pending: Vec<ProposalRow>,
    /// Approved proposals nothing was sent for yet.
    pub approved_unsent: Vec<ProposalRow>,
    pub decided: Vec<PastDecisionRow>,
    pub links: Vec<(String, String)>,
}

macro_rules! review_backend {
    ($module:ident, $db:ty, begin = $begin:expr, lock = $lock:expr) => {
        pub(crate) mod $module {
            use super::{
                DecideOutcome, GrantRow, InsertDecision, InsertProposal, LastDecision, LinkedUnits, PastDecisionRow,
                ProposalRow, ReviewRows, UndoRecord, UndoneDecision,
            };
            use crate::apply_sql::InsertAudit;
            use crate::review::ApprovedLink;

            type Db = $db;
            type Pool = sqlx::Pool<Db>;
            type Tx<'c> = sqlx::Transaction<'c, Db>;

            async fn begin(pool: &Pool, kommunekode: i64) -> Result<Tx<'static>, sqlx::Error> {
                let mut tx = pool.begin_with($begin).await?;
                let lock: Option<&str> = $lock;
                if let Some(lock) = lock {
                    sqlx::query(lock).bind(super::review_lock_key(kommunekode)).execute(&mut *tx).await?;
                }
                Ok(tx)
            }

            async fn state(tx: &mut Tx<'_>, kommunekode: i64) -> Result<ReviewRows, sqlx::Error> {
                let pending: Vec<ProposalRow> = sqlx::query_as(&super::proposals_for_kommune_sql(true))
                    .bind(kommunekode)
                    .bind("pending")
                    .fetch_all(&mut **tx)
                    .await?;
                let approved_unsent: Vec<ProposalRow> =
                    sqlx::query_as(&format!("{} {}", super::PROPOSAL_COLUMNS, super::APPROVED_UNSENT))
                        .bind(kommunekode)
                        .fetch_all(&mut **tx)
                        .await?;
                let decided: Vec<PastDecisionRow> =
                    sqlx::query_as(super::PAST_DECISIONS).bind(kommunekode).fetch_all(&mut **tx).await?;
                let links: Vec<LinkedUnits> =
                    sqlx::query_as(super::LINKS).bind(kommunekode).fetch_all(&mut **tx).await?;
                Ok(ReviewRows {
                    pending,
                    approved_unsent,
                    decided,
                    links: links.into_iter().map(|l| (l.fk_uuid, l.sor_id)).collect(),
                })
            }

            /// In one transaction: reads the municipality's review state, lets `plan` choose which
            /// pending proposals to supersede and which `candidates` (by index) to insert, and does
            /// that. Returns the new proposals' ids.
            pub(crate) async fn record_run<F>(
                pool: &Pool,
                kommunekode: i64,
                fk_snapshot_id: i64,
                sor_snapshot_id: i64,
                created_at: &str,
                candidates: &[InsertProposal<'_>],
                plan: F,
            ) -> Result<Vec<i64>, sqlx::Error>
            where
                F: FnOnce(&ReviewRows) -> (Vec<i64>, Vec<usize>),
            {
                let mut tx = begin(pool, kommunekode).await?;
                let rows = state(&mut tx, kommunekode).await?;
                let (supersede, insert) = plan(&rows);
                for id in supersede {
                    sqlx::query(super::SUPERSEDE).bind(id).execute(&mut *tx).await?;
                }
                let mut ids = Vec::with_capacity(insert.len());
                for p in insert.into_iter().filter_map(|i| candidates.get(i)) {
                    let id: i64 = sqlx::query_scalar(super::INSERT_PROPOSAL)
                        .bind(kommunekode)
                        .bind(p.kind)
                        .bind(p.fk_uuid)
                        .bind(p.sor_id)
                        .bind(p.parent_sor_id)
                        .bind(p.confidence)
                        .bind(p.payload)
                        .bind(p.data_hash)
                        .bind(fk_snapshot_id)
                        .bind(sor_snapshot_id)
                        .bind(created_at)
                        .fetch_one(&mut *tx)
                        .await?;
                    ids.push(id);
                }
                tx.commit().await?;
                Ok(ids)
            }

            pub(crate) async fn proposals(
                pool: &Pool,
                kommunekode: i64,
                status: Option<&str>,
            ) -> Result<Vec<ProposalRow>, sqlx::Error> {
                match status {
                    Some(s) => {
                        sqlx::query_as(&super::proposals_for_kommune_sql(true))
                            .bind(kommunekode)
                            .bind(s)
                            .fetch_all(pool)
                            .await
                    }
                    None => {
                        sqlx::query_as(&super::proposals_for_kommune_sql(false)).bind(kommunekode).fetch_all(pool).await
                    }
                }
            }

            pub(crate) async fn proposal(pool: &Pool, id: i64) -> Result<Option<ProposalRow>, sqlx::Error> {
                sqlx::query_as(&super::proposal_by_id_sql()).bind(id).fetch_optional(pool).await
            }

            /// Inside a transaction: marks a pending proposal decided, records the decision and its
            /// audit entry and, for an approved link, writes the link. The caller commits only on
            /// `Recorded`.
            async fn decide_in(
                tx: &mut Tx<'_>,
                kommunekode: i64,
                d: &InsertDecision<'_>,
            ) -> Result<DecideOutcome, sqlx::Error> {
                let p: Option<ProposalRow> =
                    sqlx::query_as(&super::proposal_by_id_sql()).bind(d.proposal_id).fetch_optional(&mut **tx).await?;
                let Some(p) = p else {
                    return Ok(DecideOutcome::NoSuchProposal);
                };
                if p.status != "pending" || p.kommunekode != kommunekode {
                    return Ok(DecideOutcome::NotPending(p.status));
                }
                if (p.kind == "link" || p.kind == "create") && d.decision == "approved" {
                    if let Some(fk) = p.fk_uuid.as_deref() {
                        let other: Option<i64> = sqlx::query_scalar(super::OTHER_APPROVED_FOR_FK)
                            .bind(kommunekode)
                            .bind(fk)
                            .bind(p.id)
                            .fetch_optional(&mut **tx)
                            .await?;
                        if let Some(other) = other {
                            return Ok(DecideOutcome::FkUnitTaken(fk.to_string(), other));
                        }
                    }
                }
                let follow_up = matches!(p.kind.as_str(), "update" | "move" | "close" | "write_back");
                let sor_only_close = p.kind == "close" && p.fk_uuid.as_deref().is_none_or(str::is_empty);
                if sor_only_close && d.decision == "approved" {
                    // A SOR-only unit: closed only while nothing in FK-ORG is linked to it.
                    let Some(sor) = p.sor_id.as_deref() else { return Ok(DecideOutcome::NotPending(p.status)) };
                    let linked: Option<String> = sqlx::query_scalar(super::LINK_OF_SOR)
                        .bind(kommunekode)
                        .bind(sor)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if let Some(fk) = linked {
                        return Ok(DecideOutcome::LinkConflict(fk, sor.to_string()));
                    }
                } else if follow_up && d.decision == "approved" {
                    let (Some(fk), Some(sor)) = (p.fk_uuid.as_deref(), p.sor_id.as_deref()) else {
                        return Ok(DecideOutcome::NotPending(p.status));
                    };
                    let linked: Option<String> = sqlx::query_scalar(super::LINK_OF_FK)
                        .bind(kommunekode)
                        .bind(fk)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if linked.as_deref() != Some(sor) {
                        return Ok(DecideOutcome::CaseNotLinked(fk.to_string(), sor.to_string(), linked));
                    }
                }
                if p.kind == "link" && d.decision == "rejected" {
                    if let (Some(fk), Some(sor)) = (p.fk_uuid.as_deref(), p.sor_id.as_deref()) {
                        sqlx::query(super::SUPERSEDE_FOLLOW_UPS)
                            .bind(kommunekode)
                            .bind(fk)
                            .bind(sor)
                            .execute(&mut **tx)
                            .await?;
                    }
                }
                if p.kind == "link" && d.decision == "approved" {
                    let (Some(fk), Some(sor)) = (p.fk_uuid.as_deref(), p.sor_id.as_deref()) else {
                        return Ok(DecideOutcome::NotPending(p.status));
                    };
                    let conflict: Option<LinkedUnits> = sqlx::query_as(super::CONFLICTING_LINK)
                        .bind(kommunekode)
                        .bind(fk)
                        .bind(sor)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if let Some(l) = conflict {
                        return Ok(DecideOutcome::LinkConflict(l.fk_uuid, l.sor_id));
                    }
                    sqlx::query(super::INSERT_LINK)
                        .bind(kommunekode)
                        .bind(fk)
                        .bind(sor)
                        .bind(d.actor)
                        .bind(d.decided_at)
                        .execute(&mut **tx)
                        .await?;
                }
                sqlx::query(super::DECIDE_PROPOSAL).bind(d.decision).bind(d.proposal_id).execute(&mut **tx).await?;
                let id: i64 = sqlx::query_scalar(super::INSERT_DECISION)
                    .bind(d.proposal_id)
                    .bind(kommunekode)
                    .bind(&p.kind)
                    .bind(&p.fk_uuid)
                    .bind(&p.sor_id)
                    .bind(d.decision)
                    .bind(&p.data_hash)
                    .bind(d.actor)
                    .bind(d.reason)
                    .bind(d.automatic)
                    .bind(d.decided_at)
                    .fetch_one(&mut **tx)
                    .await?;
                let before = super::decision_audit_before(&p);
                let after = super::decision_audit_after(d.decision, id);
                let audit = InsertAudit {
                    kommunekode,
                    at: d.decided_at,
                    actor: d.actor,
                    automatic: d.automatic,
                    action: d.action,
                    proposal_id: Some(d.proposal_id),
                    key: None,
                    before_json: Some(&before),
                    after_json: Some(&after),
                    detail: d.reason,
                };
                crate::apply_sql::$module::insert_audit(&mut **tx, &audit).await?;
                Ok(DecideOutcome::Recorded(id))
            }

            /// Marks a pending proposal decided, records the decision (and its audit entry) and, for
            /// an approved link, writes the link; all or nothing.
            pub(crate) async fn decide(
                pool: &Pool,
                kommunekode: i64,
                d: InsertDecision<'_>,
            ) -> Result<DecideOutcome, sqlx::Error> {
                let mut tx = begin(pool, kommunekode).await?;
                let outcome = decide_in(&mut tx, kommunekode, &d).await?;
                if matches!(outcome, DecideOutcome::Recorded(_)) {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            /// A decision by hand, all or nothing: optionally decides on an existing pending
            /// proposal (`first`, e.g. rejects the matcher's link), supersedes the pending
            /// proposals `supersede`, inserts `new` and decides on it with `then` (whose
            /// proposal_id is ignored). Returns the new proposal's id and the decision's outcome.
            #[allow(clippy::too_many_arguments)]
            pub(crate) async fn decide_by_hand(
                pool: &Pool,
                kommunekode: i64,
                first: Option<InsertDecision<'_>>,
                supersede: &[i64],
                new: &InsertProposal<'_>,
                fk_snapshot_id: i64,
                sor_snapshot_id: i64,
                then: InsertDecision<'_>,
            ) -> Result<(i64, DecideOutcome), sqlx::Error> {
                let mut tx = begin(pool, kommunekode).await?;
                if let Some(first) = &first {
                    let outcome = decide_in(&mut tx, kommunekode, first).await?;
                    if !matches!(outcome, DecideOutcome::Recorded(_)) {
                        return Ok((0, outcome));
                    }
                }
                for id in supersede {
                    sqlx::query(super::SUPERSEDE).bind(id).execute(&mut *tx).await?;
                }
                let id: i64 = sqlx::query_scalar(super::INSERT_PROPOSAL)
                    .bind(kommunekode)
                    .bind(new.kind)
                    .bind(new.fk_uuid)
                    .bind(new.sor_id)
                    .bind(new.parent_sor_id)
                    .bind(new.confidence)
                    .bind(new.payload)
                    .bind(new.data_hash)
                    .bind(fk_snapshot_id)
                    .bind(sor_snapshot_id)
                    .bind(then.decided_at)
                    .fetch_one(&mut *tx)
                    .await?;
                let then = InsertDecision { proposal_id: id, ..then };
                let outcome = decide_in(&mut tx, kommunekode, &then).await?;
                if matches!(outcome, DecideOutcome::Recorded(_)) {
                    tx.commit().await?;
                }
                Ok((id, outcome))
            }

            /// Undoes `actor`'s last decision in the municipality that still stands, all or
            /// nothing: the proposal back to pending, an approved link's row removed and its
            /// approved, unsent follow-ups back to pending (a rejected link's follow-ups from the
            /// same run likewise), the decisions marked undone, an `undo` entry in the audit log.
            /// Refuses (changing nothing) when anything was sent for it or a run replaced it.
            pub(crate) async fn undo_last(
                pool: &Pool,
                kommunekode: i64,
                actor: &str,
                at: &str,
            ) -> Result<UndoRecord, sqlx::Error> {
                let mut tx = begin(pool, kommunekode).await?;
                let last: Option<LastDecision> = sqlx::query_as(super::LAST_DECISION_OF_ACTOR)
                    .bind(kommunekode)
                    .bind(actor)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(LastDecision { id: decision_id, proposal_id, decision, decided_at }) = last else {
                    return Ok(UndoRecord::NothingToUndo);
                };
                let p: Option<ProposalRow> =
                    sqlx::query_as(&super::proposal_by_id_sql()).bind(proposal_id).fetch_optional(&mut *tx).await?;
                let Some(p) = p else {
                    return Ok(UndoRecord::Changed { decision_id, proposal_id, status: "missing".into() });
                };
                if p.created_at == decided_at {
                    return Ok(UndoRecord::ByHand { decision_id, proposal_id });
                }
                if p.status != decision {
                    return Ok(UndoRecord::Changed { decision_id, proposal_id, status: p.status });
                }
                let sent: i64 =
                    sqlx::query_scalar(super::CHANGES_OF_PROPOSAL).bind(proposal_id).fetch_one(&mut *tx).await?;
                let link = match (p.kind.as_str(), p.fk_uuid.as_deref(), p.sor_id.as_deref()) {
                    ("link", Some(f), Some(s)) => Some((f, s)),
                    _ => None,
                };
                let mut follow_ups_sent: i64 = 0;
                if let (Some((f, s)), "approved") = (link, decision.as_str()) {
                    follow_ups_sent = sqlx::query_scalar(super::CHANGES_OF_FOLLOW_UPS)
                        .bind(kommunekode)
                        .bind(f)
                        .bind(s)
                        .fetch_one(&mut *tx)
                        .await?;
                }
                if sent > 0 || follow_ups_sent > 0 {
                    return Ok(UndoRecord::Sent { decision_id, proposal_id });
                }
                let mut restored: Vec<i64> = Vec::new();
                let mut link_removed = false;
                if let Some((f, s)) = link {
                    let query = if decision == "approved" {
                        sqlx::query_scalar(super::APPROVED_UNSENT_FOLLOW_UPS).bind(kommunekode).bind(f).bind(s)
                    } else {
                        sqlx::query_scalar(super::FOLLOW_UPS_SUPERSEDED_WITH_LINK)
                            .bind(kommunekode)
                            .bind(f)
                            .bind(s)
                            .bind(p.fk_snapshot_id)
                            .bind(p.sor_snapshot_id)
                    };
                    restored = query.fetch_all(&mut *tx).await?;
                    if decision == "approved" {
                        let done =
                            sqlx::query(super::DELETE_LINK).bind(kommunekode).bind(f).bind(s).execute(&mut *tx).await?;
                        link_removed = done.rows_affected() == 1;
                    }
                }
                for id in std::iter::once(proposal_id).chain(restored.iter().copied()) {
                    sqlx::query(super::BACK_TO_PENDING).bind(id).execute(&mut *tx).await?;
                }
                sqlx::query(super::MARK_UNDONE).bind(at).bind(decision_id).execute(&mut *tx).await?;
                for id in &restored {
                    sqlx::query(super::MARK_UNDONE_OF_PROPOSAL).bind(at).bind(id).execute(&mut *tx).await?;
                }
                let before = serde_json::json!({ "status": decision, "decision_id": decision_id }).to_string();
                let after = serde_json::json!({
                    "status": "pending",
                    "link_removed": link_removed,
                    "follow_ups_back_to_pending": restored,
                })
                .to_string();
                let detail = format!("undid decision {decision_id} ({decision}) on {} proposal {proposal_id}", p.kind);
                let audit = InsertAudit {
                    kommunekode,
                    at,
                    actor,
                    automatic: false,
                    action: "undo",
                    proposal_id: Some(proposal_id),
                    key: None,
                    before_json: Some(&before),
                    after_json: Some(&after),
                    detail: Some(&detail),
                };
                crate::apply_sql::$module::insert_audit(&mut *tx, &audit).await?;
                tx.commit().await?;
                Ok(UndoRecord::Undone(UndoneDecision {
                    decision_id,
                    proposal_id,
                    kind: p.kind,
                    decision,
                    fk_uuid: p.fk_uuid,
                    sor_id: p.sor_id,
                    link_removed,
                    restored,
                }))
            }

            pub(crate) async fn links(pool: &Pool, kommunekode: i64) -> Result<Vec<ApprovedLink>, sqlx::Error> {
                sqlx::query_as(super::LINKS).bind(kommunekode).fetch_all(pool).await
            }

            /// True when the grant is new.
            pub(crate) async fn grant(
                pool: &Pool,
                user_name: &str,
                kommunekode: i64,
                role: &str,
                granted_by: &str,
                granted_at: &str,
            ) -> Result<bool, sqlx::Error> {
                let done = sqlx::query(super::INSERT_GRANT)
                    .bind(user_name)
                    .bind(kommunekode)
                    .bind(role)
                    .bind(granted_by)
                    .bind(granted_at)
                    .execute(pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn has_role(
                pool: &Pool,
                user_name: &str,
                kommunekode: i64,
                role: &str,
            ) -> Result<bool, sqlx::Error> {
                let n: i64 = sqlx::query_scalar(super::HAS_ROLE)
                    .bind(user_name)
                    .bind(kommunekode)
                    .bind(role)
                    .fetch_one(pool)
                    .await?;
                Ok(n > 0)
            }

            pub(crate) async fn grants(pool: &Pool) -> Result<Vec<GrantRow>, sqlx::Error> {
                sqlx::query_as(super::GRANTS).fetch_all(pool).await
            }
        }
    };
}

review_backend!(sqlite, sqlx::Sqlite, begin = "BEGIN IMMEDIATE", lock = None);
review_backend!(postgres, sqlx::Postgres, begin = "BEGIN", lock = Some("SELECT pg_advisory_xact_lock($1)"));
