//! Batch runs per wave: for each municipality import (a data directory or the FK-ORG API),
//! propose within its scope, auto-approve and (live municipalities only) plan and apply, with a
//! concurrency limit. A municipality's failure is recorded and the others go on; every
//! municipality's start, end, outcome and metrics are recorded in the store, so running a wave
//! again after a crash resumes the unfinished run and skips the municipalities it finished.
//! A dry run reads everything and records only its simulation result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::FkOrgConfig;
use crate::domain::{FkTree, KommuneKode, SorTree};
use crate::matching::MatchOptions;
use crate::sources::fkorg_client::FkOrgClient;
use crate::sources::{read_fkorg_file, read_sor_file};
use crate::store::{Store, StoreError};

use super::pipeline::{coverage, propose_for, simulate, PipelineError};
use super::plan::{PlannedMunicipality, Status, WavePlan};
use super::steps::{ApplySteps, StepContext, StepOutcome};

/// Where a run reads the registers from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// A directory laid out like `fixtures/bundled/`: `<kommunekode>/fkorg.json`,
    /// `<kommunekode>/sor.xml` (else the national `sor-national.xml`).
    Dir { path: PathBuf },
    /// FK-ORG from the API (configured under `[fkorg]`); SOR from `sor_dir` laid out as above, or
    /// the SOR snapshots already in the store.
    Api { sor_dir: Option<PathBuf> },
}

/// How to run (stored with queued jobs, so it holds no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOptions {
    pub wave: String,
    pub dry_run: bool,
    pub source: DataSource,
    /// The day the run is for (which units are closed).
    pub today: NaiveDate,
}

/// How a municipality's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Done, but a person must act (reviews above the threshold, a held-back step, a scope entry
    /// naming no unit).
    NeedsAttention,
    Failed,
    /// Paused in the plan: not run.
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NeedsAttention => "needs_attention",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Ok, Outcome::NeedsAttention, Outcome::Failed, Outcome::Skipped].into_iter().find(|o| o.as_str() == s)
    }
}

/// One step's record in the metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: String,
    /// `done`, `needs_person`, `failed`, `skipped`.
    pub outcome: String,
    pub detail: String,
}

/// What a run measured for one municipality (stored as JSON with the run item).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub dry_run: bool,
    pub fk_units: usize,
    pub sor_units: usize,
    pub units_in_scope: usize,
    /// In-scope units in an approved link after the run.
    pub linked: usize,
    pub coverage: f64,
    /// Coverage if every proposed link were approved.
    pub coverage_if_approved: f64,
    /// The matcher's proposals this run, by kind.
    pub proposals_by_kind: BTreeMap<String, usize>,
    /// Proposals recorded as new this run (0 in a dry run).
    pub new_proposals: usize,
    /// Pending proposals after the run.
    pub pending: usize,
    pub auto_decided: usize,
    pub applied_changes: usize,
    pub fk_snapshot_id: Option<i64>,
    pub sor_snapshot_id: Option<i64>,
    pub steps: Vec<StepRecord>,
    /// Why a person must look.
    pub attention: Vec<String>,
}

/// One municipality's result in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct MunicipalityResult {
    pub kommune: KommuneKode,
    pub name: String,
    pub outcome: Outcome,
    pub metrics: Metrics,
    pub error: Option<String>,
    /// Finished by an earlier attempt of the same run (resumed): not run again.
    pub already_done: bool,
}

/// What [`run_wave`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveRunResult {
    pub run_id: i64,
    pub wave: String,
    pub dry_run: bool,
    /// True when an interrupted run was resumed.
    pub resumed: bool,
    pub municipalities: Vec<MunicipalityResult>,
}

/// What a scheduler should make of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunVerdict {
    /// Exit 0.
    AllFine,
    /// Exit 2: done, a person must act (or some municipalities failed while others ran).
    NeedsPerson,
    /// Exit 1: every municipality that ran failed.
    Failure,
}

