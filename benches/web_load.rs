//! Benchmark: the web app under load. Starts the server in-process on a SQLite store holding a
//! generated 10,000-unit municipality (København, 101, at scale 1) with its recorded proposals,
//! signs in 50 clients and has them request the review-queue page and its JSON, alternately, for
//! N seconds. Prints p50/p95/p99 latency per endpoint and requests per second.
//!
//! `cargo bench --bench web_load -- [SECONDS] [CLIENTS]` (default 10 s, 50 clients).

use std::time::{Duration, Instant};

use sorsync::domain::{FkTree, KommuneKode, SorTree};
use sorsync::generate::{generate_municipality, GeneratorConfig, Municipality};
use sorsync::matching::{propose, MatchOptions};
use sorsync::review::{grant, record_run, Role, Snapshot};
use sorsync::store::Store;
use sorsync::web::{hash_password, serve_listener, WebConfig};

const PASSWORD: &str = "load test password";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(50);

    // The store: one large municipality and its proposals.
    let dir = tempfile::tempdir().expect("a temp dir");
    let url = format!("sqlite://{}", dir.path().join("web_load.db").display());
    let store = Store::open(&url).await.expect("the store opens");
    let m = Municipality::by_code(101).expect("København is known");
    let kommune = KommuneKode::parse("101").expect("101 is a kommunekode");
    let cfg = GeneratorConfig { scale: 1.0, ..GeneratorConfig::default() };
    let g = generate_municipality(&m, &cfg);
    let fk = FkTree::new(Some(g.cvr), g.fk_units, g.fk_users).expect("the generated FK-ORG tree is valid");
    let sor = SorTree::new(g.sor_units).expect("the generated SOR tree is valid");
    let fk_id = store.import_fkorg(kommune, "generated", &fk).await.expect("import").snapshot_id;
    let sor_id = store.import_sor("generated", None, &sor).await.expect("import").snapshot_id;
    let t = Instant::now();
    let proposals = propose(&fk, &sor, &MatchOptions::new(g.snapshot_date));
    let summary =
        record_run(&store, kommune, Snapshot { id: fk_id, tree: &fk }, Snapshot { id: sor_id, tree: &sor }, &proposals)
            .await
            .expect("the run is recorded");
    println!(
        "municipality 101: {} FK-ORG units, {} SOR units, {} pending proposals (proposed and recorded in {:.1} s)",
        fk.len(),
        sor.len(),
        summary.pending,
        t.elapsed().as_secs_f64()
    );
    store.set_web_password_hash("load", &hash_password(PASSWORD).expect("hash")).await.expect("account");
    grant(&store, None, "load", kommune, Role::SorAdmin).await.expect("grant");

    // The server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_listener(
        listener,
        store.clone(),
        WebConfig { secure_cookies: false, today: Some(g.snapshot_date), ..Default::default() },
        async {
            let _ = stopped.await;
        },
    ));

    // Sign in every client (and warm the tree cache).
    let mut sessions = Vec::new();
    for _ in 0..clients {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
        let r = http
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({"user": "load", "password": PASSWORD}))
            .send()
            .await
            .expect("sign-in");
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_string();
        sessions.push((http, cookie));
    }
    let (http, cookie) = &sessions[0];
    let warm = http.get(format!("{base}/k/101/queue")).header("cookie", cookie).send().await.expect("warm-up");
    assert_eq!(warm.status(), 200);

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, (http, cookie)) in sessions.into_iter().enumerate() {
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let mut page = Vec::new();
            let mut json = Vec::new();
            let mut errors = 0usize;
            let mut n = i;
            while Instant::now() < deadline {
                let is_json = n % 2 == 1;
                // Pages 1..4 of the queue, as reviewers move through it.
                let p = (n / 2) % 4 + 1;
                let path =
                    if is_json { format!("/api/k/101/queue?page={p}") } else { format!("/k/101/queue?page={p}") };
                let t = Instant::now();
                let ok = match http.get(format!("{base}{path}")).header("cookie", &cookie).send().await {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                let d = t.elapsed();
                if !ok {
                    errors += 1;
                }
                if is_json {
                    json.push(d)
                } else {
                    page.push(d)
                }
                n += 1;
            }
            (page, json, errors)
        }));
    }
    let mut page = Vec::new();
    let mut json = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (p, j, e) = t.await.expect("a client task");
        page.extend(p);
        json.extend(j);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut all: Vec<Duration> = page.iter().chain(json.iter()).copied().collect();
    page.sort();
    json.sort();
    all.sort();
    println!(
        "{clients} clients for {seconds} s: {} requests, {errors} errors, {:.0} requests/s",
        all.len(),
        all.len() as f64 / elapsed
    );
    for (name, v) in [("queue page (HTML)", &page), ("queue JSON", &json), ("both", &all)] {
        println!(
            "{name:<18} n={:<6} p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms",
            v.len(),
            ms(percentile(v, 0.50)),
            ms(percentile(v, 0.95)),
            ms(percentile(v, 0.99)),
            ms(v.last().copied().unwrap_or_default())
        );
    }
    let p99 = percentile(&all, 0.99);
    println!("target p99 <= 50 ms: {}", if p99 <= Duration::from_millis(50) { "met" } else { "NOT met" });
    let _ = stop.send(());
    let _ = server.await;
    store.close().await;
}
