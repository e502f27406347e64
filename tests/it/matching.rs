//! Tests: matching FK-ORG units to SOR units and the proposals that follow, on small trees built
//! in memory.

use chrono::{DateTime, NaiveDate};
use sorsync::domain::{Address, FkStatus, FkTree, FkUnit, FkUuid, SorId, SorKind, SorTree, SorUnit};
use sorsync::matching::json::{ProposalDto, ProposalsDto};
use sorsync::matching::policy::SyncPolicy;
use sorsync::matching::{
    close_vanished, propose, LinkBasis, LinkFlag, LinkProposal, MatchOptions, Proposal, Proposals, Scope,
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date")
}

fn fk_id(n: u128) -> FkUuid {
    FkUuid::from_uuid(uuid::Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_0000 + n))
}

fn sor_id(n: u64) -> SorId {
    SorId::from_running_number(1000 + n)
}

/// An FK-ORG tree described as (number, name, parent number).
struct FkBuilder {
    units: Vec<FkUnit>,
}

impl FkBuilder {
    fn new() -> Self {
        FkBuilder { units: Vec::new() }
    }
    fn unit(&mut self, n: u128, name: &str, parent: Option<u128>) -> &mut FkUnit {
        self.units.push(FkUnit::new(fk_id(n), name.to_string(), parent.map(fk_id)));
        self.units.last_mut().expect("just pushed")
    }
    fn build(self) -> FkTree {
        FkTree::new(None, self.units, Vec::new()).expect("a valid FK-ORG tree")
    }
}

struct SorBuilder {
    units: Vec<SorUnit>,
}

impl SorBuilder {
    fn new() -> Self {
        SorBuilder { units: Vec::new() }
    }
    fn unit(&mut self, n: u64, kind: SorKind, name: &str, parent: Option<u64>) -> &mut SorUnit {
        self.units.push(SorUnit::new(sor_id(n), kind, name, parent.map(sor_id)));
        self.units.last_mut().expect("just pushed")
    }
    fn oe(&mut self, n: u64, name: &str, parent: u64) -> &mut SorUnit {
        self.unit(n, SorKind::OrganizationalUnit, name, Some(parent))
    }
    fn build(self) -> SorTree {
        SorTree::new(self.units).expect("a valid SOR tree")
    }
}

fn address(street: &str, number: &str, postcode: &str) -> Address {
    Address {
        street: street.into(),
        building: Some(number.into()),
        postcode: postcode.into(),
        district: "Testby".into(),
        ..Default::default()
    }
}

/// A small municipality: root, health department, two care homes with generic sections,
/// home care, health visitors, dental care, and an IT department.
fn municipality() -> (FkBuilder, SorBuilder) {
    let mut fk = FkBuilder::new();
    fk.unit(1, "Testby Kommune", None);
    fk.unit(2, "Sundhed og Ældre", Some(1));
    fk.unit(3, "Plejecenter Evigglad", Some(2)).postal_address = Some("Glædesvej 4, 4000 Testby".into());
    fk.unit(4, "Plejehjemmet Solgården - Testby Kommune", Some(2)).postal_address =
        Some("Solvej 12, st., 4000 Testby".into());
    // The sections are listed in the opposite order of SOR's, so file order cannot help.
    fk.unit(5, "Afsnit B", Some(4));
    fk.unit(6, "Afsnit A", Some(4));
    fk.unit(7, "Afsnit A", Some(3));
    fk.unit(8, "Afsnit B", Some(3));
    fk.unit(9, "Hjpl. Nord", Some(2)).landline = Some("+45 46 31 10 10".into());
    fk.unit(10, "Sundhedsplejen", Some(2));
    fk.unit(11, "Træning og Rehabilitering", Some(2));
    fk.unit(12, "Kommunal Tandpleje", Some(2));
    fk.unit(13, "IT og Digitalisering", Some(1));
    fk.unit(14, "Servicedesk", Some(13));

    let mut sor = SorBuilder::new();
    sor.unit(1, SorKind::InstitutionOwner, "Testby Kommune", None);
    sor.unit(2, SorKind::HealthInstitution, "Sundhed og Ældre", Some(1));
    sor.oe(3, "Evigglad Plejecenter", 2).own.postal = Some(address("Glædesvej", "4", "4000"));
    sor.oe(30, "Afsnit A", 3);
    sor.oe(31, "Afsnit B", 3);
    sor.oe(4, "Solgaarden Plejecenter", 2).own.postal = Some(address("Solvej", "12", "4000"));
    sor.oe(40, "Afsnit A", 4);
    sor.oe(41, "Afsnit B", 4);
    sor.oe(9, "Hjemmeplejen Nord", 2).own.phone = Some("46311010".into());
    sor.oe(10, "Sundhedspleje", 2);
    sor.oe(11, "Genoptræning", 2);
    sor.oe(12, "Tandklinik", 2);
    (fk, sor)
}

