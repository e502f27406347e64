//! Workers: take queued municipality jobs from the store one at a time and run them
//! ([`super::runner::run_municipality`]). Several workers may share a PostgreSQL store: the store
//! hands each job to one worker, and a municipality's advisory lock is held while it is worked on,
//! so two workers never work on the same municipality at once ([`Store::claim_job`]).

use std::sync::Arc;
use std::time::Duration;

use crate::config::FkOrgConfig;
use crate::domain::KommuneKode;
use crate::store::{JobState, Store, WaveJob};

use super::runner::{
    run_municipality, stored_plan, verdict_of, Outcome, RunOptions, RunProgress, RunVerdict, Runner, WaveError,
};
use super::steps::ApplySteps;

/// How a worker works.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Recorded with the jobs it takes.
    pub name: String,
    /// SQLite: how long a taken job counts as being worked on before another worker may take it.
    pub lease: Duration,
    /// Stop when the queue is empty (else wait `poll` and look again).
    pub once: bool,
    pub poll: Duration,
}

/// Told when a job starts and ends (tests watch with it; the CLI logs).
pub trait JobObserver: Send + Sync {
    fn started(&self, _job: &WaveJob) {}
    fn finished(&self, _job: &WaveJob, _outcome: Outcome) {}
}

/// Observes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl JobObserver for NoObserver {}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerSummary {
    /// (job id, municipality, outcome), in the order worked.
    pub jobs: Vec<(i64, KommuneKode, Outcome)>,
}

impl WorkerSummary {
    pub fn verdict(&self) -> RunVerdict {
        verdict_of(self.jobs.iter().map(|(_, _, o)| *o))
    }
}

/// What a worker needs besides the store.
#[derive(Clone)]
pub struct WorkerDeps {
    pub fkorg: FkOrgConfig,
    pub steps: Arc<dyn ApplySteps>,
    pub progress: Arc<dyn RunProgress>,
    pub observer: Arc<dyn JobObserver>,
}

impl std::fmt::Debug for WorkerDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerDeps").field("fkorg", &self.fkorg).finish_non_exhaustive()
    }
}

/// Works the queue: takes a job, runs its municipality, records the end, and again.
pub async fn work_queue(store: &Store, deps: &WorkerDeps, opts: &WorkerOptions) -> Result<WorkerSummary, WaveError> {
    let mut summary = WorkerSummary::default();
    loop {
        let Some(claim) = store.claim_job(&opts.name, opts.lease).await? else {
            if opts.once {
                return Ok(summary);
            }
            tokio::time::sleep(opts.poll).await;
            continue;
        };
        let job = claim.job.clone();
        deps.observer.started(&job);
        tracing::info!(job = job.id, kommune = %job.kommune, attempt = job.attempts, worker = %opts.name, "Job taken.");
        let (outcome, error) = match run_job(store, deps, &job).await {
            Ok(r) => (r.outcome, r.error),
            Err(e) => (Outcome::Failed, Some(e.to_string())),
        };
        deps.observer.finished(&job, outcome);
        let state = if outcome == Outcome::Failed { JobState::Failed } else { JobState::Done };
        store.finish_job(claim, state, outcome.as_str(), error.as_deref()).await?;
        summary.jobs.push((job.id, job.kommune, outcome));
        finish_run_when_complete(store, job.run_id).await?;
    }
}

async fn run_job(
    store: &Store,
    deps: &WorkerDeps,
    job: &WaveJob,
) -> Result<super::runner::MunicipalityResult, WaveError> {
    let opts: RunOptions =
        serde_json::from_str(&job.options).map_err(|e| WaveError::BadStoredPlan(format!("job {}: {e}", job.id)))?;
    let plan = stored_plan(store).await?;
    let (_, m) = plan.municipality(job.kommune).ok_or_else(|| {
        WaveError::BadStoredPlan(format!("municipality {} is no longer in the wave plan", job.kommune))
    })?;
    let m = m.clone();
    let runner = Runner {
        store: store.clone(),
        plan: Arc::new(plan),
        fkorg: deps.fkorg.clone(),
        steps: deps.steps.clone(),
        progress: deps.progress.clone(),
    };
    Ok(run_municipality(&runner, job.run_id, &m, &opts).await)
}

async fn finish_run_when_complete(store: &Store, run_id: i64) -> Result<(), WaveError> {
    let jobs = store.wave_jobs(run_id).await?;
    if jobs.iter().any(|j| matches!(j.state, JobState::Queued | JobState::Running)) {
        return Ok(());
    }
    let items = store.wave_run_items(run_id).await?;
    let verdict = verdict_of(items.iter().filter_map(|i| i.outcome.as_deref().and_then(Outcome::parse)));
    let outcome = match verdict {
        RunVerdict::AllFine => "ok",
        RunVerdict::NeedsPerson => "needs_attention",
        RunVerdict::Failure => "failed",
    };
    store.finish_wave_run(run_id, outcome).await?;
    Ok(())
}
