//! `sorsync proposals list|show|approve|reject`: the review queue of a municipality. Approving and
//! rejecting go through [`crate::review::decide`], which checks the SOR-administrator role.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::import::open_store;
use super::{block_on, Context};
use crate::domain::KommuneKode;
use crate::review::{decide, Actor, Decision};
use crate::store::{ProposalStatus, StoredProposal};

#[derive(Debug, Subcommand)]
pub enum ProposalsCommand {
    /// List a municipality's proposals (pending ones unless --status says otherwise).
    List(ListArgs),
    /// Show one proposal with its explanation.
    Show(ShowArgs),
    /// Approve proposals (needs the SOR-administrator role for the municipality).
    Approve(DecideArgs),
    /// Reject proposals (needs the SOR-administrator role for the municipality).
    Reject(DecideArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    /// `{"proposals":[{"id","kommune","status","kind","fk_uuid","sor_id","parent_sor_id","confidence",
    /// "created_at","fk_snapshot_id","sor_snapshot_id","proposal":{...propose JSON contract...}}]}`.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    Pending,
    Approved,
    Rejected,
    Superseded,
    All,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Municipality code (kommunekode).
    #[arg(long, value_name = "CODE", value_parser = KommuneKode::parse)]
    pub kommune: KommuneKode,
    /// Only links at or above this confidence (other kinds have none and are left out too).
    #[arg(long, value_name = "P")]
    pub min_confidence: Option<f64>,
    /// Only this kind: link, create, update, close, move, write_back.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    #[arg(long, value_enum, default_value_t = StatusFilter::Pending)]
    pub status: StatusFilter,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Proposal id (from `sorsync proposals list`).
    pub id: i64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Proposal ids (from `sorsync proposals list`).
    #[arg(required = true)]
    pub ids: Vec<i64>,
    /// The municipality the proposals belong to (a guard against a mistyped id).
    #[arg(long, value_name = "CODE", value_parser = KommuneKode::parse)]
    pub kommune: KommuneKode,
    /// Who decides. Default: $SORSYNC_USER, else the OS user ($USER).
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
    /// Why (kept with the decision).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// One stored proposal as JSON (a contract: scripts read it).
#[derive(Debug, Serialize)]
pub(super) struct ProposalJson {
    id: i64,
    kommune: String,
    status: &'static str,
    kind: String,
    fk_uuid: Option<String>,
    sor_id: Option<String>,
    parent_sor_id: Option<String>,
    confidence: Option<f64>,
    created_at: String,
    fk_snapshot_id: i64,
    sor_snapshot_id: i64,
    proposal: serde_json::Value,
}

impl From<&StoredProposal> for ProposalJson {
    fn from(p: &StoredProposal) -> Self {
        ProposalJson {
            id: p.id,
            kommune: p.kommune.to_string(),
            status: p.status.as_str(),
            kind: p.key.kind.clone(),
            fk_uuid: p.key.fk_uuid.clone(),
            sor_id: p.key.sor_id.clone(),
            parent_sor_id: p.key.parent_sor_id.clone(),
            confidence: p.confidence,
            created_at: p.created_at.clone(),
            fk_snapshot_id: p.fk_snapshot_id,
            sor_snapshot_id: p.sor_snapshot_id,
            proposal: serde_json::from_str(&p.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Serialize)]
struct ListJson {
    proposals: Vec<ProposalJson>,
}

/// `#12  pending  link 0.934  FK-ORG 3f2c... -> SOR 123456789012345  "Name" -> "Name"`.
pub(super) fn one_line(p: &StoredProposal) -> String {
    let payload: serde_json::Value = serde_json::from_str(&p.payload).unwrap_or(serde_json::Value::Null);
    let text = |k: &str| payload.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let confidence = p.confidence.map(|c| format!("{c:.3}")).unwrap_or_default();
    let fk = p.key.fk_uuid.as_deref().map(|f| format!("  FK-ORG {f}")).unwrap_or_default();
    let sor = p.key.sor_id.as_deref().map(|s| format!("  SOR {s}")).unwrap_or_default();
    let parent = p.key.parent_sor_id.as_deref().map(|s| format!("  under SOR {s}")).unwrap_or_default();
    let name = text("fk_name").or_else(|| text("name")).map(|n| format!("  {n:?}")).unwrap_or_default();
    format!("#{:<6} {:<10} {:<10} {confidence:>5}{fk}{sor}{parent}{name}", p.id, p.status.as_str(), p.key.kind)
}

pub fn run(command: ProposalsCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        ProposalsCommand::List(a) => list(a, ctx),
        ProposalsCommand::Show(a) => show(a, ctx),
        ProposalsCommand::Approve(a) => decide_all(a, Decision::Approve, ctx),
        ProposalsCommand::Reject(a) => decide_all(a, Decision::Reject, ctx),
    }
}

fn list(args: ListArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let status = match args.status {
        StatusFilter::Pending => Some(ProposalStatus::Pending),
        StatusFilter::Approved => Some(ProposalStatus::Approved),
        StatusFilter::Rejected => Some(ProposalStatus::Rejected),
        StatusFilter::Superseded => Some(ProposalStatus::Superseded),
        StatusFilter::All => None,
    };
    let proposals = block_on(async {
        let store = open_store(ctx).await?;
        let list = store.proposals(args.kommune, status).await.context("listing proposals");
        store.close().await;
        list
    })?;
    let shown: Vec<&StoredProposal> = proposals
        .iter()
        .filter(|p| args.kind.as_deref().is_none_or(|k| p.key.kind == k))
        .filter(|p| args.min_confidence.is_none_or(|m| p.confidence.is_some_and(|c| c >= m)))
        .collect();
    match args.format {
        Format::Json => {
            let json = ListJson { proposals: shown.iter().map(|p| ProposalJson::from(*p)).collect() };
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Format::Text => {
            for p in &shown {
                println!("{}", one_line(p));
            }
            println!("{} proposals", shown.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: ShowArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let p = block_on(async {
        let store = open_store(ctx).await?;
        let p = store.proposal(args.id).await.with_context(|| format!("reading proposal {}", args.id));
        store.close().await;
        p
    })?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&ProposalJson::from(&p))?),
        Format::Text => {
            println!("{}", one_line(&p));
            println!(
                "municipality {}, made {} from FK-ORG snapshot {} and SOR snapshot {}",
                p.kommune, p.created_at, p.fk_snapshot_id, p.sor_snapshot_id
            );
            let payload: serde_json::Value = serde_json::from_str(&p.payload).unwrap_or(serde_json::Value::Null);
            println!("{}", serde_json::to_string_pretty(&payload)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--as`, else $SORSYNC_USER (clap reads it into `--as`), else $USER.
fn actor(as_user: Option<String>) -> anyhow::Result<Actor> {
    let name = as_user
        .or_else(|| std::env::var("USER").ok())
        .filter(|n| !n.trim().is_empty())
        .context("who is deciding? give --as USER (or set SORSYNC_USER)")?;
    Ok(Actor::new(name.trim()))
}

fn decide_all(args: DecideArgs, decision: Decision, ctx: &Context) -> anyhow::Result<ExitCode> {
    let actor = actor(args.as_user)?;
    let verb = match decision {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
    };
    block_on(async {
        let store = open_store(ctx).await?;
        let result = async {
            for id in &args.ids {
                let p = store.proposal(*id).await.with_context(|| format!("reading proposal {id}"))?;
                if p.kommune != args.kommune {
                    anyhow::bail!("proposal {id} belongs to municipality {}, not {}", p.kommune, args.kommune);
                }
                decide(&store, &actor, *id, decision, args.reason.as_deref())
                    .await
                    .with_context(|| format!("deciding on proposal {id}"))?;
                println!("{verb} #{id} as {}", actor.user_name);
            }
            Ok(())
        }
        .await;
        store.close().await;
        result
    })?;
    Ok(ExitCode::SUCCESS)
}
