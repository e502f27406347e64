//! Tests: generated municipalities (`sorsync fixtures generate`), checked through the files a
//! user gets: FK-ORG JSON pages, SOR XML, truth.csv, manifest.json and expected-changes.json.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sorsync::domain::{FkTree, SorTree};
use sorsync::generate::municipalities::Municipality;
use sorsync::generate::output::write_set;
use sorsync::generate::{generate_municipality, target_sizes, GeneratorConfig, Profile};

use crate::support::{fixture, root, sorsync};

fn cfg(seed: u64, scale: f64) -> GeneratorConfig {
    GeneratorConfig { seed, scale, ..GeneratorConfig::default() }
}

fn kommuner(codes: &[u16]) -> Vec<Municipality> {
    codes.iter().map(|c| Municipality::by_code(*c).expect("a known kommunekode")).collect()
}

fn generate_into(dir: &Path, codes: &[u16], cfg: &GeneratorConfig, evolve: Option<&Path>) {
    write_set(&kommuner(codes), cfg, dir, evolve, |_| {}).expect("the set is written");
}

/// Every file under `dir`, relative path -> bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The unit and user nodes of an FK-ORG response file.
struct FkFile {
    units: Vec<Value>,
    users: Vec<Value>,
}

fn read_fk(path: &Path) -> FkFile {
    let pages: Vec<Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut f = FkFile { units: Vec::new(), users: Vec::new() };
    for p in &pages {
        for (list, into) in [("organisationEnhedListe", &mut f.units), ("brugerListe", &mut f.users)] {
            if let Some(edges) = p["data"][list]["edges"].as_array() {
                assert!(edges.len() <= 500, "a page holds at most 500 nodes");
                into.extend(edges.iter().map(|e| e["node"].clone()));
            }
        }
    }
    f
}

fn addresses_with_role<'a>(node: &'a Value, role: &str) -> Vec<&'a str> {
    node["adresser"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["klassifikation"]["rolle"] == role)
                .filter_map(|x| x["adresseTekst"].as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// One SOR entity as read from the XML.
#[derive(Debug, Default, Clone)]
struct SorEntity {
    level: String,
    id: String,
    name: String,
    closed: bool,
    owner_type: Option<String>,
}

fn read_sor(path: &Path) -> Vec<SorEntity> {
    use quick_xml::events::Event;
    let text = std::fs::read_to_string(path).unwrap();
    let mut r = quick_xml::Reader::from_str(&text);
    r.config_mut().trim_text(true);
    let mut stack: Vec<String> = Vec::new();
    let mut out: Vec<SorEntity> = Vec::new();
    let entity = |s: &str| matches!(s, "InstitutionOwner" | "HealthInstitution" | "OrganizationalUnit");
    loop {
        match r.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned()),
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let n = stack.len();
                let top = stack[n - 1].as_str();
                let value = t.unescape().unwrap().into_owned();
                if n >= 2 && entity(&stack[n - 2]) {
                    match top {
                        "SorIdentifier" => {
                            out.push(SorEntity { level: stack[n - 2].clone(), id: value, ..Default::default() })
                        }
                        "EntityName" => out.last_mut().unwrap().name = value,
                        "OwnerType" => out.last_mut().unwrap().owner_type = Some(value),
                        _ => {}
                    }
                } else if top == "ToDate" && n >= 3 && stack[n - 2] == "SorStatus" && entity(&stack[n - 3]) {
                    out.last_mut().unwrap().closed = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn read_truth(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("fk_uuid;sor_id"));
    lines.map(|l| l.split_once(';').map(|(a, b)| (a.to_string(), b.to_string())).unwrap()).collect()
}

#[test]
fn the_same_seed_gives_byte_identical_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate_into(a.path(), &[320, 999], &cfg(7, 0.3), None);
    generate_into(b.path(), &[320, 999], &cfg(7, 0.3), None);
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(fa.len() >= 8);
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (k, v) in &fa {
        assert!(v == &fb[k], "{} differs between two runs with the same seed", k.display());
    }
}

#[test]
fn a_different_seed_gives_different_data() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate_into(a.path(), &[320], &cfg(7, 0.3), None);
    generate_into(b.path(), &[320], &cfg(8, 0.3), None);
    for f in ["320/fkorg.json", "320/sor.xml", "320/truth.csv"] {
        assert_ne!(std::fs::read(a.path().join(f)).unwrap(), std::fs::read(b.path().join(f)).unwrap(), "{f}");
    }
}

#[test]
fn one_municipality_alone_is_the_same_as_in_a_bigger_run() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate_into(a.path(), &[851, 320, 370], &cfg(3, 0.1), None);
    generate_into(b.path(), &[320], &cfg(3, 0.1), None);
    for f in ["320/fkorg.json", "320/sor.xml", "320/truth.csv"] {
        assert!(std::fs::read(a.path().join(f)).unwrap() == std::fs::read(b.path().join(f)).unwrap(), "{f}");
    }
}

