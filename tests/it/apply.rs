//! Tests: plans and the exactly-once apply engine against in-memory SOR and FK-ORG writers with
//! injected faults (tests/it/apply/fake.rs); roles; closure limit; stale plans; audit log.
//!
//! Store scenarios run on SQLite and on PostgreSQL (`SORSYNC_TEST_POSTGRES_URL`).

mod fake;

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use serde_json::json;
use sorsync::apply::port::IdempotencyKey;
use sorsync::apply::{
    apply_plan, build_plan, ApplyError, ApplyOptions, ApplyReport, ClosureLimit, Plan, PlannedChange, RetryPolicy,
    StepStatus,
};
use sorsync::domain::{FkTree, FkUnit, FkUuid, KommuneKode, SorId, SorKind, SorTree, SorUnit};
use sorsync::matching::json::ProposalDto;
use sorsync::matching::ProposalKind;
use sorsync::review::{
    auto_approve, choose_alternative, create_new, decide, grant, link_by_hand, no_match, proposals_with_lifecycle,
    Actor, ConfidenceBand, Decision, Lifecycle, ReviewError, Role,
};
use sorsync::store::{
    ChangeEnd, ChangeFinished, ChangeState, NewAuditEntry, NewChange, NewProposal, ProposalKey, ProposalStatus,
    RunPlan, Store,
};

use crate::test_db::TestDb;
use fake::{FakeFk, FakeSor, Fault};

on_sqlite_and_postgres!(
    a_plan_applies_every_kind_of_change_once_and_writes_new_sor_ids_back,
    the_same_approved_proposals_always_make_the_same_keys,
    a_stale_plan_is_refused_and_says_which_register_changed,
    the_closure_limit_holds_back_only_the_excess_and_named_closures_go_through,
    only_a_sor_administrator_of_that_municipality_may_approve_or_decide_by_hand,
    operators_apply_plans_but_organisation_administrators_may_not,
    a_temporary_failure_is_retried_and_applied_once,
    a_permanent_failure_is_quarantined_while_the_rest_applies,
    an_answer_lost_after_applying_is_found_by_key_on_the_rerun_and_nothing_is_doubled,
    the_audit_log_shows_each_approval_and_write_with_before_and_after,
    auto_approval_approves_only_unflagged_links_in_its_band_as_the_rule,
    choosing_an_alternative_or_creating_new_replaces_the_proposed_link,
    the_audit_log_refuses_changes_and_deletions,
    a_create_under_a_unit_created_by_an_earlier_plan_goes_under_its_new_sor_id,
    a_plan_step_for_a_proposal_rejected_after_planning_is_refused,
    a_tampered_plan_step_is_refused_and_nothing_is_sent,
    a_second_apply_while_the_lock_is_held_is_refused,
    a_rerun_from_changed_data_supersedes_an_approved_unsent_create_so_one_fk_unit_gets_one_sor_unit,
    making_a_new_plan_does_not_let_held_closures_through_unnamed,
    a_create_answered_without_a_sor_id_is_looked_up_not_quarantined,
    a_write_back_over_another_sor_id_in_fk_org_is_held_back_not_overwritten,
    a_sor_id_set_in_fk_org_after_the_snapshot_is_held_back_and_written_once_it_is_gone,
    a_key_recorded_by_someone_else_is_in_flight_and_only_a_sending_change_is_finished,
    a_sor_id_handed_out_again_after_a_sor_restart_is_a_fault_naming_both_units_not_a_dropped_link,
    a_sor_stand_in_restarted_with_its_state_file_hands_out_new_sor_ids_and_knows_its_keys,
);

// ---------------------------------------------------------------------------------------------
// A municipality with 40 SOR units under one institution

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

pub fn kommune() -> KommuneKode {
    KommuneKode::parse("350").unwrap()
}

fn other_kommune() -> KommuneKode {
    KommuneKode::parse("360").unwrap()
}

pub fn fk_id(n: u128) -> FkUuid {
    FkUuid::from_uuid(uuid::Uuid::from_u128(0x2000_0000_0000_4000_8000_0000_0000_0000 + n))
}

pub fn sor_id(n: u64) -> SorId {
    SorId::from_running_number(1000 + n)
}

const OE_COUNT: u64 = 40;

fn fk_tree(renamed: Option<&str>) -> FkTree {
    let mut units =
        vec![FkUnit::new(fk_id(1), "Testby Kommune", None), FkUnit::new(fk_id(2), "Sundhed", Some(fk_id(1)))];
    for n in 10..10 + u128::from(OE_COUNT) {
        units.push(FkUnit::new(fk_id(n), format!("Enhed {n}"), Some(fk_id(2))));
    }
    for n in 100..110 {
        let mut u = FkUnit::new(fk_id(n), format!("Ny enhed {n}"), Some(fk_id(2)));
        u.postal_address = Some(format!("Nyvej {n}, 4000 Testby"));
        units.push(u);
    }
    if let Some(name) = renamed {
        units[2].enhedsnavn = name.to_string();
    }
    FkTree::new(None, units, Vec::new()).unwrap()
}

fn sor_units() -> Vec<(SorId, String, Option<SorId>)> {
    let mut out =
        vec![(sor_id(1), "Testby Kommune".to_string(), None), (sor_id(2), "Sundhed".to_string(), Some(sor_id(1)))];
    for n in 10..10 + OE_COUNT {
        out.push((sor_id(n), format!("Enhed {n}"), Some(sor_id(2))));
    }
    out
}

fn sor_tree(renamed: Option<&str>) -> SorTree {
    let units = sor_units()
        .into_iter()
        .enumerate()
        .map(|(i, (id, name, parent))| {
            let kind = match i {
                0 => SorKind::InstitutionOwner,
                1 => SorKind::HealthInstitution,
                _ => SorKind::OrganizationalUnit,
            };
            let name = if i == 2 { renamed.map_or(name.clone(), str::to_string) } else { name };
            SorUnit::new(id, kind, name, parent)
        })
        .collect();
    SorTree::new(units).unwrap()
}

fn fake_sor() -> FakeSor {
    let units = sor_units();
    let refs: Vec<(SorId, &str, Option<SorId>)> = units.iter().map(|(i, n, p)| (*i, n.as_str(), *p)).collect();
    FakeSor::with_units(&refs)
}

pub struct World {
    pub fk_snapshot: i64,
    pub sor_snapshot: i64,
    pub anna: Actor,
    pub olga: Actor,
}

/// Imports both registers for the municipality and grants anna (SOR administrator) and olga (operator).
async fn world(store: &Store) -> World {
    let fk_snapshot = store.import_fkorg(kommune(), "fk.json", &fk_tree(None)).await.unwrap().snapshot_id;
    let sor_snapshot = store.import_sor("sor.xml", Some(kommune()), &sor_tree(None)).await.unwrap().snapshot_id;
    grant(store, None, "anna", kommune(), Role::SorAdmin).await.unwrap();
    grant(store, None, "olga", kommune(), Role::Operator).await.unwrap();
    World { fk_snapshot, sor_snapshot, anna: Actor::new("anna"), olga: Actor::new("olga") }
}

