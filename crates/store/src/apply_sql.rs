//! The SQL of applied changes and the audit log. Written once; [`apply_backend!`] compiles it per
//! database, like [`super::sql`] and [`super::review_sql`]. Rows are read by column name into the
//! row structs below.

use crate::apply::ChangeState;

const CHANGE_COLUMNS: &str = "SELECT idempotency_key, kommunekode, proposal_id, plan_id, op, change_json, state, \
     outcome_json, sor_id, reason, attempts, actor, started_at, finished_at FROM changes";
const INSERT_CHANGE: &str =
    "INSERT INTO changes (idempotency_key, kommunekode, proposal_id, plan_id, op, change_json, \
     state, outcome_json, sor_id, reason, attempts, actor, started_at, finished_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'sending', NULL, $7, NULL, 0, $8, $9, NULL) \
     ON CONFLICT (idempotency_key) DO NOTHING";
const RESEND_CHANGE: &str =
    "UPDATE changes SET state = 'sending', change_json = $2, reason = NULL WHERE idempotency_key = $1";
const FINISH_CHANGE: &str = "UPDATE changes SET state = $2, outcome_json = $3, sor_id = COALESCE($4, sor_id), \
     reason = $5, attempts = attempts + $6, finished_at = $7 WHERE idempotency_key = $1 AND state = 'sending'";
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log (kommunekode, at, actor, automatic, action, proposal_id, \
     idempotency_key, before_json, after_json, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
const AUDIT_COLUMNS: &str = "SELECT id, kommunekode, at, actor, automatic, action, proposal_id, idempotency_key, \
     before_json, after_json, detail FROM audit_log";
const INSERT_LINK_IF_FREE: &str = "INSERT INTO links (kommunekode, fk_uuid, sor_id, approved_by, approved_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
/// The links in the way of a new one: the FK-ORG unit's, or the SOR unit's.
const LINKS_IN_THE_WAY: &str =
    "SELECT fk_uuid, sor_id FROM links WHERE kommunekode = $1 AND (fk_uuid = $2 OR sor_id = $3) ORDER BY fk_uuid";

fn change_by_key_sql() -> String {
    format!("{CHANGE_COLUMNS} WHERE idempotency_key = $1")
}

fn changes_for_kommune_sql() -> String {
    format!("{CHANGE_COLUMNS} WHERE kommunekode = $1 ORDER BY started_at, idempotency_key")
}

fn audit_for_kommune_sql() -> String {
    format!("{AUDIT_COLUMNS} WHERE kommunekode = $1 ORDER BY id")
}

/// A change row as the database holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ChangeRow {
    #[sqlx(rename = "idempotency_key")]
    pub key: String,
    pub kommunekode: i64,
    pub proposal_id: i64,
    pub plan_id: String,
    pub op: String,
    pub change_json: String,
    pub state: ChangeState,
    pub outcome_json: Option<String>,
    pub sor_id: Option<String>,
    pub reason: Option<String>,
    pub attempts: i64,
    pub actor: String,
    pub started_at: String,
    pub finished_at: Option<String>,
}

/// A change to record as 'sending'.
#[derive(Debug, Clone)]
pub(crate) struct InsertChange<'a> {
    pub key: &'a str,
    pub kommunekode: i64,
    pub proposal_id: i64,
    pub plan_id: &'a str,
    pub op: &'a str,
    pub change_json: &'a str,
    pub sor_id: Option<&'a str>,
    pub actor: &'a str,
    pub started_at: &'a str,
}

/// How a change ended.
#[derive(Debug, Clone)]
pub(crate) struct FinishChange<'a> {
    pub key: &'a str,
    /// 'applied' or 'failed'.
    pub state: &'a str,
    pub outcome_json: Option<&'a str>,
    pub sor_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub attempts: i64,
    pub finished_at: &'a str,
}

/// A link to record with a change: (fk_uuid, sor_id, by, at).
#[derive(Debug, Clone)]
pub(crate) struct InsertLink<'a> {
    pub fk_uuid: &'a str,
    pub sor_id: &'a str,
    pub by: &'a str,
    pub at: &'a str,
}

/// How finishing a change went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finish {
    Finished,
    /// The change was not 'sending' any more: nothing written.
    NotSending,
    /// The link to record clashes with this existing one (fk_uuid, sor_id): nothing written.
    LinkTaken {
        fk_uuid: String,
        sor_id: String,
    },
}

/// An audit-log entry to append.
#[derive(Debug, Clone)]
pub(crate) struct InsertAudit<'a> {
    pub kommunekode: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub automatic: bool,
    pub action: &'a str,
    pub proposal_id: Option<i64>,
    pub key: Option<&'a str>,
    pub before_json: Option<&'a str>,
    pub after_json: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// An audit-log row as the database holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub kommunekode: i64,
    pub at: String,
    pub actor: String,
    pub automatic: bool,
    pub action: String,
    pub proposal_id: Option<i64>,
    #[sqlx(rename = "idempotency_key")]
    pub key: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub detail: Option<String>,
}

