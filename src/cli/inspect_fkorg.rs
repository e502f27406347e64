//! `sorsync inspect_fkorg` (not built yet).

use std::process::ExitCode;

use clap::Args;

use super::Context;

#[derive(Debug, Args)]
pub struct InspectFkorgArgs {}

pub fn run(_args: InspectFkorgArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