fn run(fk: FkBuilder, sor: SorBuilder) -> Proposals {
    propose(&fk.build(), &sor.build(), &MatchOptions::new(today()))
}

fn link_of(p: &Proposals, fk: u128) -> Option<&LinkProposal> {
    p.links().find(|l| l.fk_uuid == fk_id(fk))
}

fn linked_to(p: &Proposals, fk: u128) -> Option<SorId> {
    link_of(p, fk).map(|l| l.sor_id)
}

fn kinds<'a>(p: &'a Proposals, kind: &str) -> Vec<&'a Proposal> {
    p.proposals.iter().filter(|x| x.kind().as_str() == kind).collect()
}

#[test]
fn synonyms_abbreviations_and_danish_spellings_link_the_right_units() {
    let (fk, sor) = municipality();
    let p = run(fk, sor);
    assert_eq!(linked_to(&p, 3), Some(sor_id(3)), "Plejecenter Evigglad");
    assert_eq!(linked_to(&p, 4), Some(sor_id(4)), "Plejehjemmet Solgården - Testby Kommune");
    assert_eq!(linked_to(&p, 9), Some(sor_id(9)), "Hjpl. Nord");
    assert_eq!(linked_to(&p, 10), Some(sor_id(10)), "Sundhedsplejen");
    assert_eq!(linked_to(&p, 11), Some(sor_id(11)), "Træning og Rehabilitering");
    assert_eq!(linked_to(&p, 12), Some(sor_id(12)), "Kommunal Tandpleje");
    assert_eq!(linked_to(&p, 13), None, "IT og Digitalisering has no SOR counterpart");
}

#[test]
fn generic_section_names_link_to_the_sections_of_the_right_care_home() {
    let (fk, sor) = municipality();
    let p = run(fk, sor);
    assert_eq!(linked_to(&p, 7), Some(sor_id(30)), "Afsnit A under Evigglad");
    assert_eq!(linked_to(&p, 8), Some(sor_id(31)), "Afsnit B under Evigglad");
    assert_eq!(linked_to(&p, 6), Some(sor_id(40)), "Afsnit A under Solgården");
    assert_eq!(linked_to(&p, 5), Some(sor_id(41)), "Afsnit B under Solgården");
    let why = &link_of(&p, 7).expect("linked").explanation;
    let parent = why.iter().find(|c| c.feature == "parents_linked").expect("a parent contribution");
    assert!(parent.weight > 0.0, "the linked parents support the section link: {why:?}");
}

#[test]
fn a_rare_word_outweighs_the_common_unit_type() {
    let mut fk = FkBuilder::new();
    fk.unit(1, "Testby Kommune", None);
    fk.unit(3, "Plejecenter Evigglad", Some(1));
    fk.unit(4, "Plejecenter Lærkehøj", Some(1));
    fk.unit(5, "Plejecenter Bøgely", Some(1));
    let mut sor = SorBuilder::new();
    sor.unit(1, SorKind::InstitutionOwner, "Testby Kommune", None);
    sor.oe(3, "Plejecenter Solgården", 1);
    sor.oe(4, "Plejecenter Lærkehøj", 1);
    sor.oe(5, "Bøgely Plejehjem", 1);
    let p = run(fk, sor);
    assert_eq!(linked_to(&p, 3), None, "Evigglad is not Solgården");
    assert_eq!(linked_to(&p, 4), Some(sor_id(4)));
    assert_eq!(linked_to(&p, 5), Some(sor_id(5)));
}

