//! Crash tests: the real `sorsync apply` binary against the SOR stand-in (and the FK-ORG stand-in
//! for write-backs), killed with SIGKILL at 20 points of a 200-change plan and re-run each time;
//! and the stand-in at 30 % failures, timeouts and dropped connections. In the end SOR holds the
//! plan applied exactly once: no unit created twice, none missing, every update, move and closure made.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;
use sorsync::apply::{build_plan, Plan};
use sorsync::domain::{Cvr, FkTree, FkUnit, FkUuid, KommuneKode, SorId, SorKind, SorTree, SorUnit};
use sorsync::matching::json::ProposalDto;
use sorsync::matching::ProposalKind;
use sorsync::review::{decide, grant, Actor, Decision, Role};
use sorsync::standin::fkorg;
use sorsync::standin::sor::{spawn, SorStandIn, SorStandInOptions};
use sorsync::store::{ChangeState, NewProposal, ProposalKey, RunPlan, Store};

use crate::support::sorsync;
use crate::test_db::TestDb;

on_sqlite_and_postgres!(
    killing_apply_at_twenty_points_and_rerunning_applies_the_plan_exactly_once,
    at_thirty_percent_failures_timeouts_and_drops_apply_completes_and_nothing_is_doubled,
);

const TOP_CREATES: u64 = 30;
const CHILD_CREATES: u64 = 30;
// Each update, move and closure follows from a link of its unit (written back once): 60 creates
// with their write-backs, 40 links' write-backs and 40 follow-ups make the 200 changes.
const UPDATES: u64 = 20;
const MOVES: u64 = 10;
const CLOSES: u64 = 10;
/// SOR's organisational units before the plan: 10..90.
const OES: std::ops::Range<u64> = 10..90;

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn kommune() -> KommuneKode {
    KommuneKode::parse("350").unwrap()
}

fn cvr() -> Cvr {
    Cvr::parse("29189609").unwrap()
}

fn fk_id(n: u64) -> FkUuid {
    FkUuid::from_uuid(uuid::Uuid::from_u128(0x3000_0000_0000_4000_8000_0000_0000_0000 + u128::from(n)))
}

fn sor_id(n: u64) -> SorId {
    SorId::from_running_number(5000 + n)
}

fn sor_tree() -> SorTree {
    let mut units = vec![
        SorUnit::new(sor_id(1), SorKind::InstitutionOwner, "Testby Kommune", None),
        SorUnit::new(sor_id(2), SorKind::HealthInstitution, "Sundhed og Omsorg", Some(sor_id(1))),
    ];
    for n in OES {
        units.push(SorUnit::new(sor_id(n), SorKind::OrganizationalUnit, format!("Enhed {n}"), Some(sor_id(2))));
    }
    SorTree::new(units).unwrap()
}

fn fk_tree() -> FkTree {
    let mut units =
        vec![FkUnit::new(fk_id(1), "Testby Kommune", None), FkUnit::new(fk_id(2), "Sundhed og Omsorg", Some(fk_id(1)))];
    for n in OES {
        units.push(FkUnit::new(fk_id(n), format!("Enhed {n}"), Some(fk_id(2))));
    }
    for i in 0..TOP_CREATES {
        let mut u = FkUnit::new(fk_id(100 + i), format!("Nyt center {i}"), Some(fk_id(2)));
        u.postal_address = Some(format!("Nyvej {}, 4000 Testby", i + 1));
        units.push(u);
    }
    for i in 0..CHILD_CREATES {
        units.push(FkUnit::new(fk_id(200 + i), format!("Afdeling {i}"), Some(fk_id(100 + i % TOP_CREATES))));
    }
    FkTree::new(Some(cvr()), units, Vec::new()).unwrap()
}

fn phone(n: u64) -> String {
    format!("+45 70 00 {:02} {:02}", n / 100, n % 100)
}