#[test]
fn sizes_follow_population_and_the_requested_scale() {
    let kbh = Municipality::by_code(101).unwrap();
    let small = generate_municipality(&kbh, &cfg(1, 0.1));
    let double = generate_municipality(&kbh, &cfg(1, 0.2));
    let ratio = double.fk_units.len() as f64 / small.fk_units.len() as f64;
    assert!((1.8..2.2).contains(&ratio), "FK-ORG units grow with the scale: ratio {ratio}");
    let ratio = double.sor_units.len() as f64 / small.sor_units.len() as f64;
    assert!((1.6..2.4).contains(&ratio), "SOR units grow with the scale: ratio {ratio}");

    let faxe = Municipality::by_code(320).unwrap();
    let m = generate_municipality(&faxe, &cfg(1, 1.0));
    let (fk_t, sor_t) = target_sizes(faxe.population);
    let fk = m.fk_units.len() as f64;
    let sor = m.sor_units.len() as f64;
    assert!((fk - fk_t).abs() / fk_t < 0.1, "Faxe: {fk} FK-ORG units, target {fk_t}");
    assert!((sor - sor_t).abs() / sor_t < 0.3, "Faxe: {sor} SOR units, target {sor_t}");
    assert!(m.fk_units.len() < small.fk_units.len() * 10 / 2, "København is far bigger than Faxe");
}

#[test]
fn national_targets_at_scale_one_are_150000_fkorg_and_20000_sor_units() {
    let (fk, sor): (f64, f64) = sorsync::generate::MUNICIPALITIES
        .iter()
        .map(|m| target_sizes(m.population))
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!((135_000.0..165_000.0).contains(&fk), "{fk}");
    assert!((17_000.0..23_000.0).contains(&sor), "{sor}");
    let (smallest, largest) = (target_sizes(1_800), target_sizes(660_000));
    assert_eq!(smallest.0.round(), 300.0);
    assert_eq!(smallest.1.round(), 50.0);
    assert_eq!(largest.0.round(), 10_000.0);
    assert_eq!(largest.1.round(), 2_000.0);
}

#[test]
fn every_truth_pair_names_a_unit_present_in_both_files() {
    let dir = tempfile::tempdir().unwrap();
    generate_into(dir.path(), &[370, 999], &cfg(5, 0.2), None);
    for code in ["370", "999"] {
        let d = dir.path().join(code);
        let fk = read_fk(&d.join("fkorg.json"));
        let sor = read_sor(&d.join("sor.xml"));
        let fk_ids: BTreeSet<&str> = fk.units.iter().map(|u| u["uuid"].as_str().unwrap()).collect();
        let sor_ids: BTreeSet<&str> = sor.iter().map(|s| s.id.as_str()).collect();
        let truth = read_truth(&d.join("truth.csv"));
        assert!(truth.len() > 10);
        let mut seen_fk = BTreeSet::new();
        let mut seen_sor = BTreeSet::new();
        for (f, s) in &truth {
            assert!(fk_ids.contains(f.as_str()), "{code}: truth names FK-ORG unit {f} that is not in fkorg.json");
            assert!(sor_ids.contains(s.as_str()), "{code}: truth names SOR unit {s} that is not in sor.xml");
            assert!(seen_fk.insert(f.clone()) && seen_sor.insert(s.clone()), "{code}: pairs are one-to-one");
        }
        assert_eq!(fk.units[0]["overordnetEnhed"], Value::Null, "the root unit comes first");
        let cvr = fk.units[0]["tilhoerer"]["virksomhed"]["cvrNummerTekst"].as_str().unwrap();
        assert_eq!(cvr.len(), 8);
    }
}

#[test]
fn generated_trees_pass_the_domain_structure_checks() {
    for code in [101, 320, 999] {
        let k = Municipality::by_code(code).unwrap();
        let m = generate_municipality(&k, &cfg(2, 0.2));
        let fk = FkTree::new(Some(m.cvr), m.fk_units.clone(), m.fk_users.clone());
        assert!(fk.is_ok(), "{code}: {:?}", fk.err());
        let sor = SorTree::new(m.sor_units.clone());
        assert!(sor.is_ok(), "{code}: {:?}", sor.err());
        if code != 999 {
            assert!(m.cvr.passes_modulus11());
        }
    }
}