/// Records one pending proposal and returns its id.
async fn propose(
    w: &World,
    store: &Store,
    kind: &str,
    fk: u128,
    sor: Option<SorId>,
    parent: Option<SorId>,
    payload: serde_json::Value,
) -> i64 {
    let candidate = NewProposal {
        key: ProposalKey {
            kind: ProposalKind::parse(kind).expect("kind"),
            fk_uuid: Some(fk_id(fk).to_string()),
            sor_id: sor.map(|s| s.to_string()),
            parent_sor_id: parent.map(|s| s.to_string()),
        },
        confidence: payload.get("confidence").and_then(|c| c.as_f64()),
        payload: ProposalDto::from_key_and_json(
            ProposalKind::parse(kind).expect("kind"),
            Some(&fk_id(fk).to_string()),
            sor.map(|s| s.to_string()).as_deref(),
            parent.map(|s| s.to_string()).as_deref(),
            &payload,
        )
        .expect("payload"),
        data_hash: format!("hash-{kind}-{fk}"),
    };
    let ids = store
        .record_proposals(kommune(), w.fk_snapshot, w.sor_snapshot, &[candidate], |_| RunPlan {
            supersede: vec![],
            insert: vec![0],
        })
        .await
        .unwrap();
    ids[0]
}

async fn approved(
    w: &World,
    store: &Store,
    kind: &str,
    fk: u128,
    sor: Option<SorId>,
    parent: Option<SorId>,
    payload: serde_json::Value,
) -> i64 {
    // A follow-up is approved only once its case is decided: link the unit first.
    if ProposalKind::parse(kind).expect("kind").is_follow_up() {
        let sor = sor.expect("a follow-up names its SOR unit");
        let linked = store.approved_link_ids(kommune()).await.unwrap();
        if !linked.iter().any(|(f, s)| *f == fk_id(fk) && *s == sor) {
            let link = propose(w, store, "link", fk, Some(sor), None, link_payload(fk, sor, 0.99)).await;
            decide(store, &w.anna, link, Decision::Approve, Some("same unit")).await.unwrap();
        }
    }
    let id = propose(w, store, kind, fk, sor, parent, payload).await;
    decide(store, &w.anna, id, Decision::Approve, Some("looks right")).await.unwrap();
    id
}

fn link_payload(fk: u128, sor: SorId, confidence: f64) -> serde_json::Value {
    json!({"kind": "link", "fk_uuid": fk_id(fk).to_string(), "sor_id": sor.to_string(), "confidence": confidence,
           "explanation": [], "alternatives": [{"sor_id": sor_id(11).to_string(), "confidence": 0.2}],
           "basis": "matched", "flags": [], "fk_name": format!("Enhed {fk}"), "sor_name": format!("Enhed {fk}")})
}

/// The id of the link proposal of FK-ORG unit `fk`.
async fn link_id(store: &Store, fk: u128) -> i64 {
    let all = store.proposals(kommune(), None).await.unwrap();
    all.iter().find(|p| p.key.kind == ProposalKind::Link && p.key.fk_uuid == Some(fk_id(fk).to_string())).unwrap().id
}

async fn approve_link(w: &World, store: &Store, fk: u128, sor: SorId) -> i64 {
    approved(w, store, "link", fk, Some(sor), None, link_payload(fk, sor, 0.99)).await
}

async fn approve_create(w: &World, store: &Store, fk: u128, parent_fk: u128, parent: SorId) -> i64 {
    let payload = json!({"kind": "create", "fk_uuid": fk_id(fk).to_string(), "parent_sor_id": parent.to_string(),
                         "name": format!("Ny enhed {fk}"), "parent_fk_uuid": fk_id(parent_fk).to_string()});
    approved(w, store, "create", fk, None, Some(parent), payload).await
}

async fn approve_update(w: &World, store: &Store, fk: u128, sor: SorId, phone: &str) -> i64 {
    let payload = json!({"kind": "update", "fk_uuid": fk_id(fk).to_string(), "sor_id": sor.to_string(),
                         "changes": [{"field": "phone", "from": null, "to": phone}]});
    approved(w, store, "update", fk, Some(sor), None, payload).await
}

async fn approve_move(w: &World, store: &Store, fk: u128, sor: SorId, to: SorId) -> i64 {
    let payload = json!({"kind": "move", "fk_uuid": fk_id(fk).to_string(), "sor_id": sor.to_string(),
                         "new_parent_sor_id": to.to_string(), "old_parent_sor_id": sor_id(2).to_string()});
    approved(w, store, "move", fk, Some(sor), Some(to), payload).await
}

async fn approve_close(w: &World, store: &Store, fk: u128, sor: SorId) -> i64 {
    let payload = json!({"kind": "close", "fk_uuid": fk_id(fk).to_string(), "sor_id": sor.to_string(),
                         "name": format!("Enhed {fk}")});
    approved(w, store, "close", fk, Some(sor), None, payload).await
}

/// Fast retries for tests: the budget allows a handful of attempts.
fn opts() -> ApplyOptions {
    ApplyOptions {
        retry: RetryPolicy {
            budget: Duration::from_secs(5),
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retries: None,
        },
        ..ApplyOptions::at(Utc::now())
    }
}

fn key_of(plan: &Plan, proposal_id: i64, op: &str) -> IdempotencyKey {
    plan.steps.iter().find(|s| s.proposal_id == proposal_id && s.change.op() == op).map(|s| s.key.clone()).unwrap()
}

fn status_of(report: &ApplyReport, key: &IdempotencyKey) -> StepStatus {
    report.steps.iter().find(|s| &s.key == key).map(|s| s.status).unwrap()
}

fn no_key_twice(sor: &FakeSor) {
    let effects = sor.effects();
    let mut unique = effects.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), effects.len(), "a change took effect twice: {effects:?}");
}

