//! One SOR record as read from a file (text fields, not yet checked), and its checked conversion
//! into a [`SorUnit`]. Shared by the XML and the CSV reader so both apply the same rules.

use std::path::Path;

use chrono::NaiveDate;

use super::{check_text, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use super::{Problem, ReadError, RecordRef};
use crate::domain::{Address, Ean, SorId, SorKind, SorOwnValues, SorUnit, TreeError};

/// The names a file format gives the checked fields, so errors use the user's words
/// (`SorIdentifier` in XML, `SorId` in CSV).
#[derive(Debug, Clone, Copy)]
pub(super) struct FieldNames {
    pub sor_id: &'static str,
    pub name: &'static str,
    pub ean: &'static str,
    pub ean_inherited: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub updated_at: &'static str,
    pub first_from: &'static str,
}

/// An address as text fields; empty means absent.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RawAddress<'a> {
    pub street: &'a str,
    pub building: &'a str,
    pub floor: &'a str,
    pub suite: &'a str,
    pub postcode: &'a str,
    pub district: &'a str,
}

impl RawAddress<'_> {
    fn to_address(self) -> Option<Address> {
        let all = [self.street, self.building, self.floor, self.suite, self.postcode, self.district];
        if all.iter().all(|f| f.trim().is_empty()) {
            return None;
        }
        Some(Address {
            street: self.street.trim().to_string(),
            building: non_empty(self.building),
            floor: non_empty(self.floor),
            suite: non_empty(self.suite),
            postcode: self.postcode.trim().to_string(),
            district: self.district.trim().to_string(),
        })
    }
}

/// Where a record is in its file. The line is worked out only when an error needs it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Location<'b> {
    Line(u64),
    /// A byte offset in the whole file.
    Byte {
        bytes: &'b [u8],
        offset: usize,
    },
}

impl Location<'_> {
    pub fn line(self) -> u64 {
        match self {
            Location::Line(line) => line,
            Location::Byte { bytes, offset } => line_of(bytes, offset) as u64,
        }
    }
}

/// A record's text fields; empty means absent. The parent is already resolved by the reader.
#[derive(Debug, Clone, Copy)]
pub(super) struct RawUnit<'a> {
    pub kind: SorKind,
    pub sor_id: &'a str,
    pub name: &'a str,
    pub parent: Option<SorId>,
    pub unit_type: &'a str,
    pub shak: &'a str,
    pub ean: &'a str,
    pub ean_inherited: &'a str,
    pub postal: RawAddress<'a>,
    pub visiting: RawAddress<'a>,
    pub activity: RawAddress<'a>,
    pub phone: &'a str,
    pub email: &'a str,
    pub website: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub updated_at: &'a str,
    pub first_from: &'a str,
}

impl<'a> RawUnit<'a> {
    /// The free-text fields besides the name, with the names SOR's formats give them.
    fn text_fields(&self) -> Vec<(&'static str, &'a str)> {
        let mut fields = vec![
            ("unit type", self.unit_type),
            ("SHAK code", self.shak),
            ("phone", self.phone),
            ("e-mail", self.email),
            ("website", self.website),
        ];
        for (what, a) in
            [("postal address", self.postal), ("visiting address", self.visiting), ("activity address", self.activity)]
        {
            for value in [a.street, a.building, a.floor, a.suite, a.postcode, a.district] {
                fields.push((what, value));
            }
        }
        fields
    }

    /// How errors name this record: its SOR-ID as written (or `what` when it has none), where it
    /// is in the file, and its name when known.
    pub fn record_ref(&self, what: &str, location: Location<'_>) -> RecordRef {
        let id = self.sor_id.trim();
        let line = location.line();
        let id = if id.is_empty() { format!("{what} at line {line}") } else { format!("{id} at line {line}") };
        RecordRef { id, name: non_empty(self.name) }
    }

