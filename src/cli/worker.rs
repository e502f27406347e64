//! `sorsync worker`: takes queued wave jobs (`sorsync waves run NAME --queue`) from the store and
//! works them. Start several against one PostgreSQL store; on SQLite run one.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::import::open_existing_store;
use super::{block_on, Context, EXIT_NEEDS_ATTENTION};
use crate::waves::runner::{NoProgress, RunVerdict};
use crate::waves::worker::{work_queue, NoObserver, WorkerDeps, WorkerOptions};

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Stop when the queue is empty (else keep waiting for jobs until Ctrl-C).
    #[arg(long)]
    pub once: bool,
    /// The worker's name in the job table (default: host name and process id).
    #[arg(long)]
    pub name: Option<String>,
    /// SQLite: seconds a taken job counts as being worked on before it is taken again.
    #[arg(long, default_value_t = 1800)]
    pub lease_secs: u64,
    /// Seconds between looks at an empty queue.
    #[arg(long, default_value_t = 5)]
    pub poll_secs: u64,
    /// Who the worker acts as (an operator of the municipalities it works on): needed to
    /// auto-approve and to plan and apply: one of the sorsync users the operating-system account is
    /// mapped to (`sorsync users map-os`). Default: $SORSYNC_USER, else the only one mapped.
    #[arg(long = "as", value_name = "USER", env = "SORSYNC_USER")]
    pub as_user: Option<String>,
}

pub fn run(a: WorkerArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let name = a.name.unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".to_string());
        format!("{host}-{}", std::process::id())
    });
    let opts = WorkerOptions {
        name,
        lease: Duration::from_secs(a.lease_secs),
        once: a.once,
        poll: Duration::from_secs(a.poll_secs.max(1)),
    };
    let deps = WorkerDeps {
        fkorg: ctx.config.fkorg.clone(),
        steps: super::waves::apply_steps(
            &ctx.config,
            block_on(async {
                let store = open_existing_store(ctx).await?;
                let r = super::waves::optional_actor(&store, a.as_user.as_deref()).await;
                store.close().await;
                r
            })?,
        ),
        progress: Arc::new(NoProgress),
        observer: Arc::new(NoObserver),
    };
    let summary = block_on(async {
        let store = open_existing_store(ctx).await?;
        let r = tokio::select! {
            r = work_queue(&store, &deps, &opts) => r.map_err(anyhow::Error::from),
            _ = tokio::signal::ctrl_c() => Ok(Default::default()),
        };
        store.close().await;
        r
    })?;
    for (job, kommune, outcome) in &summary.jobs {
        println!("job {job}: {kommune} {}", outcome.as_str());
    }
    Ok(match summary.verdict() {
        RunVerdict::AllFine => ExitCode::SUCCESS,
        RunVerdict::NeedsPerson => ExitCode::from(EXIT_NEEDS_ATTENTION),
        RunVerdict::Failure => ExitCode::FAILURE,
    })
}
