//! `sorsync apply plan.json [--allow-closures SORID,...]`: applies a saved plan to SOR (and writes
//! new SOR-IDs back to FK-ORG) exactly once per change. Prints the plan's summary first; refuses a
//! stale plan. Exit code 0 when all applied, 2 when something was held back, quarantined or
//! blocked, 1 on failure (including changes left unfinished after temporary failures: re-run).
//!
//! The work is [`crate::apply::apply_plan`], generic over the writers; this file only chooses them.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::import::open_existing_store;
use super::proposals::actor;
use super::{block_on, Context};
use crate::apply::{apply_plan, ApplyOptions, ApplyReport, Plan, StepStatus};
use crate::config::Config;
use crate::domain::{Cvr, SorId};
use crate::review::Actor;
use crate::sorus::{SelfDeclaredIdCard, SorusClient};
use crate::sources::fkorg_client::FkOrgClient;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    /// `{"plan_id","kommune","closure_limit","exit_code","steps":[{"key","proposal_id","op","label","status","sor_id","detail","attempts"}]}`.
    Json,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan made by `sorsync plan`.
    pub plan: PathBuf,
    /// Closures to make even over the closure limit (SOR-IDs, comma-separated).
    #[arg(long, value_name = "SORID,...", value_delimiter = ',', value_parser = SorId::parse)]
    pub allow_closures: Vec<SorId>,
    /// Send changes quarantined by an earlier run again (after the cause was fixed).
    #[arg(long)]
    pub retry_failed: bool,
    /// Who applies (an operator or SOR administrator). Default: $SORSYNC_USER, else the only sorsync user the operating-system account is mapped to.
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: ApplyArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.plan).with_context(|| format!("reading {}", args.plan.display()))?;
    let plan = Plan::from_json(&text).with_context(|| format!("reading {}", args.plan.display()))?;
    let actor = actor(args.as_user.clone(), ctx)?;
    let opts = ApplyOptions {
        allow_closures: args.allow_closures.clone(),
        closure_limit: ctx.config.apply.closure_limit(),
        retry: ctx.config.apply.retry_policy(),
        retry_failed: args.retry_failed,
        now: chrono::Utc::now(),
    };
    if args.format == Format::Text {
        println!("Plan {} for {}", plan.plan_id, plan.summary());
        let _ = std::io::stdout().flush();
    }
    let report = block_on(async {
        let store = open_existing_store(ctx).await?;
        let result = apply_with_configured_writers(&ctx.config, &store, &plan, &actor, &opts).await;
        store.close().await;
        result
    })
    .with_context(|| format!("applying {}", args.plan.display()))?;
    match args.format {
        Format::Json => {
            let mut v = serde_json::to_value(&report)?;
            v["exit_code"] = report.exit_code().into();
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Text => print!("{}", report_text(&report)),
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// Applies with the writers the configuration names: the SORUS client at `[sor] url` and the
/// FK-ORG client of `[fkorg]` for write-backs.
pub(super) async fn apply_with_configured_writers(
    config: &Config,
    store: &Store,
    plan: &Plan,
    actor: &Actor,
    opts: &ApplyOptions,
) -> anyhow::Result<ApplyReport> {
    // The ID card names the municipality (its CVR from the FK-ORG snapshot the plan was made on).
    // A self-declared card is what the stand-in accepts; a signed card needs a token provider of
    // the deployment's own.
    let cvr = match store.snapshot(plan.fk_snapshot.id).await.ok().and_then(|s| s.cvr) {
        Some(c) => c,
        None => {
            tracing::warn!("the FK-ORG snapshot has no CVR; the ID card names a placeholder organisation");
            Cvr::parse("11111111").context("the placeholder CVR")?
        }
    };
    let writer = SorusClient::new(&config.sor, SelfDeclaredIdCard::new("sorsync", cvr))
        .context("setting up the SORUS client (see [sor] in the configuration)")?;
    let fk =
        FkOrgClient::new(&config.fkorg).context("setting up the FK-ORG client (see [fkorg])")?.for_municipality(cvr);
    Ok(apply_plan(store, plan, &writer, &fk, actor, opts).await?)
}

/// The report for people: the summary line, then every step that needs attention.
pub fn report_text(r: &ApplyReport) -> String {
    let mut out = format!("Result: {}\n", r.summary());
    let sections = [
        (StepStatus::HeldBack, "Held back (over the closure limit of {limit} per plan)"),
        (StepStatus::Quarantined, "Quarantined (rejected by the register; not retried)"),
        (StepStatus::Blocked, "Blocked (waiting for a create that did not apply)"),
        (StepStatus::Unfinished, "Unfinished (temporary failures beyond the time budget; re-run apply)"),
    ];
    for (status, title) in sections {
        let steps: Vec<_> = r.with_status(status).collect();
        if steps.is_empty() {
            continue;
        }
        out.push_str(&format!("{}:\n", title.replace("{limit}", &r.closure_limit.to_string())));
        for s in &steps {
            let sor = s.sor_id.map(|id| format!(" SOR {id}")).unwrap_or_default();
            // The section's title says why a closure is held back.
            let detail = match (status, s.detail.as_deref()) {
                (StepStatus::HeldBack, _) | (_, None) => String::new(),
                (_, Some(d)) => format!(": {d}"),
            };
            out.push_str(&format!("  {} #{}{sor} {}{detail}\n", s.op, s.proposal_id, s.label));
        }
        if status == StepStatus::HeldBack {
            let ids: Vec<String> = steps.iter().filter_map(|s| s.sor_id).map(|id| id.to_string()).collect();
            out.push_str(&format!("  To close them anyway: --allow-closures {}\n", ids.join(",")));
        }
    }
    out
}