/// A copy of the published XSD that compiles offline: the two XKOM schemas it takes from the web
/// (one import is commented out in the published file) are replaced by local lax stand-ins.
fn offline_xsd() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = PathBuf::from("/work/shared/specs/sor-xml-1.0.0/xsd");
    let src = if src.is_dir() { src } else { root().join("../shared/specs/sor-xml-1.0.0/xsd") };
    for e in std::fs::read_dir(&src).expect("the SOR XSD directory") {
        let p = e.unwrap().path();
        let mut text = std::fs::read_to_string(&p).unwrap();
        let name = p.file_name().unwrap().to_owned();
        if name == "AddressInformation.xsd" {
            text = text
                .lines()
                .map(|l| {
                    if l.contains("XKOM_AddressPostal") {
                        "<xs:import namespace=\"http://rep.oio.dk/xkom.dk/xml/schemas/2006/01/06/\" schemaLocation=\"XKOM_AddressPostal.xsd\"/>"
                    } else if l.contains("xkom:AddressPostal") {
                        "<xs:element ref=\"xkom:AddressPostal\"/>"
                    } else {
                        l
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
        text = text.replace(
            "http://digitaliser.dk/resource/2237/artefact/XKOM_EmailAddressIdentifier.xsd",
            "XKOM_EmailAddressIdentifier.xsd",
        );
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::write(
        dir.path().join("XKOM_AddressPostal.xsd"),
        r###"<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://rep.oio.dk/xkom.dk/xml/schemas/2006/01/06/" elementFormDefault="qualified">
  <xs:element name="AddressPostal"><xs:complexType><xs:sequence>
    <xs:any namespace="##other" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"###,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("XKOM_EmailAddressIdentifier.xsd"),
        r#"<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://rep.oio.dk/xkom.dk/xml/schemas/2005/03/15/" elementFormDefault="qualified">
  <xs:element name="EmailAddressIdentifier" type="xs:string"/>
</xs:schema>"#,
    )
    .unwrap();
    dir
}

#[test]
fn generated_sor_files_validate_against_the_xsd() {
    if Command::new("xmllint").arg("--version").output().is_err() {
        eprintln!("note: xmllint is not installed; skipping XSD validation (apt-get install libxml2-utils)");
        return;
    }
    let xsd = offline_xsd();
    let out = tempfile::tempdir().unwrap();
    generate_into(out.path(), &[101, 999], &cfg(4, 0.2), None);
    let mut files = vec![
        out.path().join("101/sor.xml"),
        out.path().join("999/sor.xml"),
        out.path().join("sor-national.xml"),
        fixture("sor/ONE_SYGEHUS.xml"),
    ];
    let bundled = fixture("bundled/sor-national.xml");
    if bundled.exists() {
        files.push(bundled);
    }
    let o = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd.path().join("SorTree.xsd"))
        .args(&files)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn each_difference_occurs_at_default_noise() {
    let dir = tempfile::tempdir().unwrap();
    generate_into(dir.path(), &[851, 320, 370], &cfg(11, 0.5), None);
    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for m in manifest["municipalities"].as_array().unwrap() {
        for (k, v) in m["differences"].as_object().unwrap() {
            *totals.entry(k.clone()).or_default() += v.as_u64().unwrap();
        }
    }
    for (k, v) in &totals {
        assert!(*v > 0, "difference {k} never occurred");
    }

    // and the files show them
    let (mut folded, mut synonyms, mut sor_id_on_fk, mut ean_on_fk, mut inactive_fk) = (0, 0, 0, 0, 0);
    let (mut closed_sor, mut sor_only, mut private_owner) = (0, 0, 0);
    for code in ["851", "320", "370"] {
        let d = dir.path().join(code);
        let fk = read_fk(&d.join("fkorg.json"));
        let sor = read_sor(&d.join("sor.xml"));
        let truth = read_truth(&d.join("truth.csv"));
        let fk_by_id: BTreeMap<&str, &Value> = fk.units.iter().map(|u| (u["uuid"].as_str().unwrap(), u)).collect();
        let sor_by_id: BTreeMap<&str, &SorEntity> = sor.iter().map(|s| (s.id.as_str(), s)).collect();
        for (f, s) in &truth {
            let fk_name = fk_by_id[f.as_str()]["enhedsnavn"].as_str().unwrap();
            let sor_name = &sor_by_id[s.as_str()].name;
            if fk_name.contains(['æ', 'ø', 'å'])
                && sor_name.contains("ae") | sor_name.contains("oe") | sor_name.contains("aa")
            {
                folded += 1;
            }
            if fk_name.starts_with("Plejecenter ")
                && ["Plejehjem", "Plejeboliger", "Ældrecenter"].iter().any(|w| sor_name.contains(w))
            {
                synonyms += 1;
            }
            let sor_ids = addresses_with_role(fk_by_id[f.as_str()], sorsync::domain::fkorg::roles::UNIT_SOR_ID);
            if sor_ids == [s.as_str()] {
                sor_id_on_fk += 1;
            }
        }
        for u in &fk.units {
            ean_on_fk += usize::from(!addresses_with_role(u, sorsync::domain::fkorg::roles::UNIT_EAN).is_empty());
            if u["tilstand"]["status"] == "INAKTIV" {
                assert!(u["tilstand"]["tilTidspunkt"].is_string(), "a closed FK-ORG unit has tilTidspunkt");
                inactive_fk += 1;
            }
        }
        let linked: BTreeSet<&str> = truth.iter().map(|(_, s)| s.as_str()).collect();
        closed_sor += sor.iter().filter(|s| s.closed).count();
        sor_only += sor.iter().filter(|s| s.level == "OrganizationalUnit" && !linked.contains(s.id.as_str())).count();
        private_owner += sor
            .iter()
            .filter(|s| s.owner_type.as_deref() == Some(sorsync::generate::codes::OWNER_TYPE_PRIVATE))
            .count();
    }
    for (what, n) in [
        ("ae/oe/aa spellings", folded),
        ("type-word synonyms", synonyms),
        ("FK-ORG units carrying their SOR-ID", sor_id_on_fk),
        ("FK-ORG units carrying an EAN", ean_on_fk),
        ("closed FK-ORG units", inactive_fk),
        ("closed SOR units", closed_sor),
        ("SOR units without FK-ORG counterpart", sor_only),
        ("private institution owners", private_owner),
    ] {
        assert!(n > 0, "no {what} in the files");
    }
}

#[test]
fn without_noise_linked_units_have_the_same_names() {
    let k = Municipality::by_code(370).unwrap();
    let m = generate_municipality(&k, &GeneratorConfig { noise: 0.0, scale: 0.3, ..GeneratorConfig::default() });
    let fk: BTreeMap<_, _> = m.fk_units.iter().map(|u| (u.uuid, u.enhedsnavn.as_str())).collect();
    let sor: BTreeMap<_, _> = m.sor_units.iter().map(|u| (u.sor_id, (u.kind, u.name.as_str()))).collect();
    let mut oe = 0;
    for (f, s) in &m.truth {
        let (kind, sor_name) = sor[s];
        if kind == sorsync::domain::SorKind::OrganizationalUnit && !fk[f].contains("privat") {
            assert_eq!(fk[f], sor_name);
            oe += 1;
        }
    }
    assert!(oe > 20);
    assert_eq!(m.stats.synonym + m.stats.typo + m.stats.closed_fk + m.stats.fk_without_sor, 0);
}

#[test]
fn users_have_the_four_phone_situations_at_roughly_the_configured_rates() {
    let dir = tempfile::tempdir().unwrap();
    let c = cfg(9, 0.5);
    generate_into(dir.path(), &[101], &c, None);
    let fk = read_fk(&dir.path().join("101/fkorg.json"));
    let n = fk.users.len() as f64;
    assert!(n > 2_000.0);
    let (mut landline, mut mobile, mut both, mut neither, mut malformed) = (0.0, 0.0, 0.0, 0.0, 0);
    for u in &fk.users {
        let l = addresses_with_role(u, sorsync::domain::fkorg::roles::USER_LANDLINE);
        let m = addresses_with_role(u, sorsync::domain::fkorg::roles::USER_MOBILE);
        match (l.is_empty(), m.is_empty()) {
            (false, true) => landline += 1.0,
            (true, false) => mobile += 1.0,
            (false, false) => both += 1.0,
            (true, true) => neither += 1.0,
        }
        for number in l.iter().chain(m.iter()) {
            if matches!(sorsync::domain::normalise_phone(Some(number)), sorsync::domain::Phone::Malformed(_)) {
                malformed += 1;
            }
        }
        let ms = u["harMedlemskab"].as_array().unwrap();
        assert!(!ms.is_empty(), "every user is a member of a unit");
        assert!(ms.iter().all(|m| m["medlemskabRolleTitel"].is_string() && m["medlemAf"]["uuid"].is_string()));
    }
    let r = &c.users;
    for (what, got, want) in [
        ("landline only", landline / n, r.landline_only),
        ("mobile only", mobile / n, r.mobile_only),
        ("both", both / n, r.both),
        ("neither", neither / n, 1.0 - r.landline_only - r.mobile_only - r.both),
    ] {
        assert!((got - want).abs() < 0.04, "{what}: {got:.3}, configured {want}");
    }
    assert!(malformed > 0, "some numbers are malformed");
    let managers = fk
        .users
        .iter()
        .flat_map(|u| u["harMedlemskab"].as_array().unwrap())
        .filter(|m| m["funktionsTypeUuid"] == sorsync::domain::fkorg::roles::FUNCTION_MANAGER)
        .count();
    assert!(managers > 0);
}

#[test]
fn evolve_lists_changes_that_are_really_in_the_second_snapshot() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate_into(a.path(), &[851, 320], &cfg(6, 0.5), Some(b.path()));
    let mut kinds = BTreeSet::new();
    for code in ["851", "320"] {
        let before = read_fk(&a.path().join(code).join("fkorg.json"));
        let after = read_fk(&b.path().join(code).join("fkorg.json"));
        let old: BTreeMap<&str, &Value> = before.units.iter().map(|u| (u["uuid"].as_str().unwrap(), u)).collect();
        let new: BTreeMap<&str, &Value> = after.units.iter().map(|u| (u["uuid"].as_str().unwrap(), u)).collect();
        let changes: Vec<Value> =
            serde_json::from_slice(&std::fs::read(b.path().join(code).join("expected-changes.json")).unwrap()).unwrap();
        assert!(changes.len() >= 6, "{code}: {} changes", changes.len());
        let truth: BTreeMap<String, String> = read_truth(&b.path().join(code).join("truth.csv")).into_iter().collect();
        for c in &changes {
            let id = c["fk_uuid"].as_str().unwrap();
            let kind = c["kind"].as_str().unwrap();
            kinds.insert(kind.to_string());
            assert_eq!(c["sor_id"].as_str(), truth.get(id).map(String::as_str), "sor_id is the linked unit's");
            let n = new[id];
            match kind {
                "rename" => {
                    assert_eq!(old[id]["enhedsnavn"], c["from"]);
                    assert_eq!(n["enhedsnavn"], c["to"]);
                }
                "move" => {
                    assert_eq!(old[id]["overordnetEnhed"]["uuid"], c["from"]);
                    assert_eq!(n["overordnetEnhed"]["uuid"], c["to"]);
                    assert!(new.contains_key(c["to"].as_str().unwrap()));
                }
                "close" => {
                    assert_eq!(old[id]["tilstand"]["status"], "AKTIV");
                    assert_eq!(n["tilstand"]["status"], "INAKTIV");
                }
                "create" => {
                    assert!(!old.contains_key(id));
                    assert_eq!(n["enhedsnavn"], c["to"]);
                }
                "address" => {
                    let role = sorsync::domain::fkorg::roles::UNIT_POSTAL;
                    assert_eq!(addresses_with_role(n, role), [c["to"].as_str().unwrap()]);
                    assert_ne!(addresses_with_role(old[id], role), addresses_with_role(n, role));
                }
                "phone" => {
                    let role = sorsync::domain::fkorg::roles::UNIT_LANDLINE;
                    assert_eq!(addresses_with_role(n, role), [c["to"].as_str().unwrap()]);
                }
                other => panic!("unknown change kind {other}"),
            }
        }
        // nothing else changed in names
        let renamed: BTreeSet<&str> =
            changes.iter().filter(|c| c["kind"] == "rename").map(|c| c["fk_uuid"].as_str().unwrap()).collect();
        for (id, u) in &old {
            if !renamed.contains(id) {
                assert_eq!(u["enhedsnavn"], new[id]["enhedsnavn"], "only listed renames change names");
            }
        }
        assert_eq!(
            std::fs::read(a.path().join(code).join("truth.csv")).unwrap(),
            std::fs::read(b.path().join(code).join("truth.csv")).unwrap(),
            "links survive renames, moves and closures"
        );
    }
    for k in ["rename", "move", "close", "create", "address", "phone"] {
        assert!(kinds.contains(k), "no {k} among the expected changes");
    }
}

#[test]
fn korsbaek_has_kombits_care_home_administration() {
    let m = generate_municipality(&sorsync::generate::KORSBAEK, &cfg(1, 1.0));
    assert_eq!(m.cvr.to_string(), "11111111");
    let names: Vec<&str> = m.fk_units.iter().map(|u| u.enhedsnavn.as_str()).collect();
    for n in ["Korsbæk Kommune", "Ældreforvaltning", "Plejecenter A", "Plejecenter B", "Plejecenter Evigglad"] {
        let u = m.fk_units.iter().find(|u| u.enhedsnavn == n || names::fold(&u.enhedsnavn) == names::fold(n));
        let u = u.unwrap_or_else(|| panic!("{n} missing from {names:?}"));
        assert!(m.truth.iter().any(|(f, _)| *f == u.uuid), "{n} has a SOR counterpart");
    }
}

mod names {
    pub fn fold(s: &str) -> String {
        sorsync::generate::names::ascii_fold(s)
    }
}

#[test]
fn the_cli_writes_a_set_with_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let o = sorsync()
        .args(["fixtures", "generate", "--only", "999,320", "--seed", "3", "--scale", "0.1", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 municipalities"));
    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["config"]["seed"], 3);
    assert_eq!(manifest["municipalities"][0]["kommunekode"], "999");
    assert_eq!(manifest["municipalities"][1]["name"], "Faxe");
    for f in ["999/fkorg.json", "999/sor.xml", "999/truth.csv", "320/fkorg.json", "sor-national.xml"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }

    let bad = sorsync().args(["fixtures", "generate", "--only", "998", "--out"]).arg(dir.path()).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("998"));
}

#[test]
fn the_bundled_set_is_what_the_documented_command_writes() {
    let b = tempfile::tempdir().unwrap();
    let evolved = b.path().join("evolved");
    generate_into(b.path(), &[101, 851, 320, 370, 999], &cfg(1, 0.05), Some(&evolved));
    let mut committed = files(&fixture("bundled"));
    committed.retain(|p, _| p.extension().is_some_and(|e| e == "json" || e == "xml" || e == "csv"));
    let mut fresh = files(b.path());
    // expected.csv came later than the bundled set, which stays as it is
    fresh.retain(|p, _| p.file_name().is_none_or(|n| n != "expected.csv"));
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        fresh.keys().collect::<Vec<_>>(),
        "fixtures/bundled has other files than fixtures/bundled/regenerate.sh writes"
    );
    for (k, v) in &committed {
        assert!(v == &fresh[k], "fixtures/bundled/{} is stale: run fixtures/bundled/regenerate.sh", k.display());
    }
}

#[test]
fn health_units_outside_the_health_directorate_still_have_sor_counterparts() {
    for code in [101, 147, 151, 153, 320, 370, 851] {
        let m = generate_municipality(&Municipality::by_code(code).unwrap(), &cfg(1, 0.1));
        let linked: BTreeSet<_> = m.truth.iter().map(|(f, _)| f).collect();
        for name in ["Sundhedsplejen", "Den Kommunale Tandpleje"] {
            let u = m.fk_units.iter().find(|u| u.enhedsnavn == name).unwrap();
            assert!(linked.contains(&u.uuid), "{code}: {name} has no SOR counterpart");
        }
    }
}

#[test]
fn the_readers_take_the_bundled_set() {
    let bundled = fixture("bundled");
    for dir in [bundled.clone(), bundled.join("evolved")] {
        for code in ["101", "851", "320", "370", "999"] {
            let d = dir.join(code);
            let fk = sorsync::sources::read_fkorg_file(&d.join("fkorg.json"))
                .unwrap_or_else(|e| panic!("{}: {e}", d.display()));
            let sor = sorsync::sources::read_sor_file(&d.join("sor.xml")).unwrap_or_else(|e| panic!("{e}"));
            assert!(!fk.users.is_empty());
            let truth = read_truth(&d.join("truth.csv"));
            for (f, s) in &truth {
                let f = sorsync::domain::FkUuid::parse(f).unwrap();
                let s = sorsync::domain::SorId::parse(s).unwrap();
                let (u, o) = (fk.get(f).unwrap(), sor.get(s).unwrap());
                if u.sor_id.is_some() {
                    assert_eq!(u.sor_id, Some(o.sor_id), "an FK-ORG unit carries its own counterpart's SOR-ID");
                }
            }
            if code == "999" {
                assert_eq!(fk.cvr.map(|c| c.to_string()).as_deref(), Some("11111111"));
            }
        }
        let national = sorsync::sources::read_sor_file(&dir.join("sor-national.xml")).unwrap();
        let per_municipality: usize = ["101", "851", "320", "370", "999"]
            .iter()
            .map(|c| sorsync::sources::read_sor_file(&dir.join(c).join("sor.xml")).unwrap().len())
            .sum();
        assert_eq!(national.len(), per_municipality, "the national file holds every municipality's units");
    }
}

#[test]
fn closed_units_end_after_they_start() {
    for code in [101, 350, 860] {
        let m = generate_municipality(&Municipality::by_code(code).unwrap(), &cfg(3, 1.0));
        for u in &m.fk_units {
            if let (Some(from), Some(to)) = (u.valid_from, u.valid_to) {
                assert!(from < to, "{code}: {} ends {to} before it starts {from}", u.enhedsnavn);
            }
        }
        for s in &m.sor_units {
            if let (Some(from), Some(to)) = (s.from_date, s.to_date) {
                assert!(from <= to, "{code}: SOR {} ends {to} before it starts {from}", s.name);
            }
        }
    }
}

#[test]
fn a_rates_file_sets_individual_rates() {
    let dir = tempfile::tempdir().unwrap();
    let rates = dir.path().join("rates.toml");
    std::fs::write(&rates, "[rates]\nsynonym = 0.0\nsor_only = 0.5\n[users]\nlandline_only = 1.0\n").unwrap();
    let out = dir.path().join("out");
    let o = sorsync()
        .args(["fixtures", "generate", "--only", "370", "--scale", "0.3", "--rates"])
        .arg(&rates)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let d = &manifest["municipalities"][0]["differences"];
    assert_eq!(d["synonym"], 0);
    assert_eq!(d["users_mobile_only"], 0);
    assert!(d["users_landline_only"].as_u64().unwrap() > 0);
    assert!(d["sor_only"].as_u64().unwrap() > 20);
    assert_eq!(manifest["config"]["rates"]["typo"], 0.03, "rates left out keep their defaults");

    std::fs::write(&rates, "[rates]\nsynonyms = 0.1\n").unwrap();
    let bad = sorsync()
        .args(["fixtures", "generate", "--only", "370", "--rates"])
        .arg(&rates)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("synonyms"), "{}", String::from_utf8_lossy(&bad.stderr));
}

