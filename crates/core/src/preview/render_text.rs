//! The text form of a preview: the summary line, the affected SOR branches with +, -, ~ and ->
//! markers (unaffected branches collapsed), the units that cannot be placed, then the warnings.

use std::fmt::Write as _;

use super::view::{sor_rows, Marker};
use super::Preview;
use crate::domain::SorTree;

pub fn render_text(preview: &Preview, sor: &SorTree) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", preview.summary.line());
    let (rows, unplaced) = sor_rows(sor, preview, &[], &|t: &super::Text| t.english(), 0);
    if !rows.is_empty() {
        let _ = writeln!(out, "\nSOR:");
        for r in &rows {
            let indent = "  ".repeat(r.depth);
            let _ = write!(out, "{} {indent}{}", r.marker.text(), r.name);
            if let Some(id) = &r.id {
                let _ = write!(out, " [{id}]");
            }
            if !r.note.is_empty() && r.marker != Marker::More {
                let _ = write!(out, "  ({})", r.note);
            }
            out.push('\n');
        }
    }
    if !unplaced.is_empty() {
        let _ = writeln!(out, "\nNot placed in SOR:");
        for u in &unplaced {
            let _ = writeln!(out, "  {u}");
        }
    }
    if !preview.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings:");
        for w in &preview.warnings {
            let id = w.sor_id.map(|i| format!(" [{i}]")).unwrap_or_default();
            let _ = writeln!(out, "  ! {}{id}: {}", w.kind.key(), w.message);
        }
    }
    out
}
