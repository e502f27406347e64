//! Writes a generated municipality as FK-ORG GraphQL page responses: a JSON array of
//! `organisationEnhedListe` pages (root unit first) followed by `brugerListe` pages.

use std::io::{self, Write};

use serde::Serialize;

use super::GeneratedMunicipality;
use crate::domain::fkorg::roles;
use crate::domain::{FkUnit, FkUser, FkUuid};

/// `klassifikation.type` of a unit's address relation (from the FK-ORG schema's comment).
pub const ADDRESS_RELATION_UNIT: &str = "9b33c0a0-a566-4ec0-8200-325cb1e5bb9a";
/// `klassifikation.type` of a user's address relation (unconfirmed).
pub const ADDRESS_RELATION_USER: &str = "2e0f4c49-8dcb-4fa8-8b2c-46d31bf3d5d0";

/// The largest page the real API returns.
pub const PAGE_SIZE: usize = 500;

#[derive(Serialize)]
struct UuidRef {
    uuid: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tilstand {
    status: &'static str,
    fra_tidspunkt: Option<String>,
    til_tidspunkt: Option<String>,
}

#[derive(Serialize)]
struct Klassifikation {
    #[serde(rename = "type")]
    relation_type: &'static str,
    rolle: &'static str,
    indeks: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Adresse<'a> {
    uuid: String,
    adresse_tekst: &'a str,
    adresse_rolle_titel: &'static str,
    klassifikation: Klassifikation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Virksomhed {
    cvr_nummer_tekst: String,
}

#[derive(Serialize)]
struct Tilhoerer {
    virksomhed: Virksomhed,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UnitNode<'a> {
    uuid: String,
    enhedsnavn: &'a str,
    brugervendt_noegle: Option<&'a str>,
    overordnet_enhed: Option<UuidRef>,
    tilstand: Tilstand,
    adresser: Vec<Adresse<'a>>,
    tilhoerer: Tilhoerer,
}

#[derive(Serialize)]
struct Person<'a> {
    navn: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Medlemskab<'a> {
    uuid: Option<String>,
    medlemskab_rolle_titel: Option<&'a str>,
    funktions_type_uuid: Option<String>,
    funktions_type_titel: Option<&'a str>,
    medlem_af: Option<UuidRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserNode<'a> {
    uuid: String,
    brugernavn: &'a str,
    person: Option<Person<'a>>,
    tilstand: Tilstand,
    adresser: Vec<Adresse<'a>>,
    har_medlemskab: Vec<Medlemskab<'a>>,
}

/// A stable UUID for an address of `owner` (the generator does not store address UUIDs).
fn derived_uuid(owner: FkUuid, salt: u64) -> String {
    let v = owner.as_uuid().as_u128();
    let mix = |mut x: u64| {
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    };
    let hi = mix((v >> 64) as u64 ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let lo = mix(v as u64 ^ hi);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
}

fn address<'a>(
    owner: FkUuid,
    text: &'a str,
    title: &'static str,
    rolle: &'static str,
    relation: &'static str,
    salt: u64,
) -> Adresse<'a> {
    Adresse {
        uuid: derived_uuid(owner, salt),
        adresse_tekst: text,
        adresse_rolle_titel: title,
        klassifikation: Klassifikation { relation_type: relation, rolle, indeks: salt.to_string() },
    }
}

fn unit_node<'a>(u: &'a FkUnit, cvr: &str, ids: &'a (Option<String>, Option<String>)) -> UnitNode<'a> {
    let mut adresser = Vec::new();
    let r = ADDRESS_RELATION_UNIT;
    if let Some(a) = &u.postal_address {
        adresser.push(address(u.uuid, a, "Postadresse", roles::UNIT_POSTAL, r, 1));
    }
    if let Some(a) = &u.email {
        adresser.push(address(u.uuid, a, "Email", roles::UNIT_EMAIL, r, 2));
    }
    if let Some(a) = &u.landline {
        adresser.push(address(u.uuid, a, "Fastnet", roles::UNIT_LANDLINE, r, 3));
    }
    if let Some(a) = &u.mobile {
        adresser.push(address(u.uuid, a, "Telefon", roles::UNIT_MOBILE, r, 4));
    }
    if let Some(a) = &ids.0 {
        adresser.push(address(u.uuid, a, "SOR", roles::UNIT_SOR_ID, r, 5));
    }
    if let Some(a) = &ids.1 {
        adresser.push(address(u.uuid, a, "EAN", roles::UNIT_EAN, r, 6));
    }
    if let Some(a) = &u.los_id {
        adresser.push(address(u.uuid, a, "LOS ID", roles::UNIT_LOS_ID, r, 7));
    }
    UnitNode {
        uuid: u.uuid.to_string(),
        enhedsnavn: &u.enhedsnavn,
        brugervendt_noegle: u.brugervendt_noegle.as_deref(),
        overordnet_enhed: u.parent.map(|p| UuidRef { uuid: p.to_string() }),
        tilstand: Tilstand {
            status: u.status.as_str(),
            fra_tidspunkt: u.valid_from.map(|d| d.to_rfc3339()),
            til_tidspunkt: u.valid_to.map(|d| d.to_rfc3339()),
        },
        adresser,
        tilhoerer: Tilhoerer { virksomhed: Virksomhed { cvr_nummer_tekst: cvr.to_string() } },
    }
}