async fn lifecycle_of(store: &Store, id: i64) -> Lifecycle {
    proposals_with_lifecycle(store, kommune()).await.unwrap().into_iter().find(|l| l.proposal.id == id).unwrap().state
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async fn a_plan_step_for_a_proposal_rejected_after_planning_is_refused(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    approve_link(&w, store, 14, sor_id(14)).await;
    let pending = propose(&w, store, "close", 14, Some(sor_id(14)), None, json!({"name": "Enhed 14"})).await;
    let mut plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    // The operator adds a step for the pending closure to the plan file; then anna rejects it.
    let p = store.proposal(pending).await.unwrap();
    let links = store.approved_link_ids(kommune()).await.unwrap();
    let extra = sorsync::apply::plan_steps(kommune(), &[p], None, &links, &[], today()).unwrap();
    plan.steps.extend(extra);
    decide(store, &w.anna, pending, Decision::Reject, Some("still in use")).await.unwrap();
    let (sor, fk) = (fake_sor(), FakeFk::default());
    let err = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap_err();
    assert!(matches!(err, ApplyError::NotApproved(_)), "{err}");
    let message = err.to_string();
    assert!(message.contains(&format!("proposal {pending}")) && message.contains("rejected"), "{message}");
    assert_eq!(sor.calls(), 0, "nothing was sent");
    assert_eq!(sor.units()[&sor_id(14)].to_date, None);
}

async fn a_second_apply_while_the_lock_is_held_is_refused(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    // Another apply of the municipality is at work (it holds the lock).
    let other = store.try_lock_apply(kommune(), Duration::from_secs(600)).await.unwrap().unwrap();
    let (sor, fk) = (fake_sor(), FakeFk::default());
    let err = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap_err();
    assert!(matches!(err, ApplyError::Busy { .. }), "{err}");
    assert!(err.to_string().contains("another apply for municipality 350 is running"), "{err}");
    assert_eq!(sor.calls(), 0, "nothing was sent");
    // Another municipality is not held up.
    let elsewhere = store.try_lock_apply(other_kommune(), Duration::from_secs(600)).await.unwrap().unwrap();
    store.unlock_apply(elsewhere).await.unwrap();
    // Once the other apply ends, this one runs.
    store.unlock_apply(other).await.unwrap();
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.count(StepStatus::Applied), 2, "the link's write-back and the update: {report:?}");
    // And it let go of the lock itself.
    let again = store.try_lock_apply(kommune(), Duration::from_secs(600)).await.unwrap();
    assert!(again.is_ok(), "the lock was not released: {again:?}");
}

async fn a_rerun_from_changed_data_supersedes_an_approved_unsent_create_so_one_fk_unit_gets_one_sor_unit(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let old = approve_create(&w, store, 100, 2, sor_id(2)).await;
    // A later run proposes the same create from changed FK-ORG data (another hash).
    let mut candidate = store.proposal(old).await.unwrap();
    candidate.data_hash = "hash-after-the-rename".into();
    let new = NewProposal {
        key: candidate.key.clone(),
        confidence: None,
        payload: candidate.payload.clone(),
        data_hash: candidate.data_hash.clone(),
    };
    let candidates = [new];
    let ids = store
        .record_proposals(kommune(), w.fk_snapshot, w.sor_snapshot, &candidates, |state| {
            sorsync::review::plan_run(state, &candidates).0
        })
        .await
        .unwrap();
    assert_eq!(ids.len(), 1, "the changed create is proposed again");
    assert_eq!(store.proposal(old).await.unwrap().status, ProposalStatus::Superseded, "the old approval is replaced");
    decide(store, &w.anna, ids[0], Decision::Approve, None).await.unwrap();
    // Another create for the same FK-ORG unit (under another parent) cannot be approved next to it.
    let payload = json!({"kind": "create", "fk_uuid": fk_id(100).to_string(), "parent_sor_id": sor_id(10).to_string(),
                         "name": "Ny enhed 100", "parent_fk_uuid": fk_id(10).to_string()});
    let other = propose(&w, store, "create", 100, None, Some(sor_id(10)), payload).await;
    let err = decide(store, &w.anna, other, Decision::Approve, None).await.unwrap_err();
    assert!(err.to_string().contains(&format!("has approved proposal {}", ids[0])), "{err}");
    // Nor a link for it.
    let link = propose(&w, store, "link", 100, Some(sor_id(20)), None, link_payload(100, sor_id(20), 0.9)).await;
    assert!(decide(store, &w.anna, link, Decision::Approve, None).await.is_err());
    // The plan creates one SOR unit for the FK-ORG unit.
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    assert_eq!(plan.counts().creates, 1, "{}", plan.summary());
    let (sor, fk) = (fake_sor(), FakeFk::default());
    apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(sor.units().values().filter(|u| u.fk_uuid == Some(fk_id(100))).count(), 1);
}

async fn a_tampered_plan_step_is_refused_and_nothing_is_sent(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let close = approve_close(&w, store, 14, sor_id(14)).await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    // The approved closure of unit 14 is edited to close unit 15 instead.
    let mut tampered = plan.clone();
    let at = plan.steps.iter().position(|s| s.proposal_id == close).unwrap();
    tampered.steps[at].change = PlannedChange::Close { sor_id: sor_id(15), to_date: today() };
    let (sor, fk) = (fake_sor(), FakeFk::default());
    let err = apply_plan(store, &tampered, &sor, &fk, &w.olga, &opts()).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&format!("proposal {close}")) && message.contains("differs"), "{message}");
    assert_eq!(sor.calls(), 0, "nothing was sent");
    // A step with a made-up proposal id is refused too.
    let mut invented = plan.clone();
    invented.steps[at].proposal_id = 999_999;
    let err = apply_plan(store, &invented, &sor, &fk, &w.olga, &opts()).await.unwrap_err();
    assert!(err.to_string().contains("no such proposal"), "{err}");
    // The plan as made applies: the closure and the write-back of the unit's link.
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.count(StepStatus::Applied), 2, "{report:?}");
}

async fn a_plan_applies_every_kind_of_change_once_and_writes_new_sor_ids_back(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let link = approve_link(&w, store, 10, sor_id(10)).await;
    // A create under a unit created in the same plan: 101 goes under 100.
    let child = approve_create(&w, store, 101, 100, sor_id(2)).await;
    let parent = approve_create(&w, store, 100, 2, sor_id(2)).await;
    let update = approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    let mv = approve_move(&w, store, 12, sor_id(12), sor_id(13)).await;
    let close = approve_close(&w, store, 14, sor_id(14)).await;

    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let c = plan.counts();
    // Write-backs: the link, both new units, and the links the update, move and closure follow from.
    assert_eq!((c.creates, c.updates, c.moves, c.closes, c.write_backs), (2, 1, 1, 1, 6), "{}", plan.summary());
    let parent_pos = plan.steps.iter().position(|s| s.key == key_of(&plan, parent, "create")).unwrap();
    let child_pos = plan.steps.iter().position(|s| s.key == key_of(&plan, child, "create")).unwrap();
    assert!(parent_pos < child_pos, "the parent is created first");

    let (sor, fk) = (fake_sor().strict(), FakeFk::default());
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.exit_code(), 0, "{report:?}");
    assert_eq!(report.count(StepStatus::Applied), plan.steps.len());

    let units = sor.units();
    let new_parent = units.iter().find(|(_, u)| u.name == "Ny enhed 100").map(|(id, _)| *id).unwrap();
    let new_child = units.iter().find(|(_, u)| u.name == "Ny enhed 101").unwrap();
    assert_eq!(new_child.1.parent, Some(new_parent), "the child went under its new parent's SOR-ID");
    assert_eq!(units[&sor_id(11)].fields.get("phone"), Some(&Some("+4512345678".to_string())));
    assert_eq!(units[&sor_id(12)].parent, Some(sor_id(13)));
    assert_eq!(units[&sor_id(14)].to_date, Some(today()));
    // Write-backs: the linked unit and both new units carry their SOR-IDs in FK-ORG.
    let written = fk.sor_ids();
    assert!(written[&fk_id(10)].contains(&sor_id(10)));
    assert!(written[&fk_id(100)].contains(&new_parent));
    // The new units are linked in the store.
    let links = store.approved_link_ids(kommune()).await.unwrap();
    assert!(links.contains(&(fk_id(100), new_parent)));
    for id in [link, child, parent, update, mv, close] {
        assert_eq!(lifecycle_of(store, id).await, Lifecycle::Applied, "proposal {id}");
    }

    // Applying the same plan again sends nothing.
    let calls = sor.calls();
    let again = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(again.count(StepStatus::AlreadyApplied), plan.steps.len());
    assert_eq!(sor.calls(), calls);
    // And a new plan has nothing left to do.
    assert!(build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap().steps.is_empty());
    no_key_twice(&sor);
}

