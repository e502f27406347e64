//! Applying approved proposals to SOR and FK-ORG: plans, the exactly-once engine, closure limits,
//! and the change file for municipalities that register by hand.

pub mod closures;
pub mod engine;
pub mod export;
pub mod fresh;
pub mod plan;
pub mod verify;

// The writer interface and the retry helper live with the clients that implement them.
pub use sorsync_clients::{port, retry};

pub use closures::{closures_left, ClosureLimit, SentClosure};
pub use engine::{apply_plan, ApplyError, ApplyOptions, ApplyReport, StepReport, StepStatus};
pub use fresh::{changes_since, RegisterChanged};
pub use plan::{
    build_plan, plan_steps, require_operator, Plan, PlanCounts, PlanError, PlanStep, PlannedChange, SnapshotRef,
    UnitRef,
};
pub use retry::{retry_with_backoff, RetryPolicy};
