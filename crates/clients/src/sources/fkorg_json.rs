//! Reader for FK-ORG GraphQL responses (`organisationEnhedListe`, `brugerListe`) saved as JSON.
//!
//! A file holds one GraphQL response object `{"data": {...}}` or a JSON array of page responses.
//! The page parsing (`FkPages`) is shared with the HTTP client, so that data fetched from the
//! API is checked exactly like a file. The serde types below mirror the GraphQL shapes and stay
//! private to this module: the rest of the crate sees only the domain types.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::Value;

use super::{check_text, Problem, ReadError, RecordRef, MAX_NAME_CHARS};
use crate::domain::fkorg::roles;
use crate::domain::{Cvr, Ean, FkMembership, FkStatus, FkTree, FkUnit, FkUser, FkUuid, PNumber, SorId, TreeError};

/// Reads FK-ORG GraphQL response JSON from `bytes`. `path` is used in errors.
pub fn read_fkorg_json(path: &Path, bytes: &[u8]) -> Result<FkTree, ReadError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(body).map_err(|e| {
        let bom = bytes.len() - body.len();
        ReadError::new(path, Problem::InvalidUtf8 { offset: bom + e.valid_up_to() })
    })?;
    if text.trim().is_empty() {
        return Err(ReadError::new(path, Problem::Empty));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| ReadError::new(path, json_problem(&e)))?;
    match value {
        Value::Array(pages) if pages.is_empty() => {
            Err(not_graphql(path, "the file is an empty JSON array; expected GraphQL page responses".into()))
        }
        Value::Array(pages) => units_and_users_from_pages(path, &pages),
        single => units_and_users_from_pages(path, std::slice::from_ref(&single)),
    }
}

fn json_problem(e: &serde_json::Error) -> Problem {
    match e.classify() {
        serde_json::error::Category::Eof => Problem::Truncated,
        _ => Problem::Json { line: e.line(), column: e.column(), message: strip_position(&e.to_string()) },
    }
}

/// serde_json appends " at line L column C" to its messages; we show the position separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn not_graphql(path: &Path, message: String) -> ReadError {
    ReadError::new(path, Problem::NotGraphQl { expected: "organisationEnhedListe / brugerListe", message })
}

/// The `pageInfo` of one Relay connection page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PageInfo {
    pub(crate) has_next_page: bool,
    pub(crate) end_cursor: Option<String>,
}

/// What one page response held: the paging state of each connection it carried.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PageOutcome {
    pub(crate) units: Option<PageInfo>,
    pub(crate) users: Option<PageInfo>,
}

/// Units and users gathered page by page; [`FkPages::finish`] runs the checks that need all of
/// them (duplicates, parents, cycles, memberships) and builds the tree.
#[derive(Debug, Default)]
pub(crate) struct FkPages {
    units: Vec<FkUnit>,
    users: Vec<FkUser>,
    cvr: Option<Cvr>,
    saw_unit_connection: bool,
}

// ---- GraphQL shapes (serde DTOs, private to this boundary) ----

#[derive(Deserialize)]
struct UuidRefDto {
    uuid: Option<String>,
}

#[derive(Deserialize)]
struct TilstandDto {
    status: Option<String>,
    #[serde(rename = "fraTidspunkt")]
    fra_tidspunkt: Option<String>,
    #[serde(rename = "tilTidspunkt")]
    til_tidspunkt: Option<String>,
}

#[derive(Deserialize)]
struct KlassifikationDto {
    rolle: Option<String>,
}

#[derive(Deserialize)]
struct AdresseDto {
    #[serde(rename = "adresseTekst")]
    adresse_tekst: Option<String>,
    klassifikation: Option<KlassifikationDto>,
}

#[derive(Deserialize)]
struct VirksomhedDto {
    #[serde(rename = "cvrNummerTekst")]
    cvr_nummer_tekst: Option<String>,
}

