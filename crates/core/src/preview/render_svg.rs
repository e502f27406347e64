//! The drawing of a preview: FK-ORG (left) and SOR (right) side by side, link lines between
//! linked units, new units green, closed red, changed amber, moved blue. Only the affected
//! branches are drawn; each unaffected branch is one "… N more" row, so 200 units stay readable.
//! SVG by maud templates, so every name is escaped by construction. [`render_html`] wraps it in a self-contained page.

use std::collections::HashMap;

use maud::{html, Markup, DOCTYPE};

use super::view::Say;
use super::view::{fk_rows, sor_rows, Marker, Row, RowKey};
use super::{Preview, Text};
use crate::domain::{FkTree, FkUuid, SorId, SorTree};

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

fn draw_rows(rows: &[Row], x0: usize) -> Markup {
    html! {
        @for (i, r) in rows.iter().enumerate() {
            @let y = TOP + i * ROW_H;
            @let x = x0 + r.depth * INDENT;
            @if let Some((stroke, fill)) = colour(r.marker) {
                // The old place of a moved unit is dashed, its new place filled.
                rect x=(x - 4) y=(y - 15) width=(COL_W.saturating_sub(r.depth * INDENT)) height=(ROW_H - 3) rx="3"
                    fill=(fill) stroke=(stroke) stroke-dasharray=[(r.marker == Marker::MoveFrom).then_some("5 3")] {}
            }
            @let marker = r.marker.text().trim();
            @let label = if marker.is_empty() { shorten(&r.name) } else { format!("{marker} {}", shorten(&r.name)) };
            @let title = match (&r.id, r.note.is_empty()) {
                (Some(id), false) => format!("{} [{id}]: {}", r.name, r.note),
                (Some(id), true) => format!("{} [{id}]", r.name),
                (None, false) => format!("{}: {}", r.name, r.note),
                (None, true) => r.name.clone(),
            };
            text x=(x) y=(y) class=[(r.marker == Marker::More).then_some("more")] { title { (title) } (label) }
        }
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
    drawing(preview, fk, sor, links, say, open).into_string()
}

fn drawing(preview: &Preview, fk: &FkTree, sor: &SorTree, links: &[(FkUuid, SorId)], say: Say, open: usize) -> Markup {
    let (left, right) = both_sides(fk, sor, links, preview, say, open);
    let n = left.len().max(right.len()).max(1);
    let width = RIGHT_X + COL_W + 10;
    let height = TOP + n * ROW_H + 10;
    let legend = [
        (GREEN, GREEN, "legend_new", None),
        (RED, RED, "legend_closed", None),
        (AMBER, AMBER, "legend_changed", None),
        ("#ffffff", BLUE, "legend_moved_from", Some("3 2")),
        (BLUE, BLUE, "legend_moved_to", None),
    ];
    // Link lines first, so that the rows are drawn over them.
    let by_fk: HashMap<FkUuid, SorId> = links.iter().copied().collect();
    let sor_row: HashMap<SorId, usize> = right
        .iter()
        .enumerate()
        .filter_map(|(i, r)| if let RowKey::Sor(s) = r.key { Some((s, i)) } else { None })
        .collect();
    let lines: Vec<(usize, usize)> = left
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let RowKey::Fk(f) = r.key else { return None };
            by_fk.get(&f).and_then(|s| sor_row.get(s)).map(|&j| (i, j))
        })
        .collect();
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(height) viewBox={"0 0 " (width) " " (height)}
            font-family="sans-serif" font-size="13" {
            style { ".more{fill:#777;font-style:italic} .head{font-weight:bold;font-size:15px}" }
            text x=(LEFT_X) y="22" class="head" { "FK-ORG" }
            text x=(RIGHT_X) y="22" class="head" { "SOR" }
            text x=(LEFT_X) y="42" { (say(&preview.summary.text())) }
            @for (i, (fill, stroke, code, dash)) in legend.iter().enumerate() {
                @let x = RIGHT_X - 110 + i * 118;
                rect x=(x) y="32" width="12" height="12" fill=(fill) stroke=(stroke) stroke-dasharray=[dash] {}
                text x=(x + 16) y="42" { (say(&Text::new(code))) }
            }
            @for (i, j) in lines {
                line x1=(LEFT_X + COL_W) y1=(TOP + i * ROW_H - 5) x2=(RIGHT_X - 6) y2=(TOP + j * ROW_H - 5)
                    stroke="#9e9e9e" stroke-dasharray="4 3" {}
            }
            (draw_rows(&left, LEFT_X))
            (draw_rows(&right, RIGHT_X))
        }
    }
}

/// A self-contained HTML page: the drawing, the summary, the changes and the warnings. No
/// external assets.
pub fn render_html(preview: &Preview, fk: &FkTree, sor: &SorTree, links: &[(FkUuid, SorId)]) -> String {
    let style = "body{font-family:sans-serif;margin:1.5em} .warn{color:#8a4b00} td,th{padding:2px 8px;text-align:left;vertical-align:top} .create{color:#2e7d32} .close{color:#c62828} .update{color:#b36200} .move{color:#1565c0}";
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "SOR consequence preview" }
                style { (style) }
            }
            body {
                h1 { "What the change does in SOR" }
                p { strong { (preview.summary.line()) } }
                div style="overflow-x:auto" { (drawing(preview, fk, sor, links, &|t: &Text| t.english(), 0)) }
                h2 { "Changes" }
                @if preview.changes.is_empty() {
                    p { "None." }
                } @else {
                    table {
                        tr { th { "Action" } th { "SOR-ID" } th { "Name" } th { "Because" } }
                        @for c in &preview.changes {
                            tr class=(c.action.as_str()) {
                                td { (c.action.as_str()) }
                                td { @if let Some(id) = c.sor_id { (id) } }
                                td { (c.name) }
                                td { (c.because) }
                            }
                        }
                    }
                }
                h2 { "Warnings" }
                @if preview.warnings.is_empty() {
                    p { "None." }
                } @else {
                    ul {
                        @for w in &preview.warnings {
                            li class="warn" {
                                strong { (w.kind.key()) }
                                @if let Some(id) = w.sor_id { " [" (id) "]" }
                                ": " (w.message)
                            }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}
