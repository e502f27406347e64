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
