//! Tests: wave plans (errors name file, wave and municipality), readiness computed from data,
//! status and coverage, wave runs on the bundled pilots (import, propose, record; failures;
//! resume; dry run; scope), the apply seam, and two workers sharing a PostgreSQL queue.
//!
//! Store scenarios run on SQLite and on PostgreSQL (`SORSYNC_TEST_POSTGRES_URL`; skipped when it
//! is unset, unless `SORSYNC_REQUIRE_POSTGRES=1`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use sorsync::domain::KommuneKode;
use sorsync::generate::Municipality;
use sorsync::review::{decide, grant, Actor, Decision, Role};
use sorsync::store::{JobState, ProposalStatus, Store, WaveJob};
use sorsync::waves::plan::{load_plan, parse_plan, WavePlan};
use sorsync::waves::runner::{
    run_municipality, run_wave, store_plan, DataSource, NoProgress, Outcome, RunOptions, RunVerdict, Runner,
};
use sorsync::waves::status::{gather, ReadinessItem};
use sorsync::waves::steps::{ApplySteps, NotInThisBuild, StepContext, StepFuture, StepOutcome};
use sorsync::waves::worker::{work_queue, JobObserver, WorkerDeps, WorkerOptions};

use crate::support::{fixture, sorsync};
use crate::test_db::TestDb;

on_sqlite_and_postgres!(
    readiness_items_computed_from_data_change_when_a_role_is_granted,
    status_shows_coverage_after_approvals,
    auto_approvals_are_no_first_review,
    a_run_of_the_bundled_pilots_imports_proposes_and_records_each_municipality,
    a_broken_data_file_fails_its_municipality_and_not_the_others,
    a_rerun_after_an_interrupted_run_resumes_it,
    a_dry_run_writes_nothing_but_its_simulation_result,
    a_scope_that_excludes_a_subtree_gives_no_proposals_under_it,
    only_live_municipalities_reach_plan_and_apply,
    a_job_whose_worker_died_is_taken_again,
);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
}

fn code(c: &str) -> KommuneKode {
    KommuneKode::parse(c).unwrap()
}

fn cvr(c: u16) -> String {
    Municipality::by_code(c).unwrap().cvr().to_string()
}

/// A plan of one wave "w" with these (kommunekode, status) and extra lines per municipality.
fn plan_text(entries: &[(u16, &str, &str)]) -> String {
    let mut s = String::from("[thresholds]\nfirst_review = 0.5\nmax_pending = 0\n\n[[wave]]\nname = \"w\"\n\n");
    for (c, status, extra) in entries {
        s.push_str(&format!(
            "[[wave.municipality]]\nkommunekode = \"{c:03}\"\ncvr = \"{}\"\nstatus = \"{status}\"\n{extra}\n\n",
            cvr(*c)
        ));
    }
    s
}

fn plan(entries: &[(u16, &str, &str)]) -> WavePlan {
    parse_plan(&plan_text(entries), "test.toml").unwrap()
}

fn runner(store: &Store, plan: &WavePlan, steps: Arc<dyn ApplySteps>) -> Runner {
    Runner {
        store: store.clone(),
        plan: Arc::new(plan.clone()),
        fkorg: Default::default(),
        steps,
        progress: Arc::new(NoProgress),
    }
}

fn options(dir: &Path, dry_run: bool) -> RunOptions {
    RunOptions { wave: "w".into(), dry_run, source: DataSource::Dir { path: dir.to_path_buf() }, today: today() }
}

fn bundled() -> PathBuf {
    fixture("bundled")
}

/// Copies the bundled data of these municipalities into a temp dir.
fn copy_bundled(codes: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for c in codes {
        std::fs::create_dir_all(dir.path().join(c)).unwrap();
        for f in ["fkorg.json", "sor.xml"] {
            std::fs::copy(bundled().join(c).join(f), dir.path().join(c).join(f)).unwrap();
        }
    }
    dir
}

/// Counts the seam's calls.
#[derive(Default)]
struct CountingSteps {
    auto_approve: AtomicUsize,
    plan_and_apply: AtomicUsize,
}

