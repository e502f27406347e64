//! Tests: one decision per unit, and decisions that cannot contradict each other. A follow-up
//! (update, move, closure, write-back) is approvable and planned only while its case is linked to
//! its SOR unit; rejecting or changing a link takes its follow-ups with it; each linked unit is
//! written back once; an applied follow-up never returns; values equal after normalising make no
//! update; health institutions are never updated; a SOR-only unit is never closed without a person.
//!
//! Every scenario runs on SQLite and on PostgreSQL, like tests/it/review.rs.

use chrono::NaiveDate;
use sorsync::apply::build_plan;
use sorsync::domain::{Address, FkStatus, FkTree, FkUnit, FkUuid, KommuneKode, SorId, SorKind, SorTree, SorUnit};
use sorsync::matching::json::ProposalDto;
use sorsync::matching::policy::SyncPolicy;
use sorsync::matching::{propose, MatchOptions, ProposalKind};
use sorsync::review::{
    apply_policy, create_new, decide, decide_case, grant, record_run, Actor, Decision, ReviewError, Role, RunSummary,
    Snapshot,
};
use sorsync::store::{ChangeEnd, NewAuditEntry, NewChange, ProposalStatus, Store, StoreError, StoredProposal};

use crate::test_db::TestDb;

on_sqlite_and_postgres!(
    a_rejected_links_follow_ups_cannot_be_approved_and_are_not_planned,
    a_changed_correspondence_supersedes_its_follow_ups,
    each_linked_unit_is_written_back_once_and_no_write_back_waits_in_the_queue,
    an_applied_follow_up_never_returns,
    equal_values_after_normalising_make_no_update_and_institutions_are_left_alone,
    the_policy_decides_links_and_contact_data_but_never_closes,
    a_person_linking_a_unit_decides_what_follows_automatically_too,
);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn kommune() -> KommuneKode {
    KommuneKode::parse("350").unwrap()
}

fn fk_id(n: u128) -> FkUuid {
    FkUuid::from_uuid(uuid::Uuid::from_u128(0x2000_0000_0000_4000_8000_0000_0000_0000 + n))
}

fn sor_id(n: u64) -> SorId {
    SorId::from_running_number(2000 + n)
}

const SOLGAARDEN: u128 = 4;
const CLOSED_HOME: u128 = 8;

/// FK-ORG: the care home Solgården carries its SOR-ID (a certain link) and a new phone number;
/// Evigglad has the same phone and address as SOR, written differently; the home "Lærkely" is
/// closed in FK-ORG and carries its SOR-ID.
fn fk_tree() -> FkTree {
    let unit = |n: u128, name: &str, parent: Option<u128>| FkUnit {
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
        postal_address: None,
        email: None,
        mobile: None,
        landline: None,
        los_id: None,
    };
    let mut evigglad = unit(3, "Plejecenter Evigglad", Some(2));
    evigglad.postal_address = Some("Glædesvej 4, 4000 Testby".into());
    evigglad.landline = Some("+45 46 31 10 10".into());
    evigglad.sor_id = Some(sor_id(3));
    let mut solgaarden = unit(SOLGAARDEN, "Plejehjemmet Solgården", Some(2));
    solgaarden.postal_address = Some("Solvej 12, 4000 Testby".into());
    solgaarden.landline = Some("46 31 20 20".into());
    solgaarden.sor_id = Some(sor_id(4));
    let mut closed = unit(CLOSED_HOME, "Plejecenter Lærkely", Some(2));
    closed.status = FkStatus::Inaktiv;
    closed.sor_id = Some(sor_id(8));
    let mut directorate = unit(2, "Sundhed og Ældre", Some(1));
    directorate.sor_id = Some(sor_id(2));
    let units =
        vec![unit(1, "Testby Kommune", None), directorate, evigglad, solgaarden, unit(6, "Afsnit A", Some(3)), closed];
    FkTree::new(None, units, Vec::new()).unwrap()
}

fn sor_tree() -> SorTree {
    let address = |street: &str, number: &str| Address {
        street: street.into(),
        building: Some(number.into()),
        postcode: "4000".into(),
        district: "Testby".into(),
        ..Default::default()
    };
    let oe = |n: u64, name: &str, parent: u64| {
        SorUnit::new(sor_id(n), SorKind::OrganizationalUnit, name, Some(sor_id(parent)))
    };
    let mut evigglad = oe(3, "Evigglad Plejecenter", 2);
    evigglad.own.postal = Some(address("Glædesv.", "4"));
    evigglad.own.phone = Some("46311010".into());
    let mut solgaarden = oe(4, "Solgaarden Plejecenter", 2);
    solgaarden.own.postal = Some(address("Solvej", "12"));
    solgaarden.own.phone = Some("46319999".into());
    SorTree::new(vec![
        SorUnit::new(sor_id(1), SorKind::InstitutionOwner, "Testby Kommune", None),
        // The SI's name carries the municipality: Sundhedsdatastyrelsen's, not ours to rename.
        SorUnit::new(sor_id(2), SorKind::HealthInstitution, "Testby Kommune Sundhed & Omsorg", Some(sor_id(1))),
        evigglad,
        solgaarden,
        oe(6, "Evigglad Plejecenter, Afsnit A", 3),
        oe(7, "Udskrivningskoordinatorer", 2),
        oe(8, "Lærkely Plejecenter", 2),
    ])
    .unwrap()
}