#[derive(Deserialize)]
struct OrganisationDto {
    virksomhed: Option<VirksomhedDto>,
}

#[derive(Deserialize)]
struct UnitDto {
    uuid: Option<String>,
    enhedsnavn: Option<String>,
    #[serde(rename = "brugervendtNoegle")]
    brugervendt_noegle: Option<String>,
    #[serde(rename = "overordnetEnhed")]
    overordnet_enhed: Option<UuidRefDto>,
    tilstand: Option<TilstandDto>,
    adresser: Option<Vec<AdresseDto>>,
    tilhoerer: Option<OrganisationDto>,
}

#[derive(Deserialize)]
struct PersonDto {
    navn: Option<String>,
}

#[derive(Deserialize)]
struct MedlemskabDto {
    uuid: Option<String>,
    #[serde(rename = "medlemskabRolleTitel")]
    medlemskab_rolle_titel: Option<String>,
    #[serde(rename = "funktionsTypeUuid")]
    funktions_type_uuid: Option<String>,
    #[serde(rename = "funktionsTypeTitel")]
    funktions_type_titel: Option<String>,
    #[serde(rename = "medlemAf")]
    medlem_af: Option<UuidRefDto>,
}

#[derive(Deserialize)]
struct UserDto {
    uuid: Option<String>,
    brugernavn: Option<String>,
    person: Option<PersonDto>,
    tilstand: Option<TilstandDto>,
    adresser: Option<Vec<AdresseDto>>,
    #[serde(rename = "harMedlemskab")]
    har_medlemskab: Option<Vec<MedlemskabDto>>,
}

// ---- page parsing ----

impl FkPages {
    /// Adds one GraphQL page response (`{"data": {...}}`). `page` counts from 0 and is only
    /// used in error messages. Refuses responses with `errors` and anything that is not a
    /// GraphQL response for `organisationEnhedListe` / `brugerListe`.
    pub(crate) fn add_response(
        &mut self,
        path: &Path,
        page: usize,
        response: &Value,
    ) -> Result<PageOutcome, ReadError> {
        let Some(obj) = response.as_object() else {
            return Err(not_graphql(
                path,
                format!("page {} is {}, not a response object with \"data\"", page + 1, kind_of(response)),
            ));
        };
        if let Some(errors) = obj.get("errors") {
            let messages = graphql_error_messages(errors);
            if !messages.is_empty() {
                return Err(ReadError::new(path, Problem::GraphQlErrors(messages.join("; "))));
            }
        }
        let Some(data) = obj.get("data") else {
            let what = if obj.contains_key("uuid") || obj.contains_key("enhedsnavn") {
                "a bare unit node".to_string()
            } else {
                let keys: Vec<&str> = obj.keys().map(String::as_str).take(5).collect();
                format!("an object with keys {keys:?}")
            };
            return Err(not_graphql(path, format!("page {} is {what}, not a response with \"data\"", page + 1)));
        };
        let Some(data) = data.as_object() else {
            return Err(not_graphql(path, format!("page {}: \"data\" is {}, not an object", page + 1, kind_of(data))));
        };
        let mut outcome = PageOutcome::default();
        if let Some(conn) = data.get("organisationEnhedListe").filter(|v| !v.is_null()) {
            self.saw_unit_connection = true;
            let (nodes, info) = connection(path, page, "organisationEnhedListe", conn)?;
            for (i, node) in nodes.into_iter().enumerate() {
                let unit = self.unit_from_node(path, page, i, node)?;
                self.units.push(unit);
            }
            outcome.units = Some(info);
        }
        if let Some(conn) = data.get("brugerListe").filter(|v| !v.is_null()) {
            let (nodes, info) = connection(path, page, "brugerListe", conn)?;
            for (i, node) in nodes.into_iter().enumerate() {
                self.users.push(user_from_node(path, page, i, node)?);
            }
            outcome.users = Some(info);
        }
        if outcome.units.is_none() && outcome.users.is_none() {
            let keys: Vec<&str> = data.keys().map(String::as_str).take(5).collect();
            return Err(not_graphql(
                path,
                format!(
                    "page {}: \"data\" holds neither organisationEnhedListe nor brugerListe (keys {keys:?})",
                    page + 1
                ),
            ));
        }
        Ok(outcome)
    }

