//! Tests: the contact-number report (KLIK task), its renderers and `sorsync contacts`.

use std::io::Read as _;

use sorsync::contacts::{build_report, chart, render, xlsx, ContactReport, Scope};
use sorsync::domain::{Cvr, FkMembership, FkStatus, FkTree, FkUnit, FkUser, FkUuid, KommuneKode};

use crate::support::{fixture, sorsync};

fn id(n: u32) -> FkUuid {
    FkUuid::parse(&format!("00000000-0000-4000-8000-{n:012}")).unwrap()
}

fn unit(n: u32, name: &str, parent: Option<u32>) -> FkUnit {
    FkUnit::new(id(n), name.to_string(), parent.map(id))
}

fn user(n: u32, name: &str, landline: Option<&str>, mobile: Option<&str>, units: &[(u32, &str)]) -> FkUser {
    FkUser {
        uuid: id(1000 + n),
        brugernavn: format!("bruger{n}"),
        person_name: Some(name.to_string()),
        status: FkStatus::Aktiv,
        email: None,
        mobile: mobile.map(str::to_string),
        landline: landline.map(str::to_string),
        memberships: units
            .iter()
            .map(|(u, title)| FkMembership {
                uuid: None,
                title: Some(title.to_string()),
                function_type: None,
                function_type_title: None,
                unit: Some(id(*u)),
            })
            .collect(),
    }
}

const ROOT: u32 = 1;
const SUNDHED: u32 = 2;
const PLEJECENTER: u32 = 3;
const LUKKET: u32 = 4;
const BOERN: u32 = 5;
const SUNDHEDSPLEJEN: u32 = 6;
const TANDPLEJEN: u32 = 7;

/// Korsbæk: a root without a phone; "Sundhed og Ældre" with a landline (its care home inherits it);
/// "Børn og Unge" without one (health visitors have a mobile, dental care a malformed landline).
fn korsbaek() -> FkTree {
    let mut sundhed = unit(SUNDHED, "Sundhed og Ældre", Some(ROOT));
    sundhed.landline = Some("+45 70 10 20 30".into());
    let mut lukket = unit(LUKKET, "Lukket afdeling", Some(SUNDHED));
    lukket.status = FkStatus::Inaktiv;
    let mut sundhedsplejen = unit(SUNDHEDSPLEJEN, "Sundhedsplejen", Some(BOERN));
    sundhedsplejen.mobile = Some("12 34 56 78".into());
    let mut tandplejen = unit(TANDPLEJEN, "Tandplejen", Some(BOERN));
    tandplejen.landline = Some("1234".into());
    let units = vec![
        unit(ROOT, "Korsbæk Kommune", None),
        sundhed,
        unit(PLEJECENTER, "Plejecenter Æblehaven", Some(SUNDHED)),
        lukket,
        unit(BOERN, "Børn og Unge", Some(ROOT)),
        sundhedsplejen,
        tandplejen,
    ];
    let mut inactive = user(7, "Ivan Inaktiv", None, None, &[(SUNDHED, "Leder")]);
    inactive.status = FkStatus::Inaktiv;
    let users = vec![
        user(1, "Anne Ærø", Some("33 12 34 56"), None, &[(PLEJECENTER, "Sygeplejerske")]),
        user(2, "Bent Østergård", None, Some("+45 20 30 40 50"), &[(SUNDHEDSPLEJEN, "Sundhedsplejerske")]),
        user(3, "Carla Ågård", Some("33123457"), Some("20304051"), &[(SUNDHED, "Direktør")]),
        user(
            4,
            "Dorte Nielsen",
            None,
            None,
            &[(PLEJECENTER, "Social- og sundhedsassistent"), (TANDPLEJEN, "Klinikassistent")],
        ),
        user(5, "Erik Fejl", Some("1234"), None, &[(BOERN, "Konsulent")]),
        user(6, "Frida Mellemrum", Some("+45 12 34 56 78"), None, &[(SUNDHEDSPLEJEN, "Sundhedsplejerske")]),
        inactive,
        user(8, "Hans Lukket", None, None, &[(LUKKET, "Pedel")]),
        user(9, "Ida Uden Rolle", None, None, &[]),
        user(10, "Jens Halvgod", Some("ring til Bo"), Some("20304050"), &[(BOERN, "Chef")]),
        user(11, "Karen Rod", None, None, &[(ROOT, "Borgmester")]),
    ];
    FkTree::new(Some(Cvr::parse("11111111").unwrap()), units, users).unwrap()
}

