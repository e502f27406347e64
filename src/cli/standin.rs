//! `sorsync stand-in fkorg|sor`: run a local server that speaks FK-ORG's GraphQL read API or SOR's
//! update service.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::Context;
use crate::sources::{read_fkorg_file, read_sor_file};
use crate::standin::fkorg::{self, StandInOptions};
use crate::standin::sor;

#[derive(Debug, Subcommand)]
pub enum StandInCommand {
    /// FK-ORG's GraphQL read API (organisationEnhedListe, brugerListe), its token endpoint and
    /// the Organisation 6 SOAP services that write (adresse, organisationenhed).
    ///
    /// Serves POST /organisation/organisationhent/1 (needs a Bearer token and the headers
    /// x-TransaktionsId and x-TransaktionsTid), POST /runtime/api/rest/oauth/v1/issue (tokens:
    /// to a client certificate with --certs, else client id and secret), and POST
    /// /organisation/adresse/6/ and /organisation/organisationenhed/6/ (importer, laes, ret).
    /// Prints "listening on http://127.0.0.1:PORT" when ready; stop it with Ctrl-C.
    Fkorg(StandInFkorgArgs),
    /// SOR's update service (SORUS, SOAP): create, update, move, close, lookup by idempotency key.
    ///
    /// Serves POST /sor-opdatering/v3/SOROpdateringService (SORUS v3's path; SOAP 1.1), GET /sor.xml (the current state as SOR XML 1.0.0),
    /// GET /stats (counters as JSON) and GET /health. Prints "listening on http://127.0.0.1:PORT"
    /// when ready; stop it with Ctrl-C.
    Sor(StandInSorArgs),
    /// A stand-in for KOMBIT's Context Handler (Adgangsstyring): a SAML IdP for the `[saml]`
    /// service provider of the config file. Writes its key (0600), certificate and metadata to
    /// --dir (point `[saml] idp_metadata` at DIR/idp-metadata.xml), serves GET /metadata, GET
    /// /sso (a page listing demo users: one per role and municipality) and GET /slo on
    /// 127.0.0.1. Assertions are signed, and encrypted (AES-256-GCM, RSA-OAEP) unless
    /// `[saml] require_encryption = false`.
    Idp(StandInIdpArgs),
}

#[derive(Debug, Args)]
pub struct StandInIdpArgs {
    /// Port on 127.0.0.1 (the metadata names it, so keep it fixed).
    #[arg(long, default_value_t = 8703)]
    pub port: u16,
    /// Where the IdP's key, certificate and metadata live (created if missing).
    #[arg(long, value_name = "DIR", default_value = "standin-idp")]
    pub dir: PathBuf,
    /// The municipalities whose demo users are listed (kommunekoder). Default: the pilots.
    #[arg(long = "kommune", value_name = "CODE")]
    pub kommuner: Vec<u16>,
}

#[derive(Debug, Args)]
pub struct StandInSorArgs {
    /// The initial SOR state: a SOR file as `sorsync inspect sor` reads (XML or CSV).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one; the chosen port is printed).
    #[arg(long, default_value_t = 8702)]
    pub port: u16,
    /// Share of SOAP requests (0.0 to 1.0) answered 500 with a temporary fault, without applying.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Share of SOAP requests that hang for --hang-ms (half of them are applied first).
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub timeout_rate: f64,
    /// Share of SOAP requests whose connection is closed without an answer (half applied first).
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub drop_rate: f64,
    /// Delay added to every SOAP request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// How long a hanging request hangs, in milliseconds (longer than the client's timeout).
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub hang_ms: u64,
    /// Seed for the fault injection, so a run can be repeated exactly.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Keep the applied changes in FILE (created if missing; one JSON line per change). On start
    /// they are applied again on top of --data, so a restarted stand-in answers known keys and
    /// never hands out a SOR-ID twice.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StandInFkorgArgs {
    /// The FK-ORG data to serve: a GraphQL response file as `sorsync inspect fkorg` reads.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one; the chosen port is printed).
    #[arg(long, default_value_t = 8701)]
    pub port: u16,
    /// Delay added to every GraphQL request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of GraphQL requests (0.0 to 1.0) answered with 503 Service Unavailable.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Share of GraphQL requests (0.0 to 1.0) that hang for --hang-secs before answering 504,
    /// so that clients time out.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub hang_rate: f64,
    /// How long a hanging request hangs, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub hang_secs: u64,
    /// Seed for the fault injection, so a run can be repeated exactly.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seconds an issued token stays valid.
    #[arg(long, default_value_t = 3600)]
    pub token_ttl_secs: u64,
    /// Serve HTTPS with the certificates in DIR (generated on first use: ca.pem, client.pem,
    /// client-key.pem, server.pem, sts.pem, ...): the token endpoint and the STS issue tokens only
    /// to a client certificate from that CA, with client_id and scope as KOMBIT's does (no
    /// secret), and the SOAP services take only requests signed under OIOIDWS. Point
    /// fkorg.client_certificate, fkorg.client_key and fkorg.ca_certificate at the files.
    #[arg(long, value_name = "DIR")]
    pub certs: PathBuf,
}