/// Imports both registers and records the 200-change set of approved proposals; returns the plan.
async fn approved_plan(store: &Store) -> Plan {
    let fk_snapshot = store.import_fkorg(kommune(), "fk.json", &fk_tree()).await.unwrap().snapshot_id;
    let sor_snapshot = store.import_sor("sor.xml", Some(kommune()), &sor_tree()).await.unwrap().snapshot_id;
    grant(store, None, "anna", kommune(), Role::SorAdmin).await.unwrap();
    grant(store, None, "olga", kommune(), Role::Operator).await.unwrap();
    let mut candidates = Vec::new();
    let mut add = |kind: &str, fk: u64, sor: Option<SorId>, parent: Option<SorId>, payload: serde_json::Value| {
        candidates.push(NewProposal {
            key: ProposalKey {
                kind: ProposalKind::parse(kind).expect("kind"),
                fk_uuid: Some(fk_id(fk).to_string()),
                sor_id: sor.map(|s| s.to_string()),
                parent_sor_id: parent.map(|s| s.to_string()),
            },
            confidence: None,
            payload: ProposalDto::from_key_and_json(
                ProposalKind::parse(kind).expect("kind"),
                Some(&fk_id(fk).to_string()),
                sor.map(|s| s.to_string()).as_deref(),
                parent.map(|s| s.to_string()).as_deref(),
                &payload,
            )
            .expect("payload"),
            data_hash: format!("{kind}-{fk}"),
        })
    };
    for i in 0..TOP_CREATES {
        add(
            "create",
            100 + i,
            None,
            Some(sor_id(2)),
            json!({"name": format!("Nyt center {i}"), "parent_fk_uuid": fk_id(2).to_string()}),
        );
    }
    for i in 0..CHILD_CREATES {
        let parent_fk = 100 + i % TOP_CREATES;
        add(
            "create",
            200 + i,
            None,
            Some(sor_id(2)),
            json!({"name": format!("Afdeling {i}"), "parent_fk_uuid": fk_id(parent_fk).to_string()}),
        );
    }
    let follow_up_units =
        (0..UPDATES).map(|k| 10 + k).chain((0..MOVES).map(|k| 50 + k)).chain((0..CLOSES).map(|k| 70 + k));
    for n in follow_up_units {
        add(
            "link",
            n,
            Some(sor_id(n)),
            None,
            json!({"fk_name": format!("Enhed {n}"), "sor_name": format!("Enhed {n}")}),
        );
    }
    for k in 0..UPDATES {
        let n = 10 + k;
        add("update", n, Some(sor_id(n)), None, json!({"changes": [{"field": "phone", "from": null, "to": phone(n)}]}));
    }
    for k in 0..MOVES {
        let (n, to) = (50 + k, 10 + k);
        add("move", n, Some(sor_id(n)), Some(sor_id(to)), json!({"old_parent_sor_id": sor_id(2).to_string()}));
    }
    for k in 0..CLOSES {
        let n = 70 + k;
        add("close", n, Some(sor_id(n)), None, json!({"name": format!("Enhed {n}")}));
    }
    let n = candidates.len();
    let ids = store
        .record_proposals(kommune(), fk_snapshot, sor_snapshot, &candidates, |_| RunPlan {
            supersede: vec![],
            insert: (0..n).collect(),
        })
        .await
        .unwrap();
    let anna = Actor::new("anna");
    for id in ids {
        decide(store, &anna, id, Decision::Approve, None).await.unwrap();
    }
    let plan = build_plan(store, kommune(), &Actor::new("olga"), day(), chrono::Utc::now()).await.unwrap();
    assert_eq!(plan.steps.len(), 200, "{}", plan.summary());
    plan
}

struct Setup {
    _dir: tempfile::TempDir,
    config: PathBuf,
    plan: PathBuf,
    sor: SorStandIn,
    fk_addr: std::net::SocketAddr,
}

async fn setup(db: &TestDb, sor_options: SorStandInOptions, timeout_secs: u64) -> (Setup, Plan) {
    setup_with_limit(db, sor_options, timeout_secs, 100).await
}

async fn setup_with_limit(
    db: &TestDb,
    sor_options: SorStandInOptions,
    timeout_secs: u64,
    max_closures: usize,
) -> (Setup, Plan) {
    let plan = approved_plan(&db.store).await;
    crate::support::map_os_users(&db.store, &["olga"]).await;
    let dir = tempfile::tempdir().unwrap();
    let sor = spawn(sor_tree(), SorStandInOptions { today: Some(day()), ..sor_options }).await.unwrap();
    let (fk_addr, _task) = fkorg::spawn(fk_tree(), crate::support::secure_fkorg_options()).await.unwrap();
    let config = dir.path().join("sorsync.toml");
    std::fs::write(
        &config,
        format!(
            r#"[store]
database_url = "{db}"
[fkorg]
{fkorg_keys}timeout_secs = 5
max_retries = 3
[sor]
url = "{sor}"
timeout_secs = {timeout_secs}
connect_timeout_secs = 2
[apply]
max_closures = {max_closures}
max_closure_share = 1.0
retry_budget_secs = 120
retry_first_delay_ms = 5
retry_max_delay_ms = 200
"#,
            db = db.url,
            fkorg_keys = crate::support::fkorg_toml_keys(fk_addr),
            sor = sor.service_url(),
        ),
    )
    .unwrap();
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_json()).unwrap();
    (Setup { _dir: dir, config, plan: plan_path, sor, fk_addr }, plan)
}

