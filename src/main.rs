//! The `sorsync` binary: parses arguments, starts telemetry and hands over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = sorsync::cli::parse();
    sorsync::telemetry::init(cli.verbose);
    match sorsync::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", sorsync::telemetry::printable(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
