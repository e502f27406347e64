//! `sorsync preview`: reads an FK-ORG and a SOR file, links them once with the matcher, applies
//! the planned FK-ORG edits and prints what they would do in SOR (text, JSON, SVG or HTML).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use super::Context;
use crate::domain::{FkTree, FkUuid, KommuneKode, SorId, SorTree};
use crate::matching::{propose, MatchOptions};
use crate::preview::json::PreviewDto;
use crate::preview::render_svg::{render_html, render_svg};
use crate::preview::render_text::render_text;
use crate::preview::{parse_edits_json, preview, Edit};
use crate::sources::{read_fkorg_file, read_sor_file};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Svg,
    Html,
}

/// Show what creating, closing, moving or renaming FK-ORG units would do in SOR.
///
/// Give one edit on the command line (`--create NAME --under UUID`, `--close UUID`,
/// `--move UUID --under UUID`, `--rename UUID NAME`) or several in a file (`--edits FILE.json`:
/// `{"edits":[{"action":"create","name":"..","under":"<uuid>"},{"action":"close","unit":"<uuid>",
/// "date":"YYYY-MM-DD"},{"action":"move","unit":"<uuid>","under":"<uuid>"},{"action":"rename",
/// "unit":"<uuid>","name":".."}]}`). The current links come from matching the two files.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// FK-ORG GraphQL response file.
    #[arg(long, value_name = "FILE", requires = "sor")]
    pub fkorg: Option<PathBuf>,
    /// SOR export (XML or SOR2 CSV).
    #[arg(long, value_name = "FILE", requires = "fkorg")]
    pub sor: Option<PathBuf>,
    /// Municipality code (kommunekode), shown in the text output.
    #[arg(long, value_name = "CODE")]
    pub kommune: Option<String>,
    /// Create a unit with this name (with --under).
    #[arg(long, value_name = "NAME", requires = "under", conflicts_with_all = ["close", "move_unit", "rename", "edits"])]
    pub create: Option<String>,
    /// The FK-ORG parent for --create or --move.
    #[arg(long, value_name = "FK_UUID")]
    pub under: Option<String>,
    /// Close this FK-ORG unit (and everything below it).
    #[arg(long, value_name = "FK_UUID", conflicts_with_all = ["move_unit", "rename", "edits"])]
    pub close: Option<String>,
    /// The closing date for --close. Default: --today.
    #[arg(long, value_name = "YYYY-MM-DD", requires = "close")]
    pub date: Option<NaiveDate>,
    /// Move this FK-ORG unit (with --under).
    #[arg(long = "move", value_name = "FK_UUID", requires = "under", conflicts_with_all = ["rename", "edits"])]
    pub move_unit: Option<String>,
    /// Rename an FK-ORG unit: --rename UUID NAME.
    #[arg(long, num_args = 2, value_names = ["FK_UUID", "NAME"], conflicts_with = "edits")]
    pub rename: Option<Vec<String>>,
    /// A JSON file with several edits (format above).
    #[arg(long, value_name = "FILE")]
    pub edits: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The day of the preview (decides which units are closed). Default: today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,
    /// Write the output to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn uuid(s: &str, flag: &str) -> anyhow::Result<FkUuid> {
    FkUuid::parse(s).with_context(|| format!("{flag} {s}"))
}

