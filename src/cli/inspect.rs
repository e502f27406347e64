//! `sorsync inspect sor|fkorg FILE`: read, check and print a file.

use std::process::ExitCode;

use clap::Subcommand;

use super::{inspect_fkorg, inspect_sor, Context};

#[derive(Debug, Subcommand)]
pub enum InspectCommand {
    /// A SOR export (XML 1.0.0 / 2.0.0 or SOR2 CSV).
    Sor(inspect_sor::InspectSorArgs),
    /// An FK-ORG GraphQL response file (units, optionally users).
    Fkorg(inspect_fkorg::InspectFkorgArgs),
}

pub fn run(cmd: InspectCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {
        InspectCommand::Sor(a) => inspect_sor::run(a, ctx),
        InspectCommand::Fkorg(a) => inspect_fkorg::run(a, ctx),
    }
}
