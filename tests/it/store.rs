//! Tests: the store (snapshots in SQLite and PostgreSQL) and `sorsync import` / `sorsync snapshots`.
//!
//! Every store scenario runs on SQLite (a file in a temp dir) and on PostgreSQL (a fresh database
//! per test on the server named by `SORSYNC_TEST_POSTGRES_URL`; skipped when that is unset, unless
//! `SORSYNC_REQUIRE_POSTGRES=1`, which makes it a failure).

use chrono::{DateTime, NaiveDate};
use sorsync::domain::{
    Address, Cvr, Ean, FkMembership, FkStatus, FkTree, FkUnit, FkUser, FkUuid, KommuneKode, PNumber, SorId, SorKind,
    SorTree, SorUnit,
};
use sorsync::store::{Register, Store, StoreError};

use crate::support::{fixture, sorsync};
use crate::test_db::TestDb;

on_sqlite_and_postgres!(
    importing_the_same_sor_tree_twice_makes_one_snapshot,
    the_same_sor_units_in_another_order_are_the_same_content,
    a_changed_sor_tree_makes_a_new_snapshot_even_when_it_changes_back,
    a_stored_sor_tree_loads_back_with_inheritance_recomputed,
    sor_snapshots_are_kept_apart_per_municipality,
    importing_the_same_fkorg_tree_twice_makes_one_snapshot,
    a_stored_fkorg_tree_loads_back_with_users_and_memberships,
    a_changed_membership_makes_a_new_fkorg_snapshot,
    a_failed_import_stores_nothing_and_keeps_the_previous_snapshot,
    importing_the_same_tree_from_several_workers_at_once_makes_one_snapshot,
    loading_a_snapshot_as_the_other_register_is_refused,
    snapshots_survive_reopening_the_store,
    ten_thousand_units_import_and_load_back,
);

// ---------------------------------------------------------------------------------------------
// Trees

fn sor_id(n: u64) -> SorId {
    SorId::from_running_number(n)
}

fn addr(street: &str, postcode: &str, district: &str) -> Address {
    Address { street: street.into(), postcode: postcode.into(), district: district.into(), ..Default::default() }
}

/// IE (address, phone) > SI (own EAN) > OE "Plejecenter" (EAN marked inherited, own visiting address)
/// and OE "Hjemmepleje" (nothing of its own but a floor in its postal address).
fn sor_units() -> Vec<SorUnit> {
    let mut ie = SorUnit::new(sor_id(1), SorKind::InstitutionOwner, "Roskilde Kommune", None);
    ie.own.postal = Some(Address { building: Some("1".into()), ..addr("Rådhusbuen", "4000", "Roskilde") });
    ie.own.phone = Some("46313131".into());
    ie.own.website = Some("www.roskilde.dk".into());
    ie.unit_type = Some("550891000005100".into());
    ie.from_date = NaiveDate::from_ymd_opt(2009, 10, 8);
    let mut si = SorUnit::new(sor_id(2), SorKind::HealthInstitution, "Sundhed og Omsorg", Some(sor_id(1)));
    si.own.ean = Some(Ean::from_body(579000012152));
    si.shak = Some("4001".into());
    si.updated_at = NaiveDate::from_ymd_opt(2020, 1, 2);
    let mut oe = SorUnit::new(sor_id(3), SorKind::OrganizationalUnit, "Plejecenter Æblehaven", Some(sor_id(2)));
    oe.own.ean_inherited_indicator = true;
    oe.own.ean = Some(Ean::from_body(579000099999));
    oe.own.visiting = Some(addr("Æblevej 12", "4000", "Roskilde"));
    oe.own.email = Some("aeblehaven@roskilde.dk".into());
    oe.to_date = NaiveDate::from_ymd_opt(2030, 12, 31);
    oe.first_from_date = NaiveDate::from_ymd_opt(2001, 1, 1);
    let mut oe2 = SorUnit::new(sor_id(4), SorKind::OrganizationalUnit, "Hjemmepleje \"Nord\"", Some(sor_id(2)));
    oe2.own.activity = Some(Address {
        floor: Some("2".into()),
        suite: Some("tv".into()),
        building: Some("3B".into()),
        ..addr("", "4000", "Roskilde")
    });
    vec![ie, si, oe, oe2]
}

