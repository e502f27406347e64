//! Helpers shared by the integration tests.

use std::path::PathBuf;
use std::process::Command;

/// The repository root (where `fixtures/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// The built `sorsync` binary, ready to run (no config file from the caller's directory leaks in).
pub fn sorsync() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sorsync"));
    c.env_remove("SORSYNC_CONFIG").env_remove("SORSYNC_DATABASE_URL").env_remove("RUST_LOG");
    c
}

/// A `sorsync stand-in ...` process, killed when the test ends (also when it fails).
pub struct StandInProcess {
    child: std::process::Child,
    /// The address it printed on its first line (`listening on http://ADDR` or `https://ADDR`).
    pub addr: std::net::SocketAddr,
}

impl Drop for StandInProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `sorsync` with `args` (a `stand-in` command) and waits for the address it prints.
pub async fn stand_in_process(args: &[std::ffi::OsString]) -> StandInProcess {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;
    let child = sorsync().args(args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut process = StandInProcess { child, addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)) };
    let stdout = process.child.stdout.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    process.addr = first_line
        .trim()
        .strip_prefix("listening on http://")
        .or_else(|| first_line.trim().strip_prefix("listening on https://"))
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .parse()
        .unwrap();
    process
}

/// The stand-in certificates the in-process FK-ORG stand-ins of the tests share (generated once
/// per test process in a temporary directory).
pub fn fkorg_certs() -> &'static sorsync::standin::tls::StandInCerts {
    static CERTS: std::sync::OnceLock<(tempfile::TempDir, sorsync::standin::tls::StandInCerts)> =
        std::sync::OnceLock::new();
    let (_, certs) = CERTS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let certs = sorsync::standin::tls::StandInCerts::load_or_create(dir.path()).unwrap();
        (dir, certs)
    });
    certs
}

/// Stand-in options for HTTPS with [`fkorg_certs`]: token, STS and OIOIDWS as on FK-ORG.
pub fn secure_fkorg_options() -> sorsync::standin::fkorg::StandInOptions {
    sorsync::standin::fkorg::StandInOptions::default().with_certs(fkorg_certs()).unwrap()
}

/// The FK-ORG client configuration for an in-process stand-in on HTTPS at `addr`.
pub fn fkorg_config(addr: std::net::SocketAddr) -> sorsync::config::FkOrgConfig {
    let certs = fkorg_certs();
    sorsync::config::FkOrgConfig {
        endpoint: format!("https://{addr}{}", sorsync::standin::fkorg::GRAPHQL_PATH),
        token_url: format!("https://{addr}{}", sorsync::standin::fkorg::TOKEN_PATH),
        client_certificate: Some(certs.client_certificate()),
        client_key: Some(certs.client_key()),
        ca_certificate: Some(certs.ca_certificate()),
        timeout_secs: 10,
        max_retries: 3,
        ..sorsync::config::FkOrgConfig::default()
    }
}

/// An HTTPS client that trusts the stand-in CA and shows the test client certificate.
pub fn https_client() -> reqwest::Client {
    let certs = fkorg_certs();
    let mut pem = std::fs::read(certs.client_certificate()).unwrap();
    pem.push(b'\n');
    pem.extend(std::fs::read(certs.client_key()).unwrap());
    reqwest::Client::builder()
        .identity(reqwest::Identity::from_pem(&pem).unwrap())
        .add_root_certificate(reqwest::Certificate::from_pem(certs.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

/// The `[fkorg]` keys (without the table header) for an in-process stand-in on HTTPS at `addr`.
pub fn fkorg_toml_keys(addr: std::net::SocketAddr) -> String {
    let certs = fkorg_certs();
    format!(
        "endpoint = \"https://{addr}{}\"\ntoken_url = \"https://{addr}{}\"\nclient_certificate = {:?}\nclient_key = {:?}\nca_certificate = {:?}\n",
        sorsync::standin::fkorg::GRAPHQL_PATH,
        sorsync::standin::fkorg::TOKEN_PATH,
        certs.client_certificate().display().to_string(),
        certs.client_key().display().to_string(),
        certs.ca_certificate().display().to_string(),
    )
}

/// Lets this process's operating-system account act as each of `users` on the command line
/// (mutating commands need a verified identity).
pub async fn map_os_users(store: &sorsync::store::Store, users: &[&str]) {
    let os = sorsync::cli::identity::os_user().unwrap();
    for u in users {
        store.map_os_user(&os, u, "test").await.unwrap();
    }
}
