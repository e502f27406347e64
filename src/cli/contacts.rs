//! `sorsync contacts` (not built yet).

use std::process::ExitCode;

use clap::Args;

use super::Context;

#[derive(Debug, Args)]
pub struct ContactsArgs {}

pub fn run(_args: ContactsArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
