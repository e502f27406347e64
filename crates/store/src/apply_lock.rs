//! One apply at a time per municipality. PostgreSQL: a session advisory lock
//! (`pg_try_advisory_lock`) held on a connection of its own for the whole apply; the server lets
//! go when that connection ends, so a killed process never keeps it. SQLite: a lease row in
//! `apply_locks`, taken in a `BEGIN IMMEDIATE` transaction when absent, expired, or held by a
//! process on this machine that no longer runs (so a killed apply can be re-run at once).

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use sqlx::pool::PoolConnection;
use sqlx::Postgres;

use crate::domain::KommuneKode;

use super::{code, Pool, Store, StoreError};

/// The advisory-lock key for applies of one municipality.
fn apply_lock_key(kommune: KommuneKode) -> i64 {
    // "SORA" in the high bits: apart from imports ("SORS"), review ("SORR") and waves ("SORW").
    const NAMESPACE: i64 = 0x534F_5241 << 32;
    NAMESPACE | code(kommune)
}

/// A held apply lock. Give it back with [`Store::unlock_apply`]; dropped without that, the
/// PostgreSQL connection is closed (which ends the lock) and the SQLite lease runs out.
#[derive(Debug)]
pub struct ApplyLock {
    kommune: KommuneKode,
    holder: String,
    pg: Option<(PoolConnection<Postgres>, i64)>,
}

impl ApplyLock {
    pub fn kommune(&self) -> KommuneKode {
        self.kommune
    }
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        if let Some((conn, _)) = self.pg.take() {
            // Never hand a connection that may still hold the lock back to the pool.
            drop(conn.detach());
        }
    }
}

fn at(offset: Duration) -> String {
    let offset = chrono::Duration::from_std(offset).unwrap_or(chrono::Duration::minutes(10));
    (Utc::now() + offset).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty() && !h.contains(' '))
        .unwrap_or_else(|| "unknown-host".to_string())
}

/// True when `holder` ("HOST PID TOKEN") is a process on this machine that no longer runs. Only
/// decidable where /proc exists; elsewhere the lease has to run out.
fn holder_is_gone(holder: &str) -> bool {
    let mut parts = holder.split(' ');
    let (Some(h), Some(pid)) = (parts.next(), parts.next()) else { return false };
    if h != host() || !std::path::Path::new("/proc/self").exists() {
        return false;
    }
    pid.parse::<u32>().is_ok_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

const TAKE: &str = "INSERT INTO apply_locks (kommunekode, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (kommunekode) DO NOTHING";
const HOLDER: &str = "SELECT holder, expires_at FROM apply_locks WHERE kommunekode = $1";
const FREE: &str = "DELETE FROM apply_locks WHERE kommunekode = $1 AND holder = $2";
const RENEW: &str = "UPDATE apply_locks SET expires_at = $3 WHERE kommunekode = $1 AND holder = $2";

/// Who holds a SQLite apply lock, and until when.
#[derive(Debug, sqlx::FromRow)]
struct Holder {
    holder: String,
    expires_at: String,
}

impl Store {
    /// Takes the apply lock of `kommune`, or returns who holds it (Err with a description).
    /// On SQLite the lease lasts `lease` unless renewed with [`Store::renew_apply_lock`].
    pub async fn try_lock_apply(
        &self,
        kommune: KommuneKode,
        lease: Duration,
    ) -> Result<Result<ApplyLock, String>, StoreError> {
        let holder = format!("{} {} {}", host(), std::process::id(), uuid::Uuid::new_v4().simple());
        let kommunekode = code(kommune);
        match &self.pool {
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let key = apply_lock_key(kommune);
                let locked: bool =
                    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(&mut *conn).await?;
                if !locked {
                    return Ok(Err("another apply holds its lock".to_string()));
                }
                Ok(Ok(ApplyLock { kommune, holder, pg: Some((conn, key)) }))
            }
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let now = at(Duration::ZERO);
                let current: Option<Holder> = sqlx::query_as(HOLDER).bind(kommunekode).fetch_optional(&mut *tx).await?;
                if let Some(Holder { holder: other, expires_at }) = current {
                    if expires_at > now && !holder_is_gone(&other) {
                        tx.rollback().await?;
                        return Ok(Err(format!("held by process {other} until {expires_at}")));
                    }
                    sqlx::query(FREE).bind(kommunekode).bind(&other).execute(&mut *tx).await?;
                }
                let taken = sqlx::query(TAKE)
                    .bind(kommunekode)
                    .bind(&holder)
                    .bind(&now)
                    .bind(at(lease))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                if taken.rows_affected() != 1 {
                    return Ok(Err("another apply took it at the same moment".to_string()));
                }
                Ok(Ok(ApplyLock { kommune, holder, pg: None }))
            }
        }
    }

    /// Extends a SQLite lease by `lease` from now (PostgreSQL: nothing to do).
    pub async fn renew_apply_lock(&self, lock: &ApplyLock, lease: Duration) -> Result<(), StoreError> {
        if let Pool::Sqlite(pool) = &self.pool {
            sqlx::query(RENEW).bind(code(lock.kommune)).bind(&lock.holder).bind(at(lease)).execute(pool).await?;
        }
        Ok(())
    }

    /// Lets go of the lock.
    pub async fn unlock_apply(&self, mut lock: ApplyLock) -> Result<(), StoreError> {
        match (&self.pool, lock.pg.take()) {
            (_, Some((mut conn, key))) => {
                let unlocked: Result<bool, sqlx::Error> =
                    sqlx::query_scalar("SELECT pg_advisory_unlock($1)").bind(key).fetch_one(&mut *conn).await;
                if !matches!(unlocked, Ok(true)) {
                    drop(conn.detach());
                }
                unlocked?;
                Ok(())
            }
            (Pool::Sqlite(pool), None) => {
                sqlx::query(FREE).bind(code(lock.kommune)).bind(&lock.holder).execute(pool).await?;
                Ok(())
            }
            (Pool::Postgres(_), None) => Ok(()),
        }
    }
}
