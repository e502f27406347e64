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

/// The deepest level drawn as indentation. Deeper units show their level as a number instead, so
/// a pathological chain 100,000 units deep prints in linear time and space (indentation alone
/// would be five billion spaces).
const MAX_DRAWN_DEPTH: u32 = 30;

/// The indentation of a tree line at `depth`.
pub(super) fn indent(depth: u32) -> String {
    if depth <= MAX_DRAWN_DEPTH {
        "  ".repeat(depth as usize)
    } else {
        format!("{}[level {depth}] ", "  ".repeat(MAX_DRAWN_DEPTH as usize))
    }
}

pub fn run(cmd: InspectCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {
        InspectCommand::Sor(a) => inspect_sor::run(a, ctx),
        InspectCommand::Fkorg(a) => inspect_fkorg::run(a, ctx),
    }
}
