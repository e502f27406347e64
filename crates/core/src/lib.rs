//! The pure core of sorsync: domain types that check themselves, link proposals (matching), the
//! consequence preview, and the KLIK contact report.
//!
//! Nothing here does IO or reads a clock: `today` is passed in, files and answers are parsed by
//! `sorsync-clients`, and everything is stored by `sorsync-store`. The crate's dependencies say so
//! (no tokio, sqlx, reqwest, axum or hyper, and chrono without its `clock` feature), and the
//! workspace test `architecture` fails when that changes.

// A library says things through tracing or its return values; the terminal is the binary's.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod contacts;
pub mod domain;
pub mod markup;
pub mod matching;
pub mod preview;
pub mod secrets;
pub mod spreadsheet;
