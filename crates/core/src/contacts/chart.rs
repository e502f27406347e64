//! An SVG bar chart of the share of role holders lacking both numbers, one bar per municipality,
//! highest first. Self-contained (no scripts, no external fonts), so the web app can inline it;
//! every text is escaped by construction (a maud template).

use maud::html;

use super::render::{municipality_label, percent};
use super::report::{summarise, ContactReport};

const WIDTH: u32 = 860;
const LABEL_WIDTH: u32 = 260;
const BAR_MAX: u32 = 480;
const ROW: u32 = 22;
const TOP: u32 = 50;
/// Labels longer than this are cut with "…" (the full label is in the bar's tooltip).
const LABEL_CHARS: usize = 40;

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The chart as an SVG document.
pub fn share_missing_svg(reports: &[ContactReport]) -> String {
    let rows = summarise(reports);
    let height = TOP + ROW * rows.len() as u32 + 30;
    // The axis: 0, 25, 50, 75, 100 %.
    let axis_y = TOP - 8;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(height) viewBox={"0 0 " (WIDTH) " " (height)}
            font-family="sans-serif" font-size="12" role="img" aria-labelledby="title" {
            title id="title" { "Share of role holders without a direct or a mobile number, per municipality" }
            rect width="100%" height="100%" fill="#ffffff" {}
            text x="10" y="22" font-size="15" font-weight="bold" { "Role holders without a direct or a mobile number" }
            @for step in 0..=4 {
                @let x = LABEL_WIDTH + BAR_MAX * step / 4;
                line x1=(x) y1=(axis_y) x2=(x) y2=(TOP + ROW * rows.len() as u32) stroke="#dddddd" {}
                text x=(x) y=(axis_y - 4) text-anchor="middle" fill="#555555" { (step * 25) " %" }
            }
            @for (i, row) in rows.iter().enumerate() {
                @let y = TOP + ROW * i as u32;
                @let bar = (row.share_missing.clamp(0.0, 1.0) * f64::from(BAR_MAX)).round() as u32;
                @let full = municipality_label(&row.name, row.kommune);
                g {
                    title { (full) ": " (row.missing_both) " of " (row.role_holders) " role holders" }
                    text x=(LABEL_WIDTH - 8) y=(y + 15) text-anchor="end" { (shorten(&full, LABEL_CHARS)) }
                    rect x=(LABEL_WIDTH) y=(y + 3) width=(bar) height=(ROW - 6) fill="#c0392b" {}
                    text x=(LABEL_WIDTH + bar + 6) y=(y + 15) { (percent(row.share_missing)) }
                }
            }
        }
    }
    .into_string()
}