async fn the_same_approved_proposals_always_make_the_same_keys(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    approve_create(&w, store, 100, 2, sor_id(2)).await;
    approve_close(&w, store, 14, sor_id(14)).await;
    let first = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let next_day = build_plan(store, kommune(), &w.anna, today().succ_opt().unwrap(), Utc::now()).await.unwrap();
    let keys = |p: &Plan| p.steps.iter().map(|s| s.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&first), keys(&next_day));
    assert_eq!(first.plan_id, next_day.plan_id);
    // The plan survives its file.
    assert_eq!(Plan::from_json(&first.to_json()).unwrap(), first);
}

async fn a_stale_plan_is_refused_and_says_which_register_changed(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    // Someone renames a SOR unit and the new file is imported.
    let newer = store.import_sor("sor2.xml", Some(kommune()), &sor_tree(Some("Omdøbt"))).await.unwrap().snapshot_id;
    let (sor, fk) = (fake_sor(), FakeFk::default());
    let err = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap_err();
    let ApplyError::Stale(changed) = &err else { panic!("expected a stale plan, got {err}") };
    assert_eq!(changed.len(), 1);
    assert_eq!(
        (changed[0].planned_snapshot, changed[0].latest_snapshot, changed[0].units_differing),
        (w.sor_snapshot, newer, 1)
    );
    let message = err.to_string();
    assert!(
        message.contains("SOR changed")
            && message.contains(&format!("snapshot {newer}"))
            && message.contains("1 units differ"),
        "{message}"
    );
    assert_eq!(sor.calls(), 0, "nothing was sent");
    // FK-ORG changing is caught too.
    store.import_fkorg(kommune(), "fk2.json", &fk_tree(Some("Nyt navn"))).await.unwrap();
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    store.import_fkorg(kommune(), "fk3.json", &fk_tree(None)).await.unwrap();
    let err = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap_err();
    assert!(err.to_string().contains("FK-ORG changed"), "{err}");
}

async fn the_closure_limit_holds_back_only_the_excess_and_named_closures_go_through(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let mut closes = Vec::new();
    for n in 20..25 {
        closes.push((approve_close(&w, store, u128::from(n), sor_id(n)).await, sor_id(n)));
    }
    let update = approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    // 42 SOR units: 5 % is 2 (rounded down), smaller than 10.
    assert_eq!(plan.sor_units, 42);
    assert_eq!(ClosureLimit::default().limit(plan.sor_units), 2);
    let (sor, fk) = (fake_sor(), FakeFk::default());
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.closure_limit, 2);
    assert_eq!(report.exit_code(), 2);
    let held: Vec<SorId> = report.with_status(StepStatus::HeldBack).filter_map(|s| s.sor_id).collect();
    assert_eq!(held, vec![sor_id(22), sor_id(23), sor_id(24)], "only the closures beyond the limit are held back");
    assert_eq!(status_of(&report, &key_of(&plan, update, "update")), StepStatus::Applied, "the rest applies");
    let closed = |sor: &FakeSor| {
        sor.units().into_iter().filter(|(_, u)| u.to_date.is_some()).map(|(id, _)| id).collect::<Vec<_>>()
    };
    assert_eq!(closed(&sor), vec![sor_id(20), sor_id(21)]);

    // Naming two of the three held closures releases exactly those two.
    let named = ApplyOptions { allow_closures: vec![sor_id(22), sor_id(24)], ..opts() };
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &named).await.unwrap();
    assert_eq!(closed(&sor), vec![sor_id(20), sor_id(21), sor_id(22), sor_id(24)]);
    let held: Vec<SorId> = report.with_status(StepStatus::HeldBack).filter_map(|s| s.sor_id).collect();
    assert_eq!(held, vec![sor_id(23)]);
    assert_eq!(lifecycle_of(store, closes[3].0).await, Lifecycle::Approved, "a held closure stays approved");
    no_key_twice(&sor);
}

async fn making_a_new_plan_does_not_let_held_closures_through_unnamed(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    for n in 20..23 {
        approve_close(&w, store, u128::from(n), sor_id(n)).await;
    }
    let (sor, fk) = (fake_sor(), FakeFk::default());
    let closed = |sor: &FakeSor| {
        sor.units().into_iter().filter(|(_, u)| u.to_date.is_some()).map(|(id, _)| id).collect::<Vec<_>>()
    };
    let first = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let report = apply_plan(store, &first, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.count(StepStatus::HeldBack), 1, "limit 2: one of three held");
    // A new plan holds only the held closure and one more: the limit is used up for today.
    approve_close(&w, store, 23, sor_id(23)).await;
    let second = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    assert_eq!(second.counts().closes, 2);
    let report = apply_plan(store, &second, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.count(StepStatus::HeldBack), 2, "{report:?}");
    assert_eq!(closed(&sor), vec![sor_id(20), sor_id(21)]);
    // Named closures go through and do not use up the limit for the others; unnamed ones stay held.
    let named = ApplyOptions { allow_closures: vec![sor_id(23)], ..opts() };
    let third = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let report = apply_plan(store, &third, &sor, &fk, &w.olga, &named).await.unwrap();
    assert_eq!(closed(&sor), vec![sor_id(20), sor_id(21), sor_id(23)]);
    assert_eq!(report.with_status(StepStatus::HeldBack).filter_map(|s| s.sor_id).collect::<Vec<_>>(), vec![sor_id(22)]);
    let fourth = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let report = apply_plan(store, &fourth, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.count(StepStatus::HeldBack), 1, "still held without its name");
    // Who named which closures is in the audit log.
    let log = store.audit_log(kommune()).await.unwrap();
    assert!(log.iter().any(|e| e.action == "allow_closures"
        && e.actor == "olga"
        && e.detail.as_deref() == Some(sor_id(23).to_string().as_str())));
}

async fn a_create_answered_without_a_sor_id_is_looked_up_not_quarantined(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let create = approve_create(&w, store, 100, 2, sor_id(2)).await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let (sor, fk) = (fake_sor().strict(), FakeFk::default());
    let key = key_of(&plan, create, "create");
    sor.inject(&key, vec![Fault::AppliedWithoutId]);
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.exit_code(), 0, "{report:?}");
    assert_eq!(status_of(&report, &key), StepStatus::FoundApplied, "found by key on the next attempt");
    assert_eq!(sor.units().values().filter(|u| u.name == "Ny enhed 100").count(), 1, "created once");
    assert_eq!(lifecycle_of(store, create).await, Lifecycle::Applied);
    no_key_twice(&sor);
}

