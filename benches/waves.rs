//! Benchmark: a dry run of all 98 generated municipalities (scale 1) as one wave, with
//! concurrency 1 and 2 (municipalities at a time), on a SQLite store in a temp dir. The issue asks
//! for <= 30 s on one machine. `cargo bench --bench waves` measures; without `--bench` it only
//! does a small smoke run (2 municipalities, scale 0.05).

use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use sorsync::generate::municipalities::first_n;
use sorsync::generate::output::write_set;
use sorsync::generate::GeneratorConfig;
use sorsync::store::Store;
use sorsync::waves::plan::{load_plan, Wave, WavePlan};
use sorsync::waves::runner::{run_wave, DataSource, NoProgress, Outcome, RunOptions, Runner};
use sorsync::waves::steps::NotInThisBuild;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (n, scale) = if full { (98, 1.0) } else { (2, 0.05) };
    let municipalities = first_n(n);
    let cfg = GeneratorConfig { seed: 1, scale, ..GeneratorConfig::default() };
    let data = tempfile::tempdir().expect("a temp dir");
    let t = Instant::now();
    let (manifest, _) = write_set(&municipalities, &cfg, data.path(), None, |_| {}).expect("the set is written");
    println!(
        "generated {} municipalities at scale {scale} ({} FK-ORG units, {} SOR units) in {:.1} s",
        manifest.totals.municipalities,
        manifest.totals.fk_units,
        manifest.totals.sor_units,
        t.elapsed().as_secs_f64()
    );

    // The national plan, all municipalities generated here in one wave.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let national = load_plan(&root.join("fixtures/waves/national.toml")).expect("the national plan reads");
    let codes: Vec<u16> = municipalities.iter().map(|m| m.code).collect();
    let wave = Wave {
        name: "all".into(),
        start: None,
        end: None,
        municipalities: national
            .municipalities()
            .map(|(_, m)| m.clone())
            .filter(|m| codes.contains(&m.kommune.as_u16()))
            .collect(),
    };
    let plan = WavePlan { thresholds: national.thresholds, waves: vec![wave] };
    let today = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default();
    let opts = RunOptions {
        wave: "all".into(),
        dry_run: true,
        source: DataSource::Dir { path: data.path().to_path_buf() },
        today,
    };

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    for concurrency in [1, 2] {
        let db = tempfile::tempdir().expect("a temp dir");
        let url = format!("sqlite://{}", db.path().join("sorsync.db").display());
        let (secs, result) = rt.block_on(async {
            let store = Store::open(&url).await.expect("a store");
            let runner = Runner {
                store: store.clone(),
                plan: Arc::new(plan.clone()),
                fkorg: Default::default(),
                steps: Arc::new(NotInThisBuild),
                progress: Arc::new(NoProgress),
            };
            let t = Instant::now();
            let result = run_wave(&runner, &opts, concurrency).await.expect("the dry run runs");
            let secs = t.elapsed().as_secs_f64();
            store.close().await;
            (secs, result)
        });
        let ok = result.municipalities.iter().filter(|m| m.outcome == Outcome::Ok).count();
        let links: usize =
            result.municipalities.iter().map(|m| m.metrics.proposals_by_kind.get("link").copied().unwrap_or(0)).sum();
        let in_scope: usize = result.municipalities.iter().map(|m| m.metrics.units_in_scope).sum();
        println!(
            "dry run, concurrency {concurrency}: {:.2} s for {} municipalities ({ok} ok, {links} link proposals, \
             {in_scope} FK-ORG units in scope)",
            secs,
            result.municipalities.len()
        );
    }
}
