//! Rendering contact reports as text, JSON and CSV (for Danish Excel). Pure: returns strings.
//!
//! # JSON contract (one municipality, `--format json`)
//! ```text
//! {
//!   "kommune": "370" | null,          // municipality code, when known (3 digits)
//!   "cvr": "11111111" | null,         // the municipality's CVR number from FK-ORG
//!   "name": "Korsbæk Kommune",        // the root unit's name
//!   "role_holders": 6,                // AKTIV users with a membership of an AKTIV unit (people, not memberships)
//!   "missing_both": 2,                // role holders with neither a valid direct nor a valid mobile number
//!   "share_missing": 0.3333,          // missing_both / role_holders, a fraction 0..1 (0 when no role holders)
//!   "malformed": 1,                   // role holders with at least one malformed number
//!   "counts": {"both": 1, "landline_only": 1, "mobile_only": 2, "neither": 2},
//!   "by_branch": [{"uuid", "name", "is_root", "role_holders", "missing_both", "share_missing"}],
//!   "people": [Person],               // role holders lacking both numbers
//!   "malformed_but_reachable": [Person], // one valid number, the other malformed
//!   "units_in_scope": 10,             // AKTIV units that go to SOR
//!   "units_without_phone": [{"uuid", "name", "path", "malformed": [Malformed]}]
//! }
//! Person = {
//!   "uuid", "user_name" (brugernavn), "name" (person navn, may be null),
//!   "title", "unit", "unit_path"      // of the person's first role (title may be null)
//!   "units": [{"uuid", "name", "path", "title"}],   // every role the person holds
//!   "landline", "mobile",             // raw values as registered in FK-ORG, null when absent
//!   "problem": "no_numbers" | "malformed",  // nothing registered / something malformed registered
//!   "malformed": [Malformed]
//! }
//! Malformed = {"field": "landline" | "mobile", "raw": "12 34"}
//! ```
//! `branch` entries: the children of the root in tree order; an entry with `"is_root": true` first
//! holds the role holders of the root unit itself. A person counts once in each branch they hold a
//! role in. Paths are unit names from the root, joined with `" / "`.
//!
//! Several municipalities (`--dir`, `--all`): `{"role_holders", "missing_both", "share_missing",
//! "municipalities": [Summary], "reports": [the object above]}` with `Summary = {"kommune", "cvr",
//! "name", "role_holders", "missing_both", "share_missing", "malformed", "units_in_scope",
//! "units_without_phone"}` (a count), sorted by `share_missing`, highest first.
//!
//! # CSV
//! Semicolon-separated UTF-8 with a byte-order mark and CRLF line ends: Danish Excel opens that
//! with the right columns and with æ, ø, å intact. Headers are in Danish with KLIK's field names.
//! Ids, CVR, kommune codes and phone numbers are written as Excel text formulas (`="12345678"`)
//! so that Excel neither turns them into numbers (losing leading zeros, or showing 1E+14) nor runs
//! a raw value like `+45 12 34 56 78` as a formula; Excel shows the plain value. Free-text cells
//! that a spreadsheet would run are guarded the same way; see [`crate::spreadsheet`], which writes
//! every CSV file sorsync makes.

use std::fmt::Write as _;

use serde::Serialize;

use crate::spreadsheet::{self, Cell, Flavour};

use super::report::{ContactReport, MalformedPhone, Person, SummaryRow, UnitWithoutPhone};

#[derive(Serialize)]
struct ReportDto<'a> {
    kommune: Option<String>,
    cvr: Option<String>,
    name: &'a str,
    role_holders: usize,
    missing_both: usize,
    share_missing: f64,
    malformed: usize,
    counts: CountsDto,
    by_branch: Vec<BranchDto<'a>>,
    people: Vec<PersonDto<'a>>,
    malformed_but_reachable: Vec<PersonDto<'a>>,
    units_in_scope: usize,
    units_without_phone: Vec<UnitDto<'a>>,
}

#[derive(Serialize)]
struct CountsDto {
    both: usize,
    landline_only: usize,
    mobile_only: usize,
    neither: usize,
}

