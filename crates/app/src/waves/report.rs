//! Reports per municipality and per wave: units in scope, SOR units, linked %, proposals by kind,
//! pending reviews, applied changes, errors; as JSON, CSV or HTML with a small inline SVG chart.
//! Pure: built from [`MunicipalityStatus`] values, written to any `Write`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use schemars::JsonSchema;
use serde::Serialize;

use maud::{html, Markup, DOCTYPE};

use super::status::MunicipalityStatus;
use crate::spreadsheet::{self, Flavour};

/// The proposal kinds, in the order reports show them.
pub const KINDS: [&str; 6] = ["link", "create", "update", "close", "move", "write_back"];

/// Sums over the municipalities of a wave (or of the report).
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct Totals {
    pub municipalities: usize,
    pub units_in_scope: usize,
    pub sor_units: u64,
    pub linked: usize,
    /// linked / units_in_scope.
    pub coverage: f64,
    pub proposals_by_kind: BTreeMap<String, usize>,
    pub pending: usize,
    pub applied_changes: usize,
    pub failed: usize,
}

/// A report: per wave, its municipalities and totals.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Report {
    pub title: String,
    pub waves: Vec<WaveSection>,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct WaveSection {
    pub wave: String,
    pub municipalities: Vec<MunicipalityStatus>,
    pub totals: Totals,
}

fn totals<'a>(ms: impl IntoIterator<Item = &'a MunicipalityStatus>) -> Totals {
    let mut t = Totals::default();
    for m in ms {
        t.municipalities += 1;
        t.units_in_scope += m.units_in_scope;
        t.sor_units += m.sor_units;
        t.linked += m.linked;
        t.pending += m.pending;
        t.applied_changes += m.applied_changes;
        t.failed += usize::from(m.last_run.as_ref().is_some_and(|r| r.outcome == "failed"));
        for (k, n) in &m.proposals_by_kind {
            *t.proposals_by_kind.entry(k.clone()).or_insert(0) += n;
        }
    }
    t.coverage = if t.units_in_scope == 0 { 0.0 } else { t.linked as f64 / t.units_in_scope as f64 };
    t
}

/// Groups statuses by wave (in the order given) and sums them.
pub fn build(title: &str, statuses: Vec<MunicipalityStatus>) -> Report {
    let mut waves: Vec<WaveSection> = Vec::new();
    for s in statuses {
        match waves.iter_mut().find(|w| w.wave == s.wave) {
            Some(w) => w.municipalities.push(s),
            None => {
                waves.push(WaveSection { wave: s.wave.clone(), municipalities: vec![s], totals: Totals::default() })
            }
        }
    }
    for w in &mut waves {
        w.totals = totals(&w.municipalities);
    }
    let all = totals(waves.iter().flat_map(|w| &w.municipalities));
    Report { title: title.to_string(), waves, totals: all }
}

pub fn write_json<W: Write>(report: &Report, mut w: W) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut w, report)?;
    writeln!(w)
}

/// One row per municipality; `;`-separated like the other CSV output.
pub fn write_csv<W: Write>(report: &Report, w: W) -> io::Result<()> {
    let mut header: Vec<String> = ["wave", "kommunekode", "name", "status", "readiness", "units_in_scope", "sor_units"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(["linked", "linked_pct"].iter().map(|s| s.to_string()));
    header.extend(KINDS.iter().map(|k| format!("proposals_{k}")));
    header.extend(["pending", "applied_changes", "last_run_outcome", "errors"].iter().map(|s| s.to_string()));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut rows = Vec::new();
    for wave in &report.waves {
        for m in &wave.municipalities {
            let mut row = vec![
                m.wave.clone(),
                m.kommune.to_string(),
                m.name.clone(),
                m.status.clone(),
                m.readiness.score(),
                m.units_in_scope.to_string(),
                m.sor_units.to_string(),
                m.linked.to_string(),
                format!("{:.1}", m.coverage * 100.0),
            ];
            row.extend(KINDS.iter().map(|k| m.proposals_by_kind.get(*k).copied().unwrap_or(0).to_string()));
            row.push(m.pending.to_string());
            row.push(m.applied_changes.to_string());
            row.push(m.last_run.as_ref().map(|r| r.outcome.clone()).unwrap_or_default());
            row.push(m.errors.join(" | "));
            rows.push(spreadsheet::text_row(row));
        }
    }
    spreadsheet::write(w, Flavour::Data, &header, rows)
}

/// A horizontal bar per municipality: linked % of the units in scope.
fn chart(ms: &[MunicipalityStatus]) -> Markup {
    const BAR: f64 = 300.0;
    let row_h = 18;
    let height = row_h * ms.len() + 10;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width="520" height=(height) role="img"
            aria-label="Linked share of units in scope per municipality" {
            @for (i, m) in ms.iter().enumerate() {
                @let y = 5 + i * row_h;
                text x="0" y=(y + 12) font-size="12" { (m.name) " (" (m.kommune) ")" }
                rect x="150" y=(y) width=(BAR) height="14" fill="#eee" {}
                rect x="150" y=(y) width=((m.coverage.clamp(0.0, 1.0) * BAR).round()) height="14" fill="#2a7" {}
                text x=(150.0 + BAR + 6.0) y=(y + 12) font-size="12" { (format!("{:.0} %", m.coverage * 100.0)) }
            }
        }
    }
}

