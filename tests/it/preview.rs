//! Tests: the consequence preview (what FK-ORG edits do in SOR) on KOMBIT's Korsbæk example,
//! built in memory, and the `sorsync preview` command on files.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use sorsync::domain::{Address, Ean, FkTree, FkUnit, FkUuid, SorId, SorKind, SorTree, SorUnit};
use sorsync::matching::{CloseProposal, CreateProposal, Proposal};
use sorsync::preview::json::PreviewDto;
use sorsync::preview::render_svg::{render_html, render_svg};
use sorsync::preview::render_text::render_text;
use sorsync::preview::{preview, preview_proposals, Action, Edit, Preview, PreviewError, WarningKind};

use crate::support::{fixture, sorsync};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date")
}

fn fk_id(n: u128) -> FkUuid {
    FkUuid::from_uuid(uuid::Uuid::from_u128(0xa100_0000_0000_4000_8000_0000_0000_0000 + n))
}

fn sor_id(n: u64) -> SorId {
    SorId::from_running_number(480_000 + n)
}

fn fk_unit(n: u128, name: &str, parent: Option<u128>) -> FkUnit {
    FkUnit::new(fk_id(n), name.to_string(), parent.map(fk_id))
}

fn address(street: &str) -> Address {
    Address {
        street: street.into(),
        building: Some("1".into()),
        postcode: "4000".into(),
        district: "Korsbæk".into(),
        ..Default::default()
    }
}

/// KOMBIT's Korsbæk example, both registers, with the links between them.
/// FK-ORG has moved "Demensafsnittet" under Plejecenter B already; SOR still has it under
/// Plejecenter A. "Borgerservice" has no SOR counterpart; SOR's "Nattevagten" has no FK-ORG one.
struct Korsbaek {
    fk: FkTree,
    sor: SorTree,
    links: Vec<(FkUuid, SorId)>,
}

fn korsbaek() -> Korsbaek {
    let fk = vec![
        fk_unit(1, "Korsbæk Kommune", None),
        fk_unit(2, "Ældreforvaltning", Some(1)),
        fk_unit(3, "Plejecenter A", Some(2)),
        fk_unit(31, "Afsnit 1", Some(3)),
        fk_unit(4, "Plejecenter B", Some(2)),
        fk_unit(33, "Demensafsnittet", Some(4)),
        fk_unit(6, "Borgerservice", Some(1)),
        fk_unit(7, "Sundhedsforvaltning", Some(1)),
        fk_unit(8, "Sundhedsplejen", Some(7)),
        fk_unit(9, "Tandplejen", Some(7)),
    ];
    let mut ie = SorUnit::new(sor_id(1), SorKind::InstitutionOwner, "Korsbæk Kommune", None);
    ie.own.postal = Some(address("Rådhuspladsen"));
    let mut aeldre = SorUnit::new(sor_id(2), SorKind::HealthInstitution, "Ældreforvaltning", Some(sor_id(1)));
    aeldre.own.ean = Some(Ean::from_body(579_800_100_002));
    aeldre.own.postal = Some(address("Sundhedsvej"));
    let oe = |n: u64, name: &str, parent: u64| {
        SorUnit::new(sor_id(n), SorKind::OrganizationalUnit, name, Some(sor_id(parent)))
    };
    let mut demens = oe(33, "Demensafsnittet", 3);
    demens.own.ean = Some(Ean::from_body(579_800_100_033));
    let mut b = oe(4, "Plejecenter B", 2);
    b.own.phone = Some("21222324".into());
    let mut sundhed = SorUnit::new(sor_id(7), SorKind::HealthInstitution, "Sundhedsforvaltning", Some(sor_id(1)));
    sundhed.own.ean = Some(Ean::from_body(579_800_100_007));
    sundhed.own.postal = Some(address("Lægevej"));
    let sor = vec![
        ie,
        aeldre,
        oe(3, "Plejecenter A", 2),
        oe(31, "Afsnit 1", 3),
        oe(32, "Nattevagten", 3),
        demens,
        b,
        oe(41, "Afsnit B1", 4),
        sundhed,
        oe(8, "Sundhedsplejen", 7),
        oe(9, "Tandplejen", 7),
    ];
    let links = [(1, 1), (2, 2), (3, 3), (31, 31), (33, 33), (4, 4), (7, 7), (8, 8), (9, 9)]
        .iter()
        .map(|&(f, s)| (fk_id(f), sor_id(s)))
        .collect();
    Korsbaek {
        fk: FkTree::new(None, fk, Vec::new()).expect("a valid FK-ORG tree"),
        sor: SorTree::new(sor).expect("a valid SOR tree"),
        links,
    }
}

