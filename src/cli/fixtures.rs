//! `sorsync fixtures` (not built yet).

use std::process::ExitCode;

use clap::Subcommand;

use super::Context;

#[derive(Debug, Subcommand)]
pub enum FixturesCommand {}

pub fn run(cmd: FixturesCommand, _ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {}
}