    /// Drops memberships of units that are not among the units read, and says how many. The API
    /// client asks for AKTIV units only, so a user's membership of a closed unit is expected there;
    /// in a file it is an error (see [`FkPages::finish`]).
    pub(crate) fn drop_memberships_of_absent_units(&mut self) -> usize {
        let unit_ids: HashSet<FkUuid> = self.units.iter().map(|u| u.uuid).collect();
        let mut dropped = 0;
        for user in &mut self.users {
            let before = user.memberships.len();
            user.memberships.retain(|m| m.unit.is_none_or(|u| unit_ids.contains(&u)));
            dropped += before - user.memberships.len();
        }
        dropped
    }

    /// Runs the checks across all pages and builds the tree: duplicate units, unknown parents,
    /// cycles, more than one root, duplicate users, memberships of units not in the data.
    pub(crate) fn finish(self, path: &Path) -> Result<FkTree, ReadError> {
        if !self.saw_unit_connection {
            return Err(not_graphql(path, "no page holds data.organisationEnhedListe (the units)".into()));
        }
        let unit_ids: HashSet<FkUuid> = self.units.iter().map(|u| u.uuid).collect();
        let mut seen_users: HashSet<FkUuid> = HashSet::with_capacity(self.users.len());
        for user in &self.users {
            let record = RecordRef { id: user.uuid.to_string(), name: Some(user.brugernavn.clone()) };
            if !seen_users.insert(user.uuid) {
                let e = TreeError::DuplicateId { id: user.uuid.to_string(), name: user.brugernavn.clone() };
                return Err(ReadError::at(path, record, Problem::Structure(e)));
            }
            for m in &user.memberships {
                if let Some(unit) = m.unit.filter(|u| !unit_ids.contains(u)) {
                    return Err(ReadError::at(
                        path,
                        record,
                        Problem::MissingField(format!(
                            "unit {unit} that its membership (harMedlemskab.medlemAf) points to: it is not among the units"
                        )),
                    ));
                }
            }
        }
        FkTree::new(self.cvr, self.units, self.users).map_err(|e| {
            let record = match &e {
                TreeError::DuplicateId { id, name }
                | TreeError::UnknownParent { id, name, .. }
                | TreeError::Cycle { id, name }
                | TreeError::SeveralRoots { id, name, .. } => {
                    Some(RecordRef { id: id.clone(), name: Some(name.clone()) })
                }
                TreeError::Empty => None,
            };
            match record {
                Some(r) => ReadError::at(path, r, Problem::Structure(e)),
                None => ReadError::new(path, Problem::Structure(e)),
            }
        })
    }

