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

/// Lets this process's operating-system account act as each of `users` on the command line
/// (mutating commands need a verified identity).
pub async fn map_os_users(store: &sorsync::store::Store, users: &[&str]) {
    let os = sorsync::cli::identity::os_user().unwrap();
    for u in users {
        store.map_os_user(&os, u, "test").await.unwrap();
    }
}
