//! The store's side of identities: accounts that sign in elsewhere (SAML), role grants and
//! revocations with their audit entries, ending a user's sessions, and the operating-system
//! accounts mapped to sorsync users for the command line. Written once for both databases.

use crate::domain::KommuneKode;

use super::review_sql::{RoleRow, INSERT_GRANT};
use super::{code, now, Pool, Store, StoreError};

const ENSURE_USER: &str = "INSERT INTO web_users (user_name, password_hash, created_at) VALUES ($1, $2, $3) \
     ON CONFLICT (user_name) DO NOTHING";
const GRANTS_OF: &str = "SELECT kommunekode, role FROM role_grants WHERE user_name = $1";
const DELETE_GRANT: &str = "DELETE FROM role_grants WHERE user_name = $1 AND kommunekode = $2 AND role = $3";
const DELETE_SESSIONS: &str = "DELETE FROM web_sessions WHERE user_name = $1";
const MAP_OS_USER: &str = "INSERT INTO os_users (os_user, user_name, mapped_by, mapped_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (os_user, user_name) DO NOTHING";
const OS_USER: &str = "SELECT user_name FROM os_users WHERE os_user = $1 ORDER BY user_name";
const UNMAP_OS_USER: &str = "DELETE FROM os_users WHERE os_user = $1 AND user_name = $2";

/// What an account that signs in elsewhere keeps as its password hash: no password verifies it.
pub const NO_PASSWORD: &str = "!external";

/// A change of one role grant, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GrantChange {
    Grant,
    Revoke,
}

