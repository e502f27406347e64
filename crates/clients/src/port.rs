//! The port between the apply engine and the registers it writes to: what one change to SOR is,
//! what a writer answers, and how failures are classed. The SORUS client (`crate::sorus`) and test
//! fakes implement [`SorWriter`]; the FK-ORG client implements [`FkWriteBack`].
//!
//! Exactly-once rests on the [`IdempotencyKey`]: the engine records the key before the call, the
//! writer sends it with the change, and after a crash the engine asks [`SorWriter::lookup`] whether
//! SOR already has a change with that key before sending it again.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{FkUuid, SorId};

/// A key that names one change for ever: the same key is never applied twice by SOR.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(pub String);

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One field's new value. `field` is one of the names update proposals use:
/// `name`, `address` (one line: "street number, postcode town"), `phone`, `email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    pub field: String,
    /// `None` clears the field.
    pub value: Option<String>,
}

/// One change to one SOR entity (an organisational unit, OE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SorChange {
    /// A new unit under `parent`; SOR assigns the SOR-ID.
    Create {
        parent: SorId,
        name: String,
        fk_uuid: FkUuid,
        fields: Vec<FieldValue>,
        from_date: NaiveDate,
    },
    Update {
        sor_id: SorId,
        fields: Vec<FieldValue>,
    },
    Move {
        sor_id: SorId,
        new_parent: SorId,
    },
    /// Sets the unit's ToDate.
    Close {
        sor_id: SorId,
        to_date: NaiveDate,
    },
}

impl SorChange {
    pub fn op(&self) -> &'static str {
        match self {
            SorChange::Create { .. } => "create",
            SorChange::Update { .. } => "update",
            SorChange::Move { .. } => "move",
            SorChange::Close { .. } => "close",
        }
    }
}

/// What SOR did with a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ChangeOutcome {
    /// A create: the SOR-ID SOR assigned.
    Created { sor_id: SorId },
    /// An update, move or close took effect.
    Done,
}

/// Why a write failed, classed for the engine: temporary ones are retried within the time
/// budget, permanent ones are quarantined with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Timeouts, dropped connections, 5xx, SOAP faults marked as transient: may succeed later.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Rejected by the register (validation, unknown unit, not permitted): retrying will not help.
    #[error("rejected: {0}")]
    Permanent(String),
}

impl WriteError {
    pub fn is_temporary(&self) -> bool {
        matches!(self, WriteError::Temporary(_))
    }
}

/// Writes changes to SOR. Implementations send the key with every change and must make a repeated
/// key harmless (SOR answers with the first outcome).
#[allow(async_fn_in_trait)]
pub trait SorWriter {
    /// Sends one change (one attempt; the engine does the retrying).
    async fn apply(&self, key: &IdempotencyKey, change: &SorChange) -> Result<ChangeOutcome, WriteError>;
    /// Whether SOR already has a change with this key, and its outcome.
    async fn lookup(&self, key: &IdempotencyKey) -> Result<Option<ChangeOutcome>, WriteError>;
}

/// Writes a SOR-ID back to an FK-ORG unit as an address with the SOR role. Writing the same SOR-ID
/// twice must leave one address; a unit that shows another SOR-ID must never be overwritten.
#[allow(async_fn_in_trait)]
pub trait FkWriteBack {
    /// The SOR-IDs FK-ORG shows on the unit NOW (read live, not from a snapshot): the engine holds
    /// a write-back back when another one is shown.
    async fn shown_sor_ids(&self, fk_uuid: &FkUuid) -> Result<Vec<String>, WriteError>;
    /// Records the SOR-ID; sends nothing when the unit shows it already, and fails (permanent)
    /// rather than overwrite when the unit shows another.
    async fn write_sor_id(&self, fk_uuid: &FkUuid, sor_id: &SorId) -> Result<(), WriteError>;
    /// Ends the unit's SOR address relation showing `sor_id` (its other relations stay); sends
    /// nothing when the unit does not show it.
    async fn end_sor_id(&self, fk_uuid: &FkUuid, sor_id: &SorId) -> Result<(), WriteError>;
}
