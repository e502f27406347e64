//! `sorsync proposals list|show|approve|reject|link|choose|create-new|no-match`: the review queue of
//! a municipality. Every decision goes through [`crate::review`], which checks the
//! SOR-administrator role. Bulk approval (`approve --all --min-confidence P`) shows what it would
//! decide and asks first (`--yes` skips the question; without a terminal it is required).

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::import::open_existing_store;
use super::{block_on, Context};
use crate::domain::{FkUuid, KommuneKode, SorId};
use crate::review::{
    choose_alternative, close_sor_only, create_new, decide_case, link_by_hand, no_match, proposals_with_lifecycle,
    Actor, Decision, Lifecycle, ProposalLife,
};
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
    /// Link an FK-ORG unit and a SOR unit by hand (SOR administrator).
    Link(LinkArgs),
    /// Choose one of a link proposal's alternatives instead of its SOR unit (SOR administrator).
    Choose(ChooseArgs),
    /// The FK-ORG unit of a proposal is new: create it in SOR under its parent's SOR unit (SOR administrator).
    CreateNew(OneArgs),
    /// A proposal's units do not match (SOR administrator).
    NoMatch(OneArgs),
    /// Close a SOR-only unit (an organisational unit nothing in FK-ORG is linked to) in SOR (SOR administrator).
    CloseSorOnly(CloseSorOnlyArgs),
}

