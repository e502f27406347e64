//! `sorsync contacts`: the contact-number report (KLIK task) for one municipality or many.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{ArgGroup, Args, ValueEnum};

use super::Context;
use crate::contacts::{build_report, chart, render, xlsx, ContactReport, Scope};
use crate::domain::{FkTree, FkUuid, KommuneKode};

/// Report the role holders KLIK cannot show a phone number for: people with a membership of a unit
/// who have neither a valid direct number (user landline) nor a valid mobile number (user mobile)
/// in FK-ORG. Malformed numbers count as missing and are listed. Also lists the units that would go
/// to SOR without any phone (own landline, own mobile, or inherited from the nearest ancestor).
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("source").required(true).multiple(true).args(["fkorg", "kommune", "all", "dir"])),
    after_help = EXAMPLES
)]
pub struct ContactsArgs {
    /// An FK-ORG GraphQL response file holding units and users (brugerListe).
    #[arg(long, value_name = "FILE")]
    fkorg: Option<PathBuf>,
    /// Municipality code (e.g. 370). Alone: the latest FK-ORG snapshot in the store. With --fkorg:
    /// labels the file's municipality.
    #[arg(long, value_name = "CODE", value_parser = parse_kommune)]
    kommune: Option<KommuneKode>,
    /// Every municipality with an FK-ORG snapshot in the store: a summary sorted by share missing.
    #[arg(long, conflicts_with_all = ["fkorg", "kommune", "dir"])]
    all: bool,
    /// A directory with DIR/<kommunekode>/fkorg.json per municipality (the generator's layout).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["fkorg", "kommune"])]
    dir: Option<PathBuf>,
    /// Output format. csv and xlsx open in Danish Excel with æøå intact and ids kept as text.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the output to FILE instead of standard output (required for xlsx).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also write an SVG bar chart of the share missing per municipality.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// Only units under this FK-ORG unit go to SOR (repeatable). Default: with --kommune or --all the
    /// municipality's scope in the stored wave plan (as `waves status` counts units in scope), else the
    /// whole tree. Affects the units-without-phone list only.
    #[arg(long, value_name = "UUID", value_parser = parse_uuid)]
    include: Vec<FkUuid>,
    /// Units under this FK-ORG unit do not go to SOR (repeatable).
    #[arg(long, value_name = "UUID", value_parser = parse_uuid)]
    exclude: Vec<FkUuid>,
}

const EXAMPLES: &str = "\
People are counted once however many units they belong to (KLIK counts role holders).
Only AKTIV users and units count. Exit code 0 when the report was written.

Examples:
  sorsync contacts --fkorg korsbaek.json
  sorsync contacts --fkorg korsbaek.json --kommune 370 --format xlsx --out korsbaek.xlsx
  sorsync contacts --dir generated/ --format csv --out summary.csv --chart share.svg
  sorsync contacts --all --chart share.svg";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Csv,
    Xlsx,
}

fn parse_kommune(s: &str) -> Result<KommuneKode, String> {
    KommuneKode::parse(s).map_err(|e| e.to_string())
}

fn parse_uuid(s: &str) -> Result<FkUuid, String> {
    FkUuid::parse(s).map_err(|e| e.to_string())
}

/// What the command reports on.
enum Input {
    One(ContactReport),
    Many(Vec<ContactReport>),
}