fn run(edits: &[Edit]) -> Preview {
    let k = korsbaek();
    preview(&k.fk, &k.sor, &k.links, edits, today()).expect("the edits are valid")
}

/// Data-driven check: the text rendering of the preview, as a snapshot.
fn check(name: &str, edits: &[Edit]) -> Preview {
    let k = korsbaek();
    let p = preview(&k.fk, &k.sor, &k.links, edits, today()).expect("the edits are valid");
    insta::assert_snapshot!(name, render_text(&p, &k.sor));
    p
}

fn create(name: &str, under: u128) -> Edit {
    Edit::Create { name: name.into(), under: fk_id(under), address: None, phone: None }
}

fn closed_ids(p: &Preview) -> Vec<SorId> {
    p.changes.iter().filter(|c| c.action == Action::Close).filter_map(|c| c.sor_id).collect()
}

fn kinds(p: &Preview) -> Vec<WarningKind> {
    p.warnings.iter().map(|w| w.kind).collect()
}

#[test]
fn creating_evigglad_under_aeldreforvaltning_creates_it_under_its_sor_counterpart() {
    let p = check("create_evigglad", &[create("Plejecenter Evigglad", 2)]);
    assert_eq!((p.summary.create, p.summary.close, p.summary.moves), (1, 0, 0));
    let c = &p.changes[0];
    assert_eq!(c.action, Action::Create);
    assert_eq!(c.parent_sor_id, Some(sor_id(2)));
    assert!(c.because.contains("health institution \"Ældreforvaltning\""), "{}", c.because);
    assert!(c.because.contains("owner \"Korsbæk Kommune\""), "{}", c.because);
    assert!(c.because.contains("inherits EAN"), "{}", c.because);
}

#[test]
fn closing_evigglad_again_closes_what_creating_it_made() {
    // Both ways: a unit already in both registers is closed again.
    let k = korsbaek();
    let mut fk_units = k.fk.units.clone();
    fk_units.push(fk_unit(5, "Plejecenter Evigglad", Some(2)));
    let mut sor_units = k.sor.units.clone();
    sor_units.push(SorUnit::new(sor_id(5), SorKind::OrganizationalUnit, "Plejecenter Evigglad", Some(sor_id(2))));
    let fk = FkTree::new(None, fk_units, Vec::new()).expect("valid");
    let sor = SorTree::new(sor_units).expect("valid");
    let mut links = k.links.clone();
    links.push((fk_id(5), sor_id(5)));
    let p = preview(&fk, &sor, &links, &[Edit::Close { unit: fk_id(5), date: today() }], today()).expect("valid");
    insta::assert_snapshot!("close_evigglad", render_text(&p, &sor));
    assert_eq!(closed_ids(&p), vec![sor_id(5)]);
}

