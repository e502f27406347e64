//! The SQL of waves: the stored plan, runs, run items and the job queue. Written once;
//! [`waves_backend!`] compiles it per database, like [`super::sql`]. Taking a job differs per
//! database and lives in [`super::waves`]. Rows are read by column name into the row structs below.

use crate::waves::JobState;

pub(crate) const PLAN_HASH: &str = "SELECT content_hash FROM wave_plan WHERE id = 1";
pub(crate) const PLAN: &str = "SELECT plan_json, content_hash, source, stored_at FROM wave_plan WHERE id = 1";
const DELETE_PLAN: &str = "DELETE FROM wave_plan";
const DELETE_MUNICIPALITIES: &str = "DELETE FROM wave_municipalities";
const INSERT_PLAN: &str =
    "INSERT INTO wave_plan (id, content_hash, plan_json, source, stored_at) VALUES (1, $1, $2, $3, $4)";
const INSERT_MUNICIPALITY: &str =
    "INSERT INTO wave_municipalities (kommunekode, wave_name, position, name, cvr, status) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const OPEN_RUN: &str = "SELECT id FROM wave_runs WHERE wave_name = $1 AND dry_run = $2 AND finished_at IS NULL \
     ORDER BY id DESC LIMIT 1";
const INSERT_RUN: &str = "INSERT INTO wave_runs (wave_name, dry_run, started_at) VALUES ($1, $2, $3) RETURNING id";
const FINISH_RUN: &str = "UPDATE wave_runs SET finished_at = $1, outcome = $2 WHERE id = $3";
const ITEM_COLUMNS: &str = "SELECT i.run_id AS run_id, r.wave_name AS wave_name, r.dry_run AS dry_run, \
     i.kommunekode AS kommunekode, i.started_at AS started_at, i.finished_at AS finished_at, i.outcome AS outcome, \
     i.metrics AS metrics, i.error AS error FROM wave_run_items i JOIN wave_runs r ON r.id = i.run_id";
const START_ITEM: &str = "INSERT INTO wave_run_items (run_id, kommunekode, started_at) VALUES ($1, $2, $3) \
     ON CONFLICT (run_id, kommunekode) DO UPDATE SET started_at = excluded.started_at, finished_at = NULL, \
     outcome = NULL, metrics = NULL, error = NULL";
const FINISH_ITEM: &str = "UPDATE wave_run_items SET finished_at = $1, outcome = $2, metrics = $3, error = $4 \
     WHERE run_id = $5 AND kommunekode = $6";
const INSERT_JOB: &str = "INSERT INTO wave_jobs (run_id, kommunekode, state, attempts, enqueued_at, options) \
     VALUES ($1, $2, 'queued', 0, $3, $4) RETURNING id";
pub(crate) const JOB_COLUMNS: &str =
    "SELECT id, run_id, kommunekode, state, attempts, worker, lease_until, enqueued_at, \
     started_at, finished_at, outcome, error, options FROM wave_jobs";
pub(crate) const TAKE_JOB: &str = "UPDATE wave_jobs SET state = 'running', worker = $1, attempts = attempts + 1, \
     started_at = $2, lease_until = $3, finished_at = NULL, outcome = NULL, error = NULL WHERE id = $4";
pub(crate) const FINISH_JOB: &str =
    "UPDATE wave_jobs SET state = $1, finished_at = $2, outcome = $3, error = $4, lease_until = NULL \
     WHERE id = $5 AND worker = $6 AND state = 'running'";

pub(crate) fn items_of_run_sql() -> String {
    format!("{ITEM_COLUMNS} WHERE i.run_id = $1 ORDER BY i.kommunekode")
}

pub(crate) fn items_of_kommune_sql() -> String {
    format!("{ITEM_COLUMNS} WHERE i.kommunekode = $1 ORDER BY i.run_id")
}

pub(crate) fn jobs_of_run_sql() -> String {
    format!("{JOB_COLUMNS} WHERE run_id = $1 ORDER BY id")
}

fn job_by_id_sql() -> String {
    format!("{JOB_COLUMNS} WHERE id = $1")
}

/// A job that may be taken, after `id` $1: queued, or running (SQLite: only with a lease that ran
/// out, $2 = now; PostgreSQL: the advisory lock decides).
pub(crate) fn next_job_sql(postgres: bool) -> String {
    if postgres {
        format!(
            "{JOB_COLUMNS} WHERE id > $1 AND state IN ('queued', 'running') ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        )
    } else {
        format!(
            "{JOB_COLUMNS} WHERE id > $1 AND (state = 'queued' OR (state = 'running' AND lease_until <= $2)) \
             ORDER BY id LIMIT 1"
        )
    }
}

/// The advisory-lock key for working on one municipality.
pub(crate) fn municipality_lock_key(kommunekode: i64) -> i64 {
    // "SORW" in the high bits: apart from imports ("SORS"), review ("SORR") and other users.
    const NAMESPACE: i64 = 0x534F_5257 << 32;
    NAMESPACE | kommunekode
}

/// A planned municipality as stored for queries.
#[derive(Debug, Clone)]
pub(crate) struct MunicipalityRow<'a> {
    pub kommunekode: i64,
    pub wave_name: &'a str,
    pub position: i64,
    pub name: &'a str,
    pub cvr: String,
    pub status: &'static str,
}

/// A run item as the database holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ItemRow {
    pub run_id: i64,
    pub wave_name: String,
    pub dry_run: bool,
    pub kommunekode: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    pub metrics: Option<String>,
    pub error: Option<String>,
}