pub fn run(args: ContactsArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    if args.format == Format::Xlsx && args.out.is_none() {
        anyhow::bail!("--format xlsx writes a binary file: give it with --out FILE.xlsx");
    }
    let scope = Scope { include: args.include.clone(), exclude: args.exclude.clone() };
    let input = if let Some(file) = &args.fkorg {
        let tree = crate::sources::read_fkorg_file(file)?;
        Input::One(build_report(&tree, args.kommune, &scope))
    } else if let Some(dir) = &args.dir {
        let trees = read_dir(dir)?;
        Input::Many(trees.iter().map(|(k, t)| build_report(t, Some(*k), &scope)).collect())
    } else if args.all {
        let trees = load_from_store(ctx, None)?;
        if trees.is_empty() {
            anyhow::bail!("the store holds no FK-ORG snapshots: import one with `sorsync import fkorg`");
        }
        Input::Many(trees.iter().map(|(k, t, s)| build_report(t, Some(*k), given_or(&scope, s))).collect())
    } else if let Some(k) = args.kommune {
        let trees = load_from_store(ctx, Some(k))?;
        let (k, tree, s) = trees.into_iter().next().with_context(|| format!("no FK-ORG snapshot for kommune {k}"))?;
        Input::One(build_report(&tree, Some(k), given_or(&scope, &s)))
    } else {
        anyhow::bail!("say what to report on: --fkorg FILE, --kommune CODE, --all or --dir DIR");
    };
    let reports: &[ContactReport] = match &input {
        Input::One(r) => std::slice::from_ref(r),
        Input::Many(rs) => rs,
    };
    let bytes: Vec<u8> = match (args.format, &input) {
        (Format::Text, Input::One(r)) => render::report_text(r).into_bytes(),
        (Format::Text, Input::Many(rs)) => render::many_text(rs).into_bytes(),
        (Format::Json, Input::One(r)) => render::report_json(r).into_bytes(),
        (Format::Json, Input::Many(rs)) => render::many_json(rs).into_bytes(),
        (Format::Csv, Input::One(r)) => render::people_csv(std::slice::from_ref(r)),
        (Format::Csv, Input::Many(rs)) => render::summary_csv(rs),
        (Format::Xlsx, _) => xlsx::workbook_bytes(reports).context("building the Excel workbook")?,
    };
    match &args.out {
        Some(path) => write_file(path, &bytes)?,
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(&bytes).context("writing the report to standard output")?;
        }
    }
    if let Some(path) = &args.chart {
        write_file(path, chart::share_missing_svg(reports).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes owner-only (names and phone numbers are personal data) next to `path` and renames, so a
/// reader never sees half a report.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::private_file::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Reads `DIR/<kommunekode>/fkorg.json` for every subdirectory named by a municipality code.
/// Other entries are ignored; a code directory without `fkorg.json` is skipped with a warning.
#[tracing::instrument(skip_all, fields(dir = %dir.display()))]
fn read_dir(dir: &Path) -> anyhow::Result<Vec<(KommuneKode, FkTree)>> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading directory {}", dir.display()))?;
    let mut codes = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading directory {}", dir.display()))?;
        let name = entry.file_name();
        if let Some(k) = name.to_str().and_then(|n| KommuneKode::parse(n).ok()) {
            if entry.path().is_dir() {
                codes.push((k, entry.path()));
            }
        }
    }
    codes.sort();
    let mut out = Vec::with_capacity(codes.len());
    for (k, sub) in codes {
        let file = sub.join("fkorg.json");
        if !file.exists() {
            tracing::warn!(kommune = %k, file = %file.display(), "No fkorg.json; municipality skipped.");
            continue;
        }
        let tree = crate::sources::read_fkorg_file(&file)?;
        out.push((k, tree));
    }
    if out.is_empty() {
        anyhow::bail!("{} holds no <kommunekode>/fkorg.json files", dir.display());
    }
    tracing::info!(n_municipalities = out.len(), dir = %dir.display(), "FK-ORG files read.");
    Ok(out)
}

/// `--include`/`--exclude` when given, else the municipality's own scope from the store.
fn given_or<'a>(given: &'a Scope, configured: &'a Scope) -> &'a Scope {
    if given.include.is_empty() && given.exclude.is_empty() {
        configured
    } else {
        given
    }
}

/// Store-backed input for `--kommune CODE` (Some) and `--all` (None): the latest FK-ORG snapshot of
/// one or every municipality, with its scope as every command counts it
/// ([`crate::waves::pipeline::municipality_scope`]: the stored wave plan's, else the whole tree).
fn load_from_store(ctx: &Context, kommune: Option<KommuneKode>) -> anyhow::Result<Vec<(KommuneKode, FkTree, Scope)>> {
    super::block_on(async {
        let store = super::import::open_existing_store(ctx).await?;
        let kommuner = match kommune {
            Some(k) => vec![k],
            None => store.fkorg_kommuner().await?,
        };
        let mut out = Vec::new();
        for k in kommuner {
            match store.latest_fkorg(k).await? {
                Some(tree) => {
                    let s = crate::waves::pipeline::municipality_scope(&store, k, &tree).await?;
                    out.push((k, tree, Scope { include: s.include, exclude: s.exclude }));
                }
                None => anyhow::bail!("the store holds no FK-ORG snapshot for kommune {k}; import one first"),
            }
        }
        store.close().await;
        Ok(out)
    })
}
