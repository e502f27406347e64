//! The change file for municipalities that register in SOR by hand: a plan's changes as CSV for
//! Danish Excel (semicolon, UTF-8 with BOM, SOR-IDs as Excel text) or as an XLSX workbook. Pure:
//! returns bytes. The CSV is written by [`crate::spreadsheet`].

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::plan::{Plan, PlanStep, PlannedChange, UnitRef};
use crate::spreadsheet::{self, Cell, Flavour};

/// Column headers (Danish, for the people who register by hand).
pub const HEADER: [&str; 11] =
    ["Nr", "Handling", "SOR-ID", "Navn", "Overordnet SOR-ID", "Felt", "Fra", "Til", "Dato", "FK-ORG UUID", "Nøgle"];

/// Which columns hold identifiers (kept as text in Excel).
const ID_COLUMNS: [usize; 4] = [2, 4, 9, 10];

/// The sheet's name in the workbook.
pub const SHEET: &str = "Ændringer";

fn unit_ref(plan: &Plan, r: &UnitRef) -> String {
    match r {
        UnitRef::SorId(s) => s.to_string(),
        UnitRef::CreatedBy(k) => {
            let name = plan.steps.iter().find(|s| &s.key == k).map(|s| s.label.as_str()).unwrap_or("?");
            format!("(ny enhed: {name})")
        }
    }
}

/// One row per field changed (at least one per step); cells as plain values.
pub fn rows(plan: &Plan) -> Vec<[String; 11]> {
    let mut out = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let nr = (i + 1).to_string();
        let key = step.key.0.clone();
        let base = |action: &str, sor: String, parent: String, date: String, fk: String| {
            [
                nr.clone(),
                action.to_string(),
                sor,
                step.label.clone(),
                parent,
                String::new(),
                String::new(),
                String::new(),
                date,
                fk,
                key.clone(),
            ]
        };
        match &step.change {
            PlannedChange::Create { parent, fk_uuid, fields, from_date, .. } => {
                let row =
                    base("Opret", String::new(), unit_ref(plan, parent), from_date.to_string(), fk_uuid.to_string());
                out.push(row.clone());
                for f in fields {
                    let mut r = row.clone();
                    r[5] = f.field.clone();
                    r[7] = f.value.clone().unwrap_or_default();
                    out.push(r);
                }
            }
            PlannedChange::Update { sor_id, fields } => {
                for f in fields {
                    let mut r = base("Ret", sor_id.to_string(), String::new(), String::new(), String::new());
                    r[5] = f.field.clone();
                    r[6] = before_of(step, &f.field);
                    r[7] = f.value.clone().unwrap_or_default();
                    out.push(r);
                }
            }
            PlannedChange::Move { sor_id, new_parent } => {
                let mut r = base("Flyt", sor_id.to_string(), unit_ref(plan, new_parent), String::new(), String::new());
                r[6] = before_of(step, "parent");
                out.push(r);
            }
            PlannedChange::Close { sor_id, to_date } => {
                out.push(base("Luk", sor_id.to_string(), String::new(), to_date.to_string(), String::new()));
            }
            PlannedChange::EndWriteBack { fk_uuid, sor_id } => {
                out.push(base(
                    "Afslut SOR-ID i FK-ORG",
                    sor_id.to_string(),
                    String::new(),
                    String::new(),
                    fk_uuid.to_string(),
                ));
            }
            PlannedChange::WriteBack { fk_uuid, sor } => {
                out.push(base(
                    "Skriv SOR-ID i FK-ORG",
                    unit_ref(plan, sor),
                    String::new(),
                    String::new(),
                    fk_uuid.to_string(),
                ));
            }
        }
    }
    out
}

fn before_of(step: &PlanStep, field: &str) -> String {
    step.before.get(field).and_then(|v| v.as_str()).unwrap_or_default().to_string()
}

/// The change file as CSV for Excel.
pub fn changes_csv(plan: &Plan) -> Vec<u8> {
    let rows = rows(plan).into_iter().map(|row| {
        row.iter()
            .enumerate()
            .map(|(c, v)| if ID_COLUMNS.contains(&c) && !v.is_empty() { Cell::id(v) } else { Cell::text(v) })
            .collect()
    });
    spreadsheet::bytes(Flavour::Excel, &HEADER, rows)
}

/// The change file as an XLSX workbook (identifiers as text cells).
pub fn changes_xlsx(plan: &Plan) -> Result<Vec<u8>, XlsxError> {
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(SHEET)?;
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let rows = rows(plan);
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            if let (0, Ok(n)) = (c, v.parse::<f64>()) {
                ws.write_number(r, 0, n)?;
            } else if ID_COLUMNS.contains(&c) {
                ws.write_string_with_format(r, c as u16, v, &text)?;
            } else {
                ws.write_string(r, c as u16, v)?;
            }
        }
    }
    if !rows.is_empty() {
        ws.autofilter(0, 0, rows.len() as u32, HEADER.len() as u16 - 1)?;
    }
    for (c, w) in [5.0, 22.0, 18.0, 32.0, 22.0, 10.0, 24.0, 24.0, 11.0, 38.0, 40.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    wb.save_to_buffer()
}
