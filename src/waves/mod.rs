//! Onboarding municipalities in waves (issue 7): the wave plan ([`plan`]), readiness and status
//! ([`status`]), the shared propose step ([`pipeline`]), batch runs per wave ([`runner`]), the
//! seam to the auto-approval and apply steps ([`steps`]), reports ([`report`]) and the job queue
//! that several workers share ([`worker`]).

pub mod plan;
pub mod pipeline;
pub mod runner;
pub mod steps;
