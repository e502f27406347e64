//! Rows as the store keeps them: domain units <-> column cells (no SQL, no database), and the
//! content hash that tells whether an import brings anything new.
//!
//! Each table's columns are listed once ([`Table`]); the SQL in `sql.rs` is built from these lists,
//! the `*_cells` functions write a unit's cells in the same order, and the `*_from_cells` functions
//! read them back in that order.

use std::collections::HashMap;
use std::fmt::Display;

use chrono::{DateTime, NaiveDate};
use sha2::{Digest, Sha256};

use crate::domain::{
    Address, Cvr, Ean, FkMembership, FkStatus, FkUnit, FkUser, FkUuid, PNumber, SorId, SorKind, SorOwnValues, SorUnit,
};

/// One value of a row's content: nullable text or a boolean (ids and positions are bound separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Text(Option<String>),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    /// Nullable text.
    Text,
    Bool,
}

/// A table holding a snapshot's rows: `snapshot_id`, `position` and then `content`.
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    /// The columns after `snapshot_id` and `position`, in cell order.
    pub content: &'static [(&'static str, ColumnType)],
}

use ColumnType::{Bool, Text};

pub(crate) const SOR_UNITS: Table = Table {
    name: "sor_units",
    content: &[
        ("sor_id", Text),
        ("kind", Text),
        ("name", Text),
        ("parent_sor_id", Text),
        ("unit_type", Text),
        ("shak", Text),
        ("ean", Text),
        ("ean_inherited_indicator", Bool),
        ("postal_street", Text),
        ("postal_building", Text),
        ("postal_floor", Text),
        ("postal_suite", Text),
        ("postal_postcode", Text),
        ("postal_district", Text),
        ("visiting_street", Text),
        ("visiting_building", Text),
        ("visiting_floor", Text),
        ("visiting_suite", Text),
        ("visiting_postcode", Text),
        ("visiting_district", Text),
        ("activity_street", Text),
        ("activity_building", Text),
        ("activity_floor", Text),
        ("activity_suite", Text),
        ("activity_postcode", Text),
        ("activity_district", Text),
        ("phone", Text),
        ("email", Text),
        ("website", Text),
        ("from_date", Text),
        ("to_date", Text),
        ("updated_at", Text),
        ("first_from_date", Text),
    ],
};

pub(crate) const FKORG_UNITS: Table = Table {
    name: "fkorg_units",
    content: &[
        ("uuid", Text),
        ("enhedsnavn", Text),
        ("brugervendt_noegle", Text),
        ("parent_uuid", Text),
        ("status", Text),
        ("valid_from", Text),
        ("valid_to", Text),
        ("sor_id", Text),
        ("ean", Text),
        ("p_number", Text),
        ("postal_address", Text),
        ("email", Text),
        ("mobile", Text),
        ("landline", Text),
        ("los_id", Text),
    ],
};

pub(crate) const FKORG_USERS: Table = Table {
    name: "fkorg_users",
    content: &[
        ("uuid", Text),
        ("brugernavn", Text),
        ("person_name", Text),
        ("status", Text),
        ("email", Text),
        ("mobile", Text),
        ("landline", Text),
    ],
};

/// `position` here counts across all the snapshot's memberships, user by user.
pub(crate) const FKORG_MEMBERSHIPS: Table = Table {
    name: "fkorg_memberships",
    content: &[
        ("user_uuid", Text),
        ("uuid", Text),
        ("title", Text),
        ("function_type", Text),
        ("function_type_title", Text),
        ("unit_uuid", Text),
    ],
};

/// A table's rows for one snapshot, in position order.
#[derive(Debug)]
pub(crate) struct TableRows {
    pub table: &'static Table,
    pub rows: Vec<Vec<Cell>>,
}

/// Why stored rows could not be turned back into domain values.
pub(crate) type CellError = String;

fn text(s: &str) -> Cell {
    Cell::Text(Some(s.to_string()))
}

fn opt<T: Display>(v: &Option<T>) -> Cell {
    Cell::Text(v.as_ref().map(|v| v.to_string()))
}