#[test]
fn closing_a_unit_closes_its_sor_descendants_and_warns_about_an_own_ean() {
    let p = check("close_plejecenter_a", &[Edit::Close { unit: fk_id(3), date: today() }]);
    assert_eq!(closed_ids(&p), vec![sor_id(3), sor_id(31), sor_id(32), sor_id(33)]);
    let own_ean: Vec<_> = p.warnings.iter().filter(|w| w.kind == WarningKind::OwnEan).collect();
    assert_eq!(own_ean.len(), 1);
    assert_eq!(own_ean[0].sor_id, Some(sor_id(33)));
    // SOR's "Nattevagten" has no FK-ORG counterpart; "Demensafsnittet" lives on in FK-ORG under B.
    assert!(p.warnings.iter().any(|w| w.kind == WarningKind::UnlinkedClosesAlong && w.sor_id == Some(sor_id(32))));
    assert!(p.warnings.iter().any(|w| w.kind == WarningKind::CounterpartStaysOpen && w.sor_id == Some(sor_id(33))));
}

#[test]
fn closing_a_unit_closes_its_fk_org_descendants_counterparts_too() {
    let p = run(&[Edit::Close { unit: fk_id(7), date: today() }]);
    assert_eq!(closed_ids(&p), vec![sor_id(7), sor_id(8), sor_id(9)]);
    let because: Vec<&str> = p.changes.iter().map(|c| c.because.as_str()).collect();
    assert!(because[0].contains("closes on 2026-11-22"), "{because:?}");
}

#[test]
fn moving_across_health_institutions_is_one_move_with_a_warning() {
    let p = check("move_across_institutions", &[Edit::Move { unit: fk_id(4), under: fk_id(7) }]);
    assert_eq!((p.summary.create, p.summary.close, p.summary.moves), (0, 0, 1));
    let m = &p.changes[0];
    assert_eq!((m.sor_id, m.parent_sor_id, m.new_parent_sor_id), (Some(sor_id(4)), Some(sor_id(2)), Some(sor_id(7))));
    assert!(kinds(&p).contains(&WarningKind::AcrossInstitutions));
    // B and its section inherit EAN and address from the institution: both change.
    let inherited: Vec<&str> =
        p.warnings.iter().filter(|w| w.kind == WarningKind::InheritedValues).map(|w| w.message.as_str()).collect();
    assert_eq!(inherited.len(), 2, "{inherited:?}");
    assert!(inherited.iter().all(|m| m.contains("\"Afsnit B1\"")), "{inherited:?}");
}

#[test]
fn moving_within_a_health_institution_raises_no_institution_warning() {
    let p = run(&[Edit::Move { unit: fk_id(31), under: fk_id(4) }]);
    assert_eq!(p.summary.moves, 1);
    assert!(!kinds(&p).contains(&WarningKind::AcrossInstitutions), "{:?}", p.warnings);
}

#[test]
fn moving_a_unit_under_an_unlinked_parent_says_what_is_needed() {
    let p = run(&[Edit::Move { unit: fk_id(4), under: fk_id(6) }]);
    assert_eq!(p.summary.moves, 0);
    let w = p.warnings.iter().find(|w| w.kind == WarningKind::ParentNotLinked).expect("a warning");
    assert!(w.message.contains("link \"Borgerservice\""), "{}", w.message);
}

#[test]
fn renaming_a_linked_unit_is_an_update_of_the_name() {
    let p = check("rename", &[Edit::Rename { unit: fk_id(3), name: "Plejecenter Ahorn".into() }]);
    assert_eq!(p.summary.update, 1);
    assert_eq!(p.changes[0].name, "Plejecenter Ahorn");
    assert_eq!(p.changes[0].sor_id, Some(sor_id(3)));
}

#[test]
fn creating_under_an_unlinked_parent_says_to_link_it_first() {
    let p = check("create_under_unlinked", &[create("Borgerservice Syd", 6)]);
    assert_eq!(p.changes[0].parent_sor_id, None);
    let w = p.warnings.iter().find(|w| w.kind == WarningKind::ParentNotLinked).expect("a warning");
    assert!(w.message.contains("link \"Borgerservice\""), "{}", w.message);
    assert!(w.message.contains("nearest linked ancestor is \"Korsbæk Kommune\""), "{}", w.message);
}