fn rough(seed: u64, scale: f64) -> GeneratorConfig {
    GeneratorConfig { seed, scale, ..GeneratorConfig::for_profile(Profile::Rough) }
}

/// `case;decision;sor_id;parent_sor_id` rows of an expected.csv.
fn read_expected(path: &Path) -> Vec<[String; 4]> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("case;decision;sor_id;parent_sor_id"));
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(';').collect();
            assert_eq!(c.len(), 4, "four columns: {l}");
            [c[0], c[1], c[2], c[3]].map(str::to_string)
        })
        .collect()
}

#[test]
fn expected_decisions_cover_every_unit_and_agree_with_the_truth() {
    for (profile, config) in [("standard", cfg(4, 0.3)), ("rough", rough(4, 0.3))] {
        let mut kinds: BTreeSet<String> = BTreeSet::new();
        let dir = tempfile::tempdir().unwrap();
        generate_into(dir.path(), &[851, 320, 370, 999], &config, None);
        for code in ["851", "320", "370", "999"] {
            let d = dir.path().join(code);
            let rows = read_expected(&d.join("expected.csv"));
            let truth: BTreeSet<(String, String)> = read_truth(&d.join("truth.csv")).into_iter().collect();
            let links: BTreeSet<(String, String)> =
                rows.iter().filter(|r| r[1] == "link").map(|r| (r[0].clone(), r[2].clone())).collect();
            assert_eq!(links, truth, "{profile} {code}: the link rows are exactly the truth pairs");

            let fk = read_fk(&d.join("fkorg.json"));
            let sor = read_sor(&d.join("sor.xml"));
            let fk_ids: Vec<String> = fk.units.iter().map(|u| u["uuid"].as_str().unwrap().to_string()).collect();
            let cases: Vec<&String> = rows.iter().map(|r| &r[0]).collect();
            assert_eq!(
                cases.iter().take(fk_ids.len()).copied().cloned().collect::<Vec<_>>(),
                fk_ids,
                "{profile} {code}: one row per FK-ORG unit, in file order"
            );
            let open_sor: BTreeSet<&str> = sor.iter().filter(|e| !e.closed).map(|e| e.id.as_str()).collect();
            let linked_sor: BTreeSet<&str> = truth.iter().map(|(_, s)| s.as_str()).collect();
            let sor_only: BTreeSet<&str> = rows[fk_ids.len()..]
                .iter()
                .map(|r| {
                    assert_eq!(r[1], "sor_only_keep", "{profile} {code}: {r:?}");
                    assert_eq!(r[0], r[2], "a SOR-only row names its own SOR unit");
                    r[0].as_str()
                })
                .collect();
            let expected: BTreeSet<&str> = open_sor.difference(&linked_sor).copied().collect();
            assert_eq!(sor_only, expected, "{profile} {code}: every open SOR unit without a counterpart, nothing else");

            let sor_ids: BTreeSet<&str> = sor.iter().map(|e| e.id.as_str()).collect();
            for r in &rows[..fk_ids.len()] {
                match r[1].as_str() {
                    "new" => assert!(sor_ids.contains(r[3].as_str()), "{profile} {code}: new under {}", r[3]),
                    "link" | "not_in_sor" => {}
                    other => panic!("{profile} {code}: an FK-ORG unit decided {other}"),
                }
            }
            kinds.extend(rows.iter().map(|r| r[1].clone()));
        }
        let all: Vec<&str> = kinds.iter().map(String::as_str).collect();
        assert_eq!(all, ["link", "new", "not_in_sor", "sor_only_keep"], "{profile}: every kind of decision occurs");
    }
}

