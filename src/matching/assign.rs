//! One-to-one assignment: each FK-ORG unit and each SOR unit in at most one link. Pairs are taken
//! from a globally sorted list (most confident first), never in file order, so a unit's best
//! counterpart is not taken by a weaker claim that happened to come first.

use super::structure::Pair;

/// One-to-one posterior. Each FK-ORG unit has a counterpart among its `n` candidates with prior
/// probability `pi`, any of its `n` plausible candidates alike beforehand; given every candidate's likelihood ratio
/// `L = m(x)/u(x)` (the model's weight without its prior), the chance that candidate `i` is the one is
/// `(pi/n) L_i / ((1 - pi) + (pi/n) sum_j L_j)`. The same holds from the SOR side; a pair's confidence
/// is the smaller of the two, since both units must agree on it.
pub fn confidences(pairs: &[Pair], llr: &[f64], pi_fk: &[f64], pi_sor: &[f64]) -> Vec<f64> {
    let (n_fk, n_sor) = (pi_fk.len(), pi_sor.len());
    let lr: Vec<f64> = llr.iter().map(|s| s.clamp(-60.0, 60.0).exp2()).collect();
    let mut row = vec![0.0f64; n_fk];
    let mut col = vec![0.0f64; n_sor];
    let mut n_row = vec![0u32; n_fk];
    let mut n_col = vec![0u32; n_sor];
    for (p, l) in pairs.iter().zip(&lr) {
        row[p.f as usize] += l;
        col[p.s as usize] += l;
        // The prior is spread over the plausible candidates (likelihood ratio at least 1): a
        // candidate the evidence already rules out does not dilute it.
        if *l >= 1.0 {
            n_row[p.f as usize] += 1;
            n_col[p.s as usize] += 1;
        }
    }
    let posterior = |l: f64, sum: f64, n: u32, pi: f64| {
        let each = pi / n.max(1) as f64;
        each * l / ((1.0 - pi) + each * sum)
    };
    pairs
        .iter()
        .zip(&lr)
        .map(|(p, &l)| {
            let (f, s) = (p.f as usize, p.s as usize);
            let by_fk = posterior(l, row[f], n_row[f], pi_fk[f]);
            let by_sor = posterior(l, col[s], n_col[s], pi_sor[s]);
            by_fk.min(by_sor)
        })
        .collect()
}

/// Picks links: most confident pair first, skipping pairs whose units are taken or already linked
/// (`link` / `rev` hold the fixed links on entry). Returns, per FK-ORG unit, the chosen pair index.
pub fn assign(
    pairs: &[Pair],
    conf: &[f64],
    scores: &[f64],
    min_confidence: f64,
    link: &mut [Option<u32>],
    rev: &mut [Option<u32>],
) -> Vec<Option<u32>> {
    let mut order: Vec<u32> = (0..pairs.len() as u32).filter(|&i| conf[i as usize] >= min_confidence).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        conf[b]
            .total_cmp(&conf[a])
            .then(scores[b].total_cmp(&scores[a]))
            .then(pairs[a].f.cmp(&pairs[b].f))
            .then(pairs[a].s.cmp(&pairs[b].s))
    });
    let mut chosen = vec![None; link.len()];
    for i in order {
        let p = &pairs[i as usize];
        let (f, s) = (p.f as usize, p.s as usize);
        if link[f].is_some() || rev[s].is_some() {
            continue;
        }
        link[f] = Some(p.s);
        rev[s] = Some(p.f);
        chosen[f] = Some(i);
    }
    chosen
}