/// A standalone HTML page (a maud template: every value is escaped by construction).
pub fn write_html<W: Write>(report: &Report, mut w: W) -> io::Result<()> {
    let style = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
                 td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td.t,th.t{text-align:left}\
                 .failed{color:#b00}";
    let t = &report.totals;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (report.title) }
                style { (style) }
            }
            body {
                h1 { (report.title) }
                p {
                    (t.municipalities) " municipalities, " (t.units_in_scope) " units in scope, " (t.linked) " linked ("
                    (format!("{:.1}", t.coverage * 100.0)) " %), " (t.pending) " pending reviews, "
                    (t.applied_changes) " applied changes, " (t.failed) " failed."
                }
                @for wave in &report.waves {
                    h2 { "Wave " (wave.wave) }
                    (chart(&wave.municipalities))
                    table {
                        tr {
                            th.t { "Municipality" } th.t { "Status" } th { "Readiness" } th { "Units in scope" }
                            th { "SOR units" } th { "Linked" } th { "Linked %" }
                            @for k in KINDS { th { (k) } }
                            th { "Pending" } th { "Applied" } th.t { "Last run" } th.t { "Errors" }
                        }
                        @for m in &wave.municipalities {
                            @let outcome = m.last_run.as_ref().map(|r| r.outcome.as_str()).unwrap_or("");
                            tr {
                                td.t { (m.name) " (" (m.kommune) ")" }
                                td.t { (m.status) }
                                td title={ "missing: " (m.readiness.missing.iter().map(|i| i.key()).collect::<Vec<_>>().join(", ")) } {
                                    (m.readiness.score())
                                }
                                td { (m.units_in_scope) }
                                td { (m.sor_units) }
                                td { (m.linked) }
                                td { (format!("{:.1}", m.coverage * 100.0)) }
                                @for k in KINDS { td { (m.proposals_by_kind.get(k).copied().unwrap_or(0)) } }
                                td { (m.pending) }
                                td { (m.applied_changes) }
                                td class={ "t " (outcome) } { (outcome) }
                                td.t.failed { (m.errors.join("; ")) }
                            }
                        }
                    }
                }
            }
        }
    };
    writeln!(w, "{}", page.into_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::KommuneKode;
    use crate::waves::status::{LastRun, Readiness};

    fn status(name: &str, error: &str) -> MunicipalityStatus {
        MunicipalityStatus {
            wave: "pilots".into(),
            kommune: KommuneKode::parse("320").expect("a code"),
            name: name.into(),
            status: "pilot".into(),
            readiness: Readiness { met: vec![], missing: vec![] },
            units_in_scope: 10,
            linked: 4,
            coverage: 0.4,
            sor_units: 7,
            pending: 3,
            proposals_by_kind: [("link".to_string(), 5)].into_iter().collect(),
            applied_changes: 0,
            last_run: Some(LastRun {
                run_id: 1,
                dry_run: false,
                started_at: "t".into(),
                finished_at: None,
                outcome: "failed".into(),
                error: Some(error.into()),
            }),
            errors: vec![error.into()],
        }
    }

    #[test]
    fn html_escapes_names_and_errors() {
        let r = build("Wave report", vec![status("<Faxe & Co>", "bad \"file\" <x>")]);
        let mut out = Vec::new();
        write_html(&r, &mut out).expect("writes");
        let html = String::from_utf8(out).expect("utf-8");
        assert!(html.contains("&lt;Faxe &amp; Co&gt;"), "{html}");
        assert!(!html.contains("<Faxe"));
        assert!(html.contains("bad &quot;file&quot; &lt;x&gt;"));
        assert!(html.contains("<svg"));
    }

    #[test]
    fn totals_sum_the_wave() {
        let r = build("r", vec![status("A", "x"), status("B", "y")]);
        assert_eq!(r.totals.units_in_scope, 20);
        assert_eq!(r.totals.failed, 2);
        assert_eq!(r.totals.proposals_by_kind.get("link"), Some(&10));
        assert!((r.totals.coverage - 0.4).abs() < 1e-9);
    }
}
