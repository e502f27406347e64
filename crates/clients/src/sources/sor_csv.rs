//! Reader for the SOR2 CSV export (`SorEntity_daily.csv`: semicolon separated, UTF-8, BOM optional).
//!
//! Columns are found by header name (any case), so their order does not matter and extra columns
//! are ignored. Several column names are not confirmed against a real export: they all live in
//! `COLUMNS`, the one place to change them.

use std::path::Path;

use super::sor_record::{tree_error_record, FieldNames, Location, RawAddress, RawUnit};
use super::{Problem, ReadError, RecordRef};
use crate::domain::{SorId, SorKind, SorTree, SorUnit};

/// The fields the reader uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    SorId,
    SorType,
    EntityName,
    UnitType,
    ParentSorId,
    HealthInstitutionSorId,
    InstitutionOwnerSorId,
    ShakId,
    EanLocationCode,
    EanInherited,
    FromDate,
    ToDate,
    UpdatedAt,
    FirstFromDate,
    PostalStreet,
    PostalBuilding,
    PostalFloor,
    PostalSuite,
    PostalPostCode,
    PostalDistrict,
    VisitingStreet,
    VisitingBuilding,
    VisitingFloor,
    VisitingSuite,
    VisitingPostCode,
    VisitingDistrict,
    ActivityStreet,
    ActivityBuilding,
    ActivityFloor,
    ActivitySuite,
    ActivityPostCode,
    ActivityDistrict,
    Telephone,
    Email,
    Website,
}

/// Column names per field, first name found wins. Names from the published column list:
/// SorId, SorType, EntityName, EntityTypeName, HealthInstitutionSorId, FromDate, ToDate,
/// FirstFromDate, the address parts and the VirtualAddress columns. (unconfirmed): ParentSorId,
/// InstitutionOwnerSorId, the address prefixes, the EAN and ShakId columns, EntityTypeCode, UpdatedAt.
const COLUMNS: &[(Col, &[&str])] = &[
    (Col::SorId, &["SorId"]),
    (Col::SorType, &["SorType"]),
    (Col::EntityName, &["EntityName"]),
    // The SNOMED-CT code when the export has it, else the type name.
    (Col::UnitType, &["EntityTypeCode", "EntityTypeName"]),
    (Col::ParentSorId, &["ParentSorId"]),
    (Col::HealthInstitutionSorId, &["HealthInstitutionSorId"]),
    (Col::InstitutionOwnerSorId, &["InstitutionOwnerSorId"]),
    (Col::ShakId, &["ShakId", "ShakIdentifier"]),
    (Col::EanLocationCode, &["EanLocationCode"]),
    (Col::EanInherited, &["EanInherited", "EntityInheritedIndicator"]),
    (Col::FromDate, &["FromDate"]),
    (Col::ToDate, &["ToDate"]),
    (Col::UpdatedAt, &["UpdatedAt"]),
    (Col::FirstFromDate, &["FirstFromDate"]),
    (Col::PostalStreet, &["PostalAddressStreetName"]),
    (Col::PostalBuilding, &["PostalAddressStreetBuildingId"]),
    (Col::PostalFloor, &["PostalAddressFloorId"]),
    (Col::PostalSuite, &["PostalAddressSuiteId"]),
    (Col::PostalPostCode, &["PostalAddressPostCodeId"]),
    (Col::PostalDistrict, &["PostalAddressDistrictName"]),
    (Col::VisitingStreet, &["VisitingAddressStreetName"]),
    (Col::VisitingBuilding, &["VisitingAddressStreetBuildingId"]),
    (Col::VisitingFloor, &["VisitingAddressFloorId"]),
    (Col::VisitingSuite, &["VisitingAddressSuiteId"]),
    (Col::VisitingPostCode, &["VisitingAddressPostCodeId"]),
    (Col::VisitingDistrict, &["VisitingAddressDistrictName"]),
    (Col::ActivityStreet, &["ActivityAddressStreetName"]),
    (Col::ActivityBuilding, &["ActivityAddressStreetBuildingId"]),
    (Col::ActivityFloor, &["ActivityAddressFloorId"]),
    (Col::ActivitySuite, &["ActivityAddressSuiteId"]),
    (Col::ActivityPostCode, &["ActivityAddressPostCodeId"]),
    (Col::ActivityDistrict, &["ActivityAddressDistrictName"]),
    (Col::Telephone, &["VirtualAddressTelephoneNumber"]),
    (Col::Email, &["VirtualAddressEmailAddress"]),
    (Col::Website, &["VirtualAddressWebsite"]),
];

