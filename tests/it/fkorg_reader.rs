//! FK-ORG GraphQL response files: the Korsbaek example reads right, `inspect fkorg` keeps its JSON
//! contract, and every file of the bad-input corpus fails with its own clear error.

use std::collections::BTreeSet;

use serde_json::Value;
use sorsync::domain::fkorg::roles;
use sorsync::domain::{FkStatus, FkTree, FkUuid};
use sorsync::sources::read_fkorg_file;

use crate::support::{fixture, sorsync};

const ROOT: &str = "a1000000-0000-4000-8000-000000000001";
const AELDRE: &str = "a1000000-0000-4000-8000-000000000002";
const PLEJECENTER_A: &str = "a1000000-0000-4000-8000-000000000003";
const PLEJECENTER_B: &str = "a1000000-0000-4000-8000-000000000004";
const EVIGGLAD: &str = "a1000000-0000-4000-8000-000000000005";

fn korsbaek() -> FkTree {
    read_fkorg_file(&fixture("fkorg/korsbaek.json")).expect("the Korsbaek fixture reads")
}

fn uuid(s: &str) -> FkUuid {
    FkUuid::parse(s).unwrap()
}

#[test]
fn korsbaek_reads_as_one_tree_from_two_pages() {
    let t = korsbaek();
    assert_eq!(t.cvr.map(|c| c.to_string()).as_deref(), Some("11111111"));
    assert_eq!(t.len(), 6, "units from both pages");
    let root = t.tree.roots()[0];
    assert_eq!(t.units[root].enhedsnavn, "Korsbaek Kommune");
    let children_of_aeldre: Vec<&str> =
        t.tree.children(t.index_of(uuid(AELDRE)).unwrap()).iter().map(|&i| t.units[i].enhedsnavn.as_str()).collect();
    assert_eq!(children_of_aeldre, ["Plejecenter A", "Plejecenter B", "Plejecenter Evigglad"]);
    let evigglad = t.index_of(uuid(EVIGGLAD)).unwrap();
    assert_eq!(t.path_names(evigglad), "Korsbaek Kommune / AEldreforvaltning / Plejecenter Evigglad");
}

#[test]
fn addresses_of_every_role_land_in_their_fields() {
    let t = korsbaek();
    let u = t.get(uuid(AELDRE)).unwrap();
    assert_eq!(u.sor_id.map(|s| s.to_string()).as_deref(), Some("4800011000016006"));
    assert_eq!(u.ean.map(|s| s.to_string()).as_deref(), Some("5798001000024"));
    assert_eq!(u.p_number.map(|s| s.to_string()).as_deref(), Some("1003456789"));
    assert_eq!(u.postal_address.as_deref(), Some("Sundhedsvej 2, 4000 Korsbaek"));
    assert_eq!(u.email.as_deref(), Some("aeldre@korsbaek.dk"));
    assert_eq!(u.mobile.as_deref(), Some("+45 20 30 40 50"));
    assert_eq!(u.landline.as_deref(), Some("46 31 40 00"));
    assert_eq!(u.los_id.as_deref(), Some("1001"));
    assert_eq!(u.brugervendt_noegle.as_deref(), Some("KOR-AE"));

    let b = t.get(uuid(PLEJECENTER_B)).unwrap();
    assert_eq!((b.sor_id, b.ean, b.landline.as_deref()), (None, None, None));
    assert_eq!(b.mobile.as_deref(), Some("21 22 23 24"));
    assert_eq!(b.postal_address.as_deref(), Some("Bøgevej 7, 4000 Korsbaek"));
    assert_eq!(b.brugervendt_noegle, None);
}

#[test]
fn validity_and_status_are_read() {
    let t = korsbaek();
    let e = t.get(uuid(EVIGGLAD)).unwrap();
    assert_eq!(e.status, FkStatus::Aktiv);
    assert_eq!(e.valid_from.unwrap().to_rfc3339(), "2021-06-01T00:00:00+02:00");
    assert_eq!(e.valid_to.unwrap().to_rfc3339(), "2030-12-31T00:00:00+01:00");
    assert_eq!(t.get(uuid(ROOT)).unwrap().valid_to, None);
}

