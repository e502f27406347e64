//! `sorsync waves load|status|run|report`: the onboarding plan, readiness and status, batch runs
//! per wave (with progress bars) and reports. The work is in [`crate::waves`].

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::import::open_store;
use super::{block_on, Context, EXIT_NEEDS_ATTENTION};
use crate::apply::{build_plan, require_operator, ApplyOptions, StepStatus};
use crate::config::Config;
use crate::domain::KommuneKode;
use crate::review::{self, Actor};
use crate::spreadsheet::{self, Flavour};
use crate::waves::plan::load_plan;
use crate::waves::report::{build, write_csv, write_html, write_json};
use crate::waves::runner::{
    enqueue_wave, run_wave, stored_plan, DataSource, Outcome, RunOptions, RunProgress, RunVerdict, Runner, Step,
};
use crate::waves::status::{gather, MunicipalityStatus};
use crate::waves::steps::{ApplySteps, StepContext, StepFuture, StepOutcome};

#[derive(Debug, Subcommand)]
pub enum WavesCommand {
    /// Check a wave plan (TOML) and store it; the same plan again changes nothing.
    Load(LoadArgs),
    /// One line per municipality: status, readiness, coverage, open proposals, last run.
    Status(StatusArgs),
    /// Run a wave: import, propose, auto-approve, and for live municipalities plan and apply.
    ///
    /// Exit code 0: all fine; 2: done, but a person must act (reviews waiting above the plan's
    /// threshold, a held-back step, or some municipalities failed); 1: failure (every municipality
    /// failed, or the run could not start).
    Run(RunArgs),
    /// A report per municipality and for the wave: HTML (with a chart), JSON or CSV.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The wave plan (see the README section "Waves").
    pub plan: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this wave.
    #[arg(long)]
    pub wave: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: TableFormat,
    /// The day readiness is judged on (default: today).
    #[arg(long)]
    pub today: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The wave's name in the plan.
    pub wave: String,
    /// Read and match, store only the simulated metrics: no snapshots, no proposals, nothing to any register.
    #[arg(long)]
    pub dry_run: bool,
    /// Municipalities worked on at the same time.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// A data directory laid out like fixtures/bundled/ (`<kommunekode>/fkorg.json`, `<kommunekode>/sor.xml`).
    #[arg(long, conflicts_with = "from_api", required_unless_present = "from_api")]
    pub data: Option<PathBuf>,
    /// Fetch FK-ORG from the API (configured under [fkorg]) by each municipality's CVR.
    #[arg(long)]
    pub from_api: bool,
    /// With --from-api: SOR files laid out like --data (else the SOR snapshots in the store).
    #[arg(long, requires = "from_api")]
    pub sor_dir: Option<PathBuf>,
    /// Queue one job per municipality for `sorsync worker` instead of running here.
    #[arg(long)]
    pub queue: bool,
    /// The day the run is for (default: today).
    #[arg(long)]
    pub today: Option<NaiveDate>,
    /// Who runs the wave (an operator of its municipalities): needed to auto-approve and to plan
    /// and apply. Default: $SORSYNC_USER, else the only sorsync user the operating-system account is mapped to.
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A table for the terminal: one line per municipality, then the wave's totals.
    Text,
    Html,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The wave's name in the plan.
    pub wave: String,
    /// Only this municipality.
    #[arg(long, value_parser = KommuneKode::parse)]
    pub kommune: Option<KommuneKode>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub today: Option<NaiveDate>,
}

/// "in the store URL", for errors about what the store holds.
fn in_store(ctx: &Context) -> String {
    format!("in the store {}", crate::secrets::redact_password(&ctx.config.store.database_url))
}

/// The apply engine's steps for a wave run by `actor` (see [`crate::waves::steps`]): auto-approval
/// by the `[review]` band, and plan + apply with the writers `[sor]` and `[fkorg]` name.
pub(super) fn apply_steps(config: &Config, actor: Option<Actor>) -> Arc<dyn ApplySteps> {
    Arc::new(EngineSteps { config: config.clone(), actor })
}

/// [`ApplySteps`] by the review rules and the apply engine.
struct EngineSteps {
    config: Config,
    /// Who runs the wave: needs the operator (or SOR-administrator) role for each municipality.
    /// Unknown (no --as, no $SORSYNC_USER/$USER): the steps are left for a person.
    actor: Option<Actor>,
}

impl EngineSteps {
    /// The operator or SOR-administrator role, checked by the apply engine's own rule.
    async fn may_run(&self, ctx: &StepContext<'_>, action: &'static str) -> Result<&Actor, String> {
        let Some(actor) = &self.actor else {
            return Err(format!("who runs the wave? give --as USER (an operator of {}) to {action}", ctx.kommune));
        };
        require_operator(ctx.store, actor, ctx.kommune, action).await.map(|()| actor).map_err(|e| e.to_string())
    }
}

