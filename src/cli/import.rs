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

pub(super) async fn open_store(ctx: &Context) -> anyhow::Result<Store> {
    let url = &ctx.config.store.database_url;
    Store::open(url).await.context("opening the store (see [store] database_url or --database-url)")
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