fn sor_tree() -> SorTree {
    SorTree::new(sor_units()).unwrap()
}

fn uuid(n: u128) -> FkUuid {
    FkUuid::from_uuid(uuid::Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_0000 + n))
}

fn fk_unit(n: u128, name: &str, parent: Option<u128>) -> FkUnit {
    FkUnit::new(uuid(n), name, parent.map(uuid))
}

fn fk_units() -> Vec<FkUnit> {
    let mut root = fk_unit(1, "Roskilde Kommune", None);
    root.brugervendt_noegle = Some("ROSK".into());
    root.valid_from = DateTime::parse_from_rfc3339("2015-01-01T00:00:00+01:00").ok();
    root.p_number = Some(PNumber::parse("1003388381").unwrap());
    let mut care = fk_unit(2, "Sundhed og Omsorg", Some(1));
    care.sor_id = Some(sor_id(2));
    care.ean = Some(Ean::from_body(579000012152));
    care.postal_address = Some("Køgevej 80, 4000 Roskilde".into());
    care.landline = Some("46 31 31 31".into());
    care.los_id = Some("123".into());
    let mut home = fk_unit(3, "Plejecenter Æblehaven", Some(2));
    home.status = FkStatus::Inaktiv;
    home.valid_to = DateTime::parse_from_rfc3339("2024-06-30T23:59:59.5+02:00").ok();
    home.email = Some("aeblehaven@roskilde.dk".into());
    home.mobile = Some("+45 20 30 40 50".into());
    vec![root, care, home]
}

fn fk_users() -> Vec<FkUser> {
    vec![
        FkUser {
            uuid: uuid(101),
            brugernavn: "anna".into(),
            person_name: Some("Anna Ærø".into()),
            status: FkStatus::Aktiv,
            email: Some("anna@roskilde.dk".into()),
            mobile: None,
            landline: Some("46313100".into()),
            memberships: vec![
                FkMembership {
                    uuid: Some(uuid(201)),
                    title: Some("Leder".into()),
                    function_type: Some(FkUuid::parse(sorsync::domain::fkorg::roles::FUNCTION_MANAGER).unwrap()),
                    function_type_title: Some("Leder".into()),
                    unit: Some(uuid(3)),
                },
                FkMembership {
                    uuid: None,
                    title: None,
                    function_type: None,
                    function_type_title: None,
                    unit: Some(uuid(2)),
                },
            ],
        },
        FkUser {
            uuid: uuid(102),
            brugernavn: "bo".into(),
            person_name: None,
            status: FkStatus::Inaktiv,
            email: None,
            mobile: Some("20304050".into()),
            landline: None,
            memberships: vec![],
        },
    ]
}

fn cvr() -> Cvr {
    Cvr::parse("29189404").unwrap()
}

fn fk_tree() -> FkTree {
    FkTree::new(Some(cvr()), fk_units(), fk_users()).unwrap()
}

fn kommune(code: &str) -> KommuneKode {
    KommuneKode::parse(code).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Scenarios (each runs on both databases)

async fn importing_the_same_sor_tree_twice_makes_one_snapshot(db: &TestDb) {
    let first = db.store.import_sor("a.xml", Some(kommune("265")), &sor_tree()).await.unwrap();
    assert!(first.created);
    assert_eq!(first.units, 4);
    let second = db.store.import_sor("copy-of-a.xml", Some(kommune("265")), &sor_tree()).await.unwrap();
    assert!(!second.created, "the same content must not make a new snapshot");
    assert_eq!(second.snapshot_id, first.snapshot_id);
    let all = db.store.list_snapshots().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].source, "a.xml");
    assert_eq!(all[0].register, Register::Sor);
    assert_eq!(all[0].kommune, Some(kommune("265")));
    assert_eq!((all[0].units, all[0].users), (4, 0));
}

