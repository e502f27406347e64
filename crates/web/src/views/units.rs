//! Units looked up by uuid or name (the queue's subtree filter, the what-if form).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::{FkTree, FkUuid};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UnitRef {
    pub uuid: String,
    pub name: String,
    pub path: String,
}

/// A unit looked up by uuid or by (part of) its name.
pub enum Found {
    One(usize),
    Several(Vec<UnitRef>),
    None,
}

/// Finds a unit by its uuid, its exact name, or a unique part of its name.
pub fn find_unit(fk: &FkTree, text: &str) -> Found {
    let text = text.trim();
    if let Ok(u) = FkUuid::parse(text) {
        return fk.index_of(u).map(Found::One).unwrap_or(Found::None);
    }
    let lower = text.to_lowercase();
    let exact: Vec<usize> = (0..fk.len()).filter(|&i| fk.units[i].enhedsnavn.trim().to_lowercase() == lower).collect();
    if exact.len() == 1 {
        return Found::One(exact[0]);
    }
    let matches = search_indices(fk, Some(text));
    match matches.as_slice() {
        [] => Found::None,
        [one] => Found::One(*one),
        many => Found::Several(many.iter().map(|&i| unit_ref(fk, i)).collect()),
    }
}

pub(super) fn unit_ref(fk: &FkTree, i: usize) -> UnitRef {
    UnitRef { uuid: fk.units[i].uuid.to_string(), name: fk.units[i].enhedsnavn.clone(), path: fk.path_names(i) }
}

pub(super) fn search(fk: &FkTree, q: Option<&str>) -> Vec<UnitRef> {
    search_indices(fk, q).into_iter().map(|i| unit_ref(fk, i)).collect()
}

/// The first 25 units whose name contains `q` (any case).
fn search_indices(fk: &FkTree, q: Option<&str>) -> Vec<usize> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else { return Vec::new() };
    let q = q.to_lowercase();
    (0..fk.len()).filter(|&i| fk.units[i].enhedsnavn.to_lowercase().contains(&q)).take(25).collect()
}