#[test]
fn a_sor_id_on_the_fk_unit_wins_over_a_better_name() {
    let (mut fk, sor) = municipality();
    fk.unit(20, "Plejecenter Evigglad Annex", Some(2)).sor_id = Some(sor_id(3));
    let p = run(fk, sor);
    let l = link_of(&p, 20).expect("an identifier link");
    assert_eq!(l.sor_id, sor_id(3));
    assert_eq!(l.basis, LinkBasis::SorIdOnUnit);
    assert_ne!(linked_to(&p, 3), Some(sor_id(3)), "the SOR unit is taken by the identifier link");
    let fuzzy = link_of(&p, 9).expect("a matched link");
    assert!(l.confidence > fuzzy.confidence, "{} vs {}", l.confidence, fuzzy.confidence);
}

#[test]
fn a_sor_id_that_is_missing_or_closed_in_sor_is_flagged() {
    let (mut fk, mut sor) = municipality();
    fk.unit(20, "Hjemmesygeplejen", Some(2)).sor_id = Some(sor_id(77));
    fk.unit(21, "Aflastning", Some(2)).sor_id = Some(sor_id(21));
    sor.oe(21, "Aflastningen", 2).to_date = NaiveDate::from_ymd_opt(2025, 1, 1);
    let p = run(fk, sor);
    assert_eq!(link_of(&p, 20).expect("linked").flags, vec![LinkFlag::SorUnitNotFound]);
    assert_eq!(link_of(&p, 21).expect("linked").flags, vec![LinkFlag::SorUnitClosed]);
}

#[test]
fn a_shared_ean_links_units_whose_names_differ() {
    let (mut fk, mut sor) = municipality();
    let ean = sorsync::domain::Ean::from_body(579000012345);
    fk.unit(20, "Akutteamet Vest", Some(2)).ean = Some(ean);
    sor.oe(20, "Sygeplejens udekørende nattevagt", 2).own.ean = Some(ean);
    let p = run(fk, sor);
    let l = link_of(&p, 20).expect("linked by EAN");
    assert_eq!(l.sor_id, sor_id(20));
    assert!(l.confidence > 0.9, "{}", l.confidence);
}

#[test]
fn each_unit_is_in_at_most_one_link() {
    let (mut fk, sor) = municipality();
    fk.unit(20, "Sundhedspleje", Some(2));
    fk.unit(21, "Sundhedsplejen - Testby Kommune", Some(2));
    let p = run(fk, sor);
    let mut fks: Vec<FkUuid> = p.links().map(|l| l.fk_uuid).collect();
    let mut sors: Vec<SorId> = p.links().map(|l| l.sor_id).collect();
    let n = fks.len();
    fks.sort();
    fks.dedup();
    sors.sort();
    sors.dedup();
    assert_eq!((fks.len(), sors.len()), (n, n));
    let health_visitors: Vec<&LinkProposal> = p.links().filter(|l| l.sor_id == sor_id(10)).collect();
    assert!(health_visitors.len() <= 1);
    for l in health_visitors {
        assert!(l.confidence < 0.9, "three look-alikes cannot be near-certain: {}", l.confidence);
    }
}

#[test]
fn a_unit_closed_in_fk_org_is_linked_to_its_open_sor_unit_so_sor_follows_but_not_the_reverse() {
    let (mut fk, mut sor) = municipality();
    fk.unit(20, "Plejecenter Lærkehøj", Some(2)).status = FkStatus::Inaktiv;
    sor.oe(20, "Plejecenter Lærkehøj", 2);
    fk.unit(21, "Daghjemmet Rosen", Some(2)).valid_to = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+01:00").ok();
    sor.oe(21, "Daghjemmet Rosen", 2);
    fk.unit(22, "Bostedet Kastanjen", Some(2));
    sor.oe(22, "Bostedet Kastanjen", 2).to_date = NaiveDate::from_ymd_opt(2024, 6, 30);
    let p = run(fk, sor);
    // Closed in FK-ORG, open in SOR: the same unit, and SOR must close it too.
    assert_eq!(linked_to(&p, 20), Some(sor_id(20)));
    assert_eq!(linked_to(&p, 21), Some(sor_id(21)));
    let closes: Vec<SorId> = kinds(&p, "close")
        .into_iter()
        .filter_map(|x| match x {
            Proposal::Close(c) => Some(c.sor_id),
            _ => None,
        })
        .collect();
    assert!(closes.contains(&sor_id(20)) && closes.contains(&sor_id(21)), "{closes:?}");
    // Open in FK-ORG, closed in SOR: an old unit, not this one.
    assert_eq!(linked_to(&p, 22), None);
}

