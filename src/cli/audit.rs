//! `sorsync audit --kommune CODE [--format text|json|csv]`: the append-only audit log of a
//! municipality: every decision and every write, who and when, with the values before and after.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::import::open_store;
use super::{block_on, Context};
use crate::domain::KommuneKode;
use crate::spreadsheet::{self, Cell, Flavour};
use crate::store::AuditEntry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    /// `{"entries":[{"id","kommune","at","actor","automatic","action","proposal_id","key","before","after","detail"}]}`.
    Json,
    /// Semicolon-separated UTF-8 with BOM, for Excel.
    Csv,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Municipality code (kommunekode).
    #[arg(long, value_name = "CODE", value_parser = KommuneKode::parse)]
    pub kommune: KommuneKode,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Serialize)]
struct EntryJson<'a> {
    id: i64,
    kommune: String,
    at: &'a str,
    actor: &'a str,
    automatic: bool,
    action: &'a str,
    proposal_id: Option<i64>,
    key: Option<&'a str>,
    before: serde_json::Value,
    after: serde_json::Value,
    detail: Option<&'a str>,
}

fn json_of(text: Option<&str>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or(serde_json::Value::Null)
}

pub fn run(args: AuditArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let entries = block_on(async {
        let store = open_store(ctx).await?;
        let log = store.audit_log(args.kommune).await.context("reading the audit log");
        store.close().await;
        log
    })?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let list: Vec<EntryJson<'_>> = entries.iter().map(entry_json).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&serde_json::json!({ "entries": list }))?)?;
        }
        Format::Csv => {
            let header =
                ["Id", "Tidspunkt", "Hvem", "Automatisk", "Handling", "Forslag", "Nøgle", "Før", "Efter", "Bemærkning"];
            let rows = entries.iter().map(csv_row);
            spreadsheet::write(&mut out, Flavour::Excel, &header, rows)?;
        }
        Format::Text => {
            for e in &entries {
                writeln!(out, "{}", text_line(e))?;
            }
            writeln!(out, "{} entries", entries.len())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn entry_json(e: &AuditEntry) -> EntryJson<'_> {
    EntryJson {
        id: e.id,
        kommune: e.kommune.to_string(),
        at: &e.at,
        actor: &e.actor,
        automatic: e.automatic,
        action: &e.action,
        proposal_id: e.proposal_id,
        key: e.key.as_deref(),
        before: json_of(e.before.as_deref()),
        after: json_of(e.after.as_deref()),
        detail: e.detail.as_deref(),
    }
}

fn csv_row(e: &AuditEntry) -> Vec<Cell> {
    let opt = |v: Option<&str>| Cell::text(v.unwrap_or_default());
    vec![
        Cell::number(e.id),
        Cell::text(&e.at),
        Cell::text(&e.actor),
        Cell::text(if e.automatic { "ja" } else { "nej" }),
        Cell::text(&e.action),
        Cell::number(e.proposal_id.map(|p| p.to_string()).unwrap_or_default()),
        Cell::opt_id(e.key.as_deref()),
        opt(e.before.as_deref()),
        opt(e.after.as_deref()),
        opt(e.detail.as_deref()),
    ]
}

/// `2026-11-22T08:00:00.000Z  anna  approve  #12  before {...} after {...}  (reason)`.
fn text_line(e: &AuditEntry) -> String {
    let who = if e.automatic { format!("{} (automatic)", e.actor) } else { e.actor.clone() };
    let proposal = e.proposal_id.map(|p| format!("  #{p}")).unwrap_or_default();
    let key = e.key.as_deref().map(|k| format!("  key {k}")).unwrap_or_default();
    let change = match (e.before.as_deref(), e.after.as_deref()) {
        (Some(b), Some(a)) if e.action.starts_with("write") => format!("  before {b}  after {a}"),
        (_, Some(a)) => format!("  -> {a}"),
        _ => String::new(),
    };
    let detail = e.detail.as_deref().map(|d| format!("  ({d})")).unwrap_or_default();
    format!("{}  {who}  {}{proposal}{key}{change}{detail}", e.at, e.action)
}
