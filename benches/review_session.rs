//! Benchmark: a SOR administrator reviewing a whole municipality through the JSON API, played
//! from the ground truth. Starts the web app in-process on a SQLite store holding the largest
//! municipality of a generated set (or the one named), runs the store-backed propose step and the
//! sync policy's automatic decisions as an operator would, then signs in as the SOR administrator
//! and works the queue to the end: each time the first item of the queue, decided as a careful
//! administrator would (`expected.csv`; `truth.csv` where there is none): approve a right link,
//! pick the right runner-up, "create new" or "not in SOR" for a wrong one; approve a create that
//! is expected new, reject one that is not; approve the follow-ups of a right link. Every decision
//! goes through the case route (`/api/k/{k}/cases/{id}/decide`), one key per case. Prints the
//! decisions, HTTP requests, keystrokes (one per decision, as the review page's keys work) and the
//! minutes of a person at 5 s a decision.
//!
//! `cargo bench --bench review_session -- DIR [KOMMUNE]`

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sorsync::domain::KommuneKode;
use sorsync::matching::decisions::{parse_expected, Expected};
use sorsync::matching::eval::parse_truth;
use sorsync::matching::policy::SyncPolicy;
use sorsync::matching::MatchOptions;
use sorsync::review::{apply_policy, grant, Actor, Role};
use sorsync::store::{ProposalStatus, Store};
use sorsync::web::{hash_password, serve_listener, WebConfig};