#[test]
fn the_rough_profile_draws_its_own_differences_and_leaves_the_standard_one_alone() {
    let dir = tempfile::tempdir().unwrap();
    generate_into(dir.path(), &[851, 320, 370], &rough(2, 0.5), None);
    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["config"]["profile"], "rough");
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    for m in manifest["municipalities"].as_array().unwrap() {
        for (k, v) in m["rough_differences"].as_object().expect("rough differences per municipality") {
            *totals.entry(k.clone()).or_default() += v.as_u64().unwrap();
        }
    }
    assert!(totals.len() >= 12);
    for (k, v) in &totals {
        assert!(*v > 0, "rough difference {k} never occurred");
    }
    // what a reader of the files sees
    let mut fk_text = String::new();
    let mut sor_names = Vec::new();
    for code in ["851", "320", "370"] {
        fk_text.push_str(&std::fs::read_to_string(dir.path().join(code).join("fkorg.json")).unwrap());
        sor_names.extend(read_sor(&dir.path().join(code).join("sor.xml")).into_iter().map(|e| e.name));
    }
    assert!(fk_text.contains("v. ") || fk_text.contains("g. "), "abbreviated streets in FK-ORG");
    assert!(fk_text.contains("Byggeprojekt") || fk_text.contains("under opførelse") || fk_text.contains("Projekt"));
    assert!(fk_text.contains("\"Team 2\""), "generic team names");
    let extra = ["Ældreområdet", "Drift og Udvikling", "Område Pleje", "Udførerområdet", "Leverandørområdet"];
    assert!(sor_names.iter().any(|n| extra.contains(&n.as_str())), "an extra SOR level");

    // a municipality whose kommunekode is divisible by 3 is small in the rough profile
    let slagelse = Municipality::by_code(330).unwrap();
    let standard = generate_municipality(&slagelse, &cfg(2, 0.5));
    let small = generate_municipality(&slagelse, &rough(2, 0.5));
    assert!(
        small.fk_units.len() * 2 < standard.fk_units.len(),
        "{} vs {}",
        small.fk_units.len(),
        standard.fk_units.len()
    );
    let standard_manifest: Value = {
        let d = tempfile::tempdir().unwrap();
        generate_into(d.path(), &[320], &cfg(2, 0.5), None);
        serde_json::from_slice(&std::fs::read(d.path().join("manifest.json")).unwrap()).unwrap()
    };
    assert!(standard_manifest["config"].get("profile").is_none(), "the standard manifest is as before");
    assert!(standard_manifest["municipalities"][0].get("rough_differences").is_none());
}

