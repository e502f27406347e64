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
    /// proxy that strips it from what clients send. Believed only from `[web] proxy_addresses`
    /// with the shared secret (`[web] proxy_secret_header`, SORSYNC_PROXY_SECRET); refused on an
    /// address other than loopback without them. Also `[web] proxy_user_header`.
    #[arg(long, value_name = "HEADER")]
    pub trust_proxy_header: Option<String>,
}

/// The web app's configuration from the flags and the config file: SAML when `[saml]` is set,
/// the proxy header when asked for (checked against the address the server binds to).
pub fn web_config(args: &ServeArgs, config: &crate::config::Config) -> anyhow::Result<WebConfig> {
    let saml = match &config.saml {
        Some(s) => Some(std::sync::Arc::new(crate::web::saml::SamlSp::load(s).context("loading [saml]")?)),
        None => None,
    };
    let web = &config.web;
    let header = args.trust_proxy_header.clone().or_else(|| web.proxy_user_header.clone());
    let proxy = match header {
        Some(h) => Some(
            crate::web::auth::ProxySignIn::new(
                &h,
                &web.proxy_addresses,
                web.proxy_secret_header.as_deref(),
                web.proxy_secret.as_deref(),
                args.addr,
            )
            .map_err(anyhow::Error::msg)
            .context("the proxy header")?,
        ),
        None => None,
    };
    Ok(WebConfig { secure_cookies: args.secure_cookies, today: None, proxy, saml })
}

pub fn run(args: ServeArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let config = web_config(&args, &ctx.config)?;
    block_on(async {
        let store = open_existing_store(ctx).await?;
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
