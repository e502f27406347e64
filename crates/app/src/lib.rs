//! sorsync's application layer, between the core and its front ends (command line, web app):
//!
//! - [`review`]: who may decide what, and every decision (the library is the guard);
//! - [`apply`]: plans from approved proposals and the exactly-once apply engine;
//! - [`waves`]: onboarding waves, their runs and workers;
//! - [`config`]: `sorsync.toml` and its environment overrides.

// A library says things through tracing or its return values; the terminal is the binary's.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod apply;
pub mod config;
pub mod review;
pub mod waves;

// The layers below, by the names the code here uses (`crate::domain::...`, `crate::store::...`).
use sorsync_clients::sources;
use sorsync_core::{domain, matching, spreadsheet};
use sorsync_store as store;
