//! Benchmark: the contact-number report at municipal and national scale, on synthetic FK-ORG data
//! (seeded, so every run sees the same data). Run: `cargo bench --bench contacts`.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sorsync::contacts::{build_report, chart, render, xlsx, Scope};
use sorsync::domain::{FkMembership, FkStatus, FkTree, FkUnit, FkUser, FkUuid, KommuneKode};

fn uuid(rng: &mut ChaCha8Rng) -> FkUuid {
    FkUuid::from_uuid(uuid::Uuid::from_u128(rng.gen()))
}

fn phone(rng: &mut ChaCha8Rng) -> Option<String> {
    match rng.gen_range(0..10) {
        0..=4 => None,
        5..=7 => Some(format!("{}", rng.gen_range(20_000_000..99_999_999))),
        8 => Some(format!("+45 {} {}", rng.gen_range(20..99), rng.gen_range(100_000..999_999))),
        _ => Some("ring til omstillingen".to_string()),
    }
}

/// A municipality with `n_units` units (each a child of a random unit in the later half of those before it) and `n_users` users
/// with one or two memberships each.
fn municipality(seed: u64, n_units: usize, n_users: usize) -> FkTree {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut units: Vec<FkUnit> = Vec::with_capacity(n_units);
    for i in 0..n_units {
        let parent = if i == 0 { None } else { Some(units[rng.gen_range(i / 2..i)].uuid) };
        units.push(FkUnit {
            uuid: uuid(&mut rng),
            enhedsnavn: format!("Enhed {i} Ældreområdet"),
            brugervendt_noegle: None,
            parent,
            status: if rng.gen_range(0..50) == 0 { FkStatus::Inaktiv } else { FkStatus::Aktiv },
            valid_from: None,
            valid_to: None,
            sor_id: None,
            ean: None,
            p_number: None,
            postal_address: None,
            email: None,
            mobile: phone(&mut rng),
            landline: if rng.gen_range(0..4) == 0 { phone(&mut rng) } else { None },
            los_id: None,
        });
    }
    let users = (0..n_users)
        .map(|i| FkUser {
            uuid: uuid(&mut rng),
            brugernavn: format!("bruger{i}"),
            person_name: Some(format!("Person {i} Sørensen")),
            status: FkStatus::Aktiv,
            email: None,
            mobile: phone(&mut rng),
            landline: phone(&mut rng),
            memberships: (0..rng.gen_range(1..=2))
                .map(|_| FkMembership {
                    uuid: None,
                    title: Some("Social- og sundhedsassistent".into()),
                    function_type: None,
                    function_type_title: None,
                    unit: Some(units[rng.gen_range(0..n_units)].uuid),
                })
                .collect(),
        })
        .collect();
    FkTree::new(None, units, users).expect("the synthetic tree is well-formed")
}

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let v = f();
    println!("{label:<58} {:>9.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    v
}

fn main() {
    let scope = Scope::everything();
    let big = time("build a large municipality (3,000 units, 45,000 users)", || municipality(1, 3_000, 45_000));
    let report = time("  build_report", || build_report(&big, KommuneKode::parse("101").ok(), &scope));
    println!(
        "  role holders {}, missing both {} ({:.1} %), units without phone {}",
        report.role_holders(),
        report.missing_both_count(),
        report.share_missing() * 100.0,
        report.units_without_phone.len()
    );
    let json = time("  render JSON", || render::report_json(&report));
    let csv = time("  render CSV", || render::people_csv(std::slice::from_ref(&report)));
    let xl = time("  render XLSX", || xlsx::workbook_bytes(std::slice::from_ref(&report)).expect("xlsx"));
    println!("  sizes: JSON {} kB, CSV {} kB, XLSX {} kB", json.len() / 1024, csv.len() / 1024, xl.len() / 1024);
    drop(big);

    let t = Instant::now();
    let reports: Vec<_> = (0..98u64)
        .map(|k| {
            let tree = municipality(100 + k, 600, 5_000);
            build_report(&tree, KommuneKode::parse(&format!("{}", 101 + k * 8)).ok(), &scope)
        })
        .collect();
    println!(
        "{:<58} {:>9.1} ms",
        "98 municipalities (600 units, 5,000 users each): build + report",
        t.elapsed().as_secs_f64() * 1000.0
    );
    time("  render summary text", || render::many_text(&reports));
    time("  render SVG chart", || chart::share_missing_svg(&reports));
    let xl = time("  render XLSX (all people, all municipalities)", || xlsx::workbook_bytes(&reports).expect("xlsx"));
    println!("  XLSX {} kB", xl.len() / 1024);
}