fn address_cells(cells: &mut Vec<Cell>, a: &Option<Address>) {
    match a {
        Some(a) => cells.extend([
            text(&a.street),
            opt(&a.building),
            opt(&a.floor),
            opt(&a.suite),
            text(&a.postcode),
            text(&a.district),
        ]),
        None => cells.extend(std::iter::repeat_n(Cell::Text(None), 6)),
    }
}

/// A SOR unit's own values as cells, in [`SOR_UNITS`] order.
pub(crate) fn sor_unit_cells(u: &SorUnit) -> Vec<Cell> {
    let mut c = Vec::with_capacity(SOR_UNITS.content.len());
    c.extend([
        text(&u.sor_id.to_string()),
        text(u.kind.code()),
        text(&u.name),
        opt(&u.parent),
        opt(&u.unit_type),
        opt(&u.shak),
        opt(&u.own.ean),
        Cell::Bool(u.own.ean_inherited_indicator),
    ]);
    address_cells(&mut c, &u.own.postal);
    address_cells(&mut c, &u.own.visiting);
    address_cells(&mut c, &u.own.activity);
    c.extend([
        opt(&u.own.phone),
        opt(&u.own.email),
        opt(&u.own.website),
        opt(&u.from_date),
        opt(&u.to_date),
        opt(&u.updated_at),
        opt(&u.first_from_date),
    ]);
    c
}

/// An FK-ORG unit as cells, in [`FKORG_UNITS`] order.
pub(crate) fn fkorg_unit_cells(u: &FkUnit) -> Vec<Cell> {
    vec![
        text(&u.uuid.to_string()),
        text(&u.enhedsnavn),
        opt(&u.brugervendt_noegle),
        opt(&u.parent),
        text(u.status.as_str()),
        Cell::Text(u.valid_from.map(|d| d.to_rfc3339())),
        Cell::Text(u.valid_to.map(|d| d.to_rfc3339())),
        opt(&u.sor_id),
        opt(&u.ean),
        opt(&u.p_number),
        opt(&u.postal_address),
        opt(&u.email),
        opt(&u.mobile),
        opt(&u.landline),
        opt(&u.los_id),
    ]
}

/// An FK-ORG user as cells, in [`FKORG_USERS`] order (memberships go to their own table).
pub(crate) fn fkorg_user_cells(u: &FkUser) -> Vec<Cell> {
    vec![
        text(&u.uuid.to_string()),
        text(&u.brugernavn),
        opt(&u.person_name),
        text(u.status.as_str()),
        opt(&u.email),
        opt(&u.mobile),
        opt(&u.landline),
    ]
}

/// A membership of `user` as cells, in [`FKORG_MEMBERSHIPS`] order.
pub(crate) fn fkorg_membership_cells(user: FkUuid, m: &FkMembership) -> Vec<Cell> {
    vec![
        text(&user.to_string()),
        opt(&m.uuid),
        opt(&m.title),
        opt(&m.function_type),
        opt(&m.function_type_title),
        opt(&m.unit),
    ]
}

/// Reads a row's cells in column order, naming the column when a value does not fit.
struct CellReader<'a> {
    table: &'static Table,
    cells: std::slice::Iter<'a, Cell>,
    column: usize,
}

impl<'a> CellReader<'a> {
    fn new(table: &'static Table, cells: &'a [Cell]) -> Self {
        CellReader { table, cells: cells.iter(), column: 0 }
    }

