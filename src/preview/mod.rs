//! Consequence preview: what FK-ORG edits (or pending proposals) would do in SOR, as a tree diff.
//! Pure: no IO, no clock (`today` is passed in). The same functions serve the CLI and, later,
//! the web app's what-if page.
//!
//! - [`edits`]: the edits (create, close, move, rename) and the edits file format;
//! - [`diff`]: the simulation that turns edits or proposals into SOR changes and warnings;
//! - [`json`], [`render_text`], [`render_svg`]: the output formats.

pub mod diff;
pub mod edits;
pub mod json;
pub mod render_svg;
pub mod render_text;
mod view;

pub use diff::{preview, preview_proposals};
pub use edits::{parse_edits_json, Edit, EditsFileError};

use crate::domain::{FkUuid, SorId};

/// What happens to a SOR unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Update,
    Close,
    Move,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Close => "close",
            Action::Move => "move",
        }
    }
}

/// How many SOR changes of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub close: usize,
    pub moves: usize,
}

impl Summary {
    /// "1 to create, 0 to update, 3 to close, 1 to move".
    pub fn line(&self) -> String {
        format!("{} to create, {} to update, {} to close, {} to move", self.create, self.update, self.close, self.moves)
    }
}

/// One change to one SOR unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: Action,
    /// The SOR unit; `None` for a unit still to be created.
    pub sor_id: Option<SorId>,
    /// The unit's name after the change.
    pub name: String,
    /// Where the unit is (for a move: where it was; for a create: where it goes, `None` when it
    /// cannot be placed because the FK-ORG parent has no SOR counterpart).
    pub parent_sor_id: Option<SorId>,
    /// For a move: the new parent.
    pub new_parent_sor_id: Option<SorId>,
    /// The FK-ORG unit behind the change (`None` for a unit created by an edit: it has no uuid yet).
    pub fk_uuid: Option<FkUuid>,
    /// Why, in the administrator's words.
    pub because: String,
}

/// Something a person should look at before making the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningKind {
    /// The FK-ORG parent (or new parent) has no SOR counterpart: the unit cannot be placed.
    ParentNotLinked,
    /// The edited FK-ORG unit has no SOR counterpart: nothing changes in SOR.
    UnitNotLinked,
    /// A link points at a SOR unit that is missing or closed.
    BrokenLink,
    /// The unit has its own EAN number: message routing stops or changes.
    OwnEan,
    /// Units that inherit an address, EAN or phone would get another value.
    InheritedValues,
    /// A move between health institutions (or owners), which SOR may not allow.
    AcrossInstitutions,
    /// The SOR levels would not fit (an organisational unit directly under an owner, a cycle).
    Structure,
    /// A SOR unit closes with its parent while its FK-ORG counterpart stays open.
    CounterpartStaysOpen,
    /// A SOR unit without an FK-ORG counterpart closes with its parent.
    UnlinkedClosesAlong,
    /// The edit does nothing (already closed, already there, same name).
    NoEffect,
}

impl WarningKind {
    pub fn key(self) -> &'static str {
        match self {
            WarningKind::ParentNotLinked => "parent_not_linked",
            WarningKind::UnitNotLinked => "unit_not_linked",
            WarningKind::BrokenLink => "broken_link",
            WarningKind::OwnEan => "own_ean",
            WarningKind::InheritedValues => "inherited_values",
            WarningKind::AcrossInstitutions => "across_institutions",
            WarningKind::Structure => "structure",
            WarningKind::CounterpartStaysOpen => "counterpart_stays_open",
            WarningKind::UnlinkedClosesAlong => "unlinked_closes_along",
            WarningKind::NoEffect => "no_effect",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub kind: WarningKind,
    pub sor_id: Option<SorId>,
    pub message: String,
}

/// What an edit does on the FK-ORG side, for the side-by-side drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FkMark {
    pub action: Action,
    /// The unit; `None` for a unit an edit creates.
    pub fk_uuid: Option<FkUuid>,
    /// For a create: the parent. For a move: the new parent.
    pub parent: Option<FkUuid>,
    pub name: String,
}

/// The consequences of a set of edits in SOR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub summary: Summary,
    pub changes: Vec<Change>,
    pub warnings: Vec<Warning>,
    /// The FK-ORG side of the edits (not part of the JSON contract; used by the drawing).
    pub fk_marks: Vec<FkMark>,
}

/// An edit or proposal the preview cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error("edit {number} ({action}): FK-ORG unit {uuid} is not in the FK-ORG tree")]
    UnknownFkUnit { number: usize, action: &'static str, uuid: FkUuid },
    #[error("edit {number} (move): cannot move {name:?} under itself or its own descendant {under:?}")]
    MoveUnderItself { number: usize, name: String, under: String },
    #[error("proposal {number} ({kind}): SOR unit {sor_id} is not in the SOR tree")]
    UnknownSorUnit { number: usize, kind: &'static str, sor_id: SorId },
}