async fn the_same_sor_units_in_another_order_are_the_same_content(db: &TestDb) {
    let first = db.store.import_sor("a.xml", None, &sor_tree()).await.unwrap();
    let mut units = sor_units();
    units.reverse();
    let reordered = SorTree::new(units).unwrap();
    let second = db.store.import_sor("b.csv", None, &reordered).await.unwrap();
    assert!(!second.created);
    assert_eq!(second.snapshot_id, first.snapshot_id);
}

async fn a_changed_sor_tree_makes_a_new_snapshot_even_when_it_changes_back(db: &TestDb) {
    let first = db.store.import_sor("a.xml", None, &sor_tree()).await.unwrap();
    let mut units = sor_units();
    units[3].own.phone = Some("46310000".into());
    let changed = SorTree::new(units).unwrap();
    let second = db.store.import_sor("a.xml", None, &changed).await.unwrap();
    assert!(second.created);
    assert_ne!(second.snapshot_id, first.snapshot_id);
    let latest = db.store.latest_sor(None).await.unwrap().unwrap();
    assert_eq!(latest.get(sor_id(4)).unwrap().own.phone.as_deref(), Some("46310000"));
    // Back to the first content: the latest differs from it, so it is stored again.
    let third = db.store.import_sor("a.xml", None, &sor_tree()).await.unwrap();
    assert!(third.created);
    assert_eq!(db.store.list_snapshots().await.unwrap().len(), 3);
    let latest = db.store.latest_sor(None).await.unwrap().unwrap();
    assert_eq!(latest.get(sor_id(4)).unwrap().own.phone, None);
}

async fn a_stored_sor_tree_loads_back_with_inheritance_recomputed(db: &TestDb) {
    let tree = sor_tree();
    let outcome = db.store.import_sor("a.xml", Some(kommune("265")), &tree).await.unwrap();
    let loaded = db.store.load_sor(outcome.snapshot_id).await.unwrap();
    assert_eq!(loaded.units, tree.units, "own and effective values, in file order");
    let home = loaded.get(sor_id(3)).unwrap();
    assert_eq!(home.effective.ean.value, Some(Ean::from_body(579000012152)), "EAN marked inherited is the parent's");
    assert!(home.effective.ean.inherited);
    assert_eq!(home.effective.postal.value.as_ref().unwrap().street, "Rådhusbuen");
    assert!(home.effective.postal.inherited);
    assert_eq!(home.effective.phone.value.as_deref(), Some("46313131"));
    let nord = loaded.get(sor_id(4)).unwrap();
    assert_eq!(nord.name, "Hjemmepleje \"Nord\"");
    let activity = nord.own.activity.as_ref().unwrap();
    assert_eq!((activity.street.as_str(), activity.floor.as_deref()), ("", Some("2")), "an empty street is kept");
    assert_eq!(loaded.tree.children(loaded.index_of(sor_id(2)).unwrap()).len(), 2);
    let latest = db.store.latest_sor(Some(kommune("265"))).await.unwrap().unwrap();
    assert_eq!(latest.units, tree.units);
}

async fn sor_snapshots_are_kept_apart_per_municipality(db: &TestDb) {
    let national = db.store.import_sor("national.xml", None, &sor_tree()).await.unwrap();
    let roskilde = db.store.import_sor("roskilde.xml", Some(kommune("265")), &sor_tree()).await.unwrap();
    let koebenhavn = db.store.import_sor("kbh.xml", Some(kommune("101")), &sor_tree()).await.unwrap();
    assert!(national.created && roskilde.created && koebenhavn.created, "same content, different municipalities");
    assert!(db.store.latest_sor(Some(kommune("147"))).await.unwrap().is_none());
    assert!(db.store.latest_sor(None).await.unwrap().is_some());
    assert_eq!(db.store.fkorg_kommuner().await.unwrap(), vec![], "SOR snapshots are not FK-ORG municipalities");
    db.store.import_fkorg(kommune("265"), "f.json", &fk_tree()).await.unwrap();
    db.store.import_fkorg(kommune("101"), "f.json", &fk_tree()).await.unwrap();
    assert_eq!(db.store.fkorg_kommuner().await.unwrap(), vec![kommune("101"), kommune("265")]);
    let kinds: Vec<(Register, Option<KommuneKode>)> =
        db.store.list_snapshots().await.unwrap().iter().map(|s| (s.register, s.kommune)).collect();
    assert_eq!(
        kinds,
        vec![
            (Register::Sor, None),
            (Register::Sor, Some(kommune("265"))),
            (Register::Sor, Some(kommune("101"))),
            (Register::FkOrg, Some(kommune("265"))),
            (Register::FkOrg, Some(kommune("101"))),
        ]
    );
}