fn report() -> ContactReport {
    build_report(&korsbaek(), Some(KommuneKode::parse("370").unwrap()), &Scope::everything())
}

fn names(people: &[sorsync::contacts::Person]) -> Vec<&str> {
    people.iter().map(|p| p.name.as_deref().unwrap_or("")).collect()
}

#[test]
fn each_kind_of_role_holder_is_counted_once_as_a_person() {
    let r = report();
    // Anne and Frida ("+45 12 34 56 78" is valid): direct only; Bent and Jens: mobile only (Jens's
    // direct number is malformed); Carla: both; Dorte, Erik (malformed), Karen: neither.
    assert_eq!(r.counts.both, 1);
    assert_eq!(r.counts.landline_only, 2);
    assert_eq!(r.counts.mobile_only, 2);
    assert_eq!(r.counts.neither, 3);
    // Inactive users, users in closed units only and users without a membership hold no role.
    assert_eq!(r.role_holders(), 8);
    assert_eq!(r.malformed, 2);
    assert!((r.share_missing() - 3.0 / 8.0).abs() < 1e-9);
}

#[test]
fn exactly_the_people_without_any_valid_number_are_listed_with_their_units() {
    let r = report();
    let mut listed = names(&r.missing_both);
    listed.sort();
    assert_eq!(listed, ["Dorte Nielsen", "Erik Fejl", "Karen Rod"]);
    let dorte = r.missing_both.iter().find(|p| p.user_name == "bruger4").unwrap();
    let paths: Vec<&str> = dorte.placements.iter().map(|p| p.unit_path.as_str()).collect();
    assert_eq!(
        paths,
        ["Korsbæk Kommune / Sundhed og Ældre / Plejecenter Æblehaven", "Korsbæk Kommune / Børn og Unge / Tandplejen"]
    );
    assert_eq!(dorte.placements[0].title.as_deref(), Some("Social- og sundhedsassistent"));
    let erik = r.missing_both.iter().find(|p| p.user_name == "bruger5").unwrap();
    assert_eq!(erik.malformed.len(), 1);
    assert_eq!(erik.malformed[0].field.as_str(), "landline");
    assert_eq!(erik.malformed[0].raw, "1234");
    assert_eq!(names(&r.malformed_but_reachable), ["Jens Halvgod"]);
}

#[test]
fn a_user_listed_twice_is_one_person() {
    let mut tree = korsbaek();
    let dorte = tree.users[3].clone();
    tree.users.push(dorte);
    let r = build_report(&tree, None, &Scope::everything());
    assert_eq!(r.role_holders(), 8);
    assert_eq!(r.missing_both.len(), 3);
}

#[test]
fn branches_count_each_person_once_per_branch_they_hold_a_role_in() {
    let r = report();
    let by: Vec<(&str, bool, usize, usize)> =
        r.by_branch.iter().map(|b| (b.name.as_str(), b.is_root, b.role_holders, b.missing_both)).collect();
    // Dorte works in both branches and lacks numbers in both.
    assert_eq!(by, [("Korsbæk Kommune", true, 1, 1), ("Sundhed og Ældre", false, 3, 1), ("Børn og Unge", false, 5, 2)]);
}

#[test]
fn a_unit_inherits_its_parents_landline_and_is_not_listed_without_a_phone() {
    let r = report();
    let listed: Vec<&str> = r.units_without_phone.iter().map(|u| u.name.as_str()).collect();
    // Plejecenter Æblehaven inherits from Sundhed og Ældre; Sundhedsplejen has its own mobile;
    // Tandplejen's only number is malformed; the closed unit does not go to SOR.
    assert_eq!(listed, ["Korsbæk Kommune", "Børn og Unge", "Tandplejen"]);
    assert_eq!(r.units_in_scope, 6);
    let tand = &r.units_without_phone[2];
    assert_eq!(tand.path, "Korsbæk Kommune / Børn og Unge / Tandplejen");
    assert_eq!(tand.malformed[0].raw, "1234");
}

