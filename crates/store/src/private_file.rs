//! Files that hold secrets or personal data (the store, the config with its credentials, contact
//! reports with names and phone numbers, keys) are readable by their owner only: created with mode
//! 0600, and a warning when an existing one is readable by others.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Creates `path` (mode 0600) if it does not exist; an existing file is left as it is.
pub fn create_if_missing(path: &Path) -> io::Result<()> {
    match open_options().create_new(true).write(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to `path`, owner-only: into `path.partial` (0600) first, then renamed over
/// `path`, so nobody ever sees half a file or a moment of looser mode.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut file = open_options().create_new(true).write(true).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// Whether others than the owner may read or write `path` (false when it cannot be read).
pub fn is_loose(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Logs a warning when `path` (holding `what`) is readable by others.
pub fn warn_if_loose(path: &Path, what: &str) {
    if is_loose(path) {
        tracing::warn!(
            file = %path.display(),
            "{what} is readable by other users of this machine; make it owner-only: chmod 600 {}",
            path.display()
        );
    }
}

fn open_options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    o
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn written_and_created_files_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        write(&a, b"x").unwrap();
        assert_eq!(std::fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&a).unwrap(), b"x");
        let b = dir.path().join("b.db");
        create_if_missing(&b).unwrap();
        assert_eq!(std::fs::metadata(&b).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!is_loose(&b));
        std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(is_loose(&b));
    }
}
