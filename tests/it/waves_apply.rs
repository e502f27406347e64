//! A wave run end to end for a live municipality (Faxe, 320, in the bundled wave plan): the run
//! proposes, auto-approves the confident links by the configured band, plans and applies through
//! the real clients to the SOR and FK-ORG stand-ins on 127.0.0.1, and a second run writes nothing twice.

use std::path::Path;
use std::process::Output;

use chrono::NaiveDate;
use sorsync::domain::{Cvr, KommuneKode};
use sorsync::sources::fkorg_client::FkOrgClient;
use sorsync::sources::{read_fkorg_file, read_sor_file};
use sorsync::standin::fkorg;
use sorsync::standin::sor::{spawn, SorStandInOptions};
use sorsync::store::{ChangeState, Store};

use crate::support::{fixture, sorsync};

fn run(config: &Path, args: &[&str]) -> Output {
    sorsync().arg("--config").arg(config).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_municipality_is_auto_approved_planned_and_applied_once_by_a_wave_run() {
    let faxe = KommuneKode::parse("320").unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let data = fixture("bundled");
    let sor_tree = read_sor_file(&data.join("320/sor.xml")).unwrap();
    let fk_tree = read_fkorg_file(&data.join("320/fkorg.json")).unwrap();
    let cvr: Cvr = fk_tree.cvr.unwrap();
    let sor = spawn(sor_tree, SorStandInOptions { today: Some(day), ..SorStandInOptions::default() }).await.unwrap();
    let (fk_addr, _fk_task) = fkorg::spawn(fk_tree, crate::support::secure_fkorg_options()).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let config = dir.path().join("sorsync.toml");
    std::fs::write(
        &config,
        format!(
            r#"[store]
database_url = "{db}"
[fkorg]
{fkorg_keys}timeout_secs = 5
[sor]
url = "{sor_url}"
timeout_secs = 5
[review]
auto_approve_min_confidence = 0.99
[apply]
retry_budget_secs = 30
retry_first_delay_ms = 5
retry_max_delay_ms = 100
"#,
            fkorg_keys = crate::support::fkorg_toml_keys(fk_addr),
            sor_url = sor.service_url(),
        ),
    )
    .unwrap();

    let loaded = run(&config, &["waves", "load", fixture("waves/bundled.toml").to_str().unwrap()]);
    assert!(loaded.status.success(), "{}", text(&loaded));
    let os = sorsync::cli::identity::os_user().unwrap();
    for (user, role) in [("olga", "operator"), ("anna", "sor_admin")] {
        let g = run(&config, &["users", "grant", user, "--kommune", "320", "--role", role]);
        assert!(g.status.success(), "{}", text(&g));
        let m = run(&config, &["users", "map-os", &os, user]);
        assert!(m.status.success(), "{}", text(&m));
    }
    let wave = ["waves", "run", "pilots", "--today", "2026-11-02", "--as", "olga", "--data", data.to_str().unwrap()];

    // First run: links at >= 0.99 approved by the rule; their SOR-IDs written back to FK-ORG.
    let first = run(&config, &wave);
    assert_ne!(first.status.code(), Some(1), "{}", text(&first));
    let store = Store::open(&db).await.unwrap();
    let changes = store.changes(faxe).await.unwrap();
    let write_backs = changes.iter().filter(|c| c.state == ChangeState::Applied).count();
    assert!(write_backs > 0, "auto-approved links were written back: {}", text(&first));
    let fk_cfg = crate::support::fkorg_config(fk_addr);
    let read_back = FkOrgClient::new(&fk_cfg).unwrap().fetch_tree(cvr).await.unwrap();
    let links = store.approved_link_ids(faxe).await.unwrap();
    let shown = links.iter().filter(|(f, s)| read_back.get(*f).and_then(|u| u.sor_id) == Some(*s)).count();
    assert_eq!(shown, links.len(), "every approved link's SOR-ID shows in FK-ORG");
    // Non-live pilots are proposed for review but nothing is applied for them.
    assert!(store.changes(KommuneKode::parse("101").unwrap()).await.unwrap().is_empty());
    // What the sync policy applies by itself: updates of the municipality's own contact data
    // (address, phone, e-mail) of linked units, nothing else.
    let policy_updates: Vec<_> =
        store.changes(faxe).await.unwrap().into_iter().filter(|c| c.op != "write_back").collect();
    assert!(policy_updates.iter().all(|c| c.op == "update"), "{policy_updates:?}");
    for c in &policy_updates {
        let fields: serde_json::Value = serde_json::from_str(&c.change_json).unwrap();
        let text = fields.to_string();
        assert!(!text.contains("\"name\""), "a name is changed only by a person: {text}");
    }
    assert_eq!(sor.stats().applied, policy_updates.len() as u64);

    // A SOR administrator approves the pending updates; the next run applies them to SOR.
    let approve = run(
        &config,
        &["proposals", "approve", "--kommune", "320", "--all", "--kind", "update", "--yes", "--as", "anna"],
    );
    assert!(approve.status.success(), "{}", text(&approve));
    let second = run(&config, &wave);
    assert_ne!(second.status.code(), Some(1), "{}", text(&second));
    let updates = store.changes(faxe).await.unwrap().iter().filter(|c| c.op == "update").count() as u64;
    assert!(updates > 0, "the approved updates were planned: {}", text(&second));
    assert_eq!(sor.stats().applied, updates, "{:?} {}", sor.stats(), text(&second));

    // A third run finds nothing new: SOR sees no change twice.
    let third = run(&config, &wave);
    assert_ne!(third.status.code(), Some(1), "{}", text(&third));
    assert_eq!(sor.stats().applied, updates, "{:?}", sor.stats());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_run_from_the_api_fetches_fk_org_through_the_client_and_proposes_within_scope() {
    let data = fixture("bundled");
    let served = read_fkorg_file(&data.join("999/fkorg.json")).unwrap();
    let units = served.len();
    let opts = crate::support::secure_fkorg_options();
    let stats = opts.stats.clone();
    let (fk_addr, _fk_task) = fkorg::spawn(served, opts).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let config = dir.path().join("sorsync.toml");
    std::fs::write(
        &config,
        format!("[store]\ndatabase_url = \"{db}\"\n[fkorg]\n{}", crate::support::fkorg_toml_keys(fk_addr)),
    )
    .unwrap();
    let loaded = run(&config, &["waves", "load", fixture("waves/bundled.toml").to_str().unwrap()]);
    assert!(loaded.status.success(), "{}", text(&loaded));
    let wave = run(
        &config,
        &["waves", "run", "korsbaek", "--today", "2026-11-02", "--from-api", "--sor-dir", data.to_str().unwrap()],
    );
    assert_ne!(wave.status.code(), Some(1), "{}", text(&wave));
    assert!(stats.graphql_requests.load(std::sync::atomic::Ordering::Relaxed) > 0, "the client asked the API");

    let store = Store::open(&db).await.unwrap();
    let korsbaek = KommuneKode::parse("999").unwrap();
    let fk = store.latest_fkorg(korsbaek).await.unwrap().expect("an FK-ORG snapshot from the API");
    assert_eq!(fk.len(), units, "every unit came through the API");
    // Korsbæk's plan limits the scope to "Sundhed og Omsorg" and "Den Kommunale Tandpleje" (without it,
    // the municipality's root would be proposed as a link to SOR's institution owner).
    let in_scope = |uuid: &str| {
        let mut at = fk.units.iter().position(|u| u.uuid.to_string() == uuid);
        while let Some(i) = at {
            if ["Sundhed og Omsorg", "Den Kommunale Tandpleje"].contains(&fk.units[i].enhedsnavn.as_str()) {
                return true;
            }
            at = fk.tree.parent(i);
        }
        false
    };
    let proposals = store.proposals(korsbaek, None).await.unwrap();
    assert!(!proposals.is_empty(), "{}", text(&wave));
    for p in &proposals {
        if let Some(f) = &p.key.fk_uuid {
            assert!(in_scope(f), "proposal {} about {f} lies outside the configured scope", p.id);
        }
    }
    store.close().await;
}

/// Where the municipality's scope chosen in FK-ORG is named.
#[derive(Clone, Copy)]
enum ScopeNamedIn {
    WavePlan,
    Config,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_run_from_the_api_takes_the_scope_chosen_in_fk_org_by_it_system() {
    scope_chosen_in_fk_org(ScopeNamedIn::WavePlan).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_it_system_is_the_scope_for_a_municipality_whose_plan_names_none() {
    scope_chosen_in_fk_org(ScopeNamedIn::Config).await;
}

async fn scope_chosen_in_fk_org(named_in: ScopeNamedIn) {
    let data = fixture("bundled");
    let served = read_fkorg_file(&data.join("999/fkorg.json")).unwrap();
    // In FK-ORG's administration module the municipality assigned "Ældreforvaltning" (and
    // nothing else) to sorsync's IT system.
    let system = uuid::Uuid::from_u128(0x0050_257c);
    let aeldre = served.units.iter().find(|u| u.enhedsnavn == "Ældreforvaltning").unwrap().uuid;
    let mut opts = crate::support::secure_fkorg_options();
    opts.it_systems.insert(aeldre, vec![system]);
    let (fk_addr, _fk_task) = fkorg::spawn(served, opts).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let config = dir.path().join("sorsync.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\ndatabase_url = \"{db}\"\n[fkorg]\n{}{}",
            crate::support::fkorg_toml_keys(fk_addr),
            match named_in {
                ScopeNamedIn::Config => format!("it_systems = [\"{system}\"]\n"),
                ScopeNamedIn::WavePlan => String::new(),
            }
        ),
    )
    .unwrap();
    let scope = match named_in {
        ScopeNamedIn::WavePlan => format!("scope.it_systems = [\"{system}\"]"),
        // The plan names no scope: the configured IT system decides.
        ScopeNamedIn::Config => String::new(),
    };
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "[[wave]]\nname = \"korsbaek\"\n[[wave.municipality]]\nname = \"Korsbæk\"\nkommunekode = \"999\"\n\
             cvr = \"11111111\"\nstatus = \"preparing\"\n{scope}\n\
             sor.owner = \"999000011000016004\"\nsor.health_institutions = [\"999000021000016008\"]\n"
        ),
    )
    .unwrap();
    let loaded = run(&config, &["waves", "load", plan.to_str().unwrap()]);
    assert!(loaded.status.success(), "{}", text(&loaded));
    let wave = run(
        &config,
        &["waves", "run", "korsbaek", "--today", "2026-11-02", "--from-api", "--sor-dir", data.to_str().unwrap()],
    );
    assert_ne!(wave.status.code(), Some(1), "{}", text(&wave));

    let store = Store::open(&db).await.unwrap();
    let korsbaek = KommuneKode::parse("999").unwrap();
    let fk = store.latest_fkorg(korsbaek).await.unwrap().expect("an FK-ORG snapshot from the API");
    let under_aeldre = |uuid: &str| {
        let mut at = fk.units.iter().position(|u| u.uuid.to_string() == uuid);
        while let Some(i) = at {
            if fk.units[i].uuid == aeldre {
                return true;
            }
            at = fk.tree.parent(i);
        }
        false
    };
    let proposals = store.proposals(korsbaek, None).await.unwrap();
    assert!(!proposals.is_empty(), "{}", text(&wave));
    for p in &proposals {
        if let Some(f) = &p.key.fk_uuid {
            assert!(under_aeldre(f), "proposal {} about {f} lies outside the scope FK-ORG gave", p.id);
        }
    }
    store.close().await;
}
