//! `sorsync export-changes plan.json --format csv|xlsx --out FILE`: a plan's changes as a file for
//! municipalities that register in SOR by hand.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::Context;
use crate::apply::export::{changes_csv, changes_xlsx};
use crate::apply::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Semicolon-separated UTF-8 with BOM; SOR-IDs kept as text in Excel.
    Csv,
    Xlsx,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A plan made by `sorsync plan`.
    pub plan: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run(args: ExportArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.plan).with_context(|| format!("reading {}", args.plan.display()))?;
    let plan = Plan::from_json(&text).with_context(|| format!("reading {}", args.plan.display()))?;
    let bytes = match args.format {
        Format::Csv => changes_csv(&plan),
        Format::Xlsx => changes_xlsx(&plan).context("writing the workbook")?,
    };
    std::fs::write(&args.out, bytes).with_context(|| format!("writing {}", args.out.display()))?;
    println!("{} changes of plan {} written to {}", plan.steps.len(), plan.plan_id, args.out.display());
    Ok(ExitCode::SUCCESS)
}
