//! `sorsync eval`: measures link proposals against ground truth (precision, recall, F1), next to
//! a name-only baseline, lists the mistakes and shows how well confidence is calibrated.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Args;

use super::Context;
use crate::matching::eval::{
    mistakes_and_calibration, name_only_baseline, parse_truth, CalibrationBin, Mistake, Score,
};
use crate::matching::{propose, MatchOptions};
use crate::sources::{read_fkorg_file, read_sor_file};

/// Measure link proposals against a ground-truth file (precision, recall, F1).
///
/// One municipality: `sorsync eval --fkorg fkorg.json --sor sor.xml --truth truth.csv`.
/// Many: `sorsync eval --dir DIR` evaluates every `DIR/<kommunekode>/` holding fkorg.json,
/// sor.xml (or sor.csv) and truth.csv, and prints totals. truth.csv is `fk_uuid;sor_id` with a header.
#[derive(Debug, Args)]
pub struct EvalArgs {
    #[arg(long, value_name = "FILE", requires_all = ["sor", "truth"], conflicts_with = "dir")]
    pub fkorg: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub sor: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// A directory of municipalities, one subdirectory each.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The day to match for. Default: today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<NaiveDate>,
    /// How many mistakes to list (per municipality with --fkorg, in total with --dir).
    #[arg(long, default_value_t = 40)]
    pub mistakes: usize,
    /// Do not propose matched links below this confidence.
    #[arg(long, default_value_t = 0.5, value_name = "P")]
    pub min_confidence: f64,
    /// Most candidate SOR units kept per FK-ORG unit after blocking (a tuning knob).
    #[arg(long, default_value_t = MatchOptions::DEFAULT_MAX_CANDIDATES, value_name = "N")]
    pub max_candidates: usize,
}

/// The outcome for one municipality.
struct Outcome {
    name: String,
    fk_units: usize,
    sor_units: usize,
    score: Score,
    baseline: Score,
    mistakes: Vec<Mistake>,
    bins: Vec<CalibrationBin>,
    propose_time: Duration,
    candidate_pairs: usize,
}

fn evaluate(name: String, fk: &Path, sor: &Path, truth: &Path, opts: &MatchOptions) -> anyhow::Result<Outcome> {
    let fk_tree = read_fkorg_file(fk)?;
    let sor_tree = read_sor_file(sor)?;
    let text = std::fs::read_to_string(truth).with_context(|| format!("reading {}", truth.display()))?;
    let truth_pairs = parse_truth(&text).with_context(|| format!("{}", truth.display()))?;
    let started = Instant::now();
    let proposals = propose(&fk_tree, &sor_tree, opts);
    let propose_time = started.elapsed();
    let proposed: Vec<_> = proposals.links().map(|l| (l.fk_uuid, l.sor_id, l.confidence)).collect();
    let pairs: Vec<_> = proposed.iter().map(|&(f, s, _)| (f, s)).collect();
    let score = Score::of(&pairs, &truth_pairs);
    let baseline = Score::of(&name_only_baseline(&fk_tree, &sor_tree), &truth_pairs);
    let (mistakes, bins) = mistakes_and_calibration(&fk_tree, &sor_tree, &proposed, &truth_pairs);
    Ok(Outcome {
        name,
        fk_units: fk_tree.len(),
        sor_units: sor_tree.len(),
        score,
        baseline,
        mistakes,
        bins,
        propose_time,
        candidate_pairs: proposals.stats.candidate_pairs,
    })
}

pub fn run(args: EvalArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    let mut opts = MatchOptions::new(args.today.unwrap_or_else(|| chrono::Local::now().date_naive()));
    opts.min_confidence = args.min_confidence;
    opts.max_candidates_per_unit = args.max_candidates;
    let outcomes = if let Some(dir) = &args.dir {
        evaluate_dir(dir, &opts)?
    } else {
        let (Some(fk), Some(sor), Some(truth)) = (&args.fkorg, &args.sor, &args.truth) else {
            anyhow::bail!("give --fkorg FILE --sor FILE --truth FILE, or --dir DIR");
        };
        vec![evaluate(fk.display().to_string(), fk, sor, truth, &opts)?]
    };
    print_outcomes(&outcomes, args.mistakes);
    Ok(ExitCode::SUCCESS)
}

fn find_sor(dir: &Path) -> Option<PathBuf> {
    ["sor.xml", "sor.csv"].iter().map(|n| dir.join(n)).find(|p| p.exists())
}

