//! Tests: reading SOR exports (XML 1.0.0 / 2.0.0 and SOR2 CSV) with SOR's inheritance rules, the
//! `inspect sor` output other tools read, and the errors a user gets for bad files.

use std::path::Path;

use sorsync::domain::{Ean, SorId, SorKind, SorTree, SorUnit};
use sorsync::sources::{read_sor_file, Problem};

use crate::support::{fixture, sorsync};

fn read(rel: &str) -> SorTree {
    let path = fixture(rel);
    read_sor_file(&path).unwrap_or_else(|e| panic!("{rel} should read: {e}"))
}

fn id(s: &str) -> SorId {
    SorId::parse(s).expect("test ids are valid")
}

fn unit<'t>(tree: &'t SorTree, sor_id: &str) -> &'t SorUnit {
    tree.get(id(sor_id)).unwrap_or_else(|| panic!("{sor_id} should be in the tree"))
}

fn street(u: &SorUnit) -> Option<&str> {
    u.effective.postal.value.as_ref().map(|a| a.street.as_str())
}

#[test]
fn the_hospital_sample_gives_its_nested_units_the_owners_address_and_phone() {
    let tree = read("sor/ONE_SYGEHUS.xml");
    assert_eq!(tree.len(), 4);
    let owner = unit(&tree, "347801000016001");
    assert_eq!(owner.kind, SorKind::InstitutionOwner);
    assert_eq!(owner.name, "Roskilde Øjenklinik");
    assert_eq!(owner.unit_type.as_deref(), Some("550891000005100"));
    assert_eq!(street(owner), Some("Hestetorvet"));
    assert!(!owner.effective.postal.inherited);
    assert_eq!(owner.own.email.as_deref(), Some("J.Thulesen@dadlnet.dk"));
    assert_eq!(owner.own.website.as_deref(), Some("www.roskildeojenklinik.dk"));

    let institution = unit(&tree, "347811000016004");
    assert_eq!(institution.kind, SorKind::HealthInstitution);
    assert_eq!(institution.parent, Some(owner.sor_id));
    assert_eq!(institution.shak.as_deref(), Some("2529"));

    let ward = unit(&tree, "347821000016008");
    let section = unit(&tree, "347831000016005");
    assert_eq!(ward.parent, Some(institution.sor_id));
    assert_eq!(section.parent, Some(ward.sor_id), "an OE nested in an OE has that OE as parent");
    assert_eq!(section.kind, SorKind::OrganizationalUnit);
    assert_eq!(section.unit_type.as_deref(), Some("550851000005109"));
    assert_eq!(section.shak.as_deref(), Some("2529010"));
    assert_eq!(ward.from_date, chrono::NaiveDate::from_ymd_opt(2009, 10, 7));
    assert_eq!(ward.updated_at, chrono::NaiveDate::from_ymd_opt(2009, 10, 1));
    assert_eq!(section.to_date, None);

    assert_eq!(section.own.postal, None, "the OE has no address of its own");
    assert_eq!(street(section), Some("Hestetorvet"));
    assert!(section.effective.postal.inherited);
    assert_eq!(section.effective.phone.value.as_deref(), Some("46361266"));
    assert!(section.effective.phone.inherited);
    assert_eq!(section.effective.email.value.as_deref(), Some("J.Thulesen@dadlnet.dk"));
    assert_eq!(section.effective.ean.value, None, "no EAN anywhere above it");
}

#[test]
fn the_practice_sample_gives_units_marked_inherited_the_owners_ean() {
    let tree = read("sor/ONE_PRAKSIS.xml");
    let ean = Ean::parse("5790000141227").expect("valid EAN");
    let owner = unit(&tree, "8321000016007");
    assert_eq!(owner.own.ean, Some(ean), "the IE's EanLocationCodeEntity");
    assert!(!owner.effective.ean.inherited);
    let practice = unit(&tree, "8341000016002");
    assert!(practice.own.ean_inherited_indicator);
    assert_eq!(practice.effective.ean.value, Some(ean));
    assert!(practice.effective.ean.inherited);
    assert_eq!(unit(&tree, "8331000016009").name, "Michael Filtenborg & co", "entities are decoded");
    assert_eq!(practice.effective.phone.value.as_deref(), Some("48300204"));
}