async fn a_write_back_over_another_sor_id_in_fk_org_is_held_back_not_overwritten(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    approve_link(&w, store, 10, sor_id(10)).await;
    approve_link(&w, store, 11, sor_id(11)).await;
    // FK-ORG already shows SOR-IDs: another one on unit 10, the same one on unit 11.
    let mut tree = fk_tree(None);
    for u in tree.units.iter_mut() {
        if u.uuid == fk_id(10) {
            u.sor_id = Some(sor_id(30));
        } else if u.uuid == fk_id(11) {
            u.sor_id = Some(sor_id(11));
        }
    }
    store.import_fkorg(kommune(), "fk2.json", &tree).await.unwrap();
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let (sor, fk) = (fake_sor(), FakeFk::default());
    fk.show(fk_id(10), sor_id(30));
    fk.show(fk_id(11), sor_id(11));
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.exit_code(), 2, "{report:?}");
    let held: Vec<&str> = report.with_status(StepStatus::HeldBack).filter_map(|s| s.detail.as_deref()).collect();
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(held[0].contains(&sor_id(30).to_string()), "{}", held[0]);
    assert_eq!(fk.sor_ids()[&fk_id(10)], [sor_id(30)].into(), "unit 10 was not overwritten");
    // The audit's "before" shows what FK-ORG had.
    let log = store.audit_log(kommune()).await.unwrap();
    let write = log
        .iter()
        .find(|e| e.action == "write" && e.before.as_deref().is_some_and(|b| b.contains(&fk_id(11).to_string())))
        .unwrap();
    assert!(write.before.as_deref().unwrap().contains(&sor_id(11).to_string()), "{:?}", write.before);
}

async fn a_sor_id_set_in_fk_org_after_the_snapshot_is_held_back_and_written_once_it_is_gone(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    approve_link(&w, store, 10, sor_id(10)).await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let write_back = plan.steps.iter().find(|s| s.change.op() == "write_back").expect("a write-back step").key.clone();
    // The snapshot shows no SOR-ID on unit 10; someone sets one in FK-ORG after it was taken.
    let (sor, fk) = (fake_sor(), FakeFk::default());
    fk.show(fk_id(10), sor_id(30));
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(status_of(&report, &write_back), StepStatus::HeldBack, "{report:?}");
    assert_eq!(fk.sor_ids()[&fk_id(10)], [sor_id(30)].into(), "what FK-ORG shows now was not overwritten");
    assert!(store.change(&write_back.0).await.unwrap().is_none(), "held back, not recorded: the next run reads again");

    // Once FK-ORG no longer shows it, the same plan writes the SOR-ID.
    let fk = FakeFk::default();
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(status_of(&report, &write_back), StepStatus::Applied, "{report:?}");
    assert_eq!(fk.sor_ids()[&fk_id(10)], [sor_id(10)].into());
}

async fn a_key_recorded_by_someone_else_is_in_flight_and_only_a_sending_change_is_finished(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let id = approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    let change = NewChange {
        key: "k-1",
        kommune: kommune(),
        proposal_id: id,
        plan_id: "p",
        op: "update",
        change_json: "{}",
        sor_id: None,
        actor: "olga",
    };
    let (first, ours) = store.begin_change(&change, false).await.unwrap();
    assert!(ours && first.state == ChangeState::Sending);
    // A second process recording the same key does not own it: it is in flight.
    let (second, ours) = store.begin_change(&NewChange { actor: "other", ..change.clone() }, false).await.unwrap();
    assert!(!ours, "the lost insert is reported");
    assert_eq!((second.state, second.actor.as_str()), (ChangeState::Sending, "olga"));
    let audit = NewAuditEntry { actor: "olga".into(), action: "write".into(), ..NewAuditEntry::default() };
    let end = || ChangeEnd::Applied { outcome_json: "{}", sor_id: None };
    assert_eq!(store.finish_change(kommune(), "k-1", end(), 1, &audit, None).await.unwrap(), ChangeFinished::Finished);
    // Finishing it again (a second process) changes nothing and writes no audit entry.
    let before = store.audit_log(kommune()).await.unwrap().len();
    assert_eq!(
        store.finish_change(kommune(), "k-1", ChangeEnd::Failed { reason: "late" }, 1, &audit, None).await.unwrap(),
        ChangeFinished::SettledElsewhere
    );
    assert_eq!(store.change("k-1").await.unwrap().unwrap().state, ChangeState::Applied);
    assert_eq!(store.audit_log(kommune()).await.unwrap().len(), before);
}

async fn only_a_sor_administrator_of_that_municipality_may_approve_or_decide_by_hand(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    grant(store, None, "oscar", kommune(), Role::OrgAdmin).await.unwrap();
    grant(store, None, "sigrid", other_kommune(), Role::SorAdmin).await.unwrap();
    let id = propose(&w, store, "link", 10, Some(sor_id(10)), None, link_payload(10, sor_id(10), 0.9)).await;
    for who in ["olga", "oscar", "sigrid", "nobody"] {
        let actor = Actor::new(who);
        let err = decide(store, &actor, id, Decision::Approve, None).await.unwrap_err();
        assert!(matches!(err, ReviewError::NotPermitted { needed: Role::SorAdmin, .. }), "{who}: {err}");
        assert!(no_match(store, &actor, id, None).await.is_err(), "{who} decided no match");
        assert!(choose_alternative(store, &actor, id, sor_id(11), None).await.is_err(), "{who} chose an alternative");
        assert!(create_new(store, &actor, id, None).await.is_err(), "{who} decided create new");
        assert!(
            link_by_hand(store, &actor, kommune(), fk_id(12), sor_id(12), None).await.is_err(),
            "{who} linked by hand"
        );
    }
    assert_eq!(store.proposal(id).await.unwrap().status, ProposalStatus::Pending, "nothing was decided");
    assert!(store.links(kommune()).await.unwrap().is_empty());
    // The municipality's own SOR administrator may.
    link_by_hand(store, &w.anna, kommune(), fk_id(12), sor_id(12), Some("same address")).await.unwrap();
    no_match(store, &w.anna, id, Some("different service")).await.unwrap();
    assert_eq!(store.proposal(id).await.unwrap().status, ProposalStatus::Rejected);
}

async fn operators_apply_plans_but_organisation_administrators_may_not(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    grant(store, None, "oscar", kommune(), Role::OrgAdmin).await.unwrap();
    approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    let oscar = Actor::new("oscar");
    assert!(build_plan(store, kommune(), &oscar, today(), Utc::now()).await.is_err());
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let (sor, fk) = (fake_sor(), FakeFk::default());
    let err = apply_plan(store, &plan, &sor, &fk, &oscar, &opts()).await.unwrap_err();
    assert!(matches!(err, ApplyError::NotPermitted(_)), "{err}");
    assert_eq!(sor.calls(), 0);
    // An operator of another municipality may not either.
    grant(store, None, "otto", other_kommune(), Role::Operator).await.unwrap();
    assert!(apply_plan(store, &plan, &sor, &fk, &Actor::new("otto"), &opts()).await.is_err());
    // The SOR administrator may.
    assert_eq!(apply_plan(store, &plan, &sor, &fk, &w.anna, &opts()).await.unwrap().exit_code(), 0);
}

