//! `sorsync audit --kommune CODE [--format text|json|csv]`: the append-only audit log of a
//! municipality: every decision and every write, who and when, with the values before and after.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::import::open_existing_store;
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
        let store = open_existing_store(ctx).await?;
        let log = async {
            super::import::require_municipality_data(&store, ctx, args.kommune).await?;
            store.audit_log(args.kommune).await.context("reading the audit log")
        }
        .await;
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

/// `2026-11-22 08:00:00 UTC  anna  approve  proposal #12  before: name Foo  after: name Bar  (reason)`:
/// values in words, not JSON (`--format json` has them as stored).
fn text_line(e: &AuditEntry) -> String {
    let who = if e.automatic { format!("{} (automatic)", e.actor) } else { e.actor.clone() };
    let proposal = e.proposal_id.map(|p| format!("  proposal #{p}")).unwrap_or_default();
    let key = e.key.as_deref().map(|k| format!("  key {k}")).unwrap_or_default();
    let value = |t: &str| serde_json::from_str::<serde_json::Value>(t).map(|v| plain(&v)).unwrap_or(t.to_string());
    let change = match (e.before.as_deref(), e.after.as_deref()) {
        (Some(b), Some(a)) => match (serde_json::from_str(b), serde_json::from_str(a)) {
            (Ok(serde_json::Value::Object(b)), Ok(serde_json::Value::Object(a))) => what_changed(&b, &a),
            _ => format!("  before: {}  after: {}", value(b), value(a)),
        },
        (None, Some(a)) => format!("  {}", value(a)),
        (Some(b), None) => format!("  before: {}", value(b)),
        (None, None) => String::new(),
    };
    let detail = e.detail.as_deref().map(|d| format!("  ({})", value(d))).unwrap_or_default();
    format!("{}  {who}  {}{proposal}{key}{change}{detail}", readable_time(&e.at), e.action)
}

/// `2026-11-22T08:00:00.000Z` as `2026-11-22 08:00:00 UTC` (other text as it is).
pub(super) fn readable_time(at: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(t) => t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => at.to_string(),
    }
}

/// Fields that differ between two stored records, as `  status: pending -> approved` (record
/// bookkeeping such as ids, hashes and the proposal body is left to `--format json`).
fn what_changed(
    before: &serde_json::Map<String, serde_json::Value>,
    after: &serde_json::Map<String, serde_json::Value>,
) -> String {
    const BOOKKEEPING: &[&str] = &["proposal", "data_hash", "fk_snapshot_id", "sor_snapshot_id", "decision_id"];
    let null = serde_json::Value::Null;
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let parts: Vec<String> = keys
        .into_iter()
        .filter(|k| !BOOKKEEPING.contains(&k.as_str()))
        .filter_map(|k| {
            let (b, a) = (before.get(k).unwrap_or(&null), after.get(k).unwrap_or(&null));
            (b != a).then(|| format!("{}: {} -> {}", k.replace('_', " "), plain(b), plain(a)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("  {}", parts.join(", "))
    }
}

/// A stored JSON value in words: `field value, field value`; lists joined with commas.
fn plain(v: &serde_json::Value) -> String {
    use serde_json::Value as V;
    match v {
        V::Null => "-".to_string(),
        V::String(s) => s.clone(),
        V::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        V::Number(n) => n.to_string(),
        V::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        V::Object(fields) => fields
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                V::Object(_) => format!("{} ({})", k.replace('_', " "), plain(v)),
                _ => format!("{} {}", k.replace('_', " "), plain(v)),
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_values_read_as_words_not_json() {
        let v = serde_json::json!({"status": "approved", "sor_id": "123", "changes": [{"field": "name", "to": "B"}]});
        assert_eq!(plain(&v), "changes field name, to B, sor id 123, status approved");
        assert_eq!(readable_time("2026-11-22T08:00:00.000Z"), "2026-11-22 08:00:00 UTC");
        let before = serde_json::json!({"status": "pending", "data_hash": "ab", "proposal": {"kind": "link"}});
        let after = serde_json::json!({"status": "approved", "decision_id": 4});
        let (serde_json::Value::Object(b), serde_json::Value::Object(a)) = (before, after) else { unreachable!() };
        assert_eq!(what_changed(&b, &a), "  status: pending -> approved");
    }
}
