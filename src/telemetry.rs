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

/// The longest message [`printable`] shows.
pub const MAX_SHOWN_CHARS: usize = 4000;

/// `text` made safe for a terminal: control characters other than line breaks and tabs (an escape
/// sequence in a unit name or in a server's error message could move the cursor, rewrite the
/// screen or set the window title) shown as `\u{1b}`, and at most [`MAX_SHOWN_CHARS`] characters.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_SHOWN_CHARS));
    for (n, c) in text.chars().enumerate() {
        if n == MAX_SHOWN_CHARS {
            let rest = text.chars().count() - n;
            out.push_str(&format!("... ({rest} more characters)"));
            break;
        }
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// For tests: quiet unless `TEST_LOG=1`.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init(2);
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn escape_sequences_and_floods_do_not_reach_the_terminal() {
        assert_eq!(printable("Plejecenter\u{1b}[2J B\n\tnext"), "Plejecenter\\u{1b}[2J B\n\tnext");
        let long = printable(&"x".repeat(10_000));
        assert!(long.len() < 4100 && long.ends_with("(6000 more characters)"), "{long}");
    }
}