async fn run(store: &Store) -> RunSummary {
    let (fk, sor) = (fk_tree(), sor_tree());
    let fk_snapshot = store.import_fkorg(kommune(), "fk.json", &fk).await.unwrap().snapshot_id;
    let sor_snapshot = store.import_sor("sor.xml", Some(kommune()), &sor).await.unwrap().snapshot_id;
    let proposals = propose(&fk, &sor, &MatchOptions::new(today()));
    record_run(
        store,
        kommune(),
        Snapshot { id: fk_snapshot, tree: &fk },
        Snapshot { id: sor_snapshot, tree: &sor },
        &proposals,
    )
    .await
    .unwrap()
}

async fn people(store: &Store) -> (Actor, Actor) {
    grant(store, None, "anna", kommune(), Role::SorAdmin).await.unwrap();
    grant(store, None, "olga", kommune(), Role::Operator).await.unwrap();
    (Actor::new("anna"), Actor::new("olga"))
}

async fn all(store: &Store) -> Vec<StoredProposal> {
    store.proposals(kommune(), None).await.unwrap()
}

async fn find(store: &Store, kind: ProposalKind, fk: u128) -> StoredProposal {
    all(store)
        .await
        .into_iter()
        .rev()
        .find(|p| p.key.kind == kind && p.key.fk_uuid == Some(fk_id(fk).to_string()))
        .unwrap_or_else(|| panic!("no {kind} proposal for FK-ORG unit {fk}"))
}

// ---------------------------------------------------------------------------------------------

async fn a_rejected_links_follow_ups_cannot_be_approved_and_are_not_planned(db: &TestDb) {
    let store = &db.store;
    let (anna, olga) = people(store).await;
    run(store).await;
    let link = find(store, ProposalKind::Link, SOLGAARDEN).await;
    let update = find(store, ProposalKind::Update, SOLGAARDEN).await;
    // While the link waits, its update cannot be approved.
    let err = decide(store, &anna, update.id, Decision::Approve, None).await.unwrap_err();
    assert!(matches!(err, ReviewError::Store(StoreError::CaseNotLinked { .. })), "{err}");
    assert!(err.to_string().contains("decide the unit's link first"), "{err}");
    // The link is rejected: the update goes with it and cannot be approved any more.
    decide(store, &anna, link.id, Decision::Reject, Some("another home")).await.unwrap();
    assert_eq!(store.proposal(update.id).await.unwrap().status, ProposalStatus::Superseded);
    let err = decide(store, &anna, update.id, Decision::Approve, None).await.unwrap_err();
    assert!(matches!(err, ReviewError::Store(StoreError::ProposalNotPending { .. })), "{err}");
    let plan = build_plan(store, kommune(), &olga, today(), chrono::Utc::now()).await.unwrap();
    assert!(plan.steps.iter().all(|s| s.proposal_id != update.id), "{}", plan.summary());
    // A re-run from the same data does not bring the rejected link's update back into the queue.
    run(store).await;
    let pending = store.proposals(kommune(), Some(ProposalStatus::Pending)).await.unwrap();
    assert!(!pending.iter().any(|p| p.key.fk_uuid == link.key.fk_uuid), "{pending:?}");
}

async fn a_changed_correspondence_supersedes_its_follow_ups(db: &TestDb) {
    let store = &db.store;
    let (anna, _) = people(store).await;
    run(store).await;
    let link = find(store, ProposalKind::Link, SOLGAARDEN).await;
    let update = find(store, ProposalKind::Update, SOLGAARDEN).await;
    // Anna says Solgården is a new unit in SOR, not SOR's Solgaarden.
    let created = create_new(store, &anna, link.id, Some("a new home")).await.unwrap();
    assert_eq!(store.proposal(created).await.unwrap().status, ProposalStatus::Approved);
    assert_eq!(store.proposal(link.id).await.unwrap().status, ProposalStatus::Rejected);
    assert_eq!(store.proposal(update.id).await.unwrap().status, ProposalStatus::Superseded);
}

