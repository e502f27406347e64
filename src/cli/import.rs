//! `sorsync import` (not built yet).

use std::process::ExitCode;

use clap::Subcommand;

use super::Context;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {}

pub fn run(cmd: ImportCommand, _ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {}
}