async fn a_temporary_failure_is_retried_and_applied_once(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let create = approve_create(&w, store, 100, 2, sor_id(2)).await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let (sor, fk) = (fake_sor().strict(), FakeFk::default());
    let key = key_of(&plan, create, "create");
    sor.inject(&key, vec![Fault::Temporary, Fault::Temporary, Fault::AppliedButLost]);
    fk.inject(fk_id(100), vec![Fault::Temporary]);
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.exit_code(), 0, "{report:?}");
    let step = report.steps.iter().find(|s| s.key == key).unwrap();
    assert_eq!(step.attempts, 4);
    assert_eq!(sor.units().values().filter(|u| u.name == "Ny enhed 100").count(), 1, "created once");
    assert_eq!(store.change(&key.0).await.unwrap().unwrap().attempts, 4);
    no_key_twice(&sor);
}

async fn a_permanent_failure_is_quarantined_while_the_rest_applies(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let bad = approve_update(&w, store, 11, sor_id(11), "+4511111111").await;
    let good = approve_update(&w, store, 12, sor_id(12), "+4522222222").await;
    // A create whose parent create is rejected waits (blocked), it is not sent under nothing.
    let parent = approve_create(&w, store, 100, 2, sor_id(2)).await;
    let child = approve_create(&w, store, 101, 100, sor_id(2)).await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let (sor, fk) = (fake_sor(), FakeFk::default());
    sor.inject(&key_of(&plan, bad, "update"), vec![Fault::Permanent("phone number not valid in SOR".into())]);
    sor.inject(&key_of(&plan, parent, "create"), vec![Fault::Permanent("name too long".into())]);
    let report = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(report.exit_code(), 2);
    assert_eq!(status_of(&report, &key_of(&plan, bad, "update")), StepStatus::Quarantined);
    assert_eq!(status_of(&report, &key_of(&plan, good, "update")), StepStatus::Applied);
    assert_eq!(status_of(&report, &key_of(&plan, child, "create")), StepStatus::Blocked);
    assert_eq!(sor.units()[&sor_id(12)].fields.get("phone"), Some(&Some("+4522222222".to_string())));
    // The proposal shows as failed with the reason; a re-run does not send it again.
    let life = proposals_with_lifecycle(store, kommune()).await.unwrap();
    let failed = life.iter().find(|l| l.proposal.id == bad).unwrap();
    assert_eq!((failed.state, failed.failure.as_deref()), (Lifecycle::Failed, Some("phone number not valid in SOR")));
    let calls = sor.calls();
    let again = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(status_of(&again, &key_of(&plan, bad, "update")), StepStatus::Quarantined);
    assert_eq!(sor.calls(), calls, "nothing quarantined was sent again");
}

async fn an_answer_lost_after_applying_is_found_by_key_on_the_rerun_and_nothing_is_doubled(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let create = approve_create(&w, store, 100, 2, sor_id(2)).await;
    let update = approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let (sor, fk) = (fake_sor().strict(), FakeFk::default());
    let key = key_of(&plan, create, "create");
    // SOR creates the unit but the answer never arrives, and the run gives up at once.
    sor.inject(&key, vec![Fault::AppliedButLost]);
    let impatient = ApplyOptions { retry: RetryPolicy { budget: Duration::ZERO, ..opts().retry }, ..opts() };
    let first = apply_plan(store, &plan, &sor, &fk, &w.olga, &impatient).await.unwrap();
    assert_eq!(first.exit_code(), 1, "unfinished: {first:?}");
    assert_eq!(status_of(&first, &key), StepStatus::Unfinished);
    assert_eq!(status_of(&first, &key_of(&plan, update, "update")), StepStatus::Unfinished, "nothing more was sent");
    assert_eq!(store.change(&key.0).await.unwrap().unwrap().state, sorsync::store::ChangeState::Sending);
    assert_eq!(lifecycle_of(store, create).await, Lifecycle::Applying);

    let second = apply_plan(store, &plan, &sor, &fk, &w.olga, &opts()).await.unwrap();
    assert_eq!(second.exit_code(), 0, "{second:?}");
    assert_eq!(status_of(&second, &key), StepStatus::FoundApplied);
    assert!(sor.lookups() >= 1);
    let created: Vec<_> = sor.units().into_iter().filter(|(_, u)| u.name == "Ny enhed 100").collect();
    assert_eq!(created.len(), 1, "the unit exists once");
    assert!(fk.sor_ids()[&fk_id(100)].contains(&created[0].0), "its SOR-ID was written back");
    no_key_twice(&sor);
}

async fn the_audit_log_shows_each_approval_and_write_with_before_and_after(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let update = approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    let link = link_id(store, 11).await;
    let rejected = propose(&w, store, "close", 15, Some(sor_id(15)), None, json!({"kind": "close"})).await;
    decide(store, &w.anna, rejected, Decision::Reject, Some("still open")).await.unwrap();
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    apply_plan(store, &plan, &fake_sor(), &FakeFk::default(), &w.olga, &opts()).await.unwrap();
    let log = decisions_and_writes(store).await;
    let actions: Vec<(&str, &str, Option<i64>)> =
        log.iter().map(|e| (e.action.as_str(), e.actor.as_str(), e.proposal_id)).collect();
    assert_eq!(
        actions,
        vec![
            ("approve", "anna", Some(link)),
            ("approve", "anna", Some(update)),
            ("reject", "anna", Some(rejected)),
            ("write", "olga", Some(link)),
            ("write", "olga", Some(update))
        ]
    );
    let write = &log[4];
    let before: serde_json::Value = serde_json::from_str(write.before.as_deref().unwrap()).unwrap();
    let after: serde_json::Value = serde_json::from_str(write.after.as_deref().unwrap()).unwrap();
    assert_eq!(before["phone"], serde_json::Value::Null);
    assert_eq!(after["phone"], "+4512345678");
    assert_eq!(log[2].detail.as_deref(), Some("still open"));
    assert!(!log[0].at.is_empty());
}

async fn auto_approval_approves_only_unflagged_links_in_its_band_as_the_rule(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let sure = propose(&w, store, "link", 10, Some(sor_id(10)), None, link_payload(10, sor_id(10), 0.99)).await;
    let unsure = propose(&w, store, "link", 11, Some(sor_id(11)), None, link_payload(11, sor_id(11), 0.80)).await;
    let mut flagged_payload = link_payload(12, sor_id(12), 0.99);
    flagged_payload["flags"] = json!(["sor_id_on_several_units"]);
    let flagged = propose(&w, store, "link", 12, Some(sor_id(12)), None, flagged_payload).await;
    // A configured band below the library's floor is raised to it.
    let band = ConfidenceBand { min: 0.5, max: 1.0 };
    let done = auto_approve(store, &w.olga, kommune(), band).await.unwrap();
    let band = band.floored();
    assert_eq!(band.min, ConfidenceBand::FLOOR);
    assert_eq!(done.approved, vec![sure]);
    assert_eq!(done.left_for_review, vec![flagged]);
    assert_eq!(store.proposal(unsure).await.unwrap().status, ProposalStatus::Pending);
    let log: Vec<_> =
        store.audit_log(kommune()).await.unwrap().into_iter().filter(|e| e.action != "grant_role").collect();
    assert_eq!(log.len(), 1);
    assert!(log[0].automatic && log[0].action == "auto_approve" && log[0].actor == band.actor_name(), "{:?}", log[0]);
    assert!(
        log[0].detail.as_deref().unwrap_or("").contains("run by olga"),
        "who started it, beside the rule: {:?}",
        log[0]
    );
}