    fn unit_from_node(&mut self, path: &Path, page: usize, i: usize, node: &Value) -> Result<FkUnit, ReadError> {
        let fallback = record_of(node, "enhedsnavn", "unit", page, i);
        let dto = UnitDto::deserialize(node).map_err(|e| {
            ReadError::at(
                path,
                fallback.clone(),
                Problem::NotGraphQl { expected: "an OrganisationEnhed node", message: e.to_string() },
            )
        })?;
        let name = dto.enhedsnavn.filter(|n| !n.trim().is_empty());
        let uuid_text = dto.uuid.filter(|u| !u.trim().is_empty());
        let record = RecordRef { id: uuid_text.clone().unwrap_or_else(|| fallback.id.clone()), name: name.clone() };
        let err = |problem: Problem| ReadError::at(path, record.clone(), problem);
        let uuid_text = uuid_text.ok_or_else(|| err(Problem::MissingField("uuid".into())))?;
        let uuid = FkUuid::parse(&uuid_text).map_err(|source| err(Problem::BadId { field: "uuid", source }))?;
        let enhedsnavn = name.ok_or_else(|| err(Problem::MissingField("enhedsnavn".into())))?;
        check_text("enhedsnavn", &enhedsnavn, MAX_NAME_CHARS).map_err(&err)?;
        let parent = match dto.overordnet_enhed {
            None => None,
            Some(p) => {
                let text = p.uuid.ok_or_else(|| err(Problem::MissingField("overordnetEnhed.uuid".into())))?;
                Some(
                    FkUuid::parse(&text)
                        .map_err(|source| err(Problem::BadId { field: "overordnetEnhed.uuid", source }))?,
                )
            }
        };
        let tilstand = dto.tilstand.ok_or_else(|| err(Problem::MissingField("tilstand".into())))?;
        let (status, valid_from, valid_to) = read_tilstand(tilstand).map_err(&err)?;
        let mut unit = FkUnit {
            brugervendt_noegle: dto.brugervendt_noegle.filter(|k| !k.trim().is_empty()),
            status,
            valid_from,
            valid_to,
            ..FkUnit::new(uuid, enhedsnavn, parent)
        };
        for (role, text) in addresses(dto.adresser).map_err(&err)? {
            match role.as_str() {
                roles::UNIT_SOR_ID if unit.sor_id.is_none() => {
                    let id = SorId::parse(&text).map_err(|source| {
                        err(Problem::BadId { field: "adresser (SOR-ID role) adresseTekst", source })
                    })?;
                    unit.sor_id = Some(id);
                }
                roles::UNIT_EAN if unit.ean.is_none() => {
                    let id = Ean::parse(&text)
                        .map_err(|source| err(Problem::BadId { field: "adresser (EAN role) adresseTekst", source }))?;
                    unit.ean = Some(id);
                }
                roles::UNIT_P_NUMBER if unit.p_number.is_none() => {
                    let id = PNumber::parse(&text).map_err(|source| {
                        err(Problem::BadId { field: "adresser (P-number role) adresseTekst", source })
                    })?;
                    unit.p_number = Some(id);
                }
                roles::UNIT_POSTAL => set_once(&mut unit.postal_address, text),
                roles::UNIT_EMAIL => set_once(&mut unit.email, text),
                roles::UNIT_MOBILE => set_once(&mut unit.mobile, text),
                roles::UNIT_LANDLINE => set_once(&mut unit.landline, text),
                roles::UNIT_LOS_ID => set_once(&mut unit.los_id, text),
                _ => {}
            }
        }
        let cvr_text = dto.tilhoerer.and_then(|o| o.virksomhed).and_then(|v| v.cvr_nummer_tekst);
        if let Some(text) = cvr_text {
            let cvr = Cvr::parse(&text)
                .map_err(|source| err(Problem::BadId { field: "tilhoerer.virksomhed.cvrNummerTekst", source }))?;
            match self.cvr {
                None => self.cvr = Some(cvr),
                Some(first) if first != cvr => {
                    return Err(err(Problem::BadValue {
                        field: "tilhoerer.virksomhed.cvrNummerTekst",
                        value: format!("{cvr} (the units before it belong to CVR {first})"),
                    }))
                }
                Some(_) => {}
            }
        }
        Ok(unit)
    }
}

