//! Streaming reader for the SOR XML export (1.0.0, and the national 2.0.0 file).

use std::path::Path;

use super::{Problem, ReadError};
use crate::domain::SorTree;

/// Reads a whole SOR XML file from `bytes` (may start with a BOM). `path` is used in errors.
pub fn read_sor_xml(path: &Path, _bytes: &[u8]) -> Result<SorTree, ReadError> {
    Err(ReadError::new(path, Problem::Io("SOR XML reader not built yet".into())))
}