#[derive(Serialize)]
struct BranchDto<'a> {
    uuid: String,
    name: &'a str,
    is_root: bool,
    role_holders: usize,
    missing_both: usize,
    share_missing: f64,
}

#[derive(Serialize)]
struct PersonDto<'a> {
    uuid: String,
    user_name: &'a str,
    name: Option<&'a str>,
    title: Option<&'a str>,
    unit: &'a str,
    unit_path: &'a str,
    units: Vec<PlacementDto<'a>>,
    landline: Option<&'a str>,
    mobile: Option<&'a str>,
    problem: &'static str,
    malformed: Vec<MalformedDto<'a>>,
}

#[derive(Serialize)]
struct PlacementDto<'a> {
    uuid: String,
    name: &'a str,
    path: &'a str,
    title: Option<&'a str>,
}

#[derive(Serialize)]
struct MalformedDto<'a> {
    field: &'static str,
    raw: &'a str,
}

#[derive(Serialize)]
struct UnitDto<'a> {
    uuid: String,
    name: &'a str,
    path: &'a str,
    malformed: Vec<MalformedDto<'a>>,
}

#[derive(Serialize)]
struct SummaryDto<'a> {
    kommune: Option<String>,
    cvr: Option<String>,
    name: &'a str,
    role_holders: usize,
    missing_both: usize,
    share_missing: f64,
    malformed: usize,
    units_in_scope: usize,
    units_without_phone: usize,
}

#[derive(Serialize)]
struct ManyDto<'a> {
    role_holders: usize,
    missing_both: usize,
    share_missing: f64,
    municipalities: Vec<SummaryDto<'a>>,
    reports: Vec<ReportDto<'a>>,
}

fn malformed_dto(m: &[MalformedPhone]) -> Vec<MalformedDto<'_>> {
    m.iter().map(|b| MalformedDto { field: b.field.as_str(), raw: &b.raw }).collect()
}

/// Short code for what is wrong with a person's numbers.
fn problem_code(p: &Person) -> &'static str {
    if p.malformed.is_empty() {
        "no_numbers"
    } else {
        "malformed"
    }
}

fn person_dto(p: &Person) -> PersonDto<'_> {
    let first = p.placements.first();
    PersonDto {
        uuid: p.uuid.to_string(),
        user_name: &p.user_name,
        name: p.name.as_deref(),
        title: first.and_then(|f| f.title.as_deref()),
        unit: first.map(|f| f.unit_name.as_str()).unwrap_or_default(),
        unit_path: first.map(|f| f.unit_path.as_str()).unwrap_or_default(),
        units: p
            .placements
            .iter()
            .map(|f| PlacementDto {
                uuid: f.unit_uuid.to_string(),
                name: &f.unit_name,
                path: &f.unit_path,
                title: f.title.as_deref(),
            })
            .collect(),
        landline: p.landline_raw.as_deref(),
        mobile: p.mobile_raw.as_deref(),
        problem: problem_code(p),
        malformed: malformed_dto(&p.malformed),
    }
}

fn unit_dto(u: &UnitWithoutPhone) -> UnitDto<'_> {
    UnitDto { uuid: u.uuid.to_string(), name: &u.name, path: &u.path, malformed: malformed_dto(&u.malformed) }
}

fn report_dto(r: &ContactReport) -> ReportDto<'_> {
    ReportDto {
        kommune: r.kommune.map(|k| k.to_string()),
        cvr: r.cvr.map(|c| c.to_string()),
        name: &r.name,
        role_holders: r.role_holders(),
        missing_both: r.missing_both_count(),
        share_missing: r.share_missing(),
        malformed: r.malformed,
        counts: CountsDto {
            both: r.counts.both,
            landline_only: r.counts.landline_only,
            mobile_only: r.counts.mobile_only,
            neither: r.counts.neither,
        },
        by_branch: r
            .by_branch
            .iter()
            .map(|b| BranchDto {
                uuid: b.uuid.to_string(),
                name: &b.name,
                is_root: b.is_root,
                role_holders: b.role_holders,
                missing_both: b.missing_both,
                share_missing: b.share_missing(),
            })
            .collect(),
        people: r.missing_both.iter().map(person_dto).collect(),
        malformed_but_reachable: r.malformed_but_reachable.iter().map(person_dto).collect(),
        units_in_scope: r.units_in_scope,
        units_without_phone: r.units_without_phone.iter().map(unit_dto).collect(),
    }
}