fn user_from_node(path: &Path, page: usize, i: usize, node: &Value) -> Result<FkUser, ReadError> {
    let fallback = record_of(node, "brugernavn", "user", page, i);
    let dto = UserDto::deserialize(node).map_err(|e| {
        ReadError::at(path, fallback.clone(), Problem::NotGraphQl { expected: "a Bruger node", message: e.to_string() })
    })?;
    let brugernavn = dto.brugernavn.filter(|n| !n.trim().is_empty());
    let uuid_text = dto.uuid.filter(|u| !u.trim().is_empty());
    let record = RecordRef { id: uuid_text.clone().unwrap_or_else(|| fallback.id.clone()), name: brugernavn.clone() };
    let err = |problem: Problem| ReadError::at(path, record.clone(), problem);
    let uuid_text = uuid_text.ok_or_else(|| err(Problem::MissingField("uuid".into())))?;
    let uuid = FkUuid::parse(&uuid_text).map_err(|source| err(Problem::BadId { field: "uuid", source }))?;
    let brugernavn = brugernavn.ok_or_else(|| err(Problem::MissingField("brugernavn".into())))?;
    check_text("brugernavn", &brugernavn, MAX_NAME_CHARS).map_err(&err)?;
    let person_name = dto.person.and_then(|p| p.navn).filter(|n| !n.trim().is_empty());
    if let Some(n) = &person_name {
        check_text("person.navn", n, MAX_NAME_CHARS).map_err(&err)?;
    }
    let tilstand = dto.tilstand.ok_or_else(|| err(Problem::MissingField("tilstand".into())))?;
    let (status, _, _) = read_tilstand(tilstand).map_err(&err)?;
    let mut user = FkUser {
        uuid,
        brugernavn,
        person_name,
        status,
        email: None,
        mobile: None,
        landline: None,
        memberships: Vec::new(),
    };
    for (role, text) in addresses(dto.adresser).map_err(&err)? {
        match role.as_str() {
            roles::USER_EMAIL => set_once(&mut user.email, text),
            roles::USER_MOBILE => set_once(&mut user.mobile, text),
            roles::USER_LANDLINE => set_once(&mut user.landline, text),
            _ => {}
        }
    }
    for m in dto.har_medlemskab.unwrap_or_default() {
        let opt_uuid = |text: Option<String>, field: &'static str| -> Result<Option<FkUuid>, ReadError> {
            match text.filter(|t| !t.trim().is_empty()) {
                None => Ok(None),
                Some(t) => FkUuid::parse(&t).map(Some).map_err(|source| err(Problem::BadId { field, source })),
            }
        };
        let unit = match m.medlem_af {
            None => None,
            Some(r) => opt_uuid(r.uuid, "harMedlemskab.medlemAf.uuid")?,
        };
        user.memberships.push(FkMembership {
            uuid: opt_uuid(m.uuid, "harMedlemskab.uuid")?,
            title: m.medlemskab_rolle_titel.filter(|t| !t.trim().is_empty()),
            function_type: opt_uuid(m.funktions_type_uuid, "harMedlemskab.funktionsTypeUuid")?,
            function_type_title: m.funktions_type_titel.filter(|t| !t.trim().is_empty()),
            unit,
        });
    }
    Ok(user)
}

/// The nodes of a Relay connection and its page info. Null edges are skipped.
fn connection<'v>(
    path: &Path,
    page: usize,
    name: &'static str,
    conn: &'v Value,
) -> Result<(Vec<&'v Value>, PageInfo), ReadError> {
    let problem = |message: String| {
        ReadError::new(path, Problem::NotGraphQl { expected: name, message: format!("page {}: {message}", page + 1) })
    };
    let Some(obj) = conn.as_object() else {
        return Err(problem(format!("data.{name} is {}, not a connection object", kind_of(conn))));
    };
    let edges: &[Value] = match obj.get("edges") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(other) => return Err(problem(format!("data.{name}.edges is {}, not an array", kind_of(other)))),
    };
    let mut nodes = Vec::with_capacity(edges.len());
    for (i, edge) in edges.iter().enumerate() {
        match edge {
            Value::Null => {}
            Value::Object(e) => match e.get("node") {
                Some(node @ Value::Object(_)) => nodes.push(node),
                _ => return Err(problem(format!("data.{name}.edges[{i}] has no node object"))),
            },
            other => return Err(problem(format!("data.{name}.edges[{i}] is {}, not an edge", kind_of(other)))),
        }
    }
    let info = obj.get("pageInfo").map(|p| PageInfo {
        has_next_page: p.get("hasNextPage").and_then(Value::as_bool).unwrap_or(false),
        end_cursor: p.get("endCursor").and_then(Value::as_str).map(str::to_string),
    });
    Ok((nodes, info.unwrap_or_default()))
}

