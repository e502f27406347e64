//! `sorsync standin` (not built yet).

use std::process::ExitCode;

use clap::Subcommand;

use super::Context;

#[derive(Debug, Subcommand)]
pub enum StandInCommand {}

pub fn run(cmd: StandInCommand, _ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {}
}