#[derive(Debug, Args)]
pub struct CloseSorOnlyArgs {
    #[arg(long, value_name = "CODE", value_parser = KommuneKode::parse)]
    pub kommune: KommuneKode,
    /// The SOR unit's SOR-ID.
    #[arg(long, value_name = "SORID", value_parser = SorId::parse)]
    pub sor: SorId,
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
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
    Applying,
    Applied,
    Failed,
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
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub ids: Vec<i64>,
    /// Every pending proposal of the municipality that passes --min-confidence and --kind.
    #[arg(long)]
    pub all: bool,
    /// With --all: only links at or above this confidence.
    #[arg(long, value_name = "P", requires = "all")]
    pub min_confidence: Option<f64>,
    /// With --all: only this kind (link, create, update, close, move, write_back).
    #[arg(long, value_name = "KIND", requires = "all")]
    pub kind: Option<String>,
    /// With --all: do not ask for confirmation (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
    /// The municipality the proposals belong to (a guard against a mistyped id).
    #[arg(long, value_name = "CODE", value_parser = KommuneKode::parse)]
    pub kommune: KommuneKode,
    /// Who decides. Default: $SORSYNC_USER, else the only sorsync user the operating-system account is mapped to.
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
    /// Why (kept with the decision).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    #[arg(long, value_name = "CODE", value_parser = KommuneKode::parse)]
    pub kommune: KommuneKode,
    /// The FK-ORG unit's UUID.
    #[arg(long, value_name = "UUID", value_parser = FkUuid::parse)]
    pub fk: FkUuid,
    /// The SOR unit's SOR-ID.
    #[arg(long, value_name = "SORID", value_parser = SorId::parse)]
    pub sor: SorId,
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChooseArgs {
    /// The link proposal's id.
    pub id: i64,
    /// The alternative's SOR-ID (one of the proposal's alternatives).
    #[arg(long, value_name = "SORID", value_parser = SorId::parse)]
    pub sor: SorId,
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct OneArgs {
    /// The proposal's id.
    pub id: i64,
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// One stored proposal as JSON (a contract: scripts read it).
#[derive(Debug, Serialize)]
pub(super) struct ProposalJson {
    id: i64,
    kommune: String,
    /// The lifecycle state: pending, approved, rejected, superseded, applying, applied, failed.
    status: &'static str,
    /// Why applying failed (status "failed").
    failure: Option<String>,
    kind: String,
    /// The case: the FK-ORG uuid, or the SOR-ID of a SOR-only unit.
    case: String,
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
    /// A proposal without its applied changes (fresh from a run).
    fn from(p: &StoredProposal) -> Self {
        let (state, failure) = crate::review::lifecycle(p, &[]);
        ProposalJson::from(&ProposalLife { proposal: p.clone(), state, failure })
    }
}

impl From<&ProposalLife> for ProposalJson {
    fn from(l: &ProposalLife) -> Self {
        let p = &l.proposal;
        ProposalJson {
            id: p.id,
            kommune: p.kommune.to_string(),
            status: l.state.as_str(),
            failure: l.failure.clone(),
            kind: p.key.kind.as_str().to_string(),
            case: case_of(p),
            fk_uuid: p.key.fk_uuid.clone(),
            sor_id: p.key.sor_id.clone(),
            parent_sor_id: p.key.parent_sor_id.clone(),
            confidence: p.confidence,
            created_at: p.created_at.clone(),
            fk_snapshot_id: p.fk_snapshot_id,
            sor_snapshot_id: p.sor_snapshot_id,
            proposal: serde_json::to_value(&p.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Serialize)]
struct ListJson {
    proposals: Vec<ProposalJson>,
}

/// SOR units' names by SOR-ID, from the municipality's latest SOR snapshot (else the national one),
/// so that lists name the SOR units they refer to.
pub(super) struct SorNames(Option<crate::domain::SorTree>);

impl SorNames {
    pub(super) async fn load(store: &crate::store::Store, kommune: KommuneKode) -> anyhow::Result<SorNames> {
        let tree = match store.latest_sor(Some(kommune)).await? {
            Some(t) => Some(t),
            None => store.latest_sor(None).await?,
        };
        Ok(SorNames(tree))
    }

    /// The unit's name, if the snapshot has it.
    fn name(&self, id: &str) -> Option<&str> {
        let tree = self.0.as_ref()?;
        let id = SorId::parse(id).ok()?;
        tree.get(id).map(|u| u.name.as_str())
    }

    /// `123456789012345 "Name"`, or the SOR-ID alone when the snapshot does not have it.
    fn label(&self, id: &str) -> String {
        match self.name(id) {
            Some(n) => format!("{id} {n:?}"),
            None => id.to_string(),
        }
    }
}

/// `#12  pending  link 0.934  FK-ORG 3f2c... -> SOR 123456789012345  "Name" -> "Name"`, with the
/// lifecycle state and any failure.
fn life_line(l: &ProposalLife, names: &SorNames) -> String {
    let line = named_line(&l.proposal, names);
    let line = line.replacen(l.proposal.status.as_str(), &format!("{:<10}", l.state.as_str()), 1);
    match &l.failure {
        Some(f) => format!("{}  FAILED: {f}", line.trim_end()),
        None => line,
    }
}

/// The case a stored proposal belongs to: its FK-ORG unit, or its SOR unit when it names none.
fn case_of(p: &StoredProposal) -> String {
    p.key.fk_uuid.clone().filter(|f| !f.is_empty()).or_else(|| p.key.sor_id.clone()).unwrap_or_default()
}

/// `#12  pending  link 0.934  FK-ORG 3f2c... "Name"  SOR 123456789012345 "SOR name"  under SOR ... "Name"`.
fn named_line(p: &StoredProposal, names: &SorNames) -> String {
    let confidence = p.confidence.map(|c| format!("{c:.3}")).unwrap_or_default();
    let fk_name = p.payload.fk_name().map(|n| format!(" {n:?}")).unwrap_or_default();
    let fk = p.key.fk_uuid.as_deref().filter(|f| !f.is_empty()).map(|f| format!("  FK-ORG {f}{fk_name}"));
    let sor = p.key.sor_id.as_deref().map(|s| match p.payload.sor_name() {
        Some(n) => format!("  SOR {s} {n:?}"),
        None => format!("  SOR {}", names.label(s)),
    });
    let parent = p.key.parent_sor_id.as_deref().map(|s| format!("  under SOR {}", names.label(s)));
    format!(
        "#{:<6} {:<10} {:<10} {confidence:>5}{}{}{}",
        p.id,
        p.status.as_str(),
        p.key.kind,
        fk.unwrap_or_default(),
        sor.unwrap_or_default(),
        parent.unwrap_or_default()
    )
}

/// What a proposal does, in words, with its explanation (`proposals show`).
fn describe(p: &StoredProposal, names: &SorNames) -> Vec<String> {
    use crate::matching::json::ProposalDto as P;
    let mut out = Vec::new();
    match &p.payload {
        P::Link { fk_uuid, sor_id, confidence, explanation, alternatives, basis, flags, fk_name, sor_name } => {
            let sor = match sor_name {
                Some(n) => format!("{sor_id} {n:?}"),
                None => names.label(sor_id),
            };
            let basis = if basis == "sor_id_on_unit" {
                "the FK-ORG unit carries this SOR-ID"
            } else {
                "matched on name, contact details and structure"
            };
            out.push(format!("Link: FK-ORG unit {fk_name:?} ({fk_uuid}) is SOR unit {sor}"));
            out.push(format!("Confidence {confidence:.3}: {basis}"));
            if !explanation.is_empty() {
                out.push("Why (feature, what was compared, weight of evidence):".to_string());
                for c in explanation {
                    out.push(format!("  {:<26} {:<50} {:+.2}", c.feature, c.value, c.weight));
                }
            }
            if !alternatives.is_empty() {
                out.push("Other candidates (`sorsync proposals choose ID --sor SORID` takes one):".to_string());
                for a in alternatives {
                    out.push(format!("  SOR {}  confidence {:.3}", names.label(&a.sor_id), a.confidence));
                }
            }
            if !flags.is_empty() {
                out.push(format!("Needs a closer look: {}", flags.join(", ")));
            }
        }
        P::Create { fk_uuid, parent_sor_id, name, .. } => {
            out.push(format!("Create in SOR: {name:?} (FK-ORG unit {fk_uuid})"));
            out.push(format!("Under SOR unit {}", names.label(parent_sor_id)));
        }
        P::Update { fk_uuid, sor_id, changes } => {
            out.push(format!("Update SOR unit {} from FK-ORG unit {fk_uuid}:", names.label(sor_id)));
            for c in changes {
                let v = |x: &Option<String>| x.as_deref().map(|t| format!("{t:?}")).unwrap_or_else(|| "(none)".into());
                out.push(format!("  {:<10} {} -> {}", c.field, v(&c.from), v(&c.to)));
            }
        }
        P::Close { sor_id, fk_uuid, name } => {
            out.push(format!("Close SOR unit {sor_id} {name:?}: its FK-ORG unit {fk_uuid} is closed or gone"));
        }
        P::Move { sor_id, new_parent_sor_id, fk_uuid, old_parent_sor_id } => {
            out.push(format!("Move SOR unit {} (FK-ORG unit {fk_uuid})", names.label(sor_id)));
            if let Some(old) = old_parent_sor_id {
                out.push(format!("  from under SOR unit {}", names.label(old)));
            }
            out.push(format!("  to under SOR unit {}", names.label(new_parent_sor_id)));
        }
        P::WriteBack { fk_uuid, sor_id } => {
            out.push(format!("Write SOR-ID {} back to FK-ORG unit {fk_uuid}", names.label(sor_id)));
        }
    }
    out
}

/// `#12  pending  link 0.934  FK-ORG 3f2c... -> SOR 123456789012345  "Name" -> "Name"`.
pub(super) fn one_line(p: &StoredProposal) -> String {
    let confidence = p.confidence.map(|c| format!("{c:.3}")).unwrap_or_default();
    let fk = p.key.fk_uuid.as_deref().map(|f| format!("  FK-ORG {f}")).unwrap_or_default();
    let sor = p.key.sor_id.as_deref().map(|s| format!("  SOR {s}")).unwrap_or_default();
    let parent = p.key.parent_sor_id.as_deref().map(|s| format!("  under SOR {s}")).unwrap_or_default();
    let name = p.payload.fk_name().map(|n| format!("  {n:?}")).unwrap_or_default();
    format!("#{:<6} {:<10} {:<10} {confidence:>5}{fk}{sor}{parent}{name}", p.id, p.status.as_str(), p.key.kind)
}

pub fn run(command: ProposalsCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        ProposalsCommand::List(a) => list(a, ctx),
        ProposalsCommand::Show(a) => show(a, ctx),
        ProposalsCommand::Approve(a) => decide_all(a, Decision::Approve, ctx),
        ProposalsCommand::Reject(a) => decide_all(a, Decision::Reject, ctx),
        ProposalsCommand::Link(a) => by_hand(ctx, a.as_user, |store, actor| async move {
            let id = link_by_hand(&store, &actor, a.kommune, a.fk, a.sor, a.reason.as_deref()).await?;
            Ok(format!("linked FK-ORG {} and SOR {} as {} (proposal #{id})", a.fk, a.sor, actor.user_name))
        }),
        ProposalsCommand::Choose(a) => by_hand(ctx, a.as_user, |store, actor| async move {
            let id = choose_alternative(&store, &actor, a.id, a.sor, a.reason.as_deref()).await?;
            Ok(format!(
                "rejected #{} and linked its alternative SOR {} as {} (proposal #{id})",
                a.id, a.sor, actor.user_name
            ))
        }),
        ProposalsCommand::CreateNew(a) => by_hand(ctx, a.as_user, |store, actor| async move {
            let id = create_new(&store, &actor, a.id, a.reason.as_deref()).await?;
            Ok(format!(
                "rejected #{} and approved creating its unit in SOR as {} (proposal #{id})",
                a.id, actor.user_name
            ))
        }),
        ProposalsCommand::NoMatch(a) => by_hand(ctx, a.as_user, |store, actor| async move {
            no_match(&store, &actor, a.id, a.reason.as_deref()).await?;
            Ok(format!("recorded no match for #{} as {}", a.id, actor.user_name))
        }),
        ProposalsCommand::CloseSorOnly(a) => by_hand(ctx, a.as_user, |store, actor| async move {
            let id = close_sor_only(&store, &actor, a.kommune, a.sor, a.reason.as_deref()).await?;
            Ok(format!(
                "approved closing SOR-only unit {} as {} (proposal #{id}); `sorsync plan` takes it",
                a.sor, actor.user_name
            ))
        }),
    }
}

/// Runs one decision by hand with the store open, printing its line.
fn by_hand<Fut>(
    ctx: &Context,
    as_user: Option<String>,
    f: impl FnOnce(crate::store::Store, Actor) -> Fut,
) -> anyhow::Result<ExitCode>
where
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    let actor = actor(as_user, ctx)?;
    let line = block_on(async {
        let store = open_existing_store(ctx).await?;
        let result = f(store.clone(), actor).await;
        store.close().await;
        result
    })?;
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}

fn list(args: ListArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let wanted: Option<Lifecycle> = match args.status {
        StatusFilter::Pending => Some(Lifecycle::Pending),
        StatusFilter::Approved => Some(Lifecycle::Approved),
        StatusFilter::Rejected => Some(Lifecycle::Rejected),
        StatusFilter::Superseded => Some(Lifecycle::Superseded),
        StatusFilter::Applying => Some(Lifecycle::Applying),
        StatusFilter::Applied => Some(Lifecycle::Applied),
        StatusFilter::Failed => Some(Lifecycle::Failed),
        StatusFilter::All => None,
    };
    let (proposals, names) = block_on(async {
        let store = open_existing_store(ctx).await?;
        let list = async {
            super::import::require_municipality_data(&store, ctx, args.kommune).await?;
            let list = proposals_with_lifecycle(&store, args.kommune).await.context("listing proposals")?;
            Ok::<_, anyhow::Error>((list, SorNames::load(&store, args.kommune).await?))
        }
        .await;
        store.close().await;
        list
    })?;
    let shown: Vec<&ProposalLife> = proposals
        .iter()
        .filter(|l| wanted.is_none_or(|w| l.state == w))
        .filter(|l| args.kind.as_deref().is_none_or(|k| l.proposal.key.kind.as_str() == k))
        .filter(|l| args.min_confidence.is_none_or(|m| l.proposal.confidence.is_some_and(|c| c >= m)))
        .collect();
    match args.format {
        Format::Json => {
            let json = ListJson { proposals: shown.iter().map(|p| ProposalJson::from(*p)).collect() };
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Format::Text => {
            // One case per FK-ORG unit (or SOR-only unit): its correspondence, then what follows.
            let mut cases: Vec<(String, Vec<&ProposalLife>)> = Vec::new();
            for p in &shown {
                let key = case_of(&p.proposal);
                match cases.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, list)) => list.push(p),
                    None => cases.push((key, vec![p])),
                }
            }
            for (key, list) in &cases {
                let name = list.iter().find_map(|l| l.proposal.payload.fk_name().map(str::to_string));
                match name {
                    Some(n) => println!("case {n:?} ({key})"),
                    None => println!("case {key}"),
                }
                for p in list {
                    println!("  {}", life_line(p, &names));
                }
            }
            println!("{} proposals in {} cases", shown.len(), cases.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: ShowArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let (life, names) = block_on(async {
        let store = open_existing_store(ctx).await?;
        let result = async {
            let p = store.proposal(args.id).await.with_context(|| format!("reading proposal {}", args.id))?;
            let all = proposals_with_lifecycle(&store, p.kommune).await?;
            let names = SorNames::load(&store, p.kommune).await?;
            let life = all
                .into_iter()
                .find(|l| l.proposal.id == args.id)
                .context("the proposal disappeared while reading it")?;
            Ok::<_, anyhow::Error>((life, names))
        }
        .await;
        store.close().await;
        result
    })?;
    let p = &life.proposal;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&ProposalJson::from(&life))?),
        Format::Text => {
            println!("{}", life_line(&life, &names));
            println!(
                "municipality {}, made {} from FK-ORG snapshot {} and SOR snapshot {}",
                p.kommune, p.created_at, p.fk_snapshot_id, p.sor_snapshot_id
            );
            for line in describe(p, &names) {
                println!("{line}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The verified user of this process (see `cli::identity`): `--as`/SORSYNC_USER only chooses
/// among the sorsync users the operating-system account is mapped to.
pub(super) fn actor(as_user: Option<String>, ctx: &Context) -> anyhow::Result<Actor> {
    super::identity::verified_actor_blocking(ctx, as_user.as_deref())
}

/// Asks "QUESTION [y/N]" on the terminal. Refuses without a terminal (scripts pass --yes).
fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("not asking without a terminal: add --yes to confirm");
    }
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "ja" | "j"))
}

fn decide_all(args: DecideArgs, decision: Decision, ctx: &Context) -> anyhow::Result<ExitCode> {
    let actor = actor(args.as_user.clone(), ctx)?;
    let verb = match decision {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
    };
    block_on(async {
        let store = open_existing_store(ctx).await?;
        let result = async {
            let base = ctx.config.sync_policy().map_err(anyhow::Error::msg)?;
            let policy = crate::waves::pipeline::configured_policy(&store, args.kommune, &base).await?;
            let ids = if args.all {
                let pending = store.proposals(args.kommune, Some(ProposalStatus::Pending)).await?;
                let chosen: Vec<&StoredProposal> = pending
                    .iter()
                    .filter(|p| args.kind.as_deref().is_none_or(|k| p.key.kind.as_str() == k))
                    .filter(|p| args.min_confidence.is_none_or(|m| p.confidence.is_some_and(|c| c >= m)))
                    .collect();
                if chosen.is_empty() {
                    println!("no pending proposal of municipality {} matches", args.kommune);
                    return Ok(());
                }
                for p in &chosen {
                    println!("{}", one_line(p));
                }
                let infinitive = if decision == Decision::Approve { "Approve" } else { "Reject" };
                let question = format!(
                    "{infinitive} these {} proposals of municipality {} as {}?",
                    chosen.len(),
                    args.kommune,
                    actor.user_name
                );
                println!("{} proposals", chosen.len());
                if !args.yes && !confirm(&question)? {
                    println!("nothing decided");
                    return Ok(());
                }
                chosen.iter().map(|p| p.id).collect()
            } else {
                args.ids.clone()
            };
            for id in &ids {
                let p = store.proposal(*id).await.with_context(|| format!("reading proposal {id}"))?;
                if p.kommune != args.kommune {
                    anyhow::bail!("proposal {id} belongs to municipality {}, not {}", p.kommune, args.kommune);
                }
                let (_, followed) = decide_case(&store, &actor, *id, decision, args.reason.as_deref(), &policy)
                    .await
                    .with_context(|| format!("deciding on proposal {id}"))?;
                println!("{verb} #{id} as {}", actor.user_name);
                if !followed.is_empty() {
                    let list: Vec<String> = followed.iter().map(|f| format!("#{f}")).collect();
                    println!("  and by the sync policy what follows from it: {}", list.join(", "));
                }
            }
            Ok(())
        }
        .await;
        store.close().await;
        result
    })?;
    Ok(ExitCode::SUCCESS)
}
