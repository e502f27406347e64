//! The store's side of waves: the stored wave plan, wave runs and their per-municipality items,
//! and the job queue that workers share. Storage only; what a run does lives in [`crate::waves`].
//!
//! Taking a job: on PostgreSQL a worker picks the next queued (or running) job with
//! `SELECT ... FOR UPDATE SKIP LOCKED` and then takes a session-level advisory lock for the job's
//! municipality on a connection of its own, held until the job is finished; a running job whose
//! lock is free belongs to a worker that died and is taken again. On SQLite the database's write
//! lock serialises takers, and a running job whose lease ran out is taken again.

use chrono::{Duration as ChronoDuration, SecondsFormat, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{Acquire as _, Postgres};

use crate::domain::KommuneKode;

use super::waves_sql::{self, ItemRow, JobRow, MunicipalityRow};
use super::{code, kommune_from};
use super::{now, Pool, Store, StoreError};

/// The stored wave plan (read as the `wave_plan` table's row).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredWavePlan {
    /// The checked plan as JSON (`sorsync_app::waves::plan::WavePlan`).
    pub plan_json: String,
    pub content_hash: String,
    pub source: String,
    pub stored_at: String,
}

/// A planned municipality as `wave_municipalities` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveMunicipality {
    pub kommune: KommuneKode,
    pub wave_name: String,
    pub name: String,
    pub cvr: String,
    pub status: &'static str,
}

/// What one run did (or is doing) for one municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveRunItem {
    pub run_id: i64,
    pub wave_name: String,
    pub dry_run: bool,
    pub kommune: KommuneKode,
    pub started_at: String,
    /// None: the run was interrupted (or is still at work) here.
    pub finished_at: Option<String>,
    /// `ok`, `needs_attention`, `failed` or `skipped`.
    pub outcome: Option<String>,
    /// JSON (`sorsync_app::waves::runner::Metrics`).
    pub metrics: Option<String>,
    pub error: Option<String>,
}

/// Where a queued job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<JobState> {
        [JobState::Queued, JobState::Running, JobState::Done, JobState::Failed].into_iter().find(|x| x.as_str() == s)
    }
}

decoded_from_code!(JobState, JobState::parse, "job state");

/// One queued municipality job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveJob {
    pub id: i64,
    pub run_id: i64,
    pub kommune: KommuneKode,
    pub state: JobState,
    /// How often a worker took it (more than 1: a worker died on it before).
    pub attempts: i64,
    pub worker: Option<String>,
    pub lease_until: Option<String>,
    pub enqueued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    pub error: Option<String>,
    /// JSON: how to run it.
    pub options: String,
}

/// A job a worker has taken. On PostgreSQL it holds the connection with the municipality's
/// advisory lock; pass it to [`Store::finish_job`] when done. Dropping it without finishing
/// leaves the job running until the lock (PostgreSQL) or the lease (SQLite) tells it is orphaned.
#[derive(Debug)]
pub struct JobClaim {
    pub job: WaveJob,
    worker: String,
    lock: Option<(PoolConnection<Postgres>, i64)>,
}

fn item(row: ItemRow) -> Result<WaveRunItem, StoreError> {
    Ok(WaveRunItem {
        run_id: row.run_id,
        wave_name: row.wave_name,
        dry_run: row.dry_run,
        kommune: kommune_from(row.kommunekode)?,
        started_at: row.started_at,
        finished_at: row.finished_at,
        outcome: row.outcome,
        metrics: row.metrics,
        error: row.error,
    })
}

fn job(row: JobRow) -> Result<WaveJob, StoreError> {
    Ok(WaveJob {
        id: row.id,
        run_id: row.run_id,
        kommune: kommune_from(row.kommunekode)?,
        state: row.state,
        attempts: row.attempts,
        worker: row.worker,
        lease_until: row.lease_until,
        enqueued_at: row.enqueued_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        outcome: row.outcome,
        error: row.error,
        options: row.options,
    })
}

impl Store {
    /// Stores the checked plan (JSON) and its municipalities, replacing the one stored before.
    /// False (nothing written) when the stored plan has the same `content_hash`.
    pub async fn store_wave_plan(
        &self,
        source: &str,
        plan_json: &str,
        content_hash: &str,
        municipalities: &[WaveMunicipality],
    ) -> Result<bool, StoreError> {
        let rows: Vec<MunicipalityRow<'_>> = municipalities
            .iter()
            .enumerate()
            .map(|(i, m)| MunicipalityRow {
                kommunekode: code(m.kommune),
                wave_name: &m.wave_name,
                position: i64::try_from(i).unwrap_or(i64::MAX),
                name: &m.name,
                cvr: m.cvr.clone(),
                status: m.status,
            })
            .collect();
        Ok(on_db!(self, waves_sql::store_plan(content_hash, plan_json, source, &now(), &rows))?)
    }

    /// The stored wave plan, if one was loaded.
    pub async fn wave_plan(&self) -> Result<Option<StoredWavePlan>, StoreError> {
        Ok(on_db!(self, waves_sql::plan())?)
    }

    /// The latest unfinished run of `wave` with the same `dry_run` (to resume it), else a new one.
    /// Returns (run id, resumed).
    pub async fn open_wave_run(&self, wave: &str, dry_run: bool) -> Result<(i64, bool), StoreError> {
        if let Some(id) = on_db!(self, waves_sql::open_run(wave, dry_run))? {
            return Ok((id, true));
        }
        Ok((self.new_wave_run(wave, dry_run).await?, false))
    }

    /// A new run of `wave`.
    pub async fn new_wave_run(&self, wave: &str, dry_run: bool) -> Result<i64, StoreError> {
        Ok(on_db!(self, waves_sql::insert_run(wave, dry_run, &now()))?)
    }