    fn column_name(&self) -> &'static str {
        self.table.content.get(self.column.saturating_sub(1)).map_or("?", |(n, _)| *n)
    }

    fn next(&mut self) -> Result<&'a Cell, CellError> {
        self.column += 1;
        self.cells.next().ok_or_else(|| format!("{} has fewer columns than expected", self.table.name))
    }

    fn opt_text(&mut self) -> Result<Option<String>, CellError> {
        match self.next()? {
            Cell::Text(t) => Ok(t.clone()),
            other => Err(format!("{}.{} holds {other:?}, expected text", self.table.name, self.column_name())),
        }
    }

    fn text(&mut self) -> Result<String, CellError> {
        self.opt_text()?.ok_or_else(|| format!("{}.{} is empty", self.table.name, self.column_name()))
    }

    fn bool(&mut self) -> Result<bool, CellError> {
        match self.next()? {
            Cell::Bool(b) => Ok(*b),
            other => Err(format!("{}.{} holds {other:?}, expected a boolean", self.table.name, self.column_name())),
        }
    }

    /// An optional value parsed with `parse`.
    fn parsed<T, E: Display>(&mut self, parse: impl Fn(&str) -> Result<T, E>) -> Result<Option<T>, CellError> {
        match self.opt_text()? {
            None => Ok(None),
            Some(s) => parse(&s).map(Some).map_err(|e| format!("{}.{}: {e}", self.table.name, self.column_name())),
        }
    }

    /// A required value parsed with `parse`.
    fn required<T, E: Display>(&mut self, parse: impl Fn(&str) -> Result<T, E>) -> Result<T, CellError> {
        self.parsed(parse)?.ok_or_else(|| format!("{}.{} is empty", self.table.name, self.column_name()))
    }

    fn address(&mut self) -> Result<Option<Address>, CellError> {
        let street = self.opt_text()?;
        let building = self.opt_text()?;
        let floor = self.opt_text()?;
        let suite = self.opt_text()?;
        let postcode = self.opt_text()?;
        let district = self.opt_text()?;
        Ok(street.map(|street| Address {
            street,
            building,
            floor,
            suite,
            postcode: postcode.unwrap_or_default(),
            district: district.unwrap_or_default(),
        }))
    }
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a date"))
}

fn parse_datetime(s: &str) -> Result<DateTime<chrono::FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s).map_err(|_| format!("{s:?} is not an RFC 3339 time"))
}

fn parse_kind(s: &str) -> Result<SorKind, String> {
    SorKind::from_code(s).ok_or_else(|| format!("{s:?} is not IE, SI or OE"))
}

fn parse_status(s: &str) -> Result<FkStatus, String> {
    match s {
        "AKTIV" => Ok(FkStatus::Aktiv),
        "INAKTIV" => Ok(FkStatus::Inaktiv),
        _ => Err(format!("{s:?} is not AKTIV or INAKTIV")),
    }
}

/// A SOR unit from its stored cells; effective values are left for `SorTree::new` to compute.
pub(crate) fn sor_unit_from_cells(cells: &[Cell]) -> Result<SorUnit, CellError> {
    let mut r = CellReader::new(&SOR_UNITS, cells);
    let sor_id = r.required(SorId::parse)?;
    let kind = r.required(parse_kind)?;
    let name = r.text()?;
    let parent = r.parsed(SorId::parse)?;
    let mut u = SorUnit::new(sor_id, kind, name, parent);
    u.unit_type = r.opt_text()?;
    u.shak = r.opt_text()?;
    let ean = r.parsed(Ean::parse)?;
    let ean_inherited_indicator = r.bool()?;
    let postal = r.address()?;
    let visiting = r.address()?;
    let activity = r.address()?;
    u.own = SorOwnValues {
        ean,
        ean_inherited_indicator,
        postal,
        visiting,
        activity,
        phone: r.opt_text()?,
        email: r.opt_text()?,
        website: r.opt_text()?,
    };
    u.from_date = r.parsed(parse_date)?;
    u.to_date = r.parsed(parse_date)?;
    u.updated_at = r.parsed(parse_date)?;
    u.first_from_date = r.parsed(parse_date)?;
    Ok(u)
}

/// An FK-ORG unit from its stored cells.
pub(crate) fn fkorg_unit_from_cells(cells: &[Cell]) -> Result<FkUnit, CellError> {
    let mut r = CellReader::new(&FKORG_UNITS, cells);
    Ok(FkUnit {
        uuid: r.required(FkUuid::parse)?,
        enhedsnavn: r.text()?,
        brugervendt_noegle: r.opt_text()?,
        parent: r.parsed(FkUuid::parse)?,
        status: r.required(parse_status)?,
        valid_from: r.parsed(parse_datetime)?,
        valid_to: r.parsed(parse_datetime)?,
        sor_id: r.parsed(SorId::parse)?,
        ean: r.parsed(Ean::parse)?,
        p_number: r.parsed(PNumber::parse)?,
        postal_address: r.opt_text()?,
        email: r.opt_text()?,
        mobile: r.opt_text()?,
        landline: r.opt_text()?,
        los_id: r.opt_text()?,
    })
}

