//! The store's side of the web app: local accounts (argon2 hashes only), sessions (token hashes
//! only), and the read queries the pages need (the review queue page by page, counts, runs).
//! Written once for both databases, like the review SQL; rules live in `crate::web` and
//! `crate::review`. Rows are read by column name, into the public row types where they fit.

use crate::domain::KommuneKode;

use super::{code, kommune_from, now, Pool, Store, StoreError};

/// Which pending proposals the review queue shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueFilter {
    /// Only this kind (`link`, `create`, ...).
    pub kind: Option<String>,
    /// Only confidence >= this (proposals without a confidence count as 1.0).
    pub min_confidence: Option<f64>,
    /// Only confidence < this.
    pub max_confidence: Option<f64>,
}

/// A pending proposal as the queue lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub kind: String,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    pub confidence: Option<f64>,
    /// The proposal's JSON contract form.
    pub payload: String,
}

/// A pending proposal in queue order, with its payload parsed (for the web app's queue cache).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRow {
    pub id: i64,
    pub kind: String,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    pub confidence: Option<f64>,
    pub fk_snapshot_id: i64,
    pub sor_snapshot_id: i64,
    pub payload: crate::matching::json::ProposalDto,
}

/// Changes whenever the municipality's queue or progress changes: (largest pending proposal id,
/// number pending, largest decision id).
pub type QueueVersion = (Option<i64>, i64, Option<i64>);

/// How many proposals of one kind have one status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StatusCount {
    pub status: String,
    pub kind: String,
    pub count: i64,
}

/// One recorded run: the proposals recorded at the same moment from the same snapshots.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunInfo {
    /// RFC 3339, UTC.
    pub recorded_at: String,
    pub fk_snapshot_id: i64,
    pub sor_snapshot_id: i64,
    pub proposals: i64,
}

/// Impact first (a close or move touches more than a link), then the least certain first.
const QUEUE_ORDER: &str = "ORDER BY CASE kind WHEN 'close' THEN 0 WHEN 'move' THEN 1 WHEN 'create' THEN 2 \
     WHEN 'update' THEN 3 WHEN 'link' THEN 4 ELSE 5 END, COALESCE(confidence, 1.0), id";
const QUEUE_COLUMNS: &str = "SELECT id, kind, fk_uuid, sor_id, confidence, payload FROM proposals";
const UPSERT_USER: &str = "INSERT INTO web_users (user_name, password_hash, created_at) VALUES ($1, $2, $3) \
     ON CONFLICT (user_name) DO UPDATE SET password_hash = excluded.password_hash";
const USER_EXISTS: &str = "SELECT COUNT(*) AS n FROM web_users WHERE user_name = $1";
const PASSWORD_HASH: &str = "SELECT password_hash FROM web_users WHERE user_name = $1";
const USERS: &str = "SELECT user_name FROM web_users ORDER BY user_name";
const INSERT_SESSION: &str = "INSERT INTO web_sessions (token_hash, user_name, csrf_token, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5)";
const SESSION: &str = "SELECT user_name, csrf_token FROM web_sessions WHERE token_hash = $1 AND expires_at > $2";
const DELETE_SESSION: &str = "DELETE FROM web_sessions WHERE token_hash = $1";
const DELETE_EXPIRED: &str = "DELETE FROM web_sessions WHERE expires_at <= $1";
const USER_ROLES: &str = "SELECT kommunekode, role FROM role_grants WHERE user_name = $1 ORDER BY kommunekode, role";
const STATUS_COUNTS: &str = "SELECT status, kind, COUNT(*) AS count FROM proposals WHERE kommunekode = $1 \
     GROUP BY status, kind ORDER BY status, kind";
const RUNS: &str =
    "SELECT created_at AS recorded_at, fk_snapshot_id, sor_snapshot_id, COUNT(*) AS proposals FROM proposals \
     WHERE kommunekode = $1 GROUP BY created_at, fk_snapshot_id, sor_snapshot_id ORDER BY created_at DESC LIMIT $2";
const AUTH: &str = "SELECT s.user_name AS user_name, s.csrf_token AS csrf_token, g.kommunekode AS kommunekode, \
     g.role AS role FROM web_sessions s LEFT JOIN role_grants g ON g.user_name = s.user_name \
     WHERE s.token_hash = $1 AND s.expires_at > $2 ORDER BY g.kommunekode, g.role";
const QUEUE_VERSION: &str = "SELECT \
     (SELECT MAX(id) FROM proposals WHERE kommunekode = $1 AND status = 'pending') AS max_pending, \
     (SELECT COUNT(*) FROM proposals WHERE kommunekode = $1 AND status = 'pending') AS pending, \
     (SELECT MAX(id) FROM decisions WHERE kommunekode = $1) AS max_decision";
