//! Every CSV file sorsync writes goes through here, so none can carry a formula into a
//! spreadsheet (CSV or formula injection: a unit named `=HYPERLINK(...)` or `@SUM(...)` would run
//! when a SOR administrator opens the file in Excel or LibreOffice).
//!
//! A row is a list of [`Cell`]s; the writer decides how each is written, so a caller cannot forget
//! the guard:
//! - [`Cell::Text`] (names, paths, messages: anything that came from outside) is guarded: if it
//!   starts, after any spaces, with `=`, `+`, `-`, `@`, a TAB, CR or LF, a spreadsheet would read it
//!   as a formula, so it is written as a text constant (`="..."`) for Excel files, or with a leading
//!   apostrophe for data files and for values too long for a formula.
//! - [`Cell::Id`] (ids, CVR, kommune codes, phone numbers) is always a text constant in Excel files,
//!   so Excel keeps leading zeros and `+45`; in data files it is guarded like text.
//! - [`Cell::Number`] is a number we formatted ourselves, written as is.
//!
//! Two flavours: [`Flavour::Excel`] (UTF-8 byte-order mark, `;`, CRLF: what Danish Excel opens
//! directly) for the files people open, and [`Flavour::Data`] (`;`, LF, no mark) for the files
//! scripts read (`propose --format csv`, the wave reports).

use std::io::{self, Write};

/// The CSV byte-order mark: tells Excel the file is UTF-8.
pub const UTF8_BOM: &str = "\u{feff}";

/// Excel refuses text constants longer than this inside a formula.
const EXCEL_FORMULA_TEXT_MAX: usize = 255;

/// Who reads the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// People, in Excel: byte-order mark, CRLF, ids as text constants.
    Excel,
    /// Scripts: no mark, LF, values as they are unless a spreadsheet would run them.
    Data,
}

/// One cell of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Free text from outside: guarded against formulas.
    Text(String),
    /// An identifier or a phone number: kept as text by Excel.
    Id(String),
    /// A number we formatted.
    Number(String),
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }

    pub fn id(value: impl Into<String>) -> Cell {
        Cell::Id(value.into())
    }

    pub fn number(value: impl ToString) -> Cell {
        Cell::Number(value.to_string())
    }

    /// An optional id: empty when absent.
    pub fn opt_id(value: Option<&str>) -> Cell {
        value.map_or(Cell::Number(String::new()), Cell::id)
    }

    /// What the cell is written as in a file of `flavour`.
    pub fn written(&self, flavour: Flavour) -> String {
        match (self, flavour) {
            (Cell::Number(v), _) => v.clone(),
            (Cell::Id(v), Flavour::Excel) if !v.is_empty() => excel_text(v),
            (Cell::Id(v) | Cell::Text(v), Flavour::Excel) => {
                if would_run(v) {
                    excel_text(v)
                } else {
                    v.clone()
                }
            }
            (Cell::Id(v) | Cell::Text(v), Flavour::Data) => {
                if would_run(v) {
                    format!("'{v}")
                } else {
                    v.clone()
                }
            }
        }
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Cell {
        Cell::Text(value)
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Cell {
        Cell::Text(value.to_string())
    }
}

/// Whether a spreadsheet would read `value` as a formula (or, with a leading TAB, CR or LF, as
/// something that becomes one).
pub fn would_run(value: &str) -> bool {
    value.trim_start_matches(' ').starts_with(['=', '+', '-', '@', '\t', '\r', '\n'])
}

/// A cell Excel must keep as text: `="value"`, quotes doubled. Excel shows `value`. A value too
/// long for a formula gets a leading apostrophe when Excel would run it, else is written as is
/// (it cannot be a number then either).
pub fn excel_text(value: &str) -> String {
    if value.chars().count() <= EXCEL_FORMULA_TEXT_MAX {
        format!("=\"{}\"", value.replace('"', "\"\""))
    } else if would_run(value) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// A row of free-text cells (each guarded when written).
pub fn text_row(cells: impl IntoIterator<Item = String>) -> Vec<Cell> {
    cells.into_iter().map(Cell::Text).collect()
}

/// Writes `header` and `rows` as CSV of `flavour`.
pub fn write<W: Write>(
    out: W,
    flavour: Flavour,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> io::Result<()> {
    let mut out = out;
    let terminator = match flavour {
        Flavour::Excel => {
            out.write_all(UTF8_BOM.as_bytes())?;
            csv::Terminator::CRLF
        }
        Flavour::Data => csv::Terminator::Any(b'\n'),
    };
    let mut w = csv::WriterBuilder::new().delimiter(b';').terminator(terminator).from_writer(out);
    w.write_record(header.iter().map(|h| Cell::text(*h).written(flavour)))?;
    for row in rows {
        w.write_record(row.iter().map(|c| c.written(flavour)))?;
    }
    w.flush()
}

/// [`write()`] into memory.
pub fn bytes(flavour: Flavour, header: &[&str], rows: impl IntoIterator<Item = Vec<Cell>>) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(&mut out, flavour, header, rows);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_never_reach_a_spreadsheet() {
        for bad in ["=1+1", "+45 1234", "-2", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "  =cmd|' /C calc'!A0"] {
            assert!(would_run(bad), "{bad:?}");
            let excel = Cell::text(bad).written(Flavour::Excel);
            assert!(excel.starts_with("=\""), "{bad:?} -> {excel:?}");
            let data = Cell::text(bad).written(Flavour::Data);
            assert!(data.starts_with('\''), "{bad:?} -> {data:?}");
        }
        assert_eq!(Cell::text("Solgården").written(Flavour::Data), "Solgården");
        assert_eq!(Cell::text("Solgården").written(Flavour::Excel), "Solgården");
    }

    #[test]
    fn ids_stay_text_in_excel_and_numbers_stay_numbers() {
        assert_eq!(Cell::id("012345").written(Flavour::Excel), "=\"012345\"");
        assert_eq!(Cell::id("012345").written(Flavour::Data), "012345");
        assert_eq!(Cell::number(-3).written(Flavour::Data), "-3");
        assert_eq!(excel_text("say \"hi\""), "=\"say \"\"hi\"\"\"");
        let long = "x".repeat(300);
        assert_eq!(excel_text(&long), long);
        assert_eq!(excel_text(&format!("={long}")), format!("'={long}"));
    }

    #[test]
    fn excel_files_carry_the_mark_and_crlf() {
        let b = String::from_utf8(bytes(Flavour::Excel, &["Navn"], [vec![Cell::text("=1")]])).unwrap();
        assert_eq!(b, "\u{feff}Navn\r\n\"=\"\"=1\"\"\"\r\n");
        let d = String::from_utf8(bytes(Flavour::Data, &["name"], [vec![Cell::text("@x")]])).unwrap();
        assert_eq!(d, "name\n'@x\n");
    }
}