async fn importing_the_same_fkorg_tree_twice_makes_one_snapshot(db: &TestDb) {
    let first = db.store.import_fkorg(kommune("265"), "f.json", &fk_tree()).await.unwrap();
    assert!(first.created);
    assert_eq!((first.units, first.users), (3, 2));
    let mut units = fk_units();
    units.rotate_left(1);
    let mut users = fk_users();
    users.reverse();
    users[1].memberships.reverse();
    let reordered = FkTree::new(Some(cvr()), units, users).unwrap();
    let second = db.store.import_fkorg(kommune("265"), "http://api/", &reordered).await.unwrap();
    assert!(!second.created, "order of units, users and memberships does not matter");
    assert_eq!(second.snapshot_id, first.snapshot_id);
    let info = &db.store.list_snapshots().await.unwrap()[0];
    assert_eq!((info.register, info.cvr, info.units, info.users), (Register::FkOrg, Some(cvr()), 3, 2));
}

async fn a_stored_fkorg_tree_loads_back_with_users_and_memberships(db: &TestDb) {
    let tree = fk_tree();
    let outcome = db.store.import_fkorg(kommune("265"), "f.json", &tree).await.unwrap();
    let loaded = db.store.load_fkorg(outcome.snapshot_id).await.unwrap();
    assert_eq!(loaded.units, tree.units);
    assert_eq!(loaded.users, tree.users);
    assert_eq!(loaded.cvr, Some(cvr()));
    assert_eq!(
        loaded.path_names(loaded.index_of(uuid(3)).unwrap()),
        "Roskilde Kommune / Sundhed og Omsorg / Plejecenter Æblehaven"
    );
    let latest = db.store.latest_fkorg(kommune("265")).await.unwrap().unwrap();
    assert_eq!(latest.users, tree.users);
    assert!(db.store.latest_fkorg(kommune("101")).await.unwrap().is_none());
}

async fn a_changed_membership_makes_a_new_fkorg_snapshot(db: &TestDb) {
    db.store.import_fkorg(kommune("265"), "f.json", &fk_tree()).await.unwrap();
    let mut users = fk_users();
    users[0].memberships[0].title = Some("Souschef".into());
    let changed = FkTree::new(Some(cvr()), fk_units(), users).unwrap();
    let second = db.store.import_fkorg(kommune("265"), "f.json", &changed).await.unwrap();
    assert!(second.created);
    let latest = db.store.latest_fkorg(kommune("265")).await.unwrap().unwrap();
    assert_eq!(latest.users[0].memberships[0].title.as_deref(), Some("Souschef"));
}

async fn a_failed_import_stores_nothing_and_keeps_the_previous_snapshot(db: &TestDb) {
    let good = db.store.import_fkorg(kommune("265"), "good.json", &fk_tree()).await.unwrap();
    // Two users with the same uuid: the units and the first user are written before the store
    // refuses the second one, so the whole transaction must roll back.
    let mut users = fk_users();
    let mut twin = users[0].clone();
    twin.brugernavn = "anna2".into();
    users.push(twin);
    let mut units = fk_units();
    units[0].enhedsnavn = "Roskilde Kommune (ny)".into();
    let bad = FkTree::new(Some(cvr()), units, users).unwrap();
    let err = db.store.import_fkorg(kommune("265"), "bad.json", &bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err}");
    let all = db.store.list_snapshots().await.unwrap();
    assert_eq!(all.len(), 1, "no snapshot from the failed import");
    let latest = db.store.latest_fkorg(kommune("265")).await.unwrap().unwrap();
    assert_eq!(latest.units[0].enhedsnavn, "Roskilde Kommune");
    // Nothing half-written blocks the next import.
    let next = db.store.import_fkorg(kommune("265"), "next.json", &fk_tree()).await.unwrap();
    assert_eq!((next.created, next.snapshot_id), (false, good.snapshot_id));

    // The same on an empty municipality: not even the snapshot row remains.
    let err = db.store.import_fkorg(kommune("101"), "bad.json", &bad).await;
    assert!(err.is_err());
    assert!(db.store.latest_fkorg(kommune("101")).await.unwrap().is_none());
    assert_eq!(db.store.fkorg_kommuner().await.unwrap(), vec![kommune("265")]);
}