#[test]
fn each_unit_takes_what_it_lacks_from_its_nearest_ancestor() {
    let tree = read("sor/inheritance.xml");
    let sundhed = unit(&tree, "900021000016002");
    let bakkegaarden = unit(&tree, "900031000016000");
    let afsnit_syd = unit(&tree, "900041000016007");
    let koekken = unit(&tree, "900051000016005");
    let hjemmeplejen = unit(&tree, "900061000016008");
    let si_ean = Ean::parse("5790000543212").ok();

    // The SI's EAN sits in OptionalEanLocationCode/EanLocationCodeEntity; that entity's own
    // SorStatus (with a ToDate) is not the SI's.
    assert_eq!(sundhed.own.ean, si_ean);
    assert_eq!(sundhed.to_date, None);
    assert_eq!(sundhed.name, "Sundhed & Ældre");
    assert_eq!(sundhed.sor_id, id("900021000016002"), "a SorIdentifier in ReplacesEntityCollection is not the id");
    assert_eq!(street(sundhed), Some("Køgevej"));
    assert_eq!(sundhed.effective.visiting.value.as_ref().map(|a| a.street.as_str()), Some("Rådhusbuen"));
    assert!(!sundhed.effective.visiting.inherited);

    assert_eq!(bakkegaarden.name, "Plejecenter Bakkegården", "CDATA text");
    assert_eq!(bakkegaarden.effective.ean.value, si_ean, "EntityInheritedIndicator=true takes the parent's EAN");
    assert!(bakkegaarden.effective.ean.inherited);
    let own_address = bakkegaarden.own.postal.as_ref().expect("own postal address");
    assert_eq!(own_address.building.as_deref(), Some("12B"));
    assert_eq!(own_address.floor.as_deref(), Some("1"));
    assert_eq!(own_address.suite.as_deref(), Some("tv"));
    assert_eq!(bakkegaarden.effective.visiting.value.as_ref(), Some(own_address), "visiting defaults to postal");
    assert_eq!(bakkegaarden.effective.phone.value.as_deref(), Some("46315000"));
    assert!(!bakkegaarden.effective.phone.inherited);
    assert_eq!(bakkegaarden.effective.email.value.as_deref(), Some("kommunen@roskilde.dk"));
    assert!(bakkegaarden.effective.email.inherited);

    assert_eq!(street(afsnit_syd), Some("Bakkevej"), "the parent's address, not the owner's");
    assert!(afsnit_syd.effective.postal.inherited);
    assert_eq!(afsnit_syd.effective.phone.value.as_deref(), Some("46315000"));
    assert_eq!(afsnit_syd.to_date, chrono::NaiveDate::from_ymd_opt(2023, 12, 31));

    assert_eq!(koekken.effective.ean.value, Ean::parse("5790000987658").ok(), "its own EAN");
    assert!(!koekken.effective.ean.inherited);
    assert_eq!(koekken.effective.activity.value.as_ref().and_then(|a| a.building.as_deref()), Some("14"));

    assert_eq!(street(hjemmeplejen), Some("Køgevej"), "skips the SI, which has only a visiting address");
    assert_eq!(hjemmeplejen.effective.ean.value, si_ean);
}

#[test]
fn the_national_2_0_0_file_with_prefixed_elements_reads_like_the_1_0_0_export() {
    let national = read("sor/national-2.0.0.xml");
    let export = read("sor/ONE_PRAKSIS.xml");
    assert_eq!(national.units, export.units);
}

#[test]
fn the_csv_export_reads_to_the_same_units_as_the_xml_export() {
    let csv = read("sor/sample.csv");
    let xml = read("sor/ONE_SYGEHUS.xml");
    assert_eq!(csv.units, xml.units);
}

#[test]
fn csv_columns_are_found_by_name_in_any_order_and_case_with_or_without_bom() {
    let text = std::fs::read_to_string(fixture("sor/sample.csv")).expect("fixture");
    let text = text.trim_start_matches('\u{feff}');
    let reversed: String = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut fields: Vec<String> = line.split(';').map(str::to_string).collect();
            fields.reverse();
            if i == 0 {
                fields.iter_mut().for_each(|f| *f = f.to_lowercase());
            }
            fields.join(";") + "\n"
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("SorEntity_daily.csv");
    std::fs::write(&path, reversed).expect("write");
    let csv = read_sor_file(&path).expect("reordered CSV reads");
    assert_eq!(csv.units, read("sor/ONE_SYGEHUS.xml").units);
}