#[test]
fn scope_limits_the_units_and_ancestors_outside_it_pass_no_phone_down() {
    let tree = korsbaek();
    let scope = Scope { include: vec![id(BOERN)], exclude: vec![id(TANDPLEJEN)] };
    let r = build_report(&tree, None, &scope);
    let listed: Vec<&str> = r.units_without_phone.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(listed, ["Børn og Unge"]);
    assert_eq!(r.units_in_scope, 2);
    // The role holders are the whole municipality's, whatever the SOR scope.
    assert_eq!(r.role_holders(), 8);

    let only_care_home = Scope { include: vec![id(PLEJECENTER)], exclude: vec![] };
    let r = build_report(&tree, None, &only_care_home);
    assert_eq!(r.units_without_phone.len(), 1, "its parent does not go to SOR, so it inherits nothing");
}

#[test]
fn json_follows_the_documented_contract() {
    let v: serde_json::Value = serde_json::from_str(&render::report_json(&report())).unwrap();
    assert_eq!(v["kommune"], "370");
    assert_eq!(v["cvr"], "11111111");
    assert_eq!(v["role_holders"], 8);
    assert_eq!(v["missing_both"], 3);
    assert_eq!(v["malformed"], 2);
    assert_eq!(v["share_missing"], 0.375);
    assert_eq!(v["by_branch"].as_array().unwrap().len(), 3);
    let erik = v["people"].as_array().unwrap().iter().find(|p| p["user_name"] == "bruger5").unwrap();
    assert_eq!(erik["problem"], "malformed");
    assert_eq!(erik["landline"], "1234");
    assert_eq!(erik["mobile"], serde_json::Value::Null);
    assert_eq!(erik["unit_path"], "Korsbæk Kommune / Børn og Unge");
    assert_eq!(erik["title"], "Konsulent");
    assert_eq!(erik["malformed"][0]["field"], "landline");
    assert_eq!(v["units_without_phone"][2]["name"], "Tandplejen");
}

#[test]
fn text_report_names_the_people_and_the_share() {
    let text = render::report_text(&report());
    insta::assert_snapshot!("korsbaek_text_report", text);
    assert!(text.contains("37.5 %"), "{text}");
    assert!(text.contains("Dorte Nielsen") && text.contains("Plejecenter Æblehaven"), "{text}");
    assert!(!text.contains("Anne Ærø"), "Anne has a direct number: {text}");
}

fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).expect("the CSV starts with a UTF-8 byte-order mark");
    let mut rdr = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(body);
    rdr.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn csv_opens_in_danish_excel_with_letters_intact_and_numbers_kept_as_text() {
    let bytes = render::people_csv(&[report()]);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.lines().next().unwrap().contains("Navn;Brugernavn;Titel"), "semicolon-separated: {text}");
    let rows = parse_csv(&bytes);
    assert_eq!(rows[0][7], "Direkte nummer");
    let erik = rows.iter().find(|r| r[2] == "Erik Fejl").unwrap();
    assert_eq!(erik[0], "=\"370\"");
    assert_eq!(erik[1], "=\"11111111\"");
    assert_eq!(erik[7], "=\"1234\"", "the phone stays text, not a number");
    assert!(erik[9].contains("Ugyldigt direkte nummer: 1234"), "{:?}", erik[9]);
    assert!(erik[10].starts_with("=\"00000000-0000-4000-8000-"));
    let dorte = rows.iter().find(|r| r[2] == "Dorte Nielsen").unwrap();
    assert!(dorte[6].contains("Plejecenter Æblehaven"), "Danish letters intact: {:?}", dorte[6]);
    // 3 lacking both + 1 reachable with a malformed number, after the header.
    assert_eq!(rows.len(), 5);
}

