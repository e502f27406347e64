//! The drawing of a preview: FK-ORG (left) and SOR (right) side by side, link lines between
//! linked units, new units green, closed red, changed amber, moved blue. Only the affected
//! branches are drawn; each unaffected branch is one "… N more" row, so 200 units stay readable.
//! Hand-written SVG; every name is XML-escaped. [`render_html`] wraps it in a self-contained page.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::view::Say;
use super::view::{fk_rows, sor_rows, Marker, Row, RowKey};
use super::{Preview, Text};
use crate::domain::{FkTree, FkUuid, SorId, SorTree};
use crate::markup::escape_xml;

pub const GREEN: &str = "#2e7d32";
pub const RED: &str = "#c62828";
pub const AMBER: &str = "#ff8f00";
pub const BLUE: &str = "#1565c0";

const ROW_H: usize = 22;
const TOP: usize = 64;
const COL_W: usize = 470;
const LEFT_X: usize = 10;
const RIGHT_X: usize = 600;
const INDENT: usize = 16;
const MAX_CHARS: usize = 48;

fn colour(m: Marker) -> Option<(&'static str, &'static str)> {
    match m {
        Marker::Create => Some((GREEN, "#c8e6c9")),
        Marker::Close => Some((RED, "#ffcdd2")),
        Marker::Update => Some((AMBER, "#ffe0b2")),
        Marker::MoveFrom => Some((BLUE, "#ffffff")),
        Marker::MoveTo => Some((BLUE, "#bbdefb")),
        Marker::Context | Marker::More => None,
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= MAX_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// The rows on both sides: every FK-ORG unit behind a SOR change is shown, and the SOR
/// counterpart of every edited FK-ORG unit.
fn both_sides(
    fk: &FkTree,
    sor: &SorTree,
    links: &[(FkUuid, SorId)],
    preview: &Preview,
    say: Say,
    open: usize,
) -> (Vec<Row>, Vec<Row>) {
    let by_fk: HashMap<FkUuid, SorId> = links.iter().copied().collect();
    let by_sor: HashMap<SorId, FkUuid> = links.iter().map(|&(f, s)| (s, f)).collect();
    let mut fk_context: Vec<FkUuid> = preview.changes.iter().filter_map(|c| c.fk_uuid).collect();
    for c in &preview.changes {
        for id in [c.sor_id, c.parent_sor_id, c.new_parent_sor_id].into_iter().flatten() {
            if let Some(&f) = by_sor.get(&id) {
                fk_context.push(f);
            }
        }
    }
    let sor_context: Vec<SorId> = preview
        .fk_marks
        .iter()
        .flat_map(|m| [m.fk_uuid, m.parent])
        .flatten()
        .filter_map(|f| by_fk.get(&f).copied())
        .collect();
    (fk_rows(fk, preview, &fk_context, say, open), sor_rows(sor, preview, &sor_context, say, open).0)
}

fn draw_rows(out: &mut String, rows: &[Row], x0: usize) {
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + i * ROW_H;
        let x = x0 + r.depth * INDENT;
        if let Some((stroke, fill)) = colour(r.marker) {
            // The old place of a moved unit is dashed, its new place filled.
            let dash = if r.marker == Marker::MoveFrom { r#" stroke-dasharray="5 3""# } else { "" };
            let _ = writeln!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{fill}" stroke="{stroke}"{dash}/>"#,
                x - 4,
                y - 15,
                COL_W.saturating_sub(r.depth * INDENT),
                ROW_H - 3
            );
        }
        let class = if r.marker == Marker::More { " class=\"more\"" } else { "" };
        let mut label =
            format!("{}{}", r.marker.text().trim(), if r.marker.text().trim().is_empty() { "" } else { " " });
        label.push_str(&shorten(&r.name));
        let title = match (&r.id, r.note.is_empty()) {
            (Some(id), false) => format!("{} [{id}]: {}", r.name, r.note),
            (Some(id), true) => format!("{} [{id}]", r.name),
            (None, false) => format!("{}: {}", r.name, r.note),
            (None, true) => r.name.clone(),
        };
        let _ = writeln!(
            out,
            r#"<text x="{x}" y="{y}"{class}><title>{}</title>{}</text>"#,
            escape_xml(&title),
            escape_xml(&label)
        );
    }
}

/// The side-by-side drawing as a standalone SVG document.
pub fn render_svg(preview: &Preview, fk: &FkTree, sor: &SorTree, links: &[(FkUuid, SorId)]) -> String {
    render_svg_in(preview, fk, sor, links, &|t: &Text| t.english(), 0)
}

/// [`render_svg`] with every word from `say` (another language's templates) and `open` more
/// levels drawn below the affected branches (the "… N more" rows opened).
pub fn render_svg_in(
    preview: &Preview,
    fk: &FkTree,
    sor: &SorTree,
    links: &[(FkUuid, SorId)],
    say: Say,
    open: usize,
) -> String {
    let (left, right) = both_sides(fk, sor, links, preview, say, open);
    let n = left.len().max(right.len()).max(1);
    let width = RIGHT_X + COL_W + 10;
    let height = TOP + n * ROW_H + 10;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">"#
    );
    let _ =
        writeln!(out, "<style>.more{{fill:#777;font-style:italic}} .head{{font-weight:bold;font-size:15px}}</style>");
    let _ = writeln!(out, r#"<text x="{LEFT_X}" y="22" class="head">FK-ORG</text>"#);
    let _ = writeln!(out, r#"<text x="{RIGHT_X}" y="22" class="head">SOR</text>"#);
    let _ = writeln!(out, r#"<text x="{LEFT_X}" y="42">{}</text>"#, escape_xml(&say(&preview.summary.text())));
    let legend = [
        (GREEN, GREEN, "legend_new", ""),
        (RED, RED, "legend_closed", ""),
        (AMBER, AMBER, "legend_changed", ""),
        ("#ffffff", BLUE, "legend_moved_from", r#" stroke-dasharray="3 2""#),
        (BLUE, BLUE, "legend_moved_to", ""),
    ];
    for (i, (fill, stroke, code, dash)) in legend.iter().enumerate() {
        let x = RIGHT_X - 110 + i * 118;
        let _ = writeln!(
            out,
            r#"<rect x="{x}" y="32" width="12" height="12" fill="{fill}" stroke="{stroke}"{dash}/><text x="{}" y="42">{}</text>"#,
            x + 16,
            escape_xml(&say(&Text::new(code)))
        );
    }
    // Link lines first, so that the rows are drawn over them.
    let by_fk: HashMap<FkUuid, SorId> = links.iter().copied().collect();
    let sor_row: HashMap<SorId, usize> = right
        .iter()
        .enumerate()
        .filter_map(|(i, r)| if let RowKey::Sor(s) = r.key { Some((s, i)) } else { None })
        .collect();
    for (i, r) in left.iter().enumerate() {
        let RowKey::Fk(f) = r.key else { continue };
        let Some(j) = by_fk.get(&f).and_then(|s| sor_row.get(s)) else { continue };
        let _ = writeln!(
            out,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#9e9e9e" stroke-dasharray="4 3"/>"##,
            LEFT_X + COL_W,
            TOP + i * ROW_H - 5,
            RIGHT_X - 6,
            TOP + j * ROW_H - 5
        );
    }
    draw_rows(&mut out, &left, LEFT_X);
    draw_rows(&mut out, &right, RIGHT_X);
    out.push_str("</svg>\n");
    out
}

/// A self-contained HTML page: the drawing, the summary, the changes and the warnings. No
/// external assets.
pub fn render_html(preview: &Preview, fk: &FkTree, sor: &SorTree, links: &[(FkUuid, SorId)]) -> String {
    let svg = render_svg(preview, fk, sor, links);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>SOR consequence preview</title>\n");
    out.push_str("<style>body{font-family:sans-serif;margin:1.5em} .warn{color:#8a4b00} td,th{padding:2px 8px;text-align:left;vertical-align:top} .create{color:#2e7d32} .close{color:#c62828} .update{color:#b36200} .move{color:#1565c0}</style>\n</head>\n<body>\n");
    out.push_str("<h1>What the change does in SOR</h1>\n");
    let _ = writeln!(out, "<p><strong>{}</strong></p>", escape_xml(&preview.summary.line()));
    out.push_str("<div style=\"overflow-x:auto\">\n");
    out.push_str(&svg);
    out.push_str("</div>\n<h2>Changes</h2>\n");
    if preview.changes.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<table>\n<tr><th>Action</th><th>SOR-ID</th><th>Name</th><th>Because</th></tr>\n");
        for c in &preview.changes {
            let _ = writeln!(
                out,
                "<tr class=\"{a}\"><td>{a}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                c.sor_id.map(|s| s.to_string()).unwrap_or_default(),
                escape_xml(&c.name),
                escape_xml(&c.because),
                a = c.action.as_str()
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("<h2>Warnings</h2>\n");
    if preview.warnings.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<ul>\n");
        for w in &preview.warnings {
            let id = w.sor_id.map(|s| format!(" [{s}]")).unwrap_or_default();
            let _ = writeln!(
                out,
                "<li class=\"warn\"><strong>{}</strong>{id}: {}</li>",
                w.kind.key(),
                escape_xml(&w.message)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}