#[test]
fn users_carry_their_addresses_and_memberships() {
    let t = korsbaek();
    assert_eq!(t.users.len(), 3);
    let birte = t.users.iter().find(|u| u.brugernavn == "bjensen").unwrap();
    assert_eq!(birte.person_name.as_deref(), Some("Birte Jensen"));
    assert_eq!(birte.email.as_deref(), Some("bjensen@korsbaek.dk"));
    assert_eq!(birte.mobile.as_deref(), Some("30 40 50 60"));
    assert_eq!(birte.landline.as_deref(), Some("46 31 41 01"));
    assert_eq!(birte.memberships.len(), 1);
    assert_eq!(birte.memberships[0].unit, Some(uuid(PLEJECENTER_A)));
    assert_eq!(birte.memberships[0].title.as_deref(), Some("Centerleder"));
    assert_eq!(birte.memberships[0].function_type, Some(uuid(roles::FUNCTION_MANAGER)));

    let mads = t.users.iter().find(|u| u.brugernavn == "mhansen").unwrap();
    let units: Vec<_> = mads.memberships.iter().map(|m| m.unit).collect();
    assert_eq!(units, [Some(uuid(PLEJECENTER_B)), Some(uuid(AELDRE))]);
    assert_eq!((mads.mobile.as_deref(), mads.landline.as_deref()), (None, None));
}

#[test]
fn a_single_response_object_reads_like_an_array_of_one_page() {
    let pages: Value = serde_json::from_slice(&std::fs::read(fixture("fkorg/korsbaek.json")).unwrap()).unwrap();
    let mut first = pages[0].clone();
    // Keep only the root, so the one page is a tree on its own.
    let edges = first["data"]["organisationEnhedListe"]["edges"].as_array_mut().unwrap();
    edges.truncate(1);
    first["data"].as_object_mut().unwrap().remove("brugerListe");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.json");
    std::fs::write(&path, first.to_string()).unwrap();
    let t = read_fkorg_file(&path).unwrap();
    assert_eq!(t.len(), 1);
    assert!(t.users.is_empty());
}