fn summary_dto(s: &SummaryRow) -> SummaryDto<'_> {
    SummaryDto {
        kommune: s.kommune.map(|k| k.to_string()),
        cvr: s.cvr.map(|c| c.to_string()),
        name: &s.name,
        role_holders: s.role_holders,
        missing_both: s.missing_both,
        share_missing: s.share_missing,
        malformed: s.malformed,
        units_in_scope: s.units_in_scope,
        units_without_phone: s.units_without_phone,
    }
}

/// One municipality's report as pretty JSON (contract in the module docs).
pub fn report_json(r: &ContactReport) -> String {
    to_json(&report_dto(r))
}

/// Several municipalities: totals, the summary sorted by share missing, and every report.
pub fn many_json(reports: &[ContactReport]) -> String {
    let rows = super::report::summarise(reports);
    let (role_holders, missing_both, share_missing) = super::report::totals(&rows);
    to_json(&ManyDto {
        role_holders,
        missing_both,
        share_missing,
        municipalities: rows.iter().map(summary_dto).collect(),
        reports: reports.iter().map(report_dto).collect(),
    })
}

fn to_json<T: Serialize>(v: &T) -> String {
    // Serialising plain structs of strings and numbers cannot fail; keep a readable fallback anyway.
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}

/// `12.5 %` (one decimal).
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// How a municipality is named in tables: "Korsbæk Kommune (370)".
pub fn municipality_label(name: &str, kommune: Option<crate::domain::KommuneKode>) -> String {
    match kommune {
        Some(k) => format!("{name} ({k})"),
        None => name.to_string(),
    }
}

