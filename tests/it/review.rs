//! Tests: decisions are remembered across runs (rejected pairs, approved links, re-runs), only a
//! SOR administrator of the municipality may decide, and `sorsync proposals` / `sorsync users`.
//!
//! Every scenario runs on SQLite and on PostgreSQL (`SORSYNC_TEST_POSTGRES_URL`; skipped when it
//! is unset, unless `SORSYNC_REQUIRE_POSTGRES=1`), like tests/it/store.rs.

use chrono::NaiveDate;
use sorsync::domain::{Address, FkStatus, FkTree, FkUnit, FkUuid, KommuneKode, SorId, SorKind, SorTree, SorUnit};
use sorsync::matching::{propose, MatchOptions};
use sorsync::review::{decide, grant, record_run, Actor, Decision, ReviewError, Role, RunSummary, Snapshot};
use sorsync::store::{ProposalStatus, Store, StoredProposal};

use crate::support::sorsync;
use crate::test_db::TestDb;

on_sqlite_and_postgres!(
    a_rejected_pair_is_not_proposed_again_until_one_side_changes,
    an_approved_link_persists_and_is_not_proposed_again,
    a_rerun_with_unchanged_snapshots_adds_no_new_proposals,
    only_a_sor_administrator_of_that_municipality_may_decide,
);

// ---------------------------------------------------------------------------------------------
// A small municipality

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn kommune() -> KommuneKode {
    KommuneKode::parse("350").unwrap()
}

fn other_kommune() -> KommuneKode {
    KommuneKode::parse("360").unwrap()
}

fn fk_id(n: u128) -> FkUuid {
    FkUuid::from_uuid(uuid::Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_0000 + n))
}

fn sor_id(n: u64) -> SorId {
    SorId::from_running_number(1000 + n)
}

/// The care home "Evigglad": FK-ORG unit 3, SOR unit 3.
const EVIGGLAD_FK: u128 = 3;
const EVIGGLAD_SOR: u64 = 3;

fn fk_tree() -> FkTree {
    let unit = |n: u128, name: &str, parent: Option<u128>, address: Option<&str>| FkUnit {
        uuid: fk_id(n),
        enhedsnavn: name.to_string(),
        brugervendt_noegle: None,
        parent: parent.map(fk_id),
        status: FkStatus::Aktiv,
        valid_from: None,
        valid_to: None,
        sor_id: None,
        ean: None,
        p_number: None,
        postal_address: address.map(str::to_string),
        email: None,
        mobile: None,
        landline: None,
        los_id: None,
    };
    let units = vec![
        unit(1, "Testby Kommune", None, None),
        unit(2, "Sundhed og Ældre", Some(1), None),
        unit(EVIGGLAD_FK, "Plejecenter Evigglad", Some(2), Some("Glædesvej 4, 4000 Testby")),
        unit(4, "Plejehjemmet Solgården", Some(2), Some("Solvej 12, 4000 Testby")),
        unit(5, "Sundhedsplejen", Some(2), None),
        unit(6, "Kommunal Tandpleje", Some(2), None),
    ];
    FkTree::new(None, units, Vec::new()).unwrap()
}

/// The SOR side; `evigglad_phone` lets a test change the care home's own data.
fn sor_tree(evigglad_phone: Option<&str>) -> SorTree {
    let address = |street: &str, number: &str| Address {
        street: street.into(),
        building: Some(number.into()),
        postcode: "4000".into(),
        district: "Testby".into(),
        ..Default::default()
    };
    let oe = |n: u64, name: &str| SorUnit::new(sor_id(n), SorKind::OrganizationalUnit, name, Some(sor_id(2)));
    let mut evigglad = oe(EVIGGLAD_SOR, "Evigglad Plejecenter");
    evigglad.own.postal = Some(address("Glædesvej", "4"));
    evigglad.own.phone = evigglad_phone.map(str::to_string);
    let mut solgaarden = oe(4, "Solgaarden Plejecenter");
    solgaarden.own.postal = Some(address("Solvej", "12"));
    SorTree::new(vec![
        SorUnit::new(sor_id(1), SorKind::InstitutionOwner, "Testby Kommune", None),
        SorUnit::new(sor_id(2), SorKind::HealthInstitution, "Sundhed og Ældre", Some(sor_id(1))),
        evigglad,
        solgaarden,
        oe(5, "Sundhedspleje"),
        oe(6, "Tandklinik"),
    ])
    .unwrap()
}

