//! The one place that sets up logging (tracing). Logs go to stderr so stdout stays machine-readable.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` wins over `verbose` (0 = warn, 1 = info, 2+ = debug).
pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// For tests: quiet unless `TEST_LOG=1`.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init(2);
    }
}