/// A plain-text table (widths by characters, so æøå line up). Columns whose header is in
/// `numeric` are right-aligned.
fn table(out: &mut String, header: &[&str], numeric: &[&str], rows: &[Vec<String>], indent: &str) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let right: Vec<bool> = header.iter().map(|h| numeric.contains(h)).collect();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::from(indent);
        for (i, cell) in cells.enumerate() {
            let pad = " ".repeat(widths[i].saturating_sub(cell.chars().count()));
            if i > 0 {
                l.push_str("  ");
            }
            if right[i] {
                l.push_str(&pad);
                l.push_str(cell);
            } else {
                l.push_str(cell);
                l.push_str(&pad);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(out, &mut header.iter().copied());
    let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(out, &mut rules.iter().map(String::as_str));
    for row in rows {
        line(out, &mut row.iter().map(String::as_str));
    }
}

fn describe_problem(p: &Person) -> String {
    if p.malformed.is_empty() {
        return "no numbers".to_string();
    }
    let parts: Vec<String> = p
        .malformed
        .iter()
        .map(|m| format!("malformed {}: {:?}", if m.field.as_str() == "landline" { "direct" } else { "mobile" }, m.raw))
        .collect();
    parts.join(", ")
}

/// One line per role; the person's name, user name and problem only on their first line.
fn people_rows(people: &[Person]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for p in people {
        for (i, f) in p.placements.iter().enumerate() {
            let first = i == 0;
            rows.push(vec![
                if first { p.name.clone().unwrap_or_default() } else { String::new() },
                if first { p.user_name.clone() } else { String::new() },
                f.title.clone().unwrap_or_else(|| "-".into()),
                f.unit_path.clone(),
                if first { describe_problem(p) } else { String::new() },
            ]);
        }
    }
    rows
}

fn join_paths(p: &Person) -> String {
    p.placements.iter().map(|f| f.unit_path.as_str()).collect::<Vec<_>>().join(" | ")
}

/// One municipality as a readable summary with tables.
pub fn report_text(r: &ContactReport) -> String {
    let mut out = String::new();
    let mut ids = Vec::new();
    if let Some(k) = r.kommune {
        ids.push(format!("kommune {k}"));
    }
    if let Some(c) = r.cvr {
        ids.push(format!("CVR {c}"));
    }
    let ids = if ids.is_empty() { String::new() } else { format!(" ({})", ids.join(", ")) };
    let _ = writeln!(out, "Contact numbers: {}{ids}", r.name);
    let _ = writeln!(
        out,
        "Role holders: {}. Lacking both a direct and a mobile number: {} ({}). With a malformed number: {}.",
        r.role_holders(),
        r.missing_both_count(),
        percent(r.share_missing()),
        r.malformed
    );
    let c = r.counts;
    let _ = writeln!(
        out,
        "Both numbers: {}, direct only: {}, mobile only: {}, neither: {}.",
        c.both, c.landline_only, c.mobile_only, c.neither
    );
    if !r.by_branch.is_empty() {
        let _ = writeln!(out, "\nBy top-level branch:");
        let rows: Vec<Vec<String>> = r
            .by_branch
            .iter()
            .map(|b| {
                let name = if b.is_root { format!("{} (the root unit itself)", b.name) } else { b.name.clone() };
                vec![name, b.role_holders.to_string(), b.missing_both.to_string(), percent(b.share_missing())]
            })
            .collect();
        let header = ["Branch", "Role holders", "Missing both", "Share"];
        table(&mut out, &header, &header[1..], &rows, "  ");
    }
    let header = ["Name", "User name", "Title", "Unit", "Problem"];
    if r.missing_both.is_empty() {
        let _ = writeln!(out, "\nEvery role holder has a direct or a mobile number.");
    } else {
        let _ = writeln!(out, "\nRole holders lacking both numbers ({}):", r.missing_both.len());
        table(&mut out, &header, &[], &people_rows(&r.missing_both), "  ");
    }
    if !r.malformed_but_reachable.is_empty() {
        let _ = writeln!(out, "\nReachable, but with a malformed number to fix ({}):", r.malformed_but_reachable.len());
        table(&mut out, &header, &[], &people_rows(&r.malformed_but_reachable), "  ");
    }
    if r.units_without_phone.is_empty() {
        let _ = writeln!(out, "\nEvery unit in scope ({}) has a phone for SOR.", r.units_in_scope);
    } else {
        let _ = writeln!(
            out,
            "\nUnits that would go to SOR without a phone ({} of {} in scope; none of their own, none inherited):",
            r.units_without_phone.len(),
            r.units_in_scope
        );
        for u in &r.units_without_phone {
            let bad: Vec<String> =
                u.malformed.iter().map(|m| format!("malformed {}: {:?}", m.field.as_str(), m.raw)).collect();
            if bad.is_empty() {
                let _ = writeln!(out, "  {}", u.path);
            } else {
                let _ = writeln!(out, "  {}  ({})", u.path, bad.join(", "));
            }
        }
    }
    out
}

/// Several municipalities: a summary table, highest share missing first, and totals.
pub fn many_text(reports: &[ContactReport]) -> String {
    let rows = super::report::summarise(reports);
    let (rh, mb, share) = super::report::totals(&rows);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Contact numbers in {} municipalities: {rh} role holders, {mb} lacking both numbers ({}).\n",
        rows.len(),
        percent(share)
    );
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|s| {
            vec![
                s.kommune.map(|k| k.to_string()).unwrap_or_else(|| "-".into()),
                s.name.clone(),
                s.role_holders.to_string(),
                s.missing_both.to_string(),
                percent(s.share_missing),
                s.malformed.to_string(),
                format!("{} of {}", s.units_without_phone, s.units_in_scope),
            ]
        })
        .collect();
    let header = ["Kommune", "Name", "Role holders", "Missing both", "Share", "Malformed", "Units without phone"];
    table(&mut out, &header, &header[2..], &cells, "");
    out
}

/// Danish headers with KLIK's names for the fields.
pub const PEOPLE_HEADER: [&str; 12] = [
    "Kommune",
    "CVR",
    "Navn",
    "Brugernavn",
    "Titel",
    "Enhed",
    "Sti",
    "Direkte nummer",
    "Mobil nummer",
    "Problem",
    "Bruger-UUID",
    "Enheds-UUID",
];

