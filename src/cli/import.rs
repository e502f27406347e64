//! `sorsync import sor|fkorg`: reads a whole file (or the FK-ORG API) first, then stores it as a
//! snapshot in one transaction. A file that does not read changes nothing in the store.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::{block_on, Context};
use crate::domain::{Cvr, FkTree, KommuneKode};
use crate::sources::fkorg_client::FkOrgClient;
use crate::sources::{read_fkorg_file, read_sor_file};
use crate::store::{ImportOutcome, Store};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Store a SOR export (XML 1.0.0, the national 2.0.0 file, or SOR2 CSV) as a snapshot.
    ///
    /// The same content as the latest SOR snapshot for the same municipality makes no new snapshot.
    Sor(ImportSorArgs),
    /// Store a municipality's FK-ORG organisation (units, users, memberships) as a snapshot, from a
    /// GraphQL response file or straight from the FK-ORG API.
    Fkorg(ImportFkorgArgs),
}

#[derive(Debug, Args)]
pub struct ImportSorArgs {
    /// The SOR file.
    pub file: PathBuf,
    /// The municipality (kommunekode, e.g. 265) the file covers; leave out for a national file.
    #[arg(long, value_parser = KommuneKode::parse)]
    pub kommune: Option<KommuneKode>,
}

#[derive(Debug, Args)]
pub struct ImportFkorgArgs {
    /// The FK-ORG GraphQL response file (one response or an array of pages).
    #[arg(required_unless_present = "from_api", conflicts_with = "from_api")]
    pub file: Option<PathBuf>,
    /// Fetch the organisation from the FK-ORG API (configured under [fkorg]) instead of a file.
    #[arg(long, requires = "cvr")]
    pub from_api: bool,
    /// The municipality's CVR number, for --from-api.
    #[arg(long, value_parser = Cvr::parse, requires = "from_api")]
    pub cvr: Option<Cvr>,
    /// The municipality (kommunekode, e.g. 265).
    #[arg(long, value_parser = KommuneKode::parse)]
    pub kommune: KommuneKode,
}

pub fn run(cmd: ImportCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {
        ImportCommand::Sor(args) => import_sor(args, ctx),
        ImportCommand::Fkorg(args) => import_fkorg(args, ctx),
    }
}

fn import_sor(args: ImportSorArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let tree = read_sor_file(&args.file)?;
    let source = source_of(&args.file);
    let outcome = block_on(async {
        let store = open_store(ctx).await?;
        let outcome = store.import_sor(&source, args.kommune, &tree).await.context("storing the SOR snapshot");
        store.close().await;
        outcome
    })?;
    print_outcome(&outcome, false);
    Ok(ExitCode::SUCCESS)
}

fn import_fkorg(args: ImportFkorgArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let outcome = block_on(async {
        let (source, tree) = match (&args.file, args.cvr) {
            (Some(file), _) => (source_of(file), read_fkorg_file(file)?),
            (None, Some(cvr)) => (ctx.config.fkorg.endpoint.clone(), fetch_fkorg_tree(ctx, cvr).await?),
            (None, None) => anyhow::bail!("give an FK-ORG file, or --from-api with --cvr"),
        };
        let store = open_store(ctx).await?;
        let outcome = store.import_fkorg(args.kommune, &source, &tree).await.context("storing the FK-ORG snapshot");
        store.close().await;
        outcome
    })?;
    print_outcome(&outcome, true);
    Ok(ExitCode::SUCCESS)
}

/// Fetches a municipality's whole FK-ORG organisation from the API (configured under [fkorg]).
async fn fetch_fkorg_tree(ctx: &Context, cvr: Cvr) -> anyhow::Result<FkTree> {
    let client = FkOrgClient::new(&ctx.config.fkorg)?;
    Ok(client.fetch_tree(cvr).await?)
}

/// Opens the configured store, creating an SQLite file when it is missing: for commands that
/// write something into it (`import`, `waves load`, `waves run`, `users`).
pub(super) async fn open_store(ctx: &Context) -> anyhow::Result<Store> {
    let url = &ctx.config.store.database_url;
    Store::open(url).await.context("opening the store (see [store] database_url or --database-url)")
}

/// Opens the configured store only when it exists: commands that read (or work on what is stored)
/// never create an empty one. A missing SQLite file is an error naming the path looked for and how
/// to make a store.
pub(super) async fn open_existing_store(ctx: &Context) -> anyhow::Result<Store> {
    let url = &ctx.config.store.database_url;
    if let Some(path) = sqlite_file(url) {
        if !path.exists() {
            anyhow::bail!(missing_store(url, &path));
        }
    }
    open_store(ctx).await
}

/// The file of an `sqlite://PATH` or `sqlite:PATH` URL (None for in-memory and other databases).
pub(super) fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// "There is no store at PATH: make one with ..." (the path as looked for, made absolute).
fn missing_store(url: &str, path: &Path) -> String {
    let shown = std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf());
    format!(
        "there is no store at {} (store URL {url}, from --database-url, SORSYNC_DATABASE_URL or [store] \
         database_url in sorsync.toml), and this command does not create one. Make one with \
         `sorsync import sor FILE` and `sorsync import fkorg FILE --kommune CODE` (`sorsync init` writes a \
         sorsync.toml naming the store), or run `sorsync demo` and use its store: \
         `sorsync --database-url sqlite://sorsync-demo.db ...`",
        shown.display()
    )
}

/// Refuses a municipality the store holds nothing for (no FK-ORG snapshot, no proposals), naming
/// it and how to give it data.
pub(super) async fn require_municipality_data(
    store: &Store,
    ctx: &Context,
    kommune: KommuneKode,
) -> anyhow::Result<()> {
    let fk = store.latest_snapshot_id(crate::store::Register::FkOrg, Some(kommune)).await?;
    if fk.is_some() || !store.proposals(kommune, None).await?.is_empty() {
        return Ok(());
    }
    let name =
        crate::generate::Municipality::by_code(kommune.as_u16()).map(|m| format!(" ({})", m.name)).unwrap_or_default();
    anyhow::bail!(
        "the store {} holds no data for municipality {kommune}{name}: import its snapshots with \
         `sorsync import fkorg FILE --kommune {kommune}` and `sorsync import sor FILE --kommune {kommune}`, \
         then `sorsync propose --kommune {kommune}` (or run a wave that includes it)",
        crate::secrets::redact_password(&ctx.config.store.database_url)
    )
}

/// The source recorded with a snapshot: the file's absolute path when it can be found.
fn source_of(file: &Path) -> String {
    std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf()).display().to_string()
}

fn print_outcome(outcome: &ImportOutcome, with_users: bool) {
    let what = if with_users {
        format!("{} units, {} users", outcome.units, outcome.users)
    } else {
        format!("{} units", outcome.units)
    };
    if outcome.created {
        println!("Imported snapshot {} ({what})", outcome.snapshot_id);
    } else {
        println!("Unchanged: same content as snapshot {} ({what})", outcome.snapshot_id);
    }
}