#[test]
fn a_link_to_a_missing_sor_unit_is_reported_as_broken() {
    let k = korsbaek();
    let mut links = k.links.clone();
    links.push((fk_id(6), sor_id(99)));
    let p = preview(&k.fk, &k.sor, &links, &[create("Borgerservice Syd", 6)], today()).expect("valid");
    assert!(p.warnings.iter().any(|w| w.kind == WarningKind::BrokenLink && w.sor_id == Some(sor_id(99))));
}

#[test]
fn an_unknown_fk_uuid_is_a_clear_error() {
    let k = korsbaek();
    let err = preview(&k.fk, &k.sor, &k.links, &[create("X", 2), create("Y", 999)], today()).unwrap_err();
    assert!(matches!(err, PreviewError::UnknownFkUnit { number: 2, .. }));
    assert!(err.to_string().contains(&fk_id(999).to_string()), "{err}");
}

#[test]
fn moving_a_unit_under_its_own_descendant_is_refused() {
    let k = korsbaek();
    let err =
        preview(&k.fk, &k.sor, &k.links, &[Edit::Move { unit: fk_id(3), under: fk_id(31) }], today()).unwrap_err();
    assert!(matches!(err, PreviewError::MoveUnderItself { .. }), "{err}");
}

#[test]
fn pending_proposals_preview_like_edits() {
    let k = korsbaek();
    let proposals = vec![
        Proposal::Create(CreateProposal {
            fk_uuid: fk_id(5),
            parent_sor_id: sor_id(2),
            name: "Plejecenter Evigglad".into(),
            parent_fk_uuid: fk_id(2),
        }),
        Proposal::Close(CloseProposal { sor_id: sor_id(3), fk_uuid: fk_id(3), name: "Plejecenter A".into() }),
    ];
    let p = preview_proposals(&k.fk, &k.sor, &k.links, &proposals, today()).expect("valid");
    assert_eq!((p.summary.create, p.summary.close), (1, 4));
    assert_eq!(p.changes[0].fk_uuid, Some(fk_id(5)));
}

#[test]
fn the_json_has_the_contract_keys() {
    let p = run(&[create("Plejecenter Evigglad", 2), Edit::Close { unit: fk_id(3), date: today() }]);
    let text = serde_json::to_string_pretty(&PreviewDto::from(&p)).expect("serialises");
    insta::assert_snapshot!("json_contract", text);
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let change = &json["changes"][0];
    let mut keys: Vec<&str> = change.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["action", "because", "fk_uuid", "name", "new_parent_sor_id", "parent_sor_id", "sor_id"]);
    assert!(change["sor_id"].is_null());
    assert_eq!(json["summary"]["move"], 0);
    assert_eq!(json["changes"][1]["sor_id"], sor_id(3).to_string());
}

#[test]
fn the_drawing_colours_changes_and_escapes_names() {
    let k = korsbaek();
    let edits = [
        create("<script>alert(1)</script>", 2),
        Edit::Close { unit: fk_id(3), date: today() },
        Edit::Move { unit: fk_id(4), under: fk_id(7) },
        Edit::Rename { unit: fk_id(9), name: "Tand & Mund".into() },
    ];
    let p = preview(&k.fk, &k.sor, &k.links, &edits, today()).expect("valid");
    let svg = render_svg(&p, &k.fk, &k.sor, &k.links);
    for colour in ["#2e7d32", "#c62828", "#ff8f00", "#1565c0"] {
        assert!(svg.contains(colour), "missing {colour}");
    }
    assert!(!svg.contains("<script>"));
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(svg.contains("Tand &amp; Mund"));
    assert!(svg.contains("<line"), "link lines between the trees");
    let html = render_html(&p, &k.fk, &k.sor, &k.links);
    assert!(!html.contains("<script>"));
    assert!(html.contains("own_ean") && html.contains("<svg"));
    assert!(!html.contains("<link") && !html.contains("src="), "no external assets");
}

