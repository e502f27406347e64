//! Onboarding municipalities in waves (issue 7): the wave plan ([`plan`]), readiness and status
//! ([`status`]), the shared propose step ([`pipeline`]), batch runs per wave ([`runner`]), the
//! seam to the auto-approval and apply steps ([`steps`]), reports ([`report`]) and the job queue
//! that several workers share ([`worker`]).

pub mod pipeline;
pub mod plan;
pub mod report;
pub mod runner;
pub mod status;
pub mod steps;
pub mod worker;
