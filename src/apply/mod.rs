//! Applying approved proposals to SOR and FK-ORG: plans, the exactly-once engine, closure limits,
//! and the change file for municipalities that register by hand.

pub mod engine;
pub mod export;
pub mod fresh;
pub mod plan;
pub mod port;
pub mod retry;
pub mod verify;

pub use engine::{apply_plan, ApplyError, ApplyOptions, ApplyReport, ClosureLimit, StepReport, StepStatus};
pub use fresh::{changes_since, RegisterChanged};
pub use plan::{
    build_plan, plan_steps, require_operator, Plan, PlanCounts, PlanError, PlanStep, PlannedChange, SnapshotRef,
    UnitRef,
};
pub use retry::{retry_with_backoff, RetryPolicy};