pub fn run(cmd: StandInCommand, ctx: &Context) -> anyhow::Result<ExitCode> {
    match cmd {
        StandInCommand::Fkorg(args) => run_fkorg(args, ctx),
        StandInCommand::Sor(args) => run_sor(args),
        StandInCommand::Idp(args) => run_idp(args, ctx),
    }
}

fn run_sor(args: StandInSorArgs) -> anyhow::Result<ExitCode> {
    let opts = sor::SorStandInOptions {
        port: args.port,
        fail_rate: args.fail_rate,
        timeout_rate: args.timeout_rate,
        drop_rate: args.drop_rate,
        latency: Duration::from_millis(args.latency_ms),
        hang: Duration::from_millis(args.hang_ms),
        seed: args.seed,
        state: args.state.clone(),
        ..sor::SorStandInOptions::default()
    };
    opts.check().map_err(anyhow::Error::msg)?;
    let tree = read_sor_file(&args.data)?;
    let units = tree.len();
    super::block_on(async move {
        let server = sor::spawn(tree, opts)
            .await
            .with_context(|| format!("starting the SOR stand-in on 127.0.0.1:{}", args.port))?;
        let addr = server.addr();
        let banner = format!(
            "listening on http://{addr}\n  SORUS:   {}  ({units} units)\n  state:   http://{addr}{}\n",
            server.service_url(),
            sor::SOR_XML_PATH
        );
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(banner.as_bytes()).and_then(|()| out.flush()) {
            tracing::warn!(error = %e, "cannot write to stdout; serving anyway");
        }
        drop(out);
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            r = server.join() => r.context("the stand-in server stopped")?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn run_fkorg(args: StandInFkorgArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    if !(0.0..=1.0).contains(&args.fail_rate) || !(0.0..=1.0).contains(&args.hang_rate) {
        anyhow::bail!("--fail-rate and --hang-rate must be between 0.0 and 1.0");
    }
    if args.fail_rate + args.hang_rate > 1.0 {
        anyhow::bail!("--fail-rate plus --hang-rate must not exceed 1.0");
    }
    let tree = read_fkorg_file(&args.data)?;
    let certs = crate::standin::tls::StandInCerts::load_or_create(&args.certs)
        .with_context(|| format!("the stand-in certificates in {}", args.certs.display()))?;
    let scheme = "https";
    let opts = StandInOptions {
        port: args.port,
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        hang_rate: args.hang_rate,
        hang_time: Duration::from_secs(args.hang_secs),
        seed: args.seed,
        token_ttl: Duration::from_secs(args.token_ttl_secs),
        ..StandInOptions::default()
    }
    .with_certs(&certs)?;
    let (units, users, cvr) = (tree.len(), tree.users.len(), tree.cvr);
    super::block_on(async move {
        let (addr, server) =
            fkorg::spawn(tree, opts).await.with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
        let cvr = cvr.map(|c| c.to_string()).unwrap_or_else(|| "any".to_string());
        let banner = format!(
            "listening on {scheme}://{addr}\n  GraphQL: {scheme}://{addr}{}  (CVR {cvr}: {units} units, {users} users)\n  token:   {scheme}://{addr}{}\n  SOAP:    {scheme}://{addr}/organisation/{{adresse,organisationenhed}}/6/\n  STS:     {scheme}://{addr}{}\n",
            fkorg::GRAPHQL_PATH,
            fkorg::TOKEN_PATH,
            crate::sources::oioidws::STS_PATH
        );
        // One write, so a reader that stops after the first line cannot cut it short; and keep
        // serving if nobody reads stdout any more.
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(banner.as_bytes()).and_then(|()| out.flush()) {
            tracing::warn!(error = %e, "cannot write to stdout; serving anyway");
        }
        drop(out);
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            r = server => r.context("the stand-in server stopped")?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Builds the stand-in IdP for the `[saml]` service provider: key and certificate in `dir`, the
/// metadata written to `dir/idp-metadata.xml` (and to `[saml] idp_metadata` when that file does
/// not exist yet), demo users for `kommuner` with the configured privilege URIs.
pub fn standin_idp(
    saml: &crate::config::SamlConfig,
    port: u16,
    dir: &std::path::Path,
    kommuner: &[u16],
) -> anyhow::Result<std::sync::Arc<crate::standin::idp::StandinIdp>> {
    use crate::standin::idp;
    let (key, cert) = idp::key_and_cert_in(dir, "idp").context("the stand-in IdP's key and certificate")?;
    let sp_cert = crate::web::saml::read_cert_pem(&saml.cert)?;
    let codes: Vec<u16> =
        if kommuner.is_empty() { crate::generate::municipalities::PILOTS.to_vec() } else { kommuner.to_vec() };
    let mut municipalities = Vec::new();
    for code in codes {
        let m = crate::generate::municipalities::Municipality::by_code(code)
            .with_context(|| format!("no municipality {code}"))?;
        municipalities.push((m.cvr(), code));
    }
    let p = &saml.privileges;
    let privileges: Vec<(&str, String)> = [
        ("sor_admin", &p.sor_admin),
        ("org_admin", &p.org_admin),
        ("operator", &p.operator),
        ("read_only", &p.read_only),
    ]
    .into_iter()
    .filter_map(|(r, u)| u.clone().map(|u| (r, u)))
    .collect();
    if privileges.is_empty() {
        anyhow::bail!("[saml.privileges] names no role URI: the demo users would have no roles");
    }
    let base = format!("http://127.0.0.1:{port}");
    let acs = format!("{}/saml/acs", saml.base_url.trim_end_matches('/'));
    let mut standin = idp::StandinIdp::new(
        &format!("{base}/metadata"),
        &base,
        key,
        cert,
        &saml.entity_id,
        &acs,
        sp_cert,
        idp::demo_users(&municipalities, &privileges),
    );
    if !saml.require_encryption {
        standin.encryption = idp::Encryption::None;
    }
    let metadata = standin.metadata_xml();
    std::fs::write(dir.join("idp-metadata.xml"), &metadata).context("writing the stand-in IdP's metadata")?;
    if !saml.idp_metadata.exists() {
        std::fs::write(&saml.idp_metadata, &metadata)
            .with_context(|| format!("writing {}", saml.idp_metadata.display()))?;
    }
    Ok(std::sync::Arc::new(standin))
}

fn run_idp(args: StandInIdpArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let saml = ctx
        .config
        .saml
        .as_ref()
        .context("the stand-in IdP serves the [saml] service provider: set [saml] in the config")?;
    let idp = standin_idp(saml, args.port, &args.dir, &args.kommuner)?;
    super::block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
        println!(
            "listening on http://127.0.0.1:{}\n  metadata: {}/metadata (also {})\n  {} demo users",
            args.port,
            idp.base_url,
            args.dir.join("idp-metadata.xml").display(),
            idp.users.len()
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        crate::standin::idp::serve(listener, idp, shutdown).await.context("the stand-in IdP stopped")?;
        Ok(ExitCode::SUCCESS)
    })
}
