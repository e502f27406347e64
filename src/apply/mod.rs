//! Applying approved proposals to SOR and FK-ORG: plans, the exactly-once engine, closure limits.

pub mod port;