const PENDING_IN_ORDER: &str = "SELECT id, kind, fk_uuid, sor_id, confidence, fk_snapshot_id, sor_snapshot_id, \
     payload FROM proposals WHERE kommunekode = $1 AND status = 'pending'";
const LINK_COUNT: &str = "SELECT COUNT(*) AS n FROM links WHERE kommunekode = $1";

/// The WHERE clause of the queue for `filter`, with the binds after `$1` (the municipality).
fn queue_where(filter: &QueueFilter) -> (String, Vec<QueueBind>) {
    let mut sql = String::from(" WHERE kommunekode = $1 AND status = 'pending'");
    let mut binds = Vec::new();
    if let Some(kind) = &filter.kind {
        binds.push(QueueBind::Text(kind.clone()));
        sql.push_str(&format!(" AND kind = ${}", binds.len() + 1));
    }
    if let Some(min) = filter.min_confidence {
        binds.push(QueueBind::Real(min));
        sql.push_str(&format!(" AND COALESCE(confidence, 1.0) >= ${}", binds.len() + 1));
    }
    if let Some(max) = filter.max_confidence {
        binds.push(QueueBind::Real(max));
        sql.push_str(&format!(" AND COALESCE(confidence, 1.0) < ${}", binds.len() + 1));
    }
    (sql, binds)
}

/// An unexpired session's user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub user_name: String,
    pub csrf_token: String,
}

/// A session's user with one of the user's roles (none: no role at all).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AuthRow {
    pub user_name: String,
    pub csrf_token: String,
    pub kommunekode: Option<i64>,
    pub role: Option<String>,
}

/// [`QueueVersion`] as the database gives it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct QueueVersionRow {
    pub max_pending: Option<i64>,
    pub pending: i64,
    pub max_decision: Option<i64>,
}

/// A pending proposal with its payload as stored text (parsed into a [`PendingRow`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct PendingText {
    pub id: i64,
    pub kind: String,
    pub fk_uuid: Option<String>,
    pub sor_id: Option<String>,
    pub confidence: Option<f64>,
    pub fk_snapshot_id: i64,
    pub sor_snapshot_id: i64,
    pub payload: String,
}

#[derive(Debug, Clone)]
enum QueueBind {
    Text(String),
    Real(f64),
}