#[test]
fn a_bad_file_names_the_record_and_the_problem() {
    let err = read_sor_file(&fixture("bad/sor-05-bad-verhoeff.xml")).expect_err("bad check digit");
    let record = err.record.as_ref().expect("names the record");
    assert!(record.id.starts_with("347831000016006"), "{}", record.id);
    assert_eq!(record.name.as_deref(), Some("Roskilde Øjenklinik, beh. afsnit"));
    assert!(matches!(err.problem, Problem::BadId { field: "SorIdentifier", .. }));
    let err = read_sor_file(&fixture("bad/sor-07-invalid-utf8.xml")).expect_err("latin-1 byte");
    let bytes = std::fs::read(fixture("bad/sor-07-invalid-utf8.xml")).expect("fixture");
    assert_eq!(err.problem, Problem::InvalidUtf8 { offset: bytes.iter().position(|&b| b == 0xD8).unwrap_or(0) });
}

fn inspect(file: &Path, format: &str) -> std::process::Output {
    sorsync().args(["inspect", "sor"]).arg(file).args(["--format", format]).output().expect("sorsync runs")
}

#[test]
fn inspect_sor_json_gives_effective_values_in_the_agreed_shape() {
    let out = inspect(&fixture("sor/inheritance.xml"), "json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let units = json["units"].as_array().expect("a units array");
    assert_eq!(units.len(), 6);
    for u in units {
        let keys: Vec<&str> = u.as_object().expect("unit object").keys().map(String::as_str).collect();
        let mut expected = vec![
            "sor_id",
            "kind",
            "name",
            "parent_sor_id",
            "unit_type",
            "ean",
            "ean_inherited",
            "postal_address",
            "address_inherited",
            "phone",
            "email",
            "from",
            "to",
        ];
        expected.sort();
        assert_eq!(keys, expected);
    }
    // The text as printed, so the snapshot shows the key order too.
    insta::assert_snapshot!("inspect_sor_inheritance_json", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn inspect_sor_text_is_an_indented_tree_marking_inherited_values() {
    let out = inspect(&fixture("sor/inheritance.xml"), "text");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!("inspect_sor_inheritance_text", String::from_utf8_lossy(&out.stdout));
}

/// Every bad SOR file and the words its error must contain (besides the file name).
const BAD_FILES: &[(&str, &str)] = &[
    ("sor-01-truncated.xml", "347831000016005 at line 76: the file ends in the middle of a record"),
    ("sor-02-wrong-namespace.xml", "SorTree in namespace urn:oio:sundhedsstyrelsen:organisation:9.9.9"),
    ("sor-03-wrong-root.xml", "the root element is SorExport"),
    ("sor-04-duplicate-sor-id.xml", "347821000016008 (\"Roskilde Øjenklinik, beh. afsnit\") appears more than once"),
    ("sor-05-bad-verhoeff.xml", "SOR-ID \"347831000016006\" has a wrong Verhoeff check digit"),
    ("sor-06-bad-ean-check-digit.xml", "EAN \"5790000141228\" has a wrong GS1 check digit"),
    ("sor-07-invalid-utf8.xml", "not valid UTF-8 (first bad byte at offset 2398)"),
    ("sor-08-empty.xml", "the file is empty"),
    ("sor-09-bom-only.xml", "the file is empty"),
    ("sor-10-bad-date.xml", "FromDate: \"2009-13-07\" is not a date"),
    ("sor-11-to-before-from.xml", "ends (2008-01-31) before it starts (2009-10-07)"),
    ("sor-12-missing-entity-name.xml", "347821000016008 at line 53: missing EntityName"),
    ("sor-13-mismatched-end-tag.xml", "malformed XML at byte 2502"),
    (
        "sor-14-missing-sor-id.xml",
        "OrganizationalUnit at line 76 (\"Roskilde Øjenklinik, beh. afsnit\"): missing SorIdentifier",
    ),
    ("sor-15-sor-id-from-spreadsheet.xml", "SOR-ID \"3,47831E+14\" is not digits followed by namespace 1000016"),
    ("sor-16-no-units.xml", "the file holds no units"),
    ("sor-17-misplaced-entity.xml", "OrganizationalUnitEntity is not allowed here (inside InstitutionOwnerEntity)"),
    ("sor-18-bad-inherited-indicator.xml", "EntityInheritedIndicator: unexpected value \"maybe\""),
    ("sor-19-truncated-inside-tag.xml", "the file ends in the middle of a record"),
    ("sor-20-unknown-entity-reference.xml", "unrecognized entity `co` (line 50)"),
    ("sor-21-bad-ean-length.xml", "EAN \"579000014122\" is not 13 digits"),
    ("sor-22-not-xml-root-only-declaration.xml", "the file holds no root element"),
    ("sor-23-nul-in-entity-name.xml", "EntityName contains the control character U+0000 at character 24"),
    ("sor-30-unknown-parent.csv", "has parent 347841000016003 which is not in the file"),
    ("sor-31-cycle-in-parents.csv", "is its own ancestor (cycle in parents)"),
    ("sor-32-missing-column.csv", "missing column EntityName"),
    ("sor-33-wrong-column-count.csv", "malformed CSV at line 3: the row has 37 fields but the header has 36"),
    ("sor-34-bad-sor-type.csv", "at line 4 (\"Roskilde Øjenklinik, beh. afsnit\"): SorType: unexpected value \"XE\""),
    ("sor-35-bad-ean-check-digit.csv", "347811000016004 at line 2 (\"Roskilde Øjenklinik\"): EanLocationCode: EAN"),
    ("sor-36-invalid-utf8.csv", "not valid UTF-8 (first bad byte at offset 1321)"),
    ("sor-37-bad-parent-check-digit.csv", "ParentSorId: SOR-ID \"347821000016007\" has a wrong Verhoeff check digit"),
    ("sor-38-header-only.csv", "the file holds no units"),
    ("sor-39-duplicate-sor-id.csv", "347831000016005 at line 5 (\"Roskilde Øjenklinik, ny afsnit\")"),
    ("sor-40-bad-to-date.csv", "ToDate: \"31-12-2010\" is not a date"),
    ("sor-41-no-parent-columns.csv", "missing column ParentSorId or HealthInstitutionSorId or InstitutionOwnerSorId"),
    ("sor-42-to-before-from.csv", "ends (2009-10-06) before it starts (2009-10-07)"),
    ("sor-43-missing-sor-id.csv", "(no SorId) at line 4 (\"Roskilde Øjenklinik, beh. afsnit\"): missing SorId"),
    (
        "sor-44-oe-directly-under-ie.csv",
        "ParentSorId: unexpected value \"347801000016001, an IE (an OE needs an SI or OE",
    ),
    ("sor-46-name-too-long.csv", "EntityName is 301 characters long; at most 250 are accepted"),
    ("sor-45-oe-without-parent.csv", "347821000016008 at line 3 (\"Roskilde Øjenklinik, afdeling\"): missing parent"),
];

#[test]
fn every_bad_sor_file_fails_with_its_own_error_and_no_panic() {
    let dir = fixture("bad");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/bad exists")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with("sor-"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = BAD_FILES.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every fixtures/bad/sor-* file has an expected error here, and only those");

    let mut failures = Vec::new();
    for (file, expected) in BAD_FILES {
        let out = inspect(&dir.join(file), "json");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ok = !out.status.success()
            && out.stdout.is_empty()
            && !stderr.contains("panicked")
            && stderr.contains(file)
            && stderr.contains(expected);
        if !ok {
            failures.push(format!("{file}: exit {:?}, expected {expected:?}, stderr: {stderr}", out.status.code()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_sample_cut_at_any_byte_is_reported_as_truncated_never_read_as_a_smaller_tree() {
    let bytes = std::fs::read(fixture("sor/ONE_SYGEHUS.xml")).expect("fixture");
    let end_of_root = bytes.windows(10).position(|w| w == b"</SorTree>").expect("root end tag");
    let path = Path::new("cut.xml");
    for len in 0..end_of_root + 9 {
        match sorsync::sources::sor_xml::read_sor_xml(path, &bytes[..len]) {
            Ok(_) => panic!("a file cut after {len} bytes read without error"),
            Err(e) => assert!(
                match &e.problem {
                    Problem::Truncated | Problem::Empty | Problem::InvalidUtf8 { .. } => true,
                    // Cut right after the XML declaration.
                    Problem::Xml { message, .. } => message.contains("no root element"),
                    _ => false,
                },
                "cut after {len} bytes: {e}"
            ),
        }
    }
}

#[test]
fn no_single_byte_change_makes_the_reader_panic() {
    let bytes = std::fs::read(fixture("sor/ONE_PRAKSIS.xml")).expect("fixture");
    let path = Path::new("changed.xml");
    for i in 0..bytes.len() {
        for replacement in [b'<', b'>', b'&', b'/', b'"', b'x', 0xC3] {
            let mut changed = bytes.clone();
            changed[i] = replacement;
            // Any outcome but a panic is fine; most changes are errors, some are harmless.
            let _ = sorsync::sources::sor_xml::read_sor_xml(path, &changed);
        }
    }
}
