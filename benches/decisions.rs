//! Benchmark: how much a first onboarding leaves to a SOR administrator under the default sync
//! policy, and how often the policy's own decisions are wrong, on generated municipalities with a
//! careful administrator's expected decision for every case (`expected.csv`).
//!
//! `cargo bench --bench decisions -- DIR [DIR...]` reads `DIR/<kommunekode>/` (fkorg.json, sor.xml,
//! truth.csv, expected.csv, as `sorsync fixtures generate [--profile P]` writes them) and prints, per
//! DIR: decisions for a person per 100 FK-ORG units (by kind), wrong decisions taken without a
//! person per 1,000 units, and link F1. Timings are not the point here; see `benches/propose.rs`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sorsync::matching::decisions::{parse_expected, score, DecisionScore};
use sorsync::matching::eval::{parse_truth, Score};
use sorsync::matching::{propose, MatchOptions};

fn main() {
    let dirs: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if dirs.is_empty() {
        eprintln!("usage: cargo bench --bench decisions -- DIR [DIR...] (generated with `sorsync fixtures generate`)");
        return;
    }
    // The generator's default snapshot day.
    let today = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default();
    let opts = MatchOptions::new(today);
    for dir in dirs {
        let mut total = DecisionScore::default();
        let mut links = Score::default();
        let mut municipalities = 0;
        let mut without_expected = 0;
        for d in municipality_dirs(Path::new(&dir)) {
            let Ok(fk) = sorsync::sources::read_fkorg_file(&d.join("fkorg.json")) else { continue };
            let Ok(sor) = sorsync::sources::read_sor_file(&d.join("sor.xml")) else { continue };
            let truth = std::fs::read_to_string(d.join("truth.csv"))
                .ok()
                .and_then(|t| parse_truth(&t).ok())
                .unwrap_or_default();
            let expected = match std::fs::read_to_string(d.join("expected.csv")) {
                Ok(text) => match parse_expected(&text) {
                    Ok(e) => e,
                    Err(e) => {
                        eprintln!("{}: {e}", d.join("expected.csv").display());
                        continue;
                    }
                },
                Err(_) => {
                    without_expected += 1;
                    Default::default()
                }
            };
            let p = propose(&fk, &sor, &opts);
            let found: Vec<_> = p.links().map(|l| (l.fk_uuid, l.sor_id)).collect();
            links.add(Score::of(&found, &truth));
            total.add(score(fk.len(), &p, &opts.policy, &expected));
            municipalities += 1;
        }
        println!("{dir}: {municipalities} municipalities, {} FK-ORG units, {} cases", total.fk_units, total.cases);
        if without_expected > 0 {
            println!(
                "  note: {without_expected} municipalities have no expected.csv (only their person decisions count)"
            );
        }
        println!(
            "  decisions for a person: {} = {:.1} per 100 FK-ORG units ({})",
            total.person_decisions,
            total.person_per_100(),
            total.person_by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
        );
        println!(
            "  wrong decisions without a person: {} of {} checked = {:.2} per 1,000 FK-ORG units",
            total.wrong_auto,
            total.auto_cases_checked,
            total.wrong_auto_per_1000()
        );
        println!("  link F1 {:.4} (precision {:.4}, recall {:.4})", links.f1(), links.precision(), links.recall());
        for (k, n) in &total.wrong_by {
            println!("    {n:>5}  {k}");
        }
        for w in total.wrong_examples.iter().take(10) {
            println!("    wrong: {w}");
        }
    }
}

fn municipality_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("fkorg.json").exists()).collect())
        .unwrap_or_default();
    out.sort();
    out
}
