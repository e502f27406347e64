//! `sorsync plan --kommune CODE --out plan.json`: freezes the municipality's approved, not yet
//! applied proposals as changes with their idempotency keys and the snapshots they were decided on.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Args;

use super::import::open_existing_store;
use super::proposals::actor;
use super::{block_on, Context};
use crate::apply::{build_plan, changes_since};
use crate::domain::KommuneKode;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Municipality code (kommunekode).
    #[arg(long, value_name = "CODE", value_parser = KommuneKode::parse)]
    pub kommune: KommuneKode,
    /// Where to write the plan (JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The day new units start and closed units end. Default: today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// Who makes the plan (an operator or SOR administrator). Default: $SORSYNC_USER, else the only sorsync user the operating-system account is mapped to.
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
}

pub fn run(args: PlanArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let actor = actor(args.as_user, ctx)?;
    let date = args.date.unwrap_or_else(|| chrono::Local::now().date_naive());
    let (plan, stale) = block_on(async {
        let store = open_existing_store(ctx).await?;
        let result = async {
            let plan = build_plan(&store, args.kommune, &actor, date, chrono::Utc::now()).await?;
            let stale = changes_since(&store, &plan).await?;
            anyhow::Ok((plan, stale))
        }
        .await;
        store.close().await;
        result
    })?;
    std::fs::write(&args.out, plan.to_json()).with_context(|| format!("writing {}", args.out.display()))?;
    println!("Plan {} for {}", plan.plan_id, plan.summary());
    for step in &plan.steps {
        println!("  {:<10} #{:<6} {}", step.change.op(), step.proposal_id, step.label);
    }
    if plan.steps.is_empty() {
        println!("Nothing to apply: no approved proposal is waiting.");
    }
    for s in &stale {
        eprintln!("warning: {s}; applying this plan will be refused");
    }
    println!("Written to {}. Apply it with `sorsync apply {}`.", args.out.display(), args.out.display());
    Ok(ExitCode::SUCCESS)
}
