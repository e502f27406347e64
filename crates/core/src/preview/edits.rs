//! FK-ORG edits to preview (create, close, move, rename) and the edits file that lists them.
//!
//! The edits file is JSON:
//! ```json
//! {"edits": [
//!   {"action": "create", "name": "Plejecenter Evigglad", "under": "<FK-ORG uuid>",
//!    "address": "Evigheden 1, 4000 Korsbæk", "phone": "46 31 40 00"},
//!   {"action": "close",  "unit": "<FK-ORG uuid>", "date": "2026-12-31"},
//!   {"action": "move",   "unit": "<FK-ORG uuid>", "under": "<FK-ORG uuid>"},
//!   {"action": "rename", "unit": "<FK-ORG uuid>", "name": "Nyt navn"}
//! ]}
//! ```
//! `address` and `phone` are optional on create; `date` is optional on close (default: the day
//! of the preview). Unknown fields are errors, so a misspelt field is not silently ignored.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::FkUuid;

/// One change an organisation administrator plans in FK-ORG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// A new unit `name` under the FK-ORG unit `under`.
    Create { name: String, under: FkUuid, address: Option<String>, phone: Option<String> },
    /// The unit (and everything below it) closes on `date`.
    Close { unit: FkUuid, date: NaiveDate },
    /// The unit (with its subtree) moves under `under`.
    Move { unit: FkUuid, under: FkUuid },
    /// The unit gets a new name.
    Rename { unit: FkUuid, name: String },
}

impl Edit {
    pub fn action(&self) -> &'static str {
        match self {
            Edit::Create { .. } => "create",
            Edit::Close { .. } => "close",
            Edit::Move { .. } => "move",
            Edit::Rename { .. } => "rename",
        }
    }
}

/// What is wrong with an edits file. Every message names the file, and the edit when it is one edit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditsFileError {
    #[error("{file}: malformed JSON at line {line}, column {column}: {message}")]
    Json { file: String, line: usize, column: usize, message: String },
    #[error("{file}: expected an object {{\"edits\": [...]}} with at least one edit")]
    Shape { file: String },
    #[error("{file}: edit {number} ({action}): {message}")]
    Edit { file: String, number: usize, action: String, message: String },
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
enum EditDto {
    Create { name: String, under: FkUuid, address: Option<String>, phone: Option<String> },
    Close { unit: FkUuid, date: Option<NaiveDate> },
    Move { unit: FkUuid, under: FkUuid },
    Rename { unit: FkUuid, name: String },
}

/// Parses an edits file's text. `file` is only used in error messages; `today` is the close
/// date when an edit gives none.
pub fn parse_edits_json(file: &str, text: &str, today: NaiveDate) -> Result<Vec<Edit>, EditsFileError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| EditsFileError::Json {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Some(list) = value.get("edits").and_then(|v| v.as_array()).filter(|l| !l.is_empty()) else {
        return Err(EditsFileError::Shape { file: file.to_string() });
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let action = raw.get("action").and_then(|a| a.as_str()).unwrap_or("no action").to_string();
        let dto: EditDto = serde_json::from_value(raw.clone()).map_err(|e| EditsFileError::Edit {
            file: file.to_string(),
            number: i + 1,
            action: action.clone(),
            message: e.to_string(),
        })?;
        let bad = |message: &str| EditsFileError::Edit {
            file: file.to_string(),
            number: i + 1,
            action: action.clone(),
            message: message.to_string(),
        };
        out.push(match dto {
            EditDto::Create { name, under, address, phone } => {
                if name.trim().is_empty() {
                    return Err(bad("the name is empty"));
                }
                Edit::Create { name: name.trim().to_string(), under, address, phone }
            }
            EditDto::Close { unit, date } => Edit::Close { unit, date: date.unwrap_or(today) },
            EditDto::Move { unit, under } => Edit::Move { unit, under },
            EditDto::Rename { unit, name } => {
                if name.trim().is_empty() {
                    return Err(bad("the new name is empty"));
                }
                Edit::Rename { unit, name: name.trim().to_string() }
            }
        });
    }
    Ok(out)
}