#[test]
fn an_abbreviated_street_is_the_same_address_and_a_type_synonym_the_same_kind_of_unit() {
    let (mut fk, mut sor) = municipality();
    fk.unit(20, "Plejecenter Kastanjelyst", Some(2)).postal_address = Some("Stationsv. 7, 4000 Testby".into());
    sor.oe(20, "Plejehjemmet Kastanjelyst", 2).own.postal = Some(address("Stationsvej", "7", "4000"));
    fk.unit(21, "Bostedet Egely", Some(2)).postal_address = Some("Niels Bohrs Allé 3, 4000 Testby".into());
    sor.oe(21, "Bostedet Egely", 2).own.postal = Some(address("Niels Bohrs Alle", "3", "4000"));
    let p = run(fk, sor);
    let kastanjelyst = link_of(&p, 20).expect("linked");
    let why: Vec<(&str, &str)> =
        kastanjelyst.explanation.iter().map(|c| (c.feature.as_str(), c.value.as_str())).collect();
    assert!(why.iter().any(|w| w.0 == "same_address"), "{why:?}");
    assert!(why.contains(&("same_kind_of_unit", "Plejecenter and Plejehjemmet")), "{why:?}");
    let egely = link_of(&p, 21).expect("linked");
    assert!(egely.explanation.iter().any(|c| c.feature == "same_address"), "{:?}", egely.explanation);
}

#[test]
fn teams_of_a_district_sor_leaves_out_link_to_the_sor_teams_named_with_the_district() {
    let (mut fk, mut sor) = municipality();
    fk.unit(20, "Hjemmeplejen", Some(2));
    sor.oe(20, "Hjemmeplejen", 2);
    fk.unit(21, "Hjemmepleje Vest", Some(20));
    fk.unit(22, "Team 2", Some(21));
    fk.unit(23, "Hjemmepleje Nord", Some(20));
    fk.unit(24, "Team 2", Some(23));
    sor.oe(22, "Vest Team 2", 20);
    sor.oe(24, "Nord, team 2", 20);
    let p = run(fk, sor);
    assert_eq!(linked_to(&p, 22), Some(sor_id(22)), "Team 2 under Hjemmepleje Vest");
    assert_eq!(linked_to(&p, 24), Some(sor_id(24)), "Team 2 under Hjemmepleje Nord");
    assert_eq!(linked_to(&p, 21), None, "the district SOR leaves out is not one of its teams");
    let why = &link_of(&p, 22).expect("linked").explanation;
    assert!(why.iter().any(|c| c.feature == "ancestors_linked"), "{why:?}");
}

#[test]
fn links_are_explained_in_plain_terms_that_add_up_to_the_confidence() {
    let (fk, sor) = municipality();
    let p = run(fk, sor);
    let l = link_of(&p, 3).expect("linked");
    let features: Vec<&str> = l.explanation.iter().map(|c| c.feature.as_str()).collect();
    for f in ["same_name", "same_address"] {
        assert!(features.contains(&f), "{f} missing from {features:?}");
    }
    assert!(!features.iter().any(|f| f.contains("prior")), "{features:?}");
    let total: f64 = l.explanation.iter().map(|c| c.weight).sum();
    assert!((total - l.confidence).abs() < 0.01, "{total} vs {}: {:?}", l.confidence, l.explanation);
    let address = l.explanation.iter().find(|c| c.feature == "same_address").expect("address");
    assert!(address.weight > 0.0, "same street, number and postcode supports the link: {address:?}");
}