#[test]
fn a_large_tree_collapses_unaffected_branches() {
    // 1 root, 20 institutions of 10 units each: closing one unit shows a handful of rows.
    let mut fk = vec![fk_unit(0, "Kommune", None)];
    let mut sor = vec![SorUnit::new(sor_id(0), SorKind::InstitutionOwner, "Kommune", None)];
    let mut links = vec![(fk_id(0), sor_id(0))];
    for i in 1..=20u64 {
        let si = i * 100;
        fk.push(fk_unit(si as u128, &format!("Institution {i}"), Some(0)));
        sor.push(SorUnit::new(sor_id(si), SorKind::HealthInstitution, format!("Institution {i}"), Some(sor_id(0))));
        links.push((fk_id(si as u128), sor_id(si)));
        for j in 1..=10u64 {
            let n = si + j;
            fk.push(fk_unit(n as u128, &format!("Enhed {i}.{j}"), Some(si as u128)));
            sor.push(SorUnit::new(sor_id(n), SorKind::OrganizationalUnit, format!("Enhed {i}.{j}"), Some(sor_id(si))));
            links.push((fk_id(n as u128), sor_id(n)));
        }
    }
    let fk = FkTree::new(None, fk, Vec::new()).expect("valid");
    let sor = SorTree::new(sor).expect("valid");
    let p = preview(&fk, &sor, &links, &[Edit::Close { unit: fk_id(305), date: today() }], today()).expect("valid");
    let text = render_text(&p, &sor);
    insta::assert_snapshot!("large_tree_collapsed", text);
    let svg = render_svg(&p, &fk, &sor, &links);
    assert!(svg.matches("<text").count() < 20, "only affected branches are drawn");
    assert!(svg.contains("… 19 more"));
}

/// Applies the previewed SOR changes to the SOR structure (parents and closed units).
fn apply(sor: &SorTree, p: &Preview) -> (HashMap<SorId, Option<SorId>>, HashSet<SorId>) {
    let mut parent: HashMap<SorId, Option<SorId>> = sor.units.iter().map(|u| (u.sor_id, u.parent)).collect();
    let mut closed = HashSet::new();
    for c in &p.changes {
        let Some(id) = c.sor_id else { continue };
        match c.action {
            Action::Move => {
                parent.insert(id, c.new_parent_sor_id);
            }
            Action::Close => {
                closed.insert(id);
            }
            Action::Create | Action::Update => {}
        }
    }
    (parent, closed)
}

#[test]
fn applying_the_changes_makes_the_linked_sor_tree_mirror_the_edited_fk_tree() {
    for seed in 0..40u64 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n = 25u64;
        let mut fk_parent: Vec<Option<u64>> = vec![None];
        for i in 1..n {
            fk_parent.push(Some(if i < 4 { 0 } else { rng.gen_range(1..i) }));
        }
        let fk_units: Vec<FkUnit> =
            (0..n).map(|i| fk_unit(i as u128, &format!("U{i}"), fk_parent[i as usize].map(|p| p as u128))).collect();
        let kind = |i: u64| match i {
            0 => SorKind::InstitutionOwner,
            1..=3 => SorKind::HealthInstitution,
            _ => SorKind::OrganizationalUnit,
        };
        let sor_units: Vec<SorUnit> = (0..n)
            .map(|i| SorUnit::new(sor_id(i), kind(i), format!("U{i}"), fk_parent[i as usize].map(sor_id)))
            .collect();
        let fk = FkTree::new(None, fk_units, Vec::new()).expect("valid");
        let sor = SorTree::new(sor_units).expect("valid");
        let links: Vec<(FkUuid, SorId)> = (0..n).map(|i| (fk_id(i as u128), sor_id(i))).collect();
        // Random moves and closes on the FK-ORG side, kept valid as we go.
        let mut parent = fk_parent.clone();
        let mut closed = vec![false; n as usize];
        let in_subtree = |parent: &[Option<u64>], mut x: u64, root: u64| loop {
            if x == root {
                break true;
            }
            match parent[x as usize] {
                Some(p) => x = p,
                None => break false,
            }
        };
        let mut edits = Vec::new();
        for _ in 0..6 {
            let unit = rng.gen_range(4..n);
            if closed[unit as usize] {
                continue;
            }
            if rng.gen_bool(0.3) {
                for x in 0..n {
                    if in_subtree(&parent, x, unit) {
                        closed[x as usize] = true;
                    }
                }
                edits.push(Edit::Close { unit: fk_id(unit as u128), date: today() });
            } else {
                let under = rng.gen_range(1..n);
                if closed[under as usize] || in_subtree(&parent, under, unit) || parent[unit as usize] == Some(under) {
                    continue;
                }
                parent[unit as usize] = Some(under);
                edits.push(Edit::Move { unit: fk_id(unit as u128), under: fk_id(under as u128) });
            }
        }
        let p = preview(&fk, &sor, &links, &edits, today()).expect("valid edits");
        let (sor_parent, sor_closed) = apply(&sor, &p);
        for i in 0..n {
            let s = sor_id(i);
            assert_eq!(sor_closed.contains(&s), closed[i as usize], "seed {seed}: unit {i} closed? edits {edits:?}");
            if !closed[i as usize] {
                assert_eq!(
                    sor_parent[&s],
                    parent[i as usize].map(sor_id),
                    "seed {seed}: parent of {i}, edits {edits:?}"
                );
            }
        }
    }
}

