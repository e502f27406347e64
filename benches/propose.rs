//! Benchmark: `propose` over a national set of municipalities: wall time, the largest
//! municipality, pair-scoring throughput, the scaling curve, and link F1 against the truth.
//!
//! `cargo bench --bench propose -- DIR` reads generated municipalities (`DIR/<kommunekode>/`
//! with fkorg.json, sor.xml, truth.csv, as written by `sorsync fixtures generate`).
//! Without DIR it builds a synthetic national set in memory (a simple stand-in generator below).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sorsync::domain::{Address, FkTree, FkUnit, FkUuid, SorId, SorKind, SorTree, SorUnit};
use sorsync::matching::eval::{name_only_baseline, parse_truth, Score};
use sorsync::matching::{propose, MatchOptions};

struct Municipality {
    name: String,
    fk: FkTree,
    sor: SorTree,
    truth: Vec<(FkUuid, SorId)>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    let set: Vec<Municipality> = match args.first() {
        Some(dir) => read_dir(Path::new(dir)),
        None => {
            println!("no DIR given: synthetic national set (98 municipalities) built in memory");
            (0..98).map(|i| synthetic(i, 1.0)).collect()
        }
    };
    let opts = MatchOptions::new(today);
    let fk_units: usize = set.iter().map(|m| m.fk.len()).sum();
    let sor_units: usize = set.iter().map(|m| m.sor.len()).sum();
    println!("{} municipalities, {fk_units} FK-ORG units, {sor_units} SOR units", set.len());

    // Warm-up, then sequential timing per municipality.
    let _ = propose(&set[0].fk, &set[0].sor, &opts);
    let mut total = Duration::ZERO;
    let mut pairs = 0usize;
    let mut score = Score::default();
    let mut base = Score::default();
    let mut largest = (0usize, Duration::ZERO, String::new());
    for m in &set {
        let t = Instant::now();
        let p = propose(&m.fk, &m.sor, &opts);
        let d = t.elapsed();
        total += d;
        pairs += p.stats.pair_scorings;
        let links: Vec<_> = p.links().map(|l| (l.fk_uuid, l.sor_id)).collect();
        score.add(Score::of(&links, &m.truth));
        base.add(Score::of(&name_only_baseline(&m.fk, &m.sor), &m.truth));
        if m.fk.len() > largest.0 {
            largest = (m.fk.len(), d, m.name.clone());
        }
    }
    if std::env::var("SORSYNC_BENCH_DEBUG").is_ok() {
        debug(&set, &opts);
    }
    println!(
        "link F1 {:.4} (precision {:.4}, recall {:.4}); name-only baseline F1 {:.4}",
        score.f1(),
        score.precision(),
        score.recall(),
        base.f1()
    );
    println!(
        "national, one thread: {:.3} s ({} pair scorings, {:.1} M pairs/s)",
        total.as_secs_f64(),
        pairs,
        pairs as f64 / total.as_secs_f64() / 1e6
    );
    println!("largest municipality {} ({} FK-ORG units): {:.3} s", largest.2, largest.0, largest.1.as_secs_f64());

    // Two threads, municipalities split between them.
    let t = Instant::now();
    std::thread::scope(|s| {
        for k in 0..2 {
            let set = &set;
            let opts = &opts;
            s.spawn(move || {
                for m in set.iter().skip(k).step_by(2) {
                    let _ = propose(&m.fk, &m.sor, opts);
                }
            });
        }
    });
    println!("national, two threads: {:.3} s wall", t.elapsed().as_secs_f64());

    // Scaling: one synthetic municipality at growing size.
    println!("scaling (synthetic municipality, FK-ORG units -> propose time, time per unit):");
    for scale in [0.25, 0.5, 1.0, 2.0, 4.0] {
        let m = synthetic(7, scale * 6.0);
        let t = Instant::now();
        let p = propose(&m.fk, &m.sor, &opts);
        let d = t.elapsed();
        println!(
            "  scale {scale:>4}: {:>6} FK, {:>5} SOR, {:>7} pairs, {:>8.1} ms, {:.2} us/unit",
            m.fk.len(),
            m.sor.len(),
            p.stats.candidate_pairs,
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() * 1e6 / m.fk.len() as f64
        );
    }
}