impl ApplySteps for EngineSteps {
    fn auto_approve<'a>(&'a self, ctx: StepContext<'a>) -> StepFuture<'a> {
        Box::pin(async move {
            let actor = match self.may_run(&ctx, "let the sync policy decide").await {
                Ok(a) => a,
                Err(e) => return StepOutcome::NeedsPerson(e),
            };
            let policy = match self.config.sync_policy().and_then(|base| ctx.municipality.sync_policy(&base)) {
                Ok(p) => p,
                Err(e) => return StepOutcome::Failed(format!("sync policy: {e}")),
            };
            let decided = match review::apply_policy(ctx.store, actor, ctx.kommune, &policy).await {
                Ok(d) => d,
                Err(e) => return StepOutcome::Failed(format!("sync policy: {e}")),
            };
            let policy_detail = format!(
                "{} proposals decided by the sync policy, {} it would decide left for a person",
                decided.approved.len(),
                decided.left_for_review.len()
            );
            let Some(band) = self.config.review.auto_approve_band() else {
                return StepOutcome::Done { detail: policy_detail, decided: decided.approved.len(), applied: 0 };
            };
            let band = band.floored();
            match review::auto_approve(ctx.store, actor, ctx.kommune, band).await {
                Ok(a) => StepOutcome::Done {
                    detail: format!(
                        "{policy_detail}; {} link proposals approved by the rule {}, {} in the band left for a person",
                        a.approved.len(),
                        band.actor_name(),
                        a.left_for_review.len()
                    ),
                    decided: decided.approved.len() + a.approved.len(),
                    applied: 0,
                },
                Err(e) => StepOutcome::Failed(format!("auto-approval: {e}")),
            }
        })
    }

    fn plan_and_apply<'a>(&'a self, ctx: StepContext<'a>) -> StepFuture<'a> {
        Box::pin(async move {
            let actor = match self.may_run(&ctx, "plan and apply").await {
                Ok(a) => a,
                Err(e) => return StepOutcome::NeedsPerson(e),
            };
            let plan = match build_plan(ctx.store, ctx.kommune, actor, ctx.today, chrono::Utc::now()).await {
                Ok(p) => p,
                Err(e) => return StepOutcome::NeedsPerson(format!("plan: {e}")),
            };
            if plan.steps.is_empty() {
                return StepOutcome::Done { detail: "nothing approved to apply".into(), decided: 0, applied: 0 };
            }
            let opts = ApplyOptions {
                allow_closures: Vec::new(),
                closure_limit: self.config.apply.closure_limit(),
                retry: self.config.apply.retry_policy(),
                retry_failed: false,
                now: chrono::Utc::now(),
            };
            let report =
                match super::apply::apply_with_configured_writers(&self.config, ctx.store, &plan, actor, &opts).await {
                    Ok(r) => r,
                    Err(e) => return StepOutcome::Failed(format!("apply: {e:#}")),
                };
            let applied = report.with_status(StepStatus::Applied).count();
            let detail = format!("plan {}: {}", plan.plan_id, report.summary());
            match report.exit_code() {
                0 => StepOutcome::Done { detail, decided: 0, applied },
                2 => StepOutcome::NeedsPerson(format!(
                    "{detail} (see `sorsync proposals list --kommune {}` and `sorsync apply`)",
                    ctx.kommune
                )),
                _ => StepOutcome::Failed(format!("{detail}; re-run the wave to finish")),
            }
        })
    }
}

fn today(given: Option<NaiveDate>) -> NaiveDate {
    given.unwrap_or_else(|| chrono::Utc::now().date_naive())
}

pub fn run(cmd: WavesCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {
        WavesCommand::Load(a) => load(a, ctx),
        WavesCommand::Status(a) => status(a, ctx),
        WavesCommand::Run(a) => run_cmd(a, ctx),
        WavesCommand::Report(a) => report(a, ctx),
    }
}