#[test]
fn a_new_care_home_under_an_administrative_level_is_expected_under_the_health_institution() {
    let dir = tempfile::tempdir().unwrap();
    generate_into(dir.path(), &[851], &rough(3, 0.5), None);
    let d = dir.path().join("851");
    let fk = read_fk(&d.join("fkorg.json"));
    let rows = read_expected(&d.join("expected.csv"));
    let decision: BTreeMap<&str, &[String; 4]> = rows.iter().map(|r| (r[0].as_str(), r)).collect();
    let sor = read_sor(&d.join("sor.xml"));
    let project = fk
        .units
        .iter()
        .find(|u| {
            u["enhedsnavn"]
                .as_str()
                .is_some_and(|n| n.contains("Plejeboliger") || n.contains("Projekt") || n.contains("opførelse"))
        })
        .expect("a building project in FK-ORG");
    let project_id = project["uuid"].as_str().unwrap();
    assert_eq!(decision[project_id][1], "not_in_sor", "the project is administration");
    let home = fk
        .units
        .iter()
        .find(|u| u["overordnetEnhed"]["uuid"].as_str() == Some(project_id))
        .expect("a care home under the project");
    let row = decision[home["uuid"].as_str().unwrap()];
    assert_eq!(row[1], "new", "{row:?}");
    let parent = sor.iter().find(|e| e.id == row[3]).expect("the parent is in SOR");
    assert_eq!(parent.level, "HealthInstitution", "created under the health institution: {parent:?}");
}

#[test]
fn a_rates_file_changes_single_rates_of_the_chosen_profile() {
    let dir = tempfile::tempdir().unwrap();
    let rates = dir.path().join("rates.toml");
    std::fs::write(&rates, "[rates]\nsynonym = 0.0\n[rough]\nrenamed = 0.5\n").unwrap();
    let out = dir.path().join("set");
    let o = sorsync()
        .args(["fixtures", "generate", "--only", "851", "--scale", "0.1", "--profile", "rough", "--rates"])
        .arg(&rates)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let c = &manifest["config"];
    assert_eq!(c["rates"]["synonym"], 0.0, "the file's rate");
    assert_eq!(c["rates"]["flatten"], 0.6, "the rough profile's rate where the file says nothing");
    assert_eq!(c["rough"]["renamed"], 0.5);
    assert_eq!(c["rough"]["moved"], 0.06);
}