impl ApplySteps for CountingSteps {
    fn auto_approve<'a>(&'a self, _ctx: StepContext<'a>) -> StepFuture<'a> {
        self.auto_approve.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { StepOutcome::Done { detail: "counted".into(), decided: 0, applied: 0 } })
    }
    fn plan_and_apply<'a>(&'a self, _ctx: StepContext<'a>) -> StepFuture<'a> {
        self.plan_and_apply.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { StepOutcome::Done { detail: "counted".into(), decided: 0, applied: 3 } })
    }
}

const HEALTH_ONLY: &str =
    "scope.exclude = [\"Beskæftigelse og Integration\", \"Teknik og Miljø\", \"Kultur og Fritid\", \
                           \"Økonomi og Personale\", \"Borgerservice\"]\nservice_agreement_approved = 2026-08-15";

// ---------------------------------------------------------------------------------------------
// The plan

fn plan_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).unwrap();
    load_plan(&path).unwrap_err().to_string()
}

#[test]
fn plan_errors_name_the_file_the_wave_and_the_municipality() {
    let good = plan_text(&[(320, "pilot", ""), (370, "ready", "")]);

    let unknown = good.replace("\"370\"", "\"998\"");
    let e = plan_error(&unknown);
    assert!(e.contains("plan.toml, wave \"w\", municipality 998: kommunekode 998 is not a Danish municipality"), "{e}");

    let duplicate = good.replace("\"370\"", "\"320\"");
    let e = plan_error(&duplicate);
    assert!(e.contains("wave \"w\", municipality 320: municipality 320 is already planned in wave \"w\""), "{e}");

    let bad_cvr = good.replace(&cvr(370), "12345678");
    let e = plan_error(&bad_cvr);
    assert!(e.contains("municipality 370: cvr 12345678 fails the modulus-11 check"), "{e}");

    let bad_status = good.replace("\"ready\"", "\"almost\"");
    let e = plan_error(&bad_status);
    assert!(e.contains("municipality 370: status \"almost\" is not one of planned, preparing"), "{e}");
    assert!(e.contains("plan.toml"), "{e}");
}

#[test]
fn the_bundled_and_national_wave_plans_load() {
    let bundled = load_plan(&fixture("waves/bundled.toml")).unwrap();
    assert_eq!(bundled.wave("pilots").unwrap().municipalities.len(), 4);
    let national = load_plan(&fixture("waves/national.toml")).unwrap();
    assert_eq!(national.municipalities().count(), 98);
}

#[test]
fn waves_load_tells_an_unchanged_plan_and_run_exits_2_when_reviews_wait() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let plan = fixture("waves/bundled.toml");
    let first = sorsync().args(["--database-url", &url, "waves", "load"]).arg(&plan).output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let again = sorsync().args(["--database-url", &url, "waves", "load"]).arg(&plan).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("Unchanged"));
    let run = sorsync()
        .args(["--database-url", &url, "waves", "run", "pilots", "--today", "2026-11-02", "--data"])
        .arg(bundled())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", String::from_utf8_lossy(&run.stderr));
    let status = sorsync().args(["--database-url", &url, "waves", "status", "--format", "csv"]).output().unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.lines().any(|l| l.starts_with("pilots;320;Faxe;live;")), "{text}");
    let html =
        sorsync().args(["--database-url", &url, "waves", "report", "pilots", "--format", "html"]).output().unwrap();
    let html = String::from_utf8_lossy(&html.stdout);
    assert!(html.contains("<svg") && html.contains("Næstved (370)"), "{html}");
}

// ---------------------------------------------------------------------------------------------
// Readiness and status