type Time = DateTime<FixedOffset>;

fn read_tilstand(t: TilstandDto) -> Result<(FkStatus, Option<Time>, Option<Time>), Problem> {
    let status = match t.status.as_deref().map(str::trim) {
        Some("AKTIV") => FkStatus::Aktiv,
        Some("INAKTIV") => FkStatus::Inaktiv,
        Some(other) => return Err(Problem::BadValue { field: "tilstand.status", value: other.to_string() }),
        None => return Err(Problem::MissingField("tilstand.status".into())),
    };
    let from = parse_time("tilstand.fraTidspunkt", t.fra_tidspunkt)?;
    let to = parse_time("tilstand.tilTidspunkt", t.til_tidspunkt)?;
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(Problem::ImpossibleDates { from: f.to_rfc3339(), to: t.to_rfc3339() });
        }
    }
    Ok((status, from, to))
}

/// Parses an ISO 8601 date-time. Without an offset, UTC is assumed; a bare date means midnight.
/// `infinity` (the old SOAP services' open end) and blank mean "no limit".
pub fn parse_iso_datetime(text: &str) -> Option<Option<DateTime<FixedOffset>>> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("infinity") || t.eq_ignore_ascii_case("-infinity") {
        return Some(None);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(Some(d));
    }
    let utc = FixedOffset::east_opt(0)?;
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(Some(n.and_utc().with_timezone(&utc)));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Some(Some(d.and_hms_opt(0, 0, 0)?.and_utc().with_timezone(&utc)));
    }
    None
}

fn parse_time(field: &'static str, text: Option<String>) -> Result<Option<DateTime<FixedOffset>>, Problem> {
    match text {
        None => Ok(None),
        Some(t) => parse_iso_datetime(&t).ok_or(Problem::BadDate { field, value: t }),
    }
}

/// `(role uuid, text)` of each address with a non-blank text, role lower-cased.
fn addresses(list: Option<Vec<AdresseDto>>) -> Result<Vec<(String, String)>, Problem> {
    let mut out = Vec::new();
    for (i, a) in list.unwrap_or_default().into_iter().enumerate() {
        let role = a
            .klassifikation
            .and_then(|k| k.rolle)
            .ok_or_else(|| Problem::MissingField(format!("adresser[{i}].klassifikation.rolle")))?;
        let Some(text) = a.adresse_tekst.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else {
            continue;
        };
        out.push((role.trim().to_ascii_lowercase(), text));
    }
    Ok(out)
}

fn set_once(slot: &mut Option<String>, text: String) {
    if slot.is_none() {
        *slot = Some(text);
    }
}

/// The best name for a node that failed to parse: its uuid and name if they are strings.
fn record_of(node: &Value, name_field: &str, what: &str, page: usize, i: usize) -> RecordRef {
    let id = node
        .get("uuid")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{what} #{} on page {}", i + 1, page + 1));
    let name = node.get(name_field).and_then(Value::as_str).map(str::to_string);
    RecordRef { id, name }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn graphql_error_messages(errors: &Value) -> Vec<String> {
    match errors {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|e| e.get("message").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| e.to_string()))
            .collect(),
        other => vec![other.to_string()],
    }
}