fn edits_from_args(args: &PreviewArgs, today: NaiveDate) -> anyhow::Result<(Vec<Edit>, Option<String>)> {
    let under = || -> anyhow::Result<FkUuid> {
        let u = args.under.as_deref().context("--under UUID is needed")?;
        uuid(u, "--under")
    };
    if let Some(path) = &args.edits {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading edits file {}", path.display()))?;
        let label = path.display().to_string();
        return Ok((parse_edits_json(&label, &text, today)?, Some(label)));
    }
    let edit = if let Some(name) = &args.create {
        Edit::Create { name: name.clone(), under: under()?, address: None, phone: None }
    } else if let Some(unit) = &args.close {
        Edit::Close { unit: uuid(unit, "--close")?, date: args.date.unwrap_or(today) }
    } else if let Some(unit) = &args.move_unit {
        Edit::Move { unit: uuid(unit, "--move")?, under: under()? }
    } else if let Some([unit, name]) = args.rename.as_deref() {
        Edit::Rename { unit: uuid(unit, "--rename")?, name: name.clone() }
    } else {
        anyhow::bail!(
            "say what to preview: --create NAME --under UUID, --close UUID, --move UUID --under UUID, --rename UUID NAME or --edits FILE"
        );
    };
    Ok((vec![edit], None))
}

pub fn run(args: PreviewArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let today = args.today.unwrap_or_else(|| chrono::Local::now().date_naive());
    let kommune = args.kommune.as_deref().map(KommuneKode::parse).transpose().context("--kommune")?;
    let (edits, edits_file) = edits_from_args(&args, today)?;
    let (fk, sor, links) = match (&args.fkorg, &args.sor, kommune) {
        (Some(fk_path), Some(sor_path), _) => {
            let fk = read_fkorg_file(fk_path)?;
            let sor = read_sor_file(sor_path)?;
            // The current links, computed once: the matcher's own links (above its confidence threshold).
            let proposals = propose(&fk, &sor, &MatchOptions::new(today));
            let links: Vec<(FkUuid, SorId)> = proposals.links().map(|l| (l.fk_uuid, l.sor_id)).collect();
            (fk, sor, links)
        }
        (None, None, Some(kommune)) => load_from_store(ctx, kommune)?,
        _ => anyhow::bail!(
            "give --fkorg FILE and --sor FILE, or only --kommune CODE to use the store's latest snapshots and approved links"
        ),
    };
    tracing::info!(n_links = links.len(), n_edits = edits.len(), "Links ready.");
    let result = preview(&fk, &sor, &links, &edits, today);
    let result = match (&edits_file, result) {
        (Some(file), r) => r.with_context(|| format!("edits file {file}"))?,
        (None, r) => r?,
    };
    let body = match args.format {
        Format::Text => {
            let mut s = String::new();
            if let Some(k) = kommune {
                s.push_str(&format!("Municipality {k}\n"));
            }
            s.push_str(&render_text(&result, &sor));
            s
        }
        Format::Json => serde_json::to_string_pretty(&PreviewDto::from(&result))? + "\n",
        Format::Svg => render_svg(&result, &fk, &sor, &links),
        Format::Html => render_html(&result, &fk, &sor, &links),
    };
    match &args.out {
        Some(path) => std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().lock().write_all(body.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Both trees and the current links between them.
type TreesAndLinks = (FkTree, SorTree, Vec<(FkUuid, SorId)>);

/// The store's latest FK-ORG snapshot of `kommune`, its SOR snapshot (else the national one) and
/// the links approved for it.
fn load_from_store(ctx: &Context, kommune: KommuneKode) -> anyhow::Result<TreesAndLinks> {
    super::block_on(async {
        let store = crate::store::Store::open(&ctx.config.store.database_url)
            .await
            .context("opening the store (see [store] database_url or --database-url)")?;
        let loaded = async {
            let fk = store.latest_fkorg(kommune).await?.with_context(|| {
                format!(
                    "the store holds no FK-ORG snapshot for municipality {kommune}: run `sorsync import fkorg` first"
                )
            })?;
            let sor = match store.latest_sor(Some(kommune)).await? {
                Some(sor) => sor,
                None => store
                    .latest_sor(None)
                    .await?
                    .context("the store holds no SOR snapshot: run `sorsync import sor` first")?,
            };
            let links = store.approved_link_ids(kommune).await?;
            anyhow::Ok((fk, sor, links))
        }
        .await;
        store.close().await;
        loaded
    })
}