async fn readiness_items_computed_from_data_change_when_a_role_is_granted(db: &TestDb) {
    let plan = plan(&[(320, "preparing", HEALTH_ONLY)]);
    let missing = |s: &Vec<sorsync::waves::status::MunicipalityStatus>| s[0].readiness.missing.clone();
    let before = gather(&db.store, &plan, None, None, today()).await.unwrap();
    assert!(missing(&before).contains(&ReadinessItem::SorAdministrator));
    assert!(missing(&before).contains(&ReadinessItem::OrganisationAdministrator));
    // No FK-ORG snapshot yet: the scope cannot be checked.
    assert!(missing(&before).contains(&ReadinessItem::ScopeConfigured));

    grant(&db.store, None, "ane", code("320"), Role::SorAdmin).await.unwrap();
    grant(&db.store, None, "bo", code("999"), Role::OrgAdmin).await.unwrap(); // another municipality
    let after = gather(&db.store, &plan, None, None, today()).await.unwrap();
    assert!(!missing(&after).contains(&ReadinessItem::SorAdministrator));
    assert!(missing(&after).contains(&ReadinessItem::OrganisationAdministrator));
    assert!(!missing(&after).contains(&ReadinessItem::ServiceAgreement));

    let r = runner(&db.store, &plan, Arc::new(NotInThisBuild));
    run_wave(&r, &options(&bundled(), false), 1).await.unwrap();
    let ran = gather(&db.store, &plan, None, None, today()).await.unwrap();
    assert!(!missing(&ran).contains(&ReadinessItem::ScopeConfigured), "{:?}", missing(&ran));
    assert!(missing(&ran).contains(&ReadinessItem::FirstReview));
}

async fn status_shows_coverage_after_approvals(db: &TestDb) {
    let plan = plan(&[(320, "pilot", HEALTH_ONLY)]);
    let r = runner(&db.store, &plan, Arc::new(NotInThisBuild));
    run_wave(&r, &options(&bundled(), false), 1).await.unwrap();
    let before = gather(&db.store, &plan, None, None, today()).await.unwrap();
    assert_eq!(before[0].linked, 0);
    assert!(before[0].units_in_scope > 10);

    grant(&db.store, None, "ane", code("320"), Role::SorAdmin).await.unwrap();
    let links: Vec<_> = db
        .store
        .proposals(code("320"), Some(ProposalStatus::Pending))
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.key.kind == sorsync::matching::ProposalKind::Link)
        .collect();
    let half = links.len() / 2;
    for p in &links[..half] {
        decide(&db.store, &Actor::new("ane"), p.id, Decision::Approve, None).await.unwrap();
    }
    let after = gather(&db.store, &plan, None, None, today()).await.unwrap();
    assert!(after[0].linked > 0 && after[0].linked <= half, "{} of {half}", after[0].linked);
    let expected = after[0].linked as f64 / after[0].units_in_scope as f64;
    assert!((after[0].coverage - expected).abs() < 1e-9);
    assert_eq!(after[0].pending, before[0].pending - half);
}

async fn auto_approvals_are_no_first_review(db: &TestDb) {
    let plan = plan(&[(320, "pilot", HEALTH_ONLY)]);
    let r = runner(&db.store, &plan, Arc::new(NotInThisBuild));
    run_wave(&r, &options(&bundled(), false), 1).await.unwrap();
    // Every unflagged link approved by the rule: no person has looked at anything yet.
    let band = sorsync::review::ConfidenceBand { min: 0.0, max: 1.0 };
    let olga = Actor::new("olga");
    sorsync::review::grant(&db.store, None, "olga", code("320"), sorsync::review::Role::Operator).await.unwrap();
    let done = sorsync::review::auto_approve(&db.store, &olga, code("320"), band).await.unwrap();
    assert!(!done.approved.is_empty());
    let after_rule = gather(&db.store, &plan, None, None, today()).await.unwrap();
    assert!(
        after_rule[0].readiness.missing.contains(&ReadinessItem::FirstReview),
        "auto-approvals counted as the first review: {:?}",
        after_rule[0].readiness
    );
}

// ---------------------------------------------------------------------------------------------
// Runs