async fn each_linked_unit_is_written_back_once_and_no_write_back_waits_in_the_queue(db: &TestDb) {
    let store = &db.store;
    let (anna, olga) = people(store).await;
    run(store).await;
    assert!(
        !all(store).await.iter().any(|p| p.key.kind == ProposalKind::WriteBack),
        "the write-back follows from the link, it is no decision of its own"
    );
    let link = find(store, ProposalKind::Link, SOLGAARDEN).await;
    decide(store, &anna, link.id, Decision::Approve, None).await.unwrap();
    let update = find(store, ProposalKind::Update, SOLGAARDEN).await;
    decide(store, &anna, update.id, Decision::Approve, None).await.unwrap();
    let plan = build_plan(store, kommune(), &olga, today(), chrono::Utc::now()).await.unwrap();
    let write_backs: Vec<_> = plan.steps.iter().filter(|s| s.change.op() == "write_back").collect();
    assert_eq!(write_backs.len(), 1, "{}", plan.summary());
    assert_eq!(write_backs[0].proposal_id, link.id);
}

async fn an_applied_follow_up_never_returns(db: &TestDb) {
    let store = &db.store;
    let (anna, olga) = people(store).await;
    run(store).await;
    let link = find(store, ProposalKind::Link, SOLGAARDEN).await;
    decide(store, &anna, link.id, Decision::Approve, None).await.unwrap();
    let update = find(store, ProposalKind::Update, SOLGAARDEN).await;
    decide(store, &anna, update.id, Decision::Approve, None).await.unwrap();
    // The plan is applied (as the engine records it: each key 'sending', then 'applied').
    let plan = build_plan(store, kommune(), &olga, today(), chrono::Utc::now()).await.unwrap();
    for step in &plan.steps {
        let change = NewChange {
            key: &step.key.0,
            kommune: kommune(),
            proposal_id: step.proposal_id,
            plan_id: &plan.plan_id,
            op: step.change.op(),
            change_json: "{}",
            sor_id: None,
            actor: "olga",
        };
        store.begin_change(&change, false).await.unwrap();
        let audit = NewAuditEntry { actor: "olga".into(), action: "write".into(), ..NewAuditEntry::default() };
        let end = ChangeEnd::Applied { outcome_json: "{}", sor_id: None };
        store.finish_change(kommune(), &step.key.0, end, 1, &audit, None).await.unwrap();
    }
    // The next FK-ORG snapshot changes the home's e-mail; SOR's snapshot is still the old one and
    // shows the old phone. The phone update that was applied is not proposed again.
    let mut fk = fk_tree();
    fk.units.iter_mut().find(|u| u.uuid == fk_id(SOLGAARDEN)).unwrap().email = Some("solgaarden@testby.dk".into());
    let fk = FkTree::new(None, fk.units.clone(), Vec::new()).unwrap();
    let sor = sor_tree();
    let fk_snapshot = store.import_fkorg(kommune(), "fk2.json", &fk).await.unwrap().snapshot_id;
    let sor_snapshot = store.import_sor("sor.xml", Some(kommune()), &sor).await.unwrap().snapshot_id;
    let proposals = propose(&fk, &sor, &MatchOptions::new(today()));
    record_run(
        store,
        kommune(),
        Snapshot { id: fk_snapshot, tree: &fk },
        Snapshot { id: sor_snapshot, tree: &sor },
        &proposals,
    )
    .await
    .unwrap();
    let pending = store.proposals(kommune(), Some(ProposalStatus::Pending)).await.unwrap();
    let again: Vec<&StoredProposal> =
        pending.iter().filter(|p| p.key.fk_uuid == Some(fk_id(SOLGAARDEN).to_string())).collect();
    assert_eq!(again.len(), 1, "only the e-mail is new: {again:?}");
    let ProposalDto::Update { changes, .. } = &again[0].payload else { panic!("an update: {:?}", again[0]) };
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, vec!["email"], "the applied phone change did not come back");
}

async fn equal_values_after_normalising_make_no_update_and_institutions_are_left_alone(db: &TestDb) {
    let store = &db.store;
    run(store).await;
    let updates: Vec<StoredProposal> =
        all(store).await.into_iter().filter(|p| p.key.kind == ProposalKind::Update).collect();
    let about = |n: u64| updates.iter().any(|p| p.key.sor_id == Some(sor_id(n).to_string()));
    assert!(!about(3), "Evigglad: +45 46 31 10 10 is 46311010 and Glædesv. 4 is Glædesvej 4: {updates:?}");
    assert!(!about(6), "\"Evigglad Plejecenter, Afsnit A\" is \"Afsnit A\" with its context: {updates:?}");
    assert!(!about(2), "the health institution is Sundhedsdatastyrelsen's: {updates:?}");
    assert!(about(4), "Solgården's phone did change");
}