async fn choosing_an_alternative_or_creating_new_replaces_the_proposed_link(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let wrong = propose(&w, store, "link", 10, Some(sor_id(10)), None, link_payload(10, sor_id(10), 0.7)).await;
    assert!(choose_alternative(store, &w.anna, wrong, sor_id(30), None).await.is_err(), "not an alternative");
    let chosen = choose_alternative(store, &w.anna, wrong, sor_id(11), Some("the other one")).await.unwrap();
    assert_eq!(store.proposal(wrong).await.unwrap().status, ProposalStatus::Rejected);
    assert_eq!(store.proposal(chosen).await.unwrap().status, ProposalStatus::Approved);
    assert!(store.approved_link_ids(kommune()).await.unwrap().contains(&(fk_id(10), sor_id(11))));

    // FK-ORG unit 100 is proposed as a link, but it is new: create it under its parent's SOR unit.
    link_by_hand(store, &w.anna, kommune(), fk_id(2), sor_id(2), None).await.unwrap();
    let not_it = propose(&w, store, "link", 100, Some(sor_id(30)), None, link_payload(100, sor_id(30), 0.6)).await;
    let create = create_new(store, &w.anna, not_it, Some("new unit")).await.unwrap();
    assert_eq!(store.proposal(not_it).await.unwrap().status, ProposalStatus::Rejected);
    let p = store.proposal(create).await.unwrap();
    assert_eq!((p.key.kind.as_str(), p.key.parent_sor_id.clone()), ("create", Some(sor_id(2).to_string())));
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    assert!(plan
        .steps
        .iter()
        .any(|s| matches!(&s.change, PlannedChange::Create { fk_uuid, .. } if *fk_uuid == fk_id(100))));
    let actions: Vec<String> = decisions_and_writes(store).await.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, vec!["reject", "choose_alternative", "link_by_hand", "reject", "create_new"]);
}

async fn a_create_under_a_unit_created_by_an_earlier_plan_goes_under_its_new_sor_id(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    approve_create(&w, store, 100, 2, sor_id(2)).await;
    let (sor, fk) = (fake_sor(), FakeFk::default());
    let first = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    assert_eq!(apply_plan(store, &first, &sor, &fk, &w.olga, &opts()).await.unwrap().exit_code(), 0);
    let new_parent = sor.units().into_iter().find(|(_, u)| u.name == "Ny enhed 100").map(|(id, _)| id).unwrap();
    approve_create(&w, store, 101, 100, sor_id(2)).await;
    let second = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    assert_eq!(second.counts().creates, 1, "{}", second.summary());
    assert_eq!(apply_plan(store, &second, &sor, &fk, &w.olga, &opts()).await.unwrap().exit_code(), 0);
    let child = sor.units().into_iter().find(|(_, u)| u.name == "Ny enhed 101").map(|(_, u)| u).unwrap();
    assert_eq!(child.parent, Some(new_parent));
}

async fn the_audit_log_refuses_changes_and_deletions(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    let tamper = ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"];
    for sql in tamper {
        let refused = if db.url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.is_err()
        } else {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.is_err()
        };
        assert!(refused, "{sql} was allowed");
    }
    let log = decisions_and_writes(store).await;
    assert_eq!((log.len(), log[0].actor.as_str()), (2, "anna"), "the link and the update, both approved by anna");
}

/// The municipality's audit log without the role grants of the test's set-up (grants are
/// audited too).
async fn decisions_and_writes(store: &Store) -> Vec<sorsync::store::AuditEntry> {
    store.audit_log(kommune()).await.unwrap().into_iter().filter(|e| e.action != "grant_role").collect()
}

// ---------------------------------------------------------------------------------------------
// The command line (SQLite)