const PASSWORD: &str = "review session password";
const SECONDS_PER_DECISION: f64 = 5.0;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: cargo bench --bench review_session -- DIR [KOMMUNE]");
        return;
    };
    let Some(mdir) = pick(Path::new(dir), args.get(1).map(String::as_str)) else {
        eprintln!("{dir}: no municipality found");
        return;
    };
    let code = mdir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let kommune = KommuneKode::parse(&code).expect("the folder is named by its kommunekode");
    let fk = sorsync::sources::read_fkorg_file(&mdir.join("fkorg.json")).expect("fkorg.json reads");
    let sor = sorsync::sources::read_sor_file(&mdir.join("sor.xml")).expect("sor.xml reads");
    let expected: HashMap<String, Expected> = match std::fs::read_to_string(mdir.join("expected.csv")) {
        Ok(text) => parse_expected(&text).expect("expected.csv reads"),
        Err(_) => {
            let text = std::fs::read_to_string(mdir.join("truth.csv")).expect("truth.csv reads");
            parse_truth(&text)
                .expect("truth.csv")
                .into_iter()
                .map(|(f, s)| (f.to_string(), Expected::Link(s)))
                .collect()
        }
    };

    let tmp = tempfile::tempdir().expect("a temp dir");
    let store = Store::open(&format!("sqlite://{}", tmp.path().join("review.db").display())).await.expect("store");
    store.import_fkorg(kommune, "fkorg.json", &fk).await.expect("import FK-ORG");
    store.import_sor("sor.xml", Some(kommune), &sor).await.expect("import SOR");
    grant(&store, None, "olga", kommune, Role::Operator).await.expect("grant");
    grant(&store, None, "anna", kommune, Role::SorAdmin).await.expect("grant");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("a date");
    let t = Instant::now();
    let run = sorsync::waves::pipeline::propose_for(&store, kommune, &MatchOptions::new(today)).await.expect("propose");
    let auto = apply_policy(&store, &Actor::new("olga"), kommune, &SyncPolicy::default()).await.expect("policy");
    println!(
        "municipality {kommune}: {} FK-ORG units, {} SOR units; {} proposals recorded, {} decided by the sync policy ({:.1} s)",
        fk.len(),
        sor.len(),
        run.summary.new.len(),
        auto.approved.len(),
        t.elapsed().as_secs_f64()
    );

    store.set_web_password_hash("anna", &hash_password(PASSWORD).expect("hash")).await.expect("account");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_listener(
        listener,
        store.clone(),
        WebConfig { secure_cookies: false, today: Some(today), ..Default::default() },
        async {
            let _ = stopped.await;
        },
    ));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut requests = 0usize;
    let login = http
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"user": "anna", "password": PASSWORD}))
        .send()
        .await
        .expect("sign-in");
    requests += 1;
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    let session: serde_json::Value = login.json().await.expect("session JSON");
    let csrf = session["csrf"].as_str().expect("a CSRF token").to_string();

    let (mut decisions, mut keystrokes, mut refused) = (0usize, 0usize, 0usize);
    let mut skipped: std::collections::HashSet<i64> = Default::default();
    let started = Instant::now();
    loop {
        let queue: serde_json::Value = http
            .get(format!("{base}/api/k/{kommune}/queue"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("queue")
            .json()
            .await
            .expect("queue JSON");
        requests += 1;
        let mut items = Vec::new();
        collect_proposals(&queue, &mut items);
        // The first item that is a decision now (a follow-up waits for its unit's link).
        let mut chosen = None;
        let open: Vec<i64> = items.into_iter().filter(|id| !skipped.contains(id)).collect();
        for id in open {
            let p = store.proposal(id).await.expect("the proposal");
            if p.status != ProposalStatus::Pending {
                skipped.insert(id);
                continue;
            }
            if p.key.kind.is_follow_up() {
                let links = store.approved_link_ids(kommune).await.expect("links");
                let linked = links
                    .iter()
                    .any(|(f, s)| Some(f.to_string()) == p.key.fk_uuid && Some(s.to_string()) == p.key.sor_id);
                if !linked {
                    skipped.insert(id);
                    continue;
                }
            }
            chosen = Some((id, p));
            break;
        }
        let Some((id, p)) = chosen else { break };
        let case = p.key.fk_uuid.clone().unwrap_or_default();
        let wanted = expected.get(&case);
        let here = p.key.sor_id.clone().unwrap_or_default();
        // One key per case, as the review page's keys work: `a` approve (a link's follow-ups that
        // the policy applies by itself are decided with it; on a follow-up case, all of the case's
        // changes), `r` not in SOR / reject, `n` new, `1`..`9` a runner-up.
        let body = match (p.key.kind.as_str(), wanted) {
            ("link", Some(Expected::Link(s))) if s.to_string() == here => serde_json::json!({"action": "approve"}),
            ("link", Some(Expected::Link(s))) => serde_json::json!({"action": "alternative", "sor_id": s.to_string()}),
            ("link", Some(Expected::New)) => serde_json::json!({"action": "new"}),
            ("link", _) => serde_json::json!({"action": "reject"}),
            ("create", Some(Expected::New)) => serde_json::json!({"action": "approve"}),
            ("create", _) => serde_json::json!({"action": "reject"}),
            _ => serde_json::json!({"action": "approve"}),
        };
        let decide = |body: serde_json::Value| {
            http.post(format!("{base}/api/k/{kommune}/cases/{id}/decide"))
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .json(&body)
                .send()
        };
        let mut r = decide(body.clone()).await.expect("decide");
        requests += 1;
        if !r.status().is_success() && body["action"] == "alternative" {
            // The right unit is not among the runners-up: "not in SOR" here (a person links it by
            // hand later, outside this count).
            r = decide(serde_json::json!({"action": "reject"})).await.expect("not in SOR");
            requests += 1;
        }
        if r.status().is_success() {
            decisions += 1;
            keystrokes += 1;
            // What was refused before (a follow-up shown before its link) may be decidable now.
            skipped.clear();
        } else {
            refused += 1;
            skipped.insert(id);
        }
    }
    let minutes = decisions as f64 * SECONDS_PER_DECISION / 60.0;
    println!(
        "review to the end: {decisions} decisions by a person ({:.1} per 100 FK-ORG units), {keystrokes} keystrokes, \
         {requests} HTTP requests, {refused} refused; {minutes:.1} minutes at {SECONDS_PER_DECISION} s a decision \
         (the API itself took {:.1} s)",
        100.0 * decisions as f64 / fk.len().max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    let _ = stop.send(());
    let _ = server.await;
}

/// The proposal ids in a queue answer, in order: every object with an integer `id` and a `kind`.
fn collect_proposals(v: &serde_json::Value, out: &mut Vec<i64>) {
    match v {
        serde_json::Value::Object(map) => {
            if let (Some(id), Some(_)) = (map.get("id").and_then(|x| x.as_i64()), map.get("kind")) {
                out.push(id);
            }
            for x in map.values() {
                collect_proposals(x, out);
            }
        }
        serde_json::Value::Array(list) => list.iter().for_each(|x| collect_proposals(x, out)),
        _ => {}
    }
}

/// The named municipality's folder, or the one with the most FK-ORG units (the largest file).
fn pick(dir: &Path, code: Option<&str>) -> Option<PathBuf> {
    if let Some(c) = code {
        return Some(dir.join(c)).filter(|d| d.join("fkorg.json").exists());
    }
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("fkorg.json").exists())
        .max_by_key(|p| std::fs::metadata(p.join("fkorg.json")).map(|m| m.len()).unwrap_or(0))
}
