//! Reader for the SOR2 CSV export (`SorEntity_daily.csv`: semicolon separated, UTF-8, BOM optional).

use std::path::Path;

use super::{Problem, ReadError};
use crate::domain::SorTree;

/// Reads a whole SOR2 CSV export from `bytes`. `path` is used in errors.
pub fn read_sor_csv(path: &Path, _bytes: &[u8]) -> Result<SorTree, ReadError> {
    Err(ReadError::new(path, Problem::Io("SOR CSV reader not built yet".into())))
}