impl WaveRunResult {
    pub fn verdict(&self) -> RunVerdict {
        verdict_of(self.municipalities.iter().map(|m| m.outcome))
    }
}

/// The verdict for a set of outcomes: any failure or attention needs a person; only failures is a failure.
pub fn verdict_of(outcomes: impl IntoIterator<Item = Outcome>) -> RunVerdict {
    let (mut ran, mut failed, mut attention) = (0, 0, 0);
    for o in outcomes {
        match o {
            Outcome::Skipped => {}
            Outcome::Ok => ran += 1,
            Outcome::NeedsAttention => {
                ran += 1;
                attention += 1;
            }
            Outcome::Failed => {
                ran += 1;
                failed += 1;
            }
        }
    }
    if ran > 0 && failed == ran {
        RunVerdict::Failure
    } else if failed + attention > 0 {
        RunVerdict::NeedsPerson
    } else {
        RunVerdict::AllFine
    }
}

/// Which step a municipality is at, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Import,
    Propose,
    AutoApprove,
    PlanAndApply,
}

impl Step {
    pub const COUNT: u64 = 4;

    pub fn title(self) -> &'static str {
        match self {
            Step::Import => "import",
            Step::Propose => "propose",
            Step::AutoApprove => "auto-approve",
            Step::PlanAndApply => "plan and apply",
        }
    }
}

/// Progress reports from a run (the CLI draws bars; the library does no output).
pub trait RunProgress: Send + Sync {
    fn started(&self, _kommune: KommuneKode, _name: &str) {}
    fn step(&self, _kommune: KommuneKode, _step: Step) {}
    fn finished(&self, _kommune: KommuneKode, _outcome: Outcome) {}
}

/// No progress output.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl RunProgress for NoProgress {}

