//! `sorsync propose`: reads an FK-ORG and a SOR file, matches them and prints the proposals
//! (links with confidence and explanation, then create / update / close / move / write back).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};

use super::propose_store::StoreRunFormat;
use super::{Context, EXIT_NEEDS_ATTENTION};
use crate::domain::{FkUuid, KommuneKode};
use crate::matching::json::ProposalsDto;
use crate::matching::{propose, LinkBasis, MatchOptions, Proposal, ProposalKind, Proposals, Scope};
use crate::sources::{read_fkorg_file, read_sor_file};
use crate::spreadsheet::{self, Flavour};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
}

/// Propose links between FK-ORG and SOR units, and the changes to SOR that follow.
///
/// Works on files: `sorsync propose --fkorg fkorg.json --sor sor.xml`. Every linked pair is one
/// `link` proposal (also pairs already linked by a SOR-ID on the FK-ORG unit), with a confidence
/// (about 9 in 10 proposals at 0.9 are right) and an explanation per feature.
/// Exit code 0: nothing to review; 2: there are proposals to review; 1: error.
#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// FK-ORG GraphQL response file (organisationEnhedListe).
    #[arg(long, value_name = "FILE")]
    pub fkorg: Option<PathBuf>,
    /// SOR export (XML 1.0.0/2.0.0 or SOR2 CSV).
    #[arg(long, value_name = "FILE")]
    pub sor: Option<PathBuf>,
    /// Municipality code (kommunekode), shown in the output.
    #[arg(long, value_name = "CODE")]
    pub kommune: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The day to match for (decides which units are closed). Default: today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,
    /// Only consider the FK-ORG subtree under this unit (repeatable). Default: the whole tree.
    #[arg(long, value_name = "FK_UUID")]
    pub include: Vec<String>,
    /// Leave out the FK-ORG subtree under this unit (repeatable).
    #[arg(long, value_name = "FK_UUID")]
    pub exclude: Vec<String>,
    /// Do not propose matched links below this confidence.
    #[arg(long, default_value_t = 0.5, value_name = "P")]
    pub min_confidence: f64,
    /// With --kommune: who runs it (an operator or SOR administrator of the municipality); the
    /// sync policy then decides what it may decide without a person, recorded as automatic.
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
}

pub fn run(args: ProposeArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let kommune = args.kommune.as_deref().map(KommuneKode::parse).transpose().context("--kommune")?;
    let mut opts = MatchOptions::new(args.today.unwrap_or_else(|| chrono::Local::now().date_naive()));
    opts.policy = ctx.config.sync_policy().map_err(anyhow::Error::msg)?;
    let default_min_confidence = opts.min_confidence;
    opts.min_confidence = args.min_confidence;
    opts.scope =
        Scope { include: parse_uuids(&args.include, "--include")?, exclude: parse_uuids(&args.exclude, "--exclude")? };
    let (fk_path, sor_path) = match (&args.fkorg, &args.sor, kommune) {
        (Some(fk), Some(sor), _) => (fk, sor),
        (None, None, Some(kommune)) => {
            // A narrowed run would supersede the pending proposals outside it (the queue people review).
            if !args.include.is_empty() || !args.exclude.is_empty() || opts.min_confidence != default_min_confidence {
                anyhow::bail!(
                    "--include, --exclude and --min-confidence work on files; with the store a run covers the \
                     municipality's whole tree so that the review queue stays whole"
                );
            }
            let format = match args.format {
                Format::Text => StoreRunFormat::Text,
                Format::Json => StoreRunFormat::Json,
                Format::Csv => anyhow::bail!("--format csv works on files; with the store use text or json"),
            };
            let actor = super::block_on(async {
                let store = super::import::open_store(ctx).await?;
                let r = super::waves::optional_actor(&store, args.as_user.as_deref()).await;
                store.close().await;
                r
            })?;
            return super::propose_store::run_from_store(kommune, &opts, actor, format, ctx);
        }
        _ => anyhow::bail!(
            "give --fkorg FILE and --sor FILE, or only --kommune CODE to use the store's latest snapshots"
        ),
    };
    let fk = read_fkorg_file(fk_path)?;
    let sor = read_sor_file(sor_path)?;
    let started = std::time::Instant::now();
    let proposals = propose(&fk, &sor, &opts);
    tracing::info!(
        kommune = ?kommune.map(|k| k.to_string()),
        n_proposals = proposals.proposals.len(),
        candidate_pairs = proposals.stats.candidate_pairs,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "Proposals generated."
    );
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &ProposalsDto::new(&proposals, &opts.policy))?;
            writeln!(out)?;
        }
        Format::Csv => write_csv(&mut out, &proposals)?,
        Format::Text => write_text(&mut out, &proposals, kommune, &opts.policy)?,
    }
    let needs_attention =
        proposals.cases.iter().any(|c| !c.auto()) || proposals.proposals.iter().any(|p| opts.policy.rule(p).is_none());
    Ok(if needs_attention { ExitCode::from(EXIT_NEEDS_ATTENTION) } else { ExitCode::SUCCESS })
}

fn parse_uuids(v: &[String], flag: &str) -> anyhow::Result<Vec<FkUuid>> {
    v.iter().map(|s| FkUuid::parse(s).with_context(|| format!("{flag} {s}"))).collect()
}

