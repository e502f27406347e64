//! `sorsync demo`: the whole pipeline, end to end, on the bundled data with SQLite and stand-in
//! servers on 127.0.0.1. For each bundled municipality it serves the FK-ORG data from a stand-in
//! GraphQL server, fetches it with the real client (token, headers, paging), stores FK-ORG and SOR
//! snapshots, proposes links and changes, scores the links against the ground truth and reports
//! role holders without a phone number. Then it runs the pilot wave of the bundled wave plan
//! (auto-approval; plan + apply to SOR and FK-ORG stand-ins for the live municipality), creates
//! demo accounts (printed with their passwords) and serves the web app until Ctrl-C (`--no-serve`
//! stops before that).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use chrono::NaiveDate;
use clap::Args;

use super::Context;
use crate::config::Config;
use crate::config::FkOrgConfig;
use crate::contacts::{build_report, Scope};
use crate::domain::{FkTree, KommuneKode};
use crate::matching::{self, eval::Score, MatchOptions};
use crate::review::{grant, record_run, Actor, Role, Snapshot};
use crate::sources::{fkorg_client::FkOrgClient, read_fkorg_file, read_sor_file};
use crate::standin::fkorg::{spawn, StandInOptions};
use crate::standin::tls::StandInCerts;
use crate::store::Store;
use crate::waves::plan::{load_plan, Status};
use crate::waves::runner::{run_wave, store_plan, DataSource, NoProgress, RunOptions, Runner};
use crate::waves::steps::{ApplySteps, StepContext, StepFuture};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The data: one folder per municipality (named by kommunekode) with fkorg.json, sor.xml and
    /// optionally truth.csv, as `sorsync fixtures generate` writes them.
    #[arg(long, default_value = "fixtures/bundled", value_name = "DIR")]
    pub data: PathBuf,
    /// SQLite file for the store, created if missing (ignored when --database-url is given).
    #[arg(long, default_value = "sorsync-demo.db", value_name = "FILE")]
    pub db: PathBuf,
    /// The day to run for. Default: the bundled data's snapshot day (2026-11-02).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,
    /// The wave plan whose pilot wave the demo runs (live municipalities are applied to a stand-in SOR).
    #[arg(long, default_value = "fixtures/waves/bundled.toml", value_name = "FILE")]
    pub waves: PathBuf,
    /// The wave to run.
    #[arg(long, default_value = "pilots", value_name = "NAME")]
    pub wave: String,
    /// Where the web app listens afterwards (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: std::net::SocketAddr,
    /// Stop after the pipeline and the demo accounts; do not serve the web app.
    #[arg(long)]
    pub no_serve: bool,
}

/// One municipality's outcome, for the summary table.
struct Row {
    kommune: KommuneKode,
    name: String,
    fk_units: usize,
    sor_units: usize,
    /// GraphQL requests the client sent to the stand-in (pages of units and of users).
    api_requests: u64,
    kinds: BTreeMap<&'static str, usize>,
    score: Option<Score>,
    pending: usize,
    role_holders: usize,
    missing_both: usize,
}

pub fn run(args: DemoArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    super::block_on(run_async(args, ctx))
}