/// `sorsync apply` as a child process whose end can be awaited (killed if the test ends first).
fn apply_child(config: &Path, plan: &Path) -> tokio::process::Child {
    let mut command = sorsync();
    command
        .args(["--config", config.to_str().unwrap(), "apply", plan.to_str().unwrap(), "--as", "olga"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    tokio::process::Command::from(command).kill_on_drop(true).spawn().unwrap()
}

/// Asserts that the stand-in holds the plan applied exactly once.
async fn assert_applied_exactly_once(s: &Setup, store: &Store) {
    let created = s.sor.created();
    let fk_units: Vec<FkUuid> = created.iter().map(|(f, _)| *f).collect();
    let unique: HashSet<FkUuid> = fk_units.iter().copied().collect();
    assert_eq!(unique.len(), fk_units.len(), "a unit was created twice");
    assert_eq!(created.len() as u64, TOP_CREATES + CHILD_CREATES, "every unit was created");
    let by_fk: HashMap<FkUuid, SorId> = created.iter().copied().collect();
    let tree = s.sor.tree().unwrap();
    assert_eq!(tree.len() as u64, 2 + (OES.end - OES.start) + TOP_CREATES + CHILD_CREATES, "no unit missing or extra");
    for i in 0..CHILD_CREATES {
        let child = tree.get(by_fk[&fk_id(200 + i)]).unwrap();
        assert_eq!(child.parent, Some(by_fk[&fk_id(100 + i % TOP_CREATES)]), "a child went under its new parent");
    }
    for k in 0..UPDATES {
        assert_eq!(tree.get(sor_id(10 + k)).unwrap().own.phone.as_deref(), Some(phone(10 + k).as_str()));
    }
    for k in 0..MOVES {
        assert_eq!(tree.get(sor_id(50 + k)).unwrap().parent, Some(sor_id(10 + k)));
    }
    for k in 0..CLOSES {
        assert_eq!(tree.get(sor_id(70 + k)).unwrap().to_date, Some(day()));
    }
    // The store agrees: every change applied, every new unit linked.
    let changes = store.changes(kommune()).await.unwrap();
    assert_eq!(changes.len(), 200);
    assert!(
        changes.iter().all(|c| c.state == ChangeState::Applied),
        "{:?}",
        changes.iter().filter(|c| c.state != ChangeState::Applied).collect::<Vec<_>>()
    );
    let links: BTreeMap<FkUuid, SorId> = store.approved_link_ids(kommune()).await.unwrap().into_iter().collect();
    for (fk, sor) in &by_fk {
        assert_eq!(links.get(fk), Some(sor));
    }
    // Every SOR change took effect exactly once at the stand-in (repeats were answered from its key table).
    assert_eq!(s.sor.stats().applied, TOP_CREATES + CHILD_CREATES + UPDATES + MOVES + CLOSES, "{:?}", s.sor.stats());
    // And FK-ORG shows each new unit's SOR-ID (read back through the API).
    let cfg = crate::support::fkorg_config(s.fk_addr);
    let read_back = sorsync::sources::fkorg_client::FkOrgClient::new(&cfg).unwrap().fetch_tree(cvr()).await.unwrap();
    for (fk, sor) in &by_fk {
        assert_eq!(read_back.get(*fk).and_then(|u| u.sor_id), Some(*sor), "the SOR-ID was written back to {fk}");
    }
}

async fn killing_apply_at_twenty_points_and_rerunning_applies_the_plan_exactly_once(db: &TestDb) {
    let (s, _plan) = setup(db, SorStandInOptions::default(), 5).await;
    let mut kills = 0;
    // Kill after the stand-in has seen N requests, for 20 growing N across the ~130 SOR changes.
    for i in 0..20u64 {
        let n = 2 + i * 6;
        let mut child = apply_child(&s.config, &s.plan);
        // Whichever comes first: the stand-in has seen request N, or the apply has ended.
        let ended = tokio::time::timeout(Duration::from_secs(60), async {
            tokio::select! {
                biased;
                () = s.sor.wait_for_requests(n) => None,
                status = child.wait() => Some(status.unwrap()),
            }
        })
        .await
        .unwrap_or_else(|_| panic!("apply neither finished nor reached request {n} in 60 s"));
        match ended {
            None => {
                child.kill().await.unwrap();
                kills += 1;
            }
            // It finished before request N: nothing left to interrupt.
            Some(status) => assert!(status.code().is_some(), "apply died on its own: {status:?}"),
        }
    }
    assert!(kills >= 15, "only {kills} of 20 kills happened mid-apply");
    assert!(s.sor.stats().lookups > 0, "re-runs settled interrupted changes by asking for their keys");
    let started = Instant::now();
    let out = sorsync()
        .args(["--config", s.config.to_str().unwrap(), "apply", s.plan.to_str().unwrap(), "--as", "olga"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{kills} kills; the last run took {:?}; stand-in: {:?}", started.elapsed(), s.sor.stats());
    assert_applied_exactly_once(&s, &db.store).await;
}

async fn at_thirty_percent_failures_timeouts_and_drops_apply_completes_and_nothing_is_doubled(db: &TestDb) {
    let faults = SorStandInOptions {
        fail_rate: 0.1,
        timeout_rate: 0.1,
        drop_rate: 0.1,
        hang: Duration::from_millis(1500),
        seed: 30,
        ..SorStandInOptions::default()
    };
    let (s, _plan) = setup(db, faults, 1).await;
    let started = Instant::now();
    let out = sorsync()
        .args(["--config", s.config.to_str().unwrap(), "apply", s.plan.to_str().unwrap(), "--as", "olga"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = s.sor.stats();
    eprintln!("200 changes at 30 % faults in {:?}; stand-in: {stats:?}", started.elapsed());
    assert!(stats.injected_failures + stats.injected_timeouts + stats.injected_drops > 20, "{stats:?}");
    assert!(stats.lost_answers_after_applying > 0, "some answers were lost after applying: {stats:?}");
    assert_applied_exactly_once(&s, &db.store).await;
}

fn run_apply(s: &Setup, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = sorsync()
        .args(["--config", s.config.to_str().unwrap(), "apply", s.plan.to_str().unwrap(), "--as", "olga"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apply_command_holds_back_closures_over_the_limit_and_refuses_a_stale_plan() {
    let db = TestDb::sqlite().await;
    let (s, _plan) = setup_with_limit(&db, SorStandInOptions::default(), 5, 5).await;
    let (code, out, err) = run_apply(&s, &[]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(out.starts_with("Plan ") && out.contains("10 closes"), "the summary comes first: {out}");
    assert!(out.contains("held back 5"), "{out}");
    let line = out.lines().find(|l| l.contains("To close them anyway")).expect("the line to copy");
    let held: Vec<&str> = line.split("--allow-closures ").nth(1).unwrap().split(',').collect();
    assert_eq!(held.len(), 5);
    let closed = |s: &Setup| s.sor.units().iter().filter(|u| u.to_date.is_some()).count();
    assert_eq!(closed(&s), 5);

    // Naming three of them closes exactly those three.
    let named = held[..3].join(",");
    let (code, out, _) = run_apply(&s, &["--allow-closures", &named]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("held back 2"), "{out}");
    assert_eq!(closed(&s), 8);
    for id in &held[..3] {
        let id = SorId::parse(id).unwrap();
        assert!(s.sor.units().iter().any(|u| u.sor_id == id && u.to_date.is_some()), "{id} was named and closed");
    }

    // The same result for scripts.
    let (code, out, _) = run_apply(&s, &["--format", "json"]);
    assert_eq!(code, Some(2));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["exit_code"], 2);
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 200);
    assert_eq!(steps.iter().filter(|s| s["status"] == "held_back").count(), 2);

    // A newer SOR snapshot with other content makes the plan stale: refused, nothing sent.
    let mut changed = sor_tree().units;
    changed[5].name = "Omdøbt enhed".into();
    db.store.import_sor("sor-new.xml", Some(kommune()), &SorTree::new(changed).unwrap()).await.unwrap();
    let requests = s.sor.requests_seen();
    let (code, _, err) = run_apply(&s, &["--allow-closures", &held.join(",")]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("the plan is stale") && err.contains("SOR changed") && err.contains("1 units differ"),
        "{err}"
    );
    assert_eq!(s.sor.requests_seen(), requests);
}
