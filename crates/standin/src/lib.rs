//! Local stand-in servers that speak the real registers' protocols, for tests, benchmarks and the demo.
//! They bind to loopback only.

// A library says things through tracing or its return values; the terminal is the binary's.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod fkorg;
pub mod generate;
pub mod idp;
pub mod sor;
pub mod sts;
pub mod tls;

// The layers below, by the names the code here uses (`crate::domain::...`).
use sorsync_clients::{port, sorus, sources};
use sorsync_core::{domain, markup};
