//! `sorsync inspect_sor` (not built yet).

use std::process::ExitCode;

use clap::Args;

use super::Context;

#[derive(Debug, Args)]
pub struct InspectSorArgs {}

pub fn run(_args: InspectSorArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
