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

/// Examples shown by `sorsync preview --help`.
pub(super) const EXAMPLES: &str = "\
Units are named by FK-ORG UUID or by name (a name must match one unit; otherwise the candidates are listed).
The current links come from matching the two files, or with --kommune alone from the store's approved links.

Examples:
  sorsync preview --fkorg fkorg.json --sor sor.xml --close \"Plejecenter Solgården\"
  sorsync preview --fkorg fkorg.json --sor sor.xml --create \"Hjemmeplejen Syd\" --under \"Hjemmeplejen\"
  sorsync preview --kommune 320 --move 3f2c0a4e-0000-4000-8000-000000000001 --under \"Sundhed og Omsorg\"
  sorsync preview --kommune 320 --rename \"Afsnit A\" \"Afsnit Ahorn\" --format html --out preview.html
  sorsync preview --kommune 320 --edits edits.json --format json";

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
    /// The FK-ORG parent for --create or --move: its UUID or its name.
    #[arg(long, value_name = "UNIT")]
    pub under: Option<String>,
    /// Close this FK-ORG unit (and everything below it): its UUID or its name.
    #[arg(long, value_name = "UNIT", conflicts_with_all = ["move_unit", "rename", "edits"])]
    pub close: Option<String>,
    /// The closing date for --close. Default: --today.
    #[arg(long, value_name = "YYYY-MM-DD", requires = "close")]
    pub date: Option<NaiveDate>,
    /// Move this FK-ORG unit (UUID or name) under --under.
    #[arg(long = "move", value_name = "UNIT", requires = "under", conflicts_with_all = ["rename", "edits"])]
    pub move_unit: Option<String>,
    /// Rename an FK-ORG unit (UUID or name): --rename UNIT NEW-NAME.
    #[arg(long, num_args = 2, value_names = ["UNIT", "NEW-NAME"], conflicts_with = "edits")]
    pub rename: Option<Vec<String>>,
    /// A JSON file with several edits, units by UUID:
    /// {"edits":[{"action":"create","name":"..","under":"<uuid>"}, {"action":"close","unit":"<uuid>",
    /// "date":"YYYY-MM-DD"}, {"action":"move","unit":"<uuid>","under":"<uuid>"},
    /// {"action":"rename","unit":"<uuid>","name":".."}]}
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

/// The FK-ORG unit `given` names: a UUID in the tree, else the one unit with that name (case and
/// surrounding spaces aside). Several or none: an error naming the flag and listing the candidates.
pub fn find_unit(fk: &FkTree, given: &str, flag: &str) -> anyhow::Result<FkUuid> {
    if let Ok(id) = FkUuid::parse(given) {
        if fk.get(id).is_some() {
            return Ok(id);
        }
        anyhow::bail!("{flag} {given}: this UUID is not in the FK-ORG tree");
    }
    let want = given.trim().to_lowercase();
    let exact: Vec<usize> = (0..fk.len()).filter(|&i| fk.units[i].enhedsnavn.trim().to_lowercase() == want).collect();
    let list = |found: &[usize]| -> String {
        let mut lines: Vec<String> =
            found.iter().take(20).map(|&i| format!("  {}  {}", fk.units[i].uuid, fk.path_names(i))).collect();
        if found.len() > 20 {
            lines.push(format!("  ... and {} more", found.len() - 20));
        }
        lines.join("\n")
    };
    match exact.as_slice() {
        [one] => Ok(fk.units[*one].uuid),
        [] => {
            let partial: Vec<usize> =
                (0..fk.len()).filter(|&i| fk.units[i].enhedsnavn.to_lowercase().contains(&want)).collect();
            if partial.is_empty() {
                anyhow::bail!("{flag} {given:?}: no FK-ORG unit has this name or UUID");
            }
            anyhow::bail!(
                "{flag} {given:?}: no FK-ORG unit has exactly this name; units whose name contains it:\n{}\n\
                 give the full name or the UUID",
                list(&partial)
            )
        }
        several => anyhow::bail!(
            "{flag} {given:?}: {} FK-ORG units have this name:\n{}\ngive the UUID of the one you mean",
            several.len(),
            list(several)
        ),
    }
}

fn edits_from_args(args: &PreviewArgs, today: NaiveDate, fk: &FkTree) -> anyhow::Result<(Vec<Edit>, Option<String>)> {
    let uuid = |s: &str, flag: &str| find_unit(fk, s, flag);
    let under = || -> anyhow::Result<FkUuid> {
        let u = args.under.as_deref().context("--under UNIT is needed (a UUID or a unit's name)")?;
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
            "say what to preview: --create NAME --under UNIT, --close UNIT, --move UNIT --under UNIT, \
             --rename UNIT NEW-NAME or --edits FILE (UNIT: an FK-ORG UUID or a unit's name)"
        );
    };
    Ok((vec![edit], None))
}

pub fn run(args: PreviewArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let today = args.today.unwrap_or_else(|| chrono::Local::now().date_naive());
    let kommune = args.kommune.as_deref().map(KommuneKode::parse).transpose().context("--kommune")?;
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
    let (edits, edits_file) = edits_from_args(&args, today, &fk)?;
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
        let store = super::import::open_existing_store(ctx).await?;
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
