//! `sorsync users grant|list`: who holds which role for which municipality.
//!
//! For now this is the operators' bootstrap: whoever can run sorsync against the store can grant
//! roles. Issue 8 adds passwords and sign-in; then grants are made by signed-in SOR administrators
//! through [`crate::review::grant`] with a granting actor.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::import::open_store;
use super::{block_on, Context};
use crate::domain::KommuneKode;
use crate::review::{grant, Role};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Give a user a role for a municipality (sor_admin, org_admin, operator, read_only).
    Grant(GrantArgs),
    /// List the role grants.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The user name (as given to `--as` / SORSYNC_USER).
    pub user: String,
    #[arg(long, value_name = "CODE", value_parser = KommuneKode::parse)]
    pub kommune: KommuneKode,
    /// sor_admin (approves), org_admin (previews), operator (runs batches) or read_only.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this municipality.
    #[arg(long, value_name = "CODE", value_parser = KommuneKode::parse)]
    pub kommune: Option<KommuneKode>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {s:?}; one of {}", names.join(", "))
    })
}

pub fn run(command: UsersCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        UsersCommand::Grant(a) => {
            let user = a.user.trim().to_string();
            if user.is_empty() {
                anyhow::bail!("the user name is empty");
            }
            let created = block_on(async {
                let store = open_store(ctx).await?;
                let r = grant(&store, None, &user, a.kommune, a.role).await.context("granting the role");
                store.close().await;
                r
            })?;
            let how = if created { "granted" } else { "already held" };
            println!("{user}: {} for municipality {} ({how})", a.role.as_str(), a.kommune);
        }
        UsersCommand::List(a) => {
            let grants = block_on(async {
                let store = open_store(ctx).await?;
                let r = store.role_grants().await.context("listing role grants");
                store.close().await;
                r
            })?;
            for g in grants.iter().filter(|g| a.kommune.is_none_or(|k| g.kommune == k)) {
                println!(
                    "{}  {:<10} {}  (granted by {} at {})",
                    g.kommune, g.role, g.user_name, g.granted_by, g.granted_at
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
