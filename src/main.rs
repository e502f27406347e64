//! The `sorsync` binary: parses arguments, starts telemetry and hands over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = sorsync::cli::parse();
    sorsync::telemetry::init(cli.verbose);
    match sorsync::cli::run(cli) {
        Ok(code) => code,
        // The reader went away (`sorsync audit ... | head`): nothing more to say.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", sorsync::telemetry::printable(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