async fn the_policy_decides_links_and_contact_data_but_never_closes(db: &TestDb) {
    let store = &db.store;
    let (anna, olga) = people(store).await;
    run(store).await;
    // Even a policy that would take every follow-up leaves closures to a person.
    let mut eager = SyncPolicy::default();
    for key in ["name", "move", "create"] {
        eager.set(key, "auto").unwrap();
    }
    assert!(eager.set("close", "auto").is_err());
    // Only operators and SOR administrators may let the policy decide.
    grant(store, None, "oscar", kommune(), Role::OrgAdmin).await.unwrap();
    let err = apply_policy(store, &Actor::new("oscar"), kommune(), &eager).await.unwrap_err();
    assert!(matches!(err, ReviewError::NotPermitted { .. }), "{err}");
    let decided = apply_policy(store, &olga, kommune(), &eager).await.unwrap();
    let link = find(store, ProposalKind::Link, SOLGAARDEN).await;
    let update = find(store, ProposalKind::Update, SOLGAARDEN).await;
    assert_eq!(store.proposal(link.id).await.unwrap().status, ProposalStatus::Approved);
    assert_eq!(store.proposal(update.id).await.unwrap().status, ProposalStatus::Approved, "{decided:?}");
    let close = find(store, ProposalKind::Close, CLOSED_HOME).await;
    assert_eq!(store.proposal(close.id).await.unwrap().status, ProposalStatus::Pending, "a closure needs a person");
    // The automatic decisions are in the audit log with the rule that took them.
    let log = store.audit_log(kommune()).await.unwrap();
    let by_rule = log.iter().find(|e| e.proposal_id == Some(update.id)).expect("the update's decision is logged");
    assert!(by_rule.automatic && by_rule.actor.starts_with("policy:"), "{by_rule:?}");
    assert!(by_rule.detail.as_deref().unwrap_or("").contains("run by olga"), "{by_rule:?}");
    // The SOR-only unit is kept: nothing proposes to close it.
    assert!(!all(store).await.iter().any(|p| p.key.sor_id == Some(sor_id(7).to_string())));
    // A person closes the home.
    decide(store, &anna, close.id, Decision::Approve, None).await.unwrap();
}

#[test]
fn a_municipality_can_override_the_sync_policy_in_the_wave_plan_but_never_let_closures_go_unseen() {
    let plan = |policy: &str| {
        format!(
            "[[wave]]\nname = \"pilots\"\n\n[[wave.municipality]]\nname = \"Faxe\"\nkommunekode = \"320\"\n\
             cvr = \"29188505\"\n{policy}\n"
        )
    };
    let parsed =
        sorsync::waves::plan::parse_plan(&plan("policy.name = \"auto\"\npolicy.link_auto_min = 0.9995"), "w.toml")
            .unwrap();
    let (_, faxe) = parsed.municipality(KommuneKode::parse("320").unwrap()).unwrap();
    let policy = faxe.sync_policy(&SyncPolicy::default()).unwrap();
    assert_eq!(policy.name, sorsync::matching::policy::Who::Auto);
    assert_eq!(policy.link_auto_min, 0.9995);
    assert_eq!(policy.phone, SyncPolicy::default().phone, "keys left out keep the configured value");
    for bad in ["policy.close = \"auto\"", "policy.link_auto_min = 0.5", "policy.adress = \"auto\""] {
        let err = sorsync::waves::plan::parse_plan(&plan(bad), "w.toml").unwrap_err();
        assert!(err.to_string().contains("policy"), "{bad}: {err}");
        assert!(
            err.to_string().contains("Faxe") || err.to_string().contains("320"),
            "the error names the municipality: {err}"
        );
    }
}

async fn a_person_linking_a_unit_decides_what_follows_automatically_too(db: &TestDb) {
    let store = &db.store;
    let (anna, _) = people(store).await;
    run(store).await;
    let link = find(store, ProposalKind::Link, SOLGAARDEN).await;
    let update = find(store, ProposalKind::Update, SOLGAARDEN).await;
    let (_, followed) =
        decide_case(store, &anna, link.id, Decision::Approve, None, &SyncPolicy::default()).await.unwrap();
    assert_eq!(followed, vec![update.id], "the phone follows from the link by the default policy");
    assert_eq!(store.proposal(update.id).await.unwrap().status, ProposalStatus::Approved);
    let log = store.audit_log(kommune()).await.unwrap();
    let entry = log.iter().find(|e| e.proposal_id == Some(update.id)).unwrap();
    assert!(
        entry.automatic && entry.detail.as_deref().unwrap_or("").contains("after anna linked the unit"),
        "{entry:?}"
    );
}