fn evaluate_dir(dir: &Path, opts: &MatchOptions) -> anyhow::Result<Vec<Outcome>> {
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir() && p.join("fkorg.json").exists() && p.join("truth.csv").exists() && find_sor(p).is_some()
        })
        .collect();
    subdirs.sort();
    if subdirs.is_empty() {
        anyhow::bail!("{} holds no municipality directories with fkorg.json, sor.xml and truth.csv", dir.display());
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(subdirs.len());
    let chunks: Vec<Vec<PathBuf>> =
        (0..threads).map(|t| subdirs.iter().skip(t).step_by(threads).cloned().collect()).collect();
    let results: Vec<anyhow::Result<Vec<Outcome>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                scope.spawn(move || {
                    // A municipality whose files cannot be read is reported and left out of the totals.
                    Ok(chunk
                        .iter()
                        .filter_map(|d| {
                            let name = d.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                            let sor = find_sor(d).unwrap_or_else(|| d.join("sor.xml"));
                            evaluate(name, &d.join("fkorg.json"), &sor, &d.join("truth.csv"), opts)
                                .map_err(|e| eprintln!("skipped {}: {e:#}", d.display()))
                                .ok()
                        })
                        .collect())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("an evaluation thread failed"))))
            .collect()
    });
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    if all.is_empty() {
        anyhow::bail!("no municipality in {} could be evaluated", dir.display());
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

fn print_outcomes(outcomes: &[Outcome], max_mistakes: usize) {
    println!(
        "{:<12} {:>7} {:>6} {:>7} {:>9} {:>7} {:>7} {:>7} {:>11} {:>9}",
        "municipality", "fk", "sor", "links", "precision", "recall", "F1", "base F1", "cand.pairs", "propose"
    );
    let mut total = Score::default();
    let mut base = Score::default();
    let mut time = Duration::ZERO;
    let mut bins: Vec<CalibrationBin> = Vec::new();
    let (mut fk, mut sor, mut pairs) = (0, 0, 0);
    for o in outcomes {
        println!(
            "{:<12} {:>7} {:>6} {:>7} {:>9.4} {:>7.4} {:>7.4} {:>7.4} {:>11} {:>7.1}ms",
            o.name,
            o.fk_units,
            o.sor_units,
            o.score.true_links + o.score.false_links,
            o.score.precision(),
            o.score.recall(),
            o.score.f1(),
            o.baseline.f1(),
            o.candidate_pairs,
            o.propose_time.as_secs_f64() * 1000.0
        );
        total.add(o.score);
        base.add(o.baseline);
        time += o.propose_time;
        fk += o.fk_units;
        sor += o.sor_units;
        pairs += o.candidate_pairs;
        if bins.is_empty() {
            bins = o.bins.clone();
        } else {
            for (b, x) in bins.iter_mut().zip(&o.bins) {
                b.proposed += x.proposed;
                b.right += x.right;
            }
        }
    }
    if outcomes.len() > 1 {
        println!(
            "{:<12} {:>7} {:>6} {:>7} {:>9.4} {:>7.4} {:>7.4} {:>7.4} {:>11} {:>7.1}ms",
            "TOTAL",
            fk,
            sor,
            total.true_links + total.false_links,
            total.precision(),
            total.recall(),
            total.f1(),
            base.f1(),
            pairs,
            time.as_secs_f64() * 1000.0
        );
    }
    println!(
        "\nlink F1 {:.4} (precision {:.4}, recall {:.4}; {} right, {} false, {} missed); name-only baseline F1 {:.4}",
        total.f1(),
        total.precision(),
        total.recall(),
        total.true_links,
        total.false_links,
        total.missed_links,
        base.f1()
    );
    println!("\ncalibration (confidence band: links proposed, share right, wrong)");
    for b in &bins {
        let band = if b.to >= 1.0 { format!(">= {}", b.from) } else { format!("{}-{}", b.from, b.to) };
        let share =
            if b.proposed == 0 { "-".to_string() } else { format!("{:.4}", b.right as f64 / b.proposed as f64) };
        println!("  {band:<11} {:>7}  {share:>6}  {:>5}", b.proposed, b.proposed - b.right);
    }
    if let Some(top) = bins.last() {
        let truth_links = total.true_links + total.missed_links;
        println!(
            "\nat >= {}: {} links, {} wrong ({:.2} per 1,000 links); {:.1} % of the true links ({} of {})",
            top.from,
            top.proposed,
            top.proposed - top.right,
            1000.0 * (top.proposed - top.right) as f64 / top.proposed.max(1) as f64,
            100.0 * top.right as f64 / truth_links.max(1) as f64,
            top.right,
            truth_links
        );
    }
    let mistakes: Vec<(&str, &Mistake)> =
        outcomes.iter().flat_map(|o| o.mistakes.iter().map(move |m| (o.name.as_str(), m))).collect();
    if !mistakes.is_empty() {
        println!("\nmistakes ({} in all, first {}):", mistakes.len(), max_mistakes.min(mistakes.len()));
        for (name, m) in mistakes.iter().take(max_mistakes) {
            let other = match (&m.other, m.kind) {
                (Some((id, n)), "false link") => format!("; right: {n:?} ({id})"),
                (Some((id, n)), _) => format!("; proposed instead: {n:?} ({id})"),
                (None, "false link") => "; right: no link".to_string(),
                (None, _) => "; nothing proposed".to_string(),
            };
            let conf = m.confidence.map(|c| format!(" at {c:.3}")).unwrap_or_default();
            println!(
                "  [{name}] {}{conf}: {:?} ({}) -> {:?} ({}){other}",
                m.kind, m.fk_name, m.fk_uuid, m.sor_name, m.sor_id
            );
        }
    }
}