#[test]
fn new_health_units_under_linked_parents_are_proposed_for_creation() {
    let (mut fk, sor) = municipality();
    fk.unit(20, "Afsnit C", Some(3));
    fk.unit(21, "Demensteam", Some(2));
    fk.unit(22, "Kantinen", Some(2));
    let p = run(fk, sor);
    let created: Vec<(FkUuid, SorId)> = kinds(&p, "create")
        .into_iter()
        .filter_map(|x| match x {
            Proposal::Create(c) => Some((c.fk_uuid, c.parent_sor_id)),
            _ => None,
        })
        .collect();
    assert!(created.contains(&(fk_id(20), sor_id(3))), "Afsnit C under Evigglad: {created:?}");
    assert!(created.contains(&(fk_id(21), sor_id(2))), "Demensteam under Sundhed og Ældre: {created:?}");
    assert!(!created.iter().any(|c| c.0 == fk_id(22)), "a canteen is not a health unit");
    assert!(!created.iter().any(|c| c.0 == fk_id(13) || c.0 == fk_id(14)), "IT is not a health unit");
}

#[test]
fn create_respects_the_configured_scope() {
    let (mut fk, sor) = municipality();
    fk.unit(20, "Afsnit C", Some(3));
    let opts = MatchOptions { scope: Scope { include: vec![], exclude: vec![fk_id(3)] }, ..MatchOptions::new(today()) };
    let p = propose(&fk.build(), &sor.build(), &opts);
    assert!(kinds(&p, "create").is_empty());
    assert_eq!(linked_to(&p, 7), None, "units outside the scope are not matched");
}

#[test]
fn differences_on_linked_pairs_become_updates_from_fk_org() {
    let (mut fk, sor) = municipality();
    fk.units[8].landline = Some("46 31 20 20".into());
    let p = run(fk, sor);
    let update = kinds(&p, "update")
        .into_iter()
        .find_map(|x| match x {
            Proposal::Update(u) if u.sor_id == sor_id(9) => Some(u.clone()),
            _ => None,
        })
        .expect("an update for Hjemmeplejen Nord");
    let phone = update.changes.iter().find(|c| c.field == "phone").expect("a phone change");
    assert_eq!(phone.from.as_deref(), Some("46311010"));
    assert_eq!(phone.to.as_deref(), Some("46312020"));
    // "Hjpl. Nord" is "Hjemmeplejen Nord" abbreviated: SOR keeps its written-out name.
    assert!(!update.changes.iter().any(|c| c.field == "name"), "{update:?}");
}

#[test]
fn a_closed_fk_unit_closes_its_sor_unit() {
    let (mut fk, sor) = municipality();
    let u = &mut fk.units[9];
    u.sor_id = Some(sor_id(10));
    u.status = FkStatus::Inaktiv;
    let p = run(fk, sor);
    let closes: Vec<SorId> = kinds(&p, "close")
        .into_iter()
        .filter_map(|x| match x {
            Proposal::Close(c) => Some(c.sor_id),
            _ => None,
        })
        .collect();
    assert_eq!(closes, vec![sor_id(10)]);
}

#[test]
fn a_unit_whose_linked_parents_disagree_is_moved() {
    let (mut fk, sor) = municipality();
    // FK-ORG moved the dental care under Evigglad (odd, but it is FK-ORG's call).
    fk.units[11].parent = Some(fk_id(3));
    fk.units[11].sor_id = Some(sor_id(12));
    let p = run(fk, sor);
    let moved = kinds(&p, "move")
        .into_iter()
        .find_map(|x| match x {
            Proposal::Move(m) => Some(m.clone()),
            _ => None,
        })
        .expect("a move");
    assert_eq!(
        (moved.sor_id, moved.new_parent_sor_id, moved.old_parent_sor_id),
        (sor_id(12), sor_id(3), Some(sor_id(2)))
    );
}