fn run_cli(db: &TestDb, args: &[&str]) -> (Option<i32>, String, String) {
    let out = crate::support::sorsync()
        .arg("--database-url")
        .arg(&db.url)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_approval_shows_what_it_would_approve_and_needs_a_yes_without_a_terminal() {
    let db = TestDb::sqlite().await;
    let store = &db.store;
    let w = world(store).await;
    let sure = propose(&w, store, "link", 10, Some(sor_id(10)), None, link_payload(10, sor_id(10), 0.97)).await;
    let unsure = propose(&w, store, "link", 11, Some(sor_id(11)), None, link_payload(11, sor_id(11), 0.90)).await;
    crate::support::map_os_users(store, &["anna", "olga"]).await;
    let bulk = ["proposals", "approve", "--kommune", "350", "--all", "--min-confidence", "0.95", "--as", "anna"];
    let (code, out, err) = run_cli(&db, &bulk);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains(&format!("#{sure} ")) && out.contains("1 proposals"), "{out}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(store.proposal(sure).await.unwrap().status, ProposalStatus::Pending, "nothing decided without a yes");

    let (code, out, err) = run_cli(&db, &[&bulk[..], &["--yes"]].concat());
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains(&format!("approved #{sure} as anna")), "{out}");
    assert_eq!(store.proposal(unsure).await.unwrap().status, ProposalStatus::Pending);
    // An operator cannot, in bulk either.
    let (code, _, err) = run_cli(&db, &["proposals", "approve", "--kommune", "350", "--all", "--yes", "--as", "olga"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("olga may not approve"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_export_audit_and_list_work_from_the_command_line() {
    let db = TestDb::sqlite().await;
    let store = &db.store;
    let w = world(store).await;
    let update = approve_update(&w, store, 11, sor_id(11), "+4512345678").await;
    approve_create(&w, store, 100, 2, sor_id(2)).await;
    approve_close(&w, store, 14, sor_id(14)).await;
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let plan_arg = plan_path.to_str().unwrap();
    crate::support::map_os_users(store, &["olga", "oscar"]).await;
    let (code, out, err) =
        run_cli(&db, &["plan", "--kommune", "350", "--out", plan_arg, "--as", "olga", "--date", "2026-12-01"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("1 creates, 1 updates, 0 moves, 1 closes, 3 write-backs"), "{out}");
    let plan = Plan::from_json(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    assert_eq!(plan.effective_date, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    // Organisation administrators may not plan.
    grant(store, None, "oscar", kommune(), Role::OrgAdmin).await.unwrap();
    let (code, _, err) = run_cli(&db, &["plan", "--kommune", "350", "--out", plan_arg, "--as", "oscar"]);
    assert_eq!(code, Some(1), "{err}");

    let csv_path = dir.path().join("changes.csv");
    let (code, _, err) =
        run_cli(&db, &["export-changes", plan_arg, "--format", "csv", "--out", csv_path.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(csv.contains(&format!("Ret;\"=\"\"{}\"\"\"", sor_id(11))), "SOR-IDs are Excel text: {csv}");
    assert!(csv.contains("phone;;\"=\"\"+4512345678\"\"\""), "a phone number is not run as a formula: {csv}");
    assert!(csv.contains("Luk;") && csv.contains("Opret;") && csv.contains("2026-12-01"), "{csv}");
    let xlsx_path = dir.path().join("changes.xlsx");
    let (code, _, err) =
        run_cli(&db, &["export-changes", plan_arg, "--format", "xlsx", "--out", xlsx_path.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::read(&xlsx_path).unwrap().starts_with(b"PK"), "an XLSX (zip) file");

    let (code, out, _) = run_cli(&db, &["audit", "--kommune", "350", "--format", "json"]);
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Role grants are audited too; the first decision is what this test is about.
    let decisions: Vec<&serde_json::Value> =
        json["entries"].as_array().unwrap().iter().filter(|e| e["action"] != "grant_role").collect();
    let grants = json["entries"].as_array().unwrap().len() - decisions.len();
    let first = decisions[0];
    assert_eq!(
        (first["action"].as_str(), first["actor"].as_str(), first["proposal_id"].as_i64()),
        (Some("approve"), Some("anna"), Some(link_id(store, 11).await)),
        "the link the update follows from was approved first"
    );
    assert_eq!(decisions[1]["proposal_id"].as_i64(), Some(update));
    let (_, out, _) = run_cli(&db, &["audit", "--kommune", "350", "--format", "csv"]);
    assert!(out.starts_with('\u{feff}') && out.contains("approve"), "{out}");
    let (_, out, _) = run_cli(&db, &["audit", "--kommune", "350"]);
    assert!(
        out.contains(&format!("{} entries", 5 + grants)),
        "two links, an update, a create, a closure and the grants: {out}"
    );

    let (_, out, _) = run_cli(&db, &["proposals", "list", "--kommune", "350", "--status", "approved"]);
    assert!(out.contains("5 proposals"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// SOR handing out a SOR-ID twice (the stand-in restarted without its state)

fn sor_options(state: Option<std::path::PathBuf>) -> sorsync::standin::sor::SorStandInOptions {
    sorsync::standin::sor::SorStandInOptions { today: Some(today()), state, ..Default::default() }
}

fn sorus(server: &sorsync::standin::sor::SorStandIn) -> sorsync::sorus::SorusClient {
    let cfg = sorsync::config::SorConfig { url: server.service_url(), timeout_secs: 10, connect_timeout_secs: 5 };
    let card =
        sorsync::sorus::SelfDeclaredIdCard::new("sorsync-test", sorsync::domain::Cvr::parse("11111111").unwrap());
    sorsync::sorus::SorusClient::new(&cfg, card).unwrap()
}

/// Applies a create of FK-ORG unit `fk` under SI 2 with a stand-in started from `state`;
/// returns the report, the create's key and the stand-in.
async fn create_through_stand_in(
    w: &World,
    store: &Store,
    fk: u128,
    state: Option<std::path::PathBuf>,
    fk_org: &FakeFk,
) -> (ApplyReport, IdempotencyKey, sorsync::standin::sor::SorStandIn) {
    let proposal = approve_create(w, store, fk, 2, sor_id(2)).await;
    let plan = build_plan(store, kommune(), &w.olga, today(), Utc::now()).await.unwrap();
    let server = sorsync::standin::sor::spawn(sor_tree(None), sor_options(state)).await.unwrap();
    let report = apply_plan(store, &plan, &sorus(&server), fk_org, &w.olga, &opts()).await.unwrap();
    (report, key_of(&plan, proposal, "create"), server)
}

async fn a_sor_id_handed_out_again_after_a_sor_restart_is_a_fault_naming_both_units_not_a_dropped_link(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let fk = FakeFk::default();
    let (report, _, server) = create_through_stand_in(&w, store, 100, None, &fk).await;
    assert_eq!(report.exit_code(), 0, "{report:?}");
    let handed_out = server.created()[0].1;
    server.shutdown().await;

    // SOR restarts from its initial data and hands the same SOR-ID out again for the next create.
    let (report, key, server) = create_through_stand_in(&w, store, 101, None, &fk).await;
    assert_eq!(server.created()[0].1, handed_out, "the restarted stand-in repeats the SOR-ID");
    let step = report.steps.iter().find(|s| s.key == key).unwrap();
    assert_eq!(step.status, StepStatus::Quarantined, "{report:?}");
    let detail = step.detail.as_deref().unwrap();
    for named in [fk_id(100).to_string(), fk_id(101).to_string(), handed_out.to_string()] {
        assert!(detail.contains(&named), "the fault names {named}: {detail}");
    }
    assert_eq!(report.exit_code(), 2);
    let change = store.change(&key.0).await.unwrap().unwrap();
    assert_eq!((change.state, change.reason.as_deref()), (ChangeState::Failed, Some(detail)));
    let links = store.approved_link_ids(kommune()).await.unwrap();
    assert!(links.contains(&(fk_id(100), handed_out)), "the first unit keeps its link: {links:?}");
    assert!(links.iter().all(|(f, _)| *f != fk_id(101)), "no link for the second unit: {links:?}");
    let written = fk.sor_ids();
    assert_eq!(written.get(&fk_id(100)), Some(&[handed_out].into()));
    assert!(!written.contains_key(&fk_id(101)), "the SOR-ID was not written onto a second FK-ORG unit");
    server.shutdown().await;
}

async fn a_sor_stand_in_restarted_with_its_state_file_hands_out_new_sor_ids_and_knows_its_keys(db: &TestDb) {
    let store = &db.store;
    let w = world(store).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sor-state.jsonl");
    let fk = FakeFk::default();
    let (report, first_key, server) = create_through_stand_in(&w, store, 100, Some(state.clone()), &fk).await;
    assert_eq!(report.exit_code(), 0, "{report:?}");
    let first = server.created()[0].1;
    server.shutdown().await;

    let (report, _, server) = create_through_stand_in(&w, store, 101, Some(state.clone()), &fk).await;
    assert_eq!(report.exit_code(), 0, "{report:?}");
    let second = server.created().last().unwrap().1;
    assert_ne!(second, first, "a new SOR-ID after the restart");
    let links = store.approved_link_ids(kommune()).await.unwrap();
    assert!(links.contains(&(fk_id(100), first)) && links.contains(&(fk_id(101), second)), "{links:?}");
    // The restarted stand-in still answers the first create's key with its SOR-ID.
    use sorsync::apply::port::{ChangeOutcome, SorWriter};
    let found = sorus(&server).lookup(&first_key).await.unwrap();
    assert_eq!(found, Some(ChangeOutcome::Created { sor_id: first }));
    server.shutdown().await;
}
