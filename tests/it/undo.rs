//! Tests: undo of a SOR administrator's last decision (`review::undo_last`), on SQLite and
//! PostgreSQL: the proposal waits again, an approved link and its follow-ups are taken back, the
//! next run does not remember the undone decision, the audit log records the undo; refused when
//! something was sent, for other people's decisions and without the role.

use sorsync::matching::{propose, MatchOptions, ProposalKind};
use sorsync::review::{decide, grant, no_match, record_run, undo_last, Actor, Decision, ReviewError, Role, Snapshot};
use sorsync::store::{NewChange, ProposalStatus, Register, Store, StoredProposal};

use crate::test_db::TestDb;
use crate::web::{fk_tree, kommune, populate, sor_tree, today, user_for};

on_sqlite_and_postgres!(
    undoing_an_approved_link_removes_the_link_and_its_approved_follow_ups_wait_again,
    undoing_a_rejected_link_brings_back_its_follow_ups_and_the_next_run_proposes_it_again,
    undo_is_refused_once_the_change_was_sent_and_for_someone_without_the_role,
);

fn admin() -> Actor {
    Actor::new(user_for(Role::SorAdmin, kommune()))
}

async fn pending(store: &Store) -> Vec<StoredProposal> {
    store.proposals(kommune(), Some(ProposalStatus::Pending)).await.unwrap()
}

/// A pending link with a pending write-back for the same units.
async fn link_with_follow_up(store: &Store) -> (StoredProposal, StoredProposal) {
    let all = pending(store).await;
    for l in all.iter().filter(|p| p.key.kind == ProposalKind::Link) {
        if let Some(w) = all
            .iter()
            .find(|p| p.key.kind.is_follow_up() && p.key.fk_uuid == l.key.fk_uuid && p.key.sor_id == l.key.sor_id)
        {
            return (l.clone(), w.clone());
        }
    }
    panic!("no link with a follow-up among {:?}", all.iter().map(|p| (p.id, p.key.kind)).collect::<Vec<_>>());
}

async fn status(store: &Store, id: i64) -> ProposalStatus {
    store.proposal(id).await.unwrap().status
}

async fn undoing_an_approved_link_removes_the_link_and_its_approved_follow_ups_wait_again(db: &TestDb) {
    let store = &db.store;
    populate(store).await;
    let colleague = Actor::new("colleague-350");
    grant(store, None, &colleague.user_name, kommune(), Role::SorAdmin).await.unwrap();
    let (link, follow_up) = link_with_follow_up(store).await;
    decide(store, &admin(), link.id, Decision::Approve, None).await.unwrap();
    // A colleague approves the follow-up; the administrator then takes the link back.
    decide(store, &colleague, follow_up.id, Decision::Approve, None).await.unwrap();
    assert_eq!(store.links(kommune()).await.unwrap().len(), 1);

    let outcome = undo_last(store, &admin(), kommune()).await.unwrap();
    assert!(outcome.is_undone(), "{}", outcome.message());
    assert_eq!(status(store, link.id).await, ProposalStatus::Pending);
    assert_eq!(status(store, follow_up.id).await, ProposalStatus::Pending, "the follow-up waits again");
    assert!(store.links(kommune()).await.unwrap().is_empty(), "the link is removed");
    let log = store.audit_log(kommune()).await.unwrap();
    let last = log.last().unwrap();
    assert_eq!((last.action.as_str(), last.actor.as_str(), last.proposal_id), ("undo", "sor_admin-350", Some(link.id)));

    // The link can be decided again, and the next undo of the same person finds nothing left.
    let again = undo_last(store, &admin(), kommune()).await.unwrap();
    assert_eq!(again, sorsync::review::UndoOutcome::NothingToUndo, "{}", again.message());
    decide(store, &admin(), link.id, Decision::Reject, None).await.unwrap();
    assert_eq!(status(store, follow_up.id).await, ProposalStatus::Superseded);
}

async fn undoing_a_rejected_link_brings_back_its_follow_ups_and_the_next_run_proposes_it_again(db: &TestDb) {
    let store = &db.store;
    populate(store).await;
    let (link, follow_up) = link_with_follow_up(store).await;
    no_match(store, &admin(), link.id, Some("not the same unit")).await.unwrap();
    assert_eq!(status(store, follow_up.id).await, ProposalStatus::Superseded, "rejecting takes the follow-ups along");

    let outcome = undo_last(store, &admin(), kommune()).await.unwrap();
    assert!(outcome.is_undone(), "{}", outcome.message());
    assert_eq!(status(store, link.id).await, ProposalStatus::Pending);
    assert_eq!(status(store, follow_up.id).await, ProposalStatus::Pending, "the follow-up is back");

    // A new run from the same data keeps the link pending: the undone rejection is not remembered.
    let fk = fk_tree(kommune());
    let sor = sor_tree(kommune());
    let fk_id = store.latest_snapshot_id(Register::FkOrg, Some(kommune())).await.unwrap().unwrap();
    let sor_id = store.latest_snapshot_id(Register::Sor, Some(kommune())).await.unwrap().unwrap();
    let summary = record_run(
        store,
        kommune(),
        Snapshot { id: fk_id, tree: &fk },
        Snapshot { id: sor_id, tree: &sor },
        &propose(&fk, &sor, &MatchOptions::new(today())),
    )
    .await
    .unwrap();
    assert_eq!(summary.skipped_rejected, 0, "{summary:?}");
    assert_eq!(status(store, link.id).await, ProposalStatus::Pending);
}

async fn undo_is_refused_once_the_change_was_sent_and_for_someone_without_the_role(db: &TestDb) {
    let store = &db.store;
    populate(store).await;
    let (link, follow_up) = link_with_follow_up(store).await;
    decide(store, &admin(), link.id, Decision::Approve, None).await.unwrap();
    decide(store, &admin(), follow_up.id, Decision::Approve, None).await.unwrap();

    let reader = Actor::new(user_for(Role::ReadOnly, kommune()));
    let refused = undo_last(store, &reader, kommune()).await;
    assert!(matches!(refused, Err(ReviewError::NotPermitted { .. })), "{refused:?}");

    // The follow-up's change is on its way to the register: neither it nor its link can be undone.
    let change = NewChange {
        key: "k-1",
        kommune: kommune(),
        proposal_id: follow_up.id,
        plan_id: "plan-1",
        op: follow_up.key.kind.as_str(),
        change_json: "{}",
        sor_id: follow_up.key.sor_id.as_deref(),
        actor: "operator-350",
    };
    store.begin_change(&change, false).await.unwrap();
    let outcome = undo_last(store, &admin(), kommune()).await.unwrap();
    assert!(!outcome.is_undone());
    assert!(outcome.message().contains("sent"), "{}", outcome.message());
    assert_eq!(status(store, follow_up.id).await, ProposalStatus::Approved, "nothing changed");
    assert_eq!(status(store, link.id).await, ProposalStatus::Approved);
    assert_eq!(store.links(kommune()).await.unwrap().len(), 1);
    assert!(store.audit_log(kommune()).await.unwrap().iter().all(|e| e.action != "undo"));
}
