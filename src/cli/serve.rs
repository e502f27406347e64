//! `sorsync serve`: the web app (review queue, proposal detail, what-if, contacts) on one address.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::import::open_existing_store;
use super::{block_on, Context};
use crate::web::{serve, WebConfig};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on. Keep it on loopback unless a TLS-terminating proxy is in front.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: SocketAddr,
    /// Mark cookies Secure: set this when users reach the app over HTTPS (e.g. through a proxy).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Take the user name from this header (e.g. X-Remote-User), set by an authenticating reverse
    /// proxy. Only when the app is reachable through that proxy alone.
    #[arg(long, value_name = "HEADER")]
    pub trust_proxy_header: Option<String>,
}

pub fn run(args: ServeArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    block_on(async {
        let store = open_existing_store(ctx).await?;
        let config = WebConfig {
            secure_cookies: args.secure_cookies,
            today: None,
            proxy_user_header: args.trust_proxy_header.clone(),
        };
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        serve(
            args.addr,
            store.clone(),
            config,
            |addr| println!("Serving sorsync on http://{addr}/ (Ctrl-C stops)"),
            shutdown,
        )
        .await
        .context("serving the web app")?;
        store.close().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