fn load(a: LoadArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let plan = load_plan(&a.plan)?;
    let source = std::fs::canonicalize(&a.plan).unwrap_or(a.plan.clone()).display().to_string();
    let changed = block_on(async {
        let store = open_store(ctx).await?;
        let r = crate::waves::runner::store_plan(&store, &plan, &source).await;
        store.close().await;
        anyhow::Ok(r?)
    })?;
    let n: usize = plan.waves.iter().map(|w| w.municipalities.len()).sum();
    if changed {
        println!("Stored the wave plan: {} waves, {n} municipalities.", plan.waves.len());
    } else {
        println!("Unchanged: the stored wave plan is the same ({} waves, {n} municipalities).", plan.waves.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn status(a: StatusArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let statuses = block_on(async {
        let store = super::import::open_existing_store(ctx).await?;
        let r = async {
            let plan = stored_plan(&store).await.with_context(|| in_store(ctx))?;
            if let Some(w) = &a.wave {
                anyhow::ensure!(plan.wave(w).is_some(), "the wave plan has no wave {w:?}");
            }
            Ok(gather(&store, &plan, a.wave.as_deref(), None, today(a.today)).await?)
        }
        .await;
        store.close().await;
        r
    })?;
    let mut out = std::io::stdout().lock();
    match a.format {
        TableFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &statuses)?;
            writeln!(out)?;
        }
        TableFormat::Csv => write_status_csv(&statuses, &mut out)?,
        TableFormat::Text => write_status_text(&statuses, &mut out)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn last_run_text(s: &MunicipalityStatus) -> String {
    match &s.last_run {
        Some(r) => format!(
            "run {}{} {} {}",
            r.run_id,
            if r.dry_run { " (dry)" } else { "" },
            r.outcome,
            super::audit::readable_time(r.finished_at.as_deref().unwrap_or(&r.started_at))
        ),
        None => "never run".to_string(),
    }
}

fn missing_text(s: &MunicipalityStatus) -> String {
    s.readiness.missing.iter().map(|i| i.key()).collect::<Vec<_>>().join(",")
}

fn write_status_text(statuses: &[MunicipalityStatus], out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<10} {:<4} {:<16} {:<9} {:<5} {:>8} {:>7} {:<40} missing",
        "wave", "code", "name", "status", "ready", "coverage", "pending", "last run"
    )?;
    for s in statuses {
        writeln!(
            out,
            "{:<10} {:<4} {:<16} {:<9} {:<5} {:>7.1}% {:>7} {:<40} {}",
            s.wave,
            s.kommune,
            s.name,
            s.status,
            s.readiness.score(),
            s.coverage * 100.0,
            s.pending,
            last_run_text(s),
            missing_text(s)
        )?;
    }
    Ok(())
}

fn write_status_csv(statuses: &[MunicipalityStatus], out: &mut impl Write) -> anyhow::Result<()> {
    let header = [
        "wave",
        "kommunekode",
        "name",
        "status",
        "readiness",
        "readiness_missing",
        "units_in_scope",
        "linked",
        "coverage_pct",
        "pending",
        "last_run_id",
        "last_run_outcome",
        "last_run_at",
    ];
    let mut rows = Vec::with_capacity(statuses.len());
    for s in statuses {
        let (id, outcome, at) = match &s.last_run {
            Some(r) => (r.run_id.to_string(), r.outcome.clone(), r.finished_at.clone().unwrap_or(r.started_at.clone())),
            None => (String::new(), String::new(), String::new()),
        };
        rows.push(spreadsheet::text_row([
            s.wave.clone(),
            s.kommune.to_string(),
            s.name.clone(),
            s.status.clone(),
            s.readiness.score(),
            missing_text(s),
            s.units_in_scope.to_string(),
            s.linked.to_string(),
            format!("{:.1}", s.coverage * 100.0),
            s.pending.to_string(),
            id,
            outcome,
            at,
        ]));
    }
    spreadsheet::write(out, Flavour::Data, &header, rows)?;
    Ok(())
}

/// Progress bars: one per municipality (its steps) and one overall; hidden when stderr is not a terminal.
struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    per: Mutex<HashMap<KommuneKode, ProgressBar>>,
}

impl Bars {
    fn new(total: usize) -> Bars {
        let target =
            if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{prefix:>22} {bar:30} {pos}/{len} municipalities {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        overall.set_prefix("wave");
        Bars { multi, overall, per: Mutex::new(HashMap::new()) }
    }
}

impl RunProgress for Bars {
    fn started(&self, kommune: KommuneKode, name: &str) {
        let bar = self.multi.insert_before(&self.overall, ProgressBar::new(Step::COUNT));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>22} {bar:30} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(format!("{name} ({kommune})"));
        if let Ok(mut per) = self.per.lock() {
            per.insert(kommune, bar);
        }
    }

    fn step(&self, kommune: KommuneKode, step: Step) {
        if let Some(bar) = self.per.lock().ok().and_then(|p| p.get(&kommune).cloned()) {
            bar.inc(1);
            bar.set_message(step.title());
        }
    }

    fn finished(&self, kommune: KommuneKode, outcome: Outcome) {
        if let Some(bar) = self.per.lock().ok().and_then(|mut p| p.remove(&kommune)) {
            bar.finish_with_message(outcome.as_str());
        }
        self.overall.inc(1);
    }
}