// --- the command ---

const AELDRE: &str = "a1000000-0000-4000-8000-000000000002";
const PLEJE_A: &str = "a1000000-0000-4000-8000-000000000003";

fn preview_cmd() -> std::process::Command {
    let mut c = sorsync();
    c.arg("preview")
        .arg("--fkorg")
        .arg(fixture("fkorg/korsbaek.json"))
        .arg("--sor")
        .arg(fixture("preview/korsbaek-sor.csv"))
        .args(["--today", "2026-11-22"]);
    c
}

#[test]
fn the_command_prints_the_summary_line_first() {
    let out = preview_cmd().args(["--create", "Plejecenter Glad", "--under", AELDRE]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().next(), Some("1 to create, 0 to update, 0 to close, 0 to move"));
    assert!(text.contains("+ ") && text.contains("Plejecenter Glad"));
}

#[test]
fn the_command_reads_an_edits_file_and_writes_html() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let edits = dir.path().join("edits.json");
    std::fs::write(
        &edits,
        format!(r#"{{"edits":[{{"action":"close","unit":"{PLEJE_A}","date":"2026-12-31"}},{{"action":"rename","unit":"{AELDRE}","name":"Ældre & Sundhed"}}]}}"#),
    )
    .expect("written");
    let html = dir.path().join("p.html");
    let out =
        preview_cmd().arg("--edits").arg(&edits).args(["--format", "html", "--out"]).arg(&html).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = std::fs::read_to_string(&html).expect("the page");
    assert!(page.contains("1 to update, 2 to close"), "{page}");
    assert!(page.contains("Ældre &amp; Sundhed"));
}

#[test]
fn a_bad_edits_file_is_an_error_naming_the_file_and_the_edit() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let edits = dir.path().join("my-edits.json");
    std::fs::write(
        &edits,
        format!(r#"{{"edits":[{{"action":"close","unit":"{PLEJE_A}"}},{{"action":"move","unit":"{PLEJE_A}","undr":"{AELDRE}"}}]}}"#),
    )
    .expect("written");
    let out = preview_cmd().arg("--edits").arg(&edits).output().expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("my-edits.json"), "{err}");
    assert!(err.contains("edit 2 (move)"), "{err}");
}

#[test]
fn an_unknown_uuid_on_the_command_line_is_a_clear_error() {
    let out = preview_cmd().args(["--close", "a1000000-0000-4000-8000-0000000000ff"]).output().expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a1000000-0000-4000-8000-0000000000ff") && err.contains("not in the FK-ORG tree"), "{err}");
}