#[test]
fn a_phone_written_with_plus_is_not_run_as_an_excel_formula() {
    let mut tree = korsbaek();
    tree.users[4].landline = Some("+45 1234".into()); // Erik: malformed, starts with '+'
    let r = build_report(&tree, None, &Scope::everything());
    let rows = parse_csv(&render::people_csv(&[r]));
    let erik = rows.iter().find(|r| r[2] == "Erik Fejl").unwrap();
    assert_eq!(erik[7], "=\"+45 1234\"");
}

#[test]
fn a_value_too_long_for_an_excel_formula_is_still_written_safely() {
    assert_eq!(sorsync::spreadsheet::excel_text("12345678"), "=\"12345678\"");
    assert_eq!(sorsync::spreadsheet::excel_text("say \"hi\""), "=\"say \"\"hi\"\"\"");
    let long = "x".repeat(300);
    assert_eq!(sorsync::spreadsheet::excel_text(&long), long, "Excel cannot read a 300-character formula text");
    assert_eq!(sorsync::spreadsheet::excel_text(&format!("={long}")), format!("'={long}"));
}

#[test]
fn xlsx_holds_the_people_sheet_with_danish_names_and_text_formatted_numbers() {
    let bytes = xlsx::workbook_bytes(&[report()]).unwrap();
    assert!(bytes.starts_with(b"PK"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let workbook = read("xl/workbook.xml");
    for sheet in [xlsx::SHEET_SUMMARY, xlsx::SHEET_PEOPLE, xlsx::SHEET_UNITS] {
        assert!(workbook.contains(&format!("name=\"{sheet}\"")), "{workbook}");
    }
    let strings = read("xl/sharedStrings.xml");
    assert!(strings.contains("Dorte Nielsen") && strings.contains("Plejecenter Æblehaven"), "{strings}");
    // Phone numbers and ids are stored as strings, never as numbers.
    assert!(strings.contains("<t>1234</t>"), "{strings}");
    // The text number format ("@") is defined for the id and phone columns.
    let styles = read("xl/styles.xml");
    assert!(styles.contains("formatCode=\"@\""), "{styles}");
    let people = read("xl/worksheets/sheet2.xml");
    assert!(people.contains("<autoFilter") && people.contains("state=\"frozen\""), "{people}");
}

#[test]
fn chart_escapes_a_municipality_named_like_markup() {
    let mut tree = korsbaek();
    tree.units[0].enhedsnavn = "<script>alert(1)</script>".into();
    let other = build_report(&korsbaek(), Some(KommuneKode::parse("101").unwrap()), &Scope::everything());
    let svg = chart::share_missing_svg(&[build_report(&tree, None, &Scope::everything()), other]);
    assert!(!svg.contains("<script>"), "{svg}");
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{svg}");
    assert!(svg.contains("Korsbæk Kommune (101)") && svg.contains("37.5 %"), "{svg}");
}

#[test]
fn the_summary_puts_the_highest_share_missing_first() {
    let mut better = korsbaek();
    better.units[0].enhedsnavn = "Bedre Kommune".into();
    for u in &mut better.users {
        u.mobile = Some("20304050".into());
    }
    let reports = [build_report(&better, Some(KommuneKode::parse("101").unwrap()), &Scope::everything()), report()];
    let rows = sorsync::contacts::summarise(&reports);
    assert_eq!(rows[0].name, "Korsbæk Kommune");
    insta::assert_snapshot!("two_municipalities_summary", render::many_text(&reports));
    assert_eq!(rows[1].share_missing, 0.0);
    let csv = parse_csv(&render::summary_csv(&reports));
    assert_eq!(csv[1][0], "=\"370\"");
    assert_eq!(csv[1][5], "37,5", "a Danish decimal comma");
}

#[test]
fn xlsx_without_out_is_refused() {
    let out = sorsync().args(["contacts", "--fkorg", "x.json", "--format", "xlsx"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
}

#[test]
fn a_missing_file_fails_and_names_the_file() {
    let out = sorsync().args(["contacts", "--fkorg", "/nonexistent/korsbaek.json"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/korsbaek.json"));
}

// Binary-level tests over fixture files in the FK-ORG response format.

fn run_ok(args: &[&str]) -> std::process::Output {
    let out = sorsync().args(args).output().unwrap();
    assert!(out.status.success(), "sorsync {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn the_command_reports_a_municipality_from_an_fkorg_file_as_json() {
    let file = fixture("contacts/korsbaek-users.json");
    let out = run_ok(&["contacts", "--fkorg", file.to_str().unwrap(), "--kommune", "370", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kommune"], "370");
    assert_eq!(v["cvr"], "11111111");
    assert_eq!(v["role_holders"], 8);
    assert_eq!(v["missing_both"], 3);
    assert_eq!(v["malformed"], 2);
    let mut people: Vec<&str> = v["people"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    people.sort();
    assert_eq!(people, ["Dorte Nielsen", "Erik Fejl", "Karen Rod"]);
    let units: Vec<&str> =
        v["units_without_phone"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(units, ["Korsbæk Kommune", "Børn og Unge", "Tandplejen"]);
}

#[test]
fn the_command_writes_csv_and_xlsx_files_for_excel() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("contacts/korsbaek-users.json");
    let csv_path = dir.path().join("korsbæk.csv");
    let xlsx_path = dir.path().join("korsbæk.xlsx");
    run_ok(&["contacts", "--fkorg", file.to_str().unwrap(), "--format", "csv", "--out", csv_path.to_str().unwrap()]);
    let rows = parse_csv(&std::fs::read(&csv_path).unwrap());
    assert!(rows.iter().any(|r| r[2] == "Dorte Nielsen" && r[6].contains("Plejecenter Æblehaven")));
    run_ok(&["contacts", "--fkorg", file.to_str().unwrap(), "--format", "xlsx", "--out", xlsx_path.to_str().unwrap()]);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&xlsx_path).unwrap()).unwrap();
    let mut strings = String::new();
    zip.by_name("xl/sharedStrings.xml").unwrap().read_to_string(&mut strings).unwrap();
    assert!(strings.contains("Erik Fejl") && strings.contains("Børn og Unge"), "{strings}");
}

#[test]
fn a_directory_of_municipalities_gives_a_summary_sorted_by_share_and_a_chart() {
    let dir = tempfile::tempdir().unwrap();
    let chart_path = dir.path().join("share.svg");
    let root = fixture("contacts/dir");
    let out = run_ok(&[
        "contacts",
        "--dir",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--chart",
        chart_path.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let order: Vec<&str> =
        v["municipalities"].as_array().unwrap().iter().map(|m| m["kommune"].as_str().unwrap()).collect();
    assert_eq!(order, ["370", "101"], "Korsbæk (37.5 %) before Bedreby (25 %)");
    assert_eq!(v["role_holders"], 12);
    assert_eq!(v["missing_both"], 4);
    let svg = std::fs::read_to_string(&chart_path).unwrap();
    assert!(svg.contains("Korsbæk Kommune (370)") && svg.contains("Bedreby Kommune (101)"), "{svg}");
}

#[test]
fn a_broken_file_in_a_directory_fails_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("851")).unwrap();
    std::fs::write(dir.path().join("851/fkorg.json"), "{\"data\": ").unwrap();
    let out = sorsync().args(["contacts", "--dir", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("851/fkorg.json"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_store_backed_report_reads_the_latest_snapshot_of_one_or_every_municipality() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("store.db").display());
    for (k, file) in [("370", "contacts/korsbaek-users.json"), ("101", "contacts/dir/101/fkorg.json")] {
        run_ok(&["--database-url", &db, "import", "fkorg", "--kommune", k, fixture(file).to_str().unwrap()]);
    }
    let out = run_ok(&["--database-url", &db, "contacts", "--kommune", "370", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["kommune"].as_str(), v["role_holders"].as_u64(), v["missing_both"].as_u64()),
        (Some("370"), Some(8), Some(3))
    );

    let out = run_ok(&["--database-url", &db, "contacts", "--all", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let order: Vec<&str> =
        v["municipalities"].as_array().unwrap().iter().map(|m| m["kommune"].as_str().unwrap()).collect();
    assert_eq!(order, ["370", "101"]);

    let out = sorsync().args(["--database-url", &db, "contacts", "--kommune", "851"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("851"));
}
