//! THE SEAM between the wave runner and the auto-approval / plan-and-apply engine (in
//! `crate::review` and `crate::apply`). The runner calls only [`ApplySteps`]. The command line
//! implements it with the real engine and the configured writers (`EngineSteps` in
//! `src/cli/waves.rs`, which also checks that the run's user is an operator of the municipality);
//! [`NotInThisBuild`] holds both steps back for a person (tests use it where no register is at hand).

use std::future::Future;
use std::pin::Pin;

use chrono::NaiveDate;

use crate::domain::KommuneKode;
use crate::store::Store;

use super::plan::PlannedMunicipality;

/// What a step gets to work with.
#[derive(Debug, Clone, Copy)]
pub struct StepContext<'a> {
    pub store: &'a Store,
    pub kommune: KommuneKode,
    pub municipality: &'a PlannedMunicipality,
    /// The wave run the step is part of.
    pub run_id: i64,
    pub today: NaiveDate,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// Done. `decided`: proposals decided (auto-approved or -rejected); `applied`: changes written.
    Done { detail: String, decided: usize, applied: usize },
    /// Held back: a person must act (named in the text).
    NeedsPerson(String),
    /// The step failed (the text says why, in the user's terms).
    Failed(String),
}

/// A step's future.
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = StepOutcome> + Send + 'a>>;

/// The two steps of a wave run that belong to the apply engine.
pub trait ApplySteps: Send + Sync {
    /// Auto-approves the confident band of the municipality's pending proposals.
    fn auto_approve<'a>(&'a self, ctx: StepContext<'a>) -> StepFuture<'a>;
    /// Plans the approved changes and applies them to SOR (only called for live municipalities).
    fn plan_and_apply<'a>(&'a self, ctx: StepContext<'a>) -> StepFuture<'a>;
}

/// Both steps held back for a person: for runs where no register may be written.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotInThisBuild;

impl ApplySteps for NotInThisBuild {
    fn auto_approve<'a>(&'a self, _ctx: StepContext<'a>) -> StepFuture<'a> {
        Box::pin(async {
            StepOutcome::NeedsPerson(
                "auto-approval is not available in this build: review the proposals with `sorsync proposals list`"
                    .to_string(),
            )
        })
    }

    fn plan_and_apply<'a>(&'a self, _ctx: StepContext<'a>) -> StepFuture<'a> {
        Box::pin(async {
            StepOutcome::NeedsPerson(
                "plan and apply is not available in this build: nothing was written to SOR".to_string(),
            )
        })
    }
}