fn write_text(
    out: &mut impl Write,
    p: &Proposals,
    kommune: Option<KommuneKode>,
    policy: &crate::matching::policy::SyncPolicy,
) -> anyhow::Result<()> {
    if let Some(k) = kommune {
        writeln!(out, "Municipality {k}")?;
    }
    for prop in &p.proposals {
        match prop {
            Proposal::Link(l) => {
                let basis = match l.basis {
                    LinkBasis::SorIdOnUnit => "SOR-ID on FK-ORG unit",
                    LinkBasis::Matched => "matched",
                };
                let flags: Vec<&str> = l.flags.iter().map(|f| f.key()).collect();
                writeln!(
                    out,
                    "link        {:.3}  {:?} ({}) -> {:?} ({})  [{basis}{}]",
                    l.confidence,
                    l.fk_name,
                    l.fk_uuid,
                    l.sor_name.as_deref().unwrap_or("?"),
                    l.sor_id,
                    if flags.is_empty() { String::new() } else { format!("; {}", flags.join(", ")) }
                )?;
                if l.basis == LinkBasis::Matched {
                    let why: Vec<String> = l
                        .explanation
                        .iter()
                        .filter(|c| c.weight != 0.0 && c.feature != "prior")
                        .map(|c| format!("{} {} ({:+.1})", c.feature, c.value, c.weight))
                        .collect();
                    writeln!(out, "              because: {}", why.join("; "))?;
                }
                for a in &l.alternatives {
                    writeln!(out, "              or: {} ({:.3})", a.sor_id, a.confidence)?;
                }
            }
            Proposal::Create(c) => {
                writeln!(out, "create      {:?} ({}) under SOR {}", c.name, c.fk_uuid, c.parent_sor_id)?
            }
            Proposal::Update(u) => {
                writeln!(out, "update      SOR {} from FK-ORG {}", u.sor_id, u.fk_uuid)?;
                for c in &u.changes {
                    writeln!(
                        out,
                        "              {}: {:?} -> {:?}",
                        c.field,
                        c.from.as_deref().unwrap_or(""),
                        c.to.as_deref().unwrap_or("")
                    )?;
                }
            }
            Proposal::Close(c) => {
                writeln!(out, "close       SOR {} {:?} (FK-ORG {} is closed)", c.sor_id, c.name, c.fk_uuid)?
            }
            Proposal::Move(m) => writeln!(
                out,
                "move        SOR {} under SOR {} (now under {})",
                m.sor_id,
                m.new_parent_sor_id,
                m.old_parent_sor_id.map(|s| s.to_string()).unwrap_or_else(|| "nothing".into())
            )?,
            Proposal::WriteBack(w) => writeln!(out, "write_back  SOR-ID {} onto FK-ORG {}", w.sor_id, w.fk_uuid)?,
        }
    }
    let count = |k: ProposalKind| p.proposals.iter().filter(|x| x.kind() == k).count();
    writeln!(
        out,
        "{} links, {} create, {} update, {} close, {} move, {} write_back ({} candidate pairs)",
        count(ProposalKind::Link),
        count(ProposalKind::Create),
        count(ProposalKind::Update),
        count(ProposalKind::Close),
        count(ProposalKind::Move),
        count(ProposalKind::WriteBack),
        p.stats.candidate_pairs
    )?;
    let person = p.cases.iter().filter(|c| !c.auto()).count();
    let follow_ups = p.proposals.iter().filter(|x| x.kind().is_follow_up() && policy.rule(x).is_none()).count();
    writeln!(
        out,
        "{} cases: {} decided by the sync policy, {person} for a person; {follow_ups} follow-ups for a person",
        p.cases.len(),
        p.cases.len() - person,
    )?;
    Ok(())
}

fn write_csv(out: &mut impl Write, p: &Proposals) -> anyhow::Result<()> {
    let header = ["kind", "confidence", "fk_uuid", "sor_id", "parent_sor_id", "fk_name", "sor_name", "detail"];
    let mut rows = Vec::with_capacity(p.proposals.len());
    for prop in &p.proposals {
        let row: [String; 8] = match prop {
            Proposal::Link(l) => [
                "link".into(),
                format!("{:.4}", l.confidence),
                l.fk_uuid.to_string(),
                l.sor_id.to_string(),
                String::new(),
                l.fk_name.clone(),
                l.sor_name.clone().unwrap_or_default(),
                l.flags.iter().map(|f| f.key()).collect::<Vec<_>>().join(","),
            ],
            Proposal::Create(c) => [
                "create".into(),
                String::new(),
                c.fk_uuid.to_string(),
                String::new(),
                c.parent_sor_id.to_string(),
                c.name.clone(),
                String::new(),
                String::new(),
            ],
            Proposal::Update(u) => [
                "update".into(),
                String::new(),
                u.fk_uuid.to_string(),
                u.sor_id.to_string(),
                String::new(),
                String::new(),
                String::new(),
                u.changes
                    .iter()
                    .map(|c| {
                        format!("{}: {} -> {}", c.field, c.from.as_deref().unwrap_or(""), c.to.as_deref().unwrap_or(""))
                    })
                    .collect::<Vec<_>>()
                    .join(" | "),
            ],
            Proposal::Close(c) => [
                "close".into(),
                String::new(),
                c.fk_uuid.to_string(),
                c.sor_id.to_string(),
                String::new(),
                String::new(),
                c.name.clone(),
                String::new(),
            ],
            Proposal::Move(m) => [
                "move".into(),
                String::new(),
                m.fk_uuid.to_string(),
                m.sor_id.to_string(),
                m.new_parent_sor_id.to_string(),
                String::new(),
                String::new(),
                m.old_parent_sor_id.map(|s| format!("from {s}")).unwrap_or_default(),
            ],
            Proposal::WriteBack(wb) => [
                "write_back".into(),
                String::new(),
                wb.fk_uuid.to_string(),
                wb.sor_id.to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        };
        rows.push(spreadsheet::text_row(row));
    }
    spreadsheet::write(out, Flavour::Data, &header, rows)?;
    Ok(())
}