async fn a_run_of_the_bundled_pilots_imports_proposes_and_records_each_municipality(db: &TestDb) {
    let plan = plan(&[(101, "pilot", HEALTH_ONLY), (851, "pilot", ""), (320, "pilot", ""), (370, "pilot", "")]);
    let r = runner(&db.store, &plan, Arc::new(NotInThisBuild));
    let result = run_wave(&r, &options(&bundled(), false), 2).await.unwrap();
    assert_eq!(result.municipalities.len(), 4);
    for m in &result.municipalities {
        assert_eq!(m.outcome, Outcome::NeedsAttention, "{m:?}");
        assert!(m.metrics.fk_snapshot_id.is_some());
        assert!(m.metrics.proposals_by_kind.get("link").copied().unwrap_or(0) > 0);
        assert!(m.metrics.attention.iter().any(|a| a.contains("auto-approval is not available in this build")));
        let stored = db.store.proposals(m.kommune, None).await.unwrap();
        assert_eq!(stored.len(), m.metrics.new_proposals);
        assert!(db.store.latest_fkorg(m.kommune).await.unwrap().is_some());
    }
    assert_eq!(result.verdict(), RunVerdict::NeedsPerson);
    let items = db.store.wave_run_items(result.run_id).await.unwrap();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|i| i.finished_at.is_some() && i.outcome.as_deref() == Some("needs_attention")));
    // The run is finished: running again starts a new run.
    let again = run_wave(&r, &options(&bundled(), false), 2).await.unwrap();
    assert!(again.run_id != result.run_id && !again.resumed);
}

async fn a_broken_data_file_fails_its_municipality_and_not_the_others(db: &TestDb) {
    let data = copy_bundled(&["320", "370"]);
    std::fs::write(data.path().join("370/fkorg.json"), "{\"data\": {\"organisationEnhedListe\": ").unwrap();
    let plan = plan(&[(320, "pilot", ""), (370, "pilot", "")]);
    let r = runner(&db.store, &plan, Arc::new(NotInThisBuild));
    let result = run_wave(&r, &options(data.path(), false), 2).await.unwrap();
    let by: HashMap<KommuneKode, _> = result.municipalities.iter().map(|m| (m.kommune, m)).collect();
    assert_eq!(by[&code("320")].outcome, Outcome::NeedsAttention);
    assert_eq!(by[&code("370")].outcome, Outcome::Failed);
    let error = by[&code("370")].error.clone().unwrap();
    assert!(error.contains("370/fkorg.json"), "{error}");
    // One failed, one ran: a person must look (exit 2), not a failure of the whole run.
    assert_eq!(result.verdict(), RunVerdict::NeedsPerson);
    let status = gather(&db.store, &plan, None, Some(code("370")), today()).await.unwrap();
    assert_eq!(status[0].last_run.as_ref().unwrap().outcome, "failed");
    assert!(status[0].errors[0].contains("fkorg.json"));

    // When every municipality fails, the run is a failure (exit 1).
    std::fs::write(data.path().join("320/fkorg.json"), "[]x").unwrap();
    let all_broken = run_wave(&r, &options(data.path(), false), 2).await.unwrap();
    assert_eq!(all_broken.verdict(), RunVerdict::Failure);
}

async fn a_rerun_after_an_interrupted_run_resumes_it(db: &TestDb) {
    let plan = plan(&[(320, "pilot", ""), (370, "pilot", ""), (851, "pilot", "")]);
    let steps = Arc::new(CountingSteps::default());
    let r = runner(&db.store, &plan, steps.clone());
    let opts = options(&bundled(), false);
    // A crash after 320 finished and while 370 was at work.
    let (run_id, resumed) = db.store.open_wave_run("w", false).await.unwrap();
    assert!(!resumed);
    let (_, faxe) = plan.municipality(code("320")).unwrap();
    run_municipality(&r, run_id, faxe, &opts).await;
    db.store.start_wave_item(run_id, code("370")).await.unwrap();
    let before = db.store.wave_run_items(run_id).await.unwrap();
    let faxe_finished = before.iter().find(|i| i.kommune == code("320")).unwrap().finished_at.clone();

    let result = run_wave(&r, &opts, 2).await.unwrap();
    assert_eq!(result.run_id, run_id);
    assert!(result.resumed);
    let done: Vec<(KommuneKode, bool)> = result.municipalities.iter().map(|m| (m.kommune, m.already_done)).collect();
    assert_eq!(done, vec![(code("320"), true), (code("370"), false), (code("851"), false)]);
    // 320 was not run again: three municipalities, three auto-approve calls in all.
    assert_eq!(steps.auto_approve.load(Ordering::SeqCst), 3);
    let items = db.store.wave_run_items(run_id).await.unwrap();
    assert!(items.iter().all(|i| i.finished_at.is_some()));
    assert_eq!(items.iter().find(|i| i.kommune == code("320")).unwrap().finished_at, faxe_finished);
}