async fn importing_the_same_tree_from_several_workers_at_once_makes_one_snapshot(db: &TestDb) {
    let tree = fk_tree();
    let imports = (0..4).map(|i| {
        let store = db.store.clone();
        let tree = tree.clone();
        tokio::spawn(async move { store.import_fkorg(kommune("265"), &format!("worker-{i}.json"), &tree).await })
    });
    let mut created = 0;
    for import in imports.collect::<Vec<_>>() {
        if import.await.unwrap().unwrap().created {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(db.store.list_snapshots().await.unwrap().len(), 1);
}

async fn loading_a_snapshot_as_the_other_register_is_refused(db: &TestDb) {
    let sor = db.store.import_sor("a.xml", None, &sor_tree()).await.unwrap();
    let err = db.store.load_fkorg(sor.snapshot_id).await.unwrap_err();
    assert!(matches!(err, StoreError::WrongRegister { .. }), "{err}");
    assert_eq!(err.to_string(), format!("snapshot {} is a sor snapshot, not a fkorg snapshot", sor.snapshot_id));
    let err = db.store.load_sor(sor.snapshot_id + 100).await.unwrap_err();
    assert!(matches!(err, StoreError::NoSuchSnapshot(_)), "{err}");
}

async fn snapshots_survive_reopening_the_store(db: &TestDb) {
    let outcome = db.store.import_sor("a.xml", None, &sor_tree()).await.unwrap();
    db.store.close().await;
    let reopened = Store::open(&db.url).await.unwrap();
    let all = reopened.list_snapshots().await.unwrap();
    assert_eq!(all.iter().map(|s| s.id).collect::<Vec<_>>(), vec![outcome.snapshot_id]);
    assert!(!reopened.import_sor("a.xml", None, &sor_tree()).await.unwrap().created);
    reopened.close().await;
}

/// A municipality-sized SOR tree: 1 IE, 10 SI, the rest OEs three levels deep.
fn big_sor_tree(n: u64) -> SorTree {
    let mut units = vec![SorUnit::new(sor_id(1), SorKind::InstitutionOwner, "Kommune", None)];
    units[0].own.postal = Some(addr("Torvet", "4000", "Roskilde"));
    for i in 2..=n {
        let (kind, parent) = match i {
            2..=11 => (SorKind::HealthInstitution, 1),
            12..=111 => (SorKind::OrganizationalUnit, 2 + (i % 10)),
            _ => (SorKind::OrganizationalUnit, 12 + (i % 100)),
        };
        let mut u = SorUnit::new(sor_id(i), kind, format!("Enhed {i}"), Some(sor_id(parent)));
        if i % 3 == 0 {
            u.own.phone = Some(format!("4{:07}", i));
        }
        if i % 7 == 0 {
            u.own.ean = Some(Ean::from_body(579_000_000_000 + i));
        }
        units.push(u);
    }
    SorTree::new(units).unwrap()
}

async fn ten_thousand_units_import_and_load_back(db: &TestDb) {
    let tree = big_sor_tree(10_000);
    let outcome = db.store.import_sor("big.xml", Some(kommune("101")), &tree).await.unwrap();
    assert_eq!(outcome.units, 10_000);
    let loaded = db.store.load_sor(outcome.snapshot_id).await.unwrap();
    assert_eq!(loaded.units, tree.units);
}

#[tokio::test]
async fn an_in_memory_sqlite_store_keeps_snapshots_while_it_is_open() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let outcome = store.import_sor("a.xml", None, &sor_tree()).await.unwrap();
    assert!(outcome.created);
    assert_eq!(store.load_sor(outcome.snapshot_id).await.unwrap().units, sor_tree().units);
    assert!(!store.import_sor("a.xml", None, &sor_tree()).await.unwrap().created);
}

// ---------------------------------------------------------------------------------------------
// The command line

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("cli.db").display())
}

