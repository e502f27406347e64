//! `sorsync init`: writes a commented default configuration file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Args;

use super::Context;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the file.
    #[arg(long, default_value = "sorsync.toml")]
    pub out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: InitArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    if args.out.exists() && !args.force {
        bail!("{} already exists; pass --force to overwrite it", args.out.display());
    }
    crate::private_file::write(&args.out, Config::commented_default().as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("Wrote {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