    /// Marks a run finished with its overall outcome.
    pub async fn finish_wave_run(&self, run_id: i64, outcome: &str) -> Result<(), StoreError> {
        Ok(on_db!(self, waves_sql::finish_run(run_id, &now(), outcome))?)
    }

    /// Records that `run_id` started work on `kommune` (again: an earlier unfinished start is reset).
    pub async fn start_wave_item(&self, run_id: i64, kommune: KommuneKode) -> Result<(), StoreError> {
        Ok(on_db!(self, waves_sql::start_item(run_id, code(kommune), &now()))?)
    }

    /// Records how `run_id` ended for `kommune`.
    pub async fn finish_wave_item(
        &self,
        run_id: i64,
        kommune: KommuneKode,
        outcome: &str,
        metrics: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        Ok(on_db!(self, waves_sql::finish_item(run_id, code(kommune), &now(), outcome, metrics, error))?)
    }

    /// The items of one run, by kommunekode.
    pub async fn wave_run_items(&self, run_id: i64) -> Result<Vec<WaveRunItem>, StoreError> {
        on_db!(self, waves_sql::items_of_run(run_id))?.into_iter().map(item).collect()
    }

    /// Every run item of `kommune`, oldest run first (dry runs included: see `dry_run`).
    pub async fn wave_items_of(&self, kommune: KommuneKode) -> Result<Vec<WaveRunItem>, StoreError> {
        on_db!(self, waves_sql::items_of_kommune(code(kommune)))?.into_iter().map(item).collect()
    }

    /// Queues one job per municipality for `run_id`; `options` (JSON) says how to run them.
    pub async fn enqueue_wave_jobs(
        &self,
        run_id: i64,
        kommuner: &[KommuneKode],
        options: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let codes: Vec<i64> = kommuner.iter().map(|k| code(*k)).collect();
        Ok(on_db!(self, waves_sql::insert_jobs(run_id, &codes, &now(), options))?)
    }

    /// The jobs of a run, in queue order.
    pub async fn wave_jobs(&self, run_id: i64) -> Result<Vec<WaveJob>, StoreError> {
        on_db!(self, waves_sql::jobs_of_run(run_id))?.into_iter().map(job).collect()
    }

    /// Takes the next job no live worker is working on, as `worker`, or None when there is none.
    /// `lease` is how long a SQLite worker counts as alive without finishing.
    pub async fn claim_job(&self, worker: &str, lease: std::time::Duration) -> Result<Option<JobClaim>, StoreError> {
        let started = now();
        let lease_until = (Utc::now() + ChronoDuration::from_std(lease).unwrap_or(ChronoDuration::minutes(30)))
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let taken: Option<JobRow> = sqlx::query_as(&waves_sql::next_job_sql(false))
                    .bind(0_i64)
                    .bind(&started)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(taken) = taken else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                sqlx::query(waves_sql::TAKE_JOB)
                    .bind(worker)
                    .bind(&started)
                    .bind(&lease_until)
                    .bind(taken.id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                let job = self.job_by_id(taken.id).await?;
                Ok(Some(JobClaim { job, worker: worker.to_string(), lock: None }))
            }
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let mut after = 0_i64;
                loop {
                    let mut tx = conn.begin().await?;
                    let candidate: Option<JobRow> =
                        sqlx::query_as(&waves_sql::next_job_sql(true)).bind(after).fetch_optional(&mut *tx).await?;
                    let Some(candidate) = candidate else {
                        tx.rollback().await?;
                        return Ok(None);
                    };
                    let key = waves_sql::municipality_lock_key(candidate.kommunekode);
                    let locked: bool =
                        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(&mut *tx).await?;
                    if !locked {
                        // A live worker is at work on this municipality: leave the job to it / for later.
                        tx.rollback().await?;
                        after = candidate.id;
                        continue;
                    }
                    sqlx::query(waves_sql::TAKE_JOB)
                        .bind(worker)
                        .bind(&started)
                        .bind(&lease_until)
                        .bind(candidate.id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    let job = self.job_by_id(candidate.id).await?;
                    return Ok(Some(JobClaim { job, worker: worker.to_string(), lock: Some((conn, key)) }));
                }
            }
        }
    }

    /// Finishes a taken job (state done or failed) and lets go of its municipality lock.
    pub async fn finish_job(
        &self,
        claim: JobClaim,
        state: JobState,
        outcome: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let JobClaim { job, worker, lock } = claim;
        let finished = now();
        match lock {
            None => {
                if let Pool::Sqlite(pool) = &self.pool {
                    sqlx::query(waves_sql::FINISH_JOB)
                        .bind(state.as_str())
                        .bind(&finished)
                        .bind(outcome)
                        .bind(error)
                        .bind(job.id)
                        .bind(&worker)
                        .execute(pool)
                        .await?;
                }
                Ok(())
            }
            Some((mut conn, key)) => {
                let result = sqlx::query(waves_sql::FINISH_JOB)
                    .bind(state.as_str())
                    .bind(&finished)
                    .bind(outcome)
                    .bind(error)
                    .bind(job.id)
                    .bind(&worker)
                    .execute(&mut *conn)
                    .await;
                let unlocked: Result<bool, sqlx::Error> =
                    sqlx::query_scalar("SELECT pg_advisory_unlock($1)").bind(key).fetch_one(&mut *conn).await;
                if !matches!(unlocked, Ok(true)) {
                    // Never hand a connection that may still hold the lock back to the pool.
                    drop(conn.detach());
                }
                result?;
                Ok(())
            }
        }
    }

    async fn job_by_id(&self, id: i64) -> Result<WaveJob, StoreError> {
        job(on_db!(self, waves_sql::job(id))?)
    }
}
