//! `sorsync preview` (not built yet).

use std::process::ExitCode;

use clap::Args;

use super::Context;

#[derive(Debug, Args)]
pub struct PreviewArgs {}

pub fn run(_args: PreviewArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