#[test]
fn the_write_back_follows_from_the_link_and_is_no_proposal_of_its_own() {
    let (mut fk, sor) = municipality();
    fk.units[2].sor_id = Some(sor_id(3));
    let p = run(fk, sor);
    assert!(kinds(&p, "write_back").is_empty(), "a link and a separate write-back would send the SOR-ID twice");
    let linked: Vec<FkUuid> = p.links().map(|l| l.fk_uuid).collect();
    assert!(linked.contains(&fk_id(4)), "Solgården is matched (its link writes its SOR-ID back when applied)");
}

#[test]
fn the_json_contract_names_kinds_and_fields_as_agreed() {
    let (mut fk, sor) = municipality();
    fk.unit(20, "Afsnit C", Some(3));
    let p = run(fk, sor);
    let json = serde_json::to_value(ProposalsDto::new(&p, &SyncPolicy::default())).expect("serialises");
    let list = json["proposals"].as_array().expect("a list");
    let link = list.iter().find(|x| x["kind"] == "link").expect("a link");
    for field in ["fk_uuid", "sor_id", "confidence", "explanation", "alternatives"] {
        assert!(link.get(field).is_some(), "link lacks {field}: {link}");
    }
    assert!(link["explanation"][0].get("feature").is_some() && link["explanation"][0].get("weight").is_some());
    let create = list.iter().find(|x| x["kind"] == "create").expect("a create");
    assert!(create.get("parent_sor_id").is_some());
    // Every proposal names its case (the FK-ORG unit) and whether the default policy decides it.
    for x in list {
        assert_eq!(x["case"], x["fk_uuid"], "{x}");
        assert!(x["auto"].is_boolean(), "{x}");
    }
    assert_eq!(create["auto"], false, "new units are decided by a person by default");
    // One case per FK-ORG unit (the whole tree is in scope) and one per SOR-only unit.
    let cases = json["cases"].as_array().expect("cases");
    let fk_cases = cases.iter().filter(|c| c["side"] == "fkorg").count();
    assert_eq!(fk_cases, 15, "14 units and the new Afsnit C: {cases:?}");
    assert!(cases.iter().any(|c| c["decision"] == "new" && c["case"] == create["fk_uuid"]));
    assert!(
        cases.iter().all(|c| c["decision"] != "sor_only_keep" || c["auto"] == true),
        "keeping a SOR-only unit needs no person"
    );
    let back: ProposalsDto = serde_json::from_value(json.clone()).expect("reads back");
    assert!(matches!(back.proposals[0].proposal, ProposalDto::Link { .. }));
}

/// A SOR2 CSV export matching the Korsbaek FK-ORG fixture: the two units that carry a SOR-ID,
/// the municipality, and "Plejecenter B" (no SOR-ID in FK-ORG) to be found by matching.
fn korsbaek_sor_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let id = |n: u64| SorId::from_running_number(n).to_string();
    let rows = [
        format!("{};IE;Korsbaek Kommune;;;;2019-01-01;;;;;", id(480000)),
        format!("{};SI;Ældreforvaltning;{};;;2019-01-01;;Sundhedsvej;2;4000;Korsbaek", id(480001), id(480000)),
        format!("{};OE;Plejecenter A;{};;;2019-01-01;;Ahornvej;5;4000;Korsbaek", id(480002), id(480001)),
        format!("{};OE;Plejecentret B;{};21222324;;2019-01-01;;Bøgevej;7;4000;Korsbaek", id(480003), id(480001)),
    ];
    let header = "SorId;SorType;EntityName;ParentSorId;VirtualAddressTelephoneNumber;VirtualAddressEmailAddress;FromDate;ToDate;PostalAddressStreetName;PostalAddressStreetBuildingId;PostalAddressPostCodeId;PostalAddressDistrictName";
    let path = dir.join("sor.csv");
    std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).expect("write sor.csv");
    path
}