/// Imports both trees (a no-op when unchanged), matches them and records the run, as
/// `sorsync propose --kommune` does.
async fn run(store: &Store, sor: &SorTree) -> RunSummary {
    let fk = fk_tree();
    let fk_snapshot = store.import_fkorg(kommune(), "fk.json", &fk).await.unwrap().snapshot_id;
    let sor_snapshot = store.import_sor("sor.xml", None, sor).await.unwrap().snapshot_id;
    let proposals = propose(&fk, sor, &MatchOptions::new(today()));
    record_run(
        store,
        kommune(),
        Snapshot { id: fk_snapshot, tree: &fk },
        Snapshot { id: sor_snapshot, tree: sor },
        &proposals,
    )
    .await
    .unwrap()
}

async fn pending(store: &Store) -> Vec<StoredProposal> {
    store.proposals(kommune(), Some(ProposalStatus::Pending)).await.unwrap()
}

/// The pending link proposal between the Evigglad units, if any.
async fn evigglad_link(store: &Store) -> Option<StoredProposal> {
    pending(store).await.into_iter().find(|p| {
        p.key.kind == sorsync::matching::ProposalKind::Link
            && p.key.fk_uuid.as_deref() == Some(fk_id(EVIGGLAD_FK).to_string().as_str())
            && p.key.sor_id.as_deref() == Some(sor_id(EVIGGLAD_SOR).to_string().as_str())
    })
}

async fn sor_admin(store: &Store) -> Actor {
    grant(store, None, "anna", kommune(), Role::SorAdmin).await.unwrap();
    Actor::new("anna")
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async fn a_rejected_pair_is_not_proposed_again_until_one_side_changes(db: &TestDb) {
    let store = &db.store;
    let anna = sor_admin(store).await;
    run(store, &sor_tree(None)).await;
    let link = evigglad_link(store).await.expect("the care homes are proposed as a link");
    decide(store, &anna, link.id, Decision::Reject, Some("different homes")).await.unwrap();

    let again = run(store, &sor_tree(None)).await;
    assert!(evigglad_link(store).await.is_none(), "a rejected pair came back although nothing changed");
    assert!(again.skipped_rejected >= 1);

    // SOR now has a phone number for the care home: its data changed, so the pair is proposed again.
    run(store, &sor_tree(Some("46311010"))).await;
    let back = evigglad_link(store).await.expect("the pair is proposed again after SOR's data changed");
    assert_ne!(back.id, link.id);
    assert_ne!(back.data_hash, link.data_hash);
}

async fn an_approved_link_persists_and_is_not_proposed_again(db: &TestDb) {
    let store = &db.store;
    let anna = sor_admin(store).await;
    run(store, &sor_tree(None)).await;
    let link = evigglad_link(store).await.expect("the care homes are proposed as a link");
    decide(store, &anna, link.id, Decision::Approve, None).await.unwrap();

    let links = store.links(kommune()).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].fk_uuid, fk_id(EVIGGLAD_FK).to_string());
    assert_eq!(links[0].sor_id, sor_id(EVIGGLAD_SOR).to_string());
    assert_eq!(links[0].approved_by, "anna");

    // Also after SOR's data changed, the approved link stays and is not put up for review again.
    for sor in [sor_tree(None), sor_tree(Some("46311010"))] {
        let summary = run(store, &sor).await;
        assert!(evigglad_link(store).await.is_none(), "an approved link was proposed again");
        assert!(summary.skipped_linked >= 1);
        assert_eq!(store.links(kommune()).await.unwrap().len(), 1);
    }
    assert_eq!(store.proposal(link.id).await.unwrap().status, ProposalStatus::Approved);
}

async fn a_rerun_with_unchanged_snapshots_adds_no_new_proposals(db: &TestDb) {
    let store = &db.store;
    let first = run(store, &sor_tree(None)).await;
    assert!(!first.new.is_empty());
    let before = store.proposals(kommune(), None).await.unwrap();

    let second = run(store, &sor_tree(None)).await;
    assert!(second.new.is_empty(), "a re-run recorded {:?}", second.new);
    assert_eq!(second.unchanged, first.new.len());
    assert_eq!(second.superseded, 0);
    assert_eq!(store.proposals(kommune(), None).await.unwrap(), before);

    // One side changed: the proposals made from the old data are superseded, not duplicated.
    let third = run(store, &sor_tree(Some("46311010"))).await;
    assert!(third.superseded >= 1 && !third.new.is_empty());
    let now_pending = pending(store).await;
    let mut keys: Vec<_> = now_pending.iter().map(|p| &p.key).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), now_pending.len(), "two pending proposals for the same units");
    let superseded = store.proposals(kommune(), Some(ProposalStatus::Superseded)).await.unwrap();
    assert_eq!(superseded.len(), third.superseded);
    assert!(superseded.iter().all(|p| p.key.sor_id.as_deref() == Some(sor_id(EVIGGLAD_SOR).to_string().as_str())));
}