/// Builds a tree from page responses already parsed as JSON (one per page).
pub(crate) fn units_and_users_from_pages(path: &Path, pages: &[Value]) -> Result<FkTree, ReadError> {
    let mut collected = FkPages::default();
    for (i, page) in pages.iter().enumerate() {
        collected.add_response(path, i, page)?;
    }
    collected.finish(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Counts per role, for diagnostics: how many addresses of each role the units carry.
    fn role_counts(tree: &FkTree) -> HashMap<&'static str, usize> {
        let mut m = HashMap::new();
        for u in &tree.units {
            for (name, present) in [
                ("sor_id", u.sor_id.is_some()),
                ("ean", u.ean.is_some()),
                ("p_number", u.p_number.is_some()),
                ("postal", u.postal_address.is_some()),
                ("email", u.email.is_some()),
                ("mobile", u.mobile.is_some()),
                ("landline", u.landline.is_some()),
            ] {
                if present {
                    *m.entry(name).or_insert(0) += 1;
                }
            }
        }
        m
    }

    const ROOT: &str = "00000000-0000-4000-8000-000000000001";
    const CHILD: &str = "00000000-0000-4000-8000-000000000002";

    fn unit(uuid: &str, name: &str, parent: Option<&str>, adresser: Value) -> Value {
        serde_json::json!({
            "uuid": uuid, "enhedsnavn": name, "brugervendtNoegle": null,
            "overordnetEnhed": parent.map(|p| serde_json::json!({"uuid": p})),
            "tilstand": {"status": "AKTIV", "fraTidspunkt": "2020-01-01T00:00:00+01:00", "tilTidspunkt": null},
            "adresser": adresser,
            "tilhoerer": {"virksomhed": {"cvrNummerTekst": "11111111"}}
        })
    }

    fn response(nodes: Vec<Value>) -> Value {
        let edges: Vec<Value> = nodes.into_iter().map(|n| serde_json::json!({"cursor": "c", "node": n})).collect();
        serde_json::json!({"data": {"organisationEnhedListe": {"edges": edges, "pageInfo": {"hasNextPage": false, "endCursor": "c"}}}})
    }

    fn read(v: &Value) -> Result<FkTree, ReadError> {
        read_fkorg_json(Path::new("t.json"), v.to_string().as_bytes())
    }

    #[test]
    fn addresses_are_sorted_by_role_and_unknown_roles_ignored() {
        let adr = serde_json::json!([
            {"uuid": "a", "adresseTekst": "347801000016001", "klassifikation": {"rolle": roles::UNIT_SOR_ID}},
            {"uuid": "b", "adresseTekst": "33 66 33 66", "klassifikation": {"rolle": roles::UNIT_LANDLINE.to_uppercase()}},
            {"uuid": "c", "adresseTekst": "x", "klassifikation": {"rolle": "11111111-1111-4111-8111-111111111111"}}
        ]);
        let t = read(&response(vec![unit(ROOT, "Korsbaek", None, adr)])).unwrap();
        assert_eq!(t.units[0].sor_id.map(|s| s.to_string()).as_deref(), Some("347801000016001"));
        assert_eq!(t.units[0].landline.as_deref(), Some("33 66 33 66"));
        assert_eq!(role_counts(&t).len(), 2);
        assert_eq!(t.cvr.map(|c| c.to_string()).as_deref(), Some("11111111"));
    }

    #[test]
    fn a_bad_check_digit_names_the_unit() {
        let adr =
            serde_json::json!([{"adresseTekst": "347801000016002", "klassifikation": {"rolle": roles::UNIT_SOR_ID}}]);
        let e = read(&response(vec![
            unit(ROOT, "Korsbaek", None, serde_json::json!([])),
            unit(CHILD, "Plejecenter A", Some(ROOT), adr),
        ]))
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(CHILD) && msg.contains("Plejecenter A") && msg.contains("Verhoeff"), "{msg}");
    }

    #[test]
    fn dates_without_offset_or_time_are_read_as_utc() {
        assert!(parse_iso_datetime("2020-01-01").unwrap().is_some());
        assert!(parse_iso_datetime("2020-01-01T10:00:00").unwrap().is_some());
        assert_eq!(parse_iso_datetime("infinity"), Some(None));
        assert_eq!(parse_iso_datetime("1. januar"), None);
    }
}
