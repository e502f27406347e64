//! The contact report as an Excel workbook (bytes): a summary sheet, the people to contact and the
//! units without a phone. Ids, CVR, kommune codes and phone numbers are text cells with the text
//! number format (`@`), so Excel never shows them in scientific notation or drops leading zeros.
//! Each list has a bold header row, an autofilter and a frozen header.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::render::{person_rows, PEOPLE_HEADER, SUMMARY_HEADER};
use super::report::{summarise, totals, ContactReport};

/// Sheet names (Danish, for the municipalities' staff).
pub const SHEET_SUMMARY: &str = "Oversigt";
pub const SHEET_PEOPLE: &str = "Personer";
pub const SHEET_UNITS: &str = "Enheder uden telefon";

/// Builds the workbook for one or more municipalities and returns the .xlsx bytes.
pub fn workbook_bytes(reports: &[ContactReport]) -> Result<Vec<u8>, XlsxError> {
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let pct = Format::new().set_num_format("0.0%");
    let mut wb = Workbook::new();

    // Summary: one row per municipality, then totals; for a single municipality also its branches.
    let ws = wb.add_worksheet();
    ws.set_name(SHEET_SUMMARY)?;
    let rows = summarise(reports);
    write_header(ws, &SUMMARY_HEADER, &bold)?;
    for (i, s) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        write_opt_text(ws, r, 0, s.kommune.map(|k| k.to_string()), &text)?;
        write_opt_text(ws, r, 1, s.cvr.map(|c| c.to_string()), &text)?;
        ws.write_string(r, 2, &s.name)?;
        ws.write_number(r, 3, s.role_holders as f64)?;
        ws.write_number(r, 4, s.missing_both as f64)?;
        ws.write_number_with_format(r, 5, s.share_missing, &pct)?;
        ws.write_number(r, 6, s.malformed as f64)?;
        ws.write_number(r, 7, s.units_in_scope as f64)?;
        ws.write_number(r, 8, s.units_without_phone as f64)?;
    }
    let last = rows.len() as u32;
    if last > 0 {
        ws.autofilter(0, 0, last, SUMMARY_HEADER.len() as u16 - 1)?;
    }
    let (rh, mb, share) = totals(&rows);
    let t = last + 2;
    ws.write_string_with_format(t, 2, "I alt", &bold)?;
    ws.write_number_with_format(t, 3, rh as f64, &bold)?;
    ws.write_number_with_format(t, 4, mb as f64, &bold)?;
    ws.write_number_with_format(t, 5, share, &pct)?;
    if let [only] = reports {
        let b0 = t + 2;
        let header = ["Gren (øverste niveau)", "Enheds-UUID", "Rolleindehavere", "Mangler begge numre", "Andel"];
        for (c, h) in header.iter().enumerate() {
            ws.write_string_with_format(b0, c as u16, *h, &bold)?;
        }
        for (i, b) in only.by_branch.iter().enumerate() {
            let r = b0 + 1 + i as u32;
            let name = if b.is_root { format!("{} (selve rodenheden)", b.name) } else { b.name.clone() };
            ws.write_string(r, 0, name)?;
            ws.write_string_with_format(r, 1, b.uuid.to_string(), &text)?;
            ws.write_number(r, 2, b.role_holders as f64)?;
            ws.write_number(r, 3, b.missing_both as f64)?;
            ws.write_number_with_format(r, 4, b.share_missing(), &pct)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    set_widths(ws, &[10.0, 11.0, 30.0, 16.0, 20.0, 20.0, 15.0, 16.0, 20.0])?;

    // People: lacking both numbers, then reachable with a malformed number.
    let ws = wb.add_worksheet();
    ws.set_name(SHEET_PEOPLE)?;
    write_header(ws, &PEOPLE_HEADER, &bold)?;
    let mut r = 0u32;
    for p in reports.iter().flat_map(person_rows) {
        r += 1;
        write_opt_text(ws, r, 0, p.kommune, &text)?;
        write_opt_text(ws, r, 1, p.cvr, &text)?;
        ws.write_string(r, 2, p.name)?;
        ws.write_string_with_format(r, 3, p.user_name, &text)?;
        ws.write_string(r, 4, p.titles)?;
        ws.write_string(r, 5, p.units)?;
        ws.write_string(r, 6, p.paths)?;
        write_opt_text(ws, r, 7, p.landline, &text)?;
        write_opt_text(ws, r, 8, p.mobile, &text)?;
        ws.write_string(r, 9, p.problem)?;
        ws.write_string_with_format(r, 10, p.user_uuid, &text)?;
        ws.write_string_with_format(r, 11, p.unit_uuids, &text)?;
    }
    ws.autofilter(0, 0, r, PEOPLE_HEADER.len() as u16 - 1)?;
    ws.set_freeze_panes(1, 0)?;
    set_widths(ws, &[9.0, 10.0, 28.0, 14.0, 22.0, 26.0, 50.0, 16.0, 16.0, 40.0, 38.0, 38.0])?;

    // Units that would go to SOR without a phone.
    let ws = wb.add_worksheet();
    ws.set_name(SHEET_UNITS)?;
    let header = ["Kommune", "CVR", "Enhed", "Sti", "Ugyldige telefonnumre", "Enheds-UUID"];
    write_header(ws, &header, &bold)?;
    let mut r = 0u32;
    for rep in reports {
        for u in &rep.units_without_phone {
            r += 1;
            write_opt_text(ws, r, 0, rep.kommune.map(|k| k.to_string()), &text)?;
            write_opt_text(ws, r, 1, rep.cvr.map(|c| c.to_string()), &text)?;
            ws.write_string(r, 2, &u.name)?;
            ws.write_string(r, 3, &u.path)?;
            let bad: Vec<String> = u
                .malformed
                .iter()
                .map(|m| format!("{}: {}", if m.field.as_str() == "landline" { "fastnet" } else { "mobil" }, m.raw))
                .collect();
            ws.write_string_with_format(r, 4, bad.join("; "), &text)?;
            ws.write_string_with_format(r, 5, u.uuid.to_string(), &text)?;
        }
    }
    ws.autofilter(0, 0, r, header.len() as u16 - 1)?;
    ws.set_freeze_panes(1, 0)?;
    set_widths(ws, &[9.0, 10.0, 28.0, 60.0, 24.0, 38.0])?;

    wb.save_to_buffer()
}

fn write_header(ws: &mut Worksheet, header: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, bold)?;
    }
    Ok(())
}

/// A text cell, or nothing for an absent value (an empty cell, not an empty string).
fn write_opt_text(ws: &mut Worksheet, r: u32, c: u16, v: Option<String>, text: &Format) -> Result<(), XlsxError> {
    if let Some(v) = v {
        ws.write_string_with_format(r, c, v, text)?;
    }
    Ok(())
}

fn set_widths(ws: &mut Worksheet, widths: &[f64]) -> Result<(), XlsxError> {
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    Ok(())
}