fn inspect_json() -> Value {
    let out =
        sorsync().args(["inspect", "fkorg", "--format", "json"]).arg(fixture("fkorg/korsbaek.json")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn inspect_json_has_exactly_the_contract_fields() {
    let v = inspect_json();
    assert_eq!(keys(&v), BTreeSet::from(["units", "users"]));
    let unit_keys = BTreeSet::from([
        "uuid",
        "name",
        "user_key",
        "parent_uuid",
        "status",
        "from",
        "to",
        "sor_id",
        "ean",
        "p_number",
        "postal_address",
        "phone",
        "landline",
        "email",
    ]);
    for u in v["units"].as_array().unwrap() {
        assert_eq!(keys(u), unit_keys);
    }
    let user_keys = BTreeSet::from(["uuid", "user_name", "name", "email", "mobile", "landline", "memberships"]);
    for u in v["users"].as_array().unwrap() {
        assert_eq!(keys(u), user_keys);
        for m in u["memberships"].as_array().unwrap() {
            assert_eq!(keys(m), BTreeSet::from(["unit_uuid", "title", "function_type"]));
        }
    }
    // The root comes first; identifiers are strings; phone is the unit's mobile-role address.
    assert_eq!(v["units"][0]["name"], "Korsbaek Kommune");
    assert_eq!(v["units"][1]["sor_id"], "4800011000016006");
    assert_eq!(v["units"][1]["phone"], "+45 20 30 40 50");
    assert_eq!(v["units"][0]["sor_id"], Value::Null);
}

#[test]
fn inspect_json_of_korsbaek_is_stable() {
    insta::assert_json_snapshot!("inspect_fkorg_korsbaek", inspect_json());
}

#[test]
fn inspect_text_is_an_indented_tree() {
    let out = sorsync().args(["inspect", "fkorg"]).arg(fixture("fkorg/korsbaek.json")).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("CVR 11111111") && lines[0].contains("6 units"), "{text}");
    assert!(lines[1].starts_with("Korsbaek Kommune ["), "{text}");
    assert!(lines[2].starts_with("  AEldreforvaltning [") && lines[2].contains("SOR 4800011000016006"), "{text}");
    assert!(lines[3].starts_with("    Plejecenter A ["), "{text}");
    assert!(text.contains("\n  Borgerservice ["), "{text}");
}

/// Each bad FK-ORG file and a piece of the error it must give (besides its own file name).
const BAD_FILES: &[(&str, &[&str])] = &[
    ("fkorg-01-empty.json", &["the file is empty"]),
    ("fkorg-02-invalid-utf8.json", &["not valid UTF-8", "offset"]),
    ("fkorg-03-truncated.json", &["truncated"]),
    ("fkorg-04-malformed.json", &["malformed JSON at line 2, column", "trailing comma"]),
    ("fkorg-05-not-graphql.json", &["not a GraphQL response", "\"foo\""]),
    ("fkorg-06-bare-node-array.json", &["not a GraphQL response", "bare unit node"]),
    ("fkorg-07-graphql-errors.json", &["carries errors", "Not authorized to read organisation"]),
    ("fkorg-08-missing-uuid.json", &["Plejecenter A", "missing uuid"]),
    ("fkorg-09-missing-enhedsnavn.json", &[PLEJECENTER_B, "missing enhedsnavn"]),
    ("fkorg-10-bad-uuid.json", &["Borgerservice", "\"borgerservice-1\" is not a UUID"]),
    ("fkorg-11-bad-status.json", &["Plejecenter B", "tilstand.status", "LUKKET"]),
    ("fkorg-12-bad-date.json", &["Plejecenter A", "tilstand.fraTidspunkt", "is not a date"]),
    ("fkorg-13-ends-before-it-starts.json", &["Plejecenter Evigglad", "before it starts"]),
    ("fkorg-14-duplicate-unit-uuid.json", &[PLEJECENTER_B, "appears more than once"]),
    ("fkorg-15-unknown-parent.json", &["Plejecenter B", "a1000000-0000-4000-8000-000000000099", "not in the file"]),
    ("fkorg-16-cycle-in-parents.json", &["cycle in parents"]),
    ("fkorg-17-two-roots.json", &["more than one root", "Korsbaek Kommune", "Borgerservice"]),
    ("fkorg-18-bad-sor-id-verhoeff.json", &["Plejecenter A", "SOR-ID", "Verhoeff"]),
    ("fkorg-19-bad-ean-check-digit.json", &["Plejecenter A", "EAN", "GS1 check digit"]),
    ("fkorg-20-bad-p-number.json", &["Plejecenter Evigglad", "P-number"]),
    ("fkorg-21-membership-unknown-unit.json", &["lpetersen", "a1000000-0000-4000-8000-000000000077", "medlemAf"]),
    ("fkorg-22-duplicate-user.json", &["b1000000-0000-4000-8000-000000000001", "appears more than once"]),
    ("fkorg-23-two-cvr-numbers.json", &["Borgerservice", "cvrNummerTekst", "29189846"]),
    ("fkorg-24-bad-cvr.json", &["Korsbaek Kommune", "CVR \"1111111\""]),
    ("fkorg-25-user-missing-brugernavn.json", &["b1000000-0000-4000-8000-000000000002", "missing brugernavn"]),
    ("fkorg-26-users-only.json", &["organisationEnhedListe"]),
    ("fkorg-27-empty-array.json", &["empty JSON array"]),
    ("fkorg-28-edges-not-a-list.json", &["edges is an object, not an array"]),
    (
        "fkorg-29-escape-sequence-in-name.json",
        &["\"Plejecenter B\\u{1b}[2J", "enhedsnavn contains the control character U+001B at character 14"],
    ),
];

#[test]
fn every_bad_fkorg_file_fails_with_its_own_clear_error() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixture("bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("fkorg-"))
        .collect();
    let in_table: BTreeSet<String> = BAD_FILES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(on_disk, in_table, "every fixtures/bad/fkorg-* file has an expected error here");

    let mut failures = Vec::new();
    for (file, expected) in BAD_FILES {
        let out = sorsync().args(["inspect", "fkorg"]).arg(fixture(&format!("bad/{file}"))).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ok = !out.status.success()
            && out.status.code() == Some(1)
            && !stderr.contains("panicked")
            && stderr.contains(file)
            && expected.iter().all(|e| stderr.contains(e))
            && out.stdout.is_empty();
        if !ok {
            failures.push(format!("{file}: exit {:?}, stderr: {stderr}", out.status.code()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
