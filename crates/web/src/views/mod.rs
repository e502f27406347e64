//! What each page shows, as data: the JSON API returns these as they are and the pages render
//! them, so the API mirrors the pages by construction. One module per page; what several pages
//! share (form problems, warnings, unit look-up, local paths) is here and in `units.rs`.

mod audit;
mod bulk;
mod contacts;
mod home;
mod overview;
mod proposal;
mod queue;
mod units;
mod waves;
mod whatif;

pub use audit::*;
pub use bulk::*;
pub use contacts::*;
pub use home::*;
pub use overview::*;
pub use proposal::*;
pub use queue::*;
pub use units::*;
pub use waves::*;
pub use whatif::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::KommuneKode;
use crate::WebError;

pub fn parse_kommune(s: &str) -> Result<KommuneKode, WebError> {
    KommuneKode::parse(s).map_err(|_| WebError::NotFound(format!("municipality {s}")))
}

/// A problem with a form's input, shown on the page: a catalogue key and the value it is about.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct FormProblem {
    pub key: String,
    pub value: Option<String>,
}

impl FormProblem {
    pub fn new(key: &str, value: Option<&str>) -> FormProblem {
        FormProblem { key: key.to_string(), value: value.map(str::to_string) }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WarningView {
    pub kind: String,
    pub sor_id: Option<String>,
    /// In English.
    pub message: String,
    /// The message as a code and arguments, for the page's language (None: the catalogue's text
    /// for `kind`).
    #[serde(skip)]
    pub text: Option<crate::preview::Text>,
}

fn warning_view(w: &crate::preview::Warning) -> WarningView {
    WarningView {
        kind: w.kind.key().to_string(),
        sor_id: w.sor_id.map(|s| s.to_string()),
        message: w.message.clone(),
        text: Some(w.text.clone()),
    }
}

/// (decided, decided + pending): superseded proposals are not counted.
fn progress(counts: &[crate::store::StatusCount]) -> (i64, i64) {
    let sum =
        |statuses: &[&str]| counts.iter().filter(|c| statuses.contains(&c.status.as_str())).map(|c| c.count).sum();
    let reviewed: i64 = sum(&["approved", "rejected"]);
    (reviewed, reviewed + sum(&["pending"]))
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A local path to go back to after a form (anything else: `fallback`), so no form can send the
/// user to another site.
pub fn local_path(back: Option<&str>, fallback: String) -> String {
    match back {
        Some(b) if is_local_path(b) => b.to_string(),
        _ => fallback,
    }
}

/// Whether `b` is a path on this site however a browser reads it: it starts with one `/`, and
/// holds no backslash, whitespace or control character (browsers drop a TAB or line break inside
/// a URL, so `/<TAB>/evil.example` would become `//evil.example`, another site).
fn is_local_path(b: &str) -> bool {
    b.starts_with('/')
        && !b.starts_with("//")
        && !b.chars().any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        && !b.to_ascii_lowercase().contains("%5c")
}