macro_rules! web_backend {
    ($module:ident, $db:ty) => {
        pub(crate) mod $module {
            use super::{AuthRow, PendingText, QueueBind, QueueFilter, QueueRow, QueueVersionRow, SessionRow};
            use crate::review_sql::RoleRow;
            use crate::{RunInfo, StatusCount};

            type Db = $db;
            type Pool = sqlx::Pool<Db>;
            type Arguments<'q> = <Db as sqlx::Database>::Arguments<'q>;

            fn bind_all<'q, O>(
                mut q: sqlx::query::QueryAs<'q, Db, O, Arguments<'q>>,
                binds: &'q [QueueBind],
            ) -> sqlx::query::QueryAs<'q, Db, O, Arguments<'q>> {
                for b in binds {
                    q = match b {
                        QueueBind::Text(s) => q.bind(s.as_str()),
                        QueueBind::Real(r) => q.bind(*r),
                    };
                }
                q
            }

            /// One page of the queue and the number of proposals the filter matches.
            pub(crate) async fn queue_page(
                pool: &Pool,
                kommunekode: i64,
                filter: &QueueFilter,
                offset: i64,
                limit: i64,
            ) -> Result<(Vec<QueueRow>, i64), sqlx::Error> {
                let (clause, binds) = super::queue_where(filter);
                let n = binds.len();
                let sql = format!(
                    "{}{clause} {} LIMIT ${} OFFSET ${}",
                    super::QUEUE_COLUMNS,
                    super::QUEUE_ORDER,
                    n + 2,
                    n + 3
                );
                let q = bind_all(sqlx::query_as(&sql).bind(kommunekode), &binds).bind(limit).bind(offset);
                let rows: Vec<QueueRow> = q.fetch_all(pool).await?;
                let count_sql = format!("SELECT COUNT(*) AS n FROM proposals{clause}");
                let (total,): (i64,) =
                    bind_all(sqlx::query_as(&count_sql).bind(kommunekode), &binds).fetch_one(pool).await?;
                Ok((rows, total))
            }

            pub(crate) async fn upsert_user(
                pool: &Pool,
                user_name: &str,
                hash: &str,
                created_at: &str,
            ) -> Result<bool, sqlx::Error> {
                let n: i64 = sqlx::query_scalar(super::USER_EXISTS).bind(user_name).fetch_one(pool).await?;
                sqlx::query(super::UPSERT_USER).bind(user_name).bind(hash).bind(created_at).execute(pool).await?;
                Ok(n == 0)
            }

            pub(crate) async fn password_hash(pool: &Pool, user_name: &str) -> Result<Option<String>, sqlx::Error> {
                sqlx::query_scalar(super::PASSWORD_HASH).bind(user_name).fetch_optional(pool).await
            }

            pub(crate) async fn users(pool: &Pool) -> Result<Vec<String>, sqlx::Error> {
                sqlx::query_scalar(super::USERS).fetch_all(pool).await
            }

            pub(crate) async fn insert_session(
                pool: &Pool,
                token_hash: &str,
                user_name: &str,
                csrf: &str,
                created_at: &str,
                expires_at: &str,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(super::DELETE_EXPIRED).bind(created_at).execute(pool).await?;
                sqlx::query(super::INSERT_SESSION)
                    .bind(token_hash)
                    .bind(user_name)
                    .bind(csrf)
                    .bind(created_at)
                    .bind(expires_at)
                    .execute(pool)
                    .await?;
                Ok(())
            }

            pub(crate) async fn session(
                pool: &Pool,
                token_hash: &str,
                now: &str,
            ) -> Result<Option<SessionRow>, sqlx::Error> {
                sqlx::query_as(super::SESSION).bind(token_hash).bind(now).fetch_optional(pool).await
            }

            pub(crate) async fn delete_session(pool: &Pool, token_hash: &str) -> Result<(), sqlx::Error> {
                sqlx::query(super::DELETE_SESSION).bind(token_hash).execute(pool).await?;
                Ok(())
            }

            pub(crate) async fn user_roles(pool: &Pool, user_name: &str) -> Result<Vec<RoleRow>, sqlx::Error> {
                sqlx::query_as(super::USER_ROLES).bind(user_name).fetch_all(pool).await
            }

            pub(crate) async fn status_counts(pool: &Pool, kommunekode: i64) -> Result<Vec<StatusCount>, sqlx::Error> {
                sqlx::query_as(super::STATUS_COUNTS).bind(kommunekode).fetch_all(pool).await
            }

            pub(crate) async fn runs(pool: &Pool, kommunekode: i64, limit: i64) -> Result<Vec<RunInfo>, sqlx::Error> {
                sqlx::query_as(super::RUNS).bind(kommunekode).bind(limit).fetch_all(pool).await
            }

            pub(crate) async fn auth(pool: &Pool, token_hash: &str, now: &str) -> Result<Vec<AuthRow>, sqlx::Error> {
                sqlx::query_as(super::AUTH).bind(token_hash).bind(now).fetch_all(pool).await
            }

            pub(crate) async fn queue_version(pool: &Pool, kommunekode: i64) -> Result<QueueVersionRow, sqlx::Error> {
                sqlx::query_as(super::QUEUE_VERSION).bind(kommunekode).fetch_one(pool).await
            }

            pub(crate) async fn pending_in_order(
                pool: &Pool,
                kommunekode: i64,
            ) -> Result<Vec<super::PendingRow>, sqlx::Error> {
                let sql = format!("{} {}", super::PENDING_IN_ORDER, super::QUEUE_ORDER);
                let rows: Vec<PendingText> = sqlx::query_as(&sql).bind(kommunekode).fetch_all(pool).await?;
                rows.into_iter()
                    .map(|r| {
                        let payload = serde_json::from_str(&r.payload).map_err(|e| sqlx::Error::ColumnDecode {
                            index: format!("payload of proposal {}", r.id),
                            source: Box::new(e),
                        })?;
                        Ok(super::PendingRow {
                            id: r.id,
                            kind: r.kind,
                            fk_uuid: r.fk_uuid,
                            sor_id: r.sor_id,
                            confidence: r.confidence,
                            fk_snapshot_id: r.fk_snapshot_id,
                            sor_snapshot_id: r.sor_snapshot_id,
                            payload,
                        })
                    })
                    .collect()
            }

            pub(crate) async fn link_count(pool: &Pool, kommunekode: i64) -> Result<i64, sqlx::Error> {
                sqlx::query_scalar(super::LINK_COUNT).bind(kommunekode).fetch_one(pool).await
            }
        }
    };
}

web_backend!(sqlite, sqlx::Sqlite);
web_backend!(postgres, sqlx::Postgres);