macro_rules! identity_backend {
    ($module:ident, $db:ty) => {
        pub(crate) mod $module {
            use super::{GrantChange, RoleRow};
            use crate::apply_sql::InsertAudit;

            type Db = $db;
            type Pool = sqlx::Pool<Db>;

            async fn change<'c>(
                tx: &mut sqlx::Transaction<'c, Db>,
                user_name: &str,
                kommunekode: i64,
                role: &str,
                by: &str,
                at: &str,
                what: GrantChange,
            ) -> Result<bool, sqlx::Error> {
                let sql = match what {
                    GrantChange::Grant => super::INSERT_GRANT,
                    GrantChange::Revoke => super::DELETE_GRANT,
                };
                let mut q = sqlx::query(sql).bind(user_name).bind(kommunekode).bind(role);
                if what == GrantChange::Grant {
                    q = q.bind(by).bind(at);
                }
                let changed = q.execute(&mut **tx).await?.rows_affected() > 0;
                if changed {
                    let action = match what {
                        GrantChange::Grant => "grant_role",
                        GrantChange::Revoke => "revoke_role",
                    };
                    let detail = serde_json::json!({ "user": user_name, "role": role }).to_string();
                    let audit = InsertAudit {
                        kommunekode,
                        at,
                        actor: by,
                        automatic: false,
                        action,
                        proposal_id: None,
                        key: None,
                        before_json: None,
                        after_json: None,
                        detail: Some(&detail),
                    };
                    crate::apply_sql::$module::insert_audit(&mut **tx, &audit).await?;
                }
                Ok(changed)
            }

            pub(crate) async fn ensure_user(pool: &Pool, user_name: &str, at: &str) -> Result<(), sqlx::Error> {
                sqlx::query(super::ENSURE_USER).bind(user_name).bind(super::NO_PASSWORD).bind(at).execute(pool).await?;
                Ok(())
            }

            pub(crate) async fn grant(
                pool: &Pool,
                user_name: &str,
                kommunekode: i64,
                role: &str,
                by: &str,
                at: &str,
                what: GrantChange,
            ) -> Result<bool, sqlx::Error> {
                let mut tx = pool.begin().await?;
                let changed = change(&mut tx, user_name, kommunekode, role, by, at, what).await?;
                tx.commit().await?;
                Ok(changed)
            }

            pub(crate) async fn replace_grants(
                pool: &Pool,
                user_name: &str,
                wanted: &[RoleRow],
                by: &str,
                at: &str,
            ) -> Result<(), sqlx::Error> {
                let mut tx = pool.begin().await?;
                let held: Vec<RoleRow> = sqlx::query_as(super::GRANTS_OF).bind(user_name).fetch_all(&mut *tx).await?;
                for r in held.iter().filter(|h| !wanted.contains(h)) {
                    change(&mut tx, user_name, r.kommunekode, &r.role, by, at, GrantChange::Revoke).await?;
                }
                for r in wanted.iter().filter(|w| !held.contains(w)) {
                    change(&mut tx, user_name, r.kommunekode, &r.role, by, at, GrantChange::Grant).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            pub(crate) async fn delete_sessions(pool: &Pool, user_name: &str) -> Result<u64, sqlx::Error> {
                Ok(sqlx::query(super::DELETE_SESSIONS).bind(user_name).execute(pool).await?.rows_affected())
            }

            pub(crate) async fn map_os_user(
                pool: &Pool,
                os_user: &str,
                user_name: &str,
                by: &str,
                at: &str,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(super::MAP_OS_USER).bind(os_user).bind(user_name).bind(by).bind(at).execute(pool).await?;
                Ok(())
            }

            pub(crate) async fn os_user(pool: &Pool, os_user: &str) -> Result<Vec<String>, sqlx::Error> {
                sqlx::query_scalar(super::OS_USER).bind(os_user).fetch_all(pool).await
            }

            pub(crate) async fn unmap_os_user(pool: &Pool, os_user: &str, user_name: &str) -> Result<bool, sqlx::Error> {
                Ok(sqlx::query(super::UNMAP_OS_USER).bind(os_user).bind(user_name).execute(pool).await?.rows_affected()
                    > 0)
            }
        }
    };
}

identity_backend!(sqlite, sqlx::Sqlite);
identity_backend!(postgres, sqlx::Postgres);

impl Store {
    /// Makes sure an account that signs in elsewhere (SAML) exists, without a usable password.
    pub async fn ensure_external_user(&self, user_name: &str) -> Result<(), StoreError> {
        Ok(on_db!(self, ensure_user(user_name, &now()))?)
    }

    /// Gives `user_name` `role` for `kommune` and writes a `grant_role` audit entry, in one
    /// transaction. True when the grant is new. Does NOT check who grants: call
    /// `sorsync_app::review::grant`.
    pub async fn record_grant_audited(
        &self,
        user_name: &str,
        kommune: KommuneKode,
        role: &str,
        granted_by: &str,
    ) -> Result<bool, StoreError> {
        Ok(on_db!(self, grant(user_name, code(kommune), role, granted_by, &now(), GrantChange::Grant))?)
    }

    /// Takes `role` for `kommune` from `user_name` and writes a `revoke_role` audit entry. True
    /// when the grant existed. Does NOT check who revokes: call `sorsync_app::review::revoke`.
    pub async fn revoke_grant(
        &self,
        user_name: &str,
        kommune: KommuneKode,
        role: &str,
        revoked_by: &str,
    ) -> Result<bool, StoreError> {
        Ok(on_db!(self, grant(user_name, code(kommune), role, revoked_by, &now(), GrantChange::Revoke))?)
    }

    /// Makes `user_name`'s grants exactly `grants` (a sign-in's roles), auditing each grant and
    /// revocation as done by `by`, in one transaction.
    pub async fn replace_grants(
        &self,
        user_name: &str,
        grants: &[(KommuneKode, &str)],
        by: &str,
    ) -> Result<(), StoreError> {
        let wanted: Vec<RoleRow> =
            grants.iter().map(|(k, r)| RoleRow { kommunekode: code(*k), role: r.to_string() }).collect();
        Ok(on_db!(self, replace_grants(user_name, &wanted, by, &now()))?)
    }

    /// Ends every session of `user_name`. Returns how many there were.
    pub async fn delete_sessions_of(&self, user_name: &str) -> Result<u64, StoreError> {
        Ok(on_db!(self, delete_sessions(user_name))?)
    }

    /// Lets an operating-system account act as a sorsync user on the command line.
    pub async fn map_os_user(&self, os_user: &str, user_name: &str, mapped_by: &str) -> Result<(), StoreError> {
        Ok(on_db!(self, map_os_user(os_user, user_name, mapped_by, &now()))?)
    }

    /// The sorsync users an operating-system account may act as.
    pub async fn os_user_mapping(&self, os_user: &str) -> Result<Vec<String>, StoreError> {
        Ok(on_db!(self, os_user(os_user))?)
    }

    /// Removes one mapping of an operating-system account. True when there was one.
    pub async fn unmap_os_user(&self, os_user: &str, user_name: &str) -> Result<bool, StoreError> {
        Ok(on_db!(self, unmap_os_user(os_user, user_name))?)
    }
}
