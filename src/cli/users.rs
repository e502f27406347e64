//! `sorsync users add|grant|revoke|list|map-os|unmap-os`: local web accounts (password from a
//! prompt or standard input, stored as an argon2 hash), who holds which role for which
//! municipality, and which operating-system accounts may act as which sorsync users on the
//! command line.
//!
//! This is the operators' bootstrap: whoever can run sorsync against the store can add accounts,
//! grant and revoke roles (audited as `bootstrap:<operating-system user>`) and map OS accounts.
//! A changed password and a revocation end the user's sessions.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::import::open_store;
use super::{block_on, Context};
use crate::domain::KommuneKode;
use crate::review::{bootstrap_grant, bootstrap_revoke, Role};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a web account (or set a new password for an existing one). The password is asked for
    /// on the terminal, or read from standard input with --password-stdin.
    Add(AddArgs),
    /// Give a user a role for a municipality (sor_admin, org_admin, operator, read_only).
    Grant(GrantArgs),
    /// Take a role for a municipality from a user (audited); ends the user's sessions.
    Revoke(GrantArgs),
    /// List the role grants.
    List(ListArgs),
    /// Let an operating-system account act as a sorsync user on the command line (mutating
    /// commands refuse to run for an account that is not mapped).
    MapOs(MapOsArgs),
    /// Take a mapping away again.
    UnmapOs(MapOsArgs),
}

#[derive(Debug, Args)]
pub struct MapOsArgs {
    /// The operating-system account's name (as its uid resolves; `uid:N` without a name).
    pub os_user: String,
    /// The sorsync user it may act as.
    pub user: String,
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
pub struct AddArgs {
    /// The user name to sign in with.
    pub user: String,
    /// Read the password from the first line of standard input (for scripts).
    #[arg(long)]
    pub password_stdin: bool,
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
        UsersCommand::Add(a) => {
            let user = a.user.trim().to_string();
            if user.is_empty() || user.chars().any(char::is_whitespace) {
                anyhow::bail!("the user name is empty or contains spaces");
            }
            let password = read_password(a.password_stdin)?;
            if password.chars().count() < 8 {
                anyhow::bail!("the password is shorter than 8 characters");
            }
            let hash = crate::web::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let created = block_on(async {
                let store = open_store(ctx).await?;
                let r = store.set_web_password_hash(&user, &hash).await.context("storing the account");
                store.close().await;
                r
            })?;
            if created {
                println!(
                    "{user}: account added (grant roles with `sorsync users grant {user} --kommune CODE --role ROLE`)"
                );
            } else {
                println!("{user}: password changed; the user's sessions ended");
            }
        }
        UsersCommand::Revoke(a) => {
            let os = super::identity::os_user()?;
            let user = a.user.trim().to_string();
            let existed = block_on(async {
                let store = open_store(ctx).await?;
                let r = bootstrap_revoke(&store, &os, &user, a.kommune, a.role).await.context("revoking the role");
                store.close().await;
                r
            })?;
            let how = if existed { "revoked; the user's sessions ended" } else { "was not held" };
            println!("{user}: {} for municipality {} {how}", a.role.as_str(), a.kommune);
        }
        UsersCommand::MapOs(a) => {
            let os = super::identity::os_user()?;
            let (os_user, user) = (a.os_user.trim().to_string(), a.user.trim().to_string());
            if os_user.is_empty() || user.is_empty() || os_user.chars().chain(user.chars()).any(char::is_control) {
                anyhow::bail!("give an operating-system user and a sorsync user name");
            }
            block_on(async {
                let store = open_store(ctx).await?;
                let r = store.map_os_user(&os_user, &user, &format!("bootstrap:{os}")).await.context("mapping");
                store.close().await;
                r
            })?;
            println!("{os_user} may act as {user} on the command line");
        }
        UsersCommand::UnmapOs(a) => {
            let removed = block_on(async {
                let store = open_store(ctx).await?;
                let r = store.unmap_os_user(a.os_user.trim(), a.user.trim()).await.context("unmapping");
                store.close().await;
                r
            })?;
            let how = if removed { "no longer acts" } else { "did not act" };
            println!("{} {how} as {}", a.os_user.trim(), a.user.trim());
        }
        UsersCommand::Grant(a) => {
            let os = super::identity::os_user()?;
            let user = a.user.trim().to_string();
            if user.is_empty() {
                anyhow::bail!("the user name is empty");
            }
            let created = block_on(async {
                let store = open_store(ctx).await?;
                let r = bootstrap_grant(&store, &os, &user, a.kommune, a.role).await.context("granting the role");
                store.close().await;
                r
            })?;
            let how = if created { "granted" } else { "already held" };
            println!("{user}: {} for municipality {} ({how})", a.role.as_str(), a.kommune);
        }
        UsersCommand::List(a) => {
            let (grants, accounts) = block_on(async {
                let store = open_store(ctx).await?;
                let r = async {
                    let grants = store.role_grants().await.context("listing role grants")?;
                    let accounts = store.web_users().await.context("listing accounts")?;
                    anyhow::Ok((grants, accounts))
                }
                .await;
                store.close().await;
                r
            })?;
            for g in grants.iter().filter(|g| a.kommune.is_none_or(|k| g.kommune == k)) {
                let sign_in = if accounts.contains(&g.user_name) { "" } else { "  [no web account]" };
                println!(
                    "{}  {:<10} {}  (granted by {} at {}){sign_in}",
                    g.kommune, g.role, g.user_name, g.granted_by, g.granted_at
                );
            }
            if a.kommune.is_none() {
                for user in accounts.iter().filter(|u| !grants.iter().any(|g| &g.user_name == *u)) {
                    println!("---  {:<10} {user}  (web account without roles)", "-");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The password: the first line of standard input, or (on a terminal) typed twice without echo.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    use std::io::{BufRead as _, IsTerminal as _, Write as _};
    let stdin = std::io::stdin();
    if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let ask = |prompt: &str| -> anyhow::Result<String> {
        eprint!("{prompt}");
        std::io::stderr().flush().ok();
        let echo_off = std::process::Command::new("stty").arg("-echo").stdin(std::process::Stdio::inherit()).status();
        let mut line = String::new();
        let read = stdin.lock().read_line(&mut line);
        if echo_off.is_ok() {
            let _ = std::process::Command::new("stty").arg("echo").stdin(std::process::Stdio::inherit()).status();
        }
        eprintln!();
        read.context("reading the password")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    let first = ask("Password: ")?;
    let second = ask("Password again: ")?;
    if first != second {
        anyhow::bail!("the two passwords differ");
    }
    Ok(first)
}