/// What is wrong, in Danish, for the spreadsheets.
pub fn problem_da(p: &Person) -> String {
    let mut parts = Vec::new();
    if p.lacks_both() {
        parts.push("Hverken direkte nummer eller mobilnummer".to_string());
    }
    for m in &p.malformed {
        let field = if m.field.as_str() == "landline" { "direkte nummer" } else { "mobilnummer" };
        parts.push(format!("Ugyldigt {field}: {}", m.raw));
    }
    parts.join("; ")
}

/// The cells of one person's row (as strings, before CSV protection). The first of a person's
/// units gives the unit columns; further units are joined with " | ".
pub struct PersonRow {
    pub kommune: Option<String>,
    pub cvr: Option<String>,
    pub name: String,
    pub user_name: String,
    pub titles: String,
    pub units: String,
    pub paths: String,
    pub landline: Option<String>,
    pub mobile: Option<String>,
    pub problem: String,
    pub user_uuid: String,
    pub unit_uuids: String,
}

/// The rows for every person a report lists: lacking both numbers first, then reachable with a
/// malformed number.
pub fn person_rows(r: &ContactReport) -> Vec<PersonRow> {
    r.missing_both
        .iter()
        .chain(&r.malformed_but_reachable)
        .map(|p| PersonRow {
            kommune: r.kommune.map(|k| k.to_string()),
            cvr: r.cvr.map(|c| c.to_string()),
            name: p.name.clone().unwrap_or_default(),
            user_name: p.user_name.clone(),
            titles: p.placements.iter().map(|f| f.title.clone().unwrap_or_default()).collect::<Vec<_>>().join(" | "),
            units: p.placements.iter().map(|f| f.unit_name.as_str()).collect::<Vec<_>>().join(" | "),
            paths: join_paths(p),
            landline: p.landline_raw.clone(),
            mobile: p.mobile_raw.clone(),
            problem: problem_da(p),
            user_uuid: p.uuid.to_string(),
            unit_uuids: p.placements.iter().map(|f| f.unit_uuid.to_string()).collect::<Vec<_>>().join(" | "),
        })
        .collect()
}

/// One or more municipalities' people as CSV for Excel: every person lacking both numbers, then
/// every person with a malformed number (column "Problem" says which).
pub fn people_csv(reports: &[ContactReport]) -> Vec<u8> {
    let rows = reports.iter().flat_map(person_rows).map(|p| {
        vec![
            Cell::opt_id(p.kommune.as_deref()),
            Cell::opt_id(p.cvr.as_deref()),
            Cell::text(p.name),
            Cell::text(p.user_name),
            Cell::text(p.titles),
            Cell::text(p.units),
            Cell::text(p.paths),
            Cell::opt_id(p.landline.as_deref()),
            Cell::opt_id(p.mobile.as_deref()),
            Cell::text(p.problem),
            Cell::id(p.user_uuid),
            Cell::id(p.unit_uuids),
        ]
    });
    spreadsheet::bytes(Flavour::Excel, &PEOPLE_HEADER, rows)
}

/// Danish headers of the summary table.
pub const SUMMARY_HEADER: [&str; 9] = [
    "Kommune",
    "CVR",
    "Navn",
    "Rolleindehavere",
    "Mangler begge numre",
    "Andel uden numre (%)",
    "Ugyldige numre",
    "Enheder i scope",
    "Enheder uden telefon",
];

/// The multi-municipality summary as CSV for Excel, highest share missing first. The share is a
/// percentage with a decimal comma (Danish Excel reads it as a number).
pub fn summary_csv(reports: &[ContactReport]) -> Vec<u8> {
    let rows = super::report::summarise(reports)
        .iter()
        .map(|s| {
            vec![
                Cell::opt_id(s.kommune.map(|k| k.to_string()).as_deref()),
                Cell::opt_id(s.cvr.map(|c| c.to_string()).as_deref()),
                Cell::text(s.name.clone()),
                Cell::number(s.role_holders),
                Cell::number(s.missing_both),
                Cell::number(format!("{:.1}", s.share_missing * 100.0).replace('.', ",")),
                Cell::number(s.malformed),
                Cell::number(s.units_in_scope),
                Cell::number(s.units_without_phone),
            ]
        })
        .collect::<Vec<_>>();
    spreadsheet::bytes(Flavour::Excel, &SUMMARY_HEADER, rows)
}