async fn a_dry_run_writes_nothing_but_its_simulation_result(db: &TestDb) {
    let plan = plan(&[(320, "live", HEALTH_ONLY), (370, "pilot", "")]);
    let steps = Arc::new(CountingSteps::default());
    let r = runner(&db.store, &plan, steps.clone());
    let result = run_wave(&r, &options(&bundled(), true), 2).await.unwrap();
    assert!(result.dry_run);
    for m in &result.municipalities {
        assert_eq!(m.outcome, Outcome::Ok, "{m:?}");
        assert!(m.metrics.proposals_by_kind.get("link").copied().unwrap_or(0) > 0);
        assert!(m.metrics.coverage_if_approved > 0.0);
        assert_eq!(m.metrics.coverage, 0.0);
        // Nothing stored: no snapshots, no proposals, no links.
        assert!(db.store.proposals(m.kommune, None).await.unwrap().is_empty());
        assert!(db.store.links(m.kommune).await.unwrap().is_empty());
    }
    assert!(db.store.list_snapshots().await.unwrap().is_empty());
    // Nothing to any register: the apply engine was never called.
    assert_eq!(steps.auto_approve.load(Ordering::SeqCst) + steps.plan_and_apply.load(Ordering::SeqCst), 0);
    // The simulation result is stored.
    let items = db.store.wave_run_items(result.run_id).await.unwrap();
    assert_eq!(items.len(), 2);
    assert!(items
        .iter()
        .all(|i| i.dry_run && i.metrics.as_deref().is_some_and(|m| m.contains("coverage_if_approved"))));
}

async fn a_scope_that_excludes_a_subtree_gives_no_proposals_under_it(db: &TestDb) {
    let excluded = "Social, Sundhed og Ældre";
    let plan = plan(&[(320, "pilot", &format!("scope.exclude = [\"{excluded}\"]"))]);
    let r = runner(&db.store, &plan, Arc::new(NotInThisBuild));
    let result = run_wave(&r, &options(&bundled(), false), 1).await.unwrap();
    assert!(result.municipalities[0].metrics.attention.iter().all(|a| !a.contains("scope")));
    let fk = db.store.latest_fkorg(code("320")).await.unwrap().unwrap();
    let root = fk.units.iter().position(|u| u.enhedsnavn == excluded).unwrap();
    let under: HashSet<String> = fk.tree.descendants(root).into_iter().map(|i| fk.units[i].uuid.to_string()).collect();
    assert!(under.len() > 10);
    let proposals = db.store.proposals(code("320"), None).await.unwrap();
    assert!(!proposals.is_empty());
    assert!(proposals.iter().all(|p| p.key.fk_uuid.as_ref().is_none_or(|u| !under.contains(u))));
    // Without the filter the same data does give proposals there.
    let unfiltered = sorsync::waves::pipeline::proposals_within_scope(
        &fk,
        &db.store.latest_sor(Some(code("320"))).await.unwrap().unwrap(),
        &[],
        &sorsync::matching::MatchOptions::new(today()),
    );
    assert!(unfiltered.links().any(|l| under.contains(&l.fk_uuid.to_string())));
}

async fn only_live_municipalities_reach_plan_and_apply(db: &TestDb) {
    let plan = plan(&[(320, "live", ""), (370, "pilot", ""), (851, "paused", "")]);
    let steps = Arc::new(CountingSteps::default());
    let r = runner(&db.store, &plan, steps.clone());
    let result = run_wave(&r, &options(&bundled(), false), 2).await.unwrap();
    assert_eq!(steps.auto_approve.load(Ordering::SeqCst), 2);
    assert_eq!(steps.plan_and_apply.load(Ordering::SeqCst), 1);
    let outcomes: BTreeMap<KommuneKode, Outcome> =
        result.municipalities.iter().map(|m| (m.kommune, m.outcome)).collect();
    assert_eq!(outcomes[&code("851")], Outcome::Skipped);
    assert_eq!(result.municipalities.iter().find(|m| m.kommune == code("320")).unwrap().metrics.applied_changes, 3);
    let status = gather(&db.store, &plan, None, Some(code("320")), today()).await.unwrap();
    assert_eq!(status[0].applied_changes, 3);
}

