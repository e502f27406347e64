//! The register clients: everything that reads or writes bytes from outside.
//!
//! - [`sources`]: the SOR XML/CSV and FK-ORG readers, the FK-ORG client (GraphQL reads, SOR-ID
//!   write-back through Organisation 6 SOAP with OIOIDWS).
//! - [`sorus`]: the SOR writer (SORUS SOAP).
//! - [`port`]: the writer interface the apply engine drives; [`retry`]: the one backoff helper.
//! - [`net`]: what every HTTP client shares; [`config`]: the clients' configuration sections.

// A library says things through tracing or its return values; the terminal is the binary's.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod config;
pub mod net;
pub mod port;
pub mod retry;
pub mod sorus;
pub mod sources;

// The core's modules, by the names the code here uses (`crate::domain::...`).
use sorsync_core::{domain, markup};
