//! Domain types: identifiers that check themselves, FK-ORG and SOR units, and navigable trees.
//! Pure data and rules; no IO.

pub mod fkorg;
pub mod ids;
pub mod municipalities;
pub mod phone;
pub mod sor;
pub mod tree;

pub use fkorg::{parse_fk_address, FkMembership, FkStatus, FkTree, FkUnit, FkUser};
pub use ids::{Cvr, Ean, FkUuid, IdError, KommuneKode, PNumber, SorId};
pub use phone::{normalise_phone, Phone};
pub use sor::{Address, Effective, SorEffectiveValues, SorKind, SorOwnValues, SorTree, SorUnit};
pub use tree::{Tree, TreeError};