/// A job as the database holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct JobRow {
    pub id: i64,
    pub run_id: i64,
    pub kommunekode: i64,
    pub state: JobState,
    pub attempts: i64,
    pub worker: Option<String>,
    pub lease_until: Option<String>,
    pub enqueued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    pub error: Option<String>,
    pub options: String,
}

macro_rules! waves_backend {
    ($module:ident, $db:ty, begin = $begin:expr) => {
        pub(crate) mod $module {
            use super::{ItemRow, JobRow, MunicipalityRow};
            use crate::StoredWavePlan;

            type Db = $db;
            type Pool = sqlx::Pool<Db>;

            /// Replaces the stored plan unless it has the same hash. True when it changed.
            pub(crate) async fn store_plan(
                pool: &Pool,
                content_hash: &str,
                plan_json: &str,
                source: &str,
                stored_at: &str,
                rows: &[MunicipalityRow<'_>],
            ) -> Result<bool, sqlx::Error> {
                let mut tx = pool.begin_with($begin).await?;
                let old: Option<String> = sqlx::query_scalar(super::PLAN_HASH).fetch_optional(&mut *tx).await?;
                if old.is_some_and(|h| h == content_hash) {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query(super::DELETE_PLAN).execute(&mut *tx).await?;
                sqlx::query(super::DELETE_MUNICIPALITIES).execute(&mut *tx).await?;
                sqlx::query(super::INSERT_PLAN)
                    .bind(content_hash)
                    .bind(plan_json)
                    .bind(source)
                    .bind(stored_at)
                    .execute(&mut *tx)
                    .await?;
                for r in rows {
                    sqlx::query(super::INSERT_MUNICIPALITY)
                        .bind(r.kommunekode)
                        .bind(r.wave_name)
                        .bind(r.position)
                        .bind(r.name)
                        .bind(&r.cvr)
                        .bind(r.status)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            pub(crate) async fn plan(pool: &Pool) -> Result<Option<StoredWavePlan>, sqlx::Error> {
                sqlx::query_as(super::PLAN).fetch_optional(pool).await
            }

            pub(crate) async fn open_run(pool: &Pool, wave: &str, dry_run: bool) -> Result<Option<i64>, sqlx::Error> {
                sqlx::query_scalar(super::OPEN_RUN).bind(wave).bind(dry_run).fetch_optional(pool).await
            }

            pub(crate) async fn insert_run(
                pool: &Pool,
                wave: &str,
                dry_run: bool,
                started_at: &str,
            ) -> Result<i64, sqlx::Error> {
                sqlx::query_scalar(super::INSERT_RUN).bind(wave).bind(dry_run).bind(started_at).fetch_one(pool).await
            }

            pub(crate) async fn finish_run(
                pool: &Pool,
                run_id: i64,
                finished_at: &str,
                outcome: &str,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(super::FINISH_RUN).bind(finished_at).bind(outcome).bind(run_id).execute(pool).await?;
                Ok(())
            }

            pub(crate) async fn start_item(
                pool: &Pool,
                run_id: i64,
                kommunekode: i64,
                started_at: &str,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(super::START_ITEM).bind(run_id).bind(kommunekode).bind(started_at).execute(pool).await?;
                Ok(())
            }

            #[allow(clippy::too_many_arguments)]
            pub(crate) async fn finish_item(
                pool: &Pool,
                run_id: i64,
                kommunekode: i64,
                finished_at: &str,
                outcome: &str,
                metrics: Option<&str>,
                error: Option<&str>,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(super::FINISH_ITEM)
                    .bind(finished_at)
                    .bind(outcome)
                    .bind(metrics)
                    .bind(error)
                    .bind(run_id)
                    .bind(kommunekode)
                    .execute(pool)
                    .await?;
                Ok(())
            }

            pub(crate) async fn items_of_run(pool: &Pool, run_id: i64) -> Result<Vec<ItemRow>, sqlx::Error> {
                sqlx::query_as(&super::items_of_run_sql()).bind(run_id).fetch_all(pool).await
            }

            pub(crate) async fn items_of_kommune(pool: &Pool, kommunekode: i64) -> Result<Vec<ItemRow>, sqlx::Error> {
                sqlx::query_as(&super::items_of_kommune_sql()).bind(kommunekode).fetch_all(pool).await
            }

            pub(crate) async fn insert_jobs(
                pool: &Pool,
                run_id: i64,
                kommunekoder: &[i64],
                enqueued_at: &str,
                options: &str,
            ) -> Result<Vec<i64>, sqlx::Error> {
                let mut tx = pool.begin().await?;
                let mut ids = Vec::with_capacity(kommunekoder.len());
                for k in kommunekoder {
                    let id: i64 = sqlx::query_scalar(super::INSERT_JOB)
                        .bind(run_id)
                        .bind(*k)
                        .bind(enqueued_at)
                        .bind(options)
                        .fetch_one(&mut *tx)
                        .await?;
                    ids.push(id);
                }
                tx.commit().await?;
                Ok(ids)
            }

            pub(crate) async fn jobs_of_run(pool: &Pool, run_id: i64) -> Result<Vec<JobRow>, sqlx::Error> {
                sqlx::query_as(&super::jobs_of_run_sql()).bind(run_id).fetch_all(pool).await
            }

            pub(crate) async fn job(pool: &Pool, id: i64) -> Result<JobRow, sqlx::Error> {
                sqlx::query_as(&super::job_by_id_sql()).bind(id).fetch_one(pool).await
            }
        }
    };
}

waves_backend!(sqlite, sqlx::Sqlite, begin = "BEGIN IMMEDIATE");
waves_backend!(postgres, sqlx::Postgres, begin = "BEGIN");