/// Model and mistakes of the largest municipality, for tuning.
fn debug(set: &[Municipality], opts: &MatchOptions) {
    let Some(m) = set.iter().max_by_key(|m| m.fk.len()) else { return };
    let vocab = sorsync::matching::synonyms::Vocabulary::builtin();
    let run = sorsync::matching::structure::run(&m.fk, &m.sor, opts, &vocab);
    println!("{}: lambda {:.4}, rounds {}", m.name, run.model.lambda, run.stats.rounds);
    for f in sorsync::matching::features::Feature::ALL {
        let w: Vec<String> = run.model.weights[f as usize].iter().map(|w| format!("{w:.1}")).collect();
        println!("  {:<9} {}", f.key(), w.join(" "));
    }
    let p = propose(&m.fk, &m.sor, opts);
    let proposed: Vec<_> = p.links().map(|l| (l.fk_uuid, l.sor_id, l.confidence)).collect();
    let (mistakes, bins) = sorsync::matching::eval::mistakes_and_calibration(&m.fk, &m.sor, &proposed, &m.truth);
    for b in bins {
        println!("  conf {:.2}-{:.2}: {} proposed, {} right", b.from, b.to, b.proposed, b.right);
    }
    for x in mistakes.iter().take(12) {
        let fi = m.fk.index_of(x.fk_uuid);
        let pairs: Vec<String> = fi
            .map(|fi| {
                let mut idx = run.by_fk[fi].clone();
                idx.sort_by(|a, b| run.conf[*b as usize].total_cmp(&run.conf[*a as usize]));
                idx.truncate(4);
                idx.iter()
                    .map(|&i| {
                        let pr = &run.pairs[i as usize];
                        format!(
                            "{}={:?}:{:.1}/{:.2}",
                            m.sor.units[pr.s as usize].name, pr.levels, run.scores[i as usize], run.conf[i as usize]
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "  {} {:?} -> {:?} ({:?}) {:?} | {}",
            x.kind,
            x.fk_name,
            x.sor_name,
            x.other.as_ref().map(|o| &o.1),
            x.confidence,
            pairs.join("; ")
        );
    }
}

fn read_dir(dir: &Path) -> Vec<Municipality> {
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("fkorg.json").exists()).collect())
        .unwrap_or_default();
    subdirs.sort();
    subdirs
        .iter()
        .filter_map(|d| {
            let fk = sorsync::sources::read_fkorg_file(&d.join("fkorg.json")).map_err(|e| eprintln!("{e}")).ok()?;
            let sor_path = if d.join("sor.xml").exists() { d.join("sor.xml") } else { d.join("sor.csv") };
            let sor = sorsync::sources::read_sor_file(&sor_path).map_err(|e| eprintln!("{e}")).ok()?;
            let truth = std::fs::read_to_string(d.join("truth.csv"))
                .ok()
                .and_then(|t| parse_truth(&t).ok())
                .unwrap_or_default();
            Some(Municipality { name: d.file_name()?.to_string_lossy().into_owned(), fk, sor, truth })
        })
        .collect()
}

// ---- A small stand-in generator (only for this benchmark when no generated set is given) ----

const PLACES: &[&str] = &[
    "Sol", "Birke", "Lærke", "Ege", "Bøge", "Rose", "Lyng", "Skov", "Strand", "Kilde", "Mølle", "Enge", "Fjord",
    "Bakke", "Lunde", "Ahorn", "Hassel", "Elme", "Hyld", "Syrén", "Kastanje", "Æble", "Grøn", "Nørre", "Søndre",
];
const ENDINGS: &[&str] =
    &["gården", "ly", "høj", "haven", "bo", "lund", "toft", "vang", "huset", "bakken", "dal", "parken"];
const CARE: &[&str] = &["Plejecenter", "Plejehjem", "Ældrecenter", "Plejeboliger"];
const AREAS: &[&str] = &["Nord", "Syd", "Øst", "Vest", "Midt", "Centrum"];
const ADMIN: &[&str] = &[
    "Borgerservice",
    "Teknik og Miljø",
    "Vej og Park",
    "Byggesag",
    "Løn og Personale",
    "Økonomi",
    "IT og Digitalisering",
    "Jobcenter",
    "Ydelseskontoret",
    "Kultur og Fritid",
    "Bibliotek",
    "Sekretariat",
    "Indkøb",
    "Ejendomme",
];

struct Gen {
    rng: ChaCha8Rng,
    fk: Vec<FkUnit>,
    sor: Vec<SorUnit>,
    truth: Vec<(FkUuid, SorId)>,
    next_fk: u128,
    next_sor: u64,
    code: u64,
}

impl Gen {
    fn fk(&mut self, name: String, parent: Option<FkUuid>) -> FkUuid {
        self.next_fk += 1;
        let uuid = FkUuid::from_uuid(uuid::Uuid::from_u128(((self.code as u128) << 64) | self.next_fk));
        self.fk.push(FkUnit::new(uuid, name, parent));
        uuid
    }
    fn sor(&mut self, kind: SorKind, name: String, parent: Option<SorId>) -> SorId {
        self.next_sor += 1;
        let id = SorId::from_running_number(self.code * 100_000 + self.next_sor);
        self.sor.push(SorUnit::new(id, kind, name, parent));
        id
    }
    fn place(&mut self) -> String {
        format!("{}{}", PLACES.choose(&mut self.rng).unwrap_or(&"Sol"), ENDINGS.choose(&mut self.rng).unwrap_or(&"ly"))
    }
    /// The SOR spelling of an FK-ORG name: synonyms, word order, ae/oe/aa, typos, suffixes.
    fn variant(&mut self, name: &str, muni: &str) -> String {
        let mut s = name.to_string();
        let r: f64 = self.rng.gen();
        if r < 0.15 {
            s = s.replace("Plejecenter", "Plejehjem").replace("Hjemmepleje", "Hjemmehjælp");
        } else if r < 0.25 {
            let mut w: Vec<&str> = s.split(' ').collect();
            w.reverse();
            s = w.join(" ");
        } else if r < 0.33 {
            s = s.replace('æ', "ae").replace('ø', "oe").replace('å', "aa");
        } else if r < 0.40 && s.len() > 8 {
            let i = self.rng.gen_range(2..s.len() - 2);
            if s.is_char_boundary(i) && s.is_char_boundary(i + 1) {
                s.remove(i);
            }
        } else if r < 0.45 {
            s = format!("{s} - {muni} Kommune");
        } else if r < 0.5 {
            s = s.replace("Hjemmepleje", "Hjpl.").replace("Sygepleje", "Sygepl.");
        }
        s
    }
}

fn synthetic(i: u64, scale: f64) -> Municipality {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(i),
        fk: Vec::new(),
        sor: Vec::new(),
        truth: Vec::new(),
        next_fk: 0,
        next_sor: 0,
        code: 100 + i,
    };
    let size = scale * if i == 0 { 6.0 } else { 0.5 + g.rng.gen::<f64>() * 1.5 };
    let muni = format!("By{}", i);
    let root = g.fk(format!("{muni} Kommune"), None);
    let ie = g.sor(SorKind::InstitutionOwner, format!("{muni} Kommune"), None);
    g.truth.push((root, ie));
    // Non-health bulk: administration, schools and day care, with generic repeated names.
    for a in ADMIN {
        let d = g.fk(a.to_string(), Some(root));
        for k in 0..(3.0 * size) as usize {
            let t = g.fk(format!("Team {}", k + 1), Some(d));
            g.fk("Administration".into(), Some(t));
        }
    }
    let schools = g.fk("Skoler".into(), Some(root));
    for _ in 0..(25.0 * size) as usize {
        let p = g.place();
        let s = g.fk(format!("{p} Skole"), Some(schools));
        for n in ["Indskoling", "Mellemtrin", "Udskoling", "SFO", "Administration"] {
            g.fk(n.into(), Some(s));
        }
    }
    let daycare = g.fk("Dagtilbud".into(), Some(root));
    for _ in 0..(40.0 * size) as usize {
        let p = g.place();
        let d = g.fk(format!("Børnehuset {p}"), Some(daycare));
        for n in ["Vuggestue", "Børnehave"] {
            g.fk(n.into(), Some(d));
        }
    }
    // Health.
    let health = g.fk("Sundhed og Ældre".into(), Some(root));
    let si = g.sor(SorKind::HealthInstitution, format!("{muni} Kommune Sundhed og Ældre"), Some(ie));
    g.truth.push((health, si));
    let mut used = std::collections::HashSet::new();
    for _ in 0..(12.0 * size).max(1.0) as usize {
        let p = g.place();
        if !used.insert(p.clone()) {
            continue;
        }
        let care = CARE.choose(&mut g.rng).unwrap_or(&"Plejecenter").to_string();
        let name = if g.rng.gen_bool(0.5) { format!("{care} {p}") } else { format!("{p} {care}") };
        let f = g.fk(name.clone(), Some(health));
        let sname = g.variant(&name, &muni);
        let s = g.sor(SorKind::OrganizationalUnit, sname, Some(si));
        g.truth.push((f, s));
        let street = format!("{p}vej");
        let no = g.rng.gen_range(1..80);
        if g.rng.gen_bool(0.7) {
            if let Some(u) = g.fk.last_mut() {
                u.postal_address = Some(format!("{street} {no}, 4000 {muni}"));
            }
        }
        if g.rng.gen_bool(0.8) {
            let a = Address {
                street: street.clone(),
                building: Some(no.to_string()),
                postcode: "4000".into(),
                district: muni.clone(),
                ..Default::default()
            };
            if let Some(u) = g.sor.last_mut() {
                u.own.postal = Some(a);
            }
        }
        if g.rng.gen_bool(0.2) {
            let idx = g.fk.iter().position(|u| u.uuid == f);
            if let Some(idx) = idx {
                g.fk[idx].sor_id = Some(s);
            }
        }
        let sections = g.rng.gen_range(1..5);
        for k in 0..sections {
            let n = format!("Afsnit {}", (b'A' + k as u8) as char);
            let cf = g.fk(n.clone(), Some(f));
            if g.rng.gen_bool(0.9) {
                let cs = g.sor(SorKind::OrganizationalUnit, n, Some(s));
                g.truth.push((cf, cs));
            }
        }
    }
    let homecare = g.fk("Hjemmeplejen".into(), Some(health));
    let hs = g.sor(SorKind::OrganizationalUnit, "Hjemmepleje".into(), Some(si));
    g.truth.push((homecare, hs));
    for area in AREAS.iter().take((2.0 + 2.0 * size) as usize) {
        let name = format!("Hjemmepleje {area}");
        let f = g.fk(name.clone(), Some(homecare));
        let sname = g.variant(&name, &muni);
        let s = g.sor(SorKind::OrganizationalUnit, sname, Some(hs));
        g.truth.push((f, s));
        let phone = format!("{}", 40_000_000 + g.rng.gen_range(0..9_999_999));
        if let Some(u) = g.fk.last_mut() {
            u.landline = Some(phone.clone());
        }
        if let Some(u) = g.sor.last_mut() {
            u.own.phone = Some(phone);
        }
        for team in ["Team Dag", "Team Aften", "Team Nat"] {
            let cf = g.fk(team.into(), Some(f));
            let cs = g.sor(SorKind::OrganizationalUnit, team.into(), Some(s));
            g.truth.push((cf, cs));
        }
    }
    for (fname, sname) in [
        ("Sygeplejen", "Hjemmesygepleje"),
        ("Sundhedsplejen", "Sundhedspleje"),
        ("Træning og Rehabilitering", "Genoptræning"),
        ("Kommunal Tandpleje", "Tandplejen"),
    ] {
        let f = g.fk(fname.into(), Some(health));
        let s = g.sor(SorKind::OrganizationalUnit, sname.into(), Some(si));
        g.truth.push((f, s));
        if fname == "Kommunal Tandpleje" {
            for _ in 0..(4.0 * size) as usize {
                let p = g.place();
                let n = format!("Tandklinik {p}");
                let cf = g.fk(n.clone(), Some(f));
                let sname = g.variant(&n, &muni);
                let cs = g.sor(SorKind::OrganizationalUnit, sname, Some(s));
                g.truth.push((cf, cs));
            }
        }
    }
    // Keep only truth pairs whose units exist once (a repeated place name can make a duplicate FK name).
    let fk = FkTree::new(None, g.fk, Vec::new()).expect("synthetic FK-ORG tree is valid");
    let sor = SorTree::new(g.sor).expect("synthetic SOR tree is valid");
    Municipality { name: format!("syn{i:03}"), fk, sor, truth: g.truth }
}
