//! `sorsync propose --kommune CODE` with the store: matches the latest FK-ORG and SOR snapshots of
//! a municipality (within the scope the wave plan configures for it, if any) and records the proposals
//! (only what changed since earlier runs and decisions). The step itself is [`crate::waves::pipeline::propose_for`].

use std::io::Write;
use std::process::ExitCode;

use clap::ValueEnum;
use serde::Serialize;

use super::import::open_existing_store;
use super::{block_on, Context, EXIT_NEEDS_ATTENTION};
use crate::domain::KommuneKode;
use crate::matching::MatchOptions;
use crate::review::{apply_policy, Actor};
use crate::store::Store;
use crate::waves::pipeline::{configured_policy, configured_scope, propose_for, StoreRun};

/// Output of a store-backed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreRunFormat {
    Text,
    /// `{"kommune","fk_snapshot_id","sor_snapshot_id","new","unchanged","skipped_rejected",
    /// "skipped_approved","skipped_linked","superseded","pending","proposals":[{"id","status",
    /// "proposal":{...the propose JSON contract...}}]}` (proposals: the new ones).
    Json,
}

#[derive(Debug, Serialize)]
struct RunJson {
    kommune: String,
    fk_snapshot_id: i64,
    sor_snapshot_id: i64,
    new: usize,
    unchanged: usize,
    skipped_rejected: usize,
    skipped_approved: usize,
    skipped_linked: usize,
    superseded: usize,
    pending: usize,
    proposals: Vec<super::proposals::ProposalJson>,
}

/// Runs the matcher on the latest snapshots of `kommune` (SOR: the municipality's own SOR
/// snapshot, else the latest national one) and records the proposals. Exit code 2 when proposals
/// are pending (a person must decide), 0 when none are.
pub fn run_from_store(
    kommune: KommuneKode,
    opts: &MatchOptions,
    actor: Option<Actor>,
    format: StoreRunFormat,
    ctx: &Context,
) -> anyhow::Result<ExitCode> {
    let (StoreRun { mut summary, fk_snapshot_id: fk_id, sor_snapshot_id: sor_id, new, .. }, decided) =
        block_on(async {
            let store = open_existing_store(ctx).await?;
            let result = async {
                let r = run(&store, kommune, opts).await?;
                let decided = match &actor {
                    Some(actor) => {
                        let policy = configured_policy(&store, kommune, &opts.policy).await?;
                        Some(apply_policy(&store, actor, kommune, &policy).await?)
                    }
                    None => None,
                };
                anyhow::Ok((r, decided))
            }
            .await;
            store.close().await;
            result
        })?;
    if let Some(d) = &decided {
        summary.pending = summary.pending.saturating_sub(d.approved.len());
    }
    let mut out = std::io::stdout().lock();
    match format {
        StoreRunFormat::Json => {
            let json = RunJson {
                kommune: kommune.to_string(),
                fk_snapshot_id: fk_id,
                sor_snapshot_id: sor_id,
                new: summary.new.len(),
                unchanged: summary.unchanged,
                skipped_rejected: summary.skipped_rejected,
                skipped_approved: summary.skipped_approved,
                skipped_linked: summary.skipped_linked,
                superseded: summary.superseded,
                pending: summary.pending,
                proposals: new.iter().map(super::proposals::ProposalJson::from).collect(),
            };
            serde_json::to_writer_pretty(&mut out, &json)?;
            writeln!(out)?;
        }
        StoreRunFormat::Text => {
            writeln!(out, "Municipality {kommune}: FK-ORG snapshot {fk_id}, SOR snapshot {sor_id}")?;
            for p in &new {
                writeln!(out, "new  {}", super::proposals::one_line(p))?;
            }
            writeln!(
                out,
                "{} new, {} unchanged, {} rejected before, {} approved before, {} already linked, {} superseded; \
                 {} pending",
                summary.new.len(),
                summary.unchanged,
                summary.skipped_rejected,
                summary.skipped_approved,
                summary.skipped_linked,
                summary.superseded,
                summary.pending
            )?;
            match &decided {
                Some(d) => writeln!(
                    out,
                    "The sync policy decided {} of them without a person (recorded as automatic in the audit log).",
                    d.approved.len()
                )?,
                None => writeln!(
                    out,
                    "Give --as USER (an operator or SOR administrator) to let the sync policy decide what needs no person."
                )?,
            }
            if summary.pending > 0 {
                writeln!(out, "Review them with `sorsync proposals list --kommune {kommune}`.")?;
            }
        }
    }
    Ok(if summary.pending > 0 { ExitCode::from(EXIT_NEEDS_ATTENTION) } else { ExitCode::SUCCESS })
}

/// The shared propose step, within the scope the stored wave plan configures for the municipality.
async fn run(store: &Store, kommune: KommuneKode, opts: &MatchOptions) -> anyhow::Result<StoreRun> {
    let mut opts = opts.clone();
    if let Some(scope) = configured_scope(store, kommune).await? {
        tracing::info!(kommune = %kommune, "Using the scope of the wave plan.");
        opts.scope = scope;
    }
    Ok(propose_for(store, kommune, &opts).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SorId, SorKind, SorTree, SorUnit};
    use crate::sources::read_fkorg_file;

    fn sor(name: &str) -> SorTree {
        SorTree::new(vec![SorUnit::new(SorId::from_running_number(1001), SorKind::InstitutionOwner, name, None)])
            .expect("a one-unit SOR tree")
    }

    #[tokio::test]
    async fn a_run_uses_the_municipalitys_own_sor_snapshot_else_the_national_one() {
        let store = Store::open("sqlite::memory:").await.expect("an in-memory store");
        let kommune = KommuneKode::parse("350").expect("a code");
        let today = MatchOptions::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date"));
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fkorg/korsbaek.json");
        let err = run(&store, kommune, &today).await.expect_err("no snapshots yet");
        assert!(err.to_string().contains("no FK-ORG snapshot for municipality 350"), "{err}");
        let fk = read_fkorg_file(&fixture).expect("the fixture reads");
        let fk_id = store.import_fkorg(kommune, "fk", &fk).await.expect("import").snapshot_id;
        let err = run(&store, kommune, &today).await.expect_err("no SOR snapshot yet");
        assert!(err.to_string().contains("no SOR snapshot"), "{err}");

        let national = store.import_sor("national", None, &sor("Danmark")).await.expect("import").snapshot_id;
        let r = run(&store, kommune, &today).await.expect("a run on the national SOR");
        assert_eq!((r.fk_snapshot_id, r.sor_snapshot_id), (fk_id, national));

        let own = store.import_sor("own", Some(kommune), &sor("Korsbæk")).await.expect("import").snapshot_id;
        let r = run(&store, kommune, &today).await.expect("a run on the municipality's SOR");
        assert_eq!(r.sor_snapshot_id, own);
    }
}
