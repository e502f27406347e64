//! Benchmark: a single-edit consequence preview on a 10,000-unit municipality (links given).
//! Target (issue 5): <= 20 ms per preview. Run: `cargo bench --bench preview`.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sorsync::domain::{FkTree, FkUnit, FkUuid, SorId, SorKind, SorTree, SorUnit};
use sorsync::preview::render_svg::render_svg;
use sorsync::preview::render_text::render_text;
use sorsync::preview::{preview, Edit};

fn fk_id(n: u64) -> FkUuid {
    FkUuid::from_uuid(uuid::Uuid::from_u128(0xb100_0000_0000_4000_8000_0000_0000_0000 + n as u128))
}

fn fk_unit(n: u64, parent: Option<u64>) -> FkUnit {
    FkUnit::new(fk_id(n), format!("Enhed {n}"), parent.map(fk_id))
}

/// Root, 20 institutions, 10 departments each, 49 units under each department: 10,021 units.
fn municipality() -> (FkTree, SorTree, Vec<(FkUuid, SorId)>) {
    let mut fk = vec![fk_unit(0, None)];
    let mut sor = vec![SorUnit::new(SorId::from_running_number(1), SorKind::InstitutionOwner, "Kommune", None)];
    let sid = |n: u64| SorId::from_running_number(n + 1);
    let mut next = 1;
    for _ in 0..20 {
        let si = next;
        next += 1;
        fk.push(fk_unit(si, Some(0)));
        sor.push(SorUnit::new(sid(si), SorKind::HealthInstitution, format!("Enhed {si}"), Some(sid(0))));
        for _ in 0..10 {
            let dep = next;
            next += 1;
            fk.push(fk_unit(dep, Some(si)));
            sor.push(SorUnit::new(sid(dep), SorKind::OrganizationalUnit, format!("Enhed {dep}"), Some(sid(si))));
            for _ in 0..49 {
                let u = next;
                next += 1;
                fk.push(fk_unit(u, Some(dep)));
                sor.push(SorUnit::new(sid(u), SorKind::OrganizationalUnit, format!("Enhed {u}"), Some(sid(dep))));
            }
        }
    }
    let links = (0..next).map(|n| (fk_id(n), sid(n))).collect();
    (FkTree::new(None, fk, Vec::new()).expect("valid"), SorTree::new(sor).expect("valid"), links)
}

fn main() {
    let (fk, sor, links) = municipality();
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).expect("a date");
    println!("{} FK-ORG units, {} SOR units, {} links", fk.len(), sor.len(), links.len());
    let cases = [
        ("create", Edit::Create { name: "Ny enhed".into(), under: fk_id(2), address: None, phone: None }),
        ("close department (50 units)", Edit::Close { unit: fk_id(2), date: today }),
        ("close institution (500 units)", Edit::Close { unit: fk_id(1), date: today }),
        ("move across institutions", Edit::Move { unit: fk_id(2), under: fk_id(501) }),
        ("rename", Edit::Rename { unit: fk_id(3), name: "Nyt navn".into() }),
    ];
    for (label, edit) in &cases {
        let mut times = Vec::new();
        let mut rendered = Duration::ZERO;
        for _ in 0..30 {
            let t = Instant::now();
            let p = preview(&fk, &sor, &links, std::slice::from_ref(edit), today).expect("valid");
            times.push(t.elapsed());
            let t = Instant::now();
            let text = render_text(&p, &sor);
            let svg = render_svg(&p, &fk, &sor, &links);
            rendered = rendered.max(t.elapsed());
            std::hint::black_box((text, svg));
        }
        times.sort();
        println!(
            "{label:32} median {:>7.2} ms  max {:>7.2} ms  (text+svg render max {:.2} ms)",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
            rendered.as_secs_f64() * 1e3
        );
    }
}
