//! Command-line interface: argument definitions (clap) and dispatch. Each subcommand lives in its
//! own file with its `Args` and a `run` function; the work itself is in the library.

mod apply;
mod audit;
mod contacts;
mod demo;
mod eval;
mod examples;
mod export;
mod fixtures;
pub mod identity;
mod import;
mod init;
mod inspect;
mod inspect_fkorg;
mod inspect_sor;
mod plan;
mod preview;
mod proposals;
mod propose;
mod propose_store;
mod serve;
mod snapshots;
mod standin;
mod users;
mod waves;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::Config;

pub use examples::{command, parse};

/// Keeps SOR (Sundhedsvaesenets Organisationsregister) in step with FK-ORG.
///
/// Typical flow: `sorsync init`, `sorsync import sor FILE`, `sorsync import fkorg FILE --kommune CODE`,
/// then `sorsync propose --kommune CODE`. Every command can also work on files without a store.
#[derive(Debug, Parser)]
#[command(name = "sorsync", version, about, long_about)]
pub struct Cli {
    /// Configuration file (TOML). Default: ./sorsync.toml when it exists.
    #[arg(long, global = true, env = "SORSYNC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Store to use: sqlite://PATH or postgres://... (overrides the config file and SORSYNC_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline on the bundled data: stand-in FK-ORG server, SQLite store, proposals, reports.
    Demo(demo::DemoArgs),
    /// Write a commented default configuration file.
    Init(init::InitArgs),
    /// Read a SOR or FK-ORG file, check it, and print it as a tree or as JSON.
    #[command(subcommand)]
    Inspect(inspect::InspectCommand),
    /// Store a SOR or FK-ORG snapshot (from a file or the FK-ORG API) in one transaction.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// List the stored snapshots.
    Snapshots(snapshots::SnapshotsArgs),
    /// Run a local stand-in server that speaks a real register's protocol.
    #[command(name = "stand-in", subcommand)]
    StandIn(standin::StandInCommand),
    /// Generate realistic municipalities (FK-ORG, SOR, ground truth) for tests and benchmarks.
    #[command(subcommand)]
    Fixtures(fixtures::FixturesCommand),
    /// Report role holders without a direct or mobile number, and units without a phone.
    Contacts(contacts::ContactsArgs),
    /// Propose links and changes between an FK-ORG and a SOR tree.
    Propose(propose::ProposeArgs),
    /// Measure link proposals against a ground-truth file (precision, recall, F1).
    Eval(eval::EvalArgs),
    /// Show what creating, closing, moving or renaming an FK-ORG unit would do in SOR.
    #[command(after_help = preview::EXAMPLES)]
    Preview(preview::PreviewArgs),
    /// Review a municipality's recorded proposals: list, show, approve, reject.
    #[command(subcommand)]
    Proposals(proposals::ProposalsCommand),
    /// Web accounts and roles per municipality (sor_admin approves proposals): add, grant, list.
    /// Operators' bootstrap: whoever can reach the store can add accounts and grant roles.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Freeze a municipality's approved proposals as a plan of changes (with idempotency keys).
    Plan(plan::PlanArgs),
    /// Apply a saved plan to SOR and FK-ORG, exactly once per change (exit 2: held back or quarantined).
    Apply(apply::ApplyArgs),
    /// Show a municipality's audit log: every decision and write, who, when, before and after.
    Audit(audit::AuditArgs),
    /// Write a plan's changes as CSV or XLSX for registering in SOR by hand.
    ExportChanges(export::ExportArgs),
    /// Onboarding waves: load the plan, status and readiness, run a wave, reports.
    #[command(subcommand)]
    Waves(waves::WavesCommand),
    /// Work queued wave jobs (`sorsync waves run NAME --queue`); several may share a PostgreSQL store.
    Worker(worker::WorkerArgs),
    /// Serve the web app: review queue, proposal detail, what-if, contacts; JSON API at /api.
    Serve(serve::ServeArgs),
}

/// What every command gets: the loaded configuration.
#[derive(Debug, Clone)]
pub struct Context {
    pub config: Config,
}

/// Loads the configuration and runs the chosen command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(cli.config.as_deref(), |k| std::env::var(k).ok()).context("loading configuration")?;
    if let Some(url) = cli.database_url {
        config.store.database_url = url;
    }
    let ctx = Context { config };
    match cli.command {
        Command::Demo(a) => demo::run(a, &ctx),
        Command::Init(a) => init::run(a, &ctx),
        Command::Inspect(c) => inspect::run(c, &ctx),
        Command::Import(c) => import::run(c, &ctx),
        Command::Snapshots(a) => snapshots::run(a, &ctx),
        Command::StandIn(c) => standin::run(c, &ctx),
        Command::Fixtures(c) => fixtures::run(c, &ctx),
        Command::Contacts(a) => contacts::run(a, &ctx),
        Command::Propose(a) => propose::run(a, &ctx),
        Command::Eval(a) => eval::run(a, &ctx),
        Command::Preview(a) => preview::run(a, &ctx),
        Command::Proposals(c) => proposals::run(c, &ctx),
        Command::Users(c) => users::run(c, &ctx),
        Command::Plan(a) => plan::run(a, &ctx),
        Command::Apply(a) => apply::run(a, &ctx),
        Command::Audit(a) => audit::run(a, &ctx),
        Command::ExportChanges(a) => export::run(a, &ctx),
        Command::Waves(c) => waves::run(c, &ctx),
        Command::Worker(a) => worker::run(a, &ctx),
        Command::Serve(a) => serve::run(a, &ctx),
    }
}

/// Runs async work (store, HTTP) from a synchronous command.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime can be built").block_on(f)
}

/// Exit code for "done, but something needs a person" (e.g. proposals to review).
pub const EXIT_NEEDS_ATTENTION: u8 = 2;