impl Store {
    /// Stores (or replaces) `user_name`'s password hash. True when the account is new. A changed
    /// password ends all of the user's sessions.
    pub async fn set_web_password_hash(&self, user_name: &str, password_hash: &str) -> Result<bool, StoreError> {
        let created = on_db!(self, upsert_user(user_name, password_hash, &now()))?;
        if !created {
            self.delete_sessions_of(user_name).await?;
        }
        Ok(created)
    }

    /// The stored password hash of `user_name`, if the account exists.
    pub async fn web_password_hash(&self, user_name: &str) -> Result<Option<String>, StoreError> {
        Ok(on_db!(self, password_hash(user_name))?)
    }

    /// The names of all local accounts.
    pub async fn web_users(&self) -> Result<Vec<String>, StoreError> {
        Ok(on_db!(self, users())?)
    }

    /// Records a session (by the hash of its token) until `expires_at` (RFC 3339, UTC, as the store
    /// writes it); removes expired sessions on the way.
    pub async fn create_web_session(
        &self,
        token_hash: &str,
        user_name: &str,
        csrf_token: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        Ok(on_db!(self, insert_session(token_hash, user_name, csrf_token, &now(), expires_at))?)
    }

    /// The user name and CSRF token of an unexpired session.
    pub async fn web_session(&self, token_hash: &str) -> Result<Option<(String, String)>, StoreError> {
        Ok(on_db!(self, session(token_hash, &now()))?.map(|s| (s.user_name, s.csrf_token)))
    }

    /// Ends a session.
    pub async fn delete_web_session(&self, token_hash: &str) -> Result<(), StoreError> {
        Ok(on_db!(self, delete_session(token_hash))?)
    }

    /// The roles `user_name` holds, as (municipality, role name), by municipality.
    pub async fn roles_of(&self, user_name: &str) -> Result<Vec<(KommuneKode, String)>, StoreError> {
        on_db!(self, user_roles(user_name))?.into_iter().map(|r| Ok((kommune_from(r.kommunekode)?, r.role))).collect()
    }

    /// One page of the municipality's pending proposals in queue order (impact, then the least
    /// certain first) and how many the filter matches in all.
    pub async fn review_queue_page(
        &self,
        kommune: KommuneKode,
        filter: &QueueFilter,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<QueueRow>, usize), StoreError> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (rows, total) = on_db!(self, queue_page(code(kommune), filter, offset, limit))?;
        Ok((rows, usize::try_from(total).unwrap_or(0)))
    }

    /// How many proposals of each kind have each status.
    pub async fn proposal_counts(&self, kommune: KommuneKode) -> Result<Vec<StatusCount>, StoreError> {
        Ok(on_db!(self, status_counts(code(kommune)))?)
    }

    /// The latest `limit` runs recorded for the municipality, newest first.
    pub async fn recent_runs(&self, kommune: KommuneKode, limit: usize) -> Result<Vec<RunInfo>, StoreError> {
        Ok(on_db!(self, runs(code(kommune), i64::try_from(limit).unwrap_or(i64::MAX)))?)
    }

    /// The signed-in user of an unexpired session (by the hash of its token): name, CSRF token and
    /// roles as (municipality, role name). One query, for every request of the web app.
    #[allow(clippy::type_complexity)]
    pub async fn web_session_with_roles(
        &self,
        token_hash: &str,
    ) -> Result<Option<(String, String, Vec<(KommuneKode, String)>)>, StoreError> {
        let rows = on_db!(self, auth(token_hash, &now()))?;
        let Some(first) = rows.first() else { return Ok(None) };
        let (user, csrf) = (first.user_name.clone(), first.csrf_token.clone());
        let mut roles = Vec::new();
        for row in rows {
            if let (Some(k), Some(role)) = (row.kommunekode, row.role) {
                roles.push((kommune_from(k)?, role));
            }
        }
        Ok(Some((user, csrf, roles)))
    }

    /// A value that changes whenever the municipality's review queue or progress changes.
    pub async fn review_queue_version(&self, kommune: KommuneKode) -> Result<QueueVersion, StoreError> {
        let v = on_db!(self, queue_version(code(kommune)))?;
        Ok((v.max_pending, v.pending, v.max_decision))
    }

    /// Every pending proposal of the municipality in queue order (impact, then the least certain
    /// first), with its payload.
    pub async fn pending_in_queue_order(&self, kommune: KommuneKode) -> Result<Vec<PendingRow>, StoreError> {
        Ok(on_db!(self, pending_in_order(code(kommune)))?)
    }

    /// How many approved links the municipality has.
    pub async fn link_count(&self, kommune: KommuneKode) -> Result<usize, StoreError> {
        let n = on_db!(self, link_count(code(kommune)))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}