/// `sorsync snapshots --format json` on the store at `url`.
fn snapshots_json(url: &str) -> serde_json::Value {
    let out = sorsync().args(["--database-url", url, "snapshots", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn bad_sor_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("truncated.xml");
    std::fs::write(
        &path,
        "<?xml version=\"1.0\"?>\n<SorTree xmlns=\"urn:oio:sundhedsstyrelsen:organisation:1.0.0\">\n<Institut",
    )
    .unwrap();
    path
}

#[test]
fn importing_a_bad_sor_file_fails_and_creates_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let bad = bad_sor_file(&dir);
    let out = sorsync().args(["--database-url", &url]).arg("import").arg("sor").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("truncated.xml"), "the error names the file: {stderr}");
    assert!(!dir.path().join("cli.db").exists(), "a file that does not read does not even create the store");
}

#[test]
fn importing_a_sor_file_twice_stores_it_once_and_a_bad_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let good = fixture("sor/ONE_SYGEHUS.xml");
    let import = |file: &std::path::Path| {
        sorsync().args(["--database-url", &url, "import", "sor"]).arg(file).args(["--kommune", "265"]).output().unwrap()
    };
    let first = import(&good);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let first_out = String::from_utf8_lossy(&first.stdout);
    assert!(first_out.starts_with("Imported snapshot 1 ("), "{first_out}");
    let second = import(&good);
    assert!(second.status.success());
    let second_out = String::from_utf8_lossy(&second.stdout);
    assert!(second_out.starts_with("Unchanged: same content as snapshot 1"), "{second_out}");

    let before = snapshots_json(&url);
    assert_eq!(before["snapshots"].as_array().unwrap().len(), 1);
    assert_eq!(before["snapshots"][0]["register"], "sor");
    assert_eq!(before["snapshots"][0]["kommune"], "265");
    assert!(before["snapshots"][0]["source"].as_str().unwrap().ends_with("ONE_SYGEHUS.xml"));
    let bad = import(&bad_sor_file(&dir));
    assert!(!bad.status.success());
    assert_eq!(snapshots_json(&url), before, "a bad file leaves the snapshots as they were");

    let table = sorsync().args(["--database-url", &url, "snapshots"]).output().unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("id  register  kommune  units  users  imported_at"), "{table}");
    assert!(lines[1].starts_with(" 1  sor       265 "), "{table}");
    assert!(lines[1].ends_with("ONE_SYGEHUS.xml"), "{table}");
}

