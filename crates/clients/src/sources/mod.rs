//! Readers for the real file formats and clients for the real APIs. Everything here turns bytes
//! from outside into checked domain trees, or fails with a [`ReadError`] that names the file,
//! the record and the problem.

pub mod fkorg_client;
pub mod fkorg_json;
pub mod fkorg_soap;
pub mod oioidws;
pub mod sor_csv;
mod sor_record;
pub mod sor_xml;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::domain::{FkTree, IdError, SorTree, TreeError};

/// The record an error is about: its id and, when known, its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    pub id: String,
    pub name: Option<String>,
}

impl fmt::Display for RecordRef {
    /// The name as a quoted, escaped string (control characters shown as escapes, never sent to
    /// the terminal), cut to [`SHOWN_NAME_CHARS`] characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) if n.chars().count() > SHOWN_NAME_CHARS => {
                let cut: String = n.chars().take(SHOWN_NAME_CHARS).collect();
                write!(f, "{} ({cut:?}...)", self.id)
            }
            Some(n) => write!(f, "{} ({n:?})", self.id),
            None => write!(f, "{}", self.id),
        }
    }
}

/// How much of a record's name an error shows.
pub const SHOWN_NAME_CHARS: usize = 80;

/// The longest name (of a unit, a user, a person) we accept. SOR's schema allows 60 characters
/// for EntityName; FK-ORG publishes no limit. Well above both, so a real name is never refused,
/// while a megabyte "name" is.
pub const MAX_NAME_CHARS: usize = 250;

/// The longest other text field (an address line, an e-mail, a website) we accept.
pub const MAX_TEXT_CHARS: usize = 1000;

/// Checks a text field from outside: no control characters (a NUL, an escape sequence, a line
/// break inside a name) and at most `max` characters.
pub fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), Problem> {
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(Problem::BadText {
            field,
            problem: format!("contains the control character U+{:04X} at character {}", u32::from(c), at + 1),
        });
    }
    let length = value.chars().count();
    if length > max {
        return Err(Problem::BadText {
            field,
            problem: format!("is {length} characters long; at most {max} are accepted"),
        });
    }
    Ok(())
}

/// What is wrong with an input file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("the file is empty")]
    Empty,
    #[error("the file is not valid UTF-8 (first bad byte at offset {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("the file ends in the middle of a record (truncated?)")]
    Truncated,
    #[error("malformed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("the root element is {found}; expected SorTree in namespace urn:oio:sundhedsstyrelsen:organisation:1.0.0 (or :2.0.0)")]
    WrongRoot { found: String },
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Json { line: usize, column: usize, message: String },
    #[error("not a GraphQL response for {expected}: {message}")]
    NotGraphQl { expected: &'static str, message: String },
    #[error("the GraphQL response carries errors: {0}")]
    GraphQlErrors(String),
    #[error("malformed CSV at line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("missing {0}")]
    MissingField(String),
    #[error("{field}: {source}")]
    BadId { field: &'static str, source: IdError },
    #[error("{field}: {value:?} is not a date")]
    BadDate { field: &'static str, value: String },
    #[error("ends ({to}) before it starts ({from})")]
    ImpossibleDates { from: String, to: String },
    #[error("{field}: unexpected value {value:?}")]
    BadValue { field: &'static str, value: String },
    #[error("{field} {problem}")]
    BadText { field: &'static str, problem: String },
    #[error("{0}")]
    Structure(TreeError),
}

/// A file that could not be read, with the record and the problem. Boxed so that results stay small;
/// read the fields through `Deref` (`err.problem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError(Box<ReadErrorDetail>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadErrorDetail {
    pub file: PathBuf,
    pub record: Option<RecordRef>,
    pub problem: Problem,
}

impl std::ops::Deref for ReadError {
    type Target = ReadErrorDetail;
    fn deref(&self) -> &ReadErrorDetail {
        &self.0
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        if let Some(r) = &self.record {
            write!(f, "record {r}: ")?;
        }
        write!(f, "{}", self.problem)
    }
}

impl std::error::Error for ReadError {}

impl ReadError {
    pub fn new(file: &Path, problem: Problem) -> Self {
        ReadError(Box::new(ReadErrorDetail { file: file.to_path_buf(), record: None, problem }))
    }
    pub fn at(file: &Path, record: RecordRef, problem: Problem) -> Self {
        ReadError(Box::new(ReadErrorDetail { file: file.to_path_buf(), record: Some(record), problem }))
    }
}

/// Reads a SOR export, choosing the reader by content: XML (1.0.0 or the national 2.0.0 file)
/// or the SOR2 CSV export.
pub fn read_sor_file(path: &Path) -> Result<SorTree, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError::new(path, Problem::Io(e.to_string())))?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(ReadError::new(path, Problem::Empty)),
        Some(b'<') => sor_xml::read_sor_xml(path, &bytes),
        Some(_) => sor_csv::read_sor_csv(path, &bytes),
    }
}

/// Reads an FK-ORG GraphQL response file (`organisationEnhedListe`, optionally with `brugerListe`
/// pages), one response object or an array of page responses.
pub fn read_fkorg_file(path: &Path) -> Result<FkTree, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError::new(path, Problem::Io(e.to_string())))?;
    fkorg_json::read_fkorg_json(path, &bytes)
}