fn user_node(u: &FkUser) -> UserNode<'_> {
    let mut adresser = Vec::new();
    let r = ADDRESS_RELATION_USER;
    if let Some(a) = &u.email {
        adresser.push(address(u.uuid, a, "Email", roles::USER_EMAIL, r, 1));
    }
    if let Some(a) = &u.mobile {
        adresser.push(address(u.uuid, a, "Telefon", roles::USER_MOBILE, r, 2));
    }
    if let Some(a) = &u.landline {
        adresser.push(address(u.uuid, a, "FastnetTelefon", roles::USER_LANDLINE, r, 3));
    }
    UserNode {
        uuid: u.uuid.to_string(),
        brugernavn: &u.brugernavn,
        person: u.person_name.as_deref().map(|navn| Person { navn }),
        tilstand: Tilstand { status: u.status.as_str(), fra_tidspunkt: None, til_tidspunkt: None },
        adresser,
        har_medlemskab: u
            .memberships
            .iter()
            .map(|m| Medlemskab {
                uuid: m.uuid.map(|x| x.to_string()),
                medlemskab_rolle_titel: m.title.as_deref(),
                funktions_type_uuid: m.function_type.map(|x| x.to_string()),
                funktions_type_titel: m.function_type_title.as_deref(),
                medlem_af: m.unit.map(|x| UuidRef { uuid: x.to_string() }),
            })
            .collect(),
    }
}

fn write_pages<W: Write, T>(
    w: &mut W,
    list: &str,
    items: &[T],
    page_size: usize,
    first_page: bool,
    mut node: impl FnMut(&mut W, &T) -> io::Result<()>,
) -> io::Result<()> {
    let pages = items.len().div_ceil(page_size).max(1);
    for p in 0..pages {
        if p > 0 || !first_page {
            w.write_all(b",\n")?;
        }
        write!(w, "{{\"data\":{{\"{list}\":{{\"edges\":[")?;
        let start = p * page_size;
        let end = (start + page_size).min(items.len());
        for (i, item) in items[start..end].iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write!(w, "\n{{\"cursor\":\"{}\",\"node\":", start + i + 1)?;
            node(&mut *w, item)?;
            w.write_all(b"}")?;
        }
        let has_next = p + 1 < pages;
        write!(w, "],\"pageInfo\":{{\"hasNextPage\":{has_next},\"endCursor\":\"{end}\"}}}}}}}}")?;
    }
    Ok(())
}

/// Writes the FK-ORG response file: unit pages (at most `page_size` nodes each), then user pages.
pub fn write_fkorg<W: Write>(w: &mut W, m: &GeneratedMunicipality, page_size: usize) -> io::Result<()> {
    let page_size = page_size.clamp(1, PAGE_SIZE);
    let cvr = m.cvr.to_string();
    w.write_all(b"[\n")?;
    write_pages(w, "organisationEnhedListe", &m.fk_units, page_size, true, |w, u| {
        let ids = (u.sor_id.map(|s| s.to_string()), u.ean.map(|e| e.to_string()));
        Ok(serde_json::to_writer(w, &unit_node(u, &cvr, &ids))?)
    })?;
    write_pages(w, "brugerListe", &m.fk_users, page_size, false, |w, u| Ok(serde_json::to_writer(w, &user_node(u))?))?;
    w.write_all(b"\n]\n")?;
    Ok(())
}