fn run_cmd(a: RunArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let source = match (&a.data, a.from_api) {
        (Some(dir), _) => DataSource::Dir { path: std::fs::canonicalize(dir).unwrap_or(dir.clone()) },
        (None, true) => DataSource::Api { sor_dir: a.sor_dir.clone() },
        (None, false) => anyhow::bail!("give --data DIR or --from-api"),
    };
    let opts = RunOptions { wave: a.wave.clone(), dry_run: a.dry_run, source, today: today(a.today) };
    block_on(async {
        let store = open_store(ctx).await?;
        let r = async {
            let plan = stored_plan(&store).await.with_context(|| in_store(ctx))?;
            let wave = plan.wave(&a.wave).with_context(|| format!("the wave plan has no wave {:?}", a.wave))?;
            if a.queue {
                let (run_id, jobs) = enqueue_wave(&store, &plan, &opts).await?;
                println!(
                    "Queued {} jobs for wave {:?} (run {run_id}); start workers with `sorsync worker`.",
                    jobs.len(),
                    a.wave
                );
                return Ok(ExitCode::SUCCESS);
            }
            let bars = Arc::new(Bars::new(wave.municipalities.len()));
            let runner = Runner {
                store: store.clone(),
                plan: Arc::new(plan.clone()),
                fkorg: ctx.config.fkorg.clone(),
                steps: apply_steps(&ctx.config, optional_actor(&store, a.as_user.as_deref()).await?),
                progress: bars.clone(),
            };
            let result = run_wave(&runner, &opts, a.concurrency).await?;
            bars.overall.finish_and_clear();
            let _ = bars.multi.clear();
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "Wave {:?}, run {}{}{}:",
                result.wave,
                result.run_id,
                if result.dry_run { " (dry run: nothing stored but this result)" } else { "" },
                if result.resumed { " (resumed)" } else { "" }
            )?;
            for m in &result.municipalities {
                let kinds: Vec<String> = m.metrics.proposals_by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
                writeln!(
                    out,
                    "  {} {:<16} {:<15} coverage {:>5.1}% (if approved {:>5.1}%), pending {}, proposals: {}{}",
                    m.kommune,
                    m.name,
                    m.outcome.as_str(),
                    m.metrics.coverage * 100.0,
                    m.metrics.coverage_if_approved * 100.0,
                    m.metrics.pending,
                    if kinds.is_empty() { "-".to_string() } else { kinds.join(", ") },
                    if m.already_done { " (finished earlier)" } else { "" }
                )?;
                if let Some(e) = &m.error {
                    writeln!(out, "      error: {e}")?;
                }
                for why in &m.metrics.attention {
                    writeln!(out, "      needs a person: {why}")?;
                }
            }
            Ok(match result.verdict() {
                RunVerdict::AllFine => ExitCode::SUCCESS,
                RunVerdict::NeedsPerson => ExitCode::from(EXIT_NEEDS_ATTENTION),
                RunVerdict::Failure => ExitCode::FAILURE,
            })
        }
        .await;
        store.close().await;
        r
    })
}

fn report(a: ReportArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let statuses = block_on(async {
        let store = super::import::open_existing_store(ctx).await?;
        let r = async {
            let plan = stored_plan(&store).await.with_context(|| in_store(ctx))?;
            anyhow::ensure!(plan.wave(&a.wave).is_some(), "the wave plan has no wave {:?}", a.wave);
            Ok(gather(&store, &plan, Some(&a.wave), a.kommune, today(a.today)).await?)
        }
        .await;
        store.close().await;
        r
    })?;
    let table = (a.format == ReportFormat::Text).then(|| statuses.clone());
    let report = build(&format!("Wave {} report", a.wave), statuses);
    let mut out: Box<dyn Write> = match &a.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    match a.format {
        ReportFormat::Text => {
            write_status_text(table.as_deref().unwrap_or_default(), &mut out)?;
            let t = &report.totals;
            writeln!(
                out,
                "{} municipalities: {} of {} units in scope linked ({:.1}%), {} pending, {} changes applied",
                t.municipalities,
                t.linked,
                t.units_in_scope,
                t.coverage * 100.0,
                t.pending,
                t.applied_changes
            )?;
        }
        ReportFormat::Html => write_html(&report, &mut out)?,
        ReportFormat::Json => write_json(&report, &mut out)?,
        ReportFormat::Csv => write_csv(&report, &mut out)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The verified user who starts a run (see `cli::identity`): required to be valid when `--as` is
/// given; without it, the mapped user if there is exactly one, else nobody (the automatic steps are
/// then left for a person).
pub(super) async fn optional_actor(
    store: &crate::store::Store,
    as_user: Option<&str>,
) -> anyhow::Result<Option<crate::review::Actor>> {
    match as_user {
        Some(u) => Ok(Some(super::identity::verified_actor(store, Some(u)).await?)),
        None => Ok(super::identity::verified_actor(store, None).await.ok()),
    }
}