/// Columns without which the file cannot be read.
const REQUIRED: &[Col] = &[Col::SorId, Col::SorType, Col::EntityName];
/// At least one of these must be present, or no unit could have a parent.
const PARENT_COLUMNS: &[Col] = &[Col::ParentSorId, Col::HealthInstitutionSorId, Col::InstitutionOwnerSorId];

fn column_name(col: Col) -> &'static str {
    COLUMNS.iter().find(|(c, _)| *c == col).and_then(|(_, names)| names.first()).copied().unwrap_or("?")
}

/// Where each field is in a row, from the header.
struct Layout {
    index: Vec<(Col, usize)>,
}

impl Layout {
    fn from_header(path: &Path, header: &csv::StringRecord) -> Result<Self, ReadError> {
        let mut index = Vec::new();
        for (col, names) in COLUMNS {
            let found = names.iter().find_map(|n| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n)));
            if let Some(i) = found {
                index.push((*col, i));
            }
        }
        let layout = Layout { index };
        for &col in REQUIRED {
            if layout.position(col).is_none() {
                return Err(ReadError::new(path, Problem::MissingField(format!("column {}", column_name(col)))));
            }
        }
        if PARENT_COLUMNS.iter().all(|&c| layout.position(c).is_none()) {
            let names: Vec<&str> = PARENT_COLUMNS.iter().map(|&c| column_name(c)).collect();
            return Err(ReadError::new(path, Problem::MissingField(format!("column {}", names.join(" or ")))));
        }
        Ok(layout)
    }

    fn position(&self, col: Col) -> Option<usize> {
        self.index.iter().find(|(c, _)| *c == col).map(|&(_, i)| i)
    }

    fn get<'r>(&self, row: &'r csv::StringRecord, col: Col) -> &'r str {
        self.position(col).and_then(|i| row.get(i)).unwrap_or("")
    }

    fn address<'r>(&self, row: &'r csv::StringRecord, cols: [Col; 6]) -> RawAddress<'r> {
        let [street, building, floor, suite, postcode, district] = cols.map(|c| self.get(row, c));
        RawAddress { street, building, floor, suite, postcode, district }
    }
}

fn field_names() -> FieldNames {
    FieldNames {
        sor_id: column_name(Col::SorId),
        name: column_name(Col::EntityName),
        ean: column_name(Col::EanLocationCode),
        ean_inherited: column_name(Col::EanInherited),
        from: column_name(Col::FromDate),
        to: column_name(Col::ToDate),
        updated_at: column_name(Col::UpdatedAt),
        first_from: column_name(Col::FirstFromDate),
    }
}

/// Reads a whole SOR2 CSV export from `bytes`. `path` is used in errors.
pub fn read_sor_csv(path: &Path, bytes: &[u8]) -> Result<SorTree, ReadError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ReadError::new(path, Problem::InvalidUtf8 { offset: e.valid_up_to() }))?;
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if body.trim().is_empty() {
        return Err(ReadError::new(path, Problem::Empty));
    }
    let mut csv =
        csv::ReaderBuilder::new().delimiter(b';').has_headers(true).flexible(false).from_reader(body.as_bytes());
    let header = csv.headers().map_err(|e| csv_error(path, &e))?.clone();
    let layout = Layout::from_header(path, &header)?;
    let names = field_names();
    let mut units: Vec<SorUnit> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, &e)),
        }
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        if row.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        units.push(read_row(path, &layout, &names, &row, line)?);
        lines.push(line);
    }
    let ids: Vec<SorId> = units.iter().map(|u| u.sor_id).collect();
    let tree = SorTree::new(units).map_err(|err| {
        let record = tree_error_record(&err).map(|(id, name)| {
            let line = SorId::parse(id).ok().and_then(|id| ids.iter().rposition(|&i| i == id)).map(|i| lines[i]);
            let id = match line {
                Some(line) => format!("{id} at line {line}"),
                None => id.to_string(),
            };
            RecordRef { id, name: Some(name.to_string()) }
        });
        match record {
            Some(r) => ReadError::at(path, r, Problem::Structure(err)),
            None => ReadError::new(path, Problem::Structure(err)),
        }
    })?;
    check_levels(path, &tree, &lines)?;
    Ok(tree)
}