#[test]
fn propose_on_files_prints_the_json_contract_and_asks_for_review() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sor = korsbaek_sor_csv(dir.path());
    let out = crate::support::sorsync()
        .args(["propose", "--format", "json", "--today", "2026-11-22", "--fkorg"])
        .arg(crate::support::fixture("fkorg/korsbaek.json"))
        .arg("--sor")
        .arg(&sor)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let links: Vec<&serde_json::Value> =
        json["proposals"].as_array().expect("list").iter().filter(|p| p["kind"] == "link").collect();
    let b =
        links.iter().find(|l| l["fk_uuid"] == "a1000000-0000-4000-8000-000000000004").expect("Plejecenter B is linked");
    assert_eq!(b["sor_id"], SorId::from_running_number(480003).to_string());
    assert_eq!(b["basis"], "matched");
    let by_id = links.iter().filter(|l| l["basis"] == "sor_id_on_unit").count();
    assert_eq!(by_id, 2, "the two units with a SOR-ID in FK-ORG are links too");
}

#[test]
fn eval_reports_f1_and_the_baseline_against_a_truth_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sor = korsbaek_sor_csv(dir.path());
    let truth = dir.path().join("truth.csv");
    let row = |f: &str, n: u64| format!("{f};{}", SorId::from_running_number(n));
    let rows = [
        row("a1000000-0000-4000-8000-000000000001", 480000),
        row("a1000000-0000-4000-8000-000000000002", 480001),
        row("a1000000-0000-4000-8000-000000000003", 480002),
        row("a1000000-0000-4000-8000-000000000004", 480003),
    ];
    std::fs::write(&truth, format!("fk_uuid;sor_id\n{}\n", rows.join("\n"))).expect("write truth");
    let out = crate::support::sorsync()
        .args(["eval", "--today", "2026-11-22", "--fkorg"])
        .arg(crate::support::fixture("fkorg/korsbaek.json"))
        .arg("--sor")
        .arg(&sor)
        .arg("--truth")
        .arg(&truth)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("link F1 1.0000"), "{text}");
    assert!(text.contains("name-only baseline F1"), "{text}");
}

#[test]
fn an_approved_link_whose_fkorg_unit_vanished_proposes_closing_its_sor_unit() {
    let (fk, sor) = municipality();
    let (fk, sor) = (fk.build(), sor.build());
    // Approved earlier: Evigglad (FK 3 <-> SOR 3) and a unit that is no longer in FK-ORG (FK 99 <-> SOR 30).
    let approved = [(fk_id(3), sor_id(3)), (fk_id(99), sor_id(30))];
    let closes = close_vanished(&fk, &sor, &approved, today());
    assert_eq!(closes.len(), 1, "{closes:?}");
    match &closes[0] {
        Proposal::Close(c) => assert_eq!((c.fk_uuid, c.sor_id, c.name.as_str()), (fk_id(99), sor_id(30), "Afsnit A")),
        other => panic!("expected a close, got {other:?}"),
    }
}

#[test]
fn a_new_unit_is_named_the_way_the_municipality_names_its_siblings_in_sor() {
    let (mut fk, mut sor) = municipality();
    fk.unit(20, "Plejecenter Kastanjelyst", Some(2)).postal_address = Some("Kastanjevej 2, 4000 Testby".into());
    fk.unit(21, "Afsnit A", Some(20));
    fk.unit(22, "Afsnit B", Some(20));
    fk.unit(23, "Afsnit C", Some(20));
    sor.oe(20, "Kastanjelyst Plejecenter", 2).own.postal = Some(address("Kastanjevej", "2", "4000"));
    sor.oe(21, "Kastanjelyst, Afsnit A", 20);
    sor.oe(22, "Kastanjelyst, Afsnit B", 20);
    let p = run(fk, sor);
    assert_eq!(linked_to(&p, 21), Some(sor_id(21)));
    let create = kinds(&p, "create")
        .into_iter()
        .find_map(|x| match x {
            Proposal::Create(c) if c.fk_uuid == fk_id(23) => Some(c.clone()),
            _ => None,
        })
        .expect("Afsnit C is new");
    assert_eq!(create.name, "Kastanjelyst, Afsnit C");
    assert_eq!(create.parent_sor_id, sor_id(20));
    // The siblings' SOR names carry the context: no rename to the bare FK-ORG name.
    assert!(kinds(&p, "update").iter().all(|x| !matches!(x, Proposal::Update(u) if u.sor_id == sor_id(21))));
}