// ---------------------------------------------------------------------------------------------
// Workers

async fn a_job_whose_worker_died_is_taken_again(db: &TestDb) {
    let run_id = db.store.new_wave_run("w", true).await.unwrap();
    db.store.enqueue_wave_jobs(run_id, &[code("320")], "{}").await.unwrap();
    {
        // A worker takes the job and dies (its connection and its lease go).
        let dying = Store::open(&db.url).await.unwrap();
        let claim = dying.claim_job("dying", Duration::ZERO).await.unwrap().unwrap();
        assert_eq!(claim.job.attempts, 1);
        let holder = advisory_lock_holder(&db.url).await;
        drop(claim);
        dying.close().await;
        // PostgreSQL lets the dead worker's lock go when its server process has ended, a moment
        // after the connection closed: wait for that process to end. On SQLite the job is orphaned
        // once its lease has ended, and a lease of no length ends at once (a lease until T is over at T).
        if let Some(pid) = holder {
            wait_for_server_process_to_end(&db.url, pid).await;
        }
    }
    let claim = db.store.claim_job("healthy", Duration::from_secs(600)).await.unwrap();
    let claim = claim.expect("taken again");
    assert_eq!((claim.job.kommune, claim.job.attempts), (code("320"), 2));
    // While the healthy worker has it, nobody else gets it.
    let other = Store::open(&db.url).await.unwrap();
    assert!(other.claim_job("other", Duration::from_secs(600)).await.unwrap().is_none());
    db.store.finish_job(claim, JobState::Done, "ok", None).await.unwrap();
    assert!(other.claim_job("other", Duration::from_secs(600)).await.unwrap().is_none());
    other.close().await;
    let jobs = db.store.wave_jobs(run_id).await.unwrap();
    assert_eq!((jobs[0].state, jobs[0].worker.as_deref()), (JobState::Done, Some("healthy")));
}

/// On PostgreSQL, the server process of the one session holding an advisory lock in the test's
/// database; None on SQLite.
async fn advisory_lock_holder(url: &str) -> Option<i32> {
    use sqlx::Connection as _;
    if !url.starts_with("postgres") {
        return None;
    }
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let holders: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    assert_eq!(holders.len(), 1, "one lock, the dying worker's: {holders:?}");
    holders.first().copied()
}

/// Returns once PostgreSQL's server process `pid` has ended (and so let its session's locks go):
/// `pg_terminate_backend` with a timeout waits for the process to be gone (it is ending already;
/// if it is gone, there is nothing to wait for).
async fn wait_for_server_process_to_end(url: &str, pid: i32) {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let _ended: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1, 10000)").bind(pid).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// Watches jobs: how often each started, and whether a municipality was ever worked on twice at once.
#[derive(Default)]
struct Watch {
    started: Mutex<HashMap<i64, usize>>,
    busy: Mutex<HashMap<KommuneKode, usize>>,
    overlap: AtomicUsize,
}