/// In the XML the nesting guarantees SOR's levels; a CSV can break them: an IE is a root, an SI
/// sits under an IE, an OE under an SI or another OE.
fn check_levels(path: &Path, tree: &SorTree, lines: &[u64]) -> Result<(), ReadError> {
    use SorKind::{HealthInstitution as SI, InstitutionOwner as IE, OrganizationalUnit as OE};
    for (i, unit) in tree.units.iter().enumerate() {
        let parent_kind = tree.tree.parent(i).map(|p| tree.units[p].kind);
        let fits = matches!((unit.kind, parent_kind), (IE, None) | (SI, Some(IE)) | (OE, Some(SI | OE)));
        if fits {
            continue;
        }
        let record = RecordRef {
            id: format!("{} at line {}", unit.sor_id, lines.get(i).copied().unwrap_or(0)),
            name: Some(unit.name.clone()),
        };
        let expected = match unit.kind {
            IE => "no parent",
            SI => "an IE as parent",
            OE => "an SI or OE as parent",
        };
        let problem = match (unit.parent, parent_kind) {
            (Some(parent), Some(kind)) => Problem::BadValue {
                field: column_name(Col::ParentSorId),
                value: format!("{parent}, an {} (an {} needs {expected})", kind.code(), unit.kind.code()),
            },
            _ => Problem::MissingField(format!("parent (an {} needs {expected})", unit.kind.code())),
        };
        return Err(ReadError::at(path, record, problem));
    }
    Ok(())
}

fn read_row(
    path: &Path,
    layout: &Layout,
    names: &FieldNames,
    row: &csv::StringRecord,
    line: u64,
) -> Result<SorUnit, ReadError> {
    let location = Location::Line(line);
    let get = |col| layout.get(row, col);
    let sor_type = get(Col::SorType);
    let kind = SorKind::from_code(sor_type);
    let mut raw = RawUnit {
        kind: kind.unwrap_or(SorKind::OrganizationalUnit),
        sor_id: get(Col::SorId),
        name: get(Col::EntityName),
        parent: None,
        unit_type: get(Col::UnitType),
        shak: get(Col::ShakId),
        ean: get(Col::EanLocationCode),
        ean_inherited: get(Col::EanInherited),
        postal: layout.address(
            row,
            [
                Col::PostalStreet,
                Col::PostalBuilding,
                Col::PostalFloor,
                Col::PostalSuite,
                Col::PostalPostCode,
                Col::PostalDistrict,
            ],
        ),
        visiting: layout.address(
            row,
            [
                Col::VisitingStreet,
                Col::VisitingBuilding,
                Col::VisitingFloor,
                Col::VisitingSuite,
                Col::VisitingPostCode,
                Col::VisitingDistrict,
            ],
        ),
        activity: layout.address(
            row,
            [
                Col::ActivityStreet,
                Col::ActivityBuilding,
                Col::ActivityFloor,
                Col::ActivitySuite,
                Col::ActivityPostCode,
                Col::ActivityDistrict,
            ],
        ),
        phone: get(Col::Telephone),
        email: get(Col::Email),
        website: get(Col::Website),
        from: get(Col::FromDate),
        to: get(Col::ToDate),
        updated_at: get(Col::UpdatedAt),
        first_from: get(Col::FirstFromDate),
    };
    let fail = |problem| ReadError::at(path, raw.record_ref("(no SorId)", location), problem);
    let Some(kind) = kind else {
        let problem = if sor_type.trim().is_empty() {
            Problem::MissingField(column_name(Col::SorType).into())
        } else {
            Problem::BadValue { field: column_name(Col::SorType), value: sor_type.into() }
        };
        return Err(fail(problem));
    };
    raw.parent = parent_of(kind, get(Col::SorId), &get).map_err(fail)?;
    raw.into_unit(path, names, "(no SorId)", location)
}

/// The parent: `ParentSorId`, else (for an OE) its health institution, else (for an SI) its
/// institution owner. A fallback column naming the unit itself is not a parent (an SI's
/// `HealthInstitutionSorId` may be its own); a `ParentSorId` naming it is a cycle, found later.
fn parent_of<'r>(kind: SorKind, own_id: &str, get: &impl Fn(Col) -> &'r str) -> Result<Option<SorId>, Problem> {
    let candidates: &[Col] = match kind {
        SorKind::InstitutionOwner => &[Col::ParentSorId],
        SorKind::HealthInstitution => &[Col::ParentSorId, Col::InstitutionOwnerSorId],
        SorKind::OrganizationalUnit => &[Col::ParentSorId, Col::HealthInstitutionSorId],
    };
    for &col in candidates {
        let value = get(col).trim();
        if value.is_empty() || (col != Col::ParentSorId && value == own_id.trim()) {
            continue;
        }
        let field = column_name(col);
        return SorId::parse(value).map(Some).map_err(|source| Problem::BadId { field, source });
    }
    Ok(None)
}

fn csv_error(path: &Path, err: &csv::Error) -> ReadError {
    let line = err.position().map(|p| p.line()).unwrap_or(0);
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} fields but the header has {expected_len}")
        }
        _ => err.to_string(),
    };
    ReadError::new(path, Problem::Csv { line, message })
}
