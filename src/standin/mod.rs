//! Local stand-in servers that speak the real registers' protocols, for tests, benchmarks and the demo.
//! They bind to loopback only.

pub mod fkorg;
pub mod idp;
pub mod sor;
pub mod sts;
pub mod tls;