/// Why a whole run could not start.
#[derive(Debug, thiserror::Error)]
pub enum WaveError {
    #[error("the wave plan has no wave {0:?}")]
    NoSuchWave(String),
    #[error("no wave plan in the store: load one with `sorsync waves load PLAN.toml`")]
    NoPlan,
    #[error("the stored wave plan cannot be read: {0}")]
    BadStoredPlan(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everything a run needs besides its options.
#[derive(Clone)]
pub struct Runner {
    pub store: Store,
    pub plan: Arc<WavePlan>,
    /// For [`DataSource::Api`].
    pub fkorg: FkOrgConfig,
    pub steps: Arc<dyn ApplySteps>,
    pub progress: Arc<dyn RunProgress>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").field("fkorg", &self.fkorg).finish_non_exhaustive()
    }
}

/// Runs (or resumes) `opts.wave` with at most `concurrency` municipalities at a time.
pub async fn run_wave(runner: &Runner, opts: &RunOptions, concurrency: usize) -> Result<WaveRunResult, WaveError> {
    let wave = runner.plan.wave(&opts.wave).ok_or_else(|| WaveError::NoSuchWave(opts.wave.clone()))?.clone();
    let (run_id, resumed) = runner.store.open_wave_run(&wave.name, opts.dry_run).await?;
    let done: BTreeMap<KommuneKode, crate::store::WaveRunItem> = runner
        .store
        .wave_run_items(run_id)
        .await?
        .into_iter()
        .filter(|i| i.finished_at.is_some())
        .map(|i| (i.kommune, i))
        .collect();
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut results: Vec<MunicipalityResult> = Vec::new();
    for m in wave.municipalities.iter().cloned() {
        if let Some(item) = done.get(&m.kommune) {
            results.push(result_from_item(&m, item));
            continue;
        }
        let (runner, opts, limit) = (runner.clone(), opts.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.ok();
            run_municipality(&runner, run_id, &m, &opts).await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => results.push(r),
            Err(e) => tracing::error!(error = %e, "A municipality's task stopped unexpectedly."),
        }
    }
    let order: Vec<KommuneKode> = wave.municipalities.iter().map(|m| m.kommune).collect();
    results.sort_by_key(|r| order.iter().position(|k| *k == r.kommune));
    let verdict = verdict_of(results.iter().map(|r| r.outcome));
    // A task that stopped unexpectedly has no result: leave the run open so that it is resumed.
    if results.len() == wave.municipalities.len() {
        let outcome = match verdict {
            RunVerdict::AllFine => "ok",
            RunVerdict::NeedsPerson => "needs_attention",
            RunVerdict::Failure => "failed",
        };
        runner.store.finish_wave_run(run_id, outcome).await?;
    }
    Ok(WaveRunResult { run_id, wave: wave.name, dry_run: opts.dry_run, resumed, municipalities: results })
}

fn result_from_item(m: &PlannedMunicipality, item: &crate::store::WaveRunItem) -> MunicipalityResult {
    MunicipalityResult {
        kommune: m.kommune,
        name: m.name.clone(),
        outcome: item.outcome.as_deref().and_then(Outcome::parse).unwrap_or(Outcome::Failed),
        metrics: item.metrics.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default(),
        error: item.error.clone(),
        already_done: true,
    }
}

/// Runs one municipality as part of run `run_id` and records its start and end. Never fails: a
/// failure is the result's outcome (and recorded), unless the store itself cannot record it.
pub async fn run_municipality(
    runner: &Runner,
    run_id: i64,
    m: &PlannedMunicipality,
    opts: &RunOptions,
) -> MunicipalityResult {
    let k = m.kommune;
    runner.progress.started(k, &m.name);
    let mut metrics = Metrics { dry_run: opts.dry_run, ..Metrics::default() };
    let (outcome, error) = if m.status == Status::Paused {
        (Outcome::Skipped, None)
    } else {
        if let Err(e) = runner.store.start_wave_item(run_id, k).await {
            tracing::error!(kommune = %k, error = %e, "Cannot record the start of a municipality's run.");
        }
        match work(runner, run_id, m, opts, &mut metrics).await {
            Ok(()) if metrics.attention.is_empty() => (Outcome::Ok, None),
            Ok(()) => (Outcome::NeedsAttention, None),
            Err(e) => (Outcome::Failed, Some(e.to_string())),
        }
    };
    if outcome == Outcome::Skipped {
        if let Err(e) = runner.store.start_wave_item(run_id, k).await {
            tracing::error!(kommune = %k, error = %e, "Cannot record a skipped municipality.");
        }
    }
    let json = serde_json::to_string(&metrics).ok();
    if let Err(e) = runner.store.finish_wave_item(run_id, k, outcome.as_str(), json.as_deref(), error.as_deref()).await
    {
        tracing::error!(kommune = %k, error = %e, "Cannot record the end of a municipality's run.");
    }
    match &error {
        Some(e) => tracing::warn!(kommune = %k, error = %e, "Municipality failed."),
        None => tracing::info!(kommune = %k, outcome = outcome.as_str(), "Municipality done."),
    }
    runner.progress.finished(k, outcome);
    MunicipalityResult { kommune: k, name: m.name.clone(), outcome, metrics, error, already_done: false }
}

/// Why a municipality failed.
#[derive(Debug, thiserror::Error)]
enum MunicipalityError {
    #[error("{0}")]
    Read(#[from] crate::sources::ReadError),
    #[error("fetching FK-ORG: {0}")]
    Api(#[from] crate::sources::fkorg_client::ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error("{0}")]
    Other(String),
}

/// A SOR tree, its source and whose it is (None: national).
type SorInput = (SorTree, String, Option<KommuneKode>);
/// An FK-ORG tree and its source.
type FkInput = (FkTree, String);

/// The registers as read for one municipality.
struct Inputs {
    fk: FkTree,
    fk_source: String,
    /// The units FK-ORG gives for the municipality's scope filter (read from the API only).
    fk_scope: Option<Vec<crate::domain::FkUuid>>,
    /// SOR tree, its source and whose it is (None: national).
    sor: Option<SorInput>,
}

fn read_dir_inputs(
    dir: &Path,
    k: KommuneKode,
    need_fk: bool,
) -> Result<(Option<FkInput>, Option<SorInput>), MunicipalityError> {
    let own = dir.join(k.to_string());
    let fk = if need_fk {
        let path = own.join("fkorg.json");
        if !path.exists() {
            return Err(MunicipalityError::Other(format!("{} is missing", path.display())));
        }
        Some((read_fkorg_file(&path)?, path.display().to_string()))
    } else {
        None
    };
    let own_sor = own.join("sor.xml");
    let national = dir.join("sor-national.xml");
    let sor = if own_sor.exists() {
        Some((read_sor_file(&own_sor)?, own_sor.display().to_string(), Some(k)))
    } else if national.exists() {
        Some((read_sor_file(&national)?, national.display().to_string(), None))
    } else {
        None
    };
    Ok((fk, sor))
}

async fn read_inputs(
    runner: &Runner,
    m: &PlannedMunicipality,
    source: &DataSource,
) -> Result<Inputs, MunicipalityError> {
    let k = m.kommune;
    match source {
        DataSource::Dir { path } => {
            let path = path.clone();
            let (fk, sor) = tokio::task::spawn_blocking(move || read_dir_inputs(&path, k, true))
                .await
                .map_err(|e| MunicipalityError::Other(e.to_string()))??;
            let (fk, fk_source) = fk.ok_or_else(|| MunicipalityError::Other("no FK-ORG data".into()))?;
            Ok(Inputs { fk, fk_source, fk_scope: None, sor })
        }
        DataSource::Api { sor_dir } => {
            let client = FkOrgClient::new(&runner.fkorg)?;
            let fk = client.fetch_tree(m.cvr).await?;
            // The plan's scope from FK-ORG, else the configured one ([fkorg] it_systems, kle).
            let filter = if m.scope.from_fkorg() {
                Some(m.scope.fkorg_filter())
            } else if !runner.fkorg.it_systems.is_empty() || !runner.fkorg.kle.is_empty() {
                Some(crate::sources::fkorg_client::ScopeFilter {
                    it_systems: runner.fkorg.it_systems.clone(),
                    kle_numbers: runner.fkorg.kle.clone(),
                    kle_role: None,
                })
            } else {
                None
            };
            let fk_scope = match filter {
                Some(filter) => Some(client.units_in_scope(m.cvr, &filter).await?),
                None => None,
            };
            let sor = match sor_dir.clone() {
                Some(dir) => {
                    tokio::task::spawn_blocking(move || read_dir_inputs(&dir, k, false))
                        .await
                        .map_err(|e| MunicipalityError::Other(e.to_string()))??
                        .1
                }
                None => None,
            };
            Ok(Inputs { fk, fk_source: runner.fkorg.endpoint.clone(), fk_scope, sor })
        }
    }
}

fn step_record(step: Step, outcome: &str, detail: impl Into<String>) -> StepRecord {
    StepRecord { step: step.title().to_string(), outcome: outcome.to_string(), detail: detail.into() }
}

async fn work(
    runner: &Runner,
    run_id: i64,
    m: &PlannedMunicipality,
    opts: &RunOptions,
    metrics: &mut Metrics,
) -> Result<(), MunicipalityError> {
    let (store, k) = (&runner.store, m.kommune);
    runner.progress.step(k, Step::Import);
    let inputs = read_inputs(runner, m, &opts.source).await?;
    metrics.fk_units = inputs.fk.len();
    let resolved = match &inputs.fk_scope {
        Some(units) => m.scope.resolve_with_fkorg(&inputs.fk, units),
        None => m.scope.resolve(&inputs.fk),
    };
    if inputs.fk_scope.is_none() && m.scope.from_fkorg() {
        metrics.attention.push(
            "the scope is chosen in FK-ORG (scope.it_systems / scope.kle), which only the API can tell: \
             run with the FK-ORG API; the file's whole tree less scope.exclude was used"
                .to_string(),
        );
    }
    if !resolved.missing.is_empty() {
        let names: Vec<String> = resolved.missing.iter().map(ToString::to_string).collect();
        metrics.attention.push(format!("the scope names units that are not in FK-ORG: {}", names.join(", ")));
    }
    let mut match_opts = MatchOptions::new(opts.today);
    match_opts.scope = resolved.scope.clone();

    if opts.dry_run {
        // Read only: the store is asked for SOR (when not in the data) and the approved links.
        let sor = match inputs.sor {
            Some((tree, _, _)) => tree,
            None => {
                let own = store.latest_sor(Some(k)).await?;
                match own {
                    Some(t) => t,
                    None => store.latest_sor(None).await?.ok_or(PipelineError::NoSorSnapshot)?,
                }
            }
        };
        metrics.sor_units = sor.len();
        metrics.steps.push(step_record(Step::Import, "skipped", "dry run: read, not stored"));
        runner.progress.step(k, Step::Propose);
        let approved = store.approved_link_ids(k).await?;
        let sim = simulate(inputs.fk, sor, approved, match_opts).await?;
        metrics.units_in_scope = sim.now.units_in_scope;
        metrics.linked = sim.now.linked;
        metrics.coverage = sim.now.share();
        metrics.coverage_if_approved = sim.if_approved.share();
        metrics.pending = store.proposals(k, Some(crate::store::ProposalStatus::Pending)).await?.len();
        metrics.proposals_by_kind = sim.by_kind;
        metrics.steps.push(step_record(Step::Propose, "done", "simulated: nothing recorded"));
        metrics.steps.push(step_record(Step::AutoApprove, "skipped", "dry run"));
        metrics.steps.push(step_record(Step::PlanAndApply, "skipped", "dry run"));
        pending_attention(runner, k, metrics);
        return Ok(());
    }

    let fk_import = store.import_fkorg(k, &inputs.fk_source, &inputs.fk).await?;
    metrics.fk_snapshot_id = Some(fk_import.snapshot_id);
    let mut import_detail = format!("FK-ORG snapshot {}", fk_import.snapshot_id);
    if let Some((sor, source, whose)) = &inputs.sor {
        let sor_import = store.import_sor(source, *whose, sor).await?;
        metrics.sor_snapshot_id = Some(sor_import.snapshot_id);
        import_detail.push_str(&format!(", SOR snapshot {}", sor_import.snapshot_id));
    }
    metrics.steps.push(step_record(Step::Import, "done", import_detail));

    runner.progress.step(k, Step::Propose);
    let proposed = propose_for(store, k, &match_opts).await?;
    metrics.sor_snapshot_id = Some(proposed.sor_snapshot_id);
    metrics.sor_units = store.snapshot(proposed.sor_snapshot_id).await.map(|s| s.units as usize).unwrap_or(0);
    metrics.proposals_by_kind = proposed.by_kind.clone();
    metrics.new_proposals = proposed.summary.new.len();
    metrics.steps.push(step_record(
        Step::Propose,
        "done",
        format!("{} new, {} pending", proposed.summary.new.len(), proposed.summary.pending),
    ));

    let ctx = StepContext { store, kommune: k, municipality: m, run_id, today: opts.today };
    runner.progress.step(k, Step::AutoApprove);
    record_step(metrics, Step::AutoApprove, runner.steps.auto_approve(ctx).await)?;
    runner.progress.step(k, Step::PlanAndApply);
    if m.status == Status::Live {
        record_step(metrics, Step::PlanAndApply, runner.steps.plan_and_apply(ctx).await)?;
    } else {
        metrics.steps.push(step_record(Step::PlanAndApply, "skipped", format!("status {} is not live", m.status)));
    }

    let pending = store.proposals(k, Some(crate::store::ProposalStatus::Pending)).await?;
    metrics.pending = pending.len();
    let links = store.approved_link_ids(k).await?;
    let linked: Vec<_> = links.iter().map(|(f, _)| *f).collect();
    let now = coverage(&inputs.fk, &match_opts.scope, &linked);
    metrics.units_in_scope = now.units_in_scope;
    metrics.linked = now.linked;
    metrics.coverage = now.share();
    let mut with_pending = linked.clone();
    with_pending.extend(
        pending
            .iter()
            .filter(|p| p.key.kind == crate::matching::ProposalKind::Link)
            .filter_map(|p| p.key.fk_uuid.as_deref().and_then(|u| crate::domain::FkUuid::parse(u).ok())),
    );
    metrics.coverage_if_approved = coverage(&inputs.fk, &match_opts.scope, &with_pending).share();
    pending_attention(runner, k, metrics);
    Ok(())
}

fn pending_attention(runner: &Runner, k: KommuneKode, metrics: &mut Metrics) {
    if metrics.pending > runner.plan.thresholds.max_pending {
        metrics.attention.push(format!(
            "{} proposals wait for review (more than {}): `sorsync proposals list --kommune {k}`",
            metrics.pending, runner.plan.thresholds.max_pending
        ));
    }
}

fn record_step(metrics: &mut Metrics, step: Step, outcome: StepOutcome) -> Result<(), MunicipalityError> {
    match outcome {
        StepOutcome::Done { detail, decided, applied } => {
            metrics.auto_decided += decided;
            metrics.applied_changes += applied;
            metrics.steps.push(step_record(step, "done", detail));
            Ok(())
        }
        StepOutcome::NeedsPerson(why) => {
            metrics.attention.push(format!("{}: {why}", step.title()));
            metrics.steps.push(step_record(step, "needs_person", why));
            Ok(())
        }
        StepOutcome::Failed(why) => {
            metrics.steps.push(step_record(step, "failed", why.clone()));
            Err(MunicipalityError::Other(format!("{}: {why}", step.title())))
        }
    }
}

/// Queues one job per (not paused) municipality of `opts.wave` in a new run. Returns (run id, job ids).
pub async fn enqueue_wave(store: &Store, plan: &WavePlan, opts: &RunOptions) -> Result<(i64, Vec<i64>), WaveError> {
    let wave = plan.wave(&opts.wave).ok_or_else(|| WaveError::NoSuchWave(opts.wave.clone()))?;
    let run_id = store.new_wave_run(&wave.name, opts.dry_run).await?;
    let kommuner: Vec<KommuneKode> =
        wave.municipalities.iter().filter(|m| m.status != Status::Paused).map(|m| m.kommune).collect();
    let options = serde_json::to_string(opts).map_err(|e| WaveError::BadStoredPlan(e.to_string()))?;
    let ids = store.enqueue_wave_jobs(run_id, &kommuner, &options).await?;
    Ok((run_id, ids))
}

/// The wave plan stored by `sorsync waves load`.
pub async fn stored_plan(store: &Store) -> Result<WavePlan, WaveError> {
    let stored = store.wave_plan().await?.ok_or(WaveError::NoPlan)?;
    serde_json::from_str(&stored.plan_json).map_err(|e| WaveError::BadStoredPlan(e.to_string()))
}

/// Stores a checked plan (idempotent: the same plan again writes nothing). True when it changed.
pub async fn store_plan(store: &Store, plan: &WavePlan, source: &str) -> Result<bool, WaveError> {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_string(plan).map_err(|e| WaveError::BadStoredPlan(e.to_string()))?;
    let hash: String = Sha256::digest(json.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let rows: Vec<crate::store::WaveMunicipality> = plan
        .municipalities()
        .map(|(w, m)| crate::store::WaveMunicipality {
            kommune: m.kommune,
            wave_name: w.name.clone(),
            name: m.name.clone(),
            cvr: m.cvr.to_string(),
            status: m.status.as_str(),
        })
        .collect();
    Ok(store.store_wave_plan(source, &json, &hash, &rows).await?)
}
