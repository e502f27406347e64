//! `sorsync snapshots`: lists the stored snapshots as a table or as JSON.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::import::open_existing_store;
use super::{block_on, Context};
use crate::store::SnapshotInfo;

#[derive(Debug, Args)]
pub struct SnapshotsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned table, oldest first.
    Text,
    /// `{"snapshots":[{"id","register","kommune","cvr","units","users","imported_at","source","content_hash"}]}`.
    Json,
}

/// The JSON shape of one snapshot (a contract: scripts read it).
#[derive(Debug, Serialize)]
struct SnapshotJson<'a> {
    id: i64,
    register: &'static str,
    kommune: Option<String>,
    cvr: Option<String>,
    units: u64,
    users: u64,
    imported_at: String,
    source: &'a str,
    content_hash: &'a str,
}

#[derive(Debug, Serialize)]
struct SnapshotsJson<'a> {
    snapshots: Vec<SnapshotJson<'a>>,
}

pub fn run(args: SnapshotsArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let snapshots = block_on(async {
        let store = open_existing_store(ctx).await?;
        let list = store.list_snapshots().await.context("listing snapshots");
        store.close().await;
        list
    })?;
    match args.format {
        Format::Text => print!("{}", text_table(&snapshots)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&to_json(&snapshots))?),
    }
    Ok(ExitCode::SUCCESS)
}

fn imported_at(s: &SnapshotInfo) -> String {
    s.imported_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn to_json(snapshots: &[SnapshotInfo]) -> SnapshotsJson<'_> {
    SnapshotsJson {
        snapshots: snapshots
            .iter()
            .map(|s| SnapshotJson {
                id: s.id,
                register: s.register.as_str(),
                kommune: s.kommune.map(|k| k.to_string()),
                cvr: s.cvr.map(|c| c.to_string()),
                units: s.units,
                users: s.users,
                imported_at: imported_at(s),
                source: &s.source,
                content_hash: &s.content_hash,
            })
            .collect(),
    }
}

fn text_table(snapshots: &[SnapshotInfo]) -> String {
    if snapshots.is_empty() {
        return "No snapshots yet. Store one with `sorsync import sor FILE` or `sorsync import fkorg FILE --kommune CODE`.\n"
            .to_string();
    }
    let header = ["id", "register", "kommune", "units", "users", "imported_at", "source"].map(String::from);
    let rows: Vec<[String; 7]> = snapshots
        .iter()
        .map(|s| {
            [
                s.id.to_string(),
                s.register.as_str().to_string(),
                s.kommune.map_or_else(|| "national".to_string(), |k| k.to_string()),
                s.units.to_string(),
                s.users.to_string(),
                imported_at(s),
                s.source.clone(),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let numeric = [true, false, false, true, true, false, false];
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .zip(numeric)
            .enumerate()
            .map(|(i, ((cell, w), right))| match (right, i == row.len() - 1) {
                (_, true) => cell.clone(),
                (true, false) => format!("{cell:>w$}"),
                (false, false) => format!("{cell:<w$}"),
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
