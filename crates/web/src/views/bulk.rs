//! The bulk approval's confirmation: which pending links it would approve.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{item, QueueItem};
use crate::auth::Signed;
use crate::domain::KommuneKode;
use crate::review::Role;
use crate::store::QueueFilter;
use crate::{AppState, WebError};

/// The most proposals one bulk approval takes.
pub const BULK_MAX: usize = 500;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BulkQuery {
    pub threshold: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BulkView {
    pub kommune: String,
    pub threshold: f64,
    pub count: usize,
    pub items: Vec<QueueItem>,
}

/// The pending links with confidence >= `threshold` (at most [`BULK_MAX`]), for the
/// confirmation. Only a SOR administrator gets here.
pub async fn bulk(
    state: &AppState,
    signed: &Signed,
    kommune: KommuneKode,
    q: &BulkQuery,
) -> Result<BulkView, WebError> {
    signed.require(kommune, &[Role::SorAdmin])?;
    let threshold = q.threshold.unwrap_or(0.95);
    if !(0.5..=1.0).contains(&threshold) {
        return Err(WebError::BadRequest("the threshold is a confidence between 0.5 and 1".into()));
    }
    let filter = QueueFilter { kind: Some("link".into()), min_confidence: Some(threshold), max_confidence: None };
    let (rows, _) = state.store().review_queue_page(kommune, &filter, 0, BULK_MAX).await?;
    let trees = state.latest_trees(kommune).await?;
    let (fk, sor) = match &trees {
        Some((f, s)) => (Some(&**f), Some(&**s)),
        None => (None, None),
    };
    let items: Vec<QueueItem> = rows.into_iter().map(|r| item(r, fk, sor)).collect();
    Ok(BulkView { kommune: kommune.to_string(), threshold, count: items.len(), items })
}