macro_rules! apply_backend {
    ($module:ident, $db:ty) => {
        pub(crate) mod $module {
            use super::{
                AuditRow, ChangeRow, ChangeState, Finish, FinishChange, InsertAudit, InsertChange, InsertLink,
            };
            use crate::review_sql::LinkedUnits;

            type Db = $db;
            type Pool = sqlx::Pool<Db>;

            pub(crate) async fn insert_audit<'e, E>(executor: E, a: &InsertAudit<'_>) -> Result<i64, sqlx::Error>
            where
                E: sqlx::Executor<'e, Database = Db>,
            {
                let id: i64 = sqlx::query_scalar(super::INSERT_AUDIT)
                    .bind(a.kommunekode)
                    .bind(a.at)
                    .bind(a.actor)
                    .bind(a.automatic)
                    .bind(a.action)
                    .bind(a.proposal_id)
                    .bind(a.key)
                    .bind(a.before_json)
                    .bind(a.after_json)
                    .bind(a.detail)
                    .fetch_one(executor)
                    .await?;
                Ok(id)
            }

            /// Records the change as 'sending' unless its key is known; returns the row as it now is.
            /// A failed change being sent again (`resend`) goes back to 'sending' first.
            pub(crate) async fn begin_change(
                pool: &Pool,
                c: &InsertChange<'_>,
                resend_failed: bool,
            ) -> Result<(ChangeRow, bool), sqlx::Error> {
                let mut tx = pool.begin().await?;
                let inserted = sqlx::query(super::INSERT_CHANGE)
                    .bind(c.key)
                    .bind(c.kommunekode)
                    .bind(c.proposal_id)
                    .bind(c.plan_id)
                    .bind(c.op)
                    .bind(c.change_json)
                    .bind(c.sor_id)
                    .bind(c.actor)
                    .bind(c.started_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                let mut row: ChangeRow =
                    sqlx::query_as(&super::change_by_key_sql()).bind(c.key).fetch_one(&mut *tx).await?;
                let mut ours = inserted;
                if resend_failed && row.state == ChangeState::Failed {
                    sqlx::query(super::RESEND_CHANGE).bind(c.key).bind(c.change_json).execute(&mut *tx).await?;
                    row.state = ChangeState::Sending;
                    row.change_json = c.change_json.to_string();
                    row.reason = None;
                    ours = true;
                }
                tx.commit().await?;
                Ok((row, ours))
            }

            /// Marks the change applied or failed, appends its audit entry and (for a create) records
            /// the new link; all or nothing. Nothing is written when the change is no longer
            /// 'sending' (someone else settled it) or when the link clashes with an existing one
            /// (never a silent drop: the caller reports it).
            pub(crate) async fn finish_change(
                pool: &Pool,
                f: &FinishChange<'_>,
                audit: &InsertAudit<'_>,
                link: Option<&InsertLink<'_>>,
            ) -> Result<Finish, sqlx::Error> {
                let mut tx = pool.begin().await?;
                let updated = sqlx::query(super::FINISH_CHANGE)
                    .bind(f.key)
                    .bind(f.state)
                    .bind(f.outcome_json)
                    .bind(f.sor_id)
                    .bind(f.reason)
                    .bind(f.attempts)
                    .bind(f.finished_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if updated != 1 {
                    tx.rollback().await?;
                    return Ok(Finish::NotSending);
                }
                insert_audit(&mut *tx, audit).await?;
                if let Some(l) = link {
                    let inserted = sqlx::query(super::INSERT_LINK_IF_FREE)
                        .bind(audit.kommunekode)
                        .bind(l.fk_uuid)
                        .bind(l.sor_id)
                        .bind(l.by)
                        .bind(l.at)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if inserted == 0 {
                        let in_the_way: Vec<LinkedUnits> = sqlx::query_as(super::LINKS_IN_THE_WAY)
                            .bind(audit.kommunekode)
                            .bind(l.fk_uuid)
                            .bind(l.sor_id)
                            .fetch_all(&mut *tx)
                            .await?;
                        let clash = in_the_way
                            .into_iter()
                            .find(|o| (o.fk_uuid.as_str(), o.sor_id.as_str()) != (l.fk_uuid, l.sor_id));
                        if let Some(LinkedUnits { fk_uuid, sor_id }) = clash {
                            tx.rollback().await?;
                            return Ok(Finish::LinkTaken { fk_uuid, sor_id });
                        }
                    }
                }
                tx.commit().await?;
                Ok(Finish::Finished)
            }

            pub(crate) async fn change(pool: &Pool, key: &str) -> Result<Option<ChangeRow>, sqlx::Error> {
                sqlx::query_as(&super::change_by_key_sql()).bind(key).fetch_optional(pool).await
            }

            pub(crate) async fn changes(pool: &Pool, kommunekode: i64) -> Result<Vec<ChangeRow>, sqlx::Error> {
                sqlx::query_as(&super::changes_for_kommune_sql()).bind(kommunekode).fetch_all(pool).await
            }

            pub(crate) async fn append_audit(pool: &Pool, a: &InsertAudit<'_>) -> Result<i64, sqlx::Error> {
                insert_audit(pool, a).await
            }

            pub(crate) async fn audit(pool: &Pool, kommunekode: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
                sqlx::query_as(&super::audit_for_kommune_sql()).bind(kommunekode).fetch_all(pool).await
            }
        }
    };
}

apply_backend!(sqlite, sqlx::Sqlite);
apply_backend!(postgres, sqlx::Postgres);