    /// Checks every field and builds the unit. `what` names the record kind for errors when it has
    /// no SOR-ID (e.g. "OrganizationalUnit"), `location` says where it is.
    pub fn into_unit(
        self,
        file: &Path,
        names: &FieldNames,
        what: &str,
        location: Location<'_>,
    ) -> Result<SorUnit, ReadError> {
        let fail = |problem: Problem| ReadError::at(file, self.record_ref(what, location), problem);
        if self.sor_id.trim().is_empty() {
            return Err(fail(Problem::MissingField(names.sor_id.to_string())));
        }
        let sor_id =
            SorId::parse(self.sor_id).map_err(|source| fail(Problem::BadId { field: names.sor_id, source }))?;
        let name = self.name.trim();
        if name.is_empty() {
            return Err(fail(Problem::MissingField(names.name.to_string())));
        }
        check_text(names.name, name, MAX_NAME_CHARS).map_err(fail)?;
        for (field, value) in self.text_fields() {
            check_text(field, value, MAX_TEXT_CHARS).map_err(fail)?;
        }
        let ean = match self.ean.trim() {
            "" => None,
            text => Some(Ean::parse(text).map_err(|source| fail(Problem::BadId { field: names.ean, source }))?),
        };
        let ean_inherited_indicator = parse_flag(self.ean_inherited)
            .ok_or_else(|| fail(Problem::BadValue { field: names.ean_inherited, value: self.ean_inherited.into() }))?;
        let from_date = parse_date(names.from, self.from).map_err(fail)?;
        let to_date = parse_date(names.to, self.to).map_err(fail)?;
        let updated_at = parse_date(names.updated_at, self.updated_at).map_err(fail)?;
        let first_from_date = parse_date(names.first_from, self.first_from).map_err(fail)?;
        if let (Some(from), Some(to)) = (from_date, to_date) {
            if to < from {
                return Err(fail(Problem::ImpossibleDates { from: from.to_string(), to: to.to_string() }));
            }
        }
        let mut unit = SorUnit::new(sor_id, self.kind, name, self.parent);
        unit.unit_type = non_empty(self.unit_type);
        unit.shak = non_empty(self.shak);
        unit.own = SorOwnValues {
            ean,
            ean_inherited_indicator,
            postal: self.postal.to_address(),
            visiting: self.visiting.to_address(),
            activity: self.activity.to_address(),
            phone: non_empty(self.phone),
            email: non_empty(self.email),
            website: non_empty(self.website),
        };
        unit.from_date = from_date;
        unit.to_date = to_date;
        unit.updated_at = updated_at;
        unit.first_from_date = first_from_date;
        Ok(unit)
    }
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// `true`/`false` (also `1`/`0`, any case); empty is false. `None` for anything else.
fn parse_flag(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.is_empty() || t == "0" || t.eq_ignore_ascii_case("false") {
        Some(false)
    } else if t == "1" || t.eq_ignore_ascii_case("true") {
        Some(true)
    } else {
        None
    }
}

/// An `xs:date` (`YYYY-MM-DD`, optionally with a time zone) or a date-time of which the date is
/// taken. Empty means absent.
fn parse_date(field: &'static str, s: &str) -> Result<Option<NaiveDate>, Problem> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || Problem::BadDate { field, value: t.to_string() };
    let (date, rest) = if t.len() >= 10 && t.is_char_boundary(10) { t.split_at(10) } else { return Err(bad()) };
    if !(rest.is_empty() || rest.starts_with(['T', ' ', 'Z', '+', '-'])) {
        return Err(bad());
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map(Some).map_err(|_| bad())
}

/// The record a structural error is about (id and name as the tree error gives them).
pub(super) fn tree_error_record(err: &TreeError) -> Option<(&str, &str)> {
    match err {
        TreeError::DuplicateId { id, name }
        | TreeError::UnknownParent { id, name, .. }
        | TreeError::Cycle { id, name }
        | TreeError::SeveralRoots { id, name, .. } => Some((id, name)),
        TreeError::Empty => None,
    }
}

/// The 1-based line of byte `offset` in `bytes`.
pub(super) fn line_of(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    1 + bytes[..end].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_accept_plain_dates_zones_and_date_times_only() {
        let d = NaiveDate::from_ymd_opt(2009, 10, 8);
        assert_eq!(parse_date("FromDate", "2009-10-08"), Ok(d));
        assert_eq!(parse_date("FromDate", " 2009-10-08+01:00 "), Ok(d));
        assert_eq!(parse_date("FromDate", "2009-10-08T12:00:00"), Ok(d));
        assert_eq!(parse_date("FromDate", ""), Ok(None));
        for bad in ["2009-13-01", "08-10-2009", "2009-10-0", "2009-10-08x", "2009-02-30", "æøå-10-08"] {
            assert!(matches!(parse_date("FromDate", bad), Err(Problem::BadDate { .. })), "{bad}");
        }
    }

    #[test]
    fn flags_accept_true_false_one_zero_and_empty() {
        assert_eq!(parse_flag("true"), Some(true));
        assert_eq!(parse_flag("1"), Some(true));
        assert_eq!(parse_flag("FALSE"), Some(false));
        assert_eq!(parse_flag(""), Some(false));
        assert_eq!(parse_flag("ja"), None);
    }
}