impl JobObserver for Watch {
    fn started(&self, job: &WaveJob) {
        *self.started.lock().unwrap().entry(job.id).or_insert(0) += 1;
        let mut busy = self.busy.lock().unwrap();
        let n = busy.entry(job.kommune).or_insert(0);
        *n += 1;
        if *n > 1 {
            self.overlap.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn finished(&self, job: &WaveJob, _outcome: Outcome) {
        *self.busy.lock().unwrap().entry(job.kommune).or_insert(1) -= 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_on_postgresql_do_every_job_once_and_never_one_municipality_twice_at_once() {
    let Some(db) = TestDb::postgres().await else { return };
    let plan = plan(&[(320, "pilot", ""), (370, "pilot", ""), (851, "pilot", ""), (101, "pilot", "")]);
    store_plan(&db.store, &plan, "test.toml").await.unwrap();
    // Two runs of the same wave: two jobs per municipality, so the workers contend for each.
    let mut all_jobs = Vec::new();
    for _ in 0..2 {
        let (run_id, ids) =
            sorsync::waves::runner::enqueue_wave(&db.store, &plan, &options(&bundled(), false)).await.unwrap();
        assert_eq!(ids.len(), 4);
        all_jobs.push(run_id);
    }
    let watch = Arc::new(Watch::default());
    let deps = WorkerDeps {
        fkorg: Default::default(),
        steps: Arc::new(NotInThisBuild),
        progress: Arc::new(NoProgress),
        observer: watch.clone(),
    };
    let worker = |name: &str| WorkerOptions {
        name: name.into(),
        lease: Duration::from_secs(600),
        once: true,
        poll: Duration::from_millis(50),
    };
    let (a, b) = (Store::open(&db.url).await.unwrap(), Store::open(&db.url).await.unwrap());
    let (wa, wb) = (worker("a"), worker("b"));
    let (ra, rb) = tokio::join!(work_queue(&a, &deps, &wa), work_queue(&b, &deps, &wb));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    a.close().await;
    b.close().await;

    assert_eq!(ra.jobs.len() + rb.jobs.len(), 8, "a did {:?}, b did {:?}", ra.jobs, rb.jobs);
    assert_eq!(watch.overlap.load(Ordering::SeqCst), 0, "a municipality was worked on by two workers at once");
    let started = watch.started.lock().unwrap().clone();
    assert_eq!(started.len(), 8);
    assert!(started.values().all(|n| *n == 1), "{started:?}");
    for run_id in all_jobs {
        let jobs = db.store.wave_jobs(run_id).await.unwrap();
        assert!(jobs.iter().all(|j| j.state == JobState::Done && j.attempts == 1), "{jobs:?}");
        let items = db.store.wave_run_items(run_id).await.unwrap();
        assert_eq!(items.len(), 4);
        assert!(items.iter().all(|i| i.outcome.as_deref() == Some("needs_attention")));
    }
    // Both did some work (the queue is shared, not taken by one).
    assert!(!ra.jobs.is_empty() && !rb.jobs.is_empty(), "a {:?} b {:?}", ra.jobs, rb.jobs);
}

#[test]
fn propose_on_the_store_keeps_to_the_scope_of_the_wave_plan() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let plan_path = dir.path().join("plan.toml");
    std::fs::write(&plan_path, plan_text(&[(320, "pilot", "scope.exclude = [\"Social, Sundhed og Ældre\"]")])).unwrap();
    let load = sorsync().args(["--database-url", &url, "waves", "load"]).arg(&plan_path).output().unwrap();
    assert!(load.status.success(), "{}", String::from_utf8_lossy(&load.stderr));
    let run = sorsync()
        .args(["--database-url", &url, "waves", "run", "w", "--today", "2026-11-02", "--data"])
        .arg(bundled())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", String::from_utf8_lossy(&run.stderr));
    // The same snapshots and scope: nothing new, nothing superseded.
    let propose = sorsync()
        .args(["--database-url", &url, "propose", "--kommune", "320", "--today", "2026-11-02", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&propose.stdout).unwrap();
    assert_eq!((json["new"].as_u64(), json["superseded"].as_u64()), (Some(0), Some(0)), "{json}");
}

#[test]
fn a_queued_wave_is_worked_off_by_a_worker_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let load = sorsync().args(["--database-url", &url, "waves", "load"]).arg(fixture("waves/bundled.toml")).output();
    assert!(load.unwrap().status.success());
    let queue = sorsync()
        .args(["--database-url", &url, "waves", "run", "pilots", "--queue", "--today", "2026-11-02", "--data"])
        .arg(bundled())
        .output()
        .unwrap();
    assert!(queue.status.success(), "{}", String::from_utf8_lossy(&queue.stderr));
    assert!(String::from_utf8_lossy(&queue.stdout).starts_with("Queued 4 jobs"));
    let worker = sorsync().args(["--database-url", &url, "worker", "--once", "--name", "w1"]).output().unwrap();
    // Reviews wait after the run: a person must act.
    assert_eq!(worker.status.code(), Some(2), "{}", String::from_utf8_lossy(&worker.stderr));
    let out = String::from_utf8_lossy(&worker.stdout);
    assert_eq!(out.lines().filter(|l| l.ends_with("needs_attention")).count(), 4, "{out}");
    let again = sorsync().args(["--database-url", &url, "worker", "--once"]).output().unwrap();
    assert!(again.status.success() && again.stdout.is_empty());
}