async fn run_async(args: DemoArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let today = args.today.unwrap_or_else(|| NaiveDate::from_ymd_opt(2026, 11, 2).expect("a valid date"));
    let dirs = municipality_dirs(&args.data)?;
    // The demo keeps its own SQLite file unless a store was chosen (--database-url, config, env).
    let url = if ctx.config.store.database_url == default_url() {
        format!("sqlite://{}", args.db.display())
    } else {
        ctx.config.store.database_url.clone()
    };
    let store = Store::open(&url).await.with_context(|| format!("opening the store {url}"))?;
    println!("Store: {url}");
    // The FK-ORG stand-ins speak HTTPS with a certificate-bound token, as KOMBIT's services do.
    let certs_dir = args.db.with_extension("certs");
    let certs = StandInCerts::load_or_create(&certs_dir)
        .with_context(|| format!("the stand-in certificates in {}", certs_dir.display()))?;
    let mut rows = Vec::new();
    for (kommune, dir) in dirs {
        let row = run_municipality(&store, kommune, &dir, today, &ctx.config.fkorg, &certs)
            .await
            .with_context(|| format!("municipality {kommune} ({})", dir.display()))?;
        rows.push(row);
    }
    print_summary(&rows);
    println!();
    let wave = run_pilot_wave(&store, &args, today, &ctx.config, &certs).await.context("running the pilot wave")?;
    let kommuner: Vec<KommuneKode> = rows.iter().map(|r| r.kommune).collect();
    let accounts = crate::web::demo_accounts(&store, &kommuner).await.context("creating the demo accounts")?;
    println!();
    println!("F1: the links scored against the bundled ground truth. pending: proposals stored for review.");
    print!("{wave}");
    println!();
    println!("Demo accounts for the web app (new passwords on every demo run):");
    for a in &accounts {
        println!("  {:<18} {:<24} {} {}", a.user_name, a.password, a.role.title(), a.kommune);
    }
    println!();
    println!("Also: sorsync --database-url {url} proposals list --kommune 320");
    println!("      sorsync --database-url {url} waves status");
    println!("      sorsync contacts --dir {}   (people without a phone number)", args.data.display());
    if !args.no_serve {
        let mut web = crate::web::WebConfig { secure_cookies: false, today: Some(today), ..Default::default() };
        // With [saml], the demo signs in through the stand-in Adgangsstyring (port 8703).
        if let Some(saml) = &ctx.config.saml {
            let dir = saml.idp_metadata.parent().unwrap_or(std::path::Path::new(".")).join("standin-idp");
            let codes: Vec<u16> = kommuner.iter().map(|k| k.as_u16()).collect();
            let idp = super::standin::standin_idp(saml, 8703, &dir, &codes)?;
            let listener =
                tokio::net::TcpListener::bind(("127.0.0.1", 8703)).await.context("binding the stand-in IdP")?;
            tokio::spawn(crate::standin::idp::serve(listener, idp, std::future::pending()));
            let sp = crate::web::saml::SamlSp::load(saml).context("loading [saml]")?;
            web.saml = Some(std::sync::Arc::new(sp));
            println!("Sign-in: through the stand-in Adgangsstyring at http://127.0.0.1:8703 (choose a demo user).");
        }
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        crate::web::serve(
            args.addr,
            store.clone(),
            web,
            |addr| println!("\nOpen http://{addr}/ and sign in with an account above (Ctrl-C stops)."),
            shutdown,
        )
        .await
        .context("serving the web app")?;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn default_url() -> String {
    crate::config::StoreConfig::default().database_url
}

/// The municipality folders under `data`, by kommunekode.
fn municipality_dirs(data: &Path) -> anyhow::Result<Vec<(KommuneKode, PathBuf)>> {
    let entries = std::fs::read_dir(data).with_context(|| format!("reading the data folder {}", data.display()))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("reading {}", data.display()))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if let Ok(kommune) = KommuneKode::parse(name) {
            if path.join("fkorg.json").is_file() && path.join("sor.xml").is_file() {
                out.push((kommune, path));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        bail!("{} holds no municipality folders (<kommunekode>/fkorg.json + sor.xml)", data.display());
    }
    Ok(out)
}

/// The FK-ORG client configuration for a stand-in on HTTPS at `addr`: the token to the client
/// certificate, the SOAP write-back on the same host.
fn https_fkorg(base: &FkOrgConfig, certs: &StandInCerts, addr: std::net::SocketAddr) -> FkOrgConfig {
    FkOrgConfig {
        endpoint: format!("https://{addr}{}", crate::standin::fkorg::GRAPHQL_PATH),
        token_url: format!("https://{addr}{}", crate::standin::fkorg::TOKEN_PATH),
        soap_url: None,
        client_certificate: Some(certs.client_certificate()),
        client_key: Some(certs.client_key()),
        ca_certificate: Some(certs.ca_certificate()),
        ..base.clone()
    }
}

async fn run_municipality(
    store: &Store,
    kommune: KommuneKode,
    dir: &Path,
    today: NaiveDate,
    fkorg_config: &FkOrgConfig,
    certs: &StandInCerts,
) -> anyhow::Result<Row> {
    // FK-ORG: serve the file from a stand-in on loopback and fetch it back with the real client.
    let served = read_fkorg_file(&dir.join("fkorg.json"))?;
    let Some(cvr) = served.cvr else { bail!("{}: the FK-ORG data carries no CVR", dir.display()) };
    let opts = StandInOptions { tls: Some(certs.server_config()?), ..StandInOptions::default() };
    let stats = opts.stats.clone();
    let (addr, server) = spawn(served, opts).await.context("starting the stand-in FK-ORG server")?;
    let config = https_fkorg(fkorg_config, certs, addr);
    let fetched: anyhow::Result<FkTree> = async { Ok(FkOrgClient::new(&config)?.fetch_tree(cvr).await?) }.await;
    server.abort();
    let fk = fetched.context("fetching from the stand-in FK-ORG server")?;
    let requests = stats.graphql_requests.load(std::sync::atomic::Ordering::Relaxed);
    let fk_snapshot = store.import_fkorg(kommune, &config.endpoint, &fk).await?.snapshot_id;

    let sor_path = dir.join("sor.xml");
    let sor = read_sor_file(&sor_path)?;
    let sor_snapshot = store.import_sor(&sor_path.display().to_string(), Some(kommune), &sor).await?.snapshot_id;

    let proposals = matching::propose(&fk, &sor, &MatchOptions::new(today));
    let run = record_run(
        store,
        kommune,
        Snapshot { id: fk_snapshot, tree: &fk },
        Snapshot { id: sor_snapshot, tree: &sor },
        &proposals,
    )
    .await
    .context("recording the proposals")?;
    let mut kinds = BTreeMap::new();
    for p in &proposals.proposals {
        *kinds.entry(p.kind().as_str()).or_insert(0) += 1;
    }
    let truth_path = dir.join("truth.csv");
    let score = if truth_path.is_file() {
        let text = std::fs::read_to_string(&truth_path).with_context(|| format!("reading {}", truth_path.display()))?;
        let truth = matching::eval::parse_truth(&text).with_context(|| format!("reading {}", truth_path.display()))?;
        let links: Vec<_> = proposals.links().map(|l| (l.fk_uuid, l.sor_id)).collect();
        Some(Score::of(&links, &truth))
    } else {
        None
    };
    let report = build_report(&fk, Some(kommune), &Scope::everything());
    let name = crate::generate::Municipality::by_code(kommune.as_u16())
        .map(|m| m.name.to_string())
        .unwrap_or_else(|| kommune.to_string());
    Ok(Row {
        kommune,
        name,
        fk_units: fk.len(),
        sor_units: sor.len(),
        api_requests: requests,
        kinds,
        score,
        pending: run.pending,
        role_holders: report.role_holders(),
        missing_both: report.missing_both_count(),
    })
}

fn print_summary(rows: &[Row]) {
    println!();
    println!(
        "{:<5} {:<12} {:>8} {:>8} {:>12}  {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}  {:>6} {:>8}  {:>13}",
        "kode",
        "kommune",
        "FK-ORG",
        "SOR",
        "FK-ORG API",
        "link",
        "create",
        "update",
        "close",
        "move",
        "write",
        "F1",
        "pending",
        "no phone"
    );
    for r in rows {
        let k = |kind: &str| r.kinds.get(kind).copied().unwrap_or(0);
        let f1 = r.score.map(|s| format!("{:.3}", s.f1())).unwrap_or_else(|| "-".into());
        println!(
            "{:<5} {:<12} {:>8} {:>8} {:>12}  {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}  {:>6} {:>8}  {:>5} of {:>5}",
            r.kommune.to_string(),
            r.name,
            r.fk_units,
            r.sor_units,
            format!("{} requests", r.api_requests),
            k("link"),
            k("create"),
            k("update"),
            k("close"),
            k("move"),
            k("write_back"),
            f1,
            r.pending,
            r.missing_both,
            r.role_holders,
        );
    }
}

/// Who runs the demo's wave: an operator of every bundled municipality.
pub const DEMO_OPERATOR: &str = "olga";

/// Loads the wave plan, and runs its pilot wave as [`DEMO_OPERATOR`]: proposals for every pilot,
/// the sync policy's automatic decisions, and for live municipalities plan + apply to a SOR
/// stand-in (with the SORUS client) and write-back to an FK-ORG stand-in (with the FK-ORG client),
/// both on 127.0.0.1. Returns the lines to print.
async fn run_pilot_wave(
    store: &Store,
    args: &DemoArgs,
    today: NaiveDate,
    config: &Config,
    certs: &StandInCerts,
) -> anyhow::Result<String> {
    let plan = load_plan(&args.waves)?;
    store_plan(store, &plan, &args.waves.display().to_string()).await?;
    let wave =
        plan.wave(&args.wave).with_context(|| format!("{} has no wave {:?}", args.waves.display(), args.wave))?;
    for m in &wave.municipalities {
        grant(store, None, DEMO_OPERATOR, m.kommune, Role::Operator).await?;
    }
    // One SOR and one FK-ORG stand-in per live municipality; the steps go to its own pair.
    let mut steps: BTreeMap<KommuneKode, Arc<dyn ApplySteps>> = BTreeMap::new();
    // The configured sync policy decides what needs no person (no extra auto-approval band).
    let with_band = config.clone();
    let mut servers = Vec::new();
    for m in wave.municipalities.iter().filter(|m| m.status == Status::Live) {
        let dir = args.data.join(m.kommune.to_string());
        let sor = crate::standin::sor::spawn(
            read_sor_file(&dir.join("sor.xml"))?,
            crate::standin::sor::SorStandInOptions { today: Some(today), ..Default::default() },
        )
        .await
        .context("starting the stand-in SOR server")?;
        let fk_opts = StandInOptions { tls: Some(certs.server_config()?), ..StandInOptions::default() };
        let (fk_addr, fk_server) = spawn(read_fkorg_file(&dir.join("fkorg.json"))?, fk_opts)
            .await
            .context("starting the stand-in FK-ORG server")?;
        let mut c = with_band.clone();
        c.sor.url = sor.service_url();
        c.fkorg = https_fkorg(&c.fkorg, certs, fk_addr);
        steps.insert(m.kommune, super::waves::apply_steps(&c, Some(Actor::new(DEMO_OPERATOR))));
        servers.push((m.kommune, sor, fk_server));
    }
    let runner = Runner {
        store: store.clone(),
        plan: Arc::new(plan.clone()),
        fkorg: config.fkorg.clone(),
        steps: Arc::new(PerMunicipality {
            steps,
            rest: super::waves::apply_steps(&with_band, Some(Actor::new(DEMO_OPERATOR))),
        }),
        progress: Arc::new(NoProgress),
    };
    let opts = RunOptions {
        wave: args.wave.clone(),
        dry_run: false,
        source: DataSource::Dir { path: args.data.clone() },
        today,
    };
    let result = run_wave(&runner, &opts, 2).await?;
    let mut out = format!("\nPilot wave {:?} (run {}), as {DEMO_OPERATOR} (operator):\n", result.wave, result.run_id);
    for m in &result.municipalities {
        let applied = servers
            .iter()
            .find(|(k, _, _)| *k == m.kommune)
            .map(|(_, sor, _)| format!(", SOR stand-in applied {} changes", sor.stats().applied))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {} {:<12} {:<16} coverage {:>5.1} %, auto-approved {}, changes applied {}{applied}\n",
            m.kommune,
            m.name,
            m.outcome.as_str(),
            100.0 * m.metrics.coverage,
            m.metrics.auto_decided,
            m.metrics.applied_changes,
        ));
        for a in &m.metrics.attention {
            out.push_str(&format!("      {a}\n"));
        }
    }
    for (_, sor, fk) in servers {
        sor.shutdown().await;
        fk.abort();
    }
    Ok(out)
}

/// The live municipalities' steps go to their own stand-ins; the others' use the demo's configuration
/// (auto-approval only: plan and apply is for live municipalities).
struct PerMunicipality {
    steps: BTreeMap<KommuneKode, Arc<dyn ApplySteps>>,
    rest: Arc<dyn ApplySteps>,
}

impl PerMunicipality {
    fn of(&self, k: KommuneKode) -> &dyn ApplySteps {
        self.steps.get(&k).map_or(self.rest.as_ref(), |s| s.as_ref())
    }
}

impl ApplySteps for PerMunicipality {
    fn auto_approve<'a>(&'a self, ctx: StepContext<'a>) -> StepFuture<'a> {
        self.of(ctx.kommune).auto_approve(ctx)
    }

    fn plan_and_apply<'a>(&'a self, ctx: StepContext<'a>) -> StepFuture<'a> {
        self.of(ctx.kommune).plan_and_apply(ctx)
    }
}