async fn only_a_sor_administrator_of_that_municipality_may_decide(db: &TestDb) {
    let store = &db.store;
    run(store, &sor_tree(None)).await;
    let link = evigglad_link(store).await.expect("a proposal to decide on");
    let before = store.proposals(kommune(), None).await.unwrap();
    let bob = Actor::new("bob");

    let refused = |r: Result<i64, ReviewError>| match r {
        Err(ReviewError::NotPermitted { user, needed: Role::SorAdmin, .. }) => assert_eq!(user, "bob"),
        other => panic!("expected a refusal, got {other:?}"),
    };
    refused(decide(store, &bob, link.id, Decision::Approve, None).await);
    // SOR administrator elsewhere, operator here: still not allowed.
    grant(store, None, "bob", other_kommune(), Role::SorAdmin).await.unwrap();
    grant(store, None, "bob", kommune(), Role::Operator).await.unwrap();
    refused(decide(store, &bob, link.id, Decision::Approve, None).await);
    refused(decide(store, &bob, link.id, Decision::Reject, None).await);
    // Granting as someone who is not a SOR administrator here is refused too.
    assert!(matches!(
        grant(store, Some(&bob), "bob", kommune(), Role::SorAdmin).await,
        Err(ReviewError::NotPermitted { .. })
    ));

    assert_eq!(store.proposals(kommune(), None).await.unwrap(), before, "a refused decision changed proposals");
    assert!(store.links(kommune()).await.unwrap().is_empty());

    let anna = sor_admin(store).await;
    grant(store, Some(&anna), "bob", kommune(), Role::SorAdmin).await.unwrap();
    decide(store, &bob, link.id, Decision::Approve, None).await.unwrap();
    assert_eq!(store.links(kommune()).await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The binary

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_are_approved_and_rejected_from_the_command_line() {
    let db = TestDb::sqlite().await;
    run(&db.store, &sor_tree(None)).await;
    let ids: Vec<i64> = pending(&db.store).await.iter().map(|p| p.id).collect();
    assert!(ids.len() >= 2);
    db.store.close().await;
    let cli = |args: &[&str]| {
        let out = sorsync().arg("--database-url").arg(&db.url).args(args).env_remove("SORSYNC_USER").output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // Without a verified identity: refused, whatever --as says.
    let (code, _, err) = cli(&["proposals", "approve", &ids[0].to_string(), "--kommune", "350", "--as", "carl"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("users map-os"), "{err}");
    let os = sorsync::cli::identity::os_user().unwrap();
    let (code, _, err) = cli(&["users", "map-os", &os, "carl"]);
    assert_eq!(code, Some(0), "{err}");

    // Without the role: refused with a message that says what is missing, and nothing changes.
    let (code, _, err) = cli(&["proposals", "approve", &ids[0].to_string(), "--kommune", "350", "--as", "carl"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("carl may not approve proposals for municipality 350"), "{err}");
    assert!(err.contains("SOR administrator"), "{err}");

    let (code, out, _) = cli(&["users", "grant", "carl", "--kommune", "350", "--role", "sor_admin"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("carl: sor_admin for municipality 350"), "{out}");

    // The wrong municipality for the id is refused before anything is decided.
    let (code, _, err) = cli(&["proposals", "approve", &ids[0].to_string(), "--kommune", "360", "--as", "carl"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("belongs to municipality 350"), "{err}");

    let (code, out, err) = cli(&["proposals", "approve", &ids[0].to_string(), "--kommune", "350", "--as", "carl"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(&format!("approved #{} as carl", ids[0])), "{out}");
    let out = sorsync()
        .arg("--database-url")
        .arg(&db.url)
        .args(["proposals", "reject", &ids[1].to_string(), "--kommune", "350", "--reason", "not the same unit"])
        .env("SORSYNC_USER", "carl")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // Deciding twice is refused.
    let (code, _, err) = cli(&["proposals", "reject", &ids[0].to_string(), "--kommune", "350", "--as", "carl"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not pending"), "{err}");

    let (code, out, _) = cli(&["proposals", "list", "--kommune", "350", "--status", "all", "--format", "json"]);
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let status_of = |id: i64| {
        json["proposals"].as_array().unwrap().iter().find(|p| p["id"] == id).map(|p| p["status"].clone()).unwrap()
    };
    assert_eq!(status_of(ids[0]), "approved");
    assert_eq!(status_of(ids[1]), "rejected");
    let (_, out, _) = cli(&["proposals", "list", "--kommune", "350"]);
    assert!(!out.contains(&format!("#{:<6} ", ids[0])), "a decided proposal is still listed as pending:\n{out}");
}