/// FK-ORG users from their stored cells, with their memberships (each membership row names its user).
pub(crate) fn fkorg_users_from_cells(users: &[Vec<Cell>], memberships: &[Vec<Cell>]) -> Result<Vec<FkUser>, CellError> {
    let mut out = Vec::with_capacity(users.len());
    let mut by_uuid: HashMap<FkUuid, usize> = HashMap::with_capacity(users.len());
    for cells in users {
        let mut r = CellReader::new(&FKORG_USERS, cells);
        let user = FkUser {
            uuid: r.required(FkUuid::parse)?,
            brugernavn: r.text()?,
            person_name: r.opt_text()?,
            status: r.required(parse_status)?,
            email: r.opt_text()?,
            mobile: r.opt_text()?,
            landline: r.opt_text()?,
            memberships: Vec::new(),
        };
        by_uuid.insert(user.uuid, out.len());
        out.push(user);
    }
    for cells in memberships {
        let mut r = CellReader::new(&FKORG_MEMBERSHIPS, cells);
        let user = r.required(FkUuid::parse)?;
        let membership = FkMembership {
            uuid: r.parsed(FkUuid::parse)?,
            title: r.opt_text()?,
            function_type: r.parsed(FkUuid::parse)?,
            function_type_title: r.opt_text()?,
            unit: r.parsed(FkUuid::parse)?,
        };
        let i = by_uuid.get(&user).ok_or_else(|| format!("a membership belongs to user {user}, who is not stored"))?;
        out[*i].memberships.push(membership);
    }
    Ok(out)
}

/// Canonical text of a row: a JSON array of its cells (unambiguous, whatever the text holds).
fn canonical(cells: &[Cell]) -> serde_json::Value {
    serde_json::Value::Array(
        cells
            .iter()
            .map(|c| match c {
                Cell::Text(None) => serde_json::Value::Null,
                Cell::Text(Some(s)) => serde_json::Value::String(s.clone()),
                Cell::Bool(b) => serde_json::Value::Bool(*b),
            })
            .collect(),
    )
}

fn sha256_hex(header: &str, mut lines: Vec<String>) -> String {
    lines.sort_unstable();
    let mut h = Sha256::new();
    h.update(header.as_bytes());
    h.update(b"\n");
    for l in &lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256 over the units' own values, independent of their order.
pub(crate) fn sor_content_hash(units: &[Vec<Cell>]) -> String {
    sha256_hex("sorsync sor v1", units.iter().map(|u| canonical(u).to_string()).collect())
}

/// sha256 over the CVR, the units and the users with their memberships, independent of order.
pub(crate) fn fkorg_content_hash(cvr: Option<Cvr>, units: &[Vec<Cell>], users: &[FkUser]) -> String {
    let mut lines: Vec<String> = units.iter().map(|u| format!("unit {}", canonical(u))).collect();
    for user in users {
        let mut memberships: Vec<String> =
            user.memberships.iter().map(|m| canonical(&fkorg_membership_cells(user.uuid, m)).to_string()).collect();
        memberships.sort_unstable();
        lines.push(format!("user {} {}", canonical(&fkorg_user_cells(user)), memberships.join(" ")));
    }
    let header = format!("sorsync fkorg v1 cvr={}", cvr.map(|c| c.to_string()).unwrap_or_default());
    sha256_hex(&header, lines)
}

/// sha256 over the own values of the units a proposal was made from (either may be absent).
pub(crate) fn units_data_hash(fk: Option<&FkUnit>, sor: Option<&SorUnit>) -> String {
    let fk_line = fk.map(|u| canonical(&fkorg_unit_cells(u)).to_string()).unwrap_or_default();
    let sor_line = sor.map(|u| canonical(&sor_unit_cells(u)).to_string()).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(b"sorsync units v1\nfkorg ");
    h.update(fk_line.as_bytes());
    h.update(b"\nsor ");
    h.update(sor_line.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
