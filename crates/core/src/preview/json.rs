//! The preview's JSON contract (serde DTOs, converted by hand from the model):
//! `{"summary":{"create","update","close","move"},"changes":[{"action","sor_id","name",
//! "parent_sor_id","new_parent_sor_id","fk_uuid","because"}],"warnings":[{"kind","sor_id","message"}]}`.
//! Ids are strings; absent values are null.

use serde::Serialize;

use super::Preview;

#[derive(Debug, Serialize)]
pub struct PreviewDto {
    pub summary: SummaryDto,
    pub changes: Vec<ChangeDto>,
    pub warnings: Vec<WarningDto>,
}

#[derive(Debug, Serialize)]
pub struct SummaryDto {
    pub create: usize,
    pub update: usize,
    pub close: usize,
    #[serde(rename = "move")]
    pub moves: usize,
}

#[derive(Debug, Serialize)]
pub struct ChangeDto {
    pub action: &'static str,
    pub sor_id: Option<String>,
    pub name: String,
    pub parent_sor_id: Option<String>,
    pub new_parent_sor_id: Option<String>,
    pub fk_uuid: Option<String>,
    pub because: String,
}

#[derive(Debug, Serialize)]
pub struct WarningDto {
    pub kind: &'static str,
    pub sor_id: Option<String>,
    pub message: String,
}

impl From<&Preview> for PreviewDto {
    fn from(p: &Preview) -> Self {
        PreviewDto {
            summary: SummaryDto {
                create: p.summary.create,
                update: p.summary.update,
                close: p.summary.close,
                moves: p.summary.moves,
            },
            changes: p
                .changes
                .iter()
                .map(|c| ChangeDto {
                    action: c.action.as_str(),
                    sor_id: c.sor_id.map(|v| v.to_string()),
                    name: c.name.clone(),
                    parent_sor_id: c.parent_sor_id.map(|v| v.to_string()),
                    new_parent_sor_id: c.new_parent_sor_id.map(|v| v.to_string()),
                    fk_uuid: c.fk_uuid.map(|v| v.to_string()),
                    because: c.because.clone(),
                })
                .collect(),
            warnings: p
                .warnings
                .iter()
                .map(|w| WarningDto {
                    kind: w.kind.key(),
                    sor_id: w.sor_id.map(|v| v.to_string()),
                    message: w.message.clone(),
                })
                .collect(),
        }
    }
}