#[test]
fn snapshots_lists_what_was_imported_as_a_table_and_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = Store::open(&url).await.unwrap();
        store.import_sor("/data/sor/national.xml", None, &sor_tree()).await.unwrap();
        store.import_fkorg(kommune("265"), "/data/fkorg/roskilde.json", &fk_tree()).await.unwrap();
        store.close().await;
    });

    let out = sorsync().args(["--database-url", &url, "snapshots"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert_eq!(lines[0], "id  register  kommune   units  users  imported_at           source");
    assert!(lines[1].starts_with(" 1  sor       national      4      0  20"), "{table}");
    assert!(lines[1].ends_with("Z  /data/sor/national.xml"), "{table}");
    assert!(lines[2].starts_with(" 2  fkorg     265           3      2  20"), "{table}");
    assert!(lines[2].ends_with("Z  /data/fkorg/roskilde.json"), "{table}");

    let json = snapshots_json(&url);
    let second = &json["snapshots"][1];
    assert_eq!(
        (&second["id"], &second["register"], &second["kommune"], &second["cvr"], &second["units"], &second["users"]),
        (
            &serde_json::json!(2),
            &serde_json::json!("fkorg"),
            &serde_json::json!("265"),
            &serde_json::json!("29189404"),
            &serde_json::json!(3),
            &serde_json::json!(2)
        )
    );
    assert_eq!(json["snapshots"][0]["kommune"], serde_json::Value::Null);
    assert_eq!(json["snapshots"][0]["content_hash"].as_str().unwrap().len(), 64);
    assert!(DateTime::parse_from_rfc3339(second["imported_at"].as_str().unwrap()).is_ok());
}

#[test]
fn an_empty_store_lists_no_snapshots_and_says_how_to_add_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let missing = sorsync().args(["--database-url", &url, "snapshots"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1), "listing does not create a store");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cli.db"), "the error names the path looked for");
    assert!(!dir.path().join("cli.db").exists());
    tokio::runtime::Runtime::new().unwrap().block_on(async { Store::open(&url).await.unwrap().close().await });
    let out = sorsync().args(["--database-url", &url, "snapshots"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("No snapshots yet."));
}

#[test]
fn a_store_url_of_an_unknown_kind_is_refused_by_name() {
    let out = sorsync().args(["--database-url", "mysql://x@localhost/db", "snapshots"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither sqlite://PATH nor postgres://"));
}

#[test]
fn fkorg_from_the_api_needs_a_cvr_number() {
    let out = sorsync().args(["import", "fkorg", "--from-api", "--kommune", "265"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cvr"));
}

/// An FK-ORG GraphQL response (the shared file format) with two units and one user.
const FKORG_RESPONSE: &str = r#"{"data": {
  "organisationEnhedListe": {"edges": [
    {"cursor": "a", "node": {"uuid": "10000000-0000-4000-8000-000000000001", "enhedsnavn": "Roskilde Kommune",
      "brugervendtNoegle": "ROSK", "overordnetEnhed": null,
      "tilstand": {"status": "AKTIV", "fraTidspunkt": "2015-01-01T00:00:00+01:00", "tilTidspunkt": null},
      "adresser": []}},
    {"cursor": "b", "node": {"uuid": "10000000-0000-4000-8000-000000000002", "enhedsnavn": "Sundhed og Omsorg",
      "brugervendtNoegle": null, "overordnetEnhed": {"uuid": "10000000-0000-4000-8000-000000000001"},
      "tilstand": {"status": "AKTIV", "fraTidspunkt": null, "tilTidspunkt": null},
      "adresser": []}}],
    "pageInfo": {"hasNextPage": false, "endCursor": "b"}},
  "brugerListe": {"edges": [
    {"cursor": "u", "node": {"uuid": "10000000-0000-4000-8000-000000000101", "brugernavn": "anna",
      "person": {"navn": "Anna Ærø"}, "tilstand": {"status": "AKTIV", "fraTidspunkt": null, "tilTidspunkt": null},
      "adresser": [], "harMedlemskab": [{"uuid": "10000000-0000-4000-8000-000000000201",
        "medlemskabRolleTitel": "Leder", "funktionsTypeUuid": null, "funktionsTypeTitel": null,
        "medlemAf": {"uuid": "10000000-0000-4000-8000-000000000002"}}]}}],
    "pageInfo": {"hasNextPage": false, "endCursor": "u"}}
}}"#;

#[test]
fn importing_an_fkorg_file_twice_stores_it_once_and_a_bad_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let good = dir.path().join("roskilde.json");
    std::fs::write(&good, FKORG_RESPONSE).unwrap();
    let bad = dir.path().join("not-graphql.json");
    std::fs::write(&bad, r#"{"units": []}"#).unwrap();
    let import = |file: &std::path::Path| {
        sorsync()
            .args(["--database-url", &url, "import", "fkorg"])
            .arg(file)
            .args(["--kommune", "265"])
            .output()
            .unwrap()
    };
    let first = import(&good);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(String::from_utf8_lossy(&first.stdout), "Imported snapshot 1 (2 units, 1 users)\n");
    let second = import(&good);
    assert_eq!(String::from_utf8_lossy(&second.stdout), "Unchanged: same content as snapshot 1 (2 units, 1 users)\n");
    let before = snapshots_json(&url);
    let failed = import(&bad);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("not-graphql.json"));
    assert_eq!(snapshots_json(&url), before);
    assert_eq!(before["snapshots"][0]["register"], "fkorg");
    assert_eq!(before["snapshots"][0]["users"], 1);
}

#[test]
fn fkorg_from_an_unreachable_api_fails_without_touching_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let config = dir.path().join("sorsync.toml");
    std::fs::write(
        &config,
        format!("[fkorg]\n{}max_retries = 0\n", crate::support::fkorg_toml_keys("127.0.0.1:9".parse().unwrap())),
    )
    .unwrap();
    let out = sorsync()
        .arg("--config")
        .arg(&config)
        .args(["--database-url", &url, "import", "fkorg", "--from-api", "--cvr", "29189404", "--kommune", "265"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:9"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!dir.path().join("cli.db").exists(), "the store is not opened before the data is read");
}

#[test]
fn every_bad_file_is_refused_and_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let import = |register: &str, file: &std::path::Path| {
        let mut cmd = sorsync();
        cmd.args(["--database-url", &url, "import", register]).arg(file);
        if register == "fkorg" {
            cmd.args(["--kommune", "265"]);
        }
        cmd.output().unwrap()
    };
    assert!(import("sor", &fixture("sor/ONE_SYGEHUS.xml")).status.success());
    assert!(import("fkorg", &fixture("fkorg/korsbaek.json")).status.success());
    let before = snapshots_json(&url);
    assert_eq!(before["snapshots"].as_array().unwrap().len(), 2);

    let mut bad_files: Vec<std::path::PathBuf> =
        std::fs::read_dir(fixture("bad")).unwrap().map(|e| e.unwrap().path()).collect();
    bad_files.sort();
    assert!(bad_files.len() >= 25, "the bad-input corpus has {} files", bad_files.len());
    for file in &bad_files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let register = if name.starts_with("fkorg-") { "fkorg" } else { "sor" };
        let out = import(register, file);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(&name), "{name}: the error names the file: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    assert_eq!(snapshots_json(&url), before, "no bad file changed the store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fkorg_from_the_api_is_stored_like_the_same_file() {
    use sorsync::standin::fkorg::spawn;
    let file = fixture("fkorg/korsbaek.json");
    let tree = sorsync::sources::read_fkorg_file(&file).unwrap();
    let options = crate::support::secure_fkorg_options();
    let (addr, _server) = spawn(tree, options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let config = dir.path().join("sorsync.toml");
    std::fs::write(&config, format!("[fkorg]\n{}page_size = 2\n", crate::support::fkorg_toml_keys(addr))).unwrap();
    let run = move |args: Vec<String>| tokio::task::spawn_blocking(move || sorsync().args(args).output().unwrap());
    let from_api =
        run(["--config", &config.display().to_string(), "--database-url", &url, "import", "fkorg", "--from-api"]
            .into_iter()
            .chain(["--cvr", "11111111", "--kommune", "265"])
            .map(String::from)
            .collect())
        .await
        .unwrap();
    assert!(from_api.status.success(), "{}", String::from_utf8_lossy(&from_api.stderr));
    assert!(String::from_utf8_lossy(&from_api.stdout).starts_with("Imported snapshot 1 ("));
    let from_file = run(["--database-url", &url, "import", "fkorg", &file.display().to_string(), "--kommune", "265"]
        .into_iter()
        .map(String::from)
        .collect())
    .await
    .unwrap();
    assert!(from_file.status.success(), "{}", String::from_utf8_lossy(&from_file.stderr));
    assert!(
        String::from_utf8_lossy(&from_file.stdout).starts_with("Unchanged: same content as snapshot 1"),
        "the file holds what the API served: {}",
        String::from_utf8_lossy(&from_file.stdout)
    );
    let listed = snapshots_json(&url);
    assert!(listed["snapshots"][0]["source"].as_str().unwrap().starts_with(&format!("https://{addr}")));
    assert_eq!(listed["snapshots"][0]["cvr"], "11111111");
}
